// Package table is a virtual table: it holds any number of rows but
// renders only the window the cursor is in, and filters on text that was
// lower-cased once, when the row was made. 100 000 rows cost nothing per
// frame; a filter keystroke costs one pass of strings.Contains.
package table

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/mattn/go-runewidth"

	"zonekeeper/tui/common"
	"zonekeeper/tui/styles"
)

// Align places text in a cell.
type Align int

// Alignments.
const (
	Left Align = iota
	Right
)

// Column describes one column.
type Column struct {
	Title    string
	Width    int   // the width; with Flex, the least width
	Flex     int   // share of the width left over by fixed columns (0: fixed)
	Align    Align // Left by default
	Colored  bool  // rendered in the row's severity colour
	MinTable int   // shown only when the table is at least this wide (0: always)
}

// Row is one row. Key identifies it: the cursor stays on the same key
// when the rows are replaced.
type Row struct {
	Key      string
	Cells    []string
	Lower    string          // lower-cased text the filter searches; made by Lowered when empty
	Severity styles.Severity // colours the Colored columns
}

// Lowered returns the row with Lower set from its cells, when empty.
func (r Row) Lowered() Row {
	if r.Lower == "" {
		r.Lower = strings.ToLower(strings.Join(r.Cells, " "))
	}
	return r
}

// Model is the table widget.
type Model struct {
	common.Common

	cols   []Column
	widths []int // per column; 0: hidden at this width
	rows   []Row
	view   []int // indexes into rows that pass the filter, in order
	match  func(*Row) bool
	cursor int // index into view
	offset int // first row of view on screen

	// SortCol marks a column title with ▲ (▼ when SortDesc); -1 for none.
	SortCol  int
	SortDesc bool
	// Empty is shown when no row passes the filter.
	Empty string
}

// New returns an empty table of these columns.
func New(c common.Common, cols []Column) *Model {
	m := &Model{Common: c, cols: cols, SortCol: -1, Empty: "nothing to show"}
	m.layout()
	return m
}

// SetSize sets the table's size: one header line and height-1 rows.
func (m *Model) SetSize(width, height int) {
	m.Common.SetSize(width, height)
	m.layout()
	m.clamp()
}

// SetColumns replaces the columns.
func (m *Model) SetColumns(cols []Column) {
	m.cols = cols
	m.layout()
}

// SetRows replaces the rows, keeping the cursor on the same key when it
// is still there. The slice is kept, not copied.
func (m *Model) SetRows(rows []Row) {
	key, ok := m.SelectedKey()
	for i := range rows {
		if rows[i].Lower == "" {
			rows[i] = rows[i].Lowered()
		}
	}
	m.rows = rows
	m.refilter()
	if ok {
		m.GotoKey(key)
	}
	m.clamp()
}

// Rows returns the rows, unfiltered.
func (m *Model) Rows() []Row { return m.rows }

// SetFilter keeps only the rows for which match is true; nil keeps all.
func (m *Model) SetFilter(match func(*Row) bool) {
	key, ok := m.SelectedKey()
	m.match = match
	m.refilter()
	if ok {
		m.GotoKey(key)
	}
	m.clamp()
}

// MatchText returns a filter that keeps rows containing every
// whitespace-separated term of q, ignoring case; nil when q is blank.
func MatchText(q string) func(*Row) bool {
	terms := strings.Fields(strings.ToLower(q))
	if len(terms) == 0 {
		return nil
	}
	return func(r *Row) bool {
		for _, t := range terms {
			if !strings.Contains(r.Lower, t) {
				return false
			}
		}
		return true
	}
}

func (m *Model) refilter() {
	m.view = m.view[:0]
	if cap(m.view) < len(m.rows) && m.match == nil {
		m.view = make([]int, 0, len(m.rows))
	}
	for i := range m.rows {
		if m.match == nil || m.match(&m.rows[i]) {
			m.view = append(m.view, i)
		}
	}
}

// Len is the number of rows that pass the filter; Total counts all.
func (m *Model) Len() int   { return len(m.view) }
func (m *Model) Total() int { return len(m.rows) }

// Cursor is the position of the cursor among the filtered rows.
func (m *Model) Cursor() int { return m.cursor }

// Selected returns the row under the cursor and its index in Rows.
func (m *Model) Selected() (*Row, int) {
	if m.cursor < 0 || m.cursor >= len(m.view) {
		return nil, -1
	}
	i := m.view[m.cursor]
	return &m.rows[i], i
}

// SelectedKey returns the key of the row under the cursor.
func (m *Model) SelectedKey() (string, bool) {
	r, _ := m.Selected()
	if r == nil {
		return "", false
	}
	return r.Key, true
}

// GotoKey puts the cursor on the row with that key, if it passes the
// filter, and reports whether it did.
func (m *Model) GotoKey(key string) bool {
	for vi, i := range m.view {
		if m.rows[i].Key == key {
			m.cursor = vi
			m.clamp()
			return true
		}
	}
	return false
}

// AtEnd reports whether the cursor is on the last row (or there is none).
func (m *Model) AtEnd() bool { return m.cursor >= len(m.view)-1 }

// Top and End move the cursor to the first and last rows.
func (m *Model) Top() { m.cursor = 0; m.clamp() }
func (m *Model) End() { m.cursor = len(m.view) - 1; m.clamp() }

// Move moves the cursor by n rows.
func (m *Model) Move(n int) {
	m.cursor += n
	m.clamp()
}

// page is the number of rows on screen.
func (m *Model) page() int { return max(1, m.Height-1) }

// Keys are the moving keys the table answers to.
func (m *Model) Keys() []key.Binding {
	k := m.KeyMap
	return []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}
}

// HandleKey moves the cursor for a moving key and reports whether msg
// was one.
func (m *Model) HandleKey(msg tea.KeyMsg) bool {
	k := m.KeyMap
	switch {
	case key.Matches(msg, k.Up):
		m.Move(-1)
	case key.Matches(msg, k.Down):
		m.Move(1)
	case key.Matches(msg, k.PageUp):
		m.Move(-m.page())
	case key.Matches(msg, k.PageDown):
		m.Move(m.page())
	case key.Matches(msg, k.Top):
		m.Top()
	case key.Matches(msg, k.Bottom):
		m.End()
	default:
		return false
	}
	return true
}

func (m *Model) clamp() {
	if m.cursor >= len(m.view) {
		m.cursor = len(m.view) - 1
	}
	if m.cursor < 0 {
		m.cursor = 0
	}
	p := m.page()
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+p {
		m.offset = m.cursor - p + 1
	}
	if m.offset > len(m.view)-p {
		m.offset = len(m.view) - p
	}
	if m.offset < 0 {
		m.offset = 0
	}
}

// marker is the width of the cursor marker before the first column.
const marker = 2

// layout computes the column widths for the current width.
func (m *Model) layout() {
	m.widths = make([]int, len(m.cols))
	shown := func(c Column) bool { return c.MinTable == 0 || m.Width >= c.MinTable }
	avail := m.Width - marker
	fixed, shares, n := 0, 0, 0
	for i, c := range m.cols {
		if !shown(c) {
			continue
		}
		n++
		m.widths[i] = max(1, c.Width)
		fixed += m.widths[i]
		shares += c.Flex
	}
	if n > 1 {
		fixed += n - 1 // one space between columns
	}
	left := avail - fixed
	if left <= 0 || shares == 0 {
		return
	}
	given := 0
	last := -1
	for i, c := range m.cols {
		if !shown(c) || c.Flex == 0 {
			continue
		}
		extra := left * c.Flex / shares
		m.widths[i] += extra
		given += extra
		last = i
	}
	if last >= 0 {
		m.widths[last] += left - given
	}
}

// View renders the header and the visible rows, exactly Height lines.
func (m *Model) View() string {
	if m.Height <= 0 || m.Width <= 0 {
		return ""
	}
	var b strings.Builder
	b.Grow((m.Width + 16) * m.Height)
	st := m.Styles

	// Header.
	var h strings.Builder
	h.WriteString(strings.Repeat(" ", marker))
	first := true
	for i, c := range m.cols {
		w := m.widths[i]
		if w == 0 {
			continue
		}
		if !first {
			h.WriteByte(' ')
		}
		first = false
		title := c.Title
		if i == m.SortCol {
			if m.SortDesc {
				title += "▼"
			} else {
				title += "▲"
			}
		}
		h.WriteString(Fit(title, w, c.Align))
	}
	b.WriteString(st.TableHeader.Render(Fit(h.String(), m.Width, Left)))

	p := m.page()
	if len(m.view) == 0 {
		b.WriteByte('\n')
		b.WriteString(st.Dim.Render(Fit("  "+m.Empty, m.Width, Left)))
		for n := 1; n < p; n++ {
			b.WriteByte('\n')
		}
		return b.String()
	}
	var line strings.Builder
	for n := 0; n < p; n++ {
		b.WriteByte('\n')
		vi := m.offset + n
		if vi >= len(m.view) {
			continue
		}
		row := &m.rows[m.view[vi]]
		selected := vi == m.cursor
		line.Reset()
		if selected {
			line.WriteString("› ")
		} else {
			line.WriteString("  ")
		}
		first := true
		for i, c := range m.cols {
			w := m.widths[i]
			if w == 0 {
				continue
			}
			if !first {
				line.WriteByte(' ')
			}
			first = false
			cell := ""
			if i < len(row.Cells) {
				cell = row.Cells[i]
			}
			text := Fit(cell, w, c.Align)
			if c.Colored && !selected && row.Severity != styles.Plain {
				text = st.Severity(row.Severity).Render(text)
			}
			line.WriteString(text)
		}
		if selected {
			b.WriteString(st.Selected.Render(Fit(line.String(), m.Width, Left)))
		} else {
			b.WriteString(line.String())
		}
	}
	return b.String()
}

// Fit pads or truncates plain text s to exactly w cells, with … marking
// a cut. Control characters become spaces.
func Fit(s string, w int, align Align) string {
	if w <= 0 {
		return ""
	}
	n, ascii := 0, true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c == 0x7f:
			s = clean(s)
			i = -1 // look again: clean may have made it shorter
			ascii = true
		case c >= 0x80:
			ascii = false
		}
	}
	if ascii {
		n = len(s)
		if n > w {
			if w == 1 {
				return "…"
			}
			return s[:w-1] + "…"
		}
	} else {
		n = runewidth.StringWidth(s)
		if n > w {
			s = runewidth.Truncate(s, w, "…")
			n = runewidth.StringWidth(s)
		}
	}
	if n == w {
		return s
	}
	pad := strings.Repeat(" ", w-n)
	if align == Right {
		return pad + s
	}
	return s + pad
}

func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
