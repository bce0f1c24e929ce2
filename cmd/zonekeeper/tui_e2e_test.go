package main

// End-to-end tests of the terminal UI: the real binary runs in tmux
// against a real daemon, driven with send-keys and read with
// capture-pane.

import (
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// tmuxSession is one tmux server of a test, on its own socket, with one
// session running a command in an 80x24 window.
type tmuxSession struct {
	t    *testing.T
	tmux string
	sock string
}

// startTmux runs command in a detached 80x24 tmux session on a server of
// the test's own, killed at the end of the test.
func startTmux(t *testing.T, dir string, command string) *tmuxSession {
	t.Helper()
	bin, err := exec.LookPath("tmux")
	if err != nil {
		t.Fatalf("tmux is needed for the TUI end-to-end test (apt-get install tmux): %v", err)
	}
	s := &tmuxSession{t: t, tmux: bin, sock: filepath.Join(dir, "tmux.sock")}
	s.run("-f", "/dev/null", "new-session", "-d", "-x", "80", "-y", "24", "-s", "zk", command)
	t.Cleanup(func() {
		exec.Command(s.tmux, "-S", s.sock, "kill-server").Run()
	})
	s.run("set-option", "-t", "zk", "remain-on-exit", "on")
	return s
}

func (s *tmuxSession) run(args ...string) string {
	s.t.Helper()
	out, err := exec.Command(s.tmux, append([]string{"-S", s.sock}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// screen is what the pane shows.
func (s *tmuxSession) screen() string { return s.run("capture-pane", "-p", "-t", "zk") }

// keys sends tmux key names (Enter, Tab, Escape, C-c).
func (s *tmuxSession) keys(keys ...string) {
	s.run(append([]string{"send-keys", "-t", "zk"}, keys...)...)
}

// typeText types text literally.
func (s *tmuxSession) typeText(text string) { s.run("send-keys", "-t", "zk", "-l", text) }

// waitFor waits until the pane shows every one of want.
func (s *tmuxSession) waitFor(want ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(cliTimeout)
	for {
		screen := s.screen()
		missing := ""
		for _, w := range want {
			if !strings.Contains(screen, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return screen
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the pane does not show %q within %v:\n%s", missing, cliTimeout, screen)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// secTestZone is what the primary on 127.0.0.2 serves to the secondary
// that the TUI promotes.
const secTestZone = `$TTL 3600
@       IN SOA  ns1.example.org. hostmaster.example.org. 2026112001 3600 900 1209600 300
        IN NS   ns1.example.org.
www     IN A    127.0.0.81
`

// TestTUIEndToEndTmux opens the TUI as plain `zonekeeper` on a terminal,
// finds a zone with /, adds an A record through the form, and checks
// over DNS that the daemon serves it with the new serial; then it
// promotes a secondary zone, transferred from a second daemon on
// 127.0.0.2, through the dialog, and `zone show --json` reports it
// primary.
func TestTUIEndToEndTmux(t *testing.T) {
	d := startCLIDaemon(t)
	s := startTmux(t, d.dir, "env "+controlEnv+"="+d.sock+" "+d.bin)

	s.waitFor("● connected", "example.org.", "example.net.")
	s.typeText("/example.org")
	s.keys("Enter")
	s.waitFor("filter: example.org", "1 of 2")
	s.keys("Enter")
	s.waitFor("example.org. · primary", "serial 2026112101", "record 1 of")

	s.typeText("a")
	s.waitFor("Add a record to example.org.")
	s.typeText("tuitest")
	s.keys("Tab", "Tab", "Tab")
	s.typeText("127.0.0.77")
	s.waitFor("record: tuitest.example.org. 3600 IN A 127.0.0.77", "serial 2026112101 → 2026112102")
	s.keys("Enter")
	s.waitFor("added tuitest.example.org. A 127.0.0.77 · serial 2026112101 → 2026112102")

	if got := d.answers("tuitest.example.org.", dns.TypeA); !slices.Equal(got, []string{"127.0.0.77"}) {
		t.Errorf("tuitest.example.org. A: %v, want 127.0.0.77", got)
	}
	if got := d.serial("example.org."); got != 2026112102 {
		t.Errorf("example.org. serial %d, want 2026112102", got)
	}
	// And as an operator would check it, with dig.
	host, port, _ := net.SplitHostPort(d.dns)
	if r := runDig(t, "@"+host, "-p", port, "+norec", "tuitest.example.org.", "A"); !strings.Contains(r.Out, "flags: qr aa") ||
		!strings.Contains(r.Out, "127.0.0.77") {
		t.Errorf("dig does not get the record added through the form:\n%v", r)
	}
	if r := runDig(t, "@"+host, "-p", port, "+norec", "example.org.", "SOA"); !slices.Equal(soaSerials(r.Records), []uint32{2026112102}) {
		t.Errorf("dig does not see the new serial:\n%v", r)
	}

	// Failover: a second daemon on 127.0.0.2 is the primary of
	// sec.test.; this one becomes its secondary and transfers it, then
	// the TUI promotes it through the dialog.
	primary := startZKNode(t, d.bin, zkOptions{IP: "127.0.0.2", Zones: map[string]string{"sec.test.": secTestZone},
		Flags: []string{"--allow-axfr", "127.0.0.1"}})
	d.ok("zone", "add-secondary", "sec.test.", primary.dns)
	d.eventually("sec.test. transferred from "+primary.dns, func() bool { return d.serial("sec.test.") == 2026112001 })

	s.keys("Escape")
	s.waitFor("[1 Zones]", "filter: example.org")
	s.keys("Escape")
	s.waitFor("sec.test.")
	s.typeText("/sec.test")
	s.keys("Enter")
	s.waitFor("filter: sec.test", "1 of 3")
	s.keys("Enter")
	s.waitFor("sec.test. · secondary", "serial 2026112001", "read-only")
	s.typeText("p")
	s.waitFor("Promote sec.test. to primary", "serial 2026112001, primaries 127.0.0.2:", "DATA/backup/", "y confirm")
	s.typeText("y")
	// Its primary is alive: the daemon's guard refuses, and the TUI
	// shows why in a dialog (docs/architecture.md, "Guarded role changes").
	s.waitFor("Refused: promoting sec.test.", "is alive and serves serial", "promoting would make two primaries", "Nothing changed", "esc close")
	s.keys("Escape")
	s.waitFor("sec.test. · secondary")
	// The primary is lost: now the promotion goes ahead.
	primary.stop()
	s.typeText("p")
	s.waitFor("Promote sec.test. to primary", "y confirm")
	s.typeText("y")
	s.waitFor("promoted to primary: sec.test. (serial 2026112001)")
	s.waitFor("sec.test. · primary")

	if z := d.zone("sec.test."); z.Kind != "primary" || z.Serial != 2026112001 {
		t.Errorf("zone show sec.test. --json after the promotion: kind %q serial %d, want primary 2026112001", z.Kind, z.Serial)
	}

	s.typeText("q")
	deadline := time.Now().Add(cliTimeout)
	for !strings.Contains(s.run("list-panes", "-t", "zk", "-F", "#{pane_dead}"), "1") {
		if time.Now().After(deadline) {
			t.Fatalf("q did not quit the TUI:\n%s", s.screen())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestTUIOnlyOnATerminal: without a terminal, plain `zonekeeper` prints
// its usage (which lists tui) and `zonekeeper tui` refuses.
func TestTUIOnlyOnATerminal(t *testing.T) {
	dir := t.TempDir()
	bin := buildZonekeeper(t, dir)
	out, err := exec.Command(bin).Output()
	if err != nil || !strings.Contains(string(out), "usage: zonekeeper COMMAND") || !strings.Contains(string(out), "tui ") {
		t.Errorf("zonekeeper without a terminal: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "tui", "--control", filepath.Join(dir, "none.sock"))
	out, err = cmd.CombinedOutput()
	if code := exitCode(err); code != 2 || !strings.Contains(string(out), "needs a terminal") {
		t.Errorf("zonekeeper tui without a terminal: exit %d\n%s", code, out)
	}
}

// resetTestZone is the zone of the serial reset test. Its one NS has no
// address anywhere, so the servers the reset waits for are the peers
// only, not NS addresses on the node's dead NOTIFY port.
const resetTestZone = `$TTL 3600
@       IN SOA  ns1.zonekeeper.invalid. hostmaster.reset.test. 2026112101 3600 900 1209600 300
        IN NS   ns1.zonekeeper.invalid.
www     IN A    127.0.0.80
`

// TestTUISerialResetTmux resets reset.test.'s serial from 2026112101
// down to 11 through the TUI, with a zonekeeper secondary on 127.0.0.2
// (a peer of role secondary): the cluster view's zone health lists it in
// sync, the zone view's set-serial shows the daemon's two-step plan, runs
// it on y, and the secondary ends at 11 with the zone's records.
func TestTUISerialResetTmux(t *testing.T) {
	bin := buildZonekeeper(t, t.TempDir())
	d := startZKNode(t, bin, zkOptions{IP: "127.0.0.1", Zones: map[string]string{"reset.test.": resetTestZone}})
	sec := startZKNode(t, bin, zkOptions{IP: "127.0.0.2"})
	d.ok("peer", "add", "b", sec.dns, "--role", "secondary")
	sec.ok("zone", "add-secondary", "reset.test.", d.dns)
	sec.eventually("reset.test. transferred", func() bool { return sec.serial("reset.test.") == 2026112101 })

	s := startTmux(t, d.dir, "env "+controlEnv+"="+d.sock+" "+bin)
	s.waitFor("● connected", "reset.test.")
	s.keys("Enter")
	s.waitFor("reset.test. · primary", "record 1 of")

	s.typeText("5")
	s.waitFor("h zone health")
	s.typeText("h")
	s.waitFor("Zone health: reset.test. · primary · serving · serial 2026112101", sec.dns, "in sync", "Lint (RFC 2182, RFC 1912)")

	s.typeText("2")
	s.waitFor("record 1 of")
	s.typeText("S")
	s.waitFor("Set the serial of reset.test.")
	s.typeText("11")
	s.waitFor("a decrease: 2 steps")
	s.keys("Enter")
	s.waitFor("plan: 2026112101 → 4173595748 → 11 (2 steps, RFC 1982)", "y run · n/esc cancel")
	s.typeText("y")
	screen := s.waitFor("zone reset.test. is at serial 11", "enter/esc close")
	for _, want := range []string{sec.dns + " (peer b) serves 4173595748", sec.dns + " (peer b) serves 11"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the result lacks %q:\n%s", want, screen)
		}
	}
	s.keys("Enter")
	s.waitFor("serial 11 (increment)")

	if got := d.serial("reset.test."); got != 11 {
		t.Errorf("the primary serves serial %d, want 11", got)
	}
	if got := sec.serial("reset.test."); got != 11 {
		t.Errorf("the secondary serves serial %d, want 11", got)
	}
	if got := sec.answers("www.reset.test.", dns.TypeA); !slices.Equal(got, []string{"127.0.0.80"}) {
		t.Errorf("the secondary's www.reset.test. A after the reset: %v, want 127.0.0.80", got)
	}
}
