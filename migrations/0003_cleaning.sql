-- Wire metadata found while cleaning.
ALTER TABLE entries ADD COLUMN agency TEXT;
ALTER TABLE entries ADD COLUMN dateline TEXT;
ALTER TABLE entries ADD COLUMN byline TEXT;

-- Learned boilerplate: text blocks seen in several distinct entries of one source.
CREATE TABLE learned_blocks (
    source      TEXT NOT NULL,
    hash        INTEGER NOT NULL,          -- 64-bit hash of the block's normalised text
    entries     INTEGER NOT NULL,          -- distinct entries seen carrying it, in the window
    recent      TEXT NOT NULL DEFAULT '[]',-- JSON: hashes of the latest of those entries
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    sample      TEXT NOT NULL,             -- the text, for `wirefeed boilerplate`
    PRIMARY KEY (source, hash)
) WITHOUT ROWID;

-- Article pages fetched for full-text sources, once each, with their validators.
CREATE TABLE pages (
    url            TEXT PRIMARY KEY,
    etag           TEXT,
    last_modified  TEXT,
    fetched_at     INTEGER NOT NULL,
    error          TEXT,
    title          TEXT,
    text           TEXT,                   -- extracted article body, paragraphs split by blank lines
    author         TEXT,
    published      INTEGER,
    agency         TEXT,
    dateline       TEXT,
    byline         TEXT
);
