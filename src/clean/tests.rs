//! The clean stage end to end on single entries: URLs, titles, dates, clutter, trackers,
//! text repair.

use super::*;

fn feed() -> Url {
    Url::parse("https://news.example/rss/world.xml").unwrap()
}

fn entry(content: &str) -> RawEntry {
    RawEntry {
        guid: "g".into(),
        title: "t".into(),
        content: Some(content.into()),
        ..Default::default()
    }
}

#[test]
fn relative_links_become_absolute_and_titles_plain() {
    let raw = RawEntry {
        guid: "g".into(),
        link: Some("/world/story-1".into()),
        title: "Quakes &amp; <b>floods</b>".into(),
        summary: Some(
            r#"<p>See <a href="../photos">photos</a><script>alert(1)</script></p>"#.into(),
        ),
        ..Default::default()
    };
    let c = clean_entry(&raw, &feed());
    assert_eq!(
        c.link.as_deref(),
        Some("https://news.example/world/story-1")
    );
    assert_eq!(c.title, "Quakes & floods");
    let s = c.summary.unwrap();
    assert!(s.contains(r#"href="https://news.example/photos""#), "{s}");
    assert!(!s.contains("script"), "{s}");
}

#[test]
fn untitled_entries_get_their_first_words() {
    let raw = RawEntry {
        guid: "g".into(),
        summary: Some(
            "<p>One two three four five six seven eight nine ten eleven twelve thirteen</p>".into(),
        ),
        ..Default::default()
    };
    let c = clean_entry(&raw, &Url::parse("https://x.example/").unwrap());
    assert_eq!(
        c.title,
        "One two three four five six seven eight nine ten eleven twelve…"
    );
}

#[test]
fn a_date_stamp_in_the_text_dates_an_entry_the_feed_left_undated() {
    let raw = entry(
        "<p>Via AP news wire</p><p>Tuesday 13 June 2023 03:03 BST</p><p>CARACAS, Venezuela (AP) — The two presidents signed agreements on Monday in the capital.</p>",
    );
    let c = clean_entry(&raw, &Url::parse("https://x.example/").unwrap());
    assert_eq!(
        c.published.unwrap().to_rfc3339(),
        "2023-06-13T02:03:00+00:00"
    );
    assert_eq!(c.agency.as_deref(), Some("AP"));
    let content = c.content.unwrap();
    assert!(
        !content.contains("Via AP") && !content.contains("03:03 BST"),
        "{content}"
    );
}

#[test]
fn javascript_links_are_dropped() {
    let raw = RawEntry {
        guid: "g".into(),
        link: Some("javascript:alert(1)".into()),
        title: "t".into(),
        ..Default::default()
    };
    assert_eq!(
        clean_entry(&raw, &Url::parse("https://x.example/").unwrap()).link,
        None
    );
}

#[test]
fn the_fingerprint_text_is_the_kept_blocks() {
    let raw = entry(
        "<p>Stay up to date with breaking news alerts from The Daily Ledger</p>\
         <p>The council approved the budget on Monday.</p><p>Read more: other news</p>",
    );
    let c = Cleaner::default().clean(&raw, &feed(), &|_| false);
    assert_eq!(c.blocks, ["The council approved the budget on Monday."]);
    assert_eq!(
        c.entry.content.as_deref(),
        Some("<p>The council approved the budget on Monday.</p>")
    );
}

#[test]
fn a_support_box_goes_whole_with_the_sentences_no_rule_knows() {
    let raw = entry(
        "<p>LIMA, Peru (AP) — Lawmakers voted on Thursday to extend the state of emergency in the capital for another month.</p>\
         <div><h3>Your support helps us to tell the story</h3>\
         <p>From city halls to courtrooms, our reporters are there when news breaks, asking the questions that matter.</p>\
         <p>Your donation allows us to keep sending journalists where the story is.</p>\
         <p><a href=\"/donate\">Give now</a></p></div>\
         <p>The measure lets the armed forces patrol the streets alongside the police.</p>",
    );
    let c = Cleaner::default().clean(&raw, &feed(), &|_| false);
    let html = c.entry.content.unwrap();
    assert!(
        !html.contains("courtrooms") && !html.contains("Give now"),
        "{html}"
    );
    assert!(
        html.contains("Lawmakers voted") && html.contains("armed forces"),
        "{html}"
    );
}

#[test]
fn an_unwrapped_appeal_under_its_heading_goes_too() {
    let raw = entry(
        "<p>The storm reached the coast on Sunday night, officials said, cutting power to thousands of homes.</p>\
         <h3>Your support helps us to tell the story</h3>\
         <p>From the floods to the elections, we are on the ground when the story is developing.</p>\
         <p>Your donation allows us to keep sending journalists to speak to both sides.</p>\
         <p>Crews expect to restore most connections by Tuesday.</p>",
    );
    let c = Cleaner::default().clean(&raw, &feed(), &|_| false);
    assert_eq!(
        c.blocks,
        [
            "The storm reached the coast on Sunday night, officials said, cutting power to thousands of homes.",
            "Crews expect to restore most connections by Tuesday."
        ]
    );
}

#[test]
fn trackers_and_flare_go_images_stay() {
    let raw = entry(
        "<p>Text of the story.</p>\
         <img src=\"https://x.example/photo.jpg\" alt=\"Photo\">\
         <div class=\"feedflare\"><a href=\"http://feeds.feedburner.com/~ff/Wire?a=1:2\"><img src=\"http://feeds.feedburner.com/~ff/Wire?d=2\" border=\"0\"></a></div>\
         <img src=\"http://feeds.feedburner.com/~r/Wire/~4/abc\" height=\"1\" width=\"1\" alt=\"\"/>\
         <img src=\"https://stats.example.org/p.php?idsite=8&amp;action_name=x\" style=\"border:0;\" alt=\"\" />",
    );
    let html = clean_entry(&raw, &feed()).content.unwrap();
    assert_eq!(
        html,
        "<p>Text of the story.</p><img src=\"https://x.example/photo.jpg\" alt=\"Photo\">"
    );
}

#[test]
fn mojibake_and_c1_controls_are_never_published() {
    let raw = RawEntry {
        guid: "g".into(),
        title: "It isnâ€™t over".into(),
        content: Some("<p>The phone isnâ\u{80}\u{99}t cheap\u{85}.</p>".into()),
        categories: vec!["Techâ€™s".into()],
        ..Default::default()
    };
    let c = clean_entry(&raw, &feed());
    assert_eq!(c.title, "It isn’t over");
    assert_eq!(c.content.as_deref(), Some("<p>The phone isn’t cheap.</p>"));
    assert_eq!(c.categories, ["Tech’s"]);
}

#[test]
fn a_summary_beside_the_content_is_cleaned_on_its_own() {
    let raw = RawEntry {
        guid: "g".into(),
        title: "t".into(),
        summary: Some("Short <b>teaser</b>. Read more".into()),
        content: Some("<p>The whole story.</p><p>Read more</p>".into()),
        ..Default::default()
    };
    let c = clean_entry(&raw, &feed());
    assert_eq!(c.content.as_deref(), Some("<p>The whole story.</p>"));
    assert_eq!(c.summary.as_deref(), Some("Short <b>teaser</b>. Read more"));
}

#[test]
fn a_hostile_nested_body_cleans_to_its_text() {
    let n = 100_000;
    let raw = entry(&format!(
        "{}deep text{}",
        "<div>".repeat(n),
        "</div>".repeat(n)
    ));
    let c = Cleaner::default().clean(&raw, &feed(), &|_| false);
    assert_eq!(c.blocks, ["deep text"]);
}
