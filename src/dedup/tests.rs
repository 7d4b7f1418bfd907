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

fn input<'a>(
    source: &'a str,
    url: &'a str,
    title: &'a str,
    paragraphs: &'a [String],
    at: i64,
) -> EntryInput<'a> {
    EntryInput {
        source,
        url,
        title,
        paragraphs,
        at,
    }
}

fn engine() -> DedupEngine {
    DedupEngine::new(DedupConfig::default())
}

const TITLE: &str = "Wildfire forces 2,000 to flee near Riverton";

#[test]
fn truncated_copy_merges_without_counting_as_change() {
    let mut e = engine();
    let w = wire();
    let s = e
        .process(input("ap", "https://ap.example/fire", TITLE, &w, 0))
        .story();
    let mut teaser = w[..2].to_vec();
    teaser.push("Continue reading…".into());
    let d = e.process(input(
        "summary",
        "https://sum.example/a/fire?utm_source=rss",
        TITLE,
        &teaser,
        HOUR,
    ));
    assert!(
        matches!(d, Decision::Merge { story, substantive_change: false, representative_changed: false, .. } if story == s),
        "{d:?}"
    );
}

#[test]
fn headline_edit_with_editor_note_and_dropped_tail_merges() {
    let mut e = engine();
    let w = wire();
    let s = e
        .process(input("ap", "https://ap.example/fire", TITLE, &w, 0))
        .story();
    let mut copy = vec![
        "Editor's note: This story contains details some readers may find distressing.".to_string(),
    ];
    copy.extend(w[..4].iter().cloned());
    copy.push("Copyright 2024 The Associated Press. All rights reserved.".into());
    let d = e.process(input(
        "paper",
        "https://paper.example/fire",
        "BREAKING: Riverton wildfire — thousands evacuated",
        &copy,
        2 * HOUR,
    ));
    assert!(
        matches!(d, Decision::Merge { story, substantive_change: false, .. } if story == s),
        "{d:?}"
    );
}

#[test]
fn one_paragraph_update_merges_and_is_a_substantive_change() {
    let mut e = engine();
    let w = wire();
    let s = e
        .process(input("ap", "https://ap.example/fire", TITLE, &w, 0))
        .story();
    let _ = e.process(input(
        "paper",
        "https://paper.example/fire",
        TITLE,
        &w[..3],
        HOUR,
    ));
    let mut upd = w.clone();
    upd[3] = "Five homes and several outbuildings were destroyed, officials said Wednesday, and a firefighter was treated for heat exhaustion. A second firefighter suffered a minor burn to his arm.".into();
    let d = e.process(input(
        "ap",
        "https://ap.example/fire-update",
        TITLE,
        &upd,
        20 * HOUR,
    ));
    assert!(
        matches!(d, Decision::Merge { story, substantive_change: true, representative_changed: true, .. } if story == s),
        "{d:?}"
    );
    // a late outlet still carrying the OLD text is another copy, not a change
    let d = e.process(input(
        "late",
        "https://late.example/fire",
        TITLE,
        &w,
        30 * HOUR,
    ));
    assert!(
        matches!(d, Decision::Merge { story, substantive_change: false, .. } if story == s),
        "{d:?}"
    );
}

#[test]
fn same_event_by_another_writer_stays_separate() {
    let mut e = engine();
    let a = e
        .process(input("ap", "https://ap.example/fire", TITLE, &wire(), 0))
        .story();
    let d = e.process(input(
        "local",
        "https://local.example/fire",
        TITLE,
        &other_writer(),
        HOUR,
    ));
    assert!(
        matches!(d, Decision::NewStory { story } if story != a),
        "{d:?}"
    );
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
    let a = e
        .process(input(
            "valley",
            "https://valley.example/fire",
            TITLE,
            &one,
            0,
        ))
        .story();
    let d = e.process(input(
        "valley",
        "https://valley.example/council",
        "Council extends late subway",
        &two,
        HOUR,
    ));
    assert!(
        matches!(d, Decision::NewStory { story } if story != a),
        "{d:?}"
    );
    // after a third story the block is learned as that outlet's boilerplate
    let mut three = other_writer()[..1].to_vec();
    three.push(BIO.into());
    let _ = e.process(input(
        "valley",
        "https://valley.example/other",
        "Other",
        &three,
        2 * HOUR,
    ));
    let hash =
        Fingerprint::build("", &[BIO.to_string()], &BuiltinBoilerplate::empty()).paragraphs[0].hash;
    assert!(
        e.learned_mut()
            .export()
            .iter()
            .any(|b| b.block_hash == hash && b.story_count == 3)
    );
}

#[test]
fn same_url_is_same_entry_and_exact_copy_merges() {
    let mut e = engine();
    let w = wire();
    let s = e
        .process(input(
            "ap",
            "https://ap.example/fire?fbclid=x",
            TITLE,
            &w,
            0,
        ))
        .story();
    let d = e.process(input("ap", "https://ap.example/fire", TITLE, &w, HOUR));
    assert_eq!(
        d,
        Decision::SameEntry {
            story: s,
            text_changed: false
        }
    );
    let d = e.process(input(
        "other",
        "https://other.example/fire",
        TITLE,
        &w,
        HOUR,
    ));
    assert!(
        matches!(d, Decision::Merge { story, evidence: None, .. } if story == s),
        "{d:?}"
    );
}

#[test]
fn window_and_disabled_prevent_merges() {
    let mut e = engine();
    let w = wire();
    let _ = e.process(input("ap", "https://ap.example/fire", TITLE, &w, 0));
    let d = e.process(input(
        "late",
        "https://late.example/fire",
        TITLE,
        &w,
        8 * 24 * HOUR,
    ));
    assert!(
        matches!(d, Decision::NewStory { .. }),
        "outside the 7-day window: {d:?}"
    );
    let mut off = DedupEngine::new(DedupConfig {
        enabled: false,
        ..DedupConfig::default()
    });
    let _ = off.process(input("ap", "https://ap.example/fire", TITLE, &w, 0));
    let d = off.process(input("b", "https://b.example/fire", TITLE, &w, 1));
    assert!(matches!(d, Decision::NewStory { .. }), "{d:?}");
}

#[test]
fn expire_forgets_old_stories() {
    let mut e = engine();
    let w = wire();
    let s = e
        .process(input("ap", "https://ap.example/fire", TITLE, &w, 0))
        .story();
    e.expire(8 * 24 * HOUR);
    assert!(e.story(s).is_none());
    assert!(e.index().is_empty());
}

#[test]
fn restored_state_keeps_merging() {
    let mut a = engine();
    let w = wire();
    let s = a
        .process(input("ap", "https://ap.example/fire", TITLE, &w, 0))
        .story();
    let saved: Vec<Version> = a.story(s).expect("story").versions.clone();
    let learned = a.learned_mut().export();
    let mut b = engine();
    b.learned_mut().import(learned);
    for v in saved {
        b.restore(s, v, true);
    }
    let d = b.process(input(
        "paper",
        "https://paper.example/fire",
        TITLE,
        &w[..2],
        HOUR,
    ));
    assert!(
        matches!(d, Decision::Merge { story, .. } if story == s),
        "{d:?}"
    );
    let d = b.process(input(
        "x",
        "https://x.example/new",
        "New",
        &unrelated(),
        HOUR,
    ));
    assert!(
        matches!(d, Decision::NewStory { story } if story > s),
        "fresh ids after restore: {d:?}"
    );
}
