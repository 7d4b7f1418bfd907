//! Parsing as a whole: identity, hints, caps, dialects, media and lenient documents.

use super::*;

fn parse(doc: &str) -> ParsedFeed {
    parse_feed(
        doc.as_bytes(),
        None,
        Some("https://example.org/feed"),
        ParseLimits::default(),
    )
    .unwrap()
}

#[test]
fn entries_without_guid_get_the_same_id_on_every_parse() {
    let doc = r#"<rss version="2.0"><channel><title>t</title>
        <item><title>A</title><link>https://example.org/a</link></item>
        <item><title>B</title><pubDate>Tue, 13 Jun 2023 03:03:00 +0100</pubDate></item>
        <item><title>C</title><description>only text</description></item>
        </channel></rss>"#;
    let a = parse(doc);
    let b = parse(doc);
    assert_eq!(a, b);
    assert_eq!(a.entries[0].guid, "https://example.org/a");
    assert!(a.entries[1].guid.starts_with("wirefeed:"));
    assert_ne!(a.entries[1].guid, a.entries[2].guid);
}

#[test]
fn ttl_and_syndication_hints_become_an_update_interval() {
    let ttl = r#"<rss version="2.0"><channel><ttl>45</ttl></channel></rss>"#;
    assert_eq!(
        parse(ttl).meta.update_interval,
        Some(Duration::from_secs(2700))
    );
    let sy = r#"<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel>
        <sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency></channel></rss>"#;
    assert_eq!(
        parse(sy).meta.update_interval,
        Some(Duration::from_secs(1800))
    );
    let none = r#"<rss version="2.0"><channel><title>x</title></channel></rss>"#;
    assert_eq!(parse(none).meta.update_interval, None);
}

#[test]
fn a_repeated_guid_keeps_only_the_first_item() {
    let doc = r#"<rss version="2.0"><channel><item><guid>x</guid><title>First</title></item><item><guid>x</guid><title>Second</title></item></channel></rss>"#;
    let f = parse(doc);
    assert_eq!(f.entries.len(), 1);
    assert_eq!(f.entries[0].title, "First");
}

#[test]
fn guid_is_kept_when_present() {
    let doc = r#"<rss version="2.0"><channel><item><guid>abc-1</guid><title>A</title></item></channel></rss>"#;
    assert_eq!(parse(doc).entries[0].guid, "abc-1");
}

#[test]
fn json_feed_is_read() {
    let doc = r#"{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[{"id":"1","url":"https://example.org/1","title":"One","content_html":"<p>x</p>"}]}"#;
    let f = parse(doc);
    assert_eq!(f.meta.title.as_deref(), Some("J"));
    assert_eq!(f.entries[0].content.as_deref(), Some("<p>x</p>"));
}

#[test]
fn html_is_not_a_feed() {
    let e = parse_feed(
        b"<!DOCTYPE html><html><body>hi</body></html>",
        None,
        None,
        ParseLimits::default(),
    )
    .unwrap_err();
    assert!(matches!(e, ParseError::NotAFeed(_)), "{e}");
    assert!(matches!(
        parse_feed(b"  ", None, None, ParseLimits::default()),
        Err(ParseError::Empty)
    ));
}

#[test]
fn entry_and_field_caps_apply() {
    let items: String = (0..50)
        .map(|i| {
            format!(
                "<item><guid>{i}</guid><title>{}</title></item>",
                "x".repeat(100)
            )
        })
        .collect();
    let doc = format!("<rss version=\"2.0\"><channel>{items}</channel></rss>");
    let f = parse_feed(
        doc.as_bytes(),
        None,
        None,
        ParseLimits {
            max_entries: 10,
            max_field: 20,
        },
    )
    .unwrap();
    assert_eq!(f.entries.len(), 10);
    assert_eq!(f.entries[0].title.len(), 20);
}

#[test]
fn an_xml_declaration_inside_the_document_is_dropped_not_fatal() {
    let doc = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel>\
               <title>T</title><item><title>A</title>\
               <?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><guid>a</guid></item>\
               </channel></rss>";
    let feed = parse_feed(doc.as_bytes(), None, None, ParseLimits::default()).unwrap();
    assert_eq!(feed.entries.len(), 1);
    assert_eq!(feed.entries[0].title, "A");
    let pi = "<?xml version=\"1.0\"?><a><?xml-stylesheet href=\"x\"?></a>";
    assert_eq!(strip_late_declarations(pi), pi);
}

const PODCAST: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
     xmlns:media="http://search.yahoo.com/mrss/">
<channel><title>Harbour Hours</title><link>https://harbour.example/</link>
<itunes:author>Harbour Hours</itunes:author>
<itunes:image href="https://harbour.example/cover.jpg"/>
<itunes:category text="Society &amp; Culture"><itunes:category text="Places"/></itunes:category>
<itunes:explicit>no</itunes:explicit>
<itunes:owner><itunes:name>Ada Quay</itunes:name><itunes:email>ada@harbour.example</itunes:email></itunes:owner>
<item><guid>ep2</guid><title>Tides</title>
  <enclosure url="https://cdn.harbour.example/ep2.mp3" length="1234567" type="audio/mpeg"/>
  <media:content url="https://cdn.harbour.example/ep2.jpg" medium="image" width="640" height="480"/>
  <media:group><media:thumbnail url="https://cdn.harbour.example/ep2-small.jpg" width="120"/></media:group>
  <itunes:duration>1:02:05</itunes:duration>
  <itunes:image href="https://harbour.example/ep2.jpg"/>
</item>
<item><guid>ep1</guid><title>Ropes</title>
  <enclosure url="/audio/ep1.m4a" length="0" type="audio/mp4"/>
  <itunes:duration>1800</itunes:duration>
</item>
</channel></rss>"#;

#[test]
fn rss_items_keep_every_enclosure_media_file_and_itunes_fact() {
    use crate::model::{Media, MediaRole};
    let f = parse(PODCAST);
    let ep2 = &f.entries[0].media;
    assert_eq!(
        ep2.files,
        [
            Media {
                url: "https://cdn.harbour.example/ep2.mp3".into(),
                mime: Some("audio/mpeg".into()),
                length: Some(1_234_567),
                ..Default::default()
            },
            Media {
                url: "https://cdn.harbour.example/ep2.jpg".into(),
                role: MediaRole::Content,
                medium: Some("image".into()),
                width: Some(640),
                height: Some(480),
                ..Default::default()
            },
            Media {
                url: "https://cdn.harbour.example/ep2-small.jpg".into(),
                role: MediaRole::Thumbnail,
                width: Some(120),
                ..Default::default()
            },
        ]
    );
    assert_eq!(ep2.duration, Some(3725));
    assert_eq!(
        ep2.image.as_deref(),
        Some("https://harbour.example/ep2.jpg")
    );
    let ep1 = &f.entries[1].media;
    assert_eq!(
        ep1.files[0].url, "/audio/ep1.m4a",
        "resolved by cleaning, not here"
    );
    assert_eq!(ep1.files[0].length, None);
    assert_eq!(ep1.duration, Some(1800));
    let p = f.meta.podcast.expect("an iTunes channel");
    assert_eq!(
        p.image.as_deref(),
        Some("https://harbour.example/cover.jpg")
    );
    assert_eq!(p.category, ["Society & Culture", "Places"]);
    assert_eq!(p.explicit, Some(false));
    assert_eq!(p.owner_name.as_deref(), Some("Ada Quay"));
    assert_eq!(p.owner_email.as_deref(), Some("ada@harbour.example"));
}

#[test]
fn atom_enclosure_links_are_media() {
    let doc = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>x</id>
        <updated>2024-01-01T00:00:00Z</updated>
        <entry><id>1</id><title>A</title><updated>2024-01-01T00:00:00Z</updated>
        <link href="https://x.example/a"/>
        <link rel="enclosure" href="https://x.example/a.ogg" type="audio/ogg" length="99" title="Ogg"/>
        </entry></feed>"#;
    let f = parse(doc);
    let m = &f.entries[0].media.files;
    assert_eq!(m.len(), 1);
    assert_eq!(
        (
            m[0].url.as_str(),
            m[0].mime.as_deref(),
            m[0].length,
            m[0].title.as_deref()
        ),
        (
            "https://x.example/a.ogg",
            Some("audio/ogg"),
            Some(99),
            Some("Ogg")
        )
    );
    assert_eq!(f.entries[0].link.as_deref(), Some("https://x.example/a"));
    assert!(f.meta.podcast.is_none());
}

#[test]
fn a_malformed_rss_item_is_skipped_and_its_siblings_kept() {
    let doc = r#"<rss version="2.0"><channel><title>t</title>
        <item><guid>1</guid><title>First</title></item>
        <item><guid>2</guid><title>Broken</title><description><b>unclosed</description></item>
        <item><guid>3</guid><title>Bad char &#xFFFFFF;</title></item>
        <item><guid>4</guid><title>Last</title>
          <enclosure url="https://x.example/4.mp3" length="10" type="audio/mpeg"/></item>
        </channel></rss>"#;
    let f = parse(doc);
    let titles: Vec<&str> = f.entries.iter().map(|e| e.title.as_str()).collect();
    assert_eq!(titles, ["First", "Last"]);
    assert_eq!(f.entries[1].media.files[0].url, "https://x.example/4.mp3");
    let skipped: Vec<(usize, Option<&str>)> = f
        .skipped
        .iter()
        .map(|s| (s.position, s.label.as_deref()))
        .collect();
    assert_eq!(skipped, [(2, Some("guid \"2\"")), (3, Some("guid \"3\""))]);
    assert!(f.skipped.iter().all(|s| !s.reason.is_empty()));
    assert_eq!(f.meta.title.as_deref(), Some("t"));
}

#[test]
fn a_malformed_atom_entry_is_skipped_too() {
    let doc = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>x</id>
        <updated>2024-01-01T00:00:00Z</updated>
        <entry><id>1</id><title>Good</title></entry>
        <entry><id>2</id><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">bad<br></div></title></entry>
        </feed>"#;
    let f = parse(doc);
    assert_eq!(f.entries.len(), 1);
    assert_eq!(f.entries[0].title, "Good");
    assert_eq!(f.skipped[0].label.as_deref(), Some("id \"2\""));
}

#[test]
fn a_document_broken_outside_its_items_still_fails_whole() {
    let doc = r#"<rss version="2.0"><channel><title>t<b></title>
        <item><guid>1</guid><title>First</title></item></channel></rss>"#;
    let e = parse_feed(doc.as_bytes(), None, None, ParseLimits::default()).unwrap_err();
    assert!(matches!(e, ParseError::Malformed(_)), "{e}");
}

#[test]
fn a_json_feed_keeps_its_good_items_beside_wrongly_typed_ones() {
    let doc = r#"{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[
        {"id":"1","url":"https://x.example/1","title":"One","content_text":"a",
         "image":"https://x.example/1.jpg",
         "attachments":[{"url":"https://x.example/1.mp3","mime_type":"audio/mpeg","size_in_bytes":5}]},
        {"id":"2","url":12,"title":"Numeric url"},
        null,
        {"id":"4","title":"String tags","tags":"news"},
        {"id":"5","title":"Five","content_html":"<p>b</p>"}]}"#;
    let f = parse(doc);
    let ids: Vec<&str> = f.entries.iter().map(|e| e.guid.as_str()).collect();
    assert_eq!(ids, ["1", "5"]);
    assert_eq!(f.entries[0].link.as_deref(), Some("https://x.example/1"));
    assert_eq!(f.entries[0].media.files[0].length, Some(5));
    assert_eq!(
        f.entries[0].media.image.as_deref(),
        Some("https://x.example/1.jpg")
    );
    let positions: Vec<usize> = f.skipped.iter().map(|s| s.position).collect();
    assert_eq!(positions, [2, 3, 4]);
}
