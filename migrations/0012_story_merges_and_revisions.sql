-- Stories one entry proved to be one (order independence, see src/dedup/engine.rs): the
-- absorbed story's row is gone, its members belong to the survivor, and its ids answer
-- as the survivor. Candidate-index postings keep naming the absorbed story and are read
-- through this table.
CREATE TABLE story_aliases (
    story_id   INTEGER PRIMARY KEY,     -- the absorbed story's internal id
    public_id  TEXT NOT NULL UNIQUE,    -- the id readers saw it under
    survivor   INTEGER NOT NULL,        -- the live story it is part of now
    merged_at  INTEGER NOT NULL
);
CREATE INDEX story_aliases_by_survivor ON story_aliases (survivor);

-- The story an entry's candidate-index postings name (its story when they were written):
-- expiry deletes postings by it.
ALTER TABLE entries ADD COLUMN anchor_story INTEGER;
UPDATE entries SET anchor_story = story_id WHERE fingerprint IS NOT NULL;

-- Each substantive revision of a story after the first: when wirefeed saw it and which
-- paragraphs it added, removed and changed (JSON arrays of paragraph texts).
CREATE TABLE story_revisions (
    story_id  INTEGER NOT NULL,
    seq       INTEGER NOT NULL,         -- the revision it made: 2, 3, ...
    at        INTEGER NOT NULL,
    entry_id  INTEGER,                  -- the member whose text changed
    added     TEXT NOT NULL DEFAULT '[]',
    removed   TEXT NOT NULL DEFAULT '[]',
    changed   TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (story_id, seq)
) WITHOUT ROWID;
