-- 0004: events caused by unauthenticated DNS traffic (an unsigned
-- NOTIFY, a refused transfer request, a bad TSIG) are marked (traffic =
-- 1) and kept within a bound of their own, so that a flood of them
-- cannot push the operator's and the replication's events out of the
-- log. seq numbers each class's rows without gaps other than those of
-- rolled-back inserts, so that the newest seq minus the bound is where a
-- class's rows are cut (events.go).
ALTER TABLE events ADD COLUMN traffic INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
UPDATE events SET seq = id;
CREATE INDEX events_class_seq ON events (traffic, seq);
