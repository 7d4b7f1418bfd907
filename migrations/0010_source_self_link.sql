-- The feed's own address as it declares it (rel="self"): published as the provenance of its
-- entries instead of the configured address, which may carry credentials.
ALTER TABLE sources ADD COLUMN feed_self TEXT;
