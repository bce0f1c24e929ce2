// Package common holds what every view and widget of the TUI shares: the
// Common struct they embed (size, styles, keys, clock, the daemon), the
// Page interface the root drives, the messages that cross views, and the
// few formatting rules every view must agree on.
package common

import (
	"context"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"zonekeeper/tui/keymap"
	"zonekeeper/tui/styles"
)

// RequestTimeout bounds one request to the daemon from the TUI. An edit
// rewrites a whole zone, so it is generous; the UI never waits on it.
const RequestTimeout = 2 * time.Minute

// Common is embedded by every page and component.
type Common struct {
	Ctx    context.Context // ends when the TUI ends; requests derive from it
	Daemon Daemon
	Styles *styles.Styles
	KeyMap *keymap.KeyMap
	Now    func() time.Time // the clock: injected so that tests render the same text
	Loc    *time.Location   // where event times are shown
	Nav    *Nav             // view changes, carried out by the root

	Width, Height int
}

// SetSize records the area the component may draw in.
func (c *Common) SetSize(width, height int) {
	c.Width, c.Height = width, height
}

// Call runs fn in a command, with a context bounded by RequestTimeout,
// and delivers its message.
func (c *Common) Call(fn func(ctx context.Context) tea.Msg) tea.Cmd {
	ctx := c.Ctx
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, RequestTimeout)
		defer cancel()
		return fn(ctx)
	}
}
