package zone

import (
	"context"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"zonekeeper/daemon/api"
	"zonekeeper/tui/common"
)

// failoverDaemon answers the zone view's failover calls; the rest of
// common.Daemon is nil: these tests do not reach it.
type failoverDaemon struct {
	common.Daemon
	promoted []string
	demoted  []api.DemoteRequest
}

func (f *failoverDaemon) Peers(context.Context) ([]api.Peer, error) {
	return []api.Peer{{Name: "nb", Addr: "127.0.0.2:53"}}, nil
}

func (f *failoverDaemon) Promote(_ context.Context, zone string) (*api.PromoteResult, error) {
	f.promoted = append(f.promoted, zone)
	return &api.PromoteResult{Zones: []api.Promoted{{Zone: zone, Serial: 7, Backup: "/d/backup/s.example.7.x.zone"}}}, nil
}

func (f *failoverDaemon) PromoteAll(context.Context, string) (*api.PromoteResult, error) {
	return &api.PromoteResult{}, nil
}

func (f *failoverDaemon) Demote(_ context.Context, zone string, req api.DemoteRequest) (*api.DemoteResult, error) {
	f.demoted = append(f.demoted, req)
	return &api.DemoteResult{Zone: api.Zone{Name: zone, Kind: api.KindSecondary, Serial: 2026112105}, OldSerial: 2026112101, Backup: "/d/backup/x.zone", From: req.Primaries[0]}, nil
}

func failoverModel(f *failoverDaemon, z *api.ZoneDetail) *Model {
	c := testCommon()
	c.Ctx, c.Daemon, c.Nav = context.Background(), f, &common.Nav{}
	m := New(c)
	m.SetSize(100, 30)
	m.name = z.Name
	m.peers, _ = f.Peers(context.Background())
	m.setDetail(z, Rows(z))
	return m
}

func typeKeys(m *Model, s string) tea.Cmd {
	var cmd tea.Cmd
	for _, r := range s {
		cmd = m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
	return cmd
}

// outcome runs cmd and returns the actionDoneMsg it leads to.
func outcome(t *testing.T, cmd tea.Cmd) actionDoneMsg {
	t.Helper()
	if cmd == nil {
		t.Fatal("no command")
	}
	msg, ok := cmd().(actionDoneMsg)
	if !ok {
		t.Fatalf("not an actionDoneMsg: %#v", msg)
	}
	return msg
}

func TestTUIZonePromoteDialog(t *testing.T) {
	f := &failoverDaemon{}
	z := &api.ZoneDetail{Zone: api.Zone{Name: "s.example.", Kind: api.KindSecondary, State: api.StateFresh, Serial: 7, Primaries: []string{"127.0.0.1"}}}
	m := failoverModel(f, z)
	typeKeys(m, "p")
	v := m.View()
	for _, want := range []string{"Promote s.example. to primary", "s.example. serial 7", "nb 127.0.0.2:53", "DATA/backup/", "y confirm"} {
		if !strings.Contains(v, want) {
			t.Errorf("the promote dialog lacks %q:\n%s", want, v)
		}
	}
	msg := outcome(t, typeKeys(m, "y"))
	if msg.err != nil || !strings.Contains(msg.text, "s.example. (serial 7); backup /d/backup/") {
		t.Errorf("promotion outcome: %+v", msg)
	}
	if len(f.promoted) != 1 || f.promoted[0] != "s.example." {
		t.Errorf("Promote calls: %v", f.promoted)
	}
}

func TestTUIZoneDemoteFormAndDialog(t *testing.T) {
	f := &failoverDaemon{}
	m := failoverModel(f, testZone())
	typeKeys(m, "D")
	if m.demote == nil {
		t.Fatalf("D opened no form:\n%s", m.View())
	}
	typeKeys(m, "999.1.1.1")
	m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	if m.dialog != nil || len(f.demoted) != 0 || !strings.Contains(m.View(), "neither an IP address") {
		t.Fatalf("a bad primary was not refused:\n%s", m.View())
	}
	for range "999.1.1.1" {
		m.Update(tea.KeyMsg{Type: tea.KeyBackspace})
	}
	typeKeys(m, "nb")
	m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	if m.dialog == nil {
		t.Fatalf("enter opened no confirmation:\n%s", m.View())
	}
	v := m.View()
	for _, want := range []string{"Demote example.org. to secondary", "serial 2026112101", "transfers from nb", "DATA/backup/", "y confirm"} {
		if !strings.Contains(v, want) {
			t.Errorf("the demote dialog lacks %q:\n%s", want, v)
		}
	}
	msg := outcome(t, typeKeys(m, "y"))
	if msg.err != nil || !strings.Contains(msg.text, "secondary of nb now") {
		t.Errorf("demotion outcome: %+v", msg)
	}
	if len(f.demoted) != 1 || strings.Join(f.demoted[0].Primaries, ",") != "nb" {
		t.Errorf("Demote calls: %+v", f.demoted)
	}
}

// refusingDaemon refuses every promote as the daemon's guard does.
type refusingDaemon struct{ failoverDaemon }

func (f *refusingDaemon) Promote(_ context.Context, zone string) (*api.PromoteResult, error) {
	return nil, api.Errorf(api.CodeNotPermitted, "zone %s not promoted: a is alive and serves serial 7: promoting would make two primaries (--force overrides)", zone)
}

func TestTUIZonePromoteRefused(t *testing.T) {
	f := &refusingDaemon{}
	z := &api.ZoneDetail{Zone: api.Zone{Name: "s.example.", Kind: api.KindSecondary, State: api.StateFresh, Serial: 7, Primaries: []string{"127.0.0.1"}}}
	c := testCommon()
	c.Ctx, c.Daemon, c.Nav = context.Background(), f, &common.Nav{}
	m := New(c)
	m.SetSize(80, 22)
	m.name = z.Name
	m.setDetail(z, Rows(z))
	typeKeys(m, "p")
	msg := outcome(t, typeKeys(m, "y"))
	m.Update(msg)
	if m.dialog == nil {
		t.Fatalf("the refusal opened no dialog:\n%s", m.View())
	}
	// The whole reason is shown, wrapped at the screen's width, and the
	// dialog cannot confirm anything.
	v := strings.Join(strings.Fields(strings.ReplaceAll(m.View(), "│", " ")), " ")
	for _, want := range []string{"Refused: promoting s.example.", "a is alive and serves serial 7: promoting would make two primaries", "Nothing changed", "esc close"} {
		if !strings.Contains(v, want) {
			t.Errorf("the refusal dialog lacks %q:\n%s", want, m.View())
		}
	}
	if strings.Contains(v, "y confirm") {
		t.Errorf("the refusal dialog offers to confirm:\n%s", m.View())
	}
	m.Update(tea.KeyMsg{Type: tea.KeyEsc})
	if m.dialog != nil {
		t.Errorf("esc did not close the refusal")
	}
}
