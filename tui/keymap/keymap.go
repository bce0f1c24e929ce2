// Package keymap is the TUI's one key map: every key any view answers to
// is declared here, so that help screens and handlers agree.
package keymap

import "github.com/charmbracelet/bubbles/key"

// KeyMap holds every binding of the TUI. Views copy the ones they use
// and may reword their help with Describe.
type KeyMap struct {
	// Global keys, answered by the root whatever the view.
	Quit      key.Binding // q, ctrl+c; q closes a dialog first
	ForceQuit key.Binding // ctrl+c, even in a form
	Help      key.Binding // ?
	NextView  key.Binding // tab
	PrevView  key.Binding // shift+tab
	Views     []key.Binding

	// Moving in lists.
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Top      key.Binding
	Bottom   key.Binding

	Open   key.Binding // enter
	Back   key.Binding // esc
	Filter key.Binding // /

	// Zones.
	Sort    key.Binding
	Reverse key.Binding
	Refresh key.Binding

	// Zone.
	Add       key.Binding
	Edit      key.Binding
	Delete    key.Binding
	Retrieve  key.Binding
	Notify    key.Binding
	Promote   key.Binding
	Demote    key.Binding
	SetSerial key.Binding

	// Activity.
	Pause      key.Binding
	ZoneFilter key.Binding
	KindFilter key.Binding
	Older      key.Binding

	// Keys.
	Generate key.Binding

	// Cluster.
	PromoteAll key.Binding
	Health     key.Binding // the zone health pane, and back
	PrevZone   key.Binding
	NextZone   key.Binding

	// Forms and dialogs.
	NextField key.Binding
	PrevField key.Binding
	Choice    key.Binding
	Submit    key.Binding
	Rebase    key.Binding
	Confirm   key.Binding
	Cancel    key.Binding
}

// Default returns the key map of the TUI.
func Default() *KeyMap {
	b := func(help, desc string, keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return &KeyMap{
		Quit:      b("q", "quit (closes a dialog first)", "q", "ctrl+c"),
		ForceQuit: b("ctrl+c", "quit now", "ctrl+c"),
		Help:      b("?", "help: the keys of this view", "?"),
		NextView:  b("tab", "next view", "tab"),
		PrevView:  b("shift+tab", "previous view", "shift+tab"),
		Views: []key.Binding{
			b("1", "zones", "1"),
			b("2", "zone", "2"),
			b("3", "activity", "3"),
			b("4", "keys", "4"),
			b("5", "cluster", "5"),
		},

		Up:       b("↑/k", "up", "up", "k"),
		Down:     b("↓/j", "down", "down", "j"),
		PageUp:   b("pgup/ctrl+b", "page up", "pgup", "ctrl+b"),
		PageDown: b("pgdn/ctrl+f", "page down", "pgdown", "ctrl+f"),
		Top:      b("g/home", "first row", "g", "home"),
		Bottom:   b("G/end", "last row", "G", "end"),

		Open:   b("enter", "open", "enter"),
		Back:   b("esc", "back; clears the filter first", "esc"),
		Filter: b("/", "filter", "/"),

		Sort:    b("s", "sort by the next column", "s"),
		Reverse: b("S", "reverse the order", "S"),
		Refresh: b("ctrl+r", "reload from the daemon", "ctrl+r"),

		Add:       b("a", "add", "a"),
		Edit:      b("e", "edit", "e"),
		Delete:    b("d", "delete", "d", "delete"),
		Retrieve:  b("r", "retrieve from the primaries now", "r"),
		Notify:    b("n", "send NOTIFY to the secondaries", "n"),
		Promote:   b("p", "promote to primary", "p"),
		Demote:    b("D", "demote to secondary", "D"),
		SetSerial: b("S", "set the serial (RFC 2182 §7 reset: plan, confirm, run)", "S"),

		Pause:      b("space", "pause / resume", " "),
		ZoneFilter: b("z", "only the selected event's zone (again: all)", "z"),
		KindFilter: b("t", "only the selected event's kind (again: all)", "t"),
		Older:      b("o", "load older events", "o"),

		Generate: b("g", "generate a key", "g"),

		PromoteAll: b("P", "promote every zone from the selected primary", "P"),
		Health:     b("h", "zone health: every server of a zone, lint (h again: failover)", "h"),
		PrevZone:   b("[", "previous zone", "["),
		NextZone:   b("]", "next zone", "]"),

		NextField: b("tab/↓", "next field", "tab", "down"),
		PrevField: b("shift+tab/↑", "previous field", "shift+tab", "up"),
		Choice:    b("←/→", "change a choice", "left", "right"),
		Submit:    b("enter", "send", "enter"),
		Rebase:    b("ctrl+r", "rebase on the zone's current serial", "ctrl+r"),
		Confirm:   b("y/enter", "confirm", "y", "enter"),
		Cancel:    b("n/esc/q", "cancel", "n", "esc", "q"),
	}
}

// Describe returns b with its help reworded for one view.
func Describe(b key.Binding, desc string) key.Binding {
	b.SetHelp(b.Help().Key, desc)
	return b
}

// Only returns b answering only to the given keys (help unchanged): a
// view where some of b's keys mean something else.
func Only(b key.Binding, keys ...string) key.Binding {
	b.SetKeys(keys...)
	return b
}
