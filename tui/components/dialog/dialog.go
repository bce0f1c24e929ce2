// Package dialog is the confirmation dialog: a title, lines that say
// exactly what will happen, and y/enter to go ahead, n/esc/q to cancel.
// A dialog may be shown with confirmation disabled, to say what an action
// will do once the daemon offers it.
package dialog

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"zonekeeper/tui/common"
	"zonekeeper/tui/components/form"
)

// Result is what a key did to the dialog.
type Result int

// Results reported by Update.
const (
	Open      Result = iota // still open
	Confirmed               // go ahead
	Cancelled               // closed, nothing done
)

// Model is a confirmation dialog.
type Model struct {
	common.Common
	Title    string
	Lines    []string
	Danger   bool   // the action destroys or replaces something
	Disabled string // when set, confirming is not possible, and this says why
	Busy     bool   // the action was confirmed and is under way
}

// New returns a dialog.
func New(c common.Common, title string, lines ...string) *Model {
	return &Model{Common: c, Title: title, Lines: lines}
}

// Keys lists the keys of the dialog.
func (m *Model) Keys() []key.Binding {
	if m.Disabled != "" {
		return []key.Binding{m.KeyMap.Cancel}
	}
	return []key.Binding{m.KeyMap.Confirm, m.KeyMap.Cancel}
}

// Update handles a key.
func (m *Model) Update(msg tea.Msg) Result {
	km, ok := msg.(tea.KeyMsg)
	if !ok || m.Busy {
		return Open
	}
	switch {
	case key.Matches(km, m.KeyMap.Cancel):
		return Cancelled
	case key.Matches(km, m.KeyMap.Confirm) && m.Disabled == "":
		return Confirmed
	}
	return Open
}

// View renders the dialog as a box as wide as the dialog.
func (m *Model) View() string {
	st := m.Styles
	inner := max(20, m.Width-4)
	var b strings.Builder
	title := m.Title
	if m.Danger {
		title = "⚠ " + title
	}
	b.WriteString(st.BoxTitle.Render(title))
	for _, l := range m.Lines {
		for _, w := range form.Wrap(l, inner) {
			b.WriteString("\n" + w)
		}
	}
	b.WriteString("\n")
	switch {
	case m.Disabled != "":
		for _, w := range form.Wrap(m.Disabled, inner) {
			b.WriteString("\n" + st.StatusError.Render(w))
		}
		b.WriteString("\n" + st.Dim.Render("esc close"))
	case m.Busy:
		b.WriteString("\n" + st.Dim.Render("working…"))
	default:
		b.WriteString("\n" + st.Bold.Render("y") + " confirm · " + st.Bold.Render("n") + "/esc cancel")
	}
	return st.Box.Width(inner + 2).Render(b.String())
}
