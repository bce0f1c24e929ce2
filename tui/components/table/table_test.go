package table

import (
	"strconv"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"zonekeeper/tui/common"
	"zonekeeper/tui/keymap"
	"zonekeeper/tui/styles"
)

func TestTUIFit(t *testing.T) {
	tests := []struct {
		in    string
		w     int
		align Align
		want  string
	}{
		{"abc", 5, Left, "abc  "},
		{"abc", 5, Right, "  abc"},
		{"abcdef", 4, Left, "abc…"},
		{"abc", 1, Left, "…"},
		{"abc", 0, Left, ""},
		{"a\tb\nc", 6, Left, "a b c "},
		{"zoné", 5, Left, "zoné "},
		{"zonéfile", 5, Left, "zoné…"},
		{"é\tx", 4, Left, "é x "},
		{"日本語", 4, Left, "日… "},
	}
	for _, tt := range tests {
		got := Fit(tt.in, tt.w, tt.align)
		if got != tt.want {
			t.Errorf("Fit(%q, %d) = %q, want %q", tt.in, tt.w, got, tt.want)
		}
		if w := ansi.StringWidth(got); tt.w > 0 && w != tt.w {
			t.Errorf("Fit(%q, %d) is %d wide", tt.in, tt.w, w)
		}
	}
}

func newTable(width, height, rows int) *Model {
	c := common.Common{Styles: styles.New(lipgloss.NewRenderer(nil), true), KeyMap: keymap.Default()}
	m := New(c, []Column{
		{Title: "NAME", Width: 10, Flex: 1},
		{Title: "N", Width: 6, Align: Right},
		{Title: "WIDE", Width: 12, MinTable: 100},
		{Title: "DATA", Width: 10, Flex: 2},
	})
	m.SetSize(width, height)
	rs := make([]Row, rows)
	for i := range rs {
		rs[i] = Row{Key: strconv.Itoa(i), Cells: []string{"row" + strconv.Itoa(i), strconv.Itoa(i), "wide", "Data " + strconv.Itoa(i%10)}}
	}
	m.SetRows(rs)
	return m
}

func TestTUITableLayoutAndWindow(t *testing.T) {
	for _, w := range []int{40, 80, 99, 100, 200} {
		m := newTable(w, 10, 1000)
		m.Move(500)
		v := m.View()
		lines := strings.Split(v, "\n")
		if len(lines) != 10 {
			t.Fatalf("width %d: %d lines, want 10", w, len(lines))
		}
		for _, l := range lines {
			if lw := ansi.StringWidth(l); lw > w {
				t.Errorf("width %d: line %q is %d wide", w, l, lw)
			}
		}
		if hasWide := strings.Contains(lines[0], "WIDE"); hasWide != (w >= 100) {
			t.Errorf("width %d: WIDE shown %v", w, hasWide)
		}
		if !strings.Contains(v, "› row500 ") {
			t.Errorf("width %d: the cursor row is not on screen:\n%s", w, v)
		}
	}
}

func TestTUITableCursorFollowsKey(t *testing.T) {
	m := newTable(80, 10, 100)
	m.Move(42)
	m.SetFilter(MatchText("ROW4 data"))
	if k, _ := m.SelectedKey(); k != "42" {
		t.Errorf("after filtering the cursor is on %q, want 42", k)
	}
	if m.Len() != 11 { // row4, row40 … row49
		t.Errorf("%d rows match, want 11", m.Len())
	}
	// New rows, in another order: the cursor stays on its key.
	rows := append([]Row(nil), m.Rows()...)
	for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
		rows[i], rows[j] = rows[j], rows[i]
	}
	m.SetRows(rows)
	if k, _ := m.SelectedKey(); k != "42" {
		t.Errorf("after new rows the cursor is on %q, want 42", k)
	}
	m.SetFilter(MatchText("nothing like it"))
	if r, _ := m.Selected(); r != nil || !strings.Contains(m.View(), m.Empty) {
		t.Errorf("no row matches, yet %v is selected:\n%s", r, m.View())
	}
}
