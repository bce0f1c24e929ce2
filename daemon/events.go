package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"zonekeeper/daemon/api"
	"zonekeeper/store"
	"zonekeeper/zonefile"
)

// eventQueueSize bounds the events waiting to be written to the log.
const eventQueueSize = 4096

// followerBuffer bounds the events waiting for one slow follower.
const followerBuffer = 256

// events records activity: every event is written to the store's bounded
// log by one writer goroutine and then fanned out to the followers of
// the event stream. Emit never blocks: when the writer falls behind the
// event is dropped and counted, so a burst of activity cannot stall the
// part of the daemon that reported it.
type events struct {
	log   store.EventLog
	slog  *slog.Logger
	queue chan queuedEvent
	lost  atomic.Int64 // dropped before reaching the log

	mu        sync.Mutex
	followers map[*follower]struct{}
}

type queuedEvent struct {
	ev   api.Event
	done chan struct{} // closed once stored and fanned out; nil when nobody waits
}

// follower is one reader of the live event stream.
type follower struct {
	ch      chan api.Event
	dropped atomic.Int64 // events this follower missed because it was slow
}

func newEvents(log store.EventLog, slogger *slog.Logger) *events {
	return &events{
		log:       log,
		slog:      slogger,
		queue:     make(chan queuedEvent, eventQueueSize),
		followers: make(map[*follower]struct{}),
	}
}

// maxEventDetail bounds an event's detail: what a zonefile or a peer
// quoted may be any length.
const maxEventDetail = 4096

// Emit records an event without waiting.
func (e *events) Emit(ev api.Event) {
	if ev.Time.IsZero() {
		ev.Time = time.Now().UTC()
	}
	ev.Detail = zonefile.Clip(ev.Detail, maxEventDetail)
	select {
	case e.queue <- queuedEvent{ev: ev}:
	default:
		e.lost.Add(1)
	}
}

// EmitWait records an event and waits until it is in the log, so that a
// control call that returns has its event visible to `events`.
func (e *events) EmitWait(ctx context.Context, ev api.Event) {
	if ev.Time.IsZero() {
		ev.Time = time.Now().UTC()
	}
	ev.Detail = zonefile.Clip(ev.Detail, maxEventDetail)
	done := make(chan struct{})
	select {
	case e.queue <- queuedEvent{ev: ev, done: done}:
	case <-ctx.Done():
		return
	}
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// Run writes queued events to the log until ctx is cancelled, then
// drains what is queued.
func (e *events) Run(ctx context.Context) error {
	for {
		select {
		case q := <-e.queue:
			e.write(q)
		case <-ctx.Done():
			for {
				select {
				case q := <-e.queue:
					e.write(q)
				default:
					return nil
				}
			}
		}
	}
}

func (e *events) write(q queuedEvent) {
	if n := e.lost.Swap(0); n > 0 {
		e.store(api.Event{Time: time.Now().UTC(), Kind: "events-lost", Outcome: api.OutcomeWarning,
			Detail: fmt.Sprintf("%d events were not recorded: the activity log writer fell behind", n)})
	}
	e.store(q.ev)
	if q.done != nil {
		close(q.done)
	}
}

// store appends one event to the log and hands it to the followers.
func (e *events) store(ev api.Event) {
	stored, err := e.log.Append(context.Background(), toStoreEvent(ev))
	if err != nil {
		// The log is the record of what happened; losing an entry is
		// worth a line in the daemon's own log.
		e.slog.Error("activity log: "+err.Error(), "kind", ev.Kind, "zone", ev.Zone, "detail", ev.Detail)
	} else {
		ev = fromStoreEvent(stored)
	}
	e.mu.Lock()
	for f := range e.followers {
		select {
		case f.ch <- ev:
		default:
			f.dropped.Add(1)
		}
	}
	e.mu.Unlock()
}

// subscribe registers a follower of the live stream.
func (e *events) subscribe() *follower {
	f := &follower{ch: make(chan api.Event, followerBuffer)}
	e.mu.Lock()
	e.followers[f] = struct{}{}
	e.mu.Unlock()
	return f
}

func (e *events) unsubscribe(f *follower) {
	e.mu.Lock()
	delete(e.followers, f)
	e.mu.Unlock()
}

func toStoreEvent(ev api.Event) store.Event {
	return store.Event{
		Time: ev.Time, Zone: ev.Zone, Kind: ev.Kind, Peer: ev.Peer,
		Serial: ev.Serial, HasSerial: ev.Serial != 0, Detail: ev.Detail, Outcome: store.Outcome(ev.Outcome),
		Traffic: ev.Traffic,
	}
}

func fromStoreEvent(s store.Event) api.Event {
	return api.Event{
		ID: s.ID, Time: s.Time, Zone: s.Zone, Kind: s.Kind, Peer: s.Peer,
		Serial: s.Serial, Detail: s.Detail, Outcome: string(s.Outcome), Traffic: s.Traffic,
	}
}
