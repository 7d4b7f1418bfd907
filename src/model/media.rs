//! What an entry carries besides its text — enclosures, Media RSS content and thumbnails, an
//! episode's picture and running time — and what a podcast app needs of a channel.
//!
//! Parsing fills these from every dialect (RSS `<enclosure>`, Atom `rel="enclosure"`, JSON
//! Feed `attachments` / `image` / `banner_image`, Media RSS, iTunes), cleaning makes the URLs
//! absolute, the store keeps them as JSON beside the entry, and every output format writes
//! them back in its own vocabulary.

use serde::{Deserialize, Serialize};
use url::Url;

/// How a file is attached to an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaRole {
    /// The entry's payload: RSS `<enclosure>`, Atom `link rel="enclosure"`, a JSON Feed
    /// attachment (a podcast episode's audio).
    #[default]
    Enclosure,
    /// A Media RSS `media:content`: a file the entry shows (a news photo, a video).
    Content,
    /// A Media RSS `media:thumbnail`: a picture standing for the entry.
    Thumbnail,
}

/// One file attached to an entry. Everything but the URL is optional: feeds say what they
/// know.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Media {
    pub url: String,
    #[serde(default)]
    pub role: MediaRole,
    /// Its MIME type as the feed declares it (`audio/mpeg`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime: Option<String>,
    /// Size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    /// Media RSS `medium`: image, audio, video, document or executable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medium: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Running time in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// Everything an entry carries besides its text.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EntryMedia {
    /// Attached files and pictures, in document order, each URL once per role.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<Media>,
    /// The episode's own picture (`itunes:image`, JSON Feed `image`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// JSON Feed `banner_image`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub banner_image: Option<String>,
    /// The episode's running time in seconds (`itunes:duration`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<u64>,
}

/// Files kept per entry at most: a hostile feed must not make one entry megabytes of links.
pub const MAX_FILES: usize = 32;

/// Longest URL kept: real media URLs are a few hundred bytes.
const MAX_URL: usize = 4096;

/// File extensions → MIME types, for files whose feed names no type (data, not code).
const MEDIA_TYPES: &str = include_str!("media-types.txt");

impl EntryMedia {
    /// Whether the entry carries nothing besides its text.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
            && self.image.is_none()
            && self.banner_image.is_none()
            && self.duration.is_none()
    }

    /// The same media with every URL absolute (resolved against `base`) and http(s) only,
    /// each file once per role, at most [`MAX_FILES`]; files without a usable URL are dropped.
    pub fn resolved(&self, base: &Url) -> EntryMedia {
        let abs = |u: &str| -> Option<String> {
            let u = u.trim();
            if u.is_empty() || u.len() > MAX_URL {
                return None;
            }
            base.join(u)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
                .map(String::from)
        };
        // One file per URL: a Media RSS copy of an enclosure (podcasts write both) only
        // fills in what the first one left out. Thumbnails are pictures, kept apart.
        let mut files: Vec<Media> = Vec::new();
        for m in &self.files {
            let Some(url) = abs(&m.url) else { continue };
            let thumb = m.role == MediaRole::Thumbnail;
            let same = files
                .iter()
                .position(|f| f.url == url && (f.role == MediaRole::Thumbnail) == thumb);
            let m = Media {
                url,
                mime: m.mime.as_deref().and_then(clean_mime),
                medium: m.medium.as_deref().map(str::to_ascii_lowercase),
                ..m.clone()
            };
            match same {
                Some(i) => files[i].fill_from(m),
                None if files.len() < MAX_FILES => files.push(m),
                None => {}
            }
        }
        EntryMedia {
            files,
            image: self.image.as_deref().and_then(abs),
            banner_image: self.banner_image.as_deref().and_then(abs),
            duration: self.duration,
        }
    }

    /// Rewrites every URL in place (to take a source's secrets out of them).
    pub fn map_urls(&mut self, mut f: impl FnMut(&mut String)) {
        for m in &mut self.files {
            f(&mut m.url);
        }
        for u in [&mut self.image, &mut self.banner_image]
            .into_iter()
            .flatten()
        {
            f(u);
        }
    }

    /// Attached files other than thumbnails: what Atom links as enclosures and JSON Feed
    /// lists as attachments.
    pub fn attachments(&self) -> impl Iterator<Item = &Media> {
        self.files.iter().filter(|m| m.role != MediaRole::Thumbnail)
    }

    /// The one file RSS may carry as `<enclosure>`: the first enclosure, else the first
    /// audio or video content.
    pub fn primary(&self) -> Option<&Media> {
        self.files
            .iter()
            .find(|m| m.role == MediaRole::Enclosure)
            .or_else(|| {
                self.files.iter().find(|m| {
                    m.role == MediaRole::Content && matches!(m.kind().as_str(), "audio" | "video")
                })
            })
    }

    /// The picture that stands for the entry: its own image, else its first thumbnail,
    /// else its first image file.
    pub fn picture(&self) -> Option<&str> {
        self.image
            .as_deref()
            .or_else(|| {
                self.files
                    .iter()
                    .find(|m| m.role == MediaRole::Thumbnail)
                    .map(|m| m.url.as_str())
            })
            .or_else(|| {
                self.attachments()
                    .find(|m| m.kind() == "image")
                    .map(|m| m.url.as_str())
            })
    }

    /// The running time: the episode's, else its main file's.
    pub fn running_time(&self) -> Option<u64> {
        self.duration
            .or_else(|| self.primary().and_then(|m| m.duration))
    }

    /// As stored beside the entry; `None` when there is nothing.
    pub fn to_json(&self) -> Option<String> {
        (!self.is_empty()).then(|| serde_json::to_string(self).expect("plain data serialises"))
    }

    /// From its stored form; nothing when absent or unreadable.
    pub fn from_json(stored: Option<&str>) -> EntryMedia {
        stored
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default()
    }
}

impl Media {
    /// Fills what this description of a file leaves out from another of the same file.
    fn fill_from(&mut self, other: Media) {
        self.mime = self.mime.take().or(other.mime);
        self.length = self.length.or(other.length);
        self.medium = self.medium.take().or(other.medium);
        self.width = self.width.or(other.width);
        self.height = self.height.or(other.height);
        self.duration = self.duration.or(other.duration);
        self.title = self.title.take().or(other.title);
    }

    /// The MIME type to publish: the declared one, else one guessed from the file name or
    /// the medium, else `application/octet-stream` (RSS requires a type).
    pub fn mime_or_guess(&self) -> String {
        if let Some(m) = &self.mime {
            return m.clone();
        }
        let path = Url::parse(&self.url)
            .map(|u| u.path().to_ascii_lowercase())
            .unwrap_or_default();
        let ext = path.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
        if let Some(t) = MEDIA_TYPES.lines().find_map(|l| {
            let (e, t) = l.split_once(char::is_whitespace)?;
            (e == ext).then(|| t.trim().to_string())
        }) {
            return t;
        }
        match self.medium.as_deref() {
            Some("image") if self.role != MediaRole::Enclosure => "image/jpeg".into(),
            _ if self.role == MediaRole::Thumbnail => "image/jpeg".into(),
            _ => "application/octet-stream".into(),
        }
    }

    /// The general kind of file: `image`, `audio`, `video` or another top-level type.
    pub fn kind(&self) -> String {
        if let Some(m) = &self.medium {
            return m.clone();
        }
        if self.role == MediaRole::Thumbnail {
            return "image".into();
        }
        let mime = self.mime_or_guess();
        mime.split('/').next().unwrap_or_default().to_string()
    }
}

/// A MIME type as published: `type/subtype`, parameters dropped, lower case; `None` when the
/// feed's value is not one.
fn clean_mime(m: &str) -> Option<String> {
    let m = m.split(';').next().unwrap_or_default().trim();
    let (t, s) = m.split_once('/')?;
    let ok = |p: &str| {
        !p.is_empty()
            && p.len() <= 127
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    (ok(t) && ok(s)).then(|| m.to_ascii_lowercase())
}

/// What a podcast app needs of a channel, from the source's iTunes elements: kept so that a
/// republished podcast feed still reads as one.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Podcast {
    /// Cover art (`itunes:image`, else the RSS `<image>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// The category and its subcategory (`itunes:category text`), outermost first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub category: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explicit: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_email: Option<String>,
    /// The channel's language, as the feed declares it (filled in from the source when
    /// read back; a podcast app wants one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

impl Podcast {
    /// The same with its cover's URL absolute (resolved against `base`), http(s) only.
    pub fn resolved(mut self, base: &Url) -> Podcast {
        self.image = self
            .image
            .and_then(|i| base.join(i.trim()).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
            .map(String::from);
        self
    }

    /// As stored beside the source.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("plain data serialises")
    }

    /// From its stored form.
    pub fn from_json(stored: Option<&str>) -> Option<Podcast> {
        stored.and_then(|s| serde_json::from_str(s).ok())
    }
}

/// An `itunes:duration` or Media RSS `duration` as seconds: `3725`, `62:05`, `1:02:05`,
/// `1:02:05.5`.
pub fn parse_duration(text: &str) -> Option<u64> {
    let t = text.trim();
    if t.is_empty() || t.len() > 32 {
        return None;
    }
    let mut secs = 0u64;
    for part in t.split(':') {
        let whole = part.split('.').next().unwrap_or_default().trim();
        let n: u64 = whole.parse().ok()?;
        secs = secs.checked_mul(60)?.checked_add(n)?;
    }
    Some(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(url: &str, role: MediaRole) -> Media {
        Media {
            url: url.into(),
            role,
            ..Default::default()
        }
    }

    #[test]
    fn urls_become_absolute_and_only_web_ones_stay() {
        let m = EntryMedia {
            files: vec![
                file("/audio/1.mp3", MediaRole::Enclosure),
                file("javascript:alert(1)", MediaRole::Enclosure),
                file("/audio/1.mp3", MediaRole::Enclosure),
                Media {
                    length: Some(42),
                    ..file("/audio/1.mp3", MediaRole::Content)
                },
                file("data:image/png;base64,AAAA", MediaRole::Thumbnail),
            ],
            image: Some("cover.jpg".into()),
            ..Default::default()
        };
        let base = Url::parse("https://pods.example/feed/rss").unwrap();
        let r = m.resolved(&base);
        let urls: Vec<(&str, MediaRole)> =
            r.files.iter().map(|m| (m.url.as_str(), m.role)).collect();
        assert_eq!(
            urls,
            [("https://pods.example/audio/1.mp3", MediaRole::Enclosure)],
            "a Media RSS copy of the enclosure is the same file"
        );
        assert_eq!(r.files[0].length, Some(42));
        assert_eq!(
            r.image.as_deref(),
            Some("https://pods.example/feed/cover.jpg")
        );
    }

    #[test]
    fn types_are_guessed_when_the_feed_names_none() {
        let mut m = file("https://x.example/a/Episode.MP3?x=1", MediaRole::Enclosure);
        assert_eq!(m.mime_or_guess(), "audio/mpeg");
        m.url = "https://x.example/thing".into();
        assert_eq!(m.mime_or_guess(), "application/octet-stream");
        m.mime = Some("video/mp4".into());
        assert_eq!(m.kind(), "video");
        assert_eq!(
            clean_mime("Audio/MPEG; charset=x"),
            Some("audio/mpeg".into())
        );
        assert_eq!(clean_mime("audio mpeg"), None);
    }

    #[test]
    fn rss_carries_the_first_enclosure_or_else_audio_or_video() {
        let mut photo = file("https://x.example/p.jpg", MediaRole::Content);
        photo.medium = Some("image".into());
        let mut video = file("https://x.example/v.mp4", MediaRole::Content);
        video.mime = Some("video/mp4".into());
        let m = EntryMedia {
            files: vec![photo, video],
            ..Default::default()
        };
        assert_eq!(m.primary().unwrap().url, "https://x.example/v.mp4");
        assert_eq!(m.picture(), Some("https://x.example/p.jpg"));
    }

    #[test]
    fn durations_read_every_itunes_form() {
        assert_eq!(parse_duration("3725"), Some(3725));
        assert_eq!(parse_duration("62:05"), Some(3725));
        assert_eq!(parse_duration(" 1:02:05.5 "), Some(3725));
        assert_eq!(parse_duration("an hour"), None);
        assert_eq!(parse_duration(""), None);
    }

    #[test]
    fn stored_form_round_trips_and_nothing_stores_nothing() {
        assert_eq!(EntryMedia::default().to_json(), None);
        let m = EntryMedia {
            files: vec![file("https://x.example/a.mp3", MediaRole::Enclosure)],
            duration: Some(60),
            ..Default::default()
        };
        assert_eq!(EntryMedia::from_json(m.to_json().as_deref()), m);
        assert_eq!(
            EntryMedia::from_json(Some("not json")),
            EntryMedia::default()
        );
    }
}
