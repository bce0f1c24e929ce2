package tui

import (
	"context"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"zonekeeper/daemon/api"
	"zonekeeper/tui/common"
)

// pollInterval is how often the daemon's status is asked while
// connected: it notices a daemon that went away without a word.
const pollInterval = 5 * time.Second

// statusTimeout bounds one status request: a daemon that does not answer
// this fast is treated as unreachable.
const statusTimeout = 5 * time.Second

// Connection states.
type connState int

const (
	connecting   connState = iota // never reached yet
	connected                     // the last status request was answered
	reconnecting                  // lost; retrying with backoff
)

// conn tracks the connection to the daemon.
type conn struct {
	state    connState
	ever     bool // was connected once
	attempts int  // failed attempts since the last success
	err      error
	checking bool // a status request is under way
	gen      int  // numbers the scheduled checks: only the latest runs
}

// Messages of the connection.
type (
	statusResultMsg struct {
		status *api.Status
		err    error
	}
	checkMsg struct{ gen int }
)

// backoff is the wait before the attempt after n failures: quick at
// first, since a restarting daemon is back within a second or two.
func backoff(n int) time.Duration {
	d := 250 * time.Millisecond << min(n, 4)
	return min(d, 3*time.Second)
}

// check asks the daemon's status now.
func (a *App) check() tea.Cmd {
	if a.conn.checking {
		return nil
	}
	a.conn.checking = true
	a.conn.gen++
	d, ctx := a.c.Daemon, a.ctx
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, statusTimeout)
		defer cancel()
		st, err := d.Status(ctx)
		return statusResultMsg{status: st, err: err}
	}
}

// checkAfter schedules a status request.
func (a *App) checkAfter(d time.Duration) tea.Cmd {
	a.conn.gen++
	gen := a.conn.gen
	return tea.Tick(d, func(time.Time) tea.Msg { return checkMsg{gen} })
}

// lost marks the connection lost and starts reconnecting.
func (a *App) lost(err error) tea.Cmd {
	if a.conn.state == connected {
		a.conn.state = reconnecting
		a.conn.attempts = 0
		a.feed.stop()
	}
	if err != nil {
		a.conn.err = err
	}
	return a.check()
}

// statusResult handles the answer to a status request.
func (a *App) statusResult(msg statusResultMsg) tea.Cmd {
	a.conn.checking = false
	if a.ctx.Err() != nil {
		return nil
	}
	if msg.err != nil {
		if a.conn.state == connected {
			a.conn.state = reconnecting
			a.conn.attempts = 0
			a.feed.stop()
		}
		a.conn.err = msg.err
		a.conn.attempts++
		return a.checkAfter(backoff(a.conn.attempts))
	}
	cmds := []tea.Cmd{a.checkAfter(pollInterval)}
	if a.conn.state != connected {
		again := a.conn.ever
		a.conn.state, a.conn.ever, a.conn.attempts, a.conn.err = connected, true, 0, nil
		cmds = append(cmds, a.broadcast(common.ConnectedMsg{Status: msg.status, Again: again}), a.feed.start(a.ctx, a.c.Daemon))
		if again {
			cmds = append(cmds, common.Info("reconnected to the daemon"))
		}
	} else if !a.feed.running {
		cmds = append(cmds, a.feed.start(a.ctx, a.c.Daemon))
	}
	cmds = append(cmds, a.broadcast(common.DaemonStatusMsg{Status: msg.status}))
	return tea.Batch(cmds...)
}
