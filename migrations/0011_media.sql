-- What an entry carries besides its text (enclosures, Media RSS content and thumbnails, an
-- episode's picture and running time), as JSON (model::EntryMedia); NULL when nothing.
ALTER TABLE entries ADD COLUMN media TEXT;
-- What a podcast app needs of the source's channel (model::Podcast, JSON); NULL when the
-- source is not a podcast.
ALTER TABLE sources ADD COLUMN feed_podcast TEXT;
