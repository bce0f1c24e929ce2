package cluster

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"zonekeeper/daemon/api"
	"zonekeeper/tui/common"
	"zonekeeper/tui/keymap"
	"zonekeeper/tui/styles"
)

// fakeDaemon is the failover part of the control API; the rest of
// common.Daemon is left nil: the cluster view does not call it.
type fakeDaemon struct {
	common.Daemon
	peers []api.Peer
	from  []string // PromoteAll calls
}

func (f *fakeDaemon) Peers(context.Context) ([]api.Peer, error) { return f.peers, nil }

func (f *fakeDaemon) Promote(_ context.Context, zone string) (*api.PromoteResult, error) {
	return &api.PromoteResult{Zones: []api.Promoted{{Zone: zone, Serial: 1}}}, nil
}

func (f *fakeDaemon) PromoteAll(_ context.Context, from string) (*api.PromoteResult, error) {
	f.from = append(f.from, from)
	return &api.PromoteResult{Zones: []api.Promoted{
		{Zone: "a.example.", Serial: 7, Backup: "/data/backup/a.example.7.20261121T120000Z.zone"},
		{Zone: "b.example.", Serial: 9},
	}}, nil
}

func secs(n int64) *int64 { return &n }

func testZones() []api.Zone {
	return []api.Zone{
		{Name: "a.example.", Kind: api.KindSecondary, State: api.StateExpiring, Serial: 7, Primaries: []string{"192.0.2.1"}, ExpireIn: secs(3*3600 + 12*60),
			Error: "expires in 3h12m"},
		{Name: "b.example.", Kind: api.KindSecondary, State: api.StateStale, Serial: 9, Primaries: []string{"192.0.2.1"}, ExpireIn: secs(6 * 86400)},
		{Name: "c.example.", Kind: api.KindSecondary, State: api.StateFresh, Serial: 3, Primaries: []string{"192.0.2.9"}, ExpireIn: secs(13 * 86400)},
		{Name: "p.example.", Kind: api.KindPrimary, State: api.StateServing, Serial: 100, PeersInSync: "1/2", Peers: []api.PeerState{
			{Peer: "nb", Addr: "127.0.0.2:53", Reachable: true, Serves: true, Serial: 100, InSync: true},
			{Peer: "nc", Addr: "127.0.0.3:53", Reachable: true, Serves: true, Serial: 97, Lag: 3},
		}},
		{Name: "q.example.", Kind: api.KindPrimary, State: api.StateServing, Serial: 5, PeersInSync: "0/2", Peers: []api.PeerState{
			{Peer: "nb", Addr: "127.0.0.2:53", Reachable: true, Serves: true, Serial: 6, Lag: -1},
			{Peer: "nc", Addr: "127.0.0.3:53"},
		}},
	}
}

func run(m *Model, cmd tea.Cmd) {
	for cmd != nil {
		msg := cmd()
		if b, ok := msg.(tea.BatchMsg); ok {
			for _, c := range b {
				run(m, c)
			}
			return
		}
		if msg == nil {
			return
		}
		cmd = m.Update(msg)
	}
}

func newModel(f *fakeDaemon) *Model {
	c := common.Common{
		Ctx:    context.Background(),
		Daemon: f,
		Styles: styles.New(lipgloss.NewRenderer(nil), true),
		KeyMap: keymap.Default(),
		Now:    func() time.Time { return time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC) },
		Loc:    time.UTC,
		Nav:    &common.Nav{},
	}
	m := New(c)
	m.SetSize(120, 38)
	run(m, m.Update(common.ZonesMsg{Zones: testZones()}))
	return m
}

func TestTUIClusterPeersLagAndExpiry(t *testing.T) {
	f := &fakeDaemon{peers: []api.Peer{{Name: "nc", Addr: "127.0.0.3:53"}, {Name: "nb", Addr: "127.0.0.2:53", Role: api.RolePeer}}}
	m := newModel(f)
	v := m.View()
	for _, want := range []string{
		"Peers (2)",
		"nb 127.0.0.2:53 (peer) · reachable · 1/2 zones in sync · q.example. ahead 1",
		"nc 127.0.0.3:53 (peer) · reachable for 1 of 2 zones · 0/2 zones in sync · p.example. lag 3",
		"Primaries unreachable (2 zones)",
		"a.example. expires in 3h12m · expiring",
		"b.example. expires in 6d · stale",
		"192.0.2.1",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("the cluster view lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "c.example. expires") {
		t.Errorf("a fresh zone is listed as unreachable:\n%s", v)
	}
	if strings.Index(v, "a.example. expires") > strings.Index(v, "b.example. expires") {
		t.Errorf("the soonest expiry is not first:\n%s", v)
	}
}

func TestTUIClusterPromoteAll(t *testing.T) {
	f := &fakeDaemon{peers: []api.Peer{{Name: "nb", Addr: "127.0.0.2:53"}}}
	m := newModel(f)
	key := func(s string) tea.Cmd { return m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}) }
	run(m, key("P"))
	if !m.Modal() {
		t.Fatalf("P opened no dialog:\n%s", m.View())
	}
	v := m.View()
	for _, want := range []string{"Promote every zone from 192.0.2.1 (2)", "a.example.", "serial 7", "b.example.", "nb 127.0.0.2:53", "DATA/backup/", "y confirm"} {
		if !strings.Contains(v, want) {
			t.Errorf("the dialog lacks %q:\n%s", want, v)
		}
	}
	var status common.StatusMsg
	cmd := key("y")
	for cmd != nil {
		msg := cmd()
		if s, ok := msg.(common.StatusMsg); ok {
			status = s
			break
		}
		cmd = m.Update(msg)
	}
	if len(f.from) != 1 || f.from[0] != "192.0.2.1" {
		t.Errorf("PromoteAll calls: %v, want [192.0.2.1]", f.from)
	}
	if status.Err != nil || !strings.Contains(status.Text, "a.example. (serial 7), b.example. (serial 9)") || !strings.Contains(status.Text, "backup /data/backup/") {
		t.Errorf("status after the promotion: %+v", status)
	}
	if m.Modal() {
		t.Error("the dialog is still open after the promotion")
	}
}

// A fresh secondary whose only primary is a peer that did not answer the
// last health check is listed with its expire countdown.
func TestTUIClusterPrimaryPeerDown(t *testing.T) {
	m := newModel(&fakeDaemon{peers: []api.Peer{{Name: "a", Addr: "127.0.0.1:53"}}})
	run(m, m.Update(common.ZonesMsg{Zones: []api.Zone{
		{Name: "s.example.", Kind: api.KindSecondary, State: api.StateFresh, Serial: 4, Primaries: []string{"127.0.0.1"}, ExpireIn: secs(86400 + 3600),
			Peers: []api.PeerState{{Peer: "a", Addr: "127.0.0.1:53"}}},
	}}))
	v := m.View()
	for _, want := range []string{"a 127.0.0.1:53 (peer) · UNREACHABLE", "s.example. expires in 25h · fresh", "127.0.0.1 ", " no "} {
		if !strings.Contains(v, want) {
			t.Errorf("the cluster view lacks %q:\n%s", want, v)
		}
	}
}
