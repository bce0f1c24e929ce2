package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"zonekeeper/daemon/answer"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
	"zonekeeper/store"
)

// Secondary zones, after the well-known authoritative servers (RFC 1034
// §4.3.5, RFC 1996): each zone's primaries are checked every SOA refresh,
// every retry after a failed check, and at once on a NOTIFY from one of
// them; a higher serial is transferred (refresh.go, xfr_in.go); after
// expire seconds without a successful check the zone answers SERVFAIL
// until a check succeeds again.
//
// One goroutine (Run) owns the timers: it starts each zone's check when
// it falls due and expires zones whose deadline passed. Checks run in
// goroutines Run waits for, one at a time per zone (retrieve takes the
// same turn), at most maxParallelChecks at once. The time of the last
// successful check is persisted, so a restart keeps each zone's expire
// clock and spreads the first checks over the remaining refresh.

// maxParallelChecks bounds the checks and transfers under way at once.
const maxParallelChecks = 16

// maxIdleWait bounds how long Run sleeps without looking at the zones.
const maxIdleWait = time.Minute

// secondaries runs the secondary zones: SOA refresh, retry and expire
// timers, transfers in, NOTIFY in.
type secondaries struct {
	db        *store.DB  // the zones' rows, primaries, keys and metadata
	commits   *committer // serves each version
	keys      *keyring
	peers     *peerSet          // candidate primaries of every zone
	listening func() []net.Addr // our own sockets: never a primary
	data      string            // DATA: transferred zones go to DATA/secondary
	xfr       xfrLimits
	budget    *xfrBudget      // memory of the transfers under way (xfr_budget.go)
	memory    *memoryReturner // gives replaced versions' memory back
	log       *slog.Logger
	emit      func(api.Event)
	// traffic records an event of unsigned traffic (traffic.go).
	traffic func(from netip.Addr, what string, level slog.Level, ev api.Event)

	base  context.Context    // every zone's context derives from it
	stop  context.CancelFunc // cancels base: Run is over
	wake  chan struct{}      // pokes Run to look at the zones again
	slots chan struct{}      // one per check under way
	wg    sync.WaitGroup     // the check goroutines

	mu    sync.RWMutex
	zones map[string]*secZone // by lower-case origin
}

// secZone is one secondary zone's state.
type secZone struct {
	name   string
	ctx    context.Context // cancelled when the zone is removed
	cancel context.CancelFunc
	busy   chan struct{} // holds one token while a check or retrieve runs

	// Guarded by secondaries.mu.
	primaries   primarySet       // as read at the last check, for NOTIFY
	primariesAt time.Time        // when primaries was read
	snap        *answer.Snapshot // the version held, served unless expired; nil: pending
	records     int              // records of snap
	next        time.Time        // the next check; zero while one runs
	lastOK      time.Time        // the last successful check
	expireAt    time.Time        // stop answering at this time
	failures    int              // checks failed since the last success
	lastGood    int              // index of the primary that answered last
	lastErr     string           // why the last check failed
	running     bool             // a scheduled check is under way
	retrieving  bool             // `zone retrieve` is under way
	again       bool             // a NOTIFY came during a check: check again after it...
	after       notifiesDuring   // ...unless the check brought what they announced
	notifyAt    time.Time        // when the last check a NOTIFY asked for was due
	nothingNew  bool             // the last check found no newer version: NOTIFYs are spaced
	notifier    netip.Addr       // the primary or peer whose NOTIFY is checked first
	expired     bool             // answering SERVFAIL
	// retransferred is the serial and digest of the primary's version
	// last fetched in full for having the same serial as ours and other
	// content (refresh.go, retransferDue).
	retransferred string
}

// xfrLimits bound one transfer in (xfr-timeout, xfr-idle-timeout,
// xfr-max-bytes, xfr-max-records).
type xfrLimits struct {
	XFRTimeout     time.Duration
	XFRIdleTimeout time.Duration
	XFRMaxBytes    int64
	XFRMaxRecords  int64
}

// newSecondaries returns the secondary zones of d's store, served
// through its commit path.
func newSecondaries(d *Daemon) *secondaries {
	base, stop := context.WithCancel(context.Background())
	return &secondaries{
		db:        d.store,
		commits:   d.commits,
		keys:      d.keys,
		peers:     d.peers,
		listening: d.server.Addrs,
		data:      d.cfg.Data,
		xfr:       xfrLimits{d.cfg.XFRTimeout, d.cfg.XFRIdleTimeout, d.cfg.XFRMaxBytes, d.cfg.XFRMaxRecords},
		budget:    &xfrBudget{limit: d.cfg.XFRMemory},
		memory:    new(memoryReturner),
		log:       d.log,
		emit:      d.events.Emit,
		traffic:   d.traffic.report,
		base:      base,
		stop:      stop,
		wake:      make(chan struct{}, 1),
		slots:     make(chan struct{}, maxParallelChecks),
		zones:     make(map[string]*secZone),
	}
}

// Run serves the secondary zones until ctx is cancelled: it loads the
// transferred zones, then checks each when due. It returns once every
// check it started has stopped.
func (s *secondaries) Run(ctx context.Context) error {
	defer s.wg.Wait()
	defer s.stop()
	defer context.AfterFunc(ctx, s.stop)()
	if err := os.MkdirAll(s.secondaryDir(), 0o755); err != nil {
		return fmt.Errorf("secondary zones: %w", err)
	}
	s.startup(ctx)
	timer := time.NewTimer(maxIdleWait)
	defer timer.Stop()
	for {
		timer.Reset(s.tick(time.Now()))
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-s.wake:
		}
	}
}

// poke makes Run look at the zones now.
func (s *secondaries) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// startup registers every secondary zone of the store.
func (s *secondaries) startup(ctx context.Context) {
	rows, err := s.db.Zones().List(ctx)
	if err != nil {
		s.log.Error("secondary zones: cannot list the zones: " + err.Error())
		return
	}
	for _, row := range rows {
		if row.Kind == store.KindSecondary {
			s.register(row, true)
		}
	}
}

// register starts serving a secondary zone: its file, when there is one,
// is loaded and served, and its first check scheduled: at once for a zone
// added now, spread over the next moments or the remaining refresh at
// start-up.
func (s *secondaries) register(row store.Zone, startup bool) {
	name := strings.ToLower(row.Name)
	s.mu.RLock()
	_, known := s.zones[name]
	s.mu.RUnlock()
	if known {
		return
	}
	z := &secZone{name: name, busy: make(chan struct{}, 1)}
	z.ctx, z.cancel = context.WithCancel(s.base)
	if ps, err := s.primariesOf(z.ctx, name); err == nil {
		z.primaries, z.primariesAt = ps, time.Now()
	}
	snap, err := s.loadFile(name)
	now := time.Now()
	if err != nil {
		z.lastErr = "cannot load the zone's file: " + err.Error()
		s.report(slog.LevelError, api.Event{Zone: name, Kind: "reload-error", Outcome: api.OutcomeError,
			Detail: z.lastErr + "; transferring it again"})
	}
	var detail, expiredDetail string
	if snap != nil {
		t := timersOf(snap.SOA())
		z.snap, z.records = snap, snap.Len()
		z.lastOK = row.LastCheck
		if z.lastOK.IsZero() {
			// Never checked since the store knew it: the file's age is
			// the best guess of when it was transferred.
			if fi, err := os.Stat(s.secondaryPath(name)); err == nil {
				z.lastOK = fi.ModTime()
			}
		}
		z.expireAt = z.lastOK.Add(t.expire)
		z.next = firstCheck(now, z.lastOK, t.refresh)
		z.expired = !now.Before(z.expireAt)
		detail = fmt.Sprintf("secondary zone loaded: serial %d, %d records from %s; next check in %s",
			snap.Serial(), z.records, s.secondaryPath(name), secDur(z.next.Sub(now)))
		if z.expired {
			expiredDetail = fmt.Sprintf("expired at %s, before this start (last successful check %s): answering SERVFAIL until a primary answers",
				z.expireAt.UTC().Format(time.RFC3339), z.lastOK.UTC().Format(time.RFC3339))
		}
	} else {
		z.next = now
		if startup {
			z.next = firstCheck(now, time.Time{}, time.Second)
		}
	}

	s.mu.Lock()
	if _, known := s.zones[name]; known {
		s.mu.Unlock()
		z.cancel()
		return
	}
	s.zones[name] = z
	var served *answer.Snapshot
	if z.snap != nil {
		served = z.snap.WithExpired(z.expired)
	}
	s.mu.Unlock()
	if served != nil {
		// The version of our own file: journaled (a restart keeps the
		// chain the downstream secondaries ask for); announced unless
		// read at start-up (a demote's transferred version is news to
		// the servers that follow this one).
		how := announceNewer
		if startup {
			how = announceNone
		}
		err := s.commits.commit(change{snap: served, owner: ownerSecondary, announce: how, valid: s.stillServing(z)})
		if err != nil {
			s.log.Warn("secondary zone not served: "+err.Error(), "zone", name)
			return
		}
	}

	if detail != "" {
		s.report(slog.LevelInfo, api.Event{Zone: name, Kind: "reload", Outcome: api.OutcomeOK, Serial: snap.Serial(), Detail: detail})
	}
	if expiredDetail != "" {
		s.report(slog.LevelWarn, api.Event{Zone: name, Kind: "expire", Outcome: api.OutcomeError, Serial: snap.Serial(), Detail: expiredDetail})
	}
	s.poke()
}

// tick expires the zones whose deadline passed and starts the checks
// that fell due; it returns how long to wait until the next of either.
func (s *secondaries) tick(now time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	wait := maxIdleWait
	due := func(t time.Time) {
		if d := t.Sub(now); d < wait {
			wait = d
		}
	}
	for _, z := range s.zones {
		if z.snap != nil && !z.expired {
			if now.Before(z.expireAt) {
				due(z.expireAt)
			} else {
				s.expireLocked(z, now)
			}
		}
		if z.running || z.next.IsZero() {
			continue
		}
		if now.Before(z.next) {
			due(z.next)
			continue
		}
		z.running, z.next = true, time.Time{}
		s.wg.Go(func() { s.runCheck(z) })
	}
	return max(wait, time.Millisecond)
}

// expireLocked stops answering for z: its snapshot is served marked as
// expired, so queries get SERVFAIL. s.mu is held.
func (s *secondaries) expireLocked(z *secZone, now time.Time) {
	z.expired = true
	s.commits.markExpired(z.snap, true)
	t := timersOf(heldSOA(z.snap))
	since := "never checked"
	if !z.lastOK.IsZero() {
		since = "no successful check for " + secDur(now.Sub(z.lastOK)).String()
	}
	s.report(slog.LevelWarn, api.Event{Zone: z.name, Kind: "expire", Outcome: api.OutcomeError, Serial: z.snap.Serial(),
		Detail: fmt.Sprintf("expired: %s (SOA expire %s): answering SERVFAIL until a primary answers; last error: %s",
			since, t.expire, secOrNone(z.lastErr))})
}

// runCheck runs one scheduled check of z and records its outcome.
func (s *secondaries) runCheck(z *secZone) {
	res := checkResult{aborted: true}
	select {
	case s.slots <- struct{}{}:
		select {
		case z.busy <- struct{}{}:
			res = s.check(z.ctx, z, false)
			<-z.busy
		case <-z.ctx.Done():
		}
		<-s.slots
	case <-z.ctx.Done():
	}
	s.settle(z, res, true)
}

// settle records the outcome of a check: on success the expire clock
// restarts and the next check is a refresh away, else a retry away. A
// NOTIFY that came during the check makes the next one immediate.
func (s *secondaries) settle(z *secZone, res checkResult, scheduled bool) {
	now := time.Now()
	var recovered bool
	s.mu.Lock()
	if s.zones[z.name] != z {
		s.mu.Unlock()
		return
	}
	if scheduled {
		z.running = false
	}
	t := timersOf(heldSOA(z.snap))
	switch {
	case res.aborted:
		if z.next.IsZero() {
			z.next = now.Add(t.retry)
		}
	case res.ok:
		z.nothingNew = res.nothingNew
		z.lastOK, z.failures, z.lastErr, z.lastGood = now, 0, "", res.primary
		exp := t.expire
		if res.hasUpstream && res.upstream < exp {
			exp = res.upstream
		}
		z.expireAt = now.Add(exp)
		if z.expired && z.snap != nil {
			z.expired = false
			s.commits.markExpired(z.snap, false)
			recovered = true
		}
		z.next = now.Add(refreshJitter(t.refresh))
	default:
		z.failures++
		z.lastErr = res.why
		retry := t.retry
		if z.snap == nil {
			retry = pendingRetry(z.failures)
		}
		z.next = now.Add(retry)
	}
	if z.again && !z.running {
		after := z.after
		z.again, z.after = false, notifiesDuring{}
		if after.needed(z.snap) {
			z.next = now
			if at := z.notifyAt.Add(notifyMinInterval); at.After(now) && z.nothingNew && !after.signed {
				z.next = at
			}
			z.notifyAt = z.next
		}
	}
	nextIn := z.next.Sub(now)
	expireIn := z.expireAt.Sub(now)
	held := z.snap != nil
	var serial uint32
	if held {
		serial = z.snap.Serial()
	}
	s.mu.Unlock()
	s.poke()

	switch {
	case res.aborted:
	case res.ok:
		if err := s.db.Zones().RecordCheck(context.Background(), z.name, now, res.serial); err != nil {
			s.log.Error("recording the check: "+err.Error(), "zone", z.name)
		}
		if recovered {
			s.report(slog.LevelInfo, api.Event{Zone: z.name, Kind: "expire", Outcome: api.OutcomeOK, Serial: serial,
				Detail: "answering again: the check of the primaries succeeded"})
		}
	default:
		kind := "refresh"
		if res.transfer {
			kind = "xfr-in-error"
		}
		detail := res.why
		switch {
		case !held:
			detail += fmt.Sprintf("; not served yet; next try in %s", secDur(nextIn))
		case expireIn > 0:
			detail += fmt.Sprintf("; still serving serial %d; next try in %s; expires in %s", serial, secDur(nextIn), secDur(expireIn))
		default:
			detail += fmt.Sprintf("; expired (answering SERVFAIL); next try in %s", secDur(nextIn))
		}
		s.report(slog.LevelWarn, api.Event{Zone: z.name, Kind: kind, Outcome: api.OutcomeError, Serial: serial, Detail: detail})
	}
}

// expireRemaining returns the seconds left before a secondary zone
// expires (RFC 7314), and false for a zone that is not a secondary.
func (s *secondaries) expireRemaining(zone string) (uint32, bool) {
	zone = strings.ToLower(zone)
	s.mu.RLock()
	z := s.zones[zone]
	var at time.Time
	if z != nil {
		at = z.expireAt
	}
	s.mu.RUnlock()
	if z == nil {
		return 0, false
	}
	left := time.Until(at)
	if left <= 0 {
		return 0, true
	}
	return uint32(min(left/time.Second, 1<<32-1)), true
}

// retrieve transfers a secondary zone now, whatever the serial.
func (s *secondaries) retrieve(ctx context.Context, zone string) error {
	zone = strings.ToLower(zone)
	z := s.zone(zone)
	if z == nil {
		row, err := s.db.Zones().Get(ctx, zone)
		if err != nil || row.Kind != store.KindSecondary {
			return api.Errorf(api.CodeNotFound, "zone %s is not a secondary zone here", zone)
		}
		s.register(row, false)
		if z = s.zone(zone); z == nil {
			return api.Errorf(api.CodeNotFound, "zone %s is not a secondary zone here", zone)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(z.ctx, cancel)()
	select {
	case z.busy <- struct{}{}:
	case <-ctx.Done():
		return api.Errorf(api.CodeUpstream, "zone %s: gave up waiting for the check under way to finish: %v", zone, ctx.Err())
	}
	s.mu.Lock()
	z.retrieving = true
	s.mu.Unlock()
	res := s.check(ctx, z, true)
	s.mu.Lock()
	z.retrieving = false
	s.mu.Unlock()
	<-z.busy
	s.settle(z, res, false)
	switch {
	case res.aborted:
		return api.Errorf(api.CodeInternal, "zone %s: the transfer was abandoned (zone removed or daemon stopping)", zone)
	case !res.ok:
		return api.Errorf(api.CodeUpstream, "zone %s: no primary transferred the zone: %s; the zone keeps its previous version", zone, res.why)
	}
	return nil
}

// stillServing returns the commit check of a version of z: the zone is
// still registered as z (not removed or handed over meanwhile).
func (s *secondaries) stillServing(z *secZone) func() error {
	return func() error {
		s.mu.RLock()
		gone := s.zones[z.name] != z
		s.mu.RUnlock()
		if gone || z.ctx.Err() != nil {
			return errors.New("the zone was removed during the transfer")
		}
		return nil
	}
}

// ownPrimaries returns the addresses of a secondary zone's own primaries
// (not the peers that are candidates for every zone), as last read; none
// for a zone that is not a secondary here.
func (s *secondaries) ownPrimaries(zone string) []netip.Addr {
	s.mu.RLock()
	defer s.mu.RUnlock()
	z := s.zones[strings.ToLower(dns.Fqdn(zone))]
	if z == nil {
		return nil
	}
	out := make([]netip.Addr, 0, z.primaries.own)
	for _, ap := range z.primaries.addrs[:min(z.primaries.own, len(z.primaries.addrs))] {
		out = append(out, ap.Addr().Unmap())
	}
	return out
}

// zone returns the state of a registered secondary zone, or nil.
func (s *secondaries) zone(name string) *secZone {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.zones[name]
}

// added starts serving a secondary zone registered by the control API.
func (s *secondaries) added(zone string) {
	zone = strings.ToLower(dns.Fqdn(zone))
	row, err := s.db.Zones().Get(context.Background(), zone)
	if err != nil || row.Kind != store.KindSecondary {
		s.log.Error("secondary zone added but not found as a secondary in the store", "zone", zone)
		return
	}
	s.register(row, false)
	s.mu.Lock()
	if z := s.zones[zone]; z != nil && !z.running && !z.retrieving {
		z.next = time.Now()
	}
	s.mu.Unlock()
	s.poke()
}

// removed stops a secondary zone the control API removed: its check is
// abandoned and it is no longer served.
func (s *secondaries) removed(zone string) {
	zone = strings.ToLower(dns.Fqdn(zone))
	s.mu.Lock()
	z := s.zones[zone]
	delete(s.zones, zone)
	s.mu.Unlock()
	if z == nil {
		return
	}
	z.cancel()
	// Wait (bounded) for the check under way to stop, so that nothing is
	// served or written for the zone after this returns.
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case z.busy <- struct{}{}:
		<-z.busy
	case <-t.C:
		s.log.Warn("secondary zone removed while its check was still stopping", "zone", zone)
	}
	s.commits.retire(zone, ownerSecondary, true)
	s.mu.RLock()
	if z.snap != nil {
		s.memory.returnMemory(z.records)
	}
	s.mu.RUnlock()
	s.poke()
}

// report logs an event and records it in the activity log.
func (s *secondaries) report(level slog.Level, ev api.Event) {
	attrs := []any{"zone", ev.Zone, "kind", ev.Kind}
	if ev.Peer != "" {
		attrs = append(attrs, "peer", ev.Peer)
	}
	if ev.Serial != 0 {
		attrs = append(attrs, "serial", ev.Serial)
	}
	s.log.Log(context.Background(), level, ev.Detail, attrs...)
	s.emit(ev)
}
