//! Seed-page acceptance tests plus variations that prove the clutter is removed generically
//! (a different story in the same clutter, the clutter in another order) and metadata tests.

use super::*;

use std::sync::LazyLock;

/// The shared seed files, read in place from `../shared/data/seed` beside the repository.
fn seed_file(name: &str) -> &'static str {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/seed")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Box::leak(text.into_boxed_str())
}

static SEED_PAGE: LazyLock<&'static str> = LazyLock::new(|| seed_file("page.html"));
static SEED_EXPECTED: LazyLock<&'static str> = LazyLock::new(|| seed_file("expected.txt"));
static SEED_META: LazyLock<&'static str> = LazyLock::new(|| seed_file("expected.json"));

/// Paragraphs with whitespace runs collapsed, for whitespace-insensitive comparison.
fn paras(s: &str) -> Vec<String> {
    s.split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect()
}

/// The seed's clutter blocks, cut out of the seed page by their markup (not their wording).
fn between<'a>(s: &'a str, start: &str, end: &str) -> &'a str {
    let i = s.find(start).expect("start marker");
    let j = s[i..].find(end).expect("end marker") + i + end.len();
    &s[i..j]
}

fn seed_parts() -> (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
) {
    let notif = between(*SEED_PAGE, "<div class=\"notifications-prompt\">", "</div>");
    let support = between(*SEED_PAGE, "<div class=\"support-box\">", "</div>");
    let reg = between(*SEED_PAGE, "<div class=\"registration\">", "</div>");
    let via = between(*SEED_PAGE, "<p>Via", "</p>");
    let date = between(*SEED_PAGE, "<p>Tuesday", "</p>");
    (notif, support, reg, via, date)
}

const OTHER_STORY: [&str; 5] = [
    "LISBON, Portugal (AP) — Portugal's parliament on Friday approved a budget that raises public sector wages and cuts income tax for younger workers, after weeks of negotiations between the governing party and its allies.",
    "The plan passed with 120 votes in favour and 98 against, with the main opposition party voting no. Finance officials said the measures would cost about 1.2 billion euros next year.",
    "Unions welcomed the pay rise but said it would not make up for years of high inflation. Business groups, for their part, asked for lower corporate taxes, which the budget leaves unchanged.",
    "The government expects the economy to grow by about 2% next year, slightly faster than the euro area average, helped by tourism and by European recovery funds.",
    "Opposition leaders said they would challenge parts of the plan in the constitutional court.",
];

fn page(order: &[&str], h1: &str, story: &[&str]) -> String {
    let (notif, support, reg, via, date) = seed_parts();
    let body: String = story.iter().map(|p| format!("<p>{p}</p>\n")).collect();
    let mut main = format!("<main>\n<h1>{h1}</h1>\n");
    let mut outside_before = String::new();
    let mut outside_after = String::new();
    let mut after_main = false;
    for part in order {
        match *part {
            "notif" if after_main => outside_after.push_str(notif),
            "notif" => outside_before.push_str(notif),
            "reg" if after_main => outside_after.push_str(reg),
            "reg" => outside_before.push_str(reg),
            "via" => main.push_str(via),
            "date" => main.push_str(date),
            "support" => main.push_str(support),
            "body" => {
                main.push_str(&body);
                after_main = true;
            }
            _ => {}
        }
    }
    main.push_str("</main>\n");
    format!(
        "<!DOCTYPE html><html><head><title>{h1} | Example</title></head><body>\n{outside_before}{main}{outside_after}</body></html>"
    )
}

#[test]
fn seed_plain_text_matches_expected() {
    let a = extract(*SEED_PAGE, None);
    assert_eq!(paras(&a.text), paras(*SEED_EXPECTED));
    assert!(
        !a.text.contains("\n\n\n"),
        "exactly one blank line between paragraphs"
    );
}

#[test]
fn seed_metadata_matches_expected() {
    let want: Value = serde_json::from_str(*SEED_META).unwrap();
    let got = extract(*SEED_PAGE, None).to_json();
    for key in [
        "title",
        "agency",
        "byline",
        "published",
        "author",
        "dateline",
    ] {
        assert_eq!(got[key], want[key], "field {key}");
    }
    assert_eq!(
        paras(got["text"].as_str().unwrap()).len() as u64,
        want["text_paragraphs"].as_u64().unwrap()
    );
}

#[test]
fn same_clutter_different_story() {
    let html = page(
        &["notif", "via", "date", "support", "body", "reg"],
        "Portugal approves budget with pay rise for public workers",
        &OTHER_STORY,
    );
    let a = extract(&html, None);
    assert_eq!(paras(&a.text), OTHER_STORY.to_vec());
    assert_eq!(a.agency.as_deref(), Some("AP"));
    assert_eq!(a.dateline.as_deref(), Some("LISBON, Portugal"));
    assert_eq!(
        a.title.as_deref(),
        Some("Portugal approves budget with pay rise for public workers")
    );
}

#[test]
fn clutter_in_another_order() {
    let story: Vec<&str> = paras(*SEED_EXPECTED)
        .into_iter()
        .map(|p| &*p.leak())
        .collect();
    for order in [
        ["reg", "date", "via", "body", "support", "notif"],
        ["support", "via", "reg", "date", "body", "notif"],
        ["notif", "reg", "support", "date", "via", "body"],
    ] {
        let html = page(&order, "Iran's president begins Latin America tour", &story);
        let a = extract(&html, None);
        assert_eq!(paras(&a.text), story, "order {order:?}");
        assert_eq!(a.agency.as_deref(), Some("AP"), "order {order:?}");
        assert_eq!(
            a.published.map(|d| d.to_rfc3339()).as_deref(),
            Some("2023-06-13T03:03:00+01:00")
        );
    }
}

#[test]
fn metadata_from_meta_tags_and_json_ld() {
    let html = r#"<html><head>
        <meta property="article:published_time" content="2019-11-19T10:30:00-05:00">
        <script type="application/ld+json">{"@type":"NewsArticle","headline":"Markets rally",
          "author":{"@type":"Person","name":"Jane Roe"}}</script></head><body>
        <article><h1>Markets rally</h1><p class="byline">By Jane Roe, Reuters</p>
        <p>NEW YORK (Reuters) - Stocks rose on Tuesday as investors cheered strong earnings from retailers, while bond yields held steady.</p>
        <p>The benchmark index gained 1.2%, its best day in a month, led by consumer and technology shares.</p>
        </article></body></html>"#;
    let a = extract(html, None);
    assert_eq!(a.title.as_deref(), Some("Markets rally"));
    assert_eq!(a.author.as_deref(), Some("Jane Roe"));
    assert_eq!(a.agency.as_deref(), Some("Reuters"));
    assert_eq!(a.dateline.as_deref(), Some("NEW YORK"));
    assert_eq!(a.byline.as_deref(), Some("By Jane Roe, Reuters"));
    assert_eq!(
        a.published.map(|d| d.to_rfc3339()).as_deref(),
        Some("2019-11-19T10:30:00-05:00")
    );
    assert!(a.text.starts_with("NEW YORK (Reuters)"));
    assert!(!a.text.contains("By Jane Roe"));
}

#[test]
fn link_lists_and_nav_are_dropped() {
    let html = r#"<html><body><nav><a href="/">Home</a> <a href="/w">World</a></nav>
        <div class="story-body"><p>The council voted on Monday to expand the city's bus network, adding six routes that will run through the night, officials said.</p>
        <p>Residents had asked for late services for years, and the change will cost about $4 million a year, according to the transit agency.</p>
        <ul><li><a href="/a">Another story about buses</a></li><li><a href="/b">A story about trains</a></li></ul>
        </div><footer><p>Copyright 2024 Example Media. All rights reserved.</p></footer></body></html>"#;
    let a = extract(html, None);
    assert_eq!(paras(&a.text).len(), 2);
    assert!(!a.text.contains("Another story"));
}

#[test]
fn empty_and_garbage_input_do_not_panic() {
    assert_eq!(extract("", None).text, "");
    let _ = extract("<<<>>><p>", Some("not a url"));
    let _ = extract("<html><body><div><div><div>", None);
}

#[test]
fn json_ld_body_used_when_markup_is_empty() {
    let body = "First paragraph of a story rendered by script. ".repeat(10);
    let html = format!(
        r#"<html><head><script type="application/ld+json">{{"@type":"NewsArticle",
        "headline":"Scripted","articleBody":"{body}\nSecond paragraph here."}}</script></head>
        <body><div id="app"></div></body></html>"#
    );
    let a = extract(&html, None);
    assert_eq!(paras(&a.text).len(), 2);
    assert!(a.text.starts_with("First paragraph"));
}

#[test]
fn short_article_inside_a_wrapper_is_kept_but_teaser_cards_go() {
    let html = r#"<html><body><main><div class="wrap">
        <article><p>The bridge reopened on Sunday after three months of repairs, city officials said, and traffic returned to normal within hours.</p>
        <p>Engineers replaced two expansion joints and resurfaced the deck, at a cost of about $2 million.</p></article>
        <p>Local businesses near the bridge said customers had stayed away during the closure, and welcomed the reopening.</p>
        </div></main></body></html>"#;
    let a = extract(html, None);
    assert_eq!(paras(&a.text).len(), 3, "{}", a.text);

    let html = r#"<html><body><article class="post"><p>The museum will open a new wing next spring, its director said on Monday, doubling the space for modern art.</p>
        <p>The expansion, funded mostly by private donors, has been planned for a decade and will cost about $40 million.</p>
        <p>Visitors will be able to see works that have been kept in storage, including several large installations.</p>
        <h3>You may like</h3>
        <article class="teaser"><p>A different story about a concert hall that is only a teaser card here.</p></article>
        </article></body></html>"#;
    let a = extract(html, None);
    assert_eq!(paras(&a.text).len(), 3, "{}", a.text);
}

#[test]
fn seed_without_class_names_still_clean() {
    // Phrase rules and structure alone (no class/id hints) must remove the clutter too.
    let html = SEED_PAGE
        .replace(" class=\"notifications-prompt\"", "")
        .replace(" class=\"support-box\"", "")
        .replace(" class=\"registration\"", "");
    assert!(!html.contains("class="));
    let a = extract(&html, None);
    assert_eq!(paras(&a.text), paras(*SEED_EXPECTED));
}
