package daemon

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/answer"
	"zonekeeper/daemon/api"
	"zonekeeper/store"
)

// Tests of the peers of a cluster (peers.go, catalog.go): two daemons in
// this process on 127.0.0.1 and 127.0.0.2, configured through the
// control API as an operator would, with `key add` and `peer add` alone.

// clusterSecret is the TSIG secret the test nodes share.
const clusterSecret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="

// peerZone is a zone whose one NS is its SOA MNAME on 127.0.0.1, so
// that its NOTIFYs go to the peers only.
func peerZone(origin string, serial uint32) string {
	return fmt.Sprintf("$ORIGIN %s\n$TTL 300\n@ SOA ns1 hostmaster %d 60 10 600 60\n@ NS ns1\nns1 A 127.0.0.1\nwww A 127.0.0.10\n", origin, serial)
}

// startPeerNode starts a node on ip whose catalogs are read only when
// asked (a long health interval), so that convergence must not depend
// on the periodic read. Removals have no hold-down (its tests set one).
func startPeerNode(t *testing.T, ip string, files map[string]string) *secondaryNode {
	t.Helper()
	return startNode(t, ip, "", files, func(c *Config) { c.HealthInterval = time.Hour; c.CatalogHoldDown = 0 })
}

// addClusterKey adds the shared key through the control API.
func addClusterKey(t *testing.T, n *secondaryNode) {
	t.Helper()
	if _, err := n.client().AddKey(context.Background(), api.Key{Name: "cluster.", Algorithm: "hmac-sha256", Secret: clusterSecret}); err != nil {
		t.Fatal(err)
	}
}

// addPeer runs `peer add NAME ADDR --tsig cluster.` on n.
func addPeer(t *testing.T, n *secondaryNode, name string, other *secondaryNode) {
	t.Helper()
	if _, err := n.client().AddPeer(context.Background(), api.Peer{Name: name, Addr: other.addr, TSIGKey: "cluster."}); err != nil {
		t.Fatal(err)
	}
}

func TestPeerClusterConverges(t *testing.T) {
	for _, order := range []string{"a-first", "b-first"} {
		t.Run(order, func(t *testing.T) {
			a := startPeerNode(t, "127.0.0.1", map[string]string{"example.test.zone": peerZone("example.test.", 7)})
			b := startPeerNode(t, "127.0.0.2", nil)
			addClusterKey(t, a)
			addClusterKey(t, b)
			began := time.Now()
			if order == "a-first" {
				addPeer(t, a, "b", b)
				time.Sleep(300 * time.Millisecond) // A's NOTIFYs reach B before B knows A
				addPeer(t, b, "a", a)
			} else {
				addPeer(t, b, "a", a)
				time.Sleep(300 * time.Millisecond)
				addPeer(t, a, "b", b)
			}
			eventually(t, 20*time.Second, "B serving example.test. serial 7", func() bool {
				return b.servedSerial(t, "example.test.") == 7
			}, func() string { return eventDump(b.events(t, "", "")) })
			t.Logf("%s: B serves the zone %s after the first peer add", order, time.Since(began).Round(time.Millisecond))
			z, err := b.store.Zones().Get(context.Background(), "example.test.")
			if err != nil || z.Kind != store.KindSecondary || z.TSIGKey != "cluster." || z.Account != "peer:a" ||
				len(z.Primaries) != 1 || z.Primaries[0] != a.addr {
				t.Errorf("B's zone row: %+v %v", z, err)
			}

			// A zone file added on A appears on B.
			if err := os.WriteFile(filepath.Join(a.cfg.ZonesDir(), "second.test.zone"), []byte(peerZone("second.test.", 3)), 0o644); err != nil {
				t.Fatal(err)
			}
			eventually(t, 20*time.Second, "B serving second.test. serial 3", func() bool {
				return b.servedSerial(t, "second.test.") == 3
			}, func() string { return eventDump(b.events(t, "", "")) })

			// Removed from A, it disappears from B, its file kept in
			// B's DATA/backup.
			if err := a.client().RemoveZone(context.Background(), "second.test."); err != nil {
				t.Fatal(err)
			}
			eventually(t, 30*time.Second, "B no longer serving second.test.", func() bool {
				_, err := b.store.Zones().Get(context.Background(), "second.test.")
				return b.servedSerial(t, "second.test.") == -1 && err != nil
			}, func() string {
				return "B:\n" + eventDump(b.events(t, "", "")) + "A:\n" + eventDump(a.events(t, "", ""))
			})
			backups, _ := filepath.Glob(filepath.Join(b.cfg.Data, "backup", "second.test.zone.*"))
			if len(backups) != 1 {
				t.Errorf("B's backups of second.test.: %v", backups)
			}
			if b.zoneFile(t, "second.test.") != nil {
				t.Error("B's DATA/secondary/second.test.zone is still there")
			}
			// The first zone stays.
			if s := b.servedSerial(t, "example.test."); s != 7 {
				t.Errorf("B serves example.test. at %d after the removal of another zone", s)
			}
		})
	}
}

func TestPeerAccessAndNotify(t *testing.T) {
	a := startPeerNode(t, "127.0.0.1", map[string]string{"example.test.zone": peerZone("example.test.", 7)})
	addClusterKey(t, a)
	// 127.0.0.3 is a keyed peer, 127.0.0.4 an unkeyed secondary.
	ctx := context.Background()
	for _, p := range []api.Peer{
		{Name: "keyed", Addr: "127.0.0.3:5399", TSIGKey: "cluster."},
		{Name: "plain", Addr: "127.0.0.4:5399", Role: api.RoleSecondary},
	} {
		if _, err := a.client().AddPeer(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		from, key string
		ok        bool
	}{
		{"127.0.0.3", "cluster.", true},
		{"127.0.0.3", "", false}, // a keyed peer must sign
		{"127.0.0.9", "cluster.", true},
		{"127.0.0.4", "", true},
		{"127.0.0.9", "", false},
	} {
		g := a.mayTransfer("example.test.", netip.MustParseAddr(tc.from), tc.key)
		if g.ok != tc.ok {
			t.Errorf("transfer from %s key %q: %+v, want ok %v", tc.from, tc.key, g, tc.ok)
		}
	}
	snap := a.zones.Get("example.test.")
	targets, _ := a.notifier.targets(ctx, "example.test.", snap)
	var got []string
	for _, tg := range targets {
		k := ""
		if tg.key != nil {
			k = tg.key.Name
		}
		got = append(got, tg.addr.String()+" "+tg.source+" "+k)
	}
	want := []string{"127.0.0.3:5399 peer keyed cluster.", "127.0.0.4:5399 peer plain "}
	if !slices.Equal(got, want) {
		t.Errorf("NOTIFY targets %q, want %q", got, want)
	}
}

func TestPeerNotifyProvisionsOnlyWhenSigned(t *testing.T) {
	b := startPeerNode(t, "127.0.0.2", nil)
	addClusterKey(t, b)
	if _, err := b.client().AddPeer(context.Background(), api.Peer{Name: "a", Addr: "127.0.0.1:5399", TSIGKey: "cluster."}); err != nil {
		t.Fatal(err)
	}
	notify := func(zone string, signed bool) int {
		m := new(dns.Msg)
		m.SetNotify(zone)
		c := &dns.Client{Timeout: 3 * time.Second, Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP("127.0.0.1")}}}
		if signed {
			m.SetTsig("cluster.", dns.HmacSHA256, 300, time.Now().Unix())
			c.TsigSecret = map[string]string{"cluster.": clusterSecret}
		}
		r, _, err := c.Exchange(m, b.addr)
		if err != nil {
			t.Fatal(err)
		}
		return r.Rcode
	}
	if rc := notify("unsigned.test.", false); rc != dns.RcodeNotAuth {
		t.Errorf("unsigned NOTIFY from a keyed peer: %s, want NOTAUTH", dns.RcodeToString[rc])
	}
	if _, err := b.store.Zones().Get(context.Background(), "unsigned.test."); err == nil {
		t.Error("an unsigned NOTIFY from a keyed peer provisioned a zone")
	}
	if rc := notify("signed.test.", true); rc != dns.RcodeSuccess {
		t.Errorf("signed NOTIFY from a peer: %s, want NOERROR", dns.RcodeToString[rc])
	}
	z, err := b.store.Zones().Get(context.Background(), "signed.test.")
	if err != nil || z.Kind != store.KindSecondary || z.Primaries[0] != "127.0.0.1:5399" || z.TSIGKey != "cluster." {
		t.Errorf("provisioned zone: %+v %v", z, err)
	}
	b.waitEvent(t, "signed.test.", "zone-add", "provisioned from peer a", 5*time.Second)
}

func TestParseCatalog(t *testing.T) {
	members := []string{"a.example.", "b.example."}
	const apex = "n1.catalog.zonekeeper.invalid."
	z := catalogVersion(apex, "", members, 5)
	got, err := parseCatalog(apex, z.Records)
	if err != nil || !slices.Equal(got.members, members) || got.named != "" {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if _, err := answer.Compile(z); err != nil {
		t.Fatal(err)
	}
	// Read under another apex, the records say nothing.
	if _, err := parseCatalog(legacyCatalog, z.Records); err == nil {
		t.Error("a catalog read under another apex has a version")
	}
	// Version 1 catalogs, and junk members, are refused or skipped.
	bad := slices.Clone(z.Records)
	bad[2] = &dns.TXT{Hdr: dns.RR_Header{Name: "version." + apex, Rrtype: dns.TypeTXT, Class: dns.ClassINET}, Txt: []string{"1"}}
	if _, err := parseCatalog(apex, bad); err == nil {
		t.Error("version 1 accepted")
	}
	junk := append(slices.Clone(z.Records),
		&dns.PTR{Hdr: dns.RR_Header{Name: "x.y.zones." + apex, Rrtype: dns.TypePTR, Class: dns.ClassINET}, Ptr: "deep.example."},
		&dns.PTR{Hdr: dns.RR_Header{Name: "c.zones." + apex, Rrtype: dns.TypePTR, Class: dns.ClassINET}, Ptr: apex},
		&dns.PTR{Hdr: dns.RR_Header{Name: "d.zones." + apex, Rrtype: dns.TypePTR, Class: dns.ClassINET}, Ptr: "other.catalog.zonekeeper.invalid."})
	if got, _ := parseCatalog(apex, junk); !slices.Equal(got.members, members) {
		t.Errorf("junk members: %v", got.members)
	}
	// The legacy catalog names the real one.
	legacy := catalogVersion(legacyCatalog, apex, members, 5)
	if _, err := answer.Compile(legacy); err != nil {
		t.Fatal(err)
	}
	if got, err := parseCatalog(legacyCatalog, legacy.Records); err != nil || got.named != apex || !slices.Equal(got.members, members) {
		t.Errorf("legacy catalog: %+v %v", got, err)
	}
	if id := memberID("A.Example."); id != memberID("a.example.") || strings.Contains(id, ".") {
		t.Errorf("memberID %q", id)
	}
}

func TestNodeIDStable(t *testing.T) {
	dir := t.TempDir()
	a, err := defaultCatalogZone(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(a, "."+legacyCatalog) || a == legacyCatalog {
		t.Fatalf("default catalog %q", a)
	}
	if again, _ := defaultCatalogZone(dir); again != a {
		t.Errorf("node id changed: %s then %s", a, again)
	}
	if other, _ := defaultCatalogZone(t.TempDir()); other == a {
		t.Errorf("two data directories share the catalog %s", a)
	}
	if err := os.WriteFile(filepath.Join(dir, nodeIDFile), []byte("no/such id\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := defaultCatalogZone(dir); err == nil || !strings.Contains(err.Error(), "node-id") {
		t.Errorf("a bad node-id file: %v", err)
	}
}

func TestCatalogRemovalAndMove(t *testing.T) {
	b := startPeerNode(t, "127.0.0.2", nil)
	b.catalog.grace = 0
	b.catalog.zoneState = func(context.Context, peer, string) (zoneState, error) {
		return zoneState{Reachable: true, Why: "does not serve the zone: answered NOTAUTH"}, nil
	}
	ctx := context.Background()
	for _, p := range []api.Peer{{Name: "a", Addr: "127.0.0.1:5399"}, {Name: "c", Addr: "127.0.0.3:5399"}} {
		if _, err := b.client().AddPeer(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	pa, _ := b.peers.byName("a")
	b.catalog.reconcile(ctx, pa, []string{"moved.test.", "gone.test."})
	for _, z := range []string{"moved.test.", "gone.test."} {
		if row, err := b.store.Zones().Get(ctx, z); err != nil || row.Account != "peer:a" {
			t.Fatalf("%s: %+v %v", z, row, err)
		}
	}
	// A zone the operator added is never removed by a catalog.
	b.addSecondaryZone(t, "mine.test.", "", "127.0.0.1:5399")
	// C now lists moved.test. (promoted there); A lists neither.
	b.catalog.mu.Lock()
	b.catalog.listed["c"] = []string{"moved.test."}
	b.catalog.mu.Unlock()
	b.catalog.reconcile(ctx, pa, nil)
	if _, err := b.store.Zones().Get(ctx, "gone.test."); err == nil {
		t.Error("gone.test. was not removed")
	}
	if row, err := b.store.Zones().Get(ctx, "moved.test."); err != nil || row.Account != "peer:c" {
		t.Errorf("moved.test.: %+v %v, want kept as a zone of c", row, err)
	}
	if _, err := b.store.Zones().Get(ctx, "mine.test."); err != nil {
		t.Errorf("mine.test. was removed: %v", err)
	}
}

func TestPeerIsCandidatePrimaryNotifierFirst(t *testing.T) {
	// The zone's own primary on 127.0.0.5 is down; peer a on 127.0.0.1
	// serves the zone, signed with the cluster key.
	a := newTestPrimary(t, "127.0.0.1", "cand.test.", secZoneLines(40, 3600, 60, 86400)...)
	a.withKey("cluster.", clusterSecret)
	b := startPeerNode(t, "127.0.0.2", nil)
	addClusterKey(t, b)
	ctx := context.Background()
	if _, err := b.client().AddPeer(ctx, api.Peer{Name: "a", Addr: a.addr, TSIGKey: "cluster."}); err != nil {
		t.Fatal(err)
	}
	b.addSecondaryZone(t, "cand.test.", "", "127.0.0.5:5399")
	eventually(t, 20*time.Second, "B serving cand.test. serial 40 from the peer", func() bool {
		return b.servedSerial(t, "cand.test.") == 40
	}, func() string { return eventDump(b.events(t, "cand.test.", "")) })

	// A NOTIFY from the peer, signed, is accepted and the peer is asked
	// first; unsigned, it is refused (a keyed peer must sign).
	a.set(secZoneLines(41, 3600, 60, 86400)...)
	m := new(dns.Msg)
	m.SetNotify("cand.test.")
	c := &dns.Client{Timeout: 3 * time.Second, Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP("127.0.0.1")}}}
	if r, _, err := c.Exchange(m, b.addr); err != nil || r.Rcode != dns.RcodeRefused {
		t.Errorf("unsigned NOTIFY from a keyed peer: %v %v, want REFUSED", r, err)
	}
	m.SetTsig("cluster.", dns.HmacSHA256, 300, time.Now().Unix())
	c.TsigSecret = map[string]string{"cluster.": clusterSecret}
	if r, _, err := c.Exchange(m, b.addr); err != nil || r.Rcode != dns.RcodeSuccess {
		t.Fatalf("signed NOTIFY from the peer: %v %v", r, err)
	}
	b.waitEvent(t, "cand.test.", "notify-in", "127.0.0.1 first", 5*time.Second)
	eventually(t, 10*time.Second, "B serving serial 41", func() bool {
		return b.servedSerial(t, "cand.test.") == 41
	}, func() string { return eventDump(b.events(t, "cand.test.", "")) })
}

func TestPeerClusterThreeNodesPrimaryFirst(t *testing.T) {
	a := startPeerNode(t, "127.0.0.1", map[string]string{"example.test.zone": peerZone("example.test.", 7)})
	b := startPeerNode(t, "127.0.0.2", nil)
	c := startPeerNode(t, "127.0.0.3", nil)
	nodes := map[string]*secondaryNode{"a": a, "b": b, "c": c}
	for _, n := range nodes {
		addClusterKey(t, n)
	}
	// A first: its NOTIFYs reach nodes that do not know it yet.
	for _, step := range [][2]string{{"a", "b"}, {"a", "c"}, {"b", "a"}, {"b", "c"}, {"c", "a"}, {"c", "b"}} {
		addPeer(t, nodes[step[0]], step[1], nodes[step[1]])
	}
	last := time.Now()
	for _, name := range []string{"b", "c"} {
		n := nodes[name]
		eventually(t, 5*time.Second-time.Since(last), name+" serving example.test. serial 7", func() bool {
			return n.servedSerial(t, "example.test.") == 7
		}, func() string { return eventDump(n.events(t, "", "")) })
	}
	t.Logf("B and C serve the zone %s after the last peer add", time.Since(last).Round(time.Millisecond))
	if _, err := a.client().Edit(context.Background(), "example.test.", api.EditRequest{Op: api.EditAdd, Name: "new", Type: "A", Data: []string{"127.0.0.11"}}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"b", "c"} {
		n := nodes[name]
		eventually(t, 10*time.Second, name+" serving example.test. serial 8", func() bool {
			return n.servedSerial(t, "example.test.") == 8
		}, func() string { return eventDump(n.events(t, "", "")) })
	}
}

// The catalog offers peers only zones this node serves: a zonefile that
// does not load, or a link to nothing, is no member.
func TestCatalogLeavesOutZonesNotServed(t *testing.T) {
	n := startNode(t, "127.0.0.1", "", map[string]string{
		fileNameOf(chainZone): chainZoneText(1, ""),
		"broken.test.zone":    "this is not a zone\n",
	}, nil)
	if err := os.Symlink(filepath.Join(t.TempDir(), "gone.zone"), filepath.Join(n.dir, "dangling.test.zone")); err != nil {
		t.Fatal(err)
	}
	n.loader.loadAll()
	if got := n.catalog.primaryZones(); !slices.Equal(got, []string{chainZone}) {
		t.Errorf("catalog members %v, want only %s", got, chainZone)
	}
}
