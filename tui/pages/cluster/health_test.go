package cluster

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"zonekeeper/daemon/api"
	"zonekeeper/tui/common"
)

// healthDaemon answers the zone health of the pane; it counts the
// requests, which probe every server live and must not repeat per frame.
type healthDaemon struct {
	fakeDaemon
	asked []string
	z     map[string]*api.Zone
	err   error
}

func (f *healthDaemon) ZoneHealth(_ context.Context, zone string) (*api.Zone, error) {
	f.asked = append(f.asked, zone)
	if f.err != nil {
		return nil, f.err
	}
	return f.z[zone], nil
}

// now is the clock of newModel.
var now = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// healthZone is p.example. served here and by two secondaries, one in
// sync and one stuck (unreachable for ten minutes), with lint findings.
func healthZone() *api.Zone {
	return &api.Zone{Name: "p.example.", Kind: api.KindPrimary, State: api.StateServing, Serial: 2147484647,
		Servers: []api.ServerState{
			{Addr: "127.0.0.4:5377", Sources: []string{"self"}, Reachable: true, Authoritative: true, HasSerial: true, Serial: 2147484647, InSync: true, LastSync: now},
			{Addr: "127.0.0.5:5377", Sources: []string{"ns ns2.p.example.", "peer nb"}, Reachable: true, Authoritative: true, HasSerial: true, Serial: 1000, Lag: 2147483647,
				LastSync: now.Add(-3 * time.Minute)},
			{Addr: "127.0.0.6:5377", Sources: []string{"also-notify"}, Stealth: true, LastSync: now.Add(-10 * time.Minute),
				Error: "read udp 127.0.0.1:40000->127.0.0.6:5377: i/o timeout"},
		},
		Lint: []api.LintFinding{
			{Severity: api.LintError, Rule: "lame-ns", RFC: "RFC 1912 §2.8", Detail: "ns3.p.example. (127.0.0.6) does not answer authoritatively for p.example."},
			{Severity: api.LintWarning, Rule: "few-ns", RFC: "RFC 2182 §5", Detail: "only 2 NS: 3 or more are advised"},
			{Severity: api.LintWarning, Rule: "ns-one-network", RFC: "RFC 2182 §3.1", Detail: "every NS address is in 127.0.0.0/24"},
		}}
}

func healthModel(f *healthDaemon) *Model {
	m := newModel(&f.fakeDaemon)
	m.Daemon = f
	m.health.table.Common.Daemon = f
	m.SetSize(80, 22)
	return m
}

// runQuick runs cmd and what it leads to like run, but drops commands
// that do not return at once: the health pane's slow tick.
func runQuick(m *Model, cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	ch := make(chan tea.Msg, 1)
	go func() { ch <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-ch:
	case <-time.After(200 * time.Millisecond):
		return
	}
	if b, ok := msg.(tea.BatchMsg); ok {
		for _, c := range b {
			runQuick(m, c)
		}
		return
	}
	if msg != nil {
		runQuick(m, m.Update(msg))
	}
}

func press(m *Model, s string) tea.Cmd {
	return m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)})
}

// checkFits fails when the view is not exactly width × height.
func checkFits(t *testing.T, v string, width, height int) {
	t.Helper()
	lines := strings.Split(v, "\n")
	if len(lines) != height {
		t.Errorf("the view has %d lines, want %d:\n%s", len(lines), height, v)
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w > width {
			t.Errorf("line %d is %d cells wide, more than %d: %q", i+1, w, width, l)
		}
	}
}

// TestTUIClusterHealthPane renders the health of a zone with an
// unreachable (stuck) secondary and lint findings at 80x24: the root
// takes two lines, so the view gets 80x22.
func TestTUIClusterHealthPane(t *testing.T) {
	f := &healthDaemon{z: map[string]*api.Zone{"p.example.": healthZone()}}
	m := healthModel(f)
	runQuick(m, m.Update(common.OpenZoneMsg{Name: "p.example."}))
	if len(f.asked) != 0 {
		t.Fatalf("the health was asked before the pane was shown: %v", f.asked)
	}
	runQuick(m, m.SetActive(true))
	if len(f.asked) != 0 {
		t.Fatalf("the failover pane asked for the health: %v", f.asked)
	}
	// h: the pane shows "checking…" until the answer comes.
	cmd := press(m, "h")
	if v := m.View(); !strings.Contains(v, "checking…") {
		t.Errorf("no checking… while the request is under way:\n%s", v)
	}
	runQuick(m, cmd)
	if len(f.asked) != 1 || f.asked[0] != "p.example." {
		t.Fatalf("health requests: %v, want [p.example.]", f.asked)
	}
	v := m.View()
	t.Logf("\n%s", v)
	checkFits(t, v, 80, 22)
	for _, want := range []string{
		"Zone health: p.example. · primary · serving · serial 2147484647",
		"3 servers · 1 in sync · 1 UNREACHABLE · checked 0s ago",
		"ADDR", "SOURCE", "AA", "SERIAL", "LAG", "STATE",
		"127.0.0.4:5377   self",
		"yes 2147484647          0 in sync     0s ago",
		"127.0.0.5:5377   ns ns2.p.exa… yes       1000 2147483647 lagging     3m ago",
		"127.0.0.6:5377   also-notify … —            —          — UNREACHABLE 10m ago",
		"Lint (RFC 2182, RFC 1912): 1 error, 2 warnings",
		"server 1 of 3 · [ ] other zone · ctrl+r check again · h failover",
		"ERR  lame-ns (RFC 1912 §2.8): ns3.p.example. (127.0.0.6) does not answer",
		"       authoritatively for p.example.",
		"warn few-ns (RFC 2182 §5)",
		"warn ns-one-network (RFC 2182 §3.1)",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("the health pane lacks %q", want)
		}
	}
	// The stuck server's error shows in full under the table.
	runQuick(m, press(m, "G"))
	if v := m.View(); !strings.Contains(v, "127.0.0.6:5377: also-notify · UNREACHABLE · stealth (not NS-listed)") || !strings.Contains(v, "i/o timeout") {
		t.Errorf("the selected server's detail lacks its error:\n%s", v)
	}
	// Rendering again asks nothing; ctrl+r asks once more.
	for range 10 {
		m.View()
	}
	if len(f.asked) != 1 {
		t.Errorf("rendering asked the daemon: %v", f.asked)
	}
	runQuick(m, m.Update(tea.KeyMsg{Type: tea.KeyCtrlR}))
	if len(f.asked) != 2 {
		t.Errorf("ctrl+r: %d requests, want 2", len(f.asked))
	}
}

// TestTUIClusterHealthTickAndZones checks the slow tick (only while the
// pane is shown), [ and ] and an error shown inline.
func TestTUIClusterHealthTickAndZones(t *testing.T) {
	f := &healthDaemon{z: map[string]*api.Zone{"p.example.": healthZone()}}
	m := healthModel(f)
	runQuick(m, m.SetActive(true))
	press(m, "h") // not run: the first zone is asked
	if m.health.zone != "a.example." {
		t.Fatalf("the pane shows %q, want the first zone a.example.", m.health.zone)
	}
	m.Update(healthMsg{seq: m.health.seq, zone: "a.example.", err: errors.New("zone a.example. is not served")})
	v := m.View()
	if !strings.Contains(v, "error: zone a.example. is not served") {
		t.Errorf("the error is not shown inline:\n%s", v)
	}
	checkFits(t, v, 80, 22)

	// The tick of the current chain checks again while shown ...
	f.asked = nil
	gen := m.health.tickGen
	cmd := m.Update(healthTickMsg{gen})
	if cmd == nil {
		t.Fatal("the tick of the shown pane did nothing")
	}
	// ... and stops when the view is left, or the chain is old.
	m.health.checking = false
	m.SetActive(false)
	if cmd := m.Update(healthTickMsg{m.health.tickGen}); cmd != nil {
		t.Error("the tick checks while the view is not shown")
	}
	if cmd := m.Update(healthTickMsg{gen - 1}); cmd != nil {
		t.Error("an old tick chain still runs")
	}

	runQuick(m, m.SetActive(true))
	f.asked = nil
	for _, want := range []string{"b.example.", "c.example.", "p.example."} {
		runQuick(m, press(m, "]"))
		if m.health.zone != want {
			t.Errorf("] shows %q, want %q", m.health.zone, want)
		}
	}
	if len(f.asked) != 3 || f.asked[2] != "p.example." {
		t.Errorf("health requests: %v", f.asked)
	}
	runQuick(m, press(m, "["))
	if m.health.zone != "c.example." {
		t.Errorf("[ shows %q, want c.example.", m.health.zone)
	}
	// h goes back to the failover pane.
	runQuick(m, press(m, "h"))
	if v := m.View(); !strings.Contains(v, "Cluster: peers, reachability and failover") {
		t.Errorf("h does not go back to the failover pane:\n%s", v)
	}
}
