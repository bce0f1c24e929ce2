package main

// End-to-end tests of `zone promote` and `zone demote` through the real
// binary: a primary on 127.0.0.1 and its secondary on 127.0.0.2; the
// primary is stopped, the secondary takes over, the old primary comes
// back and is demoted, its old zonefile kept in DATA/backup.

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"zonekeeper/daemon/api"
)

func TestCLIPromoteDemote(t *testing.T) {
	t.Parallel()
	bin := buildZonekeeper(t, t.TempDir())
	const one, two = "one.failover.test.", "two.failover.test."
	a := startZKNode(t, bin, zkOptions{IP: primaryIP, Zones: map[string]string{one: replicationZone(t, 10), two: replicationZone(t, 30)},
		Flags: []string{"--allow-axfr", "127.0.0.2,127.0.0.3"}})
	b := startZKNode(t, bin, zkOptions{IP: secondaryIP, Flags: []string{"--allow-axfr", "127.0.0.1,127.0.0.3"}})
	for _, z := range []string{one, two} {
		b.ok("zone", "add-secondary", z, a.dns)
	}
	waitSerial(t, b.dns, one, 10, propagationTimeout, func() string { return b.eventsText(one) })
	waitSerial(t, b.dns, two, 30, propagationTimeout, func() string { return b.eventsText(two) })
	oldFile, err := os.ReadFile(filepath.Join(a.data, "zones", "one.failover.test.zone"))
	if err != nil {
		t.Fatal(err)
	}

	// Usage errors.
	b.refused(2, "NAME", "zone", "promote")
	b.refused(2, "--from goes with --all", "zone", "promote", one, "--from", "127.0.0.1")
	b.refused(2, "--primary", "zone", "demote", one)

	a.stop() // the primary is lost

	// promote NAME: served as a primary, edits accepted.
	out := b.ok("zone", "promote", one)
	if !strings.Contains(out, "promoted zone "+one+" to primary at serial 10") {
		t.Errorf("promote said %q", out)
	}
	z := b.zone(one)
	if z.Kind != api.KindPrimary || z.State != api.StateServing || z.Serial != 10 {
		t.Errorf("after promote: %s %s %d", z.Kind, z.State, z.Serial)
	}
	if res := b.edit("add", one, "new", "A", "127.0.0.99"); res.NewSerial != 11 {
		t.Errorf("edit after promote: %+v", res)
	}
	waitSerial(t, b.dns, one, 11, propagationTimeout, func() string { return b.eventsText(one) })

	// promote --all --from: the other zone of that primary.
	var all api.PromoteResult
	b.json(&all, "zone", "promote", "--all", "--from", a.dns)
	if len(all.Zones) != 1 || all.Zones[0].Zone != two || all.Zones[0].Error != "" || all.Zones[0].Serial != 30 {
		t.Errorf("promote --all --from %s: %+v", a.dns, all)
	}
	if z := b.zone(two); z.Kind != api.KindPrimary {
		t.Errorf("%s is %s", two, z.Kind)
	}
	out = b.ok("zone", "promote", "--all", "--from", "127.0.0.1")
	if !strings.Contains(out, "nothing promoted") {
		t.Errorf("second promote --all said %q", out)
	}

	// The old primary comes back with its old state, and is demoted.
	a.start(one, two)
	// With b as its peer, it sees that b is ahead: split-brain. b counts
	// a as its peer too, so that each answers the other's zone state
	// queries with its role (the demote guard asks b).
	a.ok("peer", "add", "b", b.dns)
	b.ok("peer", "add", "a", a.dns)
	if r := a.run("zone", "health", one); r.code != 1 || !strings.Contains(r.stderr, "split-brain") || !strings.Contains(r.stdout, "b ") {
		t.Errorf("zone health %s on the returning primary: %v", one, r)
	}
	if z := a.zone(one); z.State != api.StateSplitBrain || z.PeersInSync != "0/1" || len(z.Peers) != 1 || z.Peers[0].Serial != 11 {
		t.Errorf("returning primary: state %s, in sync %s, peers %+v", z.State, z.PeersInSync, z.Peers)
	}
	a.waitEvent(one, 0, propagationTimeout, "split-brain", func(ev api.Event) bool {
		return ev.Kind == "split-brain" && strings.Contains(ev.Detail, "at serial 11")
	})
	var dem api.DemoteResult
	a.json(&dem, "zone", "demote", one, "--primary", b.dns)
	if dem.OldSerial != 10 || dem.Zone.Serial != 11 || dem.Zone.Kind != api.KindSecondary || dem.From != b.dns {
		t.Errorf("demote: %+v", dem)
	}
	kept, err := os.ReadFile(dem.Backup)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(kept, oldFile) {
		t.Errorf("%s is not the old zonefile byte for byte", dem.Backup)
	}
	if filepath.Dir(dem.Backup) != filepath.Join(a.data, "backup") || !strings.HasPrefix(filepath.Base(dem.Backup), "one.failover.test.10.") {
		t.Errorf("backup path %s", dem.Backup)
	}
	waitSerial(t, a.dns, one, 11, propagationTimeout, func() string { return a.eventsText(one) })
	if got := a.answers("new."+one, 1); len(got) != 1 || !strings.Contains(got[0], "127.0.0.99") {
		t.Errorf("new.%s on the demoted node: %v", one, got)
	}
	out = a.ok("zone", "show", one)
	if !strings.Contains(out, "expires in") {
		t.Errorf("zone show of the demoted zone lacks its expire clock:\n%s", out)
	}
	// The zone's NS answer nowhere (ns-port is a dead port): lame-ns lint
	// errors make the exit status 1, but there is no split-brain.
	if r := a.run("zone", "health", one); !strings.Contains(r.stdout, "in sync 1/1") || r.code != 1 || strings.Contains(r.stderr, "split-brain") || !strings.Contains(r.stderr, "lint error: lame-ns") {
		t.Errorf("zone health of the demoted zone: %v", r)
	}
	a.refused(1, "already a secondary", "zone", "demote", one, "--primary", b.dns)
}
