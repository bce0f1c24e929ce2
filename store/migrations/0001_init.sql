-- 0001: the first schema. Times are Unix nanoseconds (UTC) in INTEGER
-- columns; NULL where "never". Names are stored lower case.

-- zones: every zone zonekeeper serves and its role.
CREATE TABLE zones (
	name            TEXT    NOT NULL PRIMARY KEY,
	kind            TEXT    NOT NULL CHECK (kind IN ('primary', 'secondary', 'native')),
	primaries       TEXT    NOT NULL DEFAULT '[]', -- JSON array, in the order tried
	tsig_key        TEXT    NOT NULL DEFAULT '',   -- key signing traffic with the primaries
	serial_policy   TEXT    NOT NULL DEFAULT 'increment'
	                        CHECK (serial_policy IN ('increment', 'date', 'unixtime')),
	last_check      INTEGER,                       -- last successful check of the primaries
	last_serial     INTEGER,                       -- the primaries' serial at last_check
	notified_serial INTEGER,                       -- serial last NOTIFYed to the secondaries
	notified_at     INTEGER,
	created         INTEGER NOT NULL,
	updated         INTEGER NOT NULL
) WITHOUT ROWID;

-- tsig_keys: shared secrets (RFC 8945).
CREATE TABLE tsig_keys (
	name      TEXT    NOT NULL PRIMARY KEY,
	algorithm TEXT    NOT NULL,
	secret    TEXT    NOT NULL, -- base64
	created   INTEGER NOT NULL
) WITHOUT ROWID;

-- autoprimaries: who may provision secondary zones by NOTIFY.
CREATE TABLE autoprimaries (
	ip         TEXT    NOT NULL,
	nameserver TEXT    NOT NULL,
	account    TEXT    NOT NULL DEFAULT '',
	created    INTEGER NOT NULL,
	PRIMARY KEY (ip, nameserver)
) WITHOUT ROWID;

-- zone_meta: per-zone kind/value rows; a kind may hold several values,
-- kept in the order given (pos).
CREATE TABLE zone_meta (
	zone  TEXT    NOT NULL REFERENCES zones (name) ON DELETE CASCADE ON UPDATE CASCADE,
	kind  TEXT    NOT NULL,
	pos   INTEGER NOT NULL,
	value TEXT    NOT NULL,
	PRIMARY KEY (zone, kind, pos)
) WITHOUT ROWID;

-- events: the activity log. AUTOINCREMENT so that an id is never reused,
-- even if the newest rows were ever removed: followers resume by id.
CREATE TABLE events (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	time    INTEGER NOT NULL,
	zone    TEXT    NOT NULL DEFAULT '',
	kind    TEXT    NOT NULL,
	peer    TEXT    NOT NULL DEFAULT '',
	serial  INTEGER,
	detail  TEXT    NOT NULL DEFAULT '',
	outcome TEXT    NOT NULL CHECK (outcome IN ('ok', 'warning', 'error'))
);
