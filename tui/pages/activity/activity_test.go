package activity

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

var start = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// events returns n events numbered from id, across 50 zones and a few
// kinds and outcomes.
func events(id int64, n int) []api.Event {
	kinds := []string{"notify-in", "xfr-in", "refresh", "notify-out", "reload"}
	outcomes := []string{api.OutcomeOK, api.OutcomeOK, api.OutcomeOK, api.OutcomeWarning, api.OutcomeError}
	evs := make([]api.Event, n)
	for i := range evs {
		k := int(id) + i
		evs[i] = api.Event{
			ID: id + int64(i), Time: start.Add(time.Duration(k) * time.Millisecond),
			Zone: fmt.Sprintf("zone%02d.example.", k%50), Kind: kinds[k%len(kinds)], Outcome: outcomes[k%len(outcomes)],
			Serial: uint32(2026112100 + k%100), Detail: fmt.Sprintf("event %d: 1234 records, 56789 bytes in 12ms", k),
		}
	}
	return evs
}

func press(s string) tea.KeyMsg {
	if s == " " {
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

func TestTUIActivityBoundedPausedFiltered(t *testing.T) {
	m := New(testCommon())
	m.SetSize(120, 38)
	m.Update(common.EventsMsg{Events: events(1, 6000)})
	if m.Held() != MaxEvents {
		t.Fatalf("%d events held, want %d", m.Held(), MaxEvents)
	}
	if !m.table.AtEnd() {
		t.Error("the view does not follow the newest event")
	}
	// A reconnection replays events already held: they are not doubled.
	m.Update(common.EventsMsg{Events: events(5990, 20)})
	if m.Held() != MaxEvents || m.seen != 6009 {
		t.Errorf("held %d, seen %d after a replay", m.Held(), m.seen)
	}

	m.Update(press(" "))
	m.Update(common.EventsMsg{Events: events(7000, 30)})
	if !strings.Contains(m.View(), "PAUSED · 30 new") || m.Held() != MaxEvents {
		t.Errorf("paused view:\n%s", m.View())
	}
	m.Update(press(" "))
	if r, _ := m.table.Selected(); r == nil || r.Key != "7029" {
		t.Errorf("after resuming the cursor is on %v, want the newest event", r)
	}

	m.Update(press("z")) // only the selected event's zone
	if m.table.Len() == 0 || m.table.Len() > MaxEvents/50+1 {
		t.Errorf("zone filter: %d rows", m.table.Len())
	}
	m.Update(press("t")) // and its kind
	n := m.table.Len()
	m.Update(tea.KeyMsg{Type: tea.KeyEsc})
	if m.table.Len() != m.table.Total() || n >= m.table.Total() {
		t.Errorf("esc: %d of %d (filtered: %d)", m.table.Len(), m.table.Total(), n)
	}
	m.Update(press("/"))
	for _, c := range "kind:xfr-in zone:zone07.example. 1234" {
		m.Update(press(string(c)))
	}
	for vi := 0; vi < m.table.Len(); vi++ {
		m.table.Top()
		m.table.Move(vi)
		r, _ := m.table.Selected()
		if r.Cells[colKind] != "xfr-in" || r.Cells[colZone] != "zone07.example." {
			t.Fatalf("filtered row %v", r.Cells)
		}
	}
}

// BenchmarkTUIActivity1000PerSecond is one frame of the activity view at
// 1 000 events a second: the feed hands over about 33 events per frame;
// the view adds them to its bounded feed and renders.
func BenchmarkTUIActivity1000PerSecond(b *testing.B) {
	m := New(testCommon())
	m.SetSize(120, 38)
	m.Update(common.EventsMsg{Events: events(1, MaxEvents)})
	batches := make([][]api.Event, 100)
	for i := range batches {
		batches[i] = events(int64(MaxEvents+1+i*33), 33)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		evs := batches[i%len(batches)]
		// Fresh ids, so that none is taken for a replay.
		for j := range evs {
			evs[j].ID = int64(MaxEvents + 1 + i*33 + j)
		}
		m.Update(common.EventsMsg{Events: evs})
		_ = m.View()
	}
}
