package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
)

func TestPeers(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	ps := db.Peers()
	for _, p := range []Peer{
		{Name: "Node-B", Addr: "127.0.0.2:5300", TSIGKey: "cluster.", Role: PeerRolePeer},
		{Name: "bind", Addr: "127.0.0.3:53", Role: PeerRoleSecondary},
		{Name: "c", Addr: "127.0.0.4:53"}, // role defaults to peer
	} {
		if err := ps.Add(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		p    Peer
		want error
	}{
		{Peer{Name: "node-b", Addr: "127.0.0.9:53"}, ErrExists},
		{Peer{Name: "other", Addr: "127.0.0.2:5300"}, ErrExists},
		{Peer{Name: "x", Addr: "127.0.0.8:53", Role: "primary"}, ErrInvalid},
	} {
		if err := ps.Add(ctx, tc.p); !errors.Is(err, tc.want) {
			t.Errorf("Add(%+v): %v, want %v", tc.p, err, tc.want)
		}
	}
	l, err := ps.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != 3 || l[0].Name != "bind" || l[1].Name != "c" || l[1].Role != PeerRolePeer ||
		l[2].Name != "node-b" || l[2].TSIGKey != "cluster." || l[2].Created.IsZero() {
		t.Errorf("List: %+v", l)
	}
	if p, err := ps.Get(ctx, "NODE-b"); err != nil || p.Addr != "127.0.0.2:5300" {
		t.Errorf("Get: %+v %v", p, err)
	}
	if _, err := ps.Get(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get unknown: %v", err)
	}
	if err := ps.Delete(ctx, "node-b"); err != nil {
		t.Fatal(err)
	}
	if err := ps.Delete(ctx, "node-b"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete: %v, want ErrNotFound", err)
	}
}

func TestMigrateFromVersion2Peers(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	old, err := openAt(path, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.sql.ExecContext(ctx, `INSERT INTO zones (name, kind, created, updated, account) VALUES ('example.org.', 'primary', 1, 2, 'acme')`); err != nil {
		t.Fatal(err)
	}
	if _, err := old.sql.ExecContext(ctx, `SELECT 1 FROM peers`); err == nil {
		t.Fatal("version 2 already has a peers table")
	}
	old.Close()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, _ := db.SchemaVersion(ctx); v != LatestSchemaVersion() || v < 3 {
		t.Fatalf("version %d after upgrade", v)
	}
	if z, err := db.Zones().Get(ctx, "example.org."); err != nil || z.Account != "acme" {
		t.Errorf("zone after upgrade: %+v %v", z, err)
	}
	if err := db.Peers().Add(ctx, Peer{Name: "b", Addr: "127.0.0.2:53"}); err != nil {
		t.Fatal(err)
	}
	if l, err := db.Peers().List(ctx); err != nil || len(l) != 1 {
		t.Errorf("peers after upgrade: %+v %v", l, err)
	}
}
