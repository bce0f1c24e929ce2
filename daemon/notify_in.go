package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"
	"zonekeeper/daemon/answer"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
	"zonekeeper/zonefile"
)

// NOTIFY in (RFC 1996 §3.10, §4): the query path verifies the message
// and its TSIG and hands a NOTIFY for a secondary zone to notify, which
// decides whether the sender may trigger a check. A NOTIFY is a hint, not
// data: it only makes the check of the primaries happen now, and the
// check asks the primaries themselves, in their order.

// notifyMinInterval spaces the checks unsigned NOTIFYs start for one
// zone once a check found nothing new: the next no sooner than this
// after the last, however many NOTIFYs come (a flood spoofed from a
// primary's address costs one SOA query a second, not one per NOTIFY).
// While each check finds a new version, as a primary's real NOTIFYs make
// it, and for NOTIFYs signed with a key we hold, nothing is delayed.
const notifyMinInterval = time.Second

// notify handles a NOTIFY for zone from an address, signed with key ("" when
// unsigned), and returns the rcode to answer with; see notifySOA.
func (s *secondaries) notify(zone string, from netip.AddrPort, key string) int {
	return s.notifySOA(zone, from, key, nil)
}

// notifySOA handles a NOTIFY that may carry the zone's new SOA (RFC
// 1996 §3.7). It is accepted from the address of a primary (any port) or
// when signed with the zone's key; then the zone is checked at once, or
// right after the check under way (unless that check brought the serial
// the NOTIFY announced); for an unsigned NOTIFY after a check that found
// nothing new, no sooner than notifyMinInterval after the last check a
// NOTIFY started. A NOTIFY whose SOA serial is not
// newer than the version served is acknowledged and nothing else, as
// BIND does. An unsigned NOTIFY's event is traffic (traffic.go).
func (s *secondaries) notifySOA(zone string, from netip.AddrPort, key string, soa *dns.SOA) int {
	zone = strings.ToLower(dns.Fqdn(zone))
	peer := from.Addr().Unmap()
	report := func(level slog.Level, what string, ev api.Event) {
		if key != "" {
			s.report(level, ev)
			return
		}
		s.traffic(peer, what, level, ev)
	}
	s.mu.RLock()
	z := s.zones[zone]
	var ps primarySet
	var readAt time.Time
	if z != nil {
		ps, readAt = z.primaries, z.primariesAt
	}
	s.mu.RUnlock()
	if z == nil {
		report(slog.LevelInfo, "NOTIFYs for zones that are not secondary here", api.Event{Zone: zone, Kind: "notify-in", Outcome: api.OutcomeWarning, Peer: peer.String(),
			Detail: "NOTIFY refused: the zone is not a secondary zone here"})
		return dns.RcodeRefused
	}
	ok := s.notifyAllowed(ps, from, key)
	if !ok && time.Since(readAt) > time.Second {
		// The primaries may have changed since they were read; read
		// them again, at most once a second so a flood cannot hammer
		// the store.
		ctx, cancel := context.WithTimeout(z.ctx, 2*time.Second)
		fresh, err := s.primariesOf(ctx, zone)
		cancel()
		s.mu.Lock()
		z.primariesAt = time.Now()
		if err == nil {
			z.primaries = fresh
		}
		s.mu.Unlock()
		if err == nil {
			ps, ok = fresh, s.notifyAllowed(fresh, from, key)
		}
	}
	if !ok {
		why := fmt.Sprintf("NOTIFY from %s refused: not one of the zone's primaries (%s)", from.Addr(), joinAddrs(ps.addrs))
		switch {
		case key != "" && ps.key != nil:
			why += fmt.Sprintf(" and signed with key %s, not the zone's key %s", strings.TrimSuffix(key, "."), strings.TrimSuffix(ps.key.name, "."))
		case key != "":
			why += fmt.Sprintf(" and signed with key %s while the zone has no key", strings.TrimSuffix(key, "."))
		case ps.key != nil:
			why += " and not signed with the zone's key"
		}
		report(slog.LevelWarn, "refused NOTIFYs for "+zone, api.Event{Zone: zone, Kind: "notify-in", Outcome: api.OutcomeWarning, Peer: peer.String(), Detail: why})
		return dns.RcodeRefused
	}
	now := time.Now()
	s.mu.Lock()
	if soa != nil && z.snap != nil && !z.expired && !zonefile.SerialGreater(soa.Serial, z.snap.Serial()) {
		held := z.snap.Serial()
		s.mu.Unlock()
		report(slog.LevelInfo, "NOTIFYs for "+zone, api.Event{Zone: zone, Kind: "notify-in", Outcome: api.OutcomeOK, Peer: peer.String(), Serial: soa.Serial,
			Detail: fmt.Sprintf("NOTIFY accepted: serial %d is not newer than ours (%d): nothing to fetch", soa.Serial, held)})
		return dns.RcodeSuccess
	}
	detail, first := "NOTIFY accepted: checking the primaries now", ""
	if ps.indexOf(from.Addr()) >= 0 {
		z.notifier = from.Addr().Unmap()
		first = ", " + from.Addr().Unmap().String() + " first"
	}
	switch at := z.notifyAt.Add(notifyMinInterval); {
	case z.running || z.retrieving:
		z.again = true
		z.after.add(soa, key != "")
		detail = "NOTIFY accepted: a check is under way; another follows it unless it brings that serial"
	case now.Before(at) && z.nothingNew && key == "":
		if z.next.IsZero() || z.next.After(at) {
			z.next = at
		}
		detail = fmt.Sprintf("NOTIFY accepted: the primaries are checked in %s (one NOTIFY-started check a second)", secDur(z.next.Sub(now)))
	default:
		z.next, z.notifyAt = now, now
	}
	s.mu.Unlock()
	s.poke()
	report(slog.LevelInfo, "NOTIFYs for "+zone, api.Event{Zone: zone, Kind: "notify-in", Outcome: api.OutcomeOK, Peer: peer.String(), Detail: detail + first})
	return dns.RcodeSuccess
}

// notifiesDuring is what the NOTIFYs that came during a check said, so
// that the check that follows it is skipped when the one under way
// brought what they announced (peers NOTIFY each other of a version all
// of them are fetching) and spaced only when none was signed.
type notifiesDuring struct {
	unhinted bool   // one carried no SOA: check whatever the serial
	max      uint32 // the newest serial announced, when hinted
	hinted   bool
	signed   bool // one was signed with a key we hold
}

// add records one NOTIFY with its SOA (nil when it carried none).
func (n *notifiesDuring) add(soa *dns.SOA, signed bool) {
	n.signed = n.signed || signed
	switch {
	case soa == nil:
		n.unhinted = true
	case !n.hinted || zonefile.SerialGreater(soa.Serial, n.max):
		n.max, n.hinted = soa.Serial, true
	}
}

// needed reports whether a check must follow, now that the zone holds
// data (nil: none yet).
func (n notifiesDuring) needed(held *answer.Snapshot) bool {
	return n.unhinted || held == nil || zonefile.SerialGreater(n.max, held.Serial())
}

// notifyAllowed says whether a NOTIFY from this address, signed with key,
// comes from one of the primaries: the zone's own, by address, or a peer
// of role peer, which must sign with its key when it has one.
func (s *secondaries) notifyAllowed(ps primarySet, from netip.AddrPort, key string) bool {
	for i, p := range ps.addrs {
		if p.Addr() != from.Addr().Unmap() {
			continue
		}
		if i < ps.own {
			return true
		}
		if pr, ok := s.peers.trusted(from.Addr(), key); ok && pr.Role == rolePeer {
			return true
		}
	}
	return key != "" && ps.key != nil && dns.CanonicalName(key) == ps.key.name
}
