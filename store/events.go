package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Outcome is how an activity ended.
type Outcome string

// The outcomes.
const (
	OutcomeOK      Outcome = "ok"
	OutcomeWarning Outcome = "warning"
	OutcomeError   Outcome = "error"
)

func (o Outcome) valid() bool {
	return o == OutcomeOK || o == OutcomeWarning || o == OutcomeError
}

// Event is one entry of the activity log: a reload, a NOTIFY, a transfer,
// an edit, an error.
type Event struct {
	ID        int64     // set by Append; increasing, never reused
	Time      time.Time // stored in UTC to the nanosecond; zero means now
	Zone      string    // stored lower case; "" when about no zone
	Kind      string    // what happened: "reload", "notify-in", "axfr-out", "key-add"...
	Peer      string    // the other side, if any ("127.0.0.2:53", a peer name)
	Serial    uint32    // the serial concerned, when HasSerial
	HasSerial bool      // false when no serial applies (serial 0 is a real serial)
	Detail    string    // human-readable, one line
	Outcome   Outcome   // "" means OutcomeOK
	// Traffic marks an event caused by unauthenticated DNS traffic
	// (anyone can send it). Such events are kept within a bound of
	// their own, a tenth of the log's (TrafficShare), on top of it, so
	// that a flood of them cannot evict the others.
	Traffic bool
}

// TrafficShare sets the bound of Traffic events: 1/TrafficShare of the
// log's bound, kept besides the other events.
const TrafficShare = 10

// classBound is the most events of one class a log of bound rows keeps.
func classBound(bound int64, traffic bool) int64 {
	if traffic {
		return bound / TrafficShare
	}
	return bound
}

// EventFilter selects events for EventLog.List. The zero filter returns
// every event, oldest first.
type EventFilter struct {
	AfterID  int64   // only events with ID > AfterID: a follower catching up
	BeforeID int64   // if > 0, only events with ID < BeforeID: paging back
	Zone     string  // if set, only events about this zone
	Kind     string  // if set, only events of this kind
	Outcome  Outcome // if set, only events with this outcome
	Trusted  bool    // only events that are not Traffic
	Limit    int     // if > 0, at most this many (the first ones in the chosen order)
	Newest   bool    // newest first; otherwise oldest first
}

// EventLog is the persistent activity log. It is bounded: once it holds
// the maximum number of events (Open's WithMaxEvents, DefaultMaxEvents
// otherwise), each Append drops the oldest. Traffic events are bounded
// apart: they drop only the oldest Traffic event. Safe for concurrent use.
type EventLog interface {
	// Append stores e and returns it with its ID and time set. ctx is
	// checked before the event is queued; once queued it is written
	// (concurrent Appends share a commit) and Append waits for that.
	Append(ctx context.Context, e Event) (Event, error)
	// List returns the events f selects.
	List(ctx context.Context, f EventFilter) ([]Event, error)
}

// eventTable is the SQLite EventLog.
//
// Bound: each class of events (Traffic or not) numbers its rows in seq,
// one more than the class's newest, and each commit of new events ends
// with one indexed range delete per class it inserted into, in the same
// transaction: the class's newest seq is N, so removing seq <= N - max
// leaves at most max rows, however the seqs are spaced (they are
// distinct integers in (N-max, N]). In the steady state that deletes a
// row at the low end of the (traffic, seq) index; nothing counts the
// table. The id is the log's order: AUTOINCREMENT guarantees it only
// grows, so followers that resume from an id never see one reused.
//
// Cost: a commit, not a row, is what an append pays for (the WAL write
// dominates), so concurrent Appends are combined: each queues its event,
// and whichever gets the write lock commits every queued event in one
// transaction and hands each caller its result. A lone Append is one
// transaction; a burst from many goroutines shares a few.
type eventTable struct{ db *DB }

// appendReq is one queued Append; done receives its outcome once, after
// e.ID is set.
type appendReq struct {
	e    Event
	done chan error
}

// maxAppendBatch bounds the rows one combined transaction inserts, so the
// write lock is not held for long behind a burst.
const maxAppendBatch = 256

// Append implements EventLog.
func (t eventTable) Append(ctx context.Context, e Event) (Event, error) {
	if e.Outcome == "" {
		e.Outcome = OutcomeOK
	}
	if !e.Outcome.valid() {
		return Event{}, fmt.Errorf("store: event %q: outcome %q (want ok, warning or error): %w", e.Kind, e.Outcome, ErrInvalid)
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.Time = e.Time.UTC()
	e.Zone = strings.ToLower(e.Zone)
	if err := ctx.Err(); err != nil {
		return Event{}, fmt.Errorf("store: append event %q: %w", e.Kind, err)
	}

	db := t.db
	req := &appendReq{e: e, done: make(chan error, 1)}
	db.pendingMu.Lock()
	db.pending = append(db.pending, req)
	db.pendingMu.Unlock()

	// Once queued, the event is written by this goroutine or by another
	// Append that got the lock first; either way the wait is bounded by
	// the batches ahead of it, so it does not watch ctx any more.
	for {
		select {
		case err := <-req.done:
			if err != nil {
				return Event{}, fmt.Errorf("store: append event %q: %w", e.Kind, err)
			}
			return req.e, nil
		case db.writeSem <- struct{}{}:
			db.commitPending()
			<-db.writeSem
		}
	}
}

// commitPending writes up to maxAppendBatch queued events in one
// transaction, trims the log, and tells each waiting Append how it went.
// The caller holds writeSem. The transaction runs without any caller's
// context: it carries other callers' events too.
func (db *DB) commitPending() {
	db.pendingMu.Lock()
	n := min(len(db.pending), maxAppendBatch)
	batch := db.pending[:n:n]
	db.pending = db.pending[n:]
	db.pendingMu.Unlock()
	if len(batch) == 0 {
		return
	}

	bound := db.maxEvents.Load()
	ctx := context.Background()
	ids := make([]int64, len(batch))
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var seq [2]int64 // the newest seq of each class: other, traffic
		var used [2]bool // the classes this commit inserts into
		for c := range seq {
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM events WHERE traffic = ?`, c).Scan(&seq[c]); err != nil {
				return err
			}
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO events (time, zone, kind, peer, serial, detail, outcome, traffic, seq)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i, r := range batch {
			e := &r.e
			var serial sql.NullInt64
			if e.HasSerial {
				serial = sql.NullInt64{Int64: int64(e.Serial), Valid: true}
			}
			c := classOf(e.Traffic)
			seq[c]++
			used[c] = true
			res, err := stmt.ExecContext(ctx, e.Time.UnixNano(), e.Zone, e.Kind, e.Peer, serial, e.Detail, e.Outcome, c, seq[c])
			if err != nil {
				return err
			}
			if ids[i], err = res.LastInsertId(); err != nil {
				return err
			}
		}
		for c := range seq {
			if used[c] {
				if err := trimClass(ctx, tx, c, seq[c]-classBound(bound, c == 1)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	for i, r := range batch {
		if err == nil {
			r.e.ID = ids[i]
		}
		r.done <- err
	}
}

// classOf is the traffic column's value for an event.
func classOf(traffic bool) int {
	if traffic {
		return 1
	}
	return 0
}

// trimClass deletes the events of class c numbered up to seq.
func trimClass(ctx context.Context, tx *sql.Tx, c int, seq int64) error {
	if seq <= 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM events WHERE traffic = ? AND seq <= ?`, c, seq)
	return err
}

// trimEvents applies the bounds to the log as it stands, for a bound
// lowered since the last run.
func (db *DB) trimEvents(ctx context.Context) error {
	bound := db.maxEvents.Load()
	return db.write(ctx, func(tx *sql.Tx) error {
		for c := range 2 {
			var newest int64
			err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM events WHERE traffic = ?`, c).Scan(&newest)
			if err == nil {
				err = trimClass(ctx, tx, c, newest-classBound(bound, c == 1))
			}
			if err != nil {
				return fmt.Errorf("store: trim events: %w", err)
			}
		}
		return nil
	})
}

// List implements EventLog.
func (t eventTable) List(ctx context.Context, f EventFilter) ([]Event, error) {
	var (
		where []string
		args  []any
	)
	if f.AfterID > 0 {
		where, args = append(where, "id > ?"), append(args, f.AfterID)
	}
	if f.BeforeID > 0 {
		where, args = append(where, "id < ?"), append(args, f.BeforeID)
	}
	if f.Zone != "" {
		where, args = append(where, "zone = ?"), append(args, strings.ToLower(f.Zone))
	}
	if f.Kind != "" {
		where, args = append(where, "kind = ?"), append(args, f.Kind)
	}
	if f.Outcome != "" {
		where, args = append(where, "outcome = ?"), append(args, f.Outcome)
	}
	if f.Trusted {
		where = append(where, "traffic = 0")
	}
	q := `SELECT id, time, zone, kind, peer, serial, detail, outcome, traffic FROM events`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	if f.Newest {
		q += ` ORDER BY id DESC`
	} else {
		q += ` ORDER BY id`
	}
	if f.Limit > 0 {
		q, args = q+` LIMIT ?`, append(args, f.Limit)
	}

	rows, err := t.db.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list events: %w", err)
	}
	defer rows.Close()
	var es []Event
	for rows.Next() {
		var (
			e      Event
			ns     int64
			serial sql.NullInt64
		)
		if err := rows.Scan(&e.ID, &ns, &e.Zone, &e.Kind, &e.Peer, &serial, &e.Detail, &e.Outcome, &e.Traffic); err != nil {
			return nil, fmt.Errorf("store: list events: %w", err)
		}
		e.Time = time.Unix(0, ns).UTC()
		e.Serial, e.HasSerial = uint32(serial.Int64), serial.Valid
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list events: %w", err)
	}
	return es, nil
}
