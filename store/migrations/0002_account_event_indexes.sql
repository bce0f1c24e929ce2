-- 0002: the account a zone belongs to (set by autoprimary provisioning),
-- and indexes for the activity log's per-zone and per-outcome views
-- ("the last errors" of `zonekeeper status`), which would otherwise scan
-- up to events-max rows.
ALTER TABLE zones ADD COLUMN account TEXT NOT NULL DEFAULT '';

CREATE INDEX events_zone ON events (zone, id);
CREATE INDEX events_outcome ON events (outcome, id);
