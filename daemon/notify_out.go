package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/answer"
	"zonekeeper/daemon/api"
	"zonekeeper/store"
)

// NOTIFY out (RFC 1996). The commit path (commit.go) calls zoneChanged,
// possibly with a caller's lock held, once a new version of a primary or
// secondary zone is served; the notifier only records the zone in a
// pending set and wakes Run, which starts one round per zone: the targets
// are computed (notify_targets.go) and each is sent NOTIFY over UDP from
// an ephemeral port of our service address, again and again with a doubling wait (1s, 2s, 4s, 8s,
// 16s: five sends, 31 s at most) until it answers. A newer change of the
// same zone cancels the round still retrying and starts a new one with the
// newer SOA. Every send and every answer or give-up is a "notify-out"
// event with the target as Peer.

// Retry policy.
const (
	notifyTries       = 5               // sends per target after a change
	notifyDemandTries = 3               // sends per target for `zone notify` (at most 7 s)
	notifyFirstWait   = 1 * time.Second // wait for the answer to the first send; doubled after each
)

// notifier sends NOTIFY (RFC 1996) for the zones whose committed version
// is announced, retrying with backoff until each target answers.
type notifier struct {
	zones       *answer.Zones // the served versions announced
	db          *store.DB     // zones' keys and ALSO-NOTIFY metadata
	keys        *keyring
	peers       *peerSet          // every peer is a target
	secondaries *secondaries      // a secondary zone's own primaries and source address; set once both exist
	listening   func() []net.Addr // our own sockets, never a target
	nsPort      int               // ns-port: the port of targets found by NS name
	resolveNS   bool              // notify-resolve: ask the system resolver for NS names without a local address
	alsoNotify  []string          // also-notify: targets of every zone
	log         *slog.Logger
	emit        func(api.Event)

	tries       int           // sends per target after a change: notifyTries
	demandTries int           // sends per target on demand: notifyDemandTries
	firstWait   time.Duration // wait for an answer to the first send, doubled for each retry: notifyFirstWait

	mu      sync.Mutex
	pending map[string]uint32 // zone -> serial changed to, not yet picked up by Run
	wake    chan struct{}     // one token: pending has entries
}

// newNotifier returns a notifier of the zones d serves, to the targets
// d's configuration, store and peers name.
func newNotifier(d *Daemon) *notifier {
	n := &notifier{
		zones:       d.zones,
		db:          d.store,
		keys:        d.keys,
		peers:       d.peers,
		nsPort:      d.cfg.NSPort,
		resolveNS:   d.cfg.NotifyResolve,
		alsoNotify:  d.cfg.AlsoNotify,
		log:         d.log,
		emit:        d.events.Emit,
		tries:       notifyTries,
		demandTries: notifyDemandTries,
		firstWait:   notifyFirstWait,
		pending:     make(map[string]uint32),
		wake:        make(chan struct{}, 1),
	}
	if d.server != nil {
		n.listening = d.server.Addrs
	}
	return n
}

// Run sends queued NOTIFYs until ctx is cancelled; then it stops the
// rounds in progress and waits for them.
func (n *notifier) Run(ctx context.Context) error {
	type running struct {
		cancel context.CancelFunc
		done   chan struct{}
	}
	var wg sync.WaitGroup
	rounds := make(map[string]running) // the round in progress per zone
	defer func() {
		for _, r := range rounds {
			r.cancel()
		}
		wg.Wait()
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-n.wake:
		}
		n.mu.Lock()
		todo := n.pending
		n.pending = make(map[string]uint32)
		n.mu.Unlock()
		for zone, r := range rounds {
			select {
			case <-r.done:
				delete(rounds, zone)
			default:
			}
		}
		for zone, serial := range todo {
			if r, ok := rounds[zone]; ok {
				r.cancel() // a newer version replaces the retries of the older
			}
			rctx, cancel := context.WithCancel(ctx)
			r := running{cancel: cancel, done: make(chan struct{})}
			rounds[zone] = r
			wg.Go(func() {
				defer close(r.done)
				defer cancel()
				n.round(rctx, zone, serial)
			})
		}
	}
}

// zoneChanged queues NOTIFY of zone at serial to all its targets. It never
// blocks: the loader calls it with its lock held.
func (n *notifier) zoneChanged(zone string, serial uint32) {
	n.mu.Lock()
	n.pending[strings.ToLower(dns.Fqdn(zone))] = serial
	n.mu.Unlock()
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// round notifies every target of zone of its served version, retrying
// each until it answers, ctx is cancelled or the tries run out.
func (n *notifier) round(ctx context.Context, zone string, serial uint32) {
	snap := n.zones.Get(zone)
	if snap == nil || snap.SOA() == nil {
		n.log.Debug("NOTIFY: zone no longer served", "zone", zone, "serial", serial)
		return
	}
	targets, problems := n.targets(ctx, zone, snap)
	for _, p := range problems {
		n.emit(api.Event{Zone: zone, Kind: "notify-out", Outcome: api.OutcomeWarning, Serial: snap.Serial(), Detail: p})
	}
	if len(targets) == 0 {
		n.log.Debug("NOTIFY: the zone has no targets", "zone", zone, "serial", snap.Serial())
		return
	}
	results := n.sendAll(ctx, zone, snap.SOA(), targets, n.tries)
	if ctx.Err() != nil {
		return
	}
	for _, r := range results {
		if r.Rcode == dns.RcodeToString[dns.RcodeSuccess] && r.Error == "" {
			if err := n.db.Zones().SetNotifiedSerial(context.Background(), zone, snap.Serial(), time.Time{}); err != nil {
				n.log.Debug("NOTIFY: recording the notified serial: "+err.Error(), "zone", zone)
			}
			return
		}
	}
}

// notifyAll sends NOTIFY to every target of zone now and reports each.
func (n *notifier) notifyAll(ctx context.Context, zone string) (*api.NotifyResult, error) {
	snap := n.zones.Get(zone)
	if snap == nil || snap.SOA() == nil {
		return nil, api.Errorf(api.CodeNotPermitted, "zone %s is not being served: nothing to announce", zone)
	}
	targets, problems := n.targets(ctx, zone, snap)
	res := &api.NotifyResult{Zone: zone, Serial: snap.Serial(), Targets: n.sendAll(ctx, zone, snap.SOA(), targets, n.demandTries)}
	for _, p := range problems {
		res.Targets = append(res.Targets, api.NotifyTarget{Source: "-", Error: p})
	}
	if res.Targets == nil {
		res.Targets = []api.NotifyTarget{}
	}
	for _, r := range res.Targets {
		if r.Rcode == dns.RcodeToString[dns.RcodeSuccess] && r.Error == "" {
			if err := n.db.Zones().SetNotifiedSerial(ctx, zone, snap.Serial(), time.Time{}); err != nil {
				n.log.Debug("NOTIFY: recording the notified serial: "+err.Error(), "zone", zone)
			}
			break
		}
	}
	return res, nil
}

// notifyHost sends NOTIFY of zone to one address now.
func (n *notifier) notifyHost(ctx context.Context, zone string, addr netip.AddrPort) (*api.NotifyResult, error) {
	snap := n.zones.Get(zone)
	if snap == nil || snap.SOA() == nil {
		return nil, api.Errorf(api.CodeNotPermitted, "zone %s is not being served: nothing to announce", zone)
	}
	t := notifyTarget{addr: netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port()), source: "notify-host"}
	for _, p := range n.peers.list() {
		if p.Addr == t.addr && p.Key != "" {
			t.key = n.peerKey(ctx, p) // a peer's traffic is signed with its key
		}
	}
	return &api.NotifyResult{Zone: zone, Serial: snap.Serial(),
		Targets: n.sendAll(ctx, zone, snap.SOA(), []notifyTarget{t}, n.demandTries)}, nil
}

// sendAll notifies the targets in parallel and returns their outcomes in
// the targets' order.
func (n *notifier) sendAll(ctx context.Context, zone string, soa *dns.SOA, targets []notifyTarget, tries int) []api.NotifyTarget {
	key, signed := n.zoneKey(ctx, zone)
	out := make([]api.NotifyTarget, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			var k *store.Key
			if signed {
				k = &key
			}
			if t.key != nil {
				k = t.key // a peer's traffic is signed with its key
			}
			out[i] = n.send(ctx, zone, soa, t, k, tries)
		})
	}
	wg.Wait()
	return out
}

// errNoAnswer is a send whose answer did not come in time.
var errNoAnswer = errors.New("no answer")

// send notifies one target: up to tries sends, waiting firstWait for an
// answer to the first and twice as long after each. An answer with the
// query's ID ends it, whatever its RCODE. Cancelling ctx ends it quietly:
// a newer version replaced it, or the daemon stops.
func (n *notifier) send(ctx context.Context, zone string, soa *dns.SOA, t notifyTarget, key *store.Key, tries int) api.NotifyTarget {
	res := api.NotifyTarget{Addr: t.addr.String(), Source: t.source}
	peer := t.addr.Addr().String()
	event := func(outcome, detail string) {
		n.emit(api.Event{Zone: zone, Kind: "notify-out", Peer: peer, Serial: soa.Serial, Outcome: outcome, Detail: detail})
	}
	m := new(dns.Msg)
	m.SetNotify(zone)
	m.Answer = []dns.RR{soa}
	how := t.source
	// From an ephemeral port of our own service address where we have
	// one (the address a secondary knows its primary by and checks a
	// NOTIFY's source against); the kernel's choice otherwise.
	var local *net.UDPAddr
	if src := n.secondaries.sourceFor(t.addr.Addr()); src.IsValid() {
		local = &net.UDPAddr{IP: src.AsSlice()}
	}
	conn, err := net.DialUDP("udp", local, net.UDPAddrFromAddrPort(t.addr))
	if err != nil {
		res.Error = err.Error()
		event(api.OutcomeError, fmt.Sprintf("NOTIFY to %s (%s) not sent: %v", t.addr, how, err))
		return res
	}
	defer conn.Close()
	nc := &notifyConn{conn: conn}
	if key != nil {
		nc.key, nc.provider = key, keyProvider(*key)
		how += ", signed with key " + dns.CanonicalName(key.Name)
	}
	// Cancelling ctx unblocks a read in progress.
	stop := context.AfterFunc(ctx, func() { conn.SetReadDeadline(time.Now()) })
	defer stop()

	start := time.Now()
	wait := n.firstWait
	lastErr := errNoAnswer
	for try := 1; try <= tries; try++ {
		if ctx.Err() != nil {
			return n.cancelled(res, zone, t, soa.Serial)
		}
		deadline := time.Now().Add(wait)
		event(api.OutcomeOK, fmt.Sprintf("NOTIFY of serial %d sent to %s (%s), try %d of %d", soa.Serial, t.addr, how, try, tries))
		if err := nc.write(m); err != nil {
			lastErr = err
		} else {
			r, err := nc.await(ctx, m.Id, deadline)
			if r != nil {
				return n.answered(res, r, err, t, soa.Serial, try, time.Since(start), event)
			}
			lastErr = err
		}
		if ctx.Err() != nil {
			return n.cancelled(res, zone, t, soa.Serial)
		}
		// An immediate failure (ICMP port unreachable) waits out its
		// interval too, so that a dead target costs tries, not a burst.
		timer := time.NewTimer(time.Until(deadline))
		select {
		case <-ctx.Done():
			timer.Stop()
			return n.cancelled(res, zone, t, soa.Serial)
		case <-timer.C:
		}
		wait *= 2
	}
	res.Error = fmt.Sprintf("%s after %d tries in %s", describeNotifyError(lastErr), tries, time.Since(start).Round(time.Second))
	n.log.Warn("NOTIFY unanswered", "zone", zone, "target", t.addr.String(), "serial", soa.Serial, "error", res.Error)
	event(api.OutcomeError, fmt.Sprintf("NOTIFY of serial %d to %s (%s) given up: %s; the secondary will see the serial at its next SOA refresh", soa.Serial, t.addr, how, res.Error))
	return res
}

// answered records the answer r (with err, the outcome of its TSIG check).
func (n *notifier) answered(res api.NotifyTarget, r *dns.Msg, err error, t notifyTarget, serial uint32, try int, took time.Duration, event func(string, string)) api.NotifyTarget {
	res.Rcode = dns.RcodeToString[r.Rcode]
	if res.Rcode == "" {
		res.Rcode = fmt.Sprintf("RCODE%d", r.Rcode)
	}
	outcome, detail := api.OutcomeOK, ""
	switch {
	case r.IsTsig() != nil && r.IsTsig().Error != 0:
		res.Error = "TSIG error " + dns.RcodeToString[int(r.IsTsig().Error)] + ": the target does not accept our key"
		outcome = api.OutcomeError
	case err != nil && r.Rcode == dns.RcodeNotAuth && errors.Is(err, dns.ErrAuth):
		// miekg/dns does not verify a NOTAUTH answer's TSIG: it is the
		// answer of a server that does not serve the zone (or does
		// not know us as a peer yet), not a signature failure.
		detail = "; the target does not serve the zone (NOTAUTH): is this server one of its primaries or peers?"
		outcome = api.OutcomeWarning
	case err != nil:
		res.Error = "the answer's TSIG does not verify: " + err.Error()
		outcome = api.OutcomeError
	case r.Opcode != dns.OpcodeNotify:
		res.Error = "the answer is not a NOTIFY response (opcode " + dns.OpcodeToString[r.Opcode] + ")"
		outcome = api.OutcomeWarning
	case r.Rcode != dns.RcodeSuccess:
		detail = "; the target refuses the NOTIFY: is this server one of its primaries?"
		outcome = api.OutcomeWarning
	}
	if res.Error != "" {
		detail = "; " + res.Error
	}
	n.log.Debug("NOTIFY answered", "target", t.addr.String(), "serial", serial, "rcode", res.Rcode, "tries", try)
	event(outcome, fmt.Sprintf("NOTIFY of serial %d answered %s by %s after %d %s in %s%s",
		serial, res.Rcode, t.addr, try, plural(try, "try", "tries"), took.Round(time.Millisecond), detail))
	return res
}

// cancelled ends a send that a newer version or the daemon's stop replaced.
func (n *notifier) cancelled(res api.NotifyTarget, zone string, t notifyTarget, serial uint32) api.NotifyTarget {
	n.log.Debug("NOTIFY retries stopped: a newer version replaced them, or the daemon stops", "zone", zone, "target", t.addr.String(), "serial", serial)
	res.Error = "cancelled"
	return res
}

// describeNotifyError says why a NOTIFY got no answer, in words.
func describeNotifyError(err error) string {
	switch {
	case errors.Is(err, errNoAnswer):
		return "no answer"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "no answer (port unreachable: nothing listens there)"
	}
	return "no answer (" + err.Error() + ")"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// zoneKey returns the key NOTIFYs of zone are signed with: the first key
// of its TSIG-ALLOW-AXFR metadata (the key its secondaries transfer
// with, and so know us by; PowerDNS signs NOTIFY with it too), else the
// one named by AXFR-MASTER-TSIG, else the zone's TSIG key (both set when
// the zone was a secondary: the key shared with its former primary). A
// named key that does not exist is reported, and the NOTIFY goes
// unsigned.
func (n *notifier) zoneKey(ctx context.Context, zone string) (store.Key, bool) {
	name := ""
	for _, kind := range []string{store.MetaTSIGAllowAXFR, store.MetaAXFRMasterTSIG} {
		if v, err := n.db.Meta().Get(ctx, zone, kind); err == nil && len(v) > 0 && v[0] != "" {
			name = v[0]
			break
		}
	}
	if name == "" {
		if z, err := n.db.Zones().Get(ctx, zone); err == nil {
			name = z.TSIGKey
		}
	}
	if name == "" {
		return store.Key{}, false
	}
	if k, ok := n.keys.lookup(name); ok {
		return k, true
	}
	// The keyring is reloaded by the control API; read the store too,
	// in case a key was added behind its back.
	if k, err := n.db.Keys().Get(ctx, name); err == nil {
		return k, true
	}
	n.emit(api.Event{Zone: zone, Kind: "notify-out", Outcome: api.OutcomeWarning,
		Detail: fmt.Sprintf("TSIG key %s, named to sign the zone's NOTIFYs, does not exist: NOTIFY goes unsigned; add it with `zonekeeper key add`", name)})
	return store.Key{}, false
}
