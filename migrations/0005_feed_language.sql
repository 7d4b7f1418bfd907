-- The language a source's feed declares, for feeds that publish one language only.
ALTER TABLE sources ADD COLUMN feed_language TEXT;
