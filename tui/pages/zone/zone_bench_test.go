package zone

import (
	"fmt"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"zonekeeper/daemon/api"
	"zonekeeper/tui/components/table"
)

// bigZone is a zone of n records: an A, a TXT and an MX per name.
func bigZone(n int) *api.ZoneDetail {
	z := testZone()
	z.Records = z.Records[:4]
	for i := 0; len(z.Records) < n; i++ {
		name := fmt.Sprintf("host%06d.example.org.", i)
		z.Records = append(z.Records,
			api.Record{Name: name, TTL: 3600, Type: "A", Data: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)},
			api.Record{Name: name, TTL: 3600, Type: "TXT", Data: fmt.Sprintf(`"inventory tag %d rack %d"`, i, i%40)},
			api.Record{Name: name, TTL: 3600, Type: "MX", Data: fmt.Sprintf("10 mx%d.example.org.", i%7)},
		)
	}
	z.Records = z.Records[:n]
	return z
}

// loadedView is the zone view at 120x40 showing a zone of n records.
func loadedView(tb testing.TB, n int) *Model {
	m := New(testCommon())
	m.SetSize(120, 38)
	z := bigZone(n)
	m.name = z.Name
	m.setDetail(z, Rows(z))
	if m.table.Total() != n {
		tb.Fatalf("%d rows, want %d", m.table.Total(), n)
	}
	return m
}

var down = tea.KeyMsg{Type: tea.KeyDown}

// BenchmarkTUIZoneView100k is one frame of the zone view over 100 000
// records: a key press (the cursor moves) and the render. The target is
// under 50 ms.
func BenchmarkTUIZoneView100k(b *testing.B) {
	m := loadedView(b, 100_000)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		m.Update(down)
		if v := m.View(); len(v) == 0 {
			b.Fatal("empty view")
		}
	}
}

// BenchmarkTUIZoneViewPageDown100k scrolls a page per frame.
func BenchmarkTUIZoneViewPageDown100k(b *testing.B) {
	m := loadedView(b, 100_000)
	pgdn := tea.KeyMsg{Type: tea.KeyPgDown}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		m.Update(pgdn)
		_ = m.View()
	}
}

// BenchmarkTUIZoneFilter100k is the frame after one key typed into the
// filter: every record's lower-cased text is searched once.
func BenchmarkTUIZoneFilter100k(b *testing.B) {
	m := loadedView(b, 100_000)
	queries := []string{"rack 7", "host0999", "mx3", "10.1."}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		m.table.SetFilter(table.MatchText(queries[i%len(queries)]))
		_ = m.View()
	}
}

// BenchmarkTUIZoneRows100k is the one costly step of a load, done in a
// command: making the rows of 100 000 records.
func BenchmarkTUIZoneRows100k(b *testing.B) {
	z := bigZone(100_000)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		_ = Rows(z)
	}
}

// TestTUIZoneViewRendersOnlyTheWindow: the view of 100 000 records is
// as many lines as the screen, whatever the cursor's position.
func TestTUIZoneViewRendersOnlyTheWindow(t *testing.T) {
	m := loadedView(t, 100_000)
	m.table.End()
	v := m.View()
	if n := strings.Count(v, "\n") + 1; n != 38 {
		t.Fatalf("%d lines, want 38:\n%s", n, v)
	}
	if !strings.Contains(v, "record 100000 of 100000") {
		t.Errorf("the last record is not shown:\n%s", v)
	}
	m.table.SetFilter(table.MatchText("host012345"))
	if got := m.table.Len(); got != 3 {
		t.Errorf("filter host012345: %d rows, want 3", got)
	}
}
