package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// openTest opens a fresh database in a temporary directory and closes it
// when the test ends.
func openTest(t testing.TB, opts ...Option) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "state.db"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenPragmas(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	// Several connections at once, so that more than one of the pool's
	// connections is checked: the pragmas are per connection.
	conns := make([]interface{ Close() error }, 0, 3)
	for range 3 {
		c, err := db.sql.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		var mode string
		var fk, busy, sync int
		if err := c.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" || fk != 1 || busy != busyTimeoutMS || sync != 1 {
			t.Errorf("journal_mode=%s foreign_keys=%d busy_timeout=%d synchronous=%d; want wal 1 %d 1",
				mode, fk, busy, busyTimeoutMS, sync)
		}
	}
	for _, c := range conns {
		c.Close()
	}
}

func TestFileMode(t *testing.T) {
	db := openTest(t)
	if _, err := db.Keys().List(context.Background()); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("state.db mode %v, want 0600: it holds TSIG secrets", perm)
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Zones().Add(ctx, Zone{Name: "Example.ORG.", Kind: KindSecondary, Primaries: []string{"127.0.0.2:53"}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Keys().Add(ctx, Key{Name: "k1.", Algorithm: "hmac-sha256", Secret: "c2VjcmV0"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Meta().Set(ctx, "example.org.", MetaAlsoNotify, []string{"127.0.0.3"}); err != nil {
		t.Fatal(err)
	}
	ev, err := db.Events().Append(ctx, Event{Kind: "edit", Zone: "example.org."})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	z, err := db.Zones().Get(ctx, "example.org.")
	if err != nil {
		t.Fatal(err)
	}
	if z.Kind != KindSecondary || len(z.Primaries) != 1 || z.Primaries[0] != "127.0.0.2:53" {
		t.Errorf("zone after reopen: %+v", z)
	}
	if _, err := db.Keys().Get(ctx, "k1."); err != nil {
		t.Error(err)
	}
	if v, err := db.Meta().Get(ctx, "example.org.", MetaAlsoNotify); err != nil || len(v) != 1 {
		t.Errorf("metadata after reopen: %v %v", v, err)
	}
	// Ids continue after a reopen.
	ev2, err := db.Events().Append(ctx, Event{Kind: "edit"})
	if err != nil {
		t.Fatal(err)
	}
	if ev2.ID <= ev.ID {
		t.Errorf("id after reopen %d, before %d", ev2.ID, ev.ID)
	}
}

func TestClosedDB(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := db.Zones().List(context.Background()); err == nil {
		t.Error("List on a closed DB succeeded")
	}
	if err := db.Keys().Add(context.Background(), Key{Name: "k."}); err == nil {
		t.Error("Add on a closed DB succeeded")
	}
	if _, err := db.Events().Append(context.Background(), Event{Kind: "reload"}); err == nil {
		t.Error("Append on a closed DB succeeded")
	}
}

func TestWriteHonoursContext(t *testing.T) {
	db := openTest(t)
	// Hold the write token as a long transaction would.
	db.writeSem <- struct{}{}
	defer func() { <-db.writeSem }()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := db.Keys().Add(ctx, Key{Name: "k."}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Add with a cancelled context: %v", err)
	}
	if _, err := db.Events().Append(ctx, Event{Kind: "reload"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Append with a cancelled context: %v", err)
	}
}
