-- RFC 5005 archive pages of published feeds: once a page is full it is rendered once,
-- stored here, and served as stored for ever (its bytes never change).
CREATE TABLE archive_pages (
    id            INTEGER PRIMARY KEY,
    feed          TEXT NOT NULL,
    page          INTEGER NOT NULL,     -- 1 = oldest
    format        TEXT NOT NULL,        -- atom | rss | json
    body          BLOB NOT NULL,
    last_modified INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    UNIQUE (feed, page, format)
);

-- Per feed: how many pages are frozen, and the key (first entry id) of the last story in
-- them; the next page starts after it.
CREATE TABLE archive_state (
    feed     TEXT PRIMARY KEY,
    pages    INTEGER NOT NULL,
    last_key INTEGER NOT NULL
);
