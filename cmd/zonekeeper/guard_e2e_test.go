package main

// Guarded role changes end to end (issue 16, "Must show"): three real
// zonekeeper processes set up with `peer add` alone (failover_cluster_test.go).
// A promote while the primary is alive and a demote onto a secondary are
// refused and change nothing; --force proceeds and says so. After kill -9
// of a, a promote on b and a's restart, split-brain is reported on a and
// on b, and c's PRIMARIES name b.

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"zonekeeper/daemon/api"
)

const guardZone = "guard.failover.test."

// refusedCLI runs a client command that the guard must refuse: exit
// status 1, the reason on stderr.
func (n *foNode) refusedCLI(want string, args ...string) {
	n.t.Helper()
	r := n.run(args...)
	if r.code != 1 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "--force overrides") {
		n.t.Fatalf("zonekeeper@%s %s: want exit 1 and %q on stderr: %v", n.IP, strings.Join(args, " "), want, r)
	}
	n.t.Logf("%s refused: %s", n.Name, strings.TrimSpace(r.stderr))
}

// unchanged fails the test unless every node still serves zone at serial
// with the given kinds, and a kept no new backup.
func (c *foCluster) unchanged(zone string, serial uint32, kinds map[*foNode]string, backups int) {
	c.t.Helper()
	for n, kind := range kinds {
		if k := n.kindOf(zone); k != kind {
			c.t.Errorf("%s: %s is %q, want %q", n.Name, zone, k, kind)
		}
		if s, err := foAuthoritative(n.dns, zone); err != nil || s != serial {
			c.t.Errorf("%s: serial %d, %v; want %d, authoritative", n.Name, s, err, serial)
		}
	}
	if got := len(c.a.backups(zone)); got != backups {
		c.t.Errorf("a: %d backups of %s, want %d: %v", got, zone, backups, c.a.backups(zone))
	}
}

// primariesOf is the PRIMARIES of zone on n, as `zone list --json` gives them.
func (n *foNode) primariesOf(zone string) []string { return n.zones()[zone].Primaries }

func TestGuardedRoles(t *testing.T) {
	c := startFailoverCluster(t, map[string]string{guardZone: replicationZone(t, 50)})
	c.peerMesh()
	for _, n := range []*foNode{c.b, c.c} {
		waitSerial(t, n.dns, guardZone, 50, provisionTimeout, c.diag(guardZone))
	}
	secondaries := map[*foNode]string{c.a: api.KindPrimary, c.b: api.KindSecondary, c.c: api.KindSecondary}

	// Promote on b while a is alive and primary: refused, nothing changes.
	c.b.refusedCLI("a is alive and serves serial 50: promoting would make two primaries", "zone", "promote", guardZone)
	c.unchanged(guardZone, 50, secondaries, 0)

	// Demote on a, the only primary, onto c, a secondary: refused.
	c.a.refusedCLI("c serves "+guardZone+" as a secondary", "zone", "demote", guardZone, "--primary", "c")
	c.a.refusedCLI("demoting would", "zone", "demote", guardZone, "--primary", c.c.dns)
	time.Sleep(2 * failoverHealthInterval) // nothing follows later either
	c.unchanged(guardZone, 50, secondaries, 0)
	for _, e := range c.a.events(guardZone) {
		if e.Kind == "demote" && e.Outcome == api.OutcomeOK {
			t.Errorf("a demoted: %s", eventLine(e))
		}
	}

	// kill -9 of a; promote on b is allowed (a answers neither b nor c).
	c.a.kill()
	since := time.Now()
	out := c.b.need("zone", "promote", guardZone)
	t.Logf("b promoted %v after a's kill: %s", time.Since(since).Round(time.Millisecond), strings.TrimSpace(out))
	if strings.Contains(out, "--force") {
		t.Errorf("b's promote overrode something: %s", out)
	}
	res := c.b.edit("add", guardZone, "after-b", "A", "127.0.0.71")
	waitSerial(t, c.c.dns, guardZone, res.NewSerial, propagationTimeout, c.diag(guardZone))

	// c records its new primary: PRIMARIES (zone list) shows b.
	foWaitFor(t, 10*failoverHealthInterval+5*time.Second, "c's PRIMARIES naming b", c.diag(guardZone), func() string {
		if p := c.c.primariesOf(guardZone); !slices.Equal(p, []string{c.b.dns}) {
			return fmt.Sprintf("PRIMARIES %v", p)
		}
		return ""
	})
	list := c.c.ok("zone", "list")
	if !strings.Contains(list, c.b.dns) {
		t.Errorf("c: zone list does not show b (%s):\n%s", c.b.dns, list)
	}
	c.c.waitEvent(guardZone, 0, 5*time.Second, "the primaries event", func(ev api.Event) bool {
		return ev.Kind == "primaries" && strings.Contains(ev.Detail, "now follows peer b")
	})

	// a returns on its stale state: split-brain on a and on b.
	since = time.Now()
	c.a.start()
	splitOn := func(n, other *foNode) {
		ev := n.waitEvent(guardZone, 0, 2*failoverHealthInterval+5*time.Second, "split-brain naming "+other.Name, func(ev api.Event) bool {
			return ev.Kind == "split-brain" && ev.Time.After(since.Add(-time.Second)) && strings.Contains(ev.Detail, "peer "+other.Name+" ")
		})
		t.Logf("%s: %s", n.Name, eventLine(ev))
		for _, s := range []uint32{50, res.NewSerial} {
			if !strings.Contains(ev.Detail, fmt.Sprint(s)) {
				t.Errorf("%s: the split-brain event does not give serial %d: %s", n.Name, s, ev.Detail)
			}
		}
		// The advice names only primaries: never c.
		if strings.Contains(ev.Detail, "--primary c") || strings.Contains(ev.Detail, "--primary "+c.c.dns) {
			t.Errorf("%s: the advice names the secondary c: %s", n.Name, ev.Detail)
		}
		foWaitFor(t, 2*failoverHealthInterval+5*time.Second, n.Name+" zone list shows split-brain", c.diag(guardZone), func() string {
			if z := n.zones()[guardZone]; z.State != api.StateSplitBrain {
				return "state " + z.State
			}
			return ""
		})
	}
	splitOn(c.a, c.b)
	splitOn(c.b, c.a)
	if p := c.c.primariesOf(guardZone); !slices.Equal(p, []string{c.b.dns}) {
		t.Errorf("c after a's return: PRIMARIES %v, want b", p)
	}

	// a, demoted onto b (a primary), is allowed; b, the only primary,
	// onto c, a secondary, only with --force, which says so.
	c.a.refusedCLI("c serves "+guardZone+" as a secondary", "zone", "demote", guardZone, "--primary", "c")
	c.a.need("zone", "demote", guardZone, "--primary", "b")
	waitSerial(t, c.a.dns, guardZone, res.NewSerial, propagationTimeout, c.diag(guardZone))
	c.b.refusedCLI("c serves "+guardZone+" as a secondary", "zone", "demote", guardZone, "--primary", "c")
	if k := c.b.kindOf(guardZone); k != api.KindPrimary {
		t.Fatalf("b after the refused demote: %q", k)
	}
	out = c.b.need("zone", "demote", guardZone, "--primary", "c", "--force")
	if !strings.Contains(out, "--force overrode: c serves "+guardZone+" as a secondary") {
		t.Errorf("b's forced demote does not say what it overrode: %s", out)
	}
	c.b.waitEvent(guardZone, 0, 5*time.Second, "the forced demote's event", func(ev api.Event) bool {
		return ev.Kind == "demote" && ev.Outcome == api.OutcomeWarning && strings.Contains(ev.Detail, "--force overrode the guard")
	})
}
