//! The labelled cases of `tests/fixtures/stories/`: three kinds of false merge that must
//! stay apart, beside the copies that must merge, replayed in many arrival orders.

use std::collections::{BTreeMap, BTreeSet};

use super::*;

#[derive(serde::Deserialize)]
struct Case {
    kind: String,
    items: Vec<Item>,
}

#[derive(serde::Deserialize, Clone)]
struct Item {
    story: String,
    source: String,
    title: String,
    paragraphs: Vec<String>,
}

fn cases() -> Vec<Case> {
    [
        include_str!("../../tests/fixtures/stories/background.json"),
        include_str!("../../tests/fixtures/stories/roundup.json"),
        include_str!("../../tests/fixtures/stories/quote.json"),
    ]
    .iter()
    .map(|t| serde_json::from_str(t).expect("a case file parses"))
    .collect()
}

/// A small deterministic generator, so that a failing order can be replayed.
struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % n
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, self.below(i + 1));
        }
    }
}

/// Places items (given with their labels' index) in this order; the partition as sets of
/// item indexes.
fn partition(items: &[(usize, Item)]) -> BTreeSet<BTreeSet<usize>> {
    let dedup = Dedup::new(DedupConfig::default());
    let mut mem = MemStories::new();
    let mut entry_of = Vec::new();
    for (k, (i, it)) in items.iter().enumerate() {
        let url = format!("https://{}.example/{i}", it.source);
        mem.add(
            &dedup,
            &it.source,
            Some(&url),
            fingerprint(&it.title, &it.paragraphs),
            k as i64 * 600,
        );
        entry_of.push((*i, mem.last_entry()));
    }
    let mut by: BTreeMap<StoryId, BTreeSet<usize>> = BTreeMap::new();
    for (i, entry) in entry_of {
        by.entry(mem.story_of(entry).expect("placed"))
            .or_default()
            .insert(i);
    }
    by.into_values().collect()
}

fn labels(items: &[Item]) -> BTreeSet<BTreeSet<usize>> {
    let mut by: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
    for (i, it) in items.iter().enumerate() {
        by.entry(&it.story).or_default().insert(i);
    }
    by.into_values().collect()
}

#[test]
fn each_kind_stays_apart_and_copies_merge_in_any_order() {
    let mut rng = Lcg(18);
    for case in cases() {
        let want = labels(&case.items);
        let mut order: Vec<(usize, Item)> = case.items.iter().cloned().enumerate().collect();
        for round in 0..20 {
            let got = partition(&order);
            assert_eq!(
                got,
                want,
                "{} (order {round}: {:?})",
                case.kind,
                order.iter().map(|o| o.0).collect::<Vec<_>>()
            );
            rng.shuffle(&mut order);
        }
    }
}

#[test]
fn all_cases_together_give_one_partition_in_20_orders() {
    let mut items: Vec<Item> = Vec::new();
    for case in cases() {
        for mut it in case.items {
            it.story = format!("{}/{}", case.kind, it.story);
            items.push(it);
        }
    }
    let want = labels(&items);
    let mut rng = Lcg(20);
    let mut order: Vec<(usize, Item)> = items.into_iter().enumerate().collect();
    for _ in 0..20 {
        rng.shuffle(&mut order);
        assert_eq!(partition(&order), want);
    }
}

/// Two copies a window apart are two stories; a third copy dated between them is a copy of
/// both and joins them, whichever arrives last, and the older story survives.
#[test]
fn a_copy_of_two_stories_joins_them_and_the_older_survives() {
    const DAY: i64 = 24 * 3600;
    let a = cases()[1].items[0].clone();
    let dedup = Dedup::new(DedupConfig::default());
    let fp = || fingerprint(&a.title, &a.paragraphs);
    let mut mem = MemStories::new();
    let (sa, _) = mem.add(&dedup, "x", None, fp(), 0);
    let (sb, d) = mem.add(&dedup, "y", None, fp(), 8 * DAY);
    assert!(matches!(d, Decision::NewStory) && sa != sb, "{d:?}");
    let (s, d) = mem.add(&dedup, "z", None, fp(), 4 * DAY);
    assert!(
        matches!(&d, Decision::Merge { story, absorb, .. } if *story == sa && absorb == &vec![sb]),
        "{d:?}"
    );
    assert_eq!(s, sa);
    assert_eq!(mem.partition().len(), 1);
    // The same three in every other order: one story.
    let dated = [("x", 0), ("y", 8 * DAY), ("z", 4 * DAY)];
    for order in [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ] {
        let mut mem = MemStories::new();
        for i in order {
            mem.add(&dedup, dated[i].0, None, fp(), dated[i].1);
        }
        assert_eq!(mem.partition().len(), 1, "order {order:?}");
    }
}
