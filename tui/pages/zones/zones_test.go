package zones

import (
	"fmt"
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

func testCommon() common.Common {
	return common.Common{
		Styles: styles.New(lipgloss.NewRenderer(nil), true),
		KeyMap: keymap.Default(),
		Now:    func() time.Time { return time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC) },
		Loc:    time.UTC,
		Nav:    &common.Nav{},
	}
}

// manyZones is n zones, a secondary in every three, in all the states
// the API reports.
func manyZones(n int) []api.Zone {
	states := []string{"fresh", "checking", "stale", "expiring", "expired", "split-brain", "pending"}
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	zs := make([]api.Zone, n)
	for i := range zs {
		z := api.Zone{Name: fmt.Sprintf("zone%05d.example.", i), Kind: api.KindPrimary, State: api.StateServing, Serial: uint32(2026112100 + i%100), SerialPolicy: api.SerialIncrement}
		if i%3 == 0 {
			z.Kind = api.KindSecondary
			z.State = states[i%len(states)]
			z.Primaries = []string{"192.0.2.1", "192.0.2.2"}
			z.LastCheck = now.Add(-time.Duration(i) * time.Second)
			if z.State == "expiring" {
				z.Error = "expires in 3h12m; last error: 192.0.2.1: SOA query: timeout"
			}
		}
		zs[i] = z
	}
	return zs
}

func loaded(n int) *Model {
	m := New(testCommon())
	m.SetSize(120, 38)
	m.Update(common.ZonesMsg{Zones: manyZones(n)})
	return m
}

// BenchmarkTUIZonesView5000 is one frame of the zones view over 5 000
// zones: a key press and the render.
func BenchmarkTUIZonesView5000(b *testing.B) {
	m := loaded(5000)
	down := tea.KeyMsg{Type: tea.KeyDown}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		m.Update(down)
		_ = m.View()
	}
}

// BenchmarkTUIZonesRefresh5000 is a fresh list of 5 000 zones arriving:
// sorted, made into rows, rendered.
func BenchmarkTUIZonesRefresh5000(b *testing.B) {
	m := loaded(5000)
	zs := manyZones(5000)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		m.Update(common.ZonesMsg{Zones: zs})
		_ = m.View()
	}
}

func TestTUIZonesSortAndStates(t *testing.T) {
	m := loaded(30)
	v := m.View()
	if !strings.Contains(v, "expiring in 3h12m") {
		t.Errorf("the countdown of an expiring zone is not shown:\n%s", v)
	}
	// s: kind, serial, state (worst first).
	for range 3 {
		m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'s'}})
	}
	m.table.Top()
	if r, _ := m.table.Selected(); r == nil || r.Cells[colState] != "split-brain" {
		t.Errorf("sorted by state, the first zone is %v, want the split-brain one", r)
	}
	if !strings.Contains(m.View(), "sorted by state") {
		t.Errorf("the sort is not shown:\n%s", m.View())
	}
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'/'}})
	for _, c := range "zone0001" {
		m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{c}})
	}
	if m.table.Len() != 10 {
		t.Errorf("filter zone0001: %d rows, want 10", m.table.Len())
	}
	m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	if q := m.Nav.Take(); len(q) != 1 {
		t.Errorf("enter asked for %v, want one OpenZoneMsg", q)
	} else if o, ok := q[0].(common.OpenZoneMsg); !ok || !strings.HasPrefix(o.Name, "zone0001") {
		t.Errorf("enter asked for %v", q[0])
	}
}
