//! Engine-level tests of the tricky cases: truncated copies, headline edits,
//! agency updates, same-event different-writer pairs and outlet clutter.

use super::*;

const HOUR: i64 = 3600;

/// An agency story (fictional) as the wire sends it.
fn wire() -> Vec<String> {
    [
        "RIVERTON, Ore. (AP) — A wind-driven wildfire tore through pine forest east of Riverton on Tuesday, forcing about 2,000 residents to leave their homes as flames jumped a state highway and crews struggled to keep up.",
        "The Cedar Ridge Fire had burned roughly 14 square miles by evening and was zero percent contained, according to the state forestry department, which said gusts of up to 45 mph pushed embers well ahead of the main front.",
        "Sheriff Dana Whitlock said deputies went door to door in the Pine Hollow subdivision after the evacuation order was raised to the highest level shortly after noon. \"People had minutes, not hours,\" Whitlock said.",
        "Three homes and several outbuildings were destroyed, officials said, and a firefighter was treated for heat exhaustion. No other injuries were reported.",
        "The cause of the fire was under investigation. Utility crews shut off power to about 6,500 customers as a precaution, and the company said outages could last into the weekend.",
        "Forecasters expect cooler temperatures and higher humidity by Thursday, which could give firefighters their first real chance to build containment lines around the northern flank.",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Another writer's article about the same fire: same names, numbers and vocabulary, own text.
fn other_writer() -> Vec<String> {
    [
        "Residents of Pine Hollow fled a fast-moving wildfire near Riverton on Tuesday afternoon, packing what they could as the Cedar Ridge Fire crossed the highway and raced through the pine forest toward their homes.",
        "About 2,000 people were told to leave, the sheriff's office said. Sheriff Dana Whitlock described an evacuation measured in minutes, with deputies knocking on doors while smoke turned the sky orange.",
        "State forestry officials put the fire at about 14 square miles with no containment. Wind gusts reaching 45 mph carried embers far ahead of the flames, they said, and at least three homes were lost.",
        "Power was cut to thousands of customers as a precaution. Investigators have not determined what started the blaze, and forecasters said cooler, more humid weather could arrive by Thursday.",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Another wire story (unrelated) used with shared outlet clutter.
fn unrelated() -> Vec<String> {
    [
        "BOSTON (AP) — The city council voted 9-4 on Wednesday to extend late-night subway service through the end of next year, siding with restaurant workers and hospital staff who said the pilot program had changed their commutes.",
        "The extension will cost about $11 million, which the council plans to cover with unspent federal transit funds and a small increase in downtown parking fees, according to the budget office.",
        "Transit officials said ridership on the late trains rose 38 percent since the pilot began in March, though crews have warned that overnight maintenance windows are getting tight.",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// An outlet's furniture block, long enough to dominate a teaser: no keyword
/// of the built-in list, so only the same-source rule and learning can catch it.
const BIO: &str = "Jordan Reyes is a contributing writer at The Valley Monitor and the host of the weekly Valley Matters podcast, which covers regional politics, transportation and the outdoors across the Cascade foothills.";

struct T {
    dedup: Dedup,
    mem: MemStories,
}

impl T {
    fn new(cfg: DedupConfig) -> Self {
        Self {
            dedup: Dedup::new(cfg),
            mem: MemStories::new(),
        }
    }
    fn process(
        &mut self,
        source: &str,
        url: &str,
        title: &str,
        paragraphs: &[String],
        at: i64,
    ) -> (StoryId, Decision) {
        self.mem.add(
            &self.dedup,
            source,
            Some(url),
            fingerprint(title, paragraphs),
            at,
        )
    }
}

fn engine() -> T {
    T::new(DedupConfig::default())
}

const TITLE: &str = "Wildfire forces 2,000 to flee near Riverton";

#[test]
fn truncated_copy_merges_without_counting_as_change() {
    let mut e = engine();
    let w = wire();
    let (s, _) = e.process("ap", "https://ap.example/fire", TITLE, &w, 0);
    let mut teaser = w[..2].to_vec();
    teaser.push("Continue reading…".into());
    let (_, d) = e.process(
        "summary",
        "https://sum.example/a/fire?utm_source=rss",
        TITLE,
        &teaser,
        HOUR,
    );
    assert!(
        matches!(d, Decision::Merge { story, substantive_change: false, representative_changed: false, .. } if story == s),
        "{d:?}"
    );
}

#[test]
fn headline_edit_with_editor_note_and_dropped_tail_merges() {
    let mut e = engine();
    let w = wire();
    let (s, _) = e.process("ap", "https://ap.example/fire", TITLE, &w, 0);
    let mut copy = vec![
        "Editor's note: This story contains details some readers may find distressing.".to_string(),
    ];
    copy.extend(w[..4].iter().cloned());
    copy.push("Copyright 2024 The Associated Press. All rights reserved.".into());
    let (_, d) = e.process(
        "paper",
        "https://paper.example/fire",
        "BREAKING: Riverton wildfire — thousands evacuated",
        &copy,
        2 * HOUR,
    );
    assert!(
        matches!(d, Decision::Merge { story, substantive_change: false, .. } if story == s),
        "{d:?}"
    );
}

#[test]
fn one_paragraph_update_merges_and_is_a_substantive_change() {
    let mut e = engine();
    let w = wire();
    let (s, _) = e.process("ap", "https://ap.example/fire", TITLE, &w, 0);
    let _ = e.process("paper", "https://paper.example/fire", TITLE, &w[..3], HOUR);
    let mut upd = w.clone();
    upd[3] = "Five homes and several outbuildings were destroyed, officials said Wednesday, and a firefighter was treated for heat exhaustion. A second firefighter suffered a minor burn to his arm.".into();
    let (_, d) = e.process(
        "ap",
        "https://ap.example/fire-update",
        TITLE,
        &upd,
        20 * HOUR,
    );
    assert!(
        matches!(d, Decision::Merge { story, substantive_change: true, representative_changed: true, .. } if story == s),
        "{d:?}"
    );
    assert_eq!(e.mem.revisions(s), 2);
    assert_eq!(e.mem.representative(s), Some(e.mem.last_entry()));
    // a late outlet still carrying the OLD text is another copy, not a change
    let (_, d) = e.process("late", "https://late.example/fire", TITLE, &w, 30 * HOUR);
    assert!(
        matches!(d, Decision::Merge { story, substantive_change: false, .. } if story == s),
        "{d:?}"
    );
    assert_eq!(e.mem.revisions(s), 2);
}

#[test]
fn in_place_edit_is_a_revision_only_when_the_text_changes_in_substance() {
    let mut e = engine();
    let w = wire();
    let (s, _) = e.process("ap", "https://ap.example/fire", TITLE, &w, 0);
    let entry = e.mem.last_entry();
    let same = e.mem.edit(&e.dedup, entry, fingerprint("New headline", &w));
    assert!(!same.substantive_change, "a headline edit alone");
    let mut upd = w.clone();
    upd.insert(4, "Officials said Wednesday that a second evacuation center had opened at the county fairgrounds, where volunteers were handing out meals.".into());
    let rev = e.mem.edit(&e.dedup, entry, fingerprint(TITLE, &upd));
    assert!(
        rev.substantive_change && !rev.representative_changed,
        "{rev:?}"
    );
    assert_eq!(e.mem.revisions(s), 2);
}

#[test]
fn same_event_by_another_writer_stays_separate() {
    let mut e = engine();
    let (a, _) = e.process("ap", "https://ap.example/fire", TITLE, &wire(), 0);
    let (b, d) = e.process(
        "local",
        "https://local.example/fire",
        TITLE,
        &other_writer(),
        HOUR,
    );
    assert!(matches!(d, Decision::NewStory) && a != b, "{d:?}");
    let (c, d) = e.process(
        "ap",
        "https://ap.example/council",
        "Council",
        &unrelated(),
        HOUR,
    );
    assert!(matches!(d, Decision::NewStory) && c != a && c != b, "{d:?}");
}

#[test]
fn shared_outlet_clutter_alone_never_merges_two_stories() {
    let mut e = engine();
    // the outlet prints its bio block under two different one-line teasers:
    // the block is most of each text, so containment alone would merge them
    let one = vec![
        "RIVERTON, Ore. (AP) — A wildfire forced 2,000 people to flee their homes on Tuesday."
            .to_string(),
        BIO.to_string(),
    ];
    let two = vec![
        "BOSTON (AP) — The city council voted to extend late-night subway service.".to_string(),
        BIO.to_string(),
    ];
    let (a, _) = e.process("valley", "https://valley.example/fire", TITLE, &one, 0);
    let (b, d) = e.process(
        "valley",
        "https://valley.example/council",
        "Council extends late subway",
        &two,
        HOUR,
    );
    assert!(matches!(d, Decision::NewStory) && a != b, "{d:?}");
}

#[test]
fn same_url_from_another_source_and_exact_copy_merge() {
    let mut e = engine();
    let w = wire();
    let (s, _) = e.process("ap", "https://ap.example/fire?fbclid=x", TITLE, &w, 0);
    let (_, d) = e.process(
        "mirror",
        "http://www.ap.example/fire",
        "Other title",
        &w[..1],
        HOUR,
    );
    assert!(
        matches!(d, Decision::Merge { story, evidence: None, .. } if story == s),
        "{d:?}"
    );
    let (_, d) = e.process("other", "https://other.example/fire", TITLE, &w, HOUR);
    assert!(
        matches!(d, Decision::Merge { story, evidence: None, .. } if story == s),
        "{d:?}"
    );
}

#[test]
fn window_and_disabled_prevent_merges() {
    let mut e = engine();
    let w = wire();
    let _ = e.process("ap", "https://ap.example/fire", TITLE, &w, 0);
    let (_, d) = e.process(
        "late",
        "https://late.example/fire",
        TITLE,
        &w,
        8 * 24 * HOUR,
    );
    assert!(
        matches!(d, Decision::NewStory),
        "outside the 7-day window: {d:?}"
    );
    // the window is measured between entries, both ways: an older item dated
    // before the window of the stored one does not merge either
    let (_, d) = e.process(
        "early",
        "https://early.example/fire",
        TITLE,
        &w,
        -8 * 24 * HOUR,
    );
    assert!(matches!(d, Decision::NewStory), "{d:?}");
    let mut off = T::new(DedupConfig {
        enabled: false,
        ..DedupConfig::default()
    });
    let _ = off.process("ap", "https://ap.example/fire", TITLE, &w, 0);
    let (_, d) = off.process("b", "https://b.example/fire", TITLE, &w, 1);
    assert!(matches!(d, Decision::NewStory), "{d:?}");
}

#[test]
fn one_sources_templated_short_items_stay_separate() {
    let mut e = engine();
    let body = vec![
        "Einsatzort: Weiz, Stadtgebiet. Alarmierung: telefonisch. Eingesetzte Fahrzeuge: TLF-A 2000 5."
            .to_string(),
        "Weitere Informationen und Details zu diesem Einsatz finden Sie auf unserer Website.".to_string(),
    ];
    let (a, _) = e.process(
        "ff",
        "https://ff.example/5219",
        "[16.08.2018] Insekteneinsatz",
        &body,
        0,
    );
    let (b, d) = e.process(
        "ff",
        "https://ff.example/5215",
        "[08.08.2018] Insekteneinsatz",
        &body,
        HOUR,
    );
    assert!(matches!(d, Decision::NewStory) && a != b, "{d:?}");
    // the same short text from another outlet is a copy
    let (c, d) = e.process(
        "radio",
        "https://radio.example/x",
        "Insekteneinsatz in Weiz",
        &body,
        HOUR,
    );
    assert!(
        matches!(d, Decision::Merge { .. }) && (c == a || c == b),
        "{d:?}"
    );
}
