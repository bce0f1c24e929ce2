package daemon

// The whole failover in one process: a cluster of three nodes configured
// by keys and peers alone; the primary is lost, a secondary is promoted
// and the third node follows it; the old primary returns with its stale
// state, reports split-brain without pushing it, and is demoted.

import (
	"context"
	"strings"
	"testing"
	"time"

	"zonekeeper/daemon/api"
)

func TestFailoverCluster(t *testing.T) {
	t.Parallel()
	const zone = "example.test."
	tune := func(c *Config) { c.HealthInterval = 300 * time.Millisecond }
	a := startNode(t, "127.0.0.1", "", map[string]string{"example.test.zone": peerZone(zone, 7)}, tune)
	b := startNode(t, "127.0.0.2", "", nil, tune)
	c := startNode(t, "127.0.0.3", "", nil, tune)
	nodes := map[string]*secondaryNode{"a": a, "b": b, "c": c}
	for _, n := range nodes {
		addClusterKey(t, n)
	}
	for name, n := range nodes {
		for other, o := range nodes {
			if other != name {
				addPeer(t, n, other, o)
			}
		}
	}
	for _, n := range []*secondaryNode{b, c} {
		eventually(t, 20*time.Second, "serial 7 on "+n.addr, func() bool { return n.servedSerial(t, zone) == 7 },
			func() string { return eventDump(n.events(t, "", "")) })
	}
	eventually(t, 10*time.Second, "a sees its peers in sync", func() bool {
		z, err := a.client().Zone(context.Background(), zone)
		return err == nil && z.PeersInSync == "2/2"
	}, nil)

	// The primary is lost; b takes over; c follows b's edit. (c may have
	// been provisioned from b rather than a, when b's NOTIFY passing the
	// zone on came first: then it follows b already.)
	followedA := false
	if z, err := c.client().Zone(context.Background(), zone); err == nil && len(z.Primaries) == 1 && z.Primaries[0] == a.addr {
		followedA = true
	}
	aData, aAddr := a.cfg.Data, a.addr
	a.stopFn()
	began := time.Now()
	if _, err := b.client().Promote(context.Background(), zone); err != nil {
		t.Fatal(err)
	}
	res, err := b.client().Edit(context.Background(), zone, api.EditRequest{Op: api.EditAdd, Name: "after", Type: "A", Data: []string{"127.0.0.55"}})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "c serving b's edit", func() bool { return c.servedSerial(t, zone) == int64(res.NewSerial) },
		func() string { return eventDump(c.events(t, zone, "")) })
	t.Logf("promote, edit on b and c serving it: %s", time.Since(began))
	// c records its new primary (follow.go): PRIMARIES names b.
	eventually(t, 20*time.Second, "c's primaries naming b", func() bool {
		z, err := c.client().Zone(context.Background(), zone)
		return err == nil && len(z.Primaries) == 1 && z.Primaries[0] == b.addr
	}, func() string { return eventDump(c.events(t, zone, "")) })
	if followedA {
		c.waitEvent(t, zone, "primaries", "now follows peer b", 5*time.Second)
	}

	// a returns with its old state: split-brain, its NOTIFY held back.
	a = startNode(t, "127.0.0.1", aData, nil, func(cf *Config) {
		tune(cf)
		cf.Listen = []string{aAddr}
	})
	ev := a.waitEvent(t, zone, "split-brain", "peer b", 10*time.Second)
	if !strings.Contains(ev.Detail, "serial 7") {
		t.Errorf("split-brain: %s", ev.Detail)
	}
	a.waitEvent(t, zone, "notify-out", "not sent", 10*time.Second)
	// The new primary reports it too, naming a, and c keeps following b.
	b.waitEvent(t, zone, "split-brain", "peer a", 10*time.Second)
	if z, err := c.client().Zone(context.Background(), zone); err != nil || len(z.Primaries) != 1 || z.Primaries[0] != b.addr {
		t.Errorf("c's primaries after a's return: %v %v", z.Primaries, err)
	}
	if c.servedSerial(t, zone) != int64(res.NewSerial) || b.servedSerial(t, zone) != int64(res.NewSerial) {
		t.Errorf("the stale primary's return changed the others: b %d c %d", b.servedSerial(t, zone), c.servedSerial(t, zone))
	}

	// Demoted, it serves b's version; nothing lost.
	dem, err := a.client().Demote(context.Background(), zone, api.DemoteRequest{Primaries: []string{"b"}})
	if err != nil {
		t.Fatal(err)
	}
	if dem.Zone.Serial != res.NewSerial || dem.OldSerial != 7 || dem.Zone.TSIGKey != "cluster." {
		t.Errorf("demote: %+v", dem)
	}
	if a.servedSerial(t, zone) != int64(res.NewSerial) {
		t.Errorf("a serves %d", a.servedSerial(t, zone))
	}
	// A later edit on b reaches both.
	res2, err := b.client().Edit(context.Background(), zone, api.EditRequest{Op: api.EditAdd, Name: "later", Type: "A", Data: []string{"127.0.0.56"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []*secondaryNode{a, c} {
		eventually(t, 20*time.Second, "serial of the later edit on "+n.addr, func() bool { return n.servedSerial(t, zone) == int64(res2.NewSerial) },
			func() string { return eventDump(n.events(t, zone, "")) })
	}
	// c keeps the zone although a's catalog no longer lists it (b's does).
	time.Sleep(catalogGrace + 2*time.Second)
	if s := c.servedSerial(t, zone); s != int64(res2.NewSerial) {
		t.Errorf("c serves %d after a's demote\n%s", s, eventDump(c.events(t, zone, "")))
	}
}
