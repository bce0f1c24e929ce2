package zone

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"zonekeeper/daemon/api"
	"zonekeeper/tui/common"
)

// serialDaemon answers set-serial as the daemon does for a zone at
// serial 1000 whose servers follow, or with stuck set, whose secondary
// 127.0.0.6 does not follow the first step.
type serialDaemon struct {
	failoverDaemon
	stuck bool
	reqs  []api.SetSerialRequest
}

func (f *serialDaemon) SetSerial(_ context.Context, zone string, req api.SetSerialRequest) (*api.SetSerialResult, error) {
	f.reqs = append(f.reqs, req)
	res := &api.SetSerialResult{Zone: zone, OldSerial: 1000, Serial: 1000, Plan: []uint32{2147484647, 11}, DryRun: req.DryRun,
		Log: []string{"plan: 1000 -> 2147484647 -> 11 (2 steps, RFC 1982)"}}
	if req.DryRun {
		res.Log = append(res.Log, "dry run: nothing changed")
		return res, nil
	}
	if f.stuck {
		return nil, &api.Error{Code: api.CodeUpstream, Message: "server 127.0.0.6:5377 (also-notify) did not reach serial 2147484647 within 1s: i/o timeout; " +
			"zone " + zone + " is left at serial 2147484647 (step 1 of 2); run set-serial again once it follows"}
	}
	res.Serial = 11
	res.Log = append(res.Log,
		"step 1/2: serial 1000 -> 2147484647", "  127.0.0.5:5377 (peer nb) serves 2147484647",
		"step 2/2: serial 2147484647 -> 11", "  127.0.0.5:5377 (peer nb) serves 11",
		"zone "+zone+" is at serial 11")
	return res, nil
}

// Zone answers the view's reload after the procedure.
func (f *serialDaemon) Zone(_ context.Context, name string) (*api.ZoneDetail, error) {
	z := testZone()
	z.Serial = 1000
	if len(f.reqs) > 0 && !f.reqs[len(f.reqs)-1].DryRun && !f.stuck {
		z.Serial = 11
	}
	return z, nil
}

func serialModel(f *serialDaemon) *Model {
	z := testZone()
	z.Serial = 1000
	m := failoverModel(&f.failoverDaemon, z)
	m.Daemon = f
	m.SetSize(80, 22)
	return m
}

// drain runs the commands of cmd that answer at once and hands their
// messages to m; the spinner's tick is left out.
func drain(m *Model, cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	ch := make(chan tea.Msg, 1)
	go func() { ch <- cmd() }()
	select {
	case msg := <-ch:
		if b, ok := msg.(tea.BatchMsg); ok {
			for _, c := range b {
				drain(m, c)
			}
			return
		}
		if msg != nil {
			drain(m, m.Update(msg))
		}
	case <-time.After(100 * time.Millisecond):
	}
}

func checkFits(t *testing.T, v string, width, height int) {
	t.Helper()
	lines := strings.Split(v, "\n")
	if len(lines) > height {
		t.Errorf("the view has %d lines, more than %d:\n%s", len(lines), height, v)
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w > width {
			t.Errorf("line %d is %d cells wide, more than %d: %q", i+1, w, width, l)
		}
	}
}

// wantAll checks that the view says every one of want, read as one
// text: without the box's borders, its wrapped lines joined.
func wantAll(t *testing.T, what, v string, want ...string) {
	t.Helper()
	flat := strings.Join(strings.Fields(strings.ReplaceAll(v, "│", " ")), " ")
	for _, w := range want {
		if !strings.Contains(flat, strings.Join(strings.Fields(w), " ")) {
			t.Errorf("%s lacks %q:\n%s", what, w, v)
		}
	}
}

// TestTUIZoneSetSerialFlow walks form → plan → confirm → progress →
// result at 80x24 (the view gets 80x22).
func TestTUIZoneSetSerialFlow(t *testing.T) {
	f := &serialDaemon{}
	m := serialModel(f)
	typeKeys(m, "S")
	if m.reset == nil || !m.Modal() {
		t.Fatalf("S opened no form:\n%s", m.View())
	}
	typeKeys(m, "11")
	v := m.View()
	checkFits(t, v, 80, 22)
	wantAll(t, "the form", v, "Set the serial of example.org. (RFC 2182 §7)", "a decrease: 2 steps, 1000 → 2147484647 → 11", "60s", "enter asks the daemon for the plan")

	drain(m, m.Update(tea.KeyMsg{Type: tea.KeyEnter}))
	if len(f.reqs) != 1 || !f.reqs[0].DryRun || f.reqs[0].Serial != 11 || f.reqs[0].TimeoutSeconds != 60 {
		t.Fatalf("requests after enter: %+v, want one dry run to 11 with 60 s", f.reqs)
	}
	v = m.View()
	checkFits(t, v, 80, 22)
	wantAll(t, "the plan", v, "⚠ Set the serial of example.org.: 1000 → 11", "plan: 1000 → 2147484647 → 11 (2 steps, RFC 1982)", "within 1m before the next", "y run · n/esc cancel")
	if strings.Contains(v, "dry run") {
		t.Errorf("the plan shows the dry run's own line:\n%s", v)
	}

	// y: the procedure runs; the steps show as the activity feed reports them.
	run := m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("y")})
	wantAll(t, "the progress", m.View(), "step 1/2: serial 2147484647 being written…", "step 2/2: serial 11", "running: the daemon answers")
	m.Update(common.EventsMsg{Events: []api.Event{{Zone: "example.org.", Kind: "set-serial", Outcome: api.OutcomeOK, Serial: 2147484647, Detail: "step 1 of 2: serial 1000 -> 2147484647"}}})
	v = m.View()
	checkFits(t, v, 80, 22)
	wantAll(t, "the progress", v, "step 1/2: waiting for servers to reach 2147484647…")
	// Keys do not close the panel while the daemon works.
	m.Update(tea.KeyMsg{Type: tea.KeyEsc})
	if m.reset == nil {
		t.Fatal("esc closed the panel while the procedure runs")
	}

	drain(m, run)
	if len(f.reqs) != 2 || f.reqs[1].DryRun {
		t.Fatalf("requests: %+v, want the dry run then the run", f.reqs)
	}
	v = m.View()
	checkFits(t, v, 80, 22)
	wantAll(t, "the result", v, "step 1/2: serial 1000 → 2147484647", "127.0.0.5:5377 (peer nb) serves 11", "✓ zone example.org. is at serial 11", "enter/esc close")
	m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	if m.reset != nil {
		t.Error("enter did not close the result")
	}
}

// TestTUIZoneSetSerialStuck shows which server is stuck, as the daemon
// says it.
func TestTUIZoneSetSerialStuck(t *testing.T) {
	f := &serialDaemon{stuck: true}
	m := serialModel(f)
	typeKeys(m, "S")
	typeKeys(m, "11")
	m.Update(tea.KeyMsg{Type: tea.KeyTab})
	m.Update(tea.KeyMsg{Type: tea.KeyCtrlU})
	typeKeys(m, "1s")
	drain(m, m.Update(tea.KeyMsg{Type: tea.KeyEnter}))
	drain(m, m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("y")}))
	if len(f.reqs) != 2 || f.reqs[1].TimeoutSeconds != 1 {
		t.Fatalf("requests: %+v", f.reqs)
	}
	v := m.View()
	checkFits(t, v, 80, 22)
	wantAll(t, "the stop", v, "✗ stopped: server 127.0.0.6:5377 (also-notify) did not reach serial 2147484647", "left at serial 2147484647 (step 1 of 2)", "enter/esc close")
}

// TestTUIZoneSetSerialCancel: esc in the form and at the plan changes
// nothing; a bad serial is refused in the form.
func TestTUIZoneSetSerialCancel(t *testing.T) {
	f := &serialDaemon{}
	m := serialModel(f)
	typeKeys(m, "S")
	typeKeys(m, "1000")
	m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	wantAll(t, "the form", m.View(), "the zone is at serial 1000 already", "not sent")
	m.Update(tea.KeyMsg{Type: tea.KeyEsc})
	if m.reset != nil {
		t.Fatal("esc did not close the form")
	}
	typeKeys(m, "S")
	typeKeys(m, "11")
	drain(m, m.Update(tea.KeyMsg{Type: tea.KeyEnter}))
	m.Update(tea.KeyMsg{Type: tea.KeyEsc})
	if m.reset != nil {
		t.Fatal("esc did not cancel at the plan")
	}
	for _, r := range f.reqs {
		if !r.DryRun {
			t.Errorf("a cancelled reset ran: %+v", f.reqs)
		}
	}
	// A secondary has no set-serial.
	m.setDetail(&api.ZoneDetail{Zone: api.Zone{Name: "s.example.", Kind: api.KindSecondary, State: api.StateFresh, Serial: 7}}, nil)
	drain(m, typeKeys(m, "S"))
	if m.reset != nil {
		t.Error("S opened a form on a secondary")
	}
}
