package tui

import (
	"strings"
	"testing"
)

// TestTUIHealthAndSetSerial runs the cluster view's zone health and the
// zone view's set-serial against a real daemon. example.org. has one
// stealth secondary that never answers (ALSO-NOTIFY to a port where
// nothing listens): the health pane marks it unreachable, next to the
// lint findings of its single NS; a serial reset stops at its first step
// and names it; without it, the reset runs to the end.
func TestTUIHealthAndSetSerial(t *testing.T) {
	d := startDaemon(t)
	d.addZone("example.org.", exampleOrg)
	ctx := d.ctx()
	if err := d.client.SetMeta(ctx, "example.org.", "ALSO-NOTIFY", []string{d.dead}); err != nil {
		t.Fatal(err)
	}
	r := runTUI(t, d, 80, 24)
	r.waitFor("● connected", "example.org.")

	// Zone health of the zone opened last.
	r.keys("enter", "wait:record 1 of", "5", "wait:h zone health", "h")
	s := r.waitFor("Zone health: example.org. · primary · serving · serial 2026112101", "UNREACHABLE", "Lint (RFC 2182, RFC 1912)")
	for _, want := range []string{"self", "ALSO-NOTIFY", d.dead, "ERR  too-few-ns (RFC 2182 §5)", "server 1 of 2"} {
		if !strings.Contains(s, want) {
			t.Errorf("the health pane lacks %q:\n%s", want, s)
		}
	}
	r.keys("down")
	r.waitFor(d.dead+": ALSO-NOTIFY · UNREACHABLE · stealth (not NS-listed)", "server 2 of 2")

	// A reset down to 11 stops at its first step: the stealth
	// secondary never follows.
	r.keys("2", "S", "11", "tab", "ctrl+u", "1s", "enter")
	r.waitFor("plan: 2026112101 → 4173595748 → 11 (2 steps, RFC 1982)", "y run · n/esc cancel")
	r.keys("y")
	s = r.waitFor("✗ stopped:", "enter/esc close")
	flat := strings.Join(strings.Fields(strings.ReplaceAll(s, "│", " ")), " ")
	for _, want := range []string{"server " + d.dead + " (ALSO-NOTIFY) did not reach serial 4173595748", "left at serial 4173595748 (step 1 of 2)"} {
		if !strings.Contains(flat, want) {
			t.Errorf("the stop lacks %q:\n%s", want, s)
		}
	}
	if z := d.zone("example.org."); z.Serial != 4173595748 {
		t.Errorf("after the stop the zone is at serial %d, want 4173595748", z.Serial)
	}

	// Without the stuck secondary the reset finishes.
	if err := d.client.SetMeta(ctx, "example.org.", "ALSO-NOTIFY", nil); err != nil {
		t.Fatal(err)
	}
	r.keys("esc", "wait:serial 4173595748", "S", "11", "enter", "wait:y run · n/esc cancel", "y")
	s = r.waitFor("✓ zone example.org. is at serial 11", "enter/esc close")
	if !strings.Contains(s, "plan: 4173595748 → 11, an increase: one step") {
		t.Errorf("the result lacks the plan:\n%s", s)
	}
	r.keys("enter")
	r.waitFor("serial 11 (increment)")
	if z := d.zone("example.org."); z.Serial != 11 {
		t.Errorf("the zone is at serial %d, want 11", z.Serial)
	}
}
