package daemon

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"zonekeeper/daemon/api"
	"zonekeeper/store"
)

// stubStates answers catalog.zoneState from a table: peer name → zone
// state; a missing peer could not be asked.
type stubStates struct {
	mu sync.Mutex
	m  map[string]zoneState
}

func (s *stubStates) set(name string, st zoneState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[name] = st
}

func (s *stubStates) ask(_ context.Context, p peer, _ string) (zoneState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.m[p.Name]
	if !ok {
		return zoneState{Why: "timeout"}, errors.New("timeout")
	}
	return st, nil
}

var notServed = zoneState{Reachable: true, Why: "does not serve the zone: answered NOTAUTH"}

// A zone that leaves its primary's catalog stays while its primary
// still serves it, while another node is its primary, while its primary
// here is another node or cannot be asked; it goes only once none of
// that holds, and only after the hold-down.
func TestCatalogRemovalRules(t *testing.T) {
	b := startPeerNode(t, "127.0.0.2", nil)
	b.catalog.grace = 0
	states := &stubStates{m: map[string]zoneState{}}
	b.catalog.zoneState = states.ask
	ctx := context.Background()
	for _, p := range []api.Peer{{Name: "a", Addr: "127.0.0.1:5399"}, {Name: "c", Addr: "127.0.0.3:5399"}} {
		if _, err := b.client().AddPeer(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	pa, _ := b.peers.byName("a")
	const zone = "z.test."
	b.catalog.reconcile(ctx, pa, []string{zone})
	kept := func(want string) {
		t.Helper()
		b.catalog.reconcile(ctx, pa, nil)
		if _, err := b.store.Zones().Get(ctx, zone); err != nil {
			t.Fatalf("%s removed; want it kept (%s): %v", zone, want, err)
		}
		if why := b.catalog.keptWhy(zone); !strings.Contains(why, want) {
			t.Errorf("kept because %q, want %q", why, want)
		}
		zs, err := b.client().Zones(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, z := range zs {
			if z.Name == zone && !strings.Contains(z.Catalog, want) {
				t.Errorf("zone list says %q, want %q", z.Catalog, want)
			}
		}
		b.waitEvent(t, zone, "catalog-in", want, 5*time.Second)
	}

	// A mistaken demote on a: a still serves it, as a secondary.
	states.set("a", zoneState{Reachable: true, Serves: true, Serial: 5, Role: api.KindSecondary, Primary: "c"})
	states.set("c", zoneState{Reachable: true, Serves: true, Serial: 5, Role: api.KindSecondary, Primary: "a"})
	kept("left the catalog of a; still served by a as a secondary")
	// a no longer holds it, but c is its primary now.
	states.set("a", notServed)
	states.set("c", zoneState{Reachable: true, Serves: true, Serial: 6, Role: api.KindPrimary})
	kept("left the catalog of a; still primary on c")
	// A node too old to say its role counts as a possible primary.
	states.set("c", zoneState{Reachable: true, Serves: true, Serial: 6})
	kept("still served by c (a node that does not say its role)")
	// a cannot be asked: nothing is decided.
	states.set("c", notServed)
	delete(states.m, "a")
	kept("a could not be asked")

	// Removed on purpose on a, held by nobody: it goes after the
	// hold-down, not before.
	states.set("a", notServed)
	b.catalog.holdDown = 600 * time.Millisecond
	kept("removed at")
	time.Sleep(700 * time.Millisecond)
	b.catalog.reconcile(ctx, pa, nil)
	if _, err := b.store.Zones().Get(ctx, zone); err == nil {
		t.Fatalf("%s still here after the hold-down", zone)
	}
	b.waitEvent(t, zone, "zone-remove", "no node serves it as primary", 5*time.Second)
}

// The hold-down restarts when the removal stops looking safe meanwhile;
// a zone whose primary here is another node never goes.
func TestCatalogRemovalHoldDownRestarts(t *testing.T) {
	b := startPeerNode(t, "127.0.0.2", nil)
	b.catalog.grace = 0
	states := &stubStates{m: map[string]zoneState{"a": notServed, "c": notServed}}
	b.catalog.zoneState = states.ask
	ctx := context.Background()
	for _, p := range []api.Peer{{Name: "a", Addr: "127.0.0.1:5399"}, {Name: "c", Addr: "127.0.0.3:5399"}} {
		if _, err := b.client().AddPeer(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	pa, _ := b.peers.byName("a")
	b.catalog.reconcile(ctx, pa, []string{"h.test."})
	// Provisioned from a, but its primary here is c.
	if err := b.store.Zones().Add(ctx, store.Zone{Name: "other.test.", Kind: store.KindSecondary,
		Primaries: []string{"127.0.0.3:5399"}, Account: "peer:a"}); err != nil {
		t.Fatal(err)
	}
	b.catalog.holdDown = 500 * time.Millisecond
	b.catalog.reconcile(ctx, pa, nil)
	time.Sleep(300 * time.Millisecond)
	states.set("c", zoneState{Reachable: true, Serves: true, Role: api.KindPrimary})
	b.catalog.reconcile(ctx, pa, nil) // not safe: the clock stops
	states.set("c", notServed)
	b.catalog.reconcile(ctx, pa, nil) // safe again: the clock starts again
	time.Sleep(300 * time.Millisecond)
	b.catalog.reconcile(ctx, pa, nil)
	if _, err := b.store.Zones().Get(ctx, "h.test."); err != nil {
		t.Fatal("h.test. removed before a whole hold-down of safety")
	}
	time.Sleep(300 * time.Millisecond)
	b.catalog.reconcile(ctx, pa, nil)
	if _, err := b.store.Zones().Get(ctx, "h.test."); err == nil {
		t.Error("h.test. still here after the hold-down")
	}
	if _, err := b.store.Zones().Get(ctx, "other.test."); err != nil {
		t.Errorf("other.test., whose primary here is c, was removed: %v", err)
	}
	if why := b.catalog.keptWhy("other.test."); !strings.Contains(why, "its primary here is 127.0.0.3:5399") {
		t.Errorf("other.test. kept because %q", why)
	}
}
