//! What feed-rs loses of an item's media, read from the document ourselves.
//!
//! feed-rs keeps one media object per item and merges the others into it: an RSS
//! `<enclosure>` beside a `media:content` disappears, and an `itunes:duration` or
//! `itunes:image` without an iTunes title is dropped. This scan reads, per item in document
//! order, every enclosure (RSS, Atom `rel="enclosure"`), Media RSS content and thumbnail
//! (grouped or not), and the iTunes episode picture and running time; and, outside the
//! items, what a podcast app needs of the channel.

use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;

use crate::model::media::parse_duration;
use crate::model::{EntryMedia, Media, MediaRole, Podcast};

const ATOM: &str = "http://www.w3.org/2005/Atom";
const RSS10: &str = "http://purl.org/rss/1.0/";

/// The namespaces a scanned element can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ns {
    /// No namespace (RSS 0.9x/2.0) or RSS 1.0's.
    Rss,
    Atom,
    Media,
    Itunes,
    Other,
}

fn ns_of(r: &ResolveResult<'_>) -> Ns {
    match r {
        ResolveResult::Unbound => Ns::Rss,
        ResolveResult::Bound(ns) => {
            let uri = ns.as_ref().to_ascii_lowercase();
            let uri = uri.trim_end_matches('/');
            match uri {
                u if u == ATOM => Ns::Atom,
                u if u == RSS10.trim_end_matches('/') => Ns::Rss,
                // Media RSS was published by Yahoo, and later by the RSS Advisory Board.
                "http://search.yahoo.com/mrss" | "http://www.rssboard.org/media-rss" => Ns::Media,
                "http://www.itunes.com/dtds/podcast-1.0.dtd"
                | "https://www.itunes.com/dtds/podcast-1.0.dtd" => Ns::Itunes,
                _ => Ns::Other,
            }
        }
        ResolveResult::Unknown(_) => Ns::Other,
    }
}

/// Whether a document can hold anything the scan reads: an enclosure, or the Media RSS
/// or iTunes namespace. A cheap substring test that spares most news feeds the scan.
pub(super) fn may_carry_media(text: &str) -> bool {
    let bytes = text.as_bytes();
    [
        &b"enclosure"[..],
        b"search.yahoo.com/mrss",
        b"rssboard.org/media-rss",
        b"itunes.com/dtds",
    ]
    .iter()
    .any(|needle| memchr::memmem::find(bytes, needle).is_some())
}

/// What the scan found: one [`EntryMedia`] per item, in document order, and the channel's
/// podcast facts.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Scan {
    pub(super) items: Vec<EntryMedia>,
    pub(super) podcast: Option<Podcast>,
}

/// Text being collected for an element, and what it is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Collect {
    Duration,
    Author,
    Explicit,
    OwnerName,
    OwnerEmail,
    ImageUrl,
}

fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.trim().to_string())
        })
        .filter(|v| !v.is_empty())
}

fn number<T: std::str::FromStr>(e: &BytesStart<'_>, name: &str) -> Option<T> {
    attr(e, name).and_then(|v| v.parse().ok())
}

/// The scan's state while reading the document.
#[derive(Default)]
struct Scanner {
    out: Scan,
    podcast: Podcast,
    any_itunes: bool,
    depth: usize,
    /// The depth of the item being read, and its media.
    item: Option<(usize, EntryMedia)>,
    /// Text being collected, for what, and the depth of its element.
    collecting: Option<(Collect, usize, String)>,
    /// Depth of the open `itunes:owner` / RSS `<image>`, 0 when none is open.
    owner: usize,
    image: usize,
    /// The RSS `<image>` URL: the cover when the channel names no `itunes:image`.
    rss_image: Option<String>,
}

/// Scans a decoded document. `None` when it is not well-formed enough to read to the end
/// (the caller then keeps what feed-rs found).
pub(super) fn scan(text: &str) -> Option<Scan> {
    let mut reader = NsReader::from_str(text);
    let cfg = reader.config_mut();
    cfg.check_end_names = false;
    cfg.allow_dangling_amp = true;
    let mut s = Scanner::default();
    loop {
        let (ns, event) = reader.read_resolved_event().ok()?;
        let ns = ns_of(&ns);
        match event {
            Event::Eof => break,
            Event::Start(e) => s.start(ns, &e),
            Event::Empty(e) => {
                s.start(ns, &e);
                s.end();
            }
            Event::End(_) => s.end(),
            Event::Text(t) => s.text(&t.xml10_content()),
            Event::CData(t) => s.text(&t.into_inner()),
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    _ => match r.as_ref() {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => None,
                    },
                };
                if let Some(c) = c {
                    s.text(c.encode_utf8(&mut [0; 4]));
                }
            }
            _ => {}
        }
    }
    if s.any_itunes {
        let mut p = s.podcast;
        p.image = p.image.or(s.rss_image);
        s.out.podcast = Some(p);
    }
    Some(s.out)
}

impl Scanner {
    fn collect(&mut self, what: Collect) {
        self.collecting = Some((what, self.depth, String::new()));
    }

    fn text(&mut self, t: &str) {
        if let Some((_, _, buf)) = self.collecting.as_mut()
            && buf.len() < 4096
        {
            buf.push_str(t);
        }
    }

    fn start(&mut self, ns: Ns, e: &BytesStart<'_>) {
        self.depth += 1;
        let local = e.local_name().as_ref().to_string();
        let is_item = matches!(
            (ns, local.as_str()),
            (Ns::Rss, "item") | (Ns::Atom, "entry")
        );
        if is_item && self.item.is_none() {
            self.item = Some((self.depth, EntryMedia::default()));
            return;
        }
        if let Some((_, m)) = self.item.as_mut() {
            if let Some(c) = item_element(ns, &local, e, m) {
                self.collect(c);
            }
            return;
        }
        match (ns, local.as_str()) {
            (Ns::Itunes, _) => {
                self.any_itunes = true;
                let p = &mut self.podcast;
                match local.as_str() {
                    "image" if p.image.is_none() => p.image = attr(e, "href"),
                    "category" if p.category.len() < 2 => p.category.extend(attr(e, "text")),
                    "owner" => self.owner = self.depth,
                    "author" => self.collect(Collect::Author),
                    "explicit" => self.collect(Collect::Explicit),
                    "name" if self.owner > 0 => self.collect(Collect::OwnerName),
                    "email" if self.owner > 0 => self.collect(Collect::OwnerEmail),
                    _ => {}
                }
            }
            (Ns::Rss, "image") => self.image = self.depth,
            (Ns::Rss, "url") if self.image > 0 => self.collect(Collect::ImageUrl),
            _ => {}
        }
    }

    fn end(&mut self) {
        let depth = self.depth;
        if let Some((what, _, text)) = self.collecting.take_if(|(_, at, _)| *at == depth) {
            self.finish_text(what, text.trim());
        }
        if self.item.as_ref().is_some_and(|(at, _)| *at == depth) {
            let (_, m) = self.item.take().expect("checked");
            self.out.items.push(m);
        }
        if self.image == depth {
            self.image = 0;
        }
        if self.owner == depth {
            self.owner = 0;
        }
        self.depth = depth.saturating_sub(1);
    }

    fn finish_text(&mut self, what: Collect, text: &str) {
        let p = &mut self.podcast;
        let set = |slot: &mut Option<String>| {
            if slot.is_none() && !text.is_empty() {
                *slot = Some(text.to_string());
            }
        };
        match what {
            Collect::Duration => {
                if let Some((_, m)) = self.item.as_mut() {
                    m.duration = parse_duration(text);
                }
            }
            Collect::Author => set(&mut p.author),
            Collect::OwnerName => set(&mut p.owner_name),
            Collect::OwnerEmail => set(&mut p.owner_email),
            Collect::ImageUrl => set(&mut self.rss_image),
            Collect::Explicit => {
                p.explicit = match text.to_ascii_lowercase().as_str() {
                    "yes" | "true" | "explicit" => Some(true),
                    "no" | "false" | "clean" => Some(false),
                    _ => p.explicit,
                }
            }
        }
    }
}

/// Reads one element inside an item into its media; returns what text to collect, if any.
fn item_element(ns: Ns, local: &str, e: &BytesStart<'_>, m: &mut EntryMedia) -> Option<Collect> {
    let file = |role| Media {
        url: String::new(),
        role,
        ..Default::default()
    };
    match (ns, local) {
        (Ns::Rss, "enclosure") => {
            let url = attr(e, "url")?;
            m.files.push(Media {
                url,
                mime: attr(e, "type"),
                length: number(e, "length").filter(|l| *l > 0),
                ..file(MediaRole::Enclosure)
            });
        }
        (Ns::Atom, "link") if attr(e, "rel").as_deref() == Some("enclosure") => {
            let url = attr(e, "href")?;
            m.files.push(Media {
                url,
                mime: attr(e, "type"),
                length: number(e, "length").filter(|l| *l > 0),
                title: attr(e, "title"),
                ..file(MediaRole::Enclosure)
            });
        }
        (Ns::Media, "content") => {
            let url = attr(e, "url")?;
            m.files.push(Media {
                url,
                mime: attr(e, "type"),
                length: number(e, "fileSize").filter(|l| *l > 0),
                medium: attr(e, "medium"),
                width: number(e, "width"),
                height: number(e, "height"),
                duration: attr(e, "duration").and_then(|d| parse_duration(&d)),
                ..file(MediaRole::Content)
            });
        }
        (Ns::Media, "thumbnail") => {
            let url = attr(e, "url")?;
            m.files.push(Media {
                url,
                width: number(e, "width"),
                height: number(e, "height"),
                ..file(MediaRole::Thumbnail)
            });
        }
        (Ns::Itunes, "image") if m.image.is_none() => m.image = attr(e, "href"),
        (Ns::Itunes, "duration") if m.duration.is_none() => return Some(Collect::Duration),
        _ => {}
    }
    None
}
