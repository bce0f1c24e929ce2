package common

import (
	"context"
	"errors"

	tea "github.com/charmbracelet/bubbletea"

	"zonekeeper/daemon/api"
)

// ConnectedMsg tells every page that the daemon answers, first or again:
// pages (re)load what they show.
type ConnectedMsg struct {
	Status *api.Status
	Again  bool // a reconnection, not the first contact
}

// EventsMsg carries a batch of activity events, oldest first: what the
// live stream delivered since the last frame.
type EventsMsg struct {
	Events []api.Event
}

// OpenZoneMsg asks the root to show one zone in the zone view.
type OpenZoneMsg struct{ Name string }

// BackMsg asks the root to return to the previous view.
type BackMsg struct{}

// ZonesMsg carries a fresh zone list; the zones view fetches it and the
// cluster view reads it too.
type ZonesMsg struct {
	Zones []api.Zone
	Err   error
}

// StatusMsg sets the status line: an outcome to report, or an error.
type StatusMsg struct {
	Text string
	Err  error
}

// Info returns a command that reports text in the status line.
func Info(text string) tea.Cmd {
	return func() tea.Msg { return StatusMsg{Text: text} }
}

// Fail returns a command that reports err, about what, in the status line.
func Fail(what string, err error) tea.Cmd {
	return func() tea.Msg { return StatusMsg{Text: what, Err: err} }
}

// IsConnError reports whether err means the daemon could not be reached
// (as opposed to the daemon refusing a request): the root then checks the
// connection and reconnects.
func IsConnError(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var ae *api.Error
	if errors.As(err, &ae) {
		return false
	}
	// Not a refusal: the socket is gone, refused, unreadable, or the
	// reply broke off. Checking the connection again is cheap.
	return true
}

// ErrorCode returns the API error code of err, or "".
func ErrorCode(err error) string {
	var ae *api.Error
	if errors.As(err, &ae) {
		return ae.Code
	}
	return ""
}

// DaemonStatusMsg carries the daemon's status, each time the root polls
// it.
type DaemonStatusMsg struct {
	Status *api.Status
}

// Nav queues the view changes a view asks for while it handles a key
// (OpenZoneMsg, BackMsg). The root carries them out before it reads the
// next key, so that keys typed right after enter reach the new view.
type Nav struct{ queue []tea.Msg }

// Go asks for a view change.
func (n *Nav) Go(msg tea.Msg) { n.queue = append(n.queue, msg) }

// Take returns the changes asked for, and forgets them.
func (n *Nav) Take() []tea.Msg {
	q := n.queue
	n.queue = nil
	return q
}
