package main

// Same-serial divergence end to end (issue 16, "Must show"): three real
// zonekeeper processes (failover_cluster_test.go). After a failover two
// nodes are primaries of one zone, and an edit on each takes both to the
// same serial with different content: both say "diverged", with both
// digests, within two health rounds, in `zone list`, `zone health`,
// `zone show` and `status`. Then the old primary is demoted, and the
// secondary that held its version (same serial, other content) fetches
// the surviving one by AXFR on its own, saying why.

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"zonekeeper/daemon/api"
)

const divergedZone = "diverged.failover.test."

// divergedZoneText is a zone whose refresh is 2 s, so that a restarted
// secondary checks its primary within a test.
const divergedZoneText = `$TTL 300
@    IN SOA ns1 hostmaster 10 2 1 1209600 300
     IN NS  ns1
     IN NS  ns2
     IN NS  ns3
ns1  IN A   127.0.0.1
ns2  IN A   127.0.0.2
ns3  IN A   127.0.0.3
www  IN A   127.0.0.80
`

func TestDivergedCluster(t *testing.T) {
	c := startFailoverCluster(t, map[string]string{divergedZone: divergedZoneText})
	diag := c.diag(divergedZone)
	c.staticReplication(divergedZone)
	for _, n := range []*foNode{c.b, c.c} {
		waitSerial(t, n.dns, divergedZone, 10, propagationTimeout, diag)
	}
	c.peerMesh()

	// Failover: a lost, b promoted, a back: two primaries, same content.
	c.a.kill()
	c.b.ok("zone", "promote", divergedZone)
	c.a.start(divergedZone)

	// An edit on a reaches c; c stops; an edit on b: serial 11 on both
	// primaries, different data.
	ra := c.a.edit("add", divergedZone, "who", "A", "127.0.0.101")
	waitSerial(t, c.c.dns, divergedZone, ra.NewSerial, propagationTimeout, diag)
	if got := lookupA(t, c.c.dns, "who."+divergedZone); !slices.Equal(got, []string{"127.0.0.101"}) {
		t.Fatalf("c: who A %v, want a's edit", got)
	}
	c.c.stop()
	rb := c.b.edit("add", divergedZone, "who", "A", "127.0.0.102")
	edited := time.Now()
	if ra.NewSerial != rb.NewSerial {
		t.Fatalf("edits gave serials %d (a) and %d (b), want one serial", ra.NewSerial, rb.NewSerial)
	}
	serial := rb.NewSerial

	// Both primaries say diverged, with both digests, within two rounds.
	digests := map[string]string{}
	for _, n := range []*foNode{c.a, c.b} {
		foWaitFor(t, 2*failoverHealthInterval+time.Second, n.Name+" shows diverged", diag, func() string {
			z := n.zones()[divergedZone]
			if z.State != api.StateDiverged || z.Digest == "" {
				return fmt.Sprintf("state %s, digest %q, error %q", z.State, z.Digest, z.Error)
			}
			digests[n.Name] = z.Digest
			return ""
		})
	}
	t.Logf("diverged on a and b %v after the second edit", time.Since(edited).Round(time.Millisecond))
	da, db := digests["a"], digests["b"]
	if da == db || len(da) != 96 || len(db) != 96 {
		t.Fatalf("digests a %q, b %q: want two different SHA-384 digests", da, db)
	}
	for _, n := range []*foNode{c.a, c.b} {
		list := n.ok("zone", "list")
		line := ""
		for _, l := range strings.Split(list, "\n") {
			if strings.HasPrefix(l, divergedZone) {
				line = l
			}
		}
		for _, want := range []string{"diverged", da[:12], db[:12], fmt.Sprint(serial)} {
			if !strings.Contains(line, want) {
				t.Errorf("%s: zone list line %q lacks %q", n.Name, line, want)
			}
		}
		r := n.run("zone", "health", divergedZone)
		if r.code != 1 || !strings.Contains(r.stderr, "diverged") {
			t.Errorf("%s: zone health exit %d, stderr %q: want 1 and diverged", n.Name, r.code, r.stderr)
		}
		for _, want := range []string{da, db, "diverged"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%s: zone health lacks %q:\n%s", n.Name, want, r.stdout)
			}
		}
		if show := n.ok("zone", "show", divergedZone); !strings.Contains(show, da) || !strings.Contains(show, db) {
			t.Errorf("%s: zone show lacks a digest:\n%s", n.Name, show)
		}
		if st := n.ok("status"); !strings.Contains(st, divergedZone+" diverged") {
			t.Errorf("%s: status does not list the diverged zone:\n%s", n.Name, st)
		}
		other := map[string]string{"a": "b", "b": "a"}[n.Name]
		var ev *api.Event
		for _, e := range n.events(divergedZone) {
			if e.Kind == "diverged" && e.Outcome == api.OutcomeError {
				ev = &e
			}
		}
		if ev == nil {
			t.Errorf("%s: no diverged event:\n%s", n.Name, n.eventsText(divergedZone))
			continue
		}
		for _, want := range []string{"peer " + other, da, db, fmt.Sprintf("serial %d", serial), "zonekeeper zone demote " + divergedZone + " --primary " + other} {
			if !strings.Contains(ev.Detail, want) {
				t.Errorf("%s: diverged event %q lacks %q", n.Name, ev.Detail, want)
			}
		}
	}

	// Keep b's version: a follows b (its own version goes to backup/).
	c.a.ok("zone", "demote", divergedZone, "--primary", "b")
	if got := lookupA(t, c.a.dns, "who."+divergedZone); !slices.Equal(got, []string{"127.0.0.102"}) {
		t.Errorf("a after the demote: who A %v, want b's", got)
	}
	// c comes back holding a's old version at the same serial: it
	// re-transfers b's, now a's, by AXFR and says why.
	c.c.start(divergedZone)
	ev := c.c.waitEvent(divergedZone, 0, propagationTimeout, "c re-transfers", func(e api.Event) bool {
		return e.Kind == "refresh" && strings.Contains(e.Detail, "content differs")
	})
	for _, want := range []string{fmt.Sprintf("serial %d", serial), da, db, "re-transferring in full (AXFR)"} {
		if !strings.Contains(ev.Detail, want) {
			t.Errorf("c's refresh event %q lacks %q", ev.Detail, want)
		}
	}
	c.c.waitEvent(divergedZone, ev.ID, propagationTimeout, "c's AXFR", func(e api.Event) bool {
		return e.Kind == "axfr-in" && strings.Contains(e.Detail, fmt.Sprintf("serial %d -> %d", serial, serial))
	})
	foWaitFor(t, 5*time.Second, "c serves b's version", diag, func() string {
		if got := lookupA(t, c.c.dns, "who."+divergedZone); !slices.Equal(got, []string{"127.0.0.102"}) {
			return fmt.Sprintf("who A %v", got)
		}
		return ""
	})
	if out := c.c.proc.Output(); !strings.Contains(out, "content differs") {
		t.Errorf("c's log does not say why it re-transferred:\n%s", out)
	}
}
