// Package form is a small form widget: labelled text and choice fields,
// a message under each field, and lines the owner sets (a preview, the
// resulting serial). The owner validates after every change and decides
// what a submit sends; the form itself does no I/O.
package form

import (
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"zonekeeper/tui/common"
	"zonekeeper/tui/components/table"
	"zonekeeper/tui/keymap"
)

// Action is what a key did to the form.
type Action int

// Actions reported by Update.
const (
	None    Action = iota // nothing the owner must act on
	Changed               // a value changed: validate again
	Submit                // enter: send, if valid
	Cancel                // esc: close
)

// Field is one line of the form.
type Field struct {
	ID      string
	Label   string
	Input   textinput.Model
	Choices []string // a choice field when not nil
	Choice  int
	Locked  bool   // shown but not editable
	Err     string // why the value is refused; set by the owner
	Hint    string // what the value means; set by the owner
}

// Value returns the field's text or chosen value.
func (f *Field) Value() string {
	if f.Choices != nil {
		return f.Choices[f.Choice]
	}
	return f.Input.Value()
}

// SetValue sets the text, or chooses the value when it is a choice.
func (f *Field) SetValue(v string) {
	if f.Choices != nil {
		for i, c := range f.Choices {
			if strings.EqualFold(c, v) {
				f.Choice = i
			}
		}
		return
	}
	f.Input.SetValue(v)
}

// Text returns a text field.
func Text(id, label, placeholder string) *Field {
	in := textinput.New()
	in.Prompt = ""
	in.Placeholder = placeholder
	in.Cursor.SetMode(cursor.CursorStatic)
	in.CharLimit = 4096
	return &Field{ID: id, Label: label, Input: in}
}

// Secret returns a text field whose value is not shown.
func Secret(id, label, placeholder string) *Field {
	f := Text(id, label, placeholder)
	f.Input.EchoMode = textinput.EchoPassword
	f.Input.EchoCharacter = '•'
	return f
}

// Choice returns a field choosing one of choices with ←/→.
func Choice(id, label string, choices ...string) *Field {
	return &Field{ID: id, Label: label, Choices: choices}
}

// Model is a form.
type Model struct {
	common.Common
	Title   string
	Fields  []*Field
	Lines   []string      // shown under the fields: a preview, the resulting serial
	Message string        // the outcome of the last submit, or why it was refused
	Failed  bool          // Message is an error
	Busy    bool          // a submit is under way: further submits are ignored
	Extra   []key.Binding // the owner's own keys, listed in help and the footer

	focus int
}

// New returns a form with these fields; the first editable one has focus.
func New(c common.Common, title string, fields ...*Field) *Model {
	m := &Model{Common: c, Title: title}
	m.SetFields(fields)
	return m
}

// SetFields replaces the fields, keeping the focus on the field with the
// same ID.
func (m *Model) SetFields(fields []*Field) {
	id := ""
	if f := m.Focused(); f != nil {
		id = f.ID
	}
	m.Fields = fields
	m.focus = -1
	for i, f := range fields {
		if f.ID == id && !f.Locked {
			m.focus = i
		}
	}
	if m.focus < 0 {
		m.focus = 0
		m.step(0)
	}
	m.applyFocus()
}

// Field returns the field with this ID, or nil.
func (m *Model) Field(id string) *Field {
	for _, f := range m.Fields {
		if f.ID == id {
			return f
		}
	}
	return nil
}

// Focused returns the field with the focus.
func (m *Model) Focused() *Field {
	if m.focus < 0 || m.focus >= len(m.Fields) {
		return nil
	}
	return m.Fields[m.focus]
}

// FocusID moves the focus to the field with this ID.
func (m *Model) FocusID(id string) {
	for i, f := range m.Fields {
		if f.ID == id && !f.Locked {
			m.focus = i
		}
	}
	m.applyFocus()
}

// Valid reports whether no field has an error.
func (m *Model) Valid() bool {
	for _, f := range m.Fields {
		if f.Err != "" {
			return false
		}
	}
	return true
}

// step moves the focus by dir to the next editable field; dir 0 finds
// the first editable field from the focus on.
func (m *Model) step(dir int) {
	n := len(m.Fields)
	if n == 0 {
		return
	}
	i := m.focus
	if dir == 0 {
		dir = 1
		i--
	}
	for range n {
		i = (i + dir + n) % n
		if !m.Fields[i].Locked {
			m.focus = i
			return
		}
	}
}

func (m *Model) applyFocus() {
	for i, f := range m.Fields {
		if f.Choices != nil {
			continue
		}
		if i == m.focus && !f.Locked {
			f.Input.Focus()
		} else {
			f.Input.Blur()
		}
	}
}

// Keys lists the keys of the form.
func (m *Model) Keys() []key.Binding {
	k := m.KeyMap
	keys := []key.Binding{k.NextField, k.PrevField, k.Choice, k.Submit, keymap.Describe(k.Back, "cancel")}
	return append(keys, m.Extra...)
}

// Update handles a key and says what it did.
func (m *Model) Update(msg tea.Msg) (Action, tea.Cmd) {
	km, ok := msg.(tea.KeyMsg)
	if !ok {
		return None, nil
	}
	k := m.KeyMap
	f := m.Focused()
	switch {
	case key.Matches(km, k.Back):
		return Cancel, nil
	case key.Matches(km, k.Submit):
		if m.Busy {
			return None, nil
		}
		return Submit, nil
	case key.Matches(km, k.NextField):
		m.step(1)
		m.applyFocus()
		return None, nil
	case key.Matches(km, k.PrevField):
		m.step(-1)
		m.applyFocus()
		return None, nil
	}
	if f == nil || f.Locked {
		return None, nil
	}
	if f.Choices != nil {
		switch km.String() {
		case "left", "h":
			f.Choice = (f.Choice - 1 + len(f.Choices)) % len(f.Choices)
			return Changed, nil
		case "right", "l", " ":
			f.Choice = (f.Choice + 1) % len(f.Choices)
			return Changed, nil
		}
		return None, nil
	}
	before := f.Input.Value()
	var cmd tea.Cmd
	f.Input, cmd = f.Input.Update(msg)
	if f.Input.Value() != before {
		return Changed, cmd
	}
	return None, cmd
}

// labelWidth is the width of the labels column.
const labelWidth = 14

// View renders the form in a box as wide as the form's width and at most
// its height.
func (m *Model) View() string {
	st := m.Styles
	inner := max(20, m.Width-4) // border and padding
	valueW := max(8, inner-labelWidth-2)
	var lines []string
	for i, f := range m.Fields {
		mark := "  "
		if i == m.focus && !f.Locked {
			mark = "› "
		}
		label := st.FieldLabel.Render(table.Fit(f.Label, labelWidth, table.Left))
		var value string
		switch {
		case f.Choices != nil && i == m.focus:
			value = "◂ " + st.Bold.Render(f.Value()) + " ▸"
		case f.Choices != nil || f.Locked:
			value = f.Value()
			if f.Locked {
				value = st.Dim.Render(value + "  (fixed)")
			}
		default:
			f.Input.Width = valueW - 1
			value = f.Input.View()
		}
		lines = append(lines, mark+label+value)
		switch {
		case f.Err != "":
			lines = append(lines, wrapIndent(st.FieldError, "✗ "+f.Err, labelWidth+2, inner)...)
		case f.Hint != "":
			lines = append(lines, wrapIndent(st.Dim, f.Hint, labelWidth+2, inner)...)
		}
	}
	if len(m.Lines) > 0 {
		lines = append(lines, "")
		for _, l := range m.Lines {
			lines = append(lines, wrapIndent(st.HelpDesc, l, 0, inner)...)
		}
	}
	if m.Message != "" {
		lines = append(lines, "")
		style := st.StatusInfo
		if m.Failed {
			style = st.StatusError
		}
		lines = append(lines, wrapIndent(style, m.Message, 0, inner)...)
	}
	lines = append(lines, "", st.Dim.Render(m.footer(inner)))
	if max := m.Height - 3; max > 0 && len(lines) > max {
		lines = lines[:max]
	}
	body := strings.Join(lines, "\n")
	box := st.Box.Width(inner + 2)
	return box.Render(st.BoxTitle.Render(m.Title) + "\n" + body)
}

func (m *Model) footer(width int) string {
	s := "enter send · tab/shift+tab move · ←/→ choose · esc cancel"
	if m.Busy {
		s = "sending…"
	}
	for _, b := range m.Extra {
		s += " · " + b.Help().Key + " " + strings.Fields(b.Help().Desc)[0]
	}
	return table.Fit(s, width, table.Left)
}

// wrapIndent wraps text to width, indenting every line by indent, each
// rendered in style.
func wrapIndent(style lipgloss.Style, text string, indent, width int) []string {
	w := max(10, width-indent)
	var out []string
	for _, l := range wrap(text, w) {
		out = append(out, strings.Repeat(" ", indent)+style.Render(l))
	}
	return out
}

// wrap breaks text into lines of at most width cells, at spaces when it
// can.
func wrap(text string, width int) []string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			for len(word) > width {
				if line != "" {
					out = append(out, line)
					line = ""
				}
				out = append(out, word[:width])
				word = word[width:]
			}
			switch {
			case line == "":
				line = word
			case len(line)+1+len(word) <= width:
				line += " " + word
			default:
				out = append(out, line)
				line = word
			}
		}
		out = append(out, line)
	}
	return out
}

// Wrap is the form's word wrapping, for views that show messages.
func Wrap(text string, width int) []string { return wrap(text, width) }
