-- Sources, their fetch state, the entries they carried, and a log of every fetch.
-- Times are Unix seconds (UTC).

CREATE TABLE sources (
    id                 INTEGER PRIMARY KEY,
    name               TEXT NOT NULL UNIQUE,
    url                TEXT NOT NULL,
    feed_title         TEXT,
    feed_link          TEXT,
    etag               TEXT,
    last_modified      TEXT,
    last_fetch_at      INTEGER,
    last_outcome       TEXT,
    last_error         TEXT,
    last_success_at    INTEGER,
    consecutive_errors INTEGER NOT NULL DEFAULT 0,
    next_run_at        INTEGER,
    created_at         INTEGER NOT NULL
);

CREATE TABLE entries (
    id            INTEGER PRIMARY KEY,
    source_id     INTEGER NOT NULL REFERENCES sources(id),
    guid          TEXT NOT NULL,
    -- The id readers see; fixed at first insert and never changed.
    public_id     TEXT NOT NULL UNIQUE,
    url           TEXT,
    title         TEXT NOT NULL,
    author        TEXT,
    summary       TEXT,
    content       TEXT,
    categories    TEXT NOT NULL DEFAULT '[]',   -- JSON array of strings
    published     INTEGER,
    updated       INTEGER,
    -- blake3 of the cleaned fields: an unchanged entry is detected without comparing text.
    content_hash  BLOB NOT NULL,
    first_seen    INTEGER NOT NULL,
    last_changed  INTEGER NOT NULL,
    -- Sort key for feeds: published, else first seen.
    sort_time     INTEGER NOT NULL,
    UNIQUE (source_id, guid)
);

CREATE INDEX entries_by_source_time ON entries (source_id, sort_time DESC);
CREATE INDEX entries_by_time ON entries (sort_time DESC);

CREATE TABLE fetch_log (
    id            INTEGER PRIMARY KEY,
    source_id     INTEGER NOT NULL REFERENCES sources(id),
    started_at    INTEGER NOT NULL,
    duration_ms   INTEGER NOT NULL,
    outcome       TEXT NOT NULL,           -- new | updated | unchanged | not-modified | error
    http_status   INTEGER,
    bytes         INTEGER,
    entries_new   INTEGER NOT NULL DEFAULT 0,
    entries_updated INTEGER NOT NULL DEFAULT 0,
    error         TEXT
);

CREATE INDEX fetch_log_by_source ON fetch_log (source_id, started_at DESC);
