package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"testing/fstest"
)

func TestMigrateFromEmpty(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v != LatestSchemaVersion() || v < 2 {
		t.Fatalf("version %d, want %d (>= 2)", v, LatestSchemaVersion())
	}
	var n int
	if err := db.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_version`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != v {
		t.Errorf("%d schema_version rows, want one per migration (%d)", n, v)
	}
	for _, table := range []string{"zones", "tsig_keys", "autoprimaries", "zone_meta", "events"} {
		var name string
		err := db.sql.QueryRowContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name = ?`, table).Scan(&name)
		if err != nil {
			t.Errorf("table %s: %v", table, err)
		}
	}
}

func TestMigrateFromVersion1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	old, err := openAt(path, 1)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := old.SchemaVersion(ctx); v != 1 {
		t.Fatalf("openAt(1) left version %d", v)
	}
	// Write as release 1 did: raw SQL, since the Go code speaks the
	// latest schema (version 1 has no zones.account).
	for _, q := range []string{
		`INSERT INTO zones (name, kind, primaries, tsig_key, serial_policy, last_check, last_serial, created, updated)
			VALUES ('example.org.', 'secondary', '["127.0.0.2:53","peer-b"]', 'k1.', 'date', 1000, 2024010101, 1, 2)`,
		`INSERT INTO zone_meta (zone, kind, pos, value) VALUES ('example.org.', 'ALSO-NOTIFY', 0, '127.0.0.3')`,
		`INSERT INTO tsig_keys (name, algorithm, secret, created) VALUES ('k1.', 'hmac-sha256', 'c2VjcmV0', 1)`,
		`INSERT INTO autoprimaries (ip, nameserver, account, created) VALUES ('127.0.0.5', 'ns1.example.net.', 'acme', 1)`,
		`INSERT INTO events (time, zone, kind, detail, outcome) VALUES (5, 'example.org.', 'reload', 'old', 'ok')`,
	} {
		if _, err := old.sql.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, _ := db.SchemaVersion(ctx); v != LatestSchemaVersion() {
		t.Fatalf("version after upgrade %d, want %d", v, LatestSchemaVersion())
	}
	z, err := db.Zones().Get(ctx, "example.org.")
	if err != nil {
		t.Fatal(err)
	}
	if z.Kind != KindSecondary || z.SerialPolicy != SerialDate || z.TSIGKey != "k1." ||
		len(z.Primaries) != 2 || z.Primaries[1] != "peer-b" || z.LastSerial != 2024010101 ||
		z.Account != "" || z.Created.UnixNano() != 1 {
		t.Errorf("zone after upgrade: %+v", z)
	}
	// The column 0002 added works.
	if err := db.Zones().SetAccount(ctx, "example.org.", "acme"); err != nil {
		t.Fatal(err)
	}
	if v, err := db.Meta().Get(ctx, "example.org.", MetaAlsoNotify); err != nil || len(v) != 1 || v[0] != "127.0.0.3" {
		t.Errorf("metadata after upgrade: %v %v", v, err)
	}
	if k, err := db.Keys().Get(ctx, "k1."); err != nil || k.Secret != "c2VjcmV0" {
		t.Errorf("key after upgrade: %+v %v", k, err)
	}
	if as, err := db.Autoprimaries().List(ctx); err != nil || len(as) != 1 || as[0].Account != "acme" {
		t.Errorf("autoprimaries after upgrade: %+v %v", as, err)
	}
	es, err := db.Events().List(ctx, EventFilter{Zone: "example.org."})
	if err != nil || len(es) != 1 || es[0].Detail != "old" || es[0].HasSerial {
		t.Errorf("events after upgrade: %+v %v", es, err)
	}
	// And the index 0002 added is there.
	var idx string
	if err := db.sql.QueryRowContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'index' AND name = 'events_zone'`).Scan(&idx); err != nil {
		t.Errorf("index events_zone: %v", err)
	}
}

func TestSchemaTooNew(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Keys().Add(ctx, Key{Name: "k1.", Algorithm: "hmac-sha256", Secret: "c2VjcmV0"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.sql.ExecContext(ctx, `INSERT INTO schema_version (version, name, applied) VALUES (7, '0007_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	_, err = Open(path)
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open of a newer schema: %v, want ErrSchemaTooNew", err)
	}
	var tooNew *SchemaTooNewError
	if !errors.As(err, &tooNew) || tooNew.Version != 7 || tooNew.Known != LatestSchemaVersion() {
		t.Fatalf("error %#v", err)
	}
	want := fmt.Sprintf("store: state.db has schema version 7, this zonekeeper knows up to %d: upgrade zonekeeper", LatestSchemaVersion())
	if err.Error() != want {
		t.Errorf("error %q\nwant  %q", err, want)
	}

	// Refusing changed nothing: the data is intact for the newer binary.
	raw, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var n, v int
	if err := raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM tsig_keys`).Scan(&n); err != nil || n != 1 {
		t.Errorf("keys after refusal: %d %v", n, err)
	}
	if err := raw.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_version`).Scan(&v); err != nil || v != 7 {
		t.Errorf("version after refusal: %d %v", v, err)
	}
}

func TestMigrationOrder(t *testing.T) {
	for i, m := range migrations {
		if m.version != i+1 {
			t.Errorf("migrations[%d] is version %d", i, m.version)
		}
	}
	// Gaps and malformed names are refused when the binary starts.
	for name, fsys := range map[string]fstest.MapFS{
		"gap": {
			"migrations/0001_a.sql": {Data: []byte("SELECT 1")},
			"migrations/0003_c.sql": {Data: []byte("SELECT 1")},
		},
		"unnumbered": {"migrations/init.sql": {Data: []byte("SELECT 1")}},
		"duplicate": {
			"migrations/0001_a.sql": {Data: []byte("SELECT 1")},
			"migrations/0001_b.sql": {Data: []byte("SELECT 1")},
		},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			mustLoadMigrations(fsys)
		})
	}
	ms := mustLoadMigrations(fstest.MapFS{
		"migrations/0002_b.sql": {Data: []byte("B")},
		"migrations/0001_a.sql": {Data: []byte("A")},
	})
	if len(ms) != 2 || ms[0].sql != "A" || ms[1].name != "0002_b.sql" {
		t.Errorf("loaded %+v", ms)
	}
}

func TestFailedMigrationRollsBack(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := openAt(path, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Make 0002 fail halfway: its ALTER TABLE works, then its first
	// CREATE INDEX collides with this one.
	if _, err := db.sql.ExecContext(ctx, `CREATE INDEX events_zone ON events (zone)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(path); err == nil {
		t.Fatal("Open succeeded despite a failing migration")
	}
	db, err = openAt(path, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, _ := db.SchemaVersion(ctx); v != 1 {
		t.Errorf("version %d after a failed migration, want 1", v)
	}
	// The ALTER TABLE of the failed step was rolled back with it.
	if _, err := db.sql.ExecContext(ctx, `SELECT account FROM zones`); err == nil {
		t.Error("zones.account exists after the failed migration")
	}
}
