package tui

import (
	"context"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"zonekeeper/daemon/api"
	"zonekeeper/daemon/client"
	"zonekeeper/tui/common"
)

// historyEvents is how many past events the feed starts with.
const historyEvents = 500

// catchUpEvents bounds the events replayed after a reconnection.
const catchUpEvents = 5000

// frame is how long the feed gathers events into one batch: at 1 000
// events a second the views update about 30 times a second, not 1 000.
const frame = 33 * time.Millisecond

// maxBatch bounds one batch.
const maxBatch = 2000

// feedBuffer bounds the events read from the stream but not yet handed
// to the views; when it is full the daemon's own follower buffer fills
// and the daemon reports the loss with an events-dropped notice.
const feedBuffer = 8192

// feed is the live event stream: one command reads the stream into a
// channel; another hands the channel's contents to the views in batches.
type feed struct {
	gen     int // numbers the streams: messages of older ones are ignored
	running bool
	cancel  context.CancelFunc
	last    int64 // the highest event id seen: a new stream resumes after it
}

// Messages of the feed.
type (
	batchMsg struct {
		gen    int
		ch     <-chan api.Event
		events []api.Event
	}
	streamEndedMsg struct {
		gen int
		err error
	}
)

// start opens a new stream, after the last event seen.
func (f *feed) start(ctx context.Context, d common.Daemon) tea.Cmd {
	f.stop()
	f.gen++
	f.running = true
	ctx, f.cancel = context.WithCancel(ctx)
	gen := f.gen
	q := client.EventQuery{Follow: true, Limit: historyEvents}
	if f.last > 0 {
		q.Since, q.Limit = f.last, catchUpEvents
	}
	ch := make(chan api.Event, feedBuffer)
	stream := func() tea.Msg {
		defer close(ch)
		err := d.Events(ctx, q, func(ev api.Event) error {
			select {
			case ch <- ev:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		return streamEndedMsg{gen: gen, err: err}
	}
	return tea.Batch(stream, wait(gen, ch))
}

// stop ends the stream; its last messages are ignored.
func (f *feed) stop() {
	f.gen++
	if f.cancel != nil {
		f.cancel()
		f.cancel = nil
	}
	f.running = false
}

// wait returns the next batch: it blocks for one event, then gathers
// what arrives within a frame.
func wait(gen int, ch <-chan api.Event) tea.Cmd {
	return func() tea.Msg {
		ev, ok := <-ch
		if !ok {
			return nil
		}
		batch := []api.Event{ev}
		timer := time.NewTimer(frame)
		defer timer.Stop()
		for len(batch) < maxBatch {
			select {
			case ev, ok := <-ch:
				if !ok {
					return batchMsg{gen: gen, ch: ch, events: batch}
				}
				batch = append(batch, ev)
			case <-timer.C:
				return batchMsg{gen: gen, ch: ch, events: batch}
			}
		}
		return batchMsg{gen: gen, ch: ch, events: batch}
	}
}

// batch hands a batch to the views and waits for the next.
func (a *App) batch(msg batchMsg) tea.Cmd {
	if msg.gen != a.feed.gen {
		return nil
	}
	for _, ev := range msg.events {
		if ev.ID > a.feed.last {
			a.feed.last = ev.ID
		}
	}
	return tea.Batch(a.broadcast(common.EventsMsg{Events: msg.events}), wait(msg.gen, msg.ch))
}

// streamEnded handles the end of the stream: the daemon went away (or
// closed it); the connection is checked, and a reconnection restarts it.
func (a *App) streamEnded(msg streamEndedMsg) tea.Cmd {
	if msg.gen != a.feed.gen || a.ctx.Err() != nil {
		return nil
	}
	a.feed.running = false
	if msg.err != nil && !common.IsConnError(msg.err) {
		// The daemon answers but refuses the stream: say so and try
		// again later, without reloading every view in a loop.
		gen := a.feed.gen
		return tea.Batch(common.Fail("activity stream", msg.err),
			tea.Tick(refuseRetry, func(time.Time) tea.Msg { return restartFeedMsg{gen} }))
	}
	return a.lost(msg.err)
}

// refuseRetry is how long the feed waits after the daemon refused it.
const refuseRetry = 5 * time.Second

// restartFeedMsg restarts a feed the daemon refused.
type restartFeedMsg struct{ gen int }

func (a *App) restartFeed(msg restartFeedMsg) tea.Cmd {
	if msg.gen != a.feed.gen || a.feed.running || a.conn.state != connected {
		return nil
	}
	return a.feed.start(a.ctx, a.c.Daemon)
}
