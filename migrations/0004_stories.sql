-- Stories: the copies of one text merged across outlets (see src/dedup).

CREATE TABLE stories (
    id             INTEGER PRIMARY KEY,
    -- The id readers see: the first member's public id, never changed.
    public_id      TEXT NOT NULL UNIQUE,
    -- The version published: the most complete, then the latest.
    representative INTEGER NOT NULL REFERENCES entries(id),
    published      INTEGER NOT NULL,        -- earliest member (published, else first seen)
    updated        INTEGER NOT NULL,        -- last substantive change of the text
    revisions      INTEGER NOT NULL DEFAULT 1,
    members        INTEGER NOT NULL DEFAULT 1,
    last_at        INTEGER NOT NULL         -- latest member's date: the merge window
);
CREATE INDEX stories_by_last_at ON stories (last_at);

-- Per entry: its story and the keys it is found by.
ALTER TABLE entries ADD COLUMN story_id INTEGER REFERENCES stories(id);
ALTER TABLE entries ADD COLUMN url_key INTEGER;     -- hash of the canonical URL
ALTER TABLE entries ADD COLUMN text_hash INTEGER;   -- hash of the normalised content text
ALTER TABLE entries ADD COLUMN dedup_at INTEGER;    -- the date the window is measured by
ALTER TABLE entries ADD COLUMN fingerprint BLOB;    -- shingles; dropped once out of the window

CREATE INDEX entries_by_story ON entries (story_id);
CREATE INDEX entries_by_url_key ON entries (url_key) WHERE url_key IS NOT NULL;
CREATE INDEX entries_by_text_hash ON entries (text_hash, dedup_at) WHERE text_hash IS NOT NULL;
-- Fingerprints still in the window, oldest first: what expiry walks.
CREATE INDEX entries_fingerprinted ON entries (dedup_at) WHERE fingerprint IS NOT NULL;

-- Candidate index: anchor key -> stories, inside the window only.
CREATE TABLE dedup_anchors (
    key    INTEGER NOT NULL,
    at     INTEGER NOT NULL,
    story  INTEGER NOT NULL,
    PRIMARY KEY (key, at, story)
) WITHOUT ROWID;

-- Entries stored before dedup existed: one story each.
INSERT INTO stories (public_id, representative, published, updated, last_at)
SELECT public_id, id, sort_time, coalesce(updated, last_changed), sort_time FROM entries;
UPDATE entries SET story_id = (SELECT s.id FROM stories s WHERE s.public_id = entries.public_id);
