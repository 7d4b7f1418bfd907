-- New candidate-index postings are appended here (in insertion order, so a save writes a few
-- pages at the end of the table instead of one random page of `dedup_anchors` per posting),
-- kept in memory by the writer for lookups, and moved into `dedup_anchors` in large sorted
-- batches. A crash loses nothing: the writer reloads this table when it starts.
CREATE TABLE dedup_anchors_new (
    seq    INTEGER PRIMARY KEY,
    key    INTEGER NOT NULL,
    at     INTEGER NOT NULL,
    story  INTEGER NOT NULL
);

-- Facts about the stored dedup index. `anchor_scheme` names how anchors were selected; when
-- it differs from the running engine's, the index is rebuilt from the stored fingerprints
-- (otherwise expiry, which recomputes an entry's anchors, would miss the old postings).
CREATE TABLE dedup_meta (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
) WITHOUT ROWID;
