package daemon

// Tests of promote and demote (promote.go) with in-process daemons on
// 127.0.0.1, .2 and .3: a primary, a secondary that takes over, and a
// NOTIFY listener standing for the remaining secondaries.

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
	"zonekeeper/store"
)

// failoverZone is a zone served by the three nodes 127.0.0.1, .2 and .3;
// ns1 (127.0.0.1) is its MNAME.
func failoverZone(serial uint32, extra string) string {
	return fmt.Sprintf(`$TTL 300
@ IN SOA ns1 hostmaster %d 3600 600 86400 60
@ IN NS ns1
@ IN NS ns2
@ IN NS ns3
ns1 IN A 127.0.0.1
ns2 IN A 127.0.0.2
ns3 IN A 127.0.0.3
www IN A 127.0.0.10
%s`, serial, extra)
}

// allowCluster lets 127.0.0.1-3 transfer every zone.
func allowCluster(c *Config) {
	c.AllowAXFR = []string{"127.0.0.1/32", "127.0.0.2/32", "127.0.0.3/32"}
}

// followPrimary starts a secondary node on ip following zones of primary;
// tune may change its configuration.
func followPrimary(t *testing.T, ip string, primary *secondaryNode, tune func(*Config), zones ...string) *secondaryNode {
	t.Helper()
	n := startNode(t, ip, "", nil, tune)
	for _, z := range zones {
		n.addSecondaryZone(t, z, "", primary.addr)
	}
	for _, z := range zones {
		eventually(t, 15*time.Second, "the zone transferred to "+ip, func() bool { return n.servedSerial(t, z) > 0 },
			func() string { return eventDump(n.events(t, z, "")) + n.logs.String() })
	}
	return n
}

func TestPromote(t *testing.T) {
	t.Parallel()
	const zone = "failover.test."
	a := startNode(t, "127.0.0.1", "", map[string]string{fileNameOf(zone): failoverZone(10, "")}, allowCluster)
	ls, port := listenNotify(t, "127.0.0.3")
	b := followPrimary(t, "127.0.0.2", a, func(c *Config) { c.NSPort = port; allowCluster(c) }, zone)
	a.stopFn() // the primary is lost

	c, ctx := b.client(), context.Background()
	began := time.Now()
	res, err := c.Promote(ctx, zone)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("promote took %s (daemon: %.1f ms)", time.Since(began), res.Zones[0].Millis)
	p := res.Zones[0]
	if p.Serial != 10 || !slices.Equal(p.FormerPrimaries, []string{a.addr}) || p.Error != "" {
		t.Errorf("promote result %+v", p)
	}

	// Served as a primary from DATA/zones; the transferred file is in
	// DATA/backup; the store says primary and keeps the former primaries.
	z, err := c.Zone(ctx, zone)
	if err != nil {
		t.Fatal(err)
	}
	if z.Kind != api.KindPrimary || z.State != api.StateServing || z.Serial != 10 || z.ExpireIn != nil || len(z.Primaries) != 0 {
		t.Errorf("after promote: kind %s state %s serial %d expire_in %v primaries %v", z.Kind, z.State, z.Serial, z.ExpireIn, z.Primaries)
	}
	if got := z.Meta[MetaFormerPrimaries]; !slices.Equal(got, []string{a.addr}) {
		t.Errorf("FORMER-PRIMARIES %v", got)
	}
	if z.File != filepath.Join(b.cfg.ZonesDir(), fileNameOf(zone)) {
		t.Errorf("file %q", z.File)
	}
	if b.zoneFile(t, zone) != nil {
		t.Error("DATA/secondary still holds the zone")
	}
	if p.Backup == "" {
		t.Error("no backup of the transferred file")
	} else if _, err := os.Stat(p.Backup); err != nil {
		t.Error(err)
	}
	if _, ok := b.secondaries.expireRemaining(zone); ok {
		t.Error("the expire clock still runs")
	}
	if b.servedSerial(t, zone) != 10 {
		t.Errorf("serial %d served", b.servedSerial(t, zone))
	}

	// The remaining secondaries are told, although the serial is the same.
	eventually(t, 10*time.Second, "NOTIFY of serial 10 from 127.0.0.2", func() bool {
		for _, r := range ls[0].received(10) {
			if r.from.Addr().String() == "127.0.0.2" {
				return true
			}
		}
		return false
	}, func() string { return eventDump(b.events(t, zone, "")) })

	// Edits are accepted and announced.
	er, err := c.Edit(ctx, zone, api.EditRequest{Op: api.EditAdd, Name: "new", Type: "A", Data: []string{"127.0.0.77"}})
	if err != nil {
		t.Fatal(err)
	}
	if er.NewSerial != 11 || b.servedSerial(t, zone) != 11 {
		t.Errorf("edit: serial %d, served %d", er.NewSerial, b.servedSerial(t, zone))
	}
	eventually(t, 10*time.Second, "NOTIFY of serial 11", func() bool { return len(ls[0].received(11)) > 0 },
		func() string { return eventDump(b.events(t, zone, "")) })
	b.waitEvent(t, zone, "promote", "promoted to primary at serial 10", 5*time.Second)

	// A second promote is refused: it is a primary now.
	if _, err := c.Promote(ctx, zone); apiCode(err) != api.CodeNotPermitted {
		t.Errorf("promote of a primary: %v", err)
	}
}

func TestPromoteAllFrom(t *testing.T) {
	t.Parallel()
	zones := []string{"one.failover.test.", "two.failover.test."}
	files := map[string]string{}
	for _, z := range zones {
		files[fileNameOf(z)] = failoverZone(5, "")
	}
	a := startNode(t, "127.0.0.1", "", files, allowCluster)
	other := newTestPrimary(t, "127.0.0.4", "other.test.", secZoneLines(7, 3600, 600, 86400)...)
	c := followPrimary(t, "127.0.0.3", a, nil, zones...)
	c.addSecondaryZone(t, "other.test.", "", other.addr)
	eventually(t, 15*time.Second, "other.test. transferred", func() bool { return c.servedSerial(t, "other.test.") == 7 }, c.logs.String)
	a.stopFn()

	res, err := c.client().PromoteAll(context.Background(), "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range res.Zones {
		if p.Error != "" {
			t.Errorf("%s: %s", p.Zone, p.Error)
		}
		got = append(got, p.Zone)
	}
	slices.Sort(got)
	if !slices.Equal(got, zones) {
		t.Errorf("promoted %v, want %v", got, zones)
	}
	for _, z := range zones {
		if k := c.zoneKind(z); k != api.KindPrimary {
			t.Errorf("%s is %s", z, k)
		}
	}
	if k := c.zoneKind("other.test."); k != api.KindSecondary {
		t.Errorf("other.test. (primary 127.0.0.4) is %s", k)
	}
	// Nothing left from 127.0.0.1; a bad --from is refused.
	res, err = c.client().PromoteAll(context.Background(), a.addr)
	if err != nil || len(res.Zones) != 0 {
		t.Errorf("second promote --all --from: %v %+v", err, res)
	}
	if _, err := c.client().PromoteAll(context.Background(), "no-such-peer"); apiCode(err) != api.CodeBadRequest {
		t.Errorf("--from no-such-peer: %v", err)
	}
}

func TestDemote(t *testing.T) {
	t.Parallel()
	const zone = "failover.test."
	old := failoverZone(10, "stale IN A 127.0.0.20\n")
	a := startNode(t, "127.0.0.1", "", map[string]string{fileNameOf(zone): old}, allowCluster)
	b := startNode(t, "127.0.0.2", "", map[string]string{fileNameOf(zone): failoverZone(20, "fresh IN A 127.0.0.21\n")}, allowCluster)
	c, ctx := a.client(), context.Background()

	// b answers a's zone state queries (guard.go): a is its peer.
	b.setPeers(peer{Name: "a", Addr: addrPort(t, a.addr), Role: rolePeer})

	// An unreachable primary: refused by the guard; forced, the transfer
	// fails. Nothing changes either way.
	dead := deadAddr(t, "127.0.0.3")
	if _, err := c.Demote(ctx, zone, api.DemoteRequest{Primaries: []string{dead}}); apiCode(err) != api.CodeNotPermitted {
		t.Errorf("demote to a dead primary: %v", err)
	}
	if _, err := c.Demote(ctx, zone, api.DemoteRequest{Primaries: []string{dead}, Force: true}); apiCode(err) != api.CodeUpstream {
		t.Errorf("forced demote to a dead primary: %v", err)
	}
	if a.zoneKind(zone) != api.KindPrimary || a.servedSerial(t, zone) != 10 {
		t.Fatalf("after a failed demote: kind %s serial %d", a.zoneKind(zone), a.servedSerial(t, zone))
	}

	res, err := c.Demote(ctx, zone, api.DemoteRequest{Primaries: []string{b.addr}})
	if err != nil {
		t.Fatal(err)
	}
	if res.OldSerial != 10 || res.Zone.Serial != 20 || res.Zone.Kind != api.KindSecondary || res.From != b.addr {
		t.Errorf("demote result %+v", res)
	}
	kept, err := os.ReadFile(res.Backup)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(kept, []byte(old)) {
		t.Errorf("backup %s differs from the old zonefile:\n%s", res.Backup, kept)
	}
	if want := filepath.Join(a.cfg.Data, "backup", "failover.test.10."); len(res.Backup) < len(want) || res.Backup[:len(want)] != want {
		t.Errorf("backup path %s, want %s<time>.zone", res.Backup, want)
	}
	if _, err := os.Stat(filepath.Join(a.cfg.ZonesDir(), fileNameOf(zone))); !os.IsNotExist(err) {
		t.Errorf("DATA/zones still holds the zone: %v", err)
	}
	if a.servedSerial(t, zone) != 20 {
		t.Errorf("serial %d served, want 20", a.servedSerial(t, zone))
	}
	if r := a.ask(t, "fresh."+zone, dns.TypeA); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Errorf("fresh.: %v", r)
	}
	if r := a.ask(t, "stale."+zone, dns.TypeA); r.Rcode != dns.RcodeNameError {
		t.Errorf("stale. still answered: %v", r)
	}
	a.waitEvent(t, zone, "demote", "kept in "+res.Backup, 5*time.Second)
	// It follows its new primary.
	if _, err := b.loader.edit(zone, api.EditRequest{Op: api.EditAdd, Name: "later", Type: "A", Data: []string{"127.0.0.22"}}, api.SerialIncrement, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Retrieve(ctx, zone); err != nil {
		t.Fatal(err)
	}
	if a.servedSerial(t, zone) != 21 {
		t.Errorf("after retrieve: serial %d, want 21", a.servedSerial(t, zone))
	}
	// A secondary is not demoted again.
	if _, err := c.Demote(ctx, zone, api.DemoteRequest{Primaries: []string{b.addr}}); apiCode(err) != api.CodeNotPermitted {
		t.Errorf("demote of a secondary: %v", err)
	}
}

// zoneKind is the kind the store records for zone.
func (n *secondaryNode) zoneKind(zone string) string {
	row, err := n.store.Zones().Get(context.Background(), zone)
	if err != nil {
		return "unknown"
	}
	return string(row.Kind)
}

// setPeers replaces a node's peers, as `peer add` would.
func (n *secondaryNode) setPeers(ps ...peer) {
	n.peers.cur.Store(&ps)
}

// storePeer records a peer in a data directory before its node starts.
func storePeer(t *testing.T, data string, p store.Peer) {
	t.Helper()
	db, err := store.Open(filepath.Join(data, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Peers().Add(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkPromote measures promote-to-serving: from the request to the
// zone served as a primary, edits accepted.
func BenchmarkPromote(b *testing.B) {
	const zone = "failover.test."
	a := startNode(b, "127.0.0.1", "", map[string]string{fileNameOf(zone): failoverZone(10, "")}, allowCluster)
	n := startNode(b, "127.0.0.2", "", nil, nil)
	c, ctx := n.client(), context.Background()
	var total time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		if i > 0 {
			if _, err := c.Demote(ctx, zone, api.DemoteRequest{Primaries: []string{a.addr}}); err != nil {
				b.Fatal(err)
			}
		} else {
			n.addSecondaryZone(b, zone, "", a.addr)
			eventually(b, 15*time.Second, "transferred", func() bool { return n.servedSerial(b, zone) == 10 }, n.logs.String)
		}
		b.StartTimer()
		began := time.Now()
		if _, err := c.Promote(ctx, zone); err != nil {
			b.Fatal(err)
		}
		total += time.Since(began)
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/promote")
}

// deadAddr returns ip:port where nothing listens, TCP nor UDP.
func deadAddr(t *testing.T, ip string) string {
	t.Helper()
	l, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestPrimaryMatcher(t *testing.T) {
	t.Parallel()
	n := startNode(t, "127.0.0.2", "", nil, nil)
	n.setPeers(peer{Name: "a", Addr: netip.MustParseAddrPort("127.0.0.1:5300"), Role: rolePeer})
	for _, tc := range []struct {
		from, primary string
		want          bool
	}{
		{"127.0.0.1", "127.0.0.1:5300", true},
		{"127.0.0.1", "127.0.0.1:53", true},
		{"127.0.0.1:5300", "127.0.0.1:5300", true},
		{"127.0.0.1:5300", "127.0.0.1:53", false},
		{"a", "127.0.0.1:5300", true},
		{"A", "a", true},
		{"a", "127.0.0.1:53", false},
		{"127.0.0.1", "a", true},
		{"127.0.0.3", "127.0.0.1:5300", false},
	} {
		match, err := n.primaryMatcher(tc.from)
		if err != nil {
			t.Fatal(err)
		}
		if got := match(tc.primary); got != tc.want {
			t.Errorf("--from %s, primary %s: %v, want %v", tc.from, tc.primary, got, tc.want)
		}
	}
	if _, err := n.primaryMatcher("nobody"); apiCode(err) != api.CodeBadRequest {
		t.Errorf("unknown peer: %v", err)
	}
}
