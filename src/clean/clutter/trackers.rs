//! Trackers and share widgets: tracking pixels (1×1 images, known analytics and beacon
//! addresses, FeedBurner's `~r`/`~ff` images), "share this" links and the containers that
//! hold them. Photos and ordinary links stay.
//!
//! The addresses are data (`trackers.txt`).

use std::sync::OnceLock;

use regex::RegexSet;
use scraper::ElementRef;

/// Words in class/id/aria-label that mark sharing widgets.
const SHARE_MARKERS: &[&str] = &["share", "sharing", "social", "sharebar", "sharetools"];

struct TrackerRules {
    image: RegexSet,
    link: RegexSet,
}

fn rules() -> &'static TrackerRules {
    static R: OnceLock<TrackerRules> = OnceLock::new();
    R.get_or_init(|| {
        let text = include_str!("trackers.txt");
        let section = |name: &str| {
            let mut cur = "";
            let mut out = Vec::new();
            for l in text.lines().map(str::trim) {
                if l.is_empty() || l.starts_with('#') {
                    continue;
                }
                if l.starts_with('[') && l.ends_with(']') {
                    cur = &l[1..l.len() - 1];
                } else if cur == name {
                    out.push(format!("(?i){l}"));
                }
            }
            // The data file is part of the build and covered by `tracker_rules_parse`.
            RegexSet::new(out).expect("trackers.txt is valid")
        };
        TrackerRules {
            image: section("image"),
            link: section("link"),
        }
    })
}

/// Whether an element is a tracker: a pixel-sized or beacon image, or a link to a tracking
/// or share endpoint (which takes its flare image with it).
pub fn is_tracker(el: &ElementRef<'_>) -> bool {
    let v = el.value();
    match v.name() {
        "img" => is_tracking_pixel(el) || v.attr("src").is_some_and(|s| rules().image.is_match(s)),
        "a" => v
            .attr("href")
            .is_some_and(|h| rules().link.is_match(h.trim())),
        _ => false,
    }
}

fn is_tracking_pixel(el: &ElementRef<'_>) -> bool {
    let v = el.value();
    let tiny = |a: &str| {
        v.attr(a).is_some_and(|x| {
            x.trim()
                .trim_end_matches("px")
                .parse::<u32>()
                .is_ok_and(|n| n <= 1)
        })
    };
    let style = v
        .attr("style")
        .unwrap_or("")
        .replace(' ', "")
        .to_ascii_lowercase();
    (tiny("width") && tiny("height"))
        || (tiny("width") || tiny("height")) && v.attr("alt").is_none_or(str::is_empty)
        || style.contains("width:1px") && style.contains("height:1px")
        || style.contains("display:none")
}

/// Whether an element is a sharing widget: a container labelled "share"/"social" that is
/// mostly links, not a paragraph that happens to mention sharing.
pub fn is_share_widget(el: &ElementRef<'_>) -> bool {
    let v = el.value();
    if !matches!(
        v.name(),
        "div" | "ul" | "aside" | "section" | "nav" | "span" | "p" | "button"
    ) {
        return false;
    }
    let marks = [v.attr("class"), v.attr("id"), v.attr("aria-label")];
    let labelled = marks.iter().flatten().any(|m| {
        m.to_ascii_lowercase()
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|w| SHARE_MARKERS.contains(&w))
    });
    labelled && link_text_share(el) > 0.5
}

/// Share of an element's text that sits inside links (1.0 when it has no text but links).
fn link_text_share(el: &ElementRef<'_>) -> f32 {
    let total: usize = el.text().map(str::len).sum();
    let mut in_links = 0usize;
    let mut links = 0usize;
    for d in el.descendants() {
        if let Some(e) = d.value().as_element()
            && matches!(e.name(), "a" | "button")
        {
            links += 1;
            if let Some(r) = ElementRef::wrap(d) {
                in_links += r.text().map(str::len).sum::<usize>();
            }
        }
    }
    if total == 0 {
        return if links > 0 { 1.0 } else { 0.0 };
    }
    in_links as f32 / total as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::Html;

    fn trackers(html: &str) -> Vec<String> {
        let doc = Html::parse_fragment(html);
        doc.root_element()
            .descendants()
            .filter_map(ElementRef::wrap)
            .filter(|e| is_tracker(e) || is_share_widget(e))
            .map(|e| e.html())
            .collect()
    }

    #[test]
    fn tracker_rules_parse() {
        let _ = rules();
    }

    #[test]
    fn pixels_beacons_and_flare_go_and_photos_stay() {
        let found = trackers(concat!(
            "<p>Text</p>",
            "<img src=\"https://t.example/p.gif\" width=\"1\" height=\"1\">",
            "<img src=\"https://stats.example.org/p.php?idsite=8&amp;action_name=x\" alt=\"\">",
            "<img src=\"https://analytics.example.net/matomo.php?rec=1\">",
            "<img src=\"http://feeds.feedburner.com/~r/example/~4/abc\" height=\"1\" width=\"1\">",
            "<a href=\"http://feeds.feedburner.com/~ff/Example?a=x:y\"><img src=\"http://feeds.feedburner.com/~ff/Example?d=y\" border=\"0\"></a>",
            "<img src=\"https://x.example/photo.jpg\" width=\"600\" alt=\"Photo\">",
            "<img src=\"https://x.example/pixel-art-gallery/cat.png\" alt=\"Pixel art\">",
            "<a href=\"https://twitter.com/intent/tweet?url=x\">Tweet this</a>",
            "<a href=\"https://example.org/story\">A story</a>",
        ));
        assert_eq!(found.len(), 7, "{found:#?}");
        assert!(
            found.iter().all(|f| !f.contains("photo.jpg")
                && !f.contains("cat.png")
                && !f.contains("/story"))
        );
    }

    #[test]
    fn share_containers_go_but_prose_about_sharing_stays() {
        let found = trackers(concat!(
            "<div class=\"share-buttons\"><a href=\"#\">Facebook</a> <a href=\"#\">X</a></div>",
            "<p class=\"social-note\">Our social affairs editor writes that the policy changed.</p>"
        ));
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("Facebook"));
    }
}
