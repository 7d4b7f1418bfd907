//! The seed's situation (an agency story wrapped in an outlet's clutter) as acceptance tests:
//! the project's own page (`tests/fixtures/pages/agency-story.html`, invented clutter of the
//! same kinds, always present) and the real seed page (`$WIREFEED_DATA/seed`, skipped where
//! the data is absent), each also re-wrapped around another story, in other orders and without
//! class names, to prove the clutter goes by what it is rather than where it stands. Then
//! metadata tests.

use super::*;

use std::sync::LazyLock;

use crate::testdata;

/// A page of an agency story in its outlet's clutter, with the extraction it must give.
struct Wrapped {
    page: String,
    expected: String,
    meta: Value,
    /// The opening tags of the notification prompt, support box and registration notice.
    boxes: [&'static str; 3],
}

/// `names`: the page, its expected text and its expected metadata, in `dir`.
fn load(dir: &std::path::Path, names: [&str; 3], boxes: [&'static str; 3]) -> Wrapped {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    Wrapped {
        page: read(names[0]),
        expected: read(names[1]),
        meta: serde_json::from_str(&read(names[2])).unwrap(),
        boxes,
    }
}

/// The project's own page: invented outlet, invented story, invented clutter.
static OWN: LazyLock<Wrapped> = LazyLock::new(|| {
    load(
        &testdata::fixture("pages"),
        [
            "agency-story.html",
            "agency-story.expected.txt",
            "agency-story.expected.json",
        ],
        [
            "<div class=\"alerts-prompt\">",
            "<div class=\"support-box\">",
            "<div class=\"account-notice\">",
        ],
    )
});

/// The real seed page (The Independent carrying an AP story), where the data is present.
static SEED: LazyLock<Option<Wrapped>> = LazyLock::new(|| {
    let dir = testdata::real_data("seed", "seed")?;
    Some(load(
        &dir,
        ["page.html", "expected.txt", "expected.json"],
        [
            "<div class=\"notifications-prompt\">",
            "<div class=\"support-box\">",
            "<div class=\"registration\">",
        ],
    ))
});

/// Paragraphs with whitespace runs collapsed, for whitespace-insensitive comparison.
fn paras(s: &str) -> Vec<String> {
    s.split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect()
}

/// The piece of `s` from `start` to the first `end` after it.
fn between<'a>(s: &'a str, start: &str, end: &str) -> &'a str {
    let i = s.find(start).expect("start marker");
    let j = s[i..].find(end).expect("end marker") + i + end.len();
    &s[i..j]
}

/// The clutter of a wrapped page, cut out by its markup (not its wording).
struct Clutter<'a> {
    notif: &'a str,
    support: &'a str,
    reg: &'a str,
    via: &'a str,
    date: &'a str,
}

impl Wrapped {
    fn clutter(&self) -> Clutter<'_> {
        let [notif, support, reg] = self.boxes;
        let main = between(&self.page, "<main>", "</main>");
        let date_start = main
            .match_indices("<p>")
            .map(|(i, _)| &main[i..])
            .find(|p| {
                p.starts_with("<p>Monday")
                    || p.starts_with("<p>Tuesday")
                    || p.starts_with("<p>Wednesday")
            })
            .expect("a date line");
        Clutter {
            notif: between(&self.page, notif, "</div>"),
            support: between(&self.page, support, "</div>"),
            reg: between(&self.page, reg, "</div>"),
            via: between(main, "<p>Via", "</p>"),
            date: between(date_start, "<p>", "</p>"),
        }
    }

    fn story(&self) -> Vec<String> {
        paras(&self.expected)
    }
}

const OTHER_STORY: [&str; 5] = [
    "LISBON, Portugal (AP) — Portugal's parliament on Friday approved a budget that raises public sector wages and cuts income tax for younger workers, after weeks of negotiations between the governing party and its allies.",
    "The plan passed with 120 votes in favour and 98 against, with the main opposition party voting no. Finance officials said the measures would cost about 1.2 billion euros next year.",
    "Unions welcomed the pay rise but said it would not make up for years of high inflation. Business groups, for their part, asked for lower corporate taxes, which the budget leaves unchanged.",
    "The government expects the economy to grow by about 2% next year, slightly faster than the euro area average, helped by tourism and by European recovery funds.",
    "Opposition leaders said they would challenge parts of the plan in the constitutional court.",
];

/// A page of `story` under `h1`, with `c`'s clutter in `order`: "notif", "reg", "via",
/// "date", "support" (the whole box), "support1"/"support2" (the box cut in half: heading and
/// first paragraph, then the rest), "body" (the story), "body1"/"body2" (its halves).
/// Prompts before the story's end go before `<main>`, the rest after it. `classless` strips
/// every class name from the boxes.
fn page<S: AsRef<str>>(c: &Clutter<'_>, order: &[&str], h1: &str, story: &[S]) -> String {
    page_with(c, order, h1, story, false)
}

fn page_with<S: AsRef<str>>(
    c: &Clutter<'_>,
    order: &[&str],
    h1: &str,
    story: &[S],
    classless: bool,
) -> String {
    let para = |p: &S| format!("<p>{}</p>\n", p.as_ref());
    let half = story.len() / 2;
    let body: String = story.iter().map(para).collect();
    let body1: String = story[..half].iter().map(para).collect();
    let body2: String = story[half..].iter().map(para).collect();
    let unclass = |html: &str| -> String {
        if classless {
            let mut out = html.to_string();
            while let Some(i) = out.find(" class=\"") {
                let j = out[i + 8..].find('"').map_or(out.len(), |j| i + 8 + j + 1);
                out.replace_range(i..j, "");
            }
            out
        } else {
            html.to_string()
        }
    };
    // The support box cut after its first paragraph, each half closed as a box of its own.
    let cut = c.support.find("</p>").map_or(c.support.len(), |i| i + 4);
    let open_tag = &c.support[..c.support.find('>').map_or(0, |i| i + 1)];
    let support1 = format!("{}</div>\n", &c.support[..cut]);
    let support2 = format!("{open_tag}{}", &c.support[cut..]);
    let mut main = format!("<main>\n<h1>{h1}</h1>\n");
    let mut outside_before = String::new();
    let mut outside_after = String::new();
    let mut after_main = false;
    for part in order {
        let (target, text): (&mut String, String) = match *part {
            "notif" | "reg" => {
                let t = if *part == "notif" { c.notif } else { c.reg };
                if after_main {
                    (&mut outside_after, t.to_string())
                } else {
                    (&mut outside_before, t.to_string())
                }
            }
            "via" => (&mut main, c.via.to_string()),
            "date" => (&mut main, c.date.to_string()),
            "support" => (&mut main, c.support.to_string()),
            "support1" => (&mut main, support1.clone()),
            "support2" => (&mut main, support2.clone()),
            "body" | "body2" => {
                after_main = true;
                (
                    &mut main,
                    if *part == "body" {
                        body.clone()
                    } else {
                        body2.clone()
                    },
                )
            }
            "body1" => (&mut main, body1.clone()),
            _ => continue,
        };
        target.push_str(&unclass(&text));
    }
    main.push_str("</main>\n");
    format!(
        "<!DOCTYPE html><html><head><title>{h1} | Example</title></head><body>\n{outside_before}{main}{outside_after}</body></html>"
    )
}

fn plain_text_matches_expected(w: &Wrapped) {
    let a = extract(&w.page, None);
    assert_eq!(paras(&a.text), w.story());
    assert!(
        !a.text.contains("\n\n\n"),
        "exactly one blank line between paragraphs"
    );
}

fn metadata_matches_expected(w: &Wrapped) {
    let got = extract(&w.page, None).to_json();
    for key in [
        "title",
        "agency",
        "byline",
        "published",
        "author",
        "dateline",
    ] {
        assert_eq!(got[key], w.meta[key], "field {key}");
    }
    assert_eq!(paras(got["text"].as_str().unwrap()), w.story());
}

fn same_clutter_different_story(w: &Wrapped) {
    let html = page(
        &w.clutter(),
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

fn clutter_in_another_order(w: &Wrapped) {
    let story = w.story();
    for order in [
        ["reg", "date", "via", "body", "support", "notif"],
        ["support", "via", "reg", "date", "body", "notif"],
        ["notif", "reg", "support", "date", "via", "body"],
    ] {
        let html = page(&w.clutter(), &order, "A story in another order", &story);
        let a = extract(&html, None);
        assert_eq!(paras(&a.text), story, "order {order:?}");
        assert_eq!(a.agency.as_deref(), Some("AP"), "order {order:?}");
        assert_eq!(
            a.published.map(|d| d.to_rfc3339()),
            w.meta["published"].as_str().map(String::from),
            "order {order:?}"
        );
    }
}

fn without_class_names_still_clean(w: &Wrapped) {
    // Phrase rules and structure alone (no class/id hints) must remove the clutter too.
    let mut html = w.page.clone();
    for b in w.boxes {
        html = html.replace(b, "<div>");
    }
    assert!(!html.contains("class="));
    let a = extract(&html, None);
    assert_eq!(paras(&a.text), w.story());
}

/// Every arrangement of the clutter around the story, with and without class names: only the
/// story remains.
fn arrangements_keep_only_the_story(w: &Wrapped) {
    let story = w.story();
    let c = w.clutter();
    for order in [
        ["support", "notif", "via", "date", "body", "reg"].as_slice(),
        &["notif", "via", "date", "body1", "support", "body2", "reg"],
        &["notif", "via", "date", "body", "support", "reg"],
        &[
            "via", "date", "support1", "body", "support2", "notif", "reg",
        ],
        &[
            "notif", "via", "body1", "support1", "body2", "support2", "date",
        ],
        &["reg", "body1", "support2", "body2", "support1", "notif"],
    ] {
        for classless in [false, true] {
            let html = page_with(&c, order, "A story among its clutter", &story, classless);
            let a = extract(&html, None);
            assert_eq!(
                paras(&a.text),
                story,
                "order {order:?}, classless {classless}"
            );
        }
    }
}

/// Two stories on one page, each in its clutter: no clutter remains, and the first story
/// is there whole.
fn two_stories_on_one_page(w: &Wrapped) {
    let story = w.story();
    let c = w.clutter();
    for classless in [false, true] {
        let first = page_with(
            &c,
            &["notif", "via", "date", "body1", "support", "body2"],
            "First",
            &story,
            classless,
        );
        let second = page_with(
            &c,
            &["via", "date", "body", "support", "reg"],
            "Second",
            &OTHER_STORY,
            classless,
        );
        let main = |p: &str| between(p, "<main>", "</main>").to_string();
        let html = format!(
            "<!DOCTYPE html><html><head><title>Two</title></head><body>{}\n<article>{}</article><article>{}</article></body></html>",
            if classless { "" } else { c.notif },
            main(&first).replace("<main>", "").replace("</main>", ""),
            main(&second).replace("<main>", "").replace("</main>", "")
        );
        let got = paras(&extract(&html, None).text);
        for p in &story {
            assert!(
                got.contains(p),
                "classless {classless}: missing {p:?} in {got:#?}"
            );
        }
        let allowed: Vec<String> = story
            .iter()
            .cloned()
            .chain(OTHER_STORY.iter().map(|s| s.to_string()))
            .collect();
        for g in &got {
            assert!(
                allowed.contains(g),
                "classless {classless}: clutter kept: {g:?}"
            );
        }
    }
}

#[test]
fn own_clutter_in_every_arrangement() {
    arrangements_keep_only_the_story(&OWN);
}

#[test]
fn own_clutter_around_two_stories() {
    two_stories_on_one_page(&OWN);
}

#[test]
fn seed_clutter_in_every_arrangement() {
    if let Some(seed) = &*SEED {
        arrangements_keep_only_the_story(seed);
    }
}

#[test]
fn seed_clutter_around_two_stories() {
    if let Some(seed) = &*SEED {
        two_stories_on_one_page(seed);
    }
}

#[test]
fn own_page_plain_text_matches_expected() {
    plain_text_matches_expected(&OWN);
}

#[test]
fn own_page_metadata_matches_expected() {
    metadata_matches_expected(&OWN);
}

#[test]
fn own_clutter_around_a_different_story() {
    same_clutter_different_story(&OWN);
}

#[test]
fn own_clutter_in_another_order() {
    clutter_in_another_order(&OWN);
}

#[test]
fn own_page_without_class_names_still_clean() {
    without_class_names_still_clean(&OWN);
}

#[test]
fn seed_plain_text_matches_expected() {
    if let Some(seed) = &*SEED {
        plain_text_matches_expected(seed);
    }
}

#[test]
fn seed_metadata_matches_expected() {
    if let Some(seed) = &*SEED {
        metadata_matches_expected(seed);
        assert_eq!(
            paras(&extract(&seed.page, None).text).len() as u64,
            seed.meta["text_paragraphs"].as_u64().unwrap()
        );
    }
}

#[test]
fn seed_clutter_around_a_different_story() {
    if let Some(seed) = &*SEED {
        same_clutter_different_story(seed);
    }
}

#[test]
fn seed_clutter_in_another_order() {
    if let Some(seed) = &*SEED {
        clutter_in_another_order(seed);
    }
}

#[test]
fn seed_without_class_names_still_clean() {
    if let Some(seed) = &*SEED {
        without_class_names_still_clean(seed);
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
