// Package filter is the `/` filter line shared by the list views: it
// filters as you type, enter keeps the filter, esc clears it.
package filter

import (
	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"zonekeeper/tui/common"
	"zonekeeper/tui/components/table"
)

// Model is a filter line.
type Model struct {
	common.Common
	input  textinput.Model
	typing bool
	Hint   string // what may be typed, shown when the filter is empty
}

// New returns an empty filter line.
func New(c common.Common, hint string) *Model {
	in := textinput.New()
	in.Prompt = "/"
	in.Cursor.SetMode(cursor.CursorStatic)
	in.CharLimit = 256
	return &Model{Common: c, input: in, Hint: hint}
}

// Typing reports whether the filter line has the keyboard.
func (m *Model) Typing() bool { return m.typing }

// Query is the filter text.
func (m *Model) Query() string { return m.input.Value() }

// Start gives the filter line the keyboard.
func (m *Model) Start() {
	m.typing = true
	m.input.Focus()
	m.input.CursorEnd()
}

// Set sets the filter text without taking the keyboard.
func (m *Model) Set(q string) { m.input.SetValue(q) }

// Clear empties the filter.
func (m *Model) Clear() {
	m.input.SetValue("")
	m.typing = false
	m.input.Blur()
}

// Update handles a key while typing and reports whether the query
// changed.
func (m *Model) Update(msg tea.Msg) (changed bool) {
	km, ok := msg.(tea.KeyMsg)
	if !ok || !m.typing {
		return false
	}
	before := m.input.Value()
	switch {
	case key.Matches(km, m.KeyMap.Back):
		m.Clear()
	case km.Type == tea.KeyEnter || km.Type == tea.KeyTab || km.Type == tea.KeyDown || km.Type == tea.KeyUp:
		m.typing = false
		m.input.Blur()
	default:
		m.input, _ = m.input.Update(msg)
	}
	return m.input.Value() != before
}

// View renders the filter line in width cells: the input while typing,
// the query when one is set, else nothing.
func (m *Model) View(width int) string {
	switch {
	case m.typing:
		m.input.Width = max(1, width-3)
		m.input.Placeholder = m.Hint + " · enter keep · esc clear"
		m.input.PlaceholderStyle = m.Styles.Dim
		return m.input.View()
	case m.input.Value() != "":
		return table.Fit("filter: "+m.input.Value()+"  (/ change · esc clear)", width, table.Left)
	}
	return ""
}
