-- Entries removed by a retention rule, remembered by (source, guid) so that an item a feed
-- still carries is not stored again as new (and published again) after it was pruned.
CREATE TABLE pruned (
    source_id INTEGER NOT NULL,
    guid      TEXT NOT NULL,
    pruned_at INTEGER NOT NULL,
    PRIMARY KEY (source_id, guid)
) WITHOUT ROWID;
CREATE INDEX pruned_by_time ON pruned (pruned_at);
