-- Which stories (entries, for feeds without dedup) each feed's archive pages hold: a story
-- is archived once, even when retention later removes its first copy.
CREATE TABLE archived_items (
    feed TEXT NOT NULL,
    item INTEGER NOT NULL,
    PRIMARY KEY (feed, item)
) WITHOUT ROWID;
