-- 0005: a peer's catalog (docs/architecture.md, "Catalog zones"). catalog
-- is the name of the catalog zone read from the peer ('' learned from
-- it), and the new role 'catalog' is a catalog producer that is not a
-- zonekeeper node (Knot's catalog-role: generate, a hand-written BIND
-- catalog): its catalog is read and its member zones are transferred
-- from it, and nothing more. SQLite cannot change a CHECK in place, so
-- the table is rebuilt.
CREATE TABLE peers_new (
	name     TEXT    NOT NULL PRIMARY KEY, -- stored lower case
	addr     TEXT    NOT NULL UNIQUE,
	tsig_key TEXT    NOT NULL DEFAULT '',
	role     TEXT    NOT NULL DEFAULT 'peer' CHECK (role IN ('peer', 'secondary', 'catalog')),
	catalog  TEXT    NOT NULL DEFAULT '',
	created  INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO peers_new (name, addr, tsig_key, role, catalog, created)
	SELECT name, addr, tsig_key, role, '', created FROM peers;
DROP TABLE peers;
ALTER TABLE peers_new RENAME TO peers;
