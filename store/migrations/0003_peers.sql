-- 0003: peers, the servers this node replicates with (DESIGN.md, "Peers,
-- keys and access"): another zonekeeper node of the cluster (role
-- 'peer') or any other secondary (role 'secondary'). addr is an IP with
-- a port, as the daemon normalises it; tsig_key names a tsig_keys row or
-- is empty.
CREATE TABLE peers (
	name     TEXT    NOT NULL PRIMARY KEY, -- stored lower case
	addr     TEXT    NOT NULL UNIQUE,
	tsig_key TEXT    NOT NULL DEFAULT '',
	role     TEXT    NOT NULL DEFAULT 'peer' CHECK (role IN ('peer', 'secondary')),
	created  INTEGER NOT NULL
) WITHOUT ROWID;
