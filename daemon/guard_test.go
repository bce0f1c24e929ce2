package daemon

// Tests of the guarded role changes (guard.go, follow.go, split.go):
// the rules alone, then in-process nodes on 127.0.0.1-3 that answer each
// other's zone state queries over loopback.

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"zonekeeper/daemon/api"
	"zonekeeper/store"
)

func TestPromoteGuardRule(t *testing.T) {
	prim := roleView{node: "a", answered: true, serves: true, role: zoneRolePrimary, serial: 9}
	dead := roleView{node: "a", err: "timeout"}
	sec := func(name, follows string) roleView {
		return roleView{node: name, answered: true, serves: true, role: zoneRoleSecondary, serial: 9, follows: follows, upOK: follows != ""}
	}
	for _, tc := range []struct {
		name      string
		primaries []roleView
		others    []roleView
		want      string // in the refusal; "" allowed
	}{
		{"primary answers", []roleView{prim}, nil, "a is alive and serves serial 9: promoting would make two primaries"},
		{"foreign primary answers", []roleView{{node: "x", answered: true, serves: true, serial: 3}}, nil, "x is alive"},
		{"primary dead, no peers", []roleView{dead}, nil, ""},
		{"primary dead, a peer follows us", []roleView{dead}, []roleView{sec("c", "b")}, ""},
		{"primary dead here, alive for the majority", []roleView{dead}, []roleView{sec("c", "a"), sec("d", "a"), sec("e", "")}, "answers 2 of the 3 peers that answer (c, d)"},
		{"primary dead here, alive for a minority", []roleView{dead}, []roleView{sec("c", "a"), sec("d", ""), {node: "e"}, sec("f", "")}, ""},
		{"another node is primary", []roleView{dead}, []roleView{{node: "c", answered: true, serves: true, role: zoneRolePrimary, serial: 12}}, "c already serves z. as primary at serial 12"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := promoteGuard("z.", tc.primaries, tc.others)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("promoteGuard = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFollowRule(t *testing.T) {
	prim := func(name string, serial uint32) roleView {
		return roleView{node: name, answered: true, serves: true, role: zoneRolePrimary, serial: serial}
	}
	sec := roleView{node: "a", answered: true, serves: true, role: zoneRoleSecondary, serial: 10}
	dead := roleView{node: "a", err: "timeout"}
	for _, tc := range []struct {
		name       string
		current    []roleView
		known      []bool
		candidates []roleView
		want       string // the node followed; "" none
	}{
		{"primary dead, one new primary", []roleView{dead}, []bool{true}, []roleView{prim("b", 11)}, "b"},
		{"primary demoted, one new primary", []roleView{sec}, []bool{true}, []roleView{prim("b", 10)}, "b"},
		{"primary alive", []roleView{prim("a", 10)}, []bool{true}, []roleView{prim("b", 11)}, ""},
		{"primary not a peer", []roleView{dead}, []bool{false}, []roleView{prim("b", 11)}, ""},
		{"two new primaries", []roleView{dead}, []bool{true}, []roleView{prim("b", 11), prim("c", 12)}, ""},
		{"new primary older than ours", []roleView{dead}, []bool{true}, []roleView{prim("b", 9)}, ""},
		{"no new primary", []roleView{dead}, []bool{true}, []roleView{{node: "b", answered: true, serves: true, role: zoneRoleSecondary}}, ""},
		{"candidate without a role", []roleView{dead}, []bool{true}, []roleView{{node: "b", answered: true, serves: true, serial: 20}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, ok := chooseNewPrimary(10, tc.current, tc.known, tc.candidates)
			if ok != (tc.want != "") || got.node != tc.want {
				t.Errorf("chooseNewPrimary = %q %v, want %q", got.node, ok, tc.want)
			}
		})
	}
}

// meshPeers makes every node a peer of role peer of every other, by the
// names given, unsigned.
func meshPeers(t *testing.T, nodes map[string]*secondaryNode) {
	t.Helper()
	for name, n := range nodes {
		var ps []peer
		for other, o := range nodes {
			if other != name {
				ps = append(ps, peer{Name: other, Addr: addrPort(t, o.addr), Role: rolePeer})
			}
		}
		n.setPeers(ps...)
	}
}

// backupCount is how many files DATA/backup holds.
func backupCount(n *secondaryNode) int {
	es, _ := os.ReadDir(filepath.Join(n.cfg.Data, "backup"))
	return len(es)
}

// guardPair starts a, primary of zone at serial 10, and its secondary
// named name on ip; each is the other's peer.
func guardPair(t *testing.T, zone, name, ip string) (a, sec *secondaryNode) {
	t.Helper()
	a = startNode(t, "127.0.0.1", "", map[string]string{fileNameOf(zone): failoverZone(10, "")}, fastHealth)
	sec = followPrimary(t, ip, a, fastHealth, zone)
	meshPeers(t, map[string]*secondaryNode{"a": a, name: sec})
	return a, sec
}

func TestDemoteGuard(t *testing.T) {
	t.Parallel()
	const zone = "failover.test."
	a, _ := guardPair(t, zone, "c", "127.0.0.3")
	ctx := context.Background()

	// c is a secondary: refused, nothing changes.
	_, err := a.client().Demote(ctx, zone, api.DemoteRequest{Primaries: []string{"c"}})
	if apiCode(err) != api.CodeNotPermitted || !strings.Contains(err.Error(), "c serves "+zone+" as a secondary (following") ||
		!strings.Contains(err.Error(), "--force overrides") {
		t.Fatalf("demote onto a secondary: %v", err)
	}
	if a.zoneKind(zone) != api.KindPrimary || a.servedSerial(t, zone) != 10 || backupCount(a) != 0 {
		t.Fatalf("after the refusal: kind %s serial %d, %d backups", a.zoneKind(zone), a.servedSerial(t, zone), backupCount(a))
	}
	if _, err := os.Stat(filepath.Join(a.cfg.ZonesDir(), fileNameOf(zone))); err != nil {
		t.Fatalf("the zonefile after the refusal: %v", err)
	}
	a.waitEvent(t, zone, "demote", "not demoted", 5*time.Second)

	// --force proceeds and says what it overrode, in the reply and an event.
	res, err := a.client().Demote(ctx, zone, api.DemoteRequest{Primaries: []string{"c"}, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Overrode, "c serves "+zone+" as a secondary") {
		t.Errorf("forced demote: overrode %q", res.Overrode)
	}
	ev := a.waitEvent(t, zone, "demote", "--force overrode the guard: c serves", 5*time.Second)
	if ev.Outcome != api.OutcomeWarning {
		t.Errorf("forced demote event %+v", ev)
	}
}

func TestPromoteGuard(t *testing.T) {
	t.Parallel()
	const zone = "failover.test."
	a, b := guardPair(t, zone, "b", "127.0.0.2")
	ctx := context.Background()

	// a is alive and primary: refused.
	_, err := b.client().Promote(ctx, zone)
	if apiCode(err) != api.CodeNotPermitted || !strings.Contains(err.Error(), "is alive and serves serial 10: promoting would make two primaries") {
		t.Fatalf("promote while the primary is alive: %v", err)
	}
	if b.zoneKind(zone) != api.KindSecondary {
		t.Fatalf("b after the refusal: %s", b.zoneKind(zone))
	}
	b.waitEvent(t, zone, "promote", "not promoted", 5*time.Second)
	// promote --all is guarded per zone.
	all, err := b.client().PromoteAll(ctx, "")
	if err != nil || len(all.Zones) != 1 || !strings.Contains(all.Zones[0].Error, "is alive") {
		t.Fatalf("promote --all while the primary is alive: %+v %v", all, err)
	}

	// Forced: two primaries, reported on both.
	res, err := b.client().PromoteWith(ctx, zone, api.PromoteRequest{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Zones[0].Overrode, "is alive") {
		t.Errorf("forced promote: %+v", res.Zones[0])
	}
	b.waitEvent(t, zone, "promote", "--force overrode the guard", 5*time.Second)
	a.waitEvent(t, zone, "split-brain", "peer b ("+b.addr+") serves it as primary too, at serial 10 (the same serial)", 10*time.Second)
	b.waitEvent(t, zone, "split-brain", "peer a ("+a.addr+") serves it as primary too", 10*time.Second)
}

// TestPromoteGuardMajority: the primary does not answer the node being
// promoted, but it answers the other peer: refused.
func TestPromoteGuardMajority(t *testing.T) {
	t.Parallel()
	const zone = "failover.test."
	a := startNode(t, "127.0.0.1", "", map[string]string{fileNameOf(zone): failoverZone(10, "")}, fastHealth)
	c := followPrimary(t, "127.0.0.3", a, fastHealth, zone)
	b := followPrimary(t, "127.0.0.2", a, fastHealth, zone)
	meshPeers(t, map[string]*secondaryNode{"a": a, "b": b, "c": c})
	// b is cut off from a: its peer a and its zone's primary point at a
	// port where nothing answers.
	cut := deadAddr(t, "127.0.0.1")
	b.setPeers(peer{Name: "a", Addr: addrPort(t, cut), Role: rolePeer}, peer{Name: "c", Addr: addrPort(t, c.addr), Role: rolePeer})
	if err := b.store.Zones().Update(context.Background(), zone, func(z *store.Zone) error { z.Primaries = []string{cut}; return nil }); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "c following a", func() bool { p, _ := c.following(zone); return p == "a" }, nil)
	_, err := b.client().Promote(context.Background(), zone)
	if apiCode(err) != api.CodeNotPermitted || !strings.Contains(err.Error(), "answers 1 of the 1 peers that answer (c)") {
		t.Fatalf("promote with the primary alive for the other peer: %v", err)
	}
	if b.zoneKind(zone) != api.KindSecondary {
		t.Errorf("b after the refusal: %s", b.zoneKind(zone))
	}
}

// TestHealthRoundStandsInForLostNotify: a secondary that was down when
// its primary's NOTIFY went out checks at once when a health round shows
// the primary ahead, not at the end of its refresh (an hour here).
func TestHealthRoundStandsInForLostNotify(t *testing.T) {
	t.Parallel()
	const zone = "failover.test."
	a := startNode(t, "127.0.0.1", "", map[string]string{fileNameOf(zone): failoverZone(10, "")}, fastHealth)
	c := followPrimary(t, "127.0.0.3", a, fastHealth, zone)
	cData, cAddr := c.cfg.Data, c.addr
	a.setPeers(peer{Name: "c", Addr: addrPort(t, cAddr), Role: rolePeer})
	c.stopFn()
	if _, err := a.loader.edit(zone, api.EditRequest{Op: api.EditAdd, Name: "while-down", Type: "A", Data: []string{"127.0.0.30"}}, api.SerialIncrement, time.Now()); err != nil {
		t.Fatal(err)
	}
	// a's last NOTIFY try to c is sent before c is back.
	a.waitEvent(t, zone, "notify-out", "to "+cAddr+" (peer c), try 5 of 5", 30*time.Second)
	storePeer(t, cData, store.Peer{Name: "a", Addr: a.addr, Role: store.PeerRolePeer})
	c = startNode(t, "127.0.0.3", cData, nil, func(cf *Config) {
		fastHealth(cf)
		cf.Listen = []string{cAddr}
	})
	eventually(t, 10*time.Second, "c serving serial 11", func() bool { return c.servedSerial(t, zone) == 11 },
		func() string { return eventDump(c.events(t, zone, "")) + c.logs.String() })
}
