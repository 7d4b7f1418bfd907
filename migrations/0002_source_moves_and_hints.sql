-- Permanent redirects: after several fetches in a row end at the same new address through
-- 301/308 only, the source is fetched from `fetch_url` instead of its configured URL.
ALTER TABLE sources ADD COLUMN fetch_url TEXT;
ALTER TABLE sources ADD COLUMN redirect_target TEXT;
ALTER TABLE sources ADD COLUMN redirect_streak INTEGER NOT NULL DEFAULT 0;
-- The publisher's own polling hint (RSS <ttl>, sy:updatePeriod), in seconds: a floor on the
-- next fetch that also applies after a 304, when the feed itself is not re-read.
ALTER TABLE sources ADD COLUMN feed_interval INTEGER;
