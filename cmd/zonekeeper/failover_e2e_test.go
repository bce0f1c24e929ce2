package main

// Failover end to end (issue 5, "Must show"): three real zonekeeper
// processes on 127.0.0.1 (a), 127.0.0.2 (b) and 127.0.0.3 (c), driven
// only through the binary's client verbs and DNS. A cluster is set up
// with `key add` and `peer add` alone; the primary is killed, a
// secondary promoted, the old primary restarted on its stale state and
// demoted. A step whose verb this binary lacks is skipped, saying so;
// a verb that exists and misbehaves fails the test.

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"zonekeeper/daemon/api"
)

// Zones of the failover tests: a is their first primary.
const (
	foZone1 = "fo1.failover.test." // promoted by name on b, then demoted on a
	foZone2 = "fo2.failover.test." // promoted on c by promote --all --from a
	foZone3 = "fo3.failover.test." // likewise
	foAdded = "added.failover.test."
)

// provisionTimeout is the bound: b and c serve a's zones within
// 5 s of the last `peer add`.
const provisionTimeout = 5 * time.Second

// TestFailoverHarness proves the three-node harness with the per-zone
// configuration that predates peers (add-secondary, ALSO-NOTIFY): b and
// c follow a; with a killed by SIGKILL they keep answering
// authoritatively; a restarted on its data serves again.
func TestFailoverHarness(t *testing.T) {
	c := startFailoverCluster(t, map[string]string{foZone1: replicationZone(t, 10)})
	c.staticReplication(foZone1)
	for _, n := range []*foNode{c.b, c.c} {
		d := waitSerial(t, n.dns, foZone1, 10, propagationTimeout, c.diag(foZone1))
		t.Logf("%s serves %s at 10 after %v", n.Name, foZone1, d.Round(time.Millisecond))
	}
	res := c.a.edit("add", foZone1, "harness", "A", "127.0.0.91")
	for _, n := range []*foNode{c.b, c.c} {
		d := waitSerial(t, n.dns, foZone1, res.NewSerial, propagationTimeout, c.diag(foZone1))
		t.Logf("edit on a (serial %d) served by %s after %v", res.NewSerial, n.Name, d.Round(time.Millisecond))
		if got := lookupA(t, n.dns, "harness."+foZone1); !slices.Equal(got, []string{"127.0.0.91"}) {
			t.Errorf("%s: harness.%s A = %v, want [127.0.0.91]", n.Name, foZone1, got)
		}
	}

	c.a.kill()
	if _, err := soaSerial(c.a.dns, foZone1); err == nil {
		t.Fatalf("a still answers after SIGKILL")
	}
	for _, n := range []*foNode{c.b, c.c} {
		if s, err := foAuthoritative(n.dns, foZone1); err != nil || s != res.NewSerial {
			t.Errorf("%s with a dead: serial %d, %v; want %d, authoritative", n.Name, s, err, res.NewSerial)
		}
		if z := n.zones()[foZone1]; z.Kind != api.KindSecondary || z.Serial != res.NewSerial {
			t.Errorf("%s: zone list says %+v", n.Name, z)
		}
	}

	c.a.start(foZone1)
	if s, err := foAuthoritative(c.a.dns, foZone1); err != nil || s != res.NewSerial {
		t.Errorf("a restarted: serial %d, %v; want %d", s, err, res.NewSerial)
	}
}

// TestFailoverCluster is the failover story of issue 5, step by step on
// one cluster; each step needs the previous ones.
func TestFailoverCluster(t *testing.T) {
	zones := map[string]string{
		foZone1: replicationZone(t, 100),
		foZone2: replicationZone(t, 200),
		foZone3: replicationZone(t, 300),
	}
	c := startFailoverCluster(t, zones)
	root := t
	var (
		serial1 = uint32(100) // fo1's serial on a
		bSerial uint32        // fo1's serial on b once promoted and edited
		static  bool          // no `peer` verb: set up with add-secondary and ALSO-NOTIFY
	)
	steps := []struct {
		name     string
		run      func(t *testing.T)
		optional bool // when skipped, the later steps still make sense
	}{
		{"peers provision the zones", func(t *testing.T) {
			if r := c.a.run("peer", "list"); foMissingVerb(r) {
				// The later steps can still run on the per-zone set-up.
				static = true
				c.staticReplication(foZone1, foZone2, foZone3)
				for _, n := range []*foNode{c.b, c.c} {
					waitSerial(t, n.dns, foZone3, 300, propagationTimeout, c.diag(foZone3))
				}
				t.Skipf("not implemented yet: `zonekeeper peer`: %s; configured b and c with add-secondary and ALSO-NOTIFY instead", strings.TrimSpace(r.stderr))
			}
			last := c.peerMesh()
			for _, n := range []*foNode{c.b, c.c} {
				for origin, serial := range map[string]uint32{foZone1: 100, foZone2: 200, foZone3: 300} {
					foWaitFor(t, provisionTimeout-time.Since(last), n.Name+" serves "+origin, c.diag(origin), func() string {
						s, err := foAuthoritative(n.dns, origin)
						if err != nil {
							return err.Error()
						}
						if s != serial {
							return fmt.Sprintf("serial %d, want %d", s, serial)
						}
						return ""
					})
				}
				if k := n.kindOf(foZone1); k != api.KindSecondary {
					t.Errorf("%s: %s is a %q zone, want secondary", n.Name, foZone1, k)
				}
			}
			t.Logf("b and c serve the three zones %v after the last peer add", time.Since(last).Round(time.Millisecond))
		}, true},
		{"an edit on a reaches b and c", func(t *testing.T) {
			res := c.a.edit("add", foZone1, "edit-a", "A", "127.0.0.61")
			serial1 = res.NewSerial
			for _, n := range []*foNode{c.b, c.c} {
				d := waitSerial(t, n.dns, foZone1, serial1, propagationTimeout, c.diag(foZone1))
				t.Logf("serial %d on %s after %v", serial1, n.Name, d.Round(time.Millisecond))
				if got := lookupA(t, n.dns, "edit-a."+foZone1); !slices.Equal(got, []string{"127.0.0.61"}) {
					t.Errorf("%s: edit-a A = %v", n.Name, got)
				}
			}
		}, false},
		{"a zone added on a appears on b and c, removed disappears", func(t *testing.T) {
			writeTestFile(t, filepath.Join(c.a.data, "zones", strings.TrimSuffix(foAdded, ".")+".zone"), replicationZone(t, 42))
			for _, n := range []*foNode{c.b, c.c} {
				d := waitSerial(t, n.dns, foAdded, 42, propagationTimeout, c.diag(foAdded))
				t.Logf("%s on %s after %v", foAdded, n.Name, d.Round(time.Millisecond))
			}
			c.a.ok("zone", "remove", foAdded)
			for _, n := range []*foNode{c.b, c.c} {
				foWaitFor(t, propagationTimeout, foAdded+" gone from "+n.Name, c.diag(foAdded), func() string {
					if s, err := soaSerial(n.dns, foAdded); err == nil {
						return fmt.Sprintf("still served at %d", s)
					}
					if z, ok := n.zones()[foAdded]; ok {
						return "still listed: " + foCompact(z)
					}
					return ""
				})
				if b := n.backups(foAdded); len(b) == 0 {
					t.Errorf("%s: no file of %s kept in %s", n.Name, foAdded, filepath.Join(n.data, "backup"))
				} else {
					t.Logf("%s kept %v", n.Name, b)
				}
			}
		}, true},
		{"a killed: b and c keep answering", func(t *testing.T) {
			c.a.kill()
			for _, n := range []*foNode{c.b, c.c} {
				for _, origin := range []string{foZone1, foZone2, foZone3} {
					if _, err := foAuthoritative(n.dns, origin); err != nil {
						t.Errorf("%s with a dead: %v", n.Name, err)
					}
				}
			}
		}, false},
		{"b and c count down to expire in zone show --json", func(t *testing.T) {
			for _, n := range []*foNode{c.b, c.c} {
				if len(foExpireFields(n.zoneJSON(foZone1))) == 0 {
					t.Skipf("not implemented yet: no expire field in `zone show --json` on %s: %s", n.Name, foCompact(n.zoneJSON(foZone1)["state"]))
				}
				// The countdown appears once a check of a has failed.
				foWaitFor(t, propagationTimeout, n.Name+": expire countdown in zone show --json", c.diag(foZone1), func() string {
					// A number of seconds, counting down from the SOA
					// expire (1209600 in the test zone).
					f := foExpireFields(n.zoneJSON(foZone1))
					for _, v := range f {
						if x, ok := v.(float64); ok && x > 0 && x < 1209600 {
							return ""
						}
					}
					return "no expire field counting down from 1209600: " + foCompact(f)
				})
				t.Logf("%s: %s", n.Name, foCompact(foExpireFields(n.zoneJSON(foZone1))))
			}
		}, true},
		{"promote on b: b is primary, c follows b", func(t *testing.T) {
			start := time.Now()
			c.b.need("zone", "promote", foZone1)
			t.Logf("zone promote took %v", time.Since(start).Round(time.Millisecond))
			if z := c.b.zone(foZone1); z.Kind != api.KindPrimary || z.Serial != serial1 {
				t.Errorf("b: zone show after promote: kind %q serial %d, want primary %d", z.Kind, z.Serial, serial1)
			}
			if st := c.b.statusJSON(); !strings.Contains(foCompact(st["by_kind"]), `"primary":1`) {
				t.Errorf("b: status by_kind %s, want one primary zone", foCompact(st["by_kind"]))
			}
			if _, err := os.Stat(filepath.Join(c.b.data, "zones", strings.TrimSuffix(foZone1, ".")+".zone")); err != nil {
				t.Errorf("b: the promoted zone's file: %v", err)
			}
			res := c.b.edit("add", foZone1, "edit-b", "A", "127.0.0.62")
			bSerial = res.NewSerial
			if s, err := foAuthoritative(c.b.dns, foZone1); err != nil || s != bSerial {
				t.Errorf("b after its edit: serial %d, %v; want %d", s, err, bSerial)
			}
			d := waitSerial(t, c.c.dns, foZone1, bSerial, propagationTimeout, c.diag(foZone1))
			t.Logf("edit on b (serial %d) served by c after %v", bSerial, d.Round(time.Millisecond))
			if got := lookupA(t, c.c.dns, "edit-b."+foZone1); !slices.Equal(got, []string{"127.0.0.62"}) {
				t.Errorf("c: edit-b A = %v", got)
			}
		}, false},
		{"a restarted stale: split-brain, no stale NOTIFY, demote", func(t *testing.T) {
			since := time.Now()
			c.a.start() // serving its stale version or not is its choice
			// c, b's secondary, serves b's serial too and may be named
			// as well; the event that matters names b.
			namesB := func(ev api.Event) bool {
				return strings.Contains(ev.Peer+" "+ev.Detail, c.b.IP) || strings.EqualFold(ev.Peer, c.b.Name)
			}
			ev := c.a.waitEvent(foZone1, 0, failoverHealthInterval+5*time.Second, "split-brain naming b", func(ev api.Event) bool {
				return strings.Contains(ev.Kind, "split") && ev.Time.After(since.Add(-time.Second)) && namesB(ev)
			})
			t.Logf("a, %v after its restart: %s", ev.Time.Sub(since).Round(time.Millisecond), eventLine(ev))
			text := ev.Peer + " " + ev.Detail
			for _, s := range []uint32{serial1, bSerial} {
				if !strings.Contains(text, strconv.FormatUint(uint64(s), 10)) && ev.Serial != s {
					t.Errorf("the split-brain event does not give serial %d: %s", s, eventLine(ev))
				}
			}
			// A does not push its stale version: c keeps b's serial.
			time.Sleep(2 * failoverHealthInterval)
			if s, err := soaSerial(c.c.dns, foZone1); err != nil || s != bSerial {
				t.Errorf("c after a's return: serial %d, %v; want b's %d", s, err, bSerial)
			}
			for _, e := range c.a.events(foZone1) {
				if e.Kind == "notify-out" && e.Outcome == api.OutcomeOK && e.Time.After(since) && e.Serial == serial1 {
					t.Errorf("a NOTIFYed its stale version: %s", eventLine(e))
				}
			}

			var splits []string
			for _, e := range c.a.events(foZone1) {
				if strings.Contains(e.Kind, "split") || (e.Kind == "notify-out" && e.Time.After(since)) {
					splits = append(splits, eventLine(e))
				}
			}
			t.Logf("a's split-brain and NOTIFY events since its restart:\n%s", strings.Join(splits, "\n"))

			before := c.a.backups(foZone1)
			c.a.need("zone", "demote", foZone1, "--primary", c.b.dns, "--tsig", c.key.Name)
			want := fmt.Sprintf("%s.%d.", strings.TrimSuffix(foZone1, "."), serial1)
			var kept []string
			for _, b := range c.a.backups(foZone1) {
				if !slices.Contains(before, b) && strings.HasPrefix(b, want) && strings.HasSuffix(b, ".zone") {
					kept = append(kept, b)
				}
			}
			if len(kept) != 1 {
				t.Errorf("a's DATA/backup after demote: %v, want one new %s<timestamp>.zone", c.a.backups(foZone1), want)
			}
			waitSerial(t, c.a.dns, foZone1, bSerial, propagationTimeout, c.diag(foZone1))
			if got := lookupA(t, c.a.dns, "edit-b."+foZone1); !slices.Equal(got, []string{"127.0.0.62"}) {
				t.Errorf("a after demote: edit-b A = %v", got)
			}
			if k := c.a.kindOf(foZone1); k != api.KindSecondary {
				t.Errorf("a after demote: %s is %q, want secondary", foZone1, k)
			}
		}, false},
		{"promote --all --from a on c", func(t *testing.T) {
			t.Logf("c before: %s from %v", foZone1, c.c.zone(foZone1).Primaries)
			// a is alive and primary of fo2 and fo3: the guard refuses
			// each zone (issue 16), and --force promotes them, saying so.
			r := c.c.run("zone", "promote", "--all", "--from", c.a.dns)
			if r.code != 1 || !strings.Contains(r.stdout, "is alive and serves serial") {
				t.Errorf("promote --all --from a while a is alive: want each zone refused: %v", r)
			}
			if k := c.c.kindOf(foZone2); k != api.KindSecondary {
				t.Errorf("c after the refused promote --all: %s is %q", foZone2, k)
			}
			out := c.c.need("zone", "promote", "--all", "--from", c.a.dns, "--force")
			if !strings.Contains(out, "--force overrode: ") {
				t.Errorf("promote --all --force does not say what it overrode: %s", out)
			}
			zs := c.c.zones()
			for _, origin := range []string{foZone2, foZone3} {
				if zs[origin].Kind != api.KindPrimary {
					t.Errorf("c after promote --all --from a: %s is %s", origin, foCompact(zs[origin]))
				}
			}
			for name, z := range zs {
				if z.Kind == api.KindSecondary && slices.Contains(z.Primaries, c.a.dns) {
					t.Errorf("c after promote --all --from a: %s is still a secondary of a: %s", name, foCompact(z))
				}
			}
			t.Logf("c: %s is %q after promote --all --from a (it followed b)", foZone1, zs[foZone1].Kind)
		}, false},
	}
	for _, s := range steps {
		done := false
		t.Run(s.name, func(t *testing.T) {
			c.setT(t)
			defer c.setT(root)
			if static && s.name == "a zone added on a appears on b and c, removed disappears" {
				t.Skip("needs peers (catalog zones)")
			}
			s.run(t)
			done = true
		})
		if !done && s.optional && !t.Failed() {
			continue // skipped: what follows does not need it
		}
		if !done {
			t.Logf("stopping after %q: the later steps need it", s.name)
			return
		}
	}
}
