package daemon

// Tests of health_diverged.go and of the secondary's full re-transfer of
// a version with its serial and other content (refresh.go).

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"zonekeeper/daemon/api"
)

// digestZone is a zone whose SOA refresh and retry are a second, with
// extra lines.
func digestZone(serial uint32, extra string) string {
	return fmt.Sprintf(`$TTL 300
@ IN SOA ns1 hostmaster %d 1 1 86400 60
@ IN NS ns1
ns1 IN A 127.0.0.1
%s
`, serial, extra)
}

func TestHealthDiverged(t *testing.T) {
	t.Parallel()
	const zone = "diverged.test."
	a := startNode(t, "127.0.0.1", "", map[string]string{fileNameOf(zone): digestZone(10, "ptr IN PTR a.example.")}, fastHealth)
	b := startNode(t, "127.0.0.2", "", map[string]string{fileNameOf(zone): digestZone(10, "ptr IN PTR b.example.")}, fastHealth)
	a.setPeers(peer{Name: "b", Addr: addrPort(t, b.addr), Role: rolePeer})
	b.setPeers(peer{Name: "a", Addr: addrPort(t, a.addr), Role: rolePeer})

	ctx := context.Background()
	var da, db string
	for _, n := range []*secondaryNode{a, b} {
		eventually(t, 10*time.Second, "diverged on "+n.addr, func() bool {
			z, err := n.client().Zone(ctx, zone)
			if err != nil || z.State != api.StateDiverged || len(z.Peers) != 1 || z.Digest == "" {
				return false
			}
			if n == a {
				da = z.Digest
			} else {
				db = z.Digest
			}
			ps := z.Peers[0]
			return ps.Diverged && !ps.InSync && ps.Digest != z.Digest && strings.Contains(z.Error, ps.Digest) && strings.Contains(z.Error, z.Digest)
		}, func() string { return eventDump(n.events(t, zone, "")) })
	}
	if da == db || len(da) != 96 {
		t.Fatalf("digests %q and %q", da, db)
	}
	ev := a.waitEvent(t, zone, "diverged", "peer b", 5*time.Second)
	for _, want := range []string{"serial 10", da, db, "zonekeeper zone demote " + zone + " --primary b"} {
		if !strings.Contains(ev.Detail, want) {
			t.Errorf("a's diverged event %q lacks %q", ev.Detail, want)
		}
	}
	// Once per change, not every round.
	time.Sleep(time.Second)
	if n := len(a.events(t, zone, "diverged")); n != 1 {
		t.Errorf("%d diverged events on a, want 1: %s", n, eventDump(a.events(t, zone, "diverged")))
	}
	if z, _ := a.client().Zone(ctx, zone); z.PeersInSync != "0/1" {
		t.Errorf("a says %s in sync with a diverged peer", z.PeersInSync)
	}

	// b takes a's content (same serial): no longer diverged, said once.
	if err := writeZoneFile(b.dir, zone, digestZone(10, "ptr IN PTR a.example.")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "a no longer diverged", func() bool {
		z, err := a.client().Zone(ctx, zone)
		return err == nil && z.State != api.StateDiverged && z.PeersInSync == "1/1"
	}, func() string { return eventDump(a.events(t, zone, "")) + b.logs.String() })
	a.waitEvent(t, zone, "diverged", "no longer diverged", 5*time.Second)
}

func TestSecondaryRetransfersDivergedVersion(t *testing.T) {
	t.Parallel()
	const zone = "diverged.test."
	a := startNode(t, "127.0.0.1", "", map[string]string{fileNameOf(zone): digestZone(10, "ptr IN PTR a.example.")}, allowCluster)
	c := startNode(t, "127.0.0.3", "", map[string]string{fileNameOf(zone): digestZone(10, "ptr IN PTR c.example.")}, allowCluster)
	b := followPrimary(t, "127.0.0.2", a, allowCluster, zone)
	b.setPeers(peer{Name: "c", Addr: addrPort(t, c.addr), Role: rolePeer})
	c.setPeers(peer{Name: "b", Addr: addrPort(t, b.addr), Role: rolePeer})
	if got := b.ask(t, "ptr."+zone, 12); len(got.Answer) != 1 || !strings.Contains(got.Answer[0].String(), "a.example.") {
		t.Fatalf("b holds %v", got.Answer)
	}
	// a is lost; c, the peer b falls back to, serves serial 10 with other
	// content: b fetches it whole and says why.
	a.stopFn()
	ev := b.waitEvent(t, zone, "refresh", "content differs", 15*time.Second)
	for _, want := range []string{"serial 10", "re-transferring in full (AXFR)", digestHex(c.zones.Get(zone).ContentDigest())} {
		if !strings.Contains(ev.Detail, want) {
			t.Errorf("refresh event %q lacks %q", ev.Detail, want)
		}
	}
	b.waitEvent(t, zone, "axfr-in", "serial 10 -> 10 from "+c.addr, 10*time.Second)
	eventually(t, 5*time.Second, "b serves c's version", func() bool {
		got := b.ask(t, "ptr."+zone, 12)
		return len(got.Answer) == 1 && strings.Contains(got.Answer[0].String(), "c.example.")
	}, nil)
	// Fetched once: the next checks find the same content.
	time.Sleep(2500 * time.Millisecond)
	if n := len(b.events(t, zone, "axfr-in")); n != 2 {
		t.Errorf("%d AXFRs, want 2: %s", n, eventDump(b.events(t, zone, "")))
	}
}

// writeZoneFile replaces zone's file in a node's DATA/zones.
func writeZoneFile(dir, zone, text string) error {
	return os.WriteFile(filepath.Join(dir, fileNameOf(zone)), []byte(text), 0o644)
}
