package daemon

// A secondary follows the new primary after a failover (issue 16;
// docs/architecture.md, "Guarded role changes"). After every health
// round each secondary zone looks at what the peers said of it (their
// zone state: role, serial, whom a secondary follows) and switches its
// PRIMARIES to peer P when, in followRounds consecutive rounds:
//
//  1. P is a peer of role peer (a zonekeeper node trusted for every
//     zone) that says it serves the zone as primary, at a serial not
//     older (RFC 1982) than the one served here;
//  2. P is the only node that says so: with two primaries (split-brain)
//     nothing changes until the operator keeps one;
//  3. none of the zone's current primaries serves it as primary any
//     more: each is a peer that did not answer, does not serve the zone
//     or says it is a secondary now. A primary that is not a peer, or a
//     peer that does not say its role, is never replaced.
//
// The rule cannot make a loop: a node is followed only while it says it
// is a primary, and a primary follows nobody, so every chain of
// secondaries ends at a primary one step away. It cannot follow a stale
// primary: a node whose serial is older than ours is not followed (an old
// primary that comes back is reported as split-brain instead), and a
// live current primary is never dropped.

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"zonekeeper/daemon/api"
	"zonekeeper/store"
	"zonekeeper/zonefile"
)

// followRounds is how many consecutive health rounds must agree before
// a secondary zone switches its primary: one lost answer is not a dead
// primary.
const followRounds = 2

// followMark is the switch a zone is counting rounds for.
type followMark struct {
	to     string // the candidate's peer name
	rounds int
}

// chooseNewPrimary applies the rule above to one round: current are the
// zone's primaries as seen (known false for one that is not a peer),
// candidates the other peers of role peer. It returns the node to
// follow and why the current primaries are gone, or false.
func chooseNewPrimary(ours uint32, current []roleView, known []bool, candidates []roleView) (roleView, string, bool) {
	var gone []string
	for i, v := range current {
		switch {
		case !known[i] || v.isPrimary() || (v.serves && v.role == ""):
			return roleView{}, "", false
		case !v.answered:
			gone = append(gone, v.node+" does not answer")
		case !v.serves:
			gone = append(gone, v.node+" does not serve the zone")
		default:
			gone = append(gone, v.node+" serves it as a secondary now")
		}
	}
	var prim []roleView
	for _, v := range candidates {
		if v.isPrimary() {
			prim = append(prim, v)
		}
	}
	if len(prim) != 1 || zonefile.SerialGreater(ours, prim[0].serial) {
		return roleView{}, "", false
	}
	return prim[0], strings.Join(gone, ", "), true
}

// follow switches the primaries of each secondary zone that the last
// round says lost its primary to a peer that is primary now.
func (h *health) follow(ctx context.Context) {
	rows, err := h.db.Zones().List(ctx)
	if err != nil {
		return
	}
	peers := h.peerSet.list()
	for _, row := range rows {
		if row.Kind != store.KindSecondary {
			continue
		}
		snap := h.zones.Get(row.Name)
		if snap == nil || snap.SOA() == nil {
			continue
		}
		var current, candidates []roleView
		var known []bool
		h.mu.Lock()
		seen := h.peers[row.Name]
		isCurrent := make(map[string]bool)
		for _, p := range row.Primaries {
			pe, ok := h.resolvePeer(p)
			st := seen[pe.Name]
			ok = ok && pe.Role == rolePeer && st != nil
			known = append(known, ok)
			if ok {
				isCurrent[pe.Name] = true
				current = append(current, viewOf(pe, st))
			} else {
				current = append(current, roleView{node: p})
			}
		}
		for _, p := range peers {
			if st := seen[p.Name]; p.Role == rolePeer && st != nil && !isCurrent[p.Name] {
				candidates = append(candidates, viewOf(p, st))
			}
		}
		h.nudge(row.Name, snap.Serial(), append(slices.Clone(current), candidates...))
		next, why, ok := chooseNewPrimary(snap.Serial(), current, known, candidates)
		mark := h.follows[row.Name]
		switch {
		case !ok:
			delete(h.follows, row.Name)
		case mark.to != next.node:
			h.follows[row.Name] = followMark{to: next.node, rounds: 1}
		default:
			h.follows[row.Name] = followMark{to: next.node, rounds: mark.rounds + 1}
		}
		now := ok && h.follows[row.Name].rounds >= followRounds
		if now {
			delete(h.follows, row.Name)
		}
		h.mu.Unlock()
		if now {
			h.switchPrimary(ctx, row, next, why)
		}
	}
}

// resolvePeer returns the peer a stored primary (IP[:port] or a peer's
// name) is.
func (h *health) resolvePeer(p string) (peer, bool) {
	if ap, err := ParseAddr(p, 53); err == nil {
		pe, ok := h.peerSet.byAddr(ap.Addr())
		return pe, ok && pe.Addr.Port() == ap.Port()
	}
	return h.peerSet.byName(p)
}

// switchPrimary makes next the primary of secondary zone row, as the
// store and `zone list` show it, and says why.
func (h *health) switchPrimary(ctx context.Context, row store.Zone, next roleView, why string) {
	p, ok := h.peerSet.byName(next.node)
	if !ok {
		return
	}
	err := h.db.Zones().Update(ctx, row.Name, func(z *store.Zone) error {
		if z.Kind != store.KindSecondary {
			return fmt.Errorf("no longer a secondary")
		}
		z.Primaries, z.TSIGKey = []string{p.Addr.String()}, p.Key
		return nil
	})
	if err != nil {
		h.log.Warn("following the new primary: "+err.Error(), "zone", row.Name, "peer", p.Name)
		return
	}
	// The key of the zone's former primaries no longer signs: the new
	// primary's does (primaries.go reads it at the next check).
	var keys []string
	if p.Key != "" {
		keys = []string{p.Key}
	}
	h.db.Meta().Set(ctx, row.Name, store.MetaAXFRMasterTSIG, keys)
	// A zone provisioned from a peer's catalog is now the new primary's.
	if strings.HasPrefix(row.Account, peerAccountPrefix) {
		h.db.Zones().SetAccount(ctx, row.Name, peerAccountPrefix+p.Name)
	}
	h.secondaries.poke()
	h.emit(api.Event{Zone: row.Name, Kind: "primaries", Outcome: api.OutcomeOK, Peer: p.Addr.Addr().String(), Serial: next.serial,
		Detail: fmt.Sprintf("secondary zone now follows peer %s (%s), which serves it as primary at serial %d: its primaries %s (%s) for %d health rounds; PRIMARIES was %s",
			p.Name, p.Addr, next.serial, strings.Join(row.Primaries, ", "), why, followRounds, strings.Join(row.Primaries, ", "))})
}

// nudge checks a secondary zone's primaries now when a peer among them
// says, in this round, that it serves the zone as primary at a newer
// serial than ours: the health round stands in for a NOTIFY that was
// lost (this node was down or cut off when it was sent). Once per serial,
// so that a failing transfer keeps its retry schedule. Called with h.mu
// held.
func (h *health) nudge(zone string, ours uint32, views []roleView) {
	for _, v := range views {
		if !v.isPrimary() || !zonefile.SerialGreater(v.serial, ours) || !v.addr.IsValid() {
			continue
		}
		if last, ok := h.nudged[zone]; ok && !zonefile.SerialGreater(v.serial, last) {
			return
		}
		if h.secondaries.checkSoon(zone, v.addr) {
			h.nudged[zone] = v.serial
			h.log.Info(fmt.Sprintf("peer %s serves serial %d as primary, newer than ours (%d): checking the primaries now", v.node, v.serial, ours), "zone", zone)
		}
		return
	}
}

// checkSoon schedules a secondary zone's check now, from addr first,
// when addr is one of its primaries (its own or a peer's) and no check
// is under way; it reports whether it did.
func (s *secondaries) checkSoon(zone string, addr netip.AddrPort) bool {
	s.mu.Lock()
	z := s.zones[zone]
	if z == nil || z.running || z.retrieving || z.primaries.indexOf(addr.Addr()) < 0 {
		s.mu.Unlock()
		return false
	}
	z.notifier = addr.Addr().Unmap()
	z.next = time.Now()
	s.mu.Unlock()
	s.poke()
	return true
}
