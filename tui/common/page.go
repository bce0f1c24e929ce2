package common

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// Page is one view of the TUI. The root sends it every message (each
// page ignores what is not for it) and, when it is the active view, the
// keys the root does not answer itself.
type Page interface {
	// Title names the view in the tab bar.
	Title() string
	// Update handles a message; it never blocks: I/O goes in commands.
	Update(msg tea.Msg) tea.Cmd
	// View renders the page in exactly its size.
	View() string
	SetSize(width, height int)
	// Keys lists every key the view answers to now, for the help screen.
	Keys() []key.Binding
	// Modal reports whether a form, dialog or filter input has the
	// keyboard: the root then passes it every key but ctrl+c.
	Modal() bool
}

// Activator is a Page that wants to know when it becomes the active view
// and when it stops being it: a view whose data costs live probes (the
// cluster view's zone health) fetches it on entering and polls only
// while shown. The root calls SetActive after every view change.
type Activator interface {
	SetActive(active bool) tea.Cmd
}
