package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"zonekeeper/daemon/api"
)

// Events from unauthenticated DNS traffic (docs/architecture.md,
// "Events"): anyone can send an unsigned NOTIFY, a transfer request or a
// message with a bad TSIG, from any address over UDP. Each such event is
// marked Traffic, which the activity log keeps within a bound of its own
// (store.TrafficShare), and is rate-limited per source prefix and kind of
// traffic: a source may cause trafficBurst events at once and as many a
// trafficPeriod; the rest are counted and folded into one event per
// source and period ("12406 NOTIFYs for zones not served here from
// 127.0.0.0/24 not recorded in the last 1m0s"). The daemon's own log
// follows the same limit.
//
// NOTIFY handling itself is limited per source too (notifyAllowance):
// past notifyBurst NOTIFYs and notifyRate a second from one prefix, the
// next are answered REFUSED without a look at the zone, so that a flood
// costs little CPU whatever it names.

const (
	trafficBurst   = 10          // events one source and kind may cause at once, and per period
	trafficPeriod  = time.Minute // the period of the limit and of the folded events
	trafficSources = 4096        // sources and kinds followed; beyond, new ones share one count

	notifyBurst = 1000 // NOTIFYs one source may send at once...
	notifyRate  = 500  // ...and per second, before the next are refused unseen
)

// trafficKey is one source and one kind of traffic.
type trafficKey struct {
	source netip.Prefix // the sender's /24 or /56; the zero prefix stands for "other sources"
	what   string       // the kind, in words and plural: "NOTIFYs for zones not served here"
}

// trafficCount is the limit's state for one key.
type trafficCount struct {
	bucket
	folded  int       // events not recorded since the last folded event
	sample  api.Event // the last event not recorded
	started time.Time // when the first of them was
}

// bucket is a token bucket: capacity tokens, refilled at rate a second.
type bucket struct {
	tokens float64
	at     time.Time // when tokens was last brought up to date
}

// take spends one token if there is one, after refilling it to now.
func (b *bucket) take(now time.Time, capacity, rate float64) bool {
	if b.at.IsZero() {
		b.tokens = capacity
	} else {
		b.tokens = min(capacity, b.tokens+now.Sub(b.at).Seconds()*rate)
	}
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// trafficEvents limits the events and the log lines that unauthenticated
// traffic causes. Safe for concurrent use.
type trafficEvents struct {
	emit func(api.Event)
	log  *slog.Logger
	now  func() time.Time

	mu      sync.Mutex
	counts  map[trafficKey]*trafficCount
	notifys map[netip.Prefix]*bucket
}

func newTrafficEvents(log *slog.Logger, emit func(api.Event)) *trafficEvents {
	return &trafficEvents{
		emit: emit, log: log, now: time.Now,
		counts:  make(map[trafficKey]*trafficCount),
		notifys: make(map[netip.Prefix]*bucket),
	}
}

// sourcePrefix is the prefix that counts as one source: the /24 of an
// IPv4 address, the /56 of an IPv6 one (a site's usual allocation).
func sourcePrefix(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	bits := 56
	if a.Is4() {
		bits = 24
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return netip.Prefix{}
	}
	return p
}

// report records ev, caused by traffic of kind what from addr, in the
// activity log and the daemon's log at level, unless the source has had
// its share of the period; then the event is counted for the folded one.
// ev is marked Traffic either way.
func (t *trafficEvents) report(from netip.Addr, what string, level slog.Level, ev api.Event) {
	ev.Traffic = true
	now := t.now()
	key := trafficKey{source: sourcePrefix(from), what: what}
	t.mu.Lock()
	c := t.counts[key]
	if c == nil {
		if len(t.counts) >= trafficSources {
			key.source = netip.Prefix{}
			c = t.counts[key]
		}
		if c == nil {
			c = &trafficCount{}
			t.counts[key] = c
		}
	}
	ok := c.take(now, trafficBurst, trafficBurst/trafficPeriod.Seconds())
	if !ok {
		if c.folded == 0 {
			c.started = now
		}
		c.folded++
		c.sample = ev
	}
	t.mu.Unlock()
	if !ok {
		return
	}
	attrs := []any{"kind", ev.Kind, "from", from.Unmap().String()}
	if ev.Zone != "" {
		attrs = append(attrs, "zone", ev.Zone)
	}
	t.log.Log(context.Background(), level, ev.Detail, attrs...)
	t.emit(ev)
}

// notifyAllowed reports whether a NOTIFY from addr is within its
// source's allowance; one past it is refused before any lookup.
func (t *trafficEvents) notifyAllowed(from netip.Addr) bool {
	p := sourcePrefix(from)
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.notifys[p]
	if b == nil {
		if len(t.notifys) >= trafficSources {
			p = netip.Prefix{}
			b = t.notifys[p]
		}
		if b == nil {
			b = &bucket{}
			t.notifys[p] = b
		}
	}
	return b.take(now, notifyBurst, notifyRate)
}

// fold emits one event for each key with events not recorded and
// forgets the keys whose limit has recovered, so that the maps hold only
// the sources of the last period.
func (t *trafficEvents) fold() {
	now := t.now()
	var out []api.Event
	t.mu.Lock()
	for k, c := range t.counts {
		if c.folded > 0 {
			out = append(out, foldedEvent(k, c, now))
			c.folded = 0
			continue
		}
		if now.Sub(c.at) >= trafficPeriod {
			delete(t.counts, k)
		}
	}
	for p, b := range t.notifys {
		if now.Sub(b.at) >= time.Duration(notifyBurst/notifyRate)*time.Second {
			delete(t.notifys, p)
		}
	}
	t.mu.Unlock()
	for _, ev := range out {
		t.log.Warn(ev.Detail, "kind", ev.Kind)
		t.emit(ev)
	}
}

// foldedEvent words the events of key k that were not recorded.
func foldedEvent(k trafficKey, c *trafficCount, now time.Time) api.Event {
	from := "from " + k.source.String()
	if !k.source.IsValid() {
		from = fmt.Sprintf("from other sources (more than %d sources and kinds at once)", trafficSources)
	}
	ev := c.sample
	ev.Time, ev.ID, ev.Serial = now.UTC(), 0, 0
	ev.Outcome = api.OutcomeWarning
	ev.Detail = fmt.Sprintf("%d %s %s not recorded in the last %s (at most %d a minute per source are); the last: %s",
		c.folded, k.what, from, now.Sub(c.started).Round(time.Second), trafficBurst, c.sample.Detail)
	return ev
}

// Run folds the events not recorded every period until ctx is done,
// then once more.
func (t *trafficEvents) Run(ctx context.Context) error {
	tick := time.NewTicker(trafficPeriod)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			t.fold()
		case <-ctx.Done():
			t.fold()
			return nil
		}
	}
}

// reportMessage records ev, caused by a DNS message from addr: as any
// other event when the message was signed with one of our keys (sig is
// set only then), as traffic of kind what otherwise.
func (d *Daemon) reportMessage(sig *signer, from netip.Addr, what string, level slog.Level, ev api.Event) {
	if sig != nil {
		d.log.Log(context.Background(), level, ev.Detail, "kind", ev.Kind, "zone", ev.Zone, "from", from.Unmap().String())
		d.events.Emit(ev)
		return
	}
	d.traffic.report(from, what, level, ev)
}
