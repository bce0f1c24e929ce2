package main

// Removal that cannot cascade (issue 16, point 3), with three real
// nodes: a demote that leaves the cluster without a primary takes the
// zone out of a's catalog, yet b and c keep serving it and say why; a
// zone removed on purpose on its primary leaves b and c, but only after
// the hold-down, its files moved to DATA/backup/.

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"zonekeeper/daemon/api"
)

// anyway runs a role change on n; when a guard refuses it (a demote
// onto a node that is no primary), again with --force, as an operator
// who insists would.
func (n *foNode) anyway(args ...string) {
	n.t.Helper()
	r := n.run(args...)
	if r.code != 0 && strings.Contains(r.stderr, "--force") {
		r = n.run(append(args, "--force")...)
	}
	if r.code != 0 {
		n.t.Fatalf("zonekeeper@%s: %v", n.IP, r)
	}
}

func TestCatalogRemovalNoCascade(t *testing.T) {
	const zone = "keep.catz.test."
	c := startFailoverCluster(t, map[string]string{zone: replicationZone(t, 100)})
	last := c.peerMesh()
	diag := c.diag(zone)
	for _, n := range []*foNode{c.b, c.c} {
		foWaitFor(t, 20*time.Second-time.Since(last), n.Name+" serves "+zone, diag, func() string {
			if _, err := foAuthoritative(n.dns, zone); err != nil {
				return err.Error()
			}
			return ""
		})
	}

	// The mistake: a, the only primary, is demoted onto c, a secondary.
	// The zone leaves a's catalog; nobody is primary any more.
	c.a.anyway("zone", "demote", zone, "--primary", "c")
	if k := c.a.kindOf(zone); k != api.KindSecondary {
		t.Fatalf("a's %s is %s after the demote", zone, k)
	}
	// b and c keep it, well past the hold-down (3 rounds of 1 s, after
	// the 5 s a newly provisioned zone is never removed in), and
	// say why.
	deadline := time.Now().Add(12 * time.Second)
	for time.Now().Before(deadline) {
		for _, n := range c.nodes() {
			if _, err := foAuthoritative(n.dns, zone); err != nil {
				t.Fatalf("%s stopped serving %s after a demote left no primary: %v%s", n.Name, zone, err, diag())
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	for _, n := range []*foNode{c.b, c.c} {
		z := n.zones()[zone]
		if !strings.Contains(z.Catalog, "left the catalog of a; still served by a as a secondary") {
			t.Errorf("%s's zone list says %q of %s", n.Name, z.Catalog, zone)
		}
		if !strings.Contains(n.eventsText(zone), "kept: left the catalog of a") {
			t.Errorf("%s has no event naming the catalog change:\n%s", n.Name, n.eventsText(zone))
		}
		if out := n.ok("zone", "show", zone); !strings.Contains(out, "left the catalog of a") {
			t.Errorf("%s's zone show:\n%s", n.Name, out)
		}
	}

	// Repaired: a, the last node that held it as primary, is promoted.
	c.a.anyway("zone", "promote", zone)
	for _, n := range []*foNode{c.b, c.c} {
		foWaitFor(t, 20*time.Second, n.Name+" no longer keeping "+zone+" for a reason", diag, func() string {
			if why := n.zones()[zone].Catalog; why != "" {
				return why
			}
			return ""
		})
	}

	// On purpose: removed on its primary, it leaves b and c after the
	// hold-down, not at once.
	removed := time.Now()
	c.a.ok("zone", "remove", zone)
	time.Sleep(time.Second)
	for _, n := range []*foNode{c.b, c.c} {
		if _, err := foAuthoritative(n.dns, zone); err != nil && time.Since(removed) < 2*time.Second {
			t.Errorf("%s dropped %s %v after its removal on a, before the hold-down: %v", n.Name, zone, time.Since(removed), err)
		}
	}
	for _, n := range []*foNode{c.b, c.c} {
		foWaitFor(t, 30*time.Second, n.Name+" no longer serving "+zone, diag, func() string {
			if _, ok := n.zones()[zone]; ok {
				return "still in zone list"
			}
			return ""
		})
		// The hold-down is 3 rounds of 1 s from the first read of a's
		// catalog without the zone.
		if gone := time.Since(removed); gone < 3*failoverHealthInterval-200*time.Millisecond {
			t.Errorf("%s removed %s %v after a did: within the hold-down", n.Name, zone, gone)
		}
		backups, _ := filepath.Glob(filepath.Join(n.data, "backup", strings.TrimSuffix(zone, ".")+".zone.*"))
		if len(backups) == 0 {
			t.Errorf("%s's file of %s is not in DATA/backup/", n.Name, zone)
		}
		if !strings.Contains(n.eventsText(zone), "no node serves it as primary") {
			t.Errorf("%s's removal event:\n%s", n.Name, n.eventsText(zone))
		}
	}
}
