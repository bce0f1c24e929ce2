package daemon

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"zonekeeper/daemon/api"
	"zonekeeper/store"
)

// Each node serves its catalog under its own name, and its peers learn
// that name from the legacy catalog and read it under it from then on.
func TestPeerCatalogNameLearned(t *testing.T) {
	a := startPeerNode(t, "127.0.0.1", map[string]string{"example.test.zone": peerZone("example.test.", 7)})
	b := startPeerNode(t, "127.0.0.2", nil)
	if a.Daemon.cfg.CatalogZone == b.Daemon.cfg.CatalogZone || !isCatalogName(a.Daemon.cfg.CatalogZone) || a.Daemon.cfg.CatalogZone == legacyCatalog {
		t.Fatalf("catalog names %s and %s", a.Daemon.cfg.CatalogZone, b.Daemon.cfg.CatalogZone)
	}
	for _, n := range []*secondaryNode{a, b} {
		addClusterKey(t, n)
	}
	addPeer(t, a, "b", b)
	addPeer(t, b, "a", a)
	eventually(t, 20*time.Second, "B serving example.test.", func() bool {
		return b.servedSerial(t, "example.test.") == 7
	}, func() string { return eventDump(b.events(t, "", "")) })
	if got := b.catalog.learnedName("a"); got != a.Daemon.cfg.CatalogZone {
		t.Fatalf("B learned %q as A's catalog, want %s", got, a.Daemon.cfg.CatalogZone)
	}
	// Read again: now under the learned name.
	pa, _ := b.peers.byName("a")
	b.catalog.fetchPeer(context.Background(), pa)
	b.waitEvent(t, a.Daemon.cfg.CatalogZone, "catalog-in", "catalog "+a.Daemon.cfg.CatalogZone+" of peer a", 5*time.Second)
	ps, err := b.client().Peers(context.Background())
	if err != nil || len(ps) != 1 || ps[0].Catalog != a.Daemon.cfg.CatalogZone || !ps[0].Learned {
		t.Errorf("peer list on B: %+v %v", ps, err)
	}
	// The catalog is not a zone of the cluster: B does not provision A's.
	for _, z := range []string{a.Daemon.cfg.CatalogZone, legacyCatalog} {
		if _, err := b.store.Zones().Get(context.Background(), z); err == nil {
			t.Errorf("B provisioned the catalog %s as a zone", z)
		}
	}
}

// A peer of role catalog (a foreign producer) has the members of its
// catalog provisioned here, and is nothing more: no candidate primary of
// other zones, no NOTIFY target, no transfers of our zones.
func TestForeignCatalogPeer(t *testing.T) {
	const foreignCat = "catalog.foreign.test."
	f := startNode(t, "127.0.0.3", "", map[string]string{"member.test.zone": peerZone("member.test.", 4)},
		func(c *Config) { c.HealthInterval = time.Hour; c.CatalogZone = foreignCat })
	a := startPeerNode(t, "127.0.0.1", map[string]string{"other.test.zone": peerZone("other.test.", 9)})
	b := startPeerNode(t, "127.0.0.2", map[string]string{"own.test.zone": peerZone("own.test.", 2)})
	// F lets B transfer (as any foreign producer would be configured to).
	if _, err := f.client().AddPeer(context.Background(), api.Peer{Name: "b", Addr: b.addr, Role: api.RoleSecondary}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.client().AddPeer(context.Background(), api.Peer{Name: "b", Addr: b.addr}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := b.client().AddPeer(ctx, api.Peer{Name: "f", Addr: f.addr, Role: api.RoleSecondary, Catalog: foreignCat}); err == nil ||
		!strings.Contains(err.Error(), "role secondary") {
		t.Errorf("role secondary with a catalog: %v", err)
	}
	added, err := b.client().AddPeer(ctx, api.Peer{Name: "f", Addr: f.addr, Catalog: foreignCat})
	if err != nil || added.Role != api.RoleCatalog || added.Catalog != foreignCat {
		t.Fatalf("peer add f --catalog: %+v %v", added, err)
	}
	if _, err := b.client().AddPeer(ctx, api.Peer{Name: "a", Addr: a.addr}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "B serving member.test. from F and other.test. from A", func() bool {
		return b.servedSerial(t, "member.test.") == 4 && b.servedSerial(t, "other.test.") == 9
	}, func() string { return eventDump(b.events(t, "", "")) })
	row, err := b.store.Zones().Get(ctx, "member.test.")
	if err != nil || row.Kind != store.KindSecondary || row.Account != "peer:f" || !slices.Equal(row.Primaries, []string{f.addr}) {
		t.Errorf("member.test. on B: %+v %v", row, err)
	}
	fAddr := netip.MustParseAddrPort(f.addr)
	ps, err := b.secondaries.primariesOf(ctx, "other.test.")
	if err != nil || slices.Contains(ps.addrs, fAddr) {
		t.Errorf("other.test.'s primaries on B %v (%v): the catalog producer is a candidate", ps.addrs, err)
	}
	snap := b.zones.Get("own.test.")
	targets, _ := b.notifier.targets(ctx, "own.test.", snap)
	for _, tg := range targets {
		if tg.addr == fAddr {
			t.Errorf("the catalog producer is a NOTIFY target of own.test.: %+v", tg)
		}
	}
	if g := b.mayTransfer("own.test.", fAddr.Addr(), ""); g.ok {
		t.Errorf("the catalog producer may transfer own.test.: %s", g.why)
	}
	// A NOTIFY of its catalog is a catalog NOTIFY, never a zone to add.
	if _, err := b.store.Zones().Get(ctx, foreignCat); err == nil {
		t.Error("the foreign catalog was provisioned as a zone")
	}
}

// An older peer serves its catalog under the legacy name only, without
// the property naming another: it is read under that name.
func TestPeerCatalogOlderPeer(t *testing.T) {
	a := startNode(t, "127.0.0.1", "", map[string]string{"example.test.zone": peerZone("example.test.", 7)},
		func(c *Config) { c.HealthInterval = time.Hour; c.CatalogZone = legacyCatalog })
	b := startPeerNode(t, "127.0.0.2", nil)
	for _, n := range []*secondaryNode{a, b} {
		addClusterKey(t, n)
	}
	addPeer(t, a, "b", b)
	addPeer(t, b, "a", a)
	eventually(t, 20*time.Second, "B serving example.test.", func() bool {
		return b.servedSerial(t, "example.test.") == 7
	}, func() string { return eventDump(b.events(t, "", "")) })
	pa, _ := b.peers.byName("a")
	b.catalog.fetchPeer(context.Background(), pa)
	if got := b.catalog.learnedName("a"); got != "" {
		t.Errorf("B learned %q from an older peer", got)
	}
	if got := b.catalog.peerCatalog(pa); got != legacyCatalog {
		t.Errorf("B reads the older peer's catalog as %s", got)
	}
}

// A peer's catalog provisioned as a zone (its NOTIFY came before its
// name was learned) is dropped once the name is known.
func TestPeerCatalogProvisionedByMistakeDropped(t *testing.T) {
	b := startPeerNode(t, "127.0.0.2", nil)
	b.catalog.grace = 0
	ctx := context.Background()
	if _, err := b.client().AddPeer(ctx, api.Peer{Name: "a", Addr: "127.0.0.1:5399"}); err != nil {
		t.Fatal(err)
	}
	pa, _ := b.peers.byName("a")
	const custom = "cat.custom.test."
	if !b.catalog.provisionNotified(pa, custom) {
		t.Fatal("the NOTIFY of a name not yet known as a catalog did not provision it")
	}
	b.catalog.mu.Lock()
	b.catalog.learned["a"] = custom
	b.catalog.mu.Unlock()
	b.catalog.reconcile(ctx, pa, nil)
	if _, err := b.store.Zones().Get(ctx, custom); err == nil {
		t.Errorf("a's catalog %s is still a zone here", custom)
	}
	b.waitEvent(t, custom, "zone-remove", "it is the catalog of peer a", 5*time.Second)
}
