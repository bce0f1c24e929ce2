package daemon

// Health of the cluster, by DNS alone (issue 5): every health-interval
// each served zone's SOA serial is asked of each peer (UDP, TCP when
// truncated, signed with the peer's key when it has one), and kept per
// zone and peer: reachable, serial, lag behind ours, last seen in sync.
//
// Split-brain: a zone that is primary here and that a peer serves with a
// higher serial (RFC 1982) has two primaries; a "split-brain" event names
// the peer, both serials and how to resolve it. At start-up the first
// NOTIFY of each primary zone waits for one bounded round of checks, and
// is not sent when a peer is ahead: a returning old primary never pushes
// its stale version.
//
// Expire countdown: a secondary zone whose primaries all failed its last
// check reports, at 50% and 90% of its expire period, how long it has
// left before it answers SERVFAIL. (How long a refresh from a primary
// that is itself a secondary extends the expire clock follows RFC 7314:
// settle in secondary.go takes the primary's EDNS EXPIRE when lower.)

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"zonekeeper/daemon/answer"

	"zonekeeper/daemon/api"
	"zonekeeper/store"
	"zonekeeper/zonefile"
)

// Health check limits.
const (
	healthQueryTimeout = 2 * time.Second        // one SOA query to one peer
	healthParallel     = 8                      // queries under way at once
	healthStartupWait  = 2 * time.Second        // the start-up round's bound before the first NOTIFYs
	countdownTick      = 500 * time.Millisecond // how often expire milestones are looked at
)

// expireMilestones are the fractions of the expire period, in percent,
// at which a secondary without any answering primary reports.
var expireMilestones = []int{50, 90}

// health checks each zone at each peer and watches for split-brain and
// expiring secondaries.
type health struct {
	zones       *answer.Zones
	db          *store.DB // the zones' roles
	peerSet     *peerSet
	secondaries *secondaries
	notifier    *notifier
	commits     *committer                           // sends the start-up NOTIFYs it held
	files       func(origin string) (fileZone, bool) // the loader's zonefile of a zone
	listening   func() []net.Addr                    // our own sockets: never a server to check
	ready       <-chan struct{}                      // the zones are loaded: the first round may start
	interval    time.Duration                        // health-interval
	nsPort      int                                  // ns-port
	resolveNS   bool                                 // notify-resolve
	log         *slog.Logger
	emit        func(api.Event)

	mu       sync.Mutex
	peers    map[string]map[string]*api.PeerState // zone -> peer name -> what was seen
	split    map[string]string                    // zone -> the split-brain event key last reported
	diverged map[string]map[string]string         // zone -> peer name -> the diverged event key last reported (health_diverged.go)
	marks    map[string]countdownMark             // zone -> expire milestones reported
	startup  bool                                 // the start-up round has not ended: first NOTIFYs wait
	held     map[string]uint32                    // zone -> serial whose first NOTIFY waits
	follows  map[string]followMark                // zone -> the new primary it is counting rounds for (follow.go)
	nudged   map[string]uint32                    // zone -> the newer serial a round last checked the primaries for (follow.go)

	servers map[string]map[string]*api.ServerState // zone -> server address -> what was seen (health_servers.go)
	order   map[string][]string                    // zone -> server addresses in listing order
	lint    map[string][]api.LintFinding           // zone -> the live lint findings of the last check
}

// countdownMark is the highest expire milestone reported since lastOK.
type countdownMark struct {
	lastOK time.Time
	pct    int
}

// newHealth returns the health checks of d's zones and peers; d's
// notifier and secondaries exist already.
func newHealth(d *Daemon) *health {
	return &health{
		zones:       d.zones,
		db:          d.store,
		peerSet:     d.peers,
		secondaries: d.secondaries,
		notifier:    d.notifier,
		commits:     d.commits,
		files:       d.loader.get,
		listening:   d.server.Addrs,
		ready:       d.ready,
		interval:    d.cfg.HealthInterval,
		nsPort:      d.cfg.NSPort,
		resolveNS:   d.cfg.NotifyResolve,
		log:         d.log,
		emit:        d.events.Emit,
		peers:       make(map[string]map[string]*api.PeerState),
		split:       make(map[string]string),
		diverged:    make(map[string]map[string]string),
		marks:       make(map[string]countdownMark),
		startup:     true,
		held:        make(map[string]uint32),
		follows:     make(map[string]followMark),
		nudged:      make(map[string]uint32),
		servers:     make(map[string]map[string]*api.ServerState),
		order:       make(map[string][]string),
		lint:        make(map[string][]api.LintFinding),
	}
}

// holdFirstNotify reports whether the first NOTIFY of a primary zone must
// wait for the start-up round; it then remembers the zone. It never
// blocks: the loader calls it with its lock held.
func (h *health) holdFirstNotify(zone string, serial uint32) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.startup {
		return false
	}
	h.held[strings.ToLower(zone)] = serial
	return true
}

// forget drops what is known of a zone whose role changed.
func (h *health) forget(zone string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.peers, zone)
	delete(h.split, zone)
	delete(h.diverged, zone)
	delete(h.marks, zone)
	delete(h.servers, zone)
	delete(h.order, zone)
	delete(h.lint, zone)
	delete(h.follows, zone)
	delete(h.nudged, zone)
}

// Run checks the peers every health-interval and the expire clocks of the
// secondary zones until ctx is cancelled.
func (h *health) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { h.countdownLoop(ctx) })
	select {
	case <-ctx.Done():
		return nil
	case <-h.ready:
	}
	h.startupRound(ctx)
	interval := h.interval
	if interval <= 0 {
		interval = DefaultConfig().HealthInterval
	}
	rounds := time.NewTimer(interval)
	defer rounds.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-rounds.C:
			rctx, cancel := context.WithTimeout(ctx, max(interval, 2*healthQueryTimeout))
			// The servers of each zone (health_servers.go) are checked
			// apart from the peers: a dead NS does not delay split-brain.
			var servers sync.WaitGroup
			servers.Go(func() { h.roundServers(rctx, h.zones.List()) })
			h.round(rctx)
			h.follow(rctx)
			servers.Wait()
			cancel()
			rounds.Reset(interval)
		}
	}
}

// countdownLoop looks at the secondary zones' expire clocks until ctx is
// cancelled, apart from the rounds, which may take a while.
func (h *health) countdownLoop(ctx context.Context) {
	tick := time.NewTicker(countdownTick)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			h.countdown(now)
		}
	}
}

// startupRound runs the first round, bounded, then sends the NOTIFYs it
// held unless a peer is ahead of the zone.
func (h *health) startupRound(ctx context.Context) {
	if len(h.peerSet.list()) > 0 {
		rctx, cancel := context.WithTimeout(ctx, healthStartupWait)
		h.round(rctx)
		cancel()
	}
	h.mu.Lock()
	held := h.held
	h.held, h.startup = nil, false
	ahead := make(map[string][]api.PeerState)
	for zone := range held {
		for _, ps := range h.peers[zone] {
			if ps.Serves && zonefile.SerialGreater(ps.Serial, held[zone]) {
				ahead[zone] = append(ahead[zone], *ps)
			}
		}
	}
	h.mu.Unlock()
	for zone, serial := range held {
		if ps := ahead[zone]; len(ps) > 0 {
			h.emit(api.Event{Zone: zone, Kind: "notify-out", Outcome: api.OutcomeError, Serial: serial, Peer: ps[0].Addr,
				Detail: fmt.Sprintf("start-up NOTIFY of serial %d not sent: peer %s (%s) serves serial %d, newer than ours (split-brain): this stale version is not pushed",
					serial, ps[0].Peer, ps[0].Addr, ps[0].Serial)})
			continue
		}
		h.commits.announce(zone, serial)
	}
}

// round asks every peer for the SOA of every served zone and records
// what it saw.
func (h *health) round(ctx context.Context) {
	peers := h.peerSet.list()
	snaps := h.zones.List()
	h.prune(peers, snaps)
	if len(peers) == 0 {
		return
	}
	slots := make(chan struct{}, healthParallel)
	var wg sync.WaitGroup
	for _, p := range peers {
		if p.Role == roleCatalog {
			continue // a catalog producer holds its own zones only; the servers' checks see it
		}
		var key *xfrKey
		var keyErr error
		if p.Key != "" {
			key, keyErr = h.secondaries.keyNamed(ctx, p.Key)
		}
		// A peer that does not answer one zone is not asked the others
		// this round: a dead peer costs one timeout, not one per zone.
		var down atomic.Pointer[string]
		for _, snap := range snaps {
			// Every node serves its own catalog under one name: not a
			// zone the peers share.
			if snap.SOA() == nil || h.commits.isCatalog(snap.Origin()) {
				continue
			}
			zone, ours := snap.Origin(), snap.Serial()
			if keyErr != nil {
				h.record(zone, ours, p, api.PeerState{Error: keyErr.Error()})
				continue
			}
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				wg.Wait()
				return
			}
			wg.Go(func() {
				defer func() { <-slots }()
				if why := down.Load(); why != nil {
					h.record(zone, ours, p, api.PeerState{Error: *why + " (for another zone; not asked this round)"})
					return
				}
				st := h.ask(ctx, p, zone, key)
				if !st.Reachable && ctx.Err() == nil {
					down.CompareAndSwap(nil, &st.Error)
				}
				h.record(zone, ours, p, st)
			})
		}
	}
	wg.Wait()
}

// prune forgets peers that are gone and zones no longer served.
func (h *health) prune(peers []peer, snaps []*answer.Snapshot) {
	served := make(map[string]bool, len(snaps))
	for _, s := range snaps {
		served[s.Origin()] = true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for zone := range h.servers {
		if !served[zone] {
			delete(h.servers, zone)
			delete(h.order, zone)
			delete(h.lint, zone)
		}
	}
	for zone, m := range h.peers {
		if !served[zone] {
			delete(h.peers, zone)
			delete(h.split, zone)
			delete(h.diverged, zone)
			continue
		}
		for name := range m {
			if !slices.ContainsFunc(peers, func(p peer) bool { return p.Name == name }) {
				delete(m, name)
				delete(h.diverged[zone], name)
			}
		}
	}
}

// ask queries one peer for a zone's SOA, with the zone state option.
func (h *health) ask(ctx context.Context, p peer, zone string, key *xfrKey) api.PeerState {
	zs := h.secondaries.askZoneState(ctx, p.Addr, zone, key)
	return api.PeerState{Reachable: zs.Reachable, Serves: zs.Serves, Serial: zs.Serial, Error: zs.Why,
		Role: zs.Role, Digest: zs.DigestHex(), Primary: zs.Primary}
}

// record keeps what a peer said of a zone we serve at serial ours, and
// reports a split-brain the first time it is seen.
func (h *health) record(zone string, ours uint32, p peer, st api.PeerState) {
	now := time.Now().UTC()
	st.Peer, st.Addr, st.Checked = p.Name, p.Addr.String(), now
	if st.Serves {
		st.Lag = int64(int32(ours - st.Serial))
		st.InSync = st.Serial == ours
		st.Diverged = h.diverges(zone, ours, st)
		st.InSync = st.InSync && !st.Diverged
	}
	primary := false
	if row, err := h.db.Zones().Get(context.Background(), zone); err == nil {
		primary = row.Kind == store.KindPrimary
	} else if _, ok := h.files(zone); ok {
		primary = true
	}
	ahead := primary && secondPrimary(ours, viewOf(p, &st)) // split.go

	h.mu.Lock()
	m := h.peers[zone]
	if m == nil {
		m = make(map[string]*api.PeerState)
		h.peers[zone] = m
	}
	if prev := m[p.Name]; prev != nil {
		st.LastSync = prev.LastSync
	}
	if st.InSync {
		st.LastSync = now
	}
	m[p.Name] = &st
	report := false
	evKey := fmt.Sprintf("%s/%d/%d", p.Name, ours, st.Serial)
	if ahead {
		report = h.split[zone] != evKey
		h.split[zone] = evKey
	} else if strings.HasPrefix(h.split[zone], p.Name+"/") {
		delete(h.split, zone)
	}
	h.mu.Unlock()
	h.noteDivergence(zone, ours, p, st)

	if report {
		detail := splitAdvice(zone, ours, p, viewOf(p, &st), h.selfAddrFor(p.Addr))
		h.log.Error(detail, "zone", zone, "peer", p.Addr.String())
		h.emit(api.Event{Zone: zone, Kind: "split-brain", Outcome: api.OutcomeError, Peer: p.Addr.Addr().String(), Serial: ours, Detail: detail})
	}
}

// decorate adds what health knows to a zone's API view: each peer's
// state, how many serve our serial, split-brain, and a secondary's
// expire clock.
func (h *health) decorate(z api.Zone) api.Zone {
	h.mu.Lock()
	m := h.peers[z.Name]
	split := h.split[z.Name] != ""
	for _, name := range slices.Sorted(maps.Keys(m)) {
		z.Peers = append(z.Peers, *m[name])
	}
	h.mu.Unlock()
	z = h.decorateServers(z)
	if len(z.Peers) > 0 {
		n := 0
		for _, ps := range z.Peers {
			if ps.InSync {
				n++
			}
		}
		z.PeersInSync = fmt.Sprintf("%d/%d", n, len(z.Peers))
	}
	if split && z.Kind == api.KindPrimary {
		for _, ps := range z.Peers {
			// Two primaries at one serial with other content show as
			// diverged (health_diverged.go), the more precise state.
			if secondPrimary(z.Serial, viewOf(peer{Name: ps.Peer}, &ps)) && !ps.Diverged {
				z.State = api.StateSplitBrain
				z.Error = splitState(z.Name, z.Serial, ps)
				break
			}
		}
	}
	z = h.decorateDiverged(z)
	if z.Kind == api.KindSecondary {
		if at, ok := h.secondaries.expireClock(z.Name); ok {
			left := max(int64(time.Until(at)/time.Second), 0)
			z.ExpiresAt, z.ExpireIn = at.UTC(), &left
		}
	}
	return z
}

// expireClock returns when a secondary zone that holds a version expires.
func (s *secondaries) expireClock(zone string) (time.Time, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	z := s.zones[strings.ToLower(zone)]
	if z == nil || z.snap == nil {
		return time.Time{}, false
	}
	return z.expireAt, true
}

// countdown reports secondary zones whose primaries all failed their last
// check as they pass 50% and 90% of their expire period.
func (h *health) countdown(now time.Time) {
	type clock struct {
		name             string
		lastOK, expireAt time.Time
		serial           uint32
		lastErr          string
	}
	var clocks []clock
	s := h.secondaries
	s.mu.RLock()
	for _, z := range s.zones {
		if z.snap == nil || z.expired || z.failures == 0 || z.lastOK.IsZero() {
			continue
		}
		clocks = append(clocks, clock{z.name, z.lastOK, z.expireAt, z.snap.Serial(), z.lastErr})
	}
	s.mu.RUnlock()
	for _, c := range clocks {
		period := c.expireAt.Sub(c.lastOK)
		if period <= 0 {
			continue
		}
		gone := now.Sub(c.lastOK)
		pct := 0
		for _, m := range expireMilestones {
			if gone*100 >= period*time.Duration(m) {
				pct = m
			}
		}
		h.mu.Lock()
		mark := h.marks[c.name]
		if !mark.lastOK.Equal(c.lastOK) {
			mark = countdownMark{lastOK: c.lastOK}
		}
		report := pct > mark.pct
		if report {
			mark.pct = pct
		}
		h.marks[c.name] = mark
		h.mu.Unlock()
		if !report {
			continue
		}
		left := c.expireAt.Sub(now)
		h.emit(api.Event{Zone: c.name, Kind: "expire-countdown", Outcome: api.OutcomeWarning, Serial: c.serial,
			Detail: fmt.Sprintf("no primary has answered for %s, %d%% of the expire period (%s): the zone expires in %s, at %s, and then answers SERVFAIL; last error: %s; if its primary is lost, promote this node: `zonekeeper zone promote %s`",
				secDur(gone), pct, secDur(period), secDur(max(left, 0)), c.expireAt.UTC().Format(time.RFC3339), secOrNone(c.lastErr), c.name)})
	}
}

// checkZone asks every peer and every server that should hold one zone
// for its SOA now (`zone health`).
func (h *health) checkZone(ctx context.Context, zone string) {
	snap := h.zones.Get(zone)
	if snap == nil || snap.SOA() == nil {
		return
	}
	ours := snap.Serial()
	var wg sync.WaitGroup
	wg.Go(func() { h.checkServers(ctx, zone) })
	for _, p := range h.peerSet.list() {
		wg.Go(func() {
			var key *xfrKey
			if p.Key != "" {
				var err error
				if key, err = h.secondaries.keyNamed(ctx, p.Key); err != nil {
					h.record(zone, ours, p, api.PeerState{Error: err.Error()})
					return
				}
			}
			h.record(zone, ours, p, h.ask(ctx, p, zone, key))
		})
	}
	wg.Wait()
}
