package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestEventAppendList(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	log := db.Events()

	at := time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.FixedZone("CET", 3600))
	e, err := log.Append(ctx, Event{Time: at, Zone: "Example.ORG.", Kind: "reload", Serial: 0, HasSerial: true,
		Detail: "serial 0", Peer: ""})
	if err != nil {
		t.Fatal(err)
	}
	if e.ID <= 0 || e.Outcome != OutcomeOK || e.Zone != "example.org." || !e.Time.Equal(at) || e.Time.Location() != time.UTC {
		t.Errorf("Append returned %+v", e)
	}
	before := time.Now()
	inputs := []Event{
		{Zone: "example.org.", Kind: "notify-in", Peer: "127.0.0.2:53", Serial: 7, HasSerial: true},
		{Zone: "example.net.", Kind: "axfr-out", Peer: "127.0.0.3", Outcome: OutcomeWarning, Detail: "slow"},
		{Kind: "key-add", Detail: "k1."},
		{Zone: "example.org.", Kind: "reload-error", Outcome: OutcomeError, Detail: "line 3: CNAME beside A"},
	}
	for _, in := range inputs {
		if _, err := log.Append(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := log.Append(ctx, Event{Kind: "x", Outcome: "fatal"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Append with outcome fatal: %v, want ErrInvalid", err)
	}

	all, err := log.List(ctx, EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 5 {
		t.Fatalf("List: %d events, want 5", len(all))
	}
	if all[0] != e {
		t.Errorf("stored %+v\nreturned %+v", all[0], e)
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID <= all[i-1].ID {
			t.Errorf("ids not increasing: %d after %d", all[i].ID, all[i-1].ID)
		}
		if all[i].Time.Before(before.Add(-time.Second)) {
			t.Errorf("event %d: zero time not replaced by now: %v", i, all[i].Time)
		}
	}
	if all[1].Serial != 7 || !all[1].HasSerial || all[2].HasSerial || all[2].Outcome != OutcomeWarning {
		t.Errorf("fields: %+v %+v", all[1], all[2])
	}

	ids := func(es []Event) []int64 {
		var out []int64
		for _, e := range es {
			out = append(out, e.ID)
		}
		return out
	}
	id := func(i int) int64 { return all[i].ID }
	tests := []struct {
		name string
		f    EventFilter
		want []int64
	}{
		{"after", EventFilter{AfterID: id(2)}, []int64{id(3), id(4)}},
		{"after the last", EventFilter{AfterID: id(4)}, nil},
		{"before", EventFilter{BeforeID: id(1)}, []int64{id(0)}},
		{"zone", EventFilter{Zone: "EXAMPLE.org."}, []int64{id(0), id(1), id(4)}},
		{"kind", EventFilter{Kind: "axfr-out"}, []int64{id(2)}},
		{"outcome", EventFilter{Outcome: OutcomeError}, []int64{id(4)}},
		{"newest", EventFilter{Newest: true}, []int64{id(4), id(3), id(2), id(1), id(0)}},
		{"newest limit", EventFilter{Newest: true, Limit: 2}, []int64{id(4), id(3)}},
		{"oldest limit", EventFilter{Limit: 2}, []int64{id(0), id(1)}},
		{"zone after limit", EventFilter{Zone: "example.org.", AfterID: id(0), Limit: 1}, []int64{id(1)}},
		{"page back", EventFilter{BeforeID: id(4), Newest: true, Limit: 2}, []int64{id(3), id(2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := log.List(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(ids(got)) != fmt.Sprint(tt.want) {
				t.Errorf("List(%+v) = %v, want %v", tt.f, ids(got), tt.want)
			}
		})
	}
}

func TestEventBound(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := Open(path, WithMaxEvents(10))
	if err != nil {
		t.Fatal(err)
	}
	log := db.Events()
	var last int64
	for i := range 35 {
		e, err := log.Append(ctx, Event{Kind: "reload", Detail: fmt.Sprint(i)})
		if err != nil {
			t.Fatal(err)
		}
		if e.ID <= last {
			t.Fatalf("id %d after %d", e.ID, last)
		}
		last = e.ID
		n := countEvents(t, db)
		if want := min(i+1, 10); n != want {
			t.Fatalf("after %d appends: %d rows, want %d", i+1, n, want)
		}
	}
	es, err := log.List(ctx, EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 10 || es[0].Detail != "25" || es[9].Detail != "34" || es[9].ID != last {
		t.Errorf("kept %d events, %q..%q, want the newest 10 (25..34)", len(es), es[0].Detail, es[len(es)-1].Detail)
	}

	// A follower that fell behind the bound gets what is left.
	if got, _ := log.List(ctx, EventFilter{AfterID: 1}); len(got) != 10 {
		t.Errorf("catching up from a dropped id: %d events", len(got))
	}

	// Lowering the bound takes effect at the next Open; ids keep growing.
	db.Close()
	db, err = Open(path, WithMaxEvents(3))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n := countEvents(t, db); n != 3 {
		t.Errorf("after reopening with 3: %d rows", n)
	}
	e, err := db.Events().Append(ctx, Event{Kind: "reload"})
	if err != nil {
		t.Fatal(err)
	}
	if e.ID != last+1 {
		t.Errorf("id after reopen %d, want %d", e.ID, last+1)
	}
	if n := countEvents(t, db); n != 3 {
		t.Errorf("%d rows, want 3", n)
	}

	// And at once through SetMaxEvents.
	db.SetMaxEvents(1)
	if _, err := db.Events().Append(ctx, Event{Kind: "reload"}); err != nil {
		t.Fatal(err)
	}
	if n := countEvents(t, db); n != 1 {
		t.Errorf("after SetMaxEvents(1): %d rows", n)
	}
}

// TestEventTrafficBudget checks that Traffic events, however many, keep
// to their share of the log and evict none of the others.
func TestEventTrafficBudget(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, WithMaxEvents(100))
	log := db.Events()
	if _, err := log.Append(ctx, Event{Kind: "start", Detail: "first"}); err != nil {
		t.Fatal(err)
	}
	for i := range 2000 {
		if _, err := log.Append(ctx, Event{Kind: "notify-in", Traffic: true, Detail: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
		if i%500 == 0 {
			if _, err := log.Append(ctx, Event{Kind: "reload", Detail: fmt.Sprint(i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	es, err := log.List(ctx, EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var traffic, other []string
	for _, e := range es {
		if e.Traffic {
			traffic = append(traffic, e.Detail)
		} else {
			other = append(other, e.Kind+" "+e.Detail)
		}
	}
	if want := []string{"start first", "reload 0", "reload 500", "reload 1000", "reload 1500"}; fmt.Sprint(other) != fmt.Sprint(want) {
		t.Errorf("other events %v, want %v", other, want)
	}
	if len(traffic) != 10 || traffic[9] != "1999" {
		t.Errorf("traffic events kept: %d (%v), want the newest 10", len(traffic), traffic)
	}
	trusted, err := log.List(ctx, EventFilter{Trusted: true})
	if err != nil || len(trusted) != len(other) {
		t.Errorf("trusted events: %d, want %d (%v)", len(trusted), len(other), err)
	}
}

func countEvents(t *testing.T, db *DB) int {
	t.Helper()
	var n int
	if err := db.sql.QueryRow(`SELECT COUNT(*) FROM events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEventConcurrentAppend(t *testing.T) {
	const (
		writers = 8
		each    = 50
	)
	db := openTest(t, WithMaxEvents(writers*each))
	ctx := context.Background()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = make(map[int64]bool)
	)
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			var last int64
			for i := range each {
				e, err := db.Events().Append(ctx, Event{Zone: fmt.Sprintf("z%d.", w), Kind: "notify-in", Detail: fmt.Sprint(i)})
				if err != nil {
					errs <- err
					return
				}
				if e.ID <= last {
					errs <- fmt.Errorf("writer %d: id %d after %d", w, e.ID, last)
					return
				}
				last = e.ID
				mu.Lock()
				seen[e.ID] = true
				mu.Unlock()
			}
		})
	}
	// Readers at the same time, as followers and the TUI would be.
	done := make(chan struct{})
	var rg sync.WaitGroup
	for range 2 {
		rg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := db.Events().List(ctx, EventFilter{Newest: true, Limit: 20}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	rg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(seen) != writers*each {
		t.Errorf("%d distinct ids, want %d", len(seen), writers*each)
	}
	// Every writer's events are there, in its own order.
	for w := range writers {
		es, err := db.Events().List(ctx, EventFilter{Zone: fmt.Sprintf("z%d.", w)})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != each {
			t.Fatalf("writer %d: %d events stored", w, len(es))
		}
		for i, e := range es {
			if e.Detail != fmt.Sprint(i) {
				t.Errorf("writer %d: event %d has detail %q", w, i, e.Detail)
				break
			}
		}
	}
}

// BenchmarkAppend measures one Append at a time into a full log, so each
// includes the trim of the oldest row.
func BenchmarkAppend(b *testing.B) {
	db := openTest(b, WithMaxEvents(1000))
	ctx := context.Background()
	e := Event{Zone: "example.org.", Kind: "notify-in", Peer: "127.0.0.2:53", Serial: 2026010101, HasSerial: true,
		Detail: "NOTIFY for serial 2026010101"}
	for range 1000 {
		if _, err := db.Events().Append(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := db.Events().Append(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendParallel measures Append from many goroutines at once
// (GOMAXPROCS of them; try -cpu 1,8,32), where commits are combined.
func BenchmarkAppendParallel(b *testing.B) {
	db := openTest(b, WithMaxEvents(1000))
	ctx := context.Background()
	e := Event{Zone: "example.org.", Kind: "axfr-out", Peer: "127.0.0.3", Detail: "AXFR 120 records"}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := db.Events().Append(ctx, e); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// TestEventAppendBatches queues more Appends than one combined commit
// takes, so that several batches run and every caller still gets its own
// id back.
func TestEventAppendBatches(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	const n = maxAppendBatch + 44

	db.writeSem <- struct{}{} // hold the lock until every Append is queued
	var wg sync.WaitGroup
	got := make([]Event, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			got[i], errs[i] = db.Events().Append(ctx, Event{Kind: "notify-in", Detail: fmt.Sprint(i)})
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		db.pendingMu.Lock()
		queued := len(db.pending)
		db.pendingMu.Unlock()
		if queued == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d Appends queued", queued, n)
		}
		time.Sleep(time.Millisecond)
	}
	<-db.writeSem
	wg.Wait()

	ids := make(map[int64]string)
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		ids[got[i].ID] = got[i].Detail
		if got[i].Detail != fmt.Sprint(i) {
			t.Errorf("caller %d got event %+v", i, got[i])
		}
	}
	if len(ids) != n {
		t.Fatalf("%d distinct ids for %d Appends", len(ids), n)
	}
	stored, err := db.Events().List(ctx, EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != n {
		t.Fatalf("%d events stored, want %d", len(stored), n)
	}
	for _, e := range stored {
		if ids[e.ID] != e.Detail {
			t.Errorf("id %d stored with detail %q, returned with %q", e.ID, e.Detail, ids[e.ID])
		}
	}
}

// TestEventTwoHandles appends through two handles on one file, as two
// processes would: they wait for each other's lock (busy_timeout, BEGIN
// IMMEDIATE) instead of failing with SQLITE_BUSY.
func TestEventTwoHandles(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	var (
		dbs [2]*DB
		wg  sync.WaitGroup
	)
	// Both open the fresh file at once: each migration is applied once.
	openErrs := make([]error, 2)
	for i := range dbs {
		wg.Go(func() { dbs[i], openErrs[i] = Open(path) })
	}
	wg.Wait()
	for i, err := range openErrs {
		if err != nil {
			t.Fatal(err)
		}
		defer dbs[i].Close()
	}
	errs := make(chan error, 4)
	for i := range 4 {
		wg.Go(func() {
			for j := range 50 {
				if _, err := dbs[i%2].Events().Append(ctx, Event{Kind: "reload", Detail: fmt.Sprint(i, j)}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := countEvents(t, dbs[0]); n != 200 {
		t.Errorf("%d events, want 200", n)
	}
	var rows int
	if err := dbs[1].sql.QueryRow(`SELECT COUNT(*) FROM schema_version`).Scan(&rows); err != nil || rows != LatestSchemaVersion() {
		t.Errorf("%d schema_version rows (%v), want %d", rows, err, LatestSchemaVersion())
	}
}
