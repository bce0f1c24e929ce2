package daemon

// Same-serial divergence (docs/architecture.md, "Content digests and the
// zone state option"): a peer that serves our serial with another
// content digest than ours (both known) holds other data under the same
// serial. The peer's state says "diverged", and so does the zone's on
// this node, whatever its role; a "diverged" event names the peer, the
// serial, both digests and the command that resolves it, once per change
// (not every round), and another says when the digests agree again.

import (
	"context"
	"fmt"
	"strings"

	"zonekeeper/daemon/api"
)

// diverges reports whether st, what peer said of zone, is our serial
// with another digest than ours.
func (h *health) diverges(zone string, ours uint32, st api.PeerState) bool {
	if !st.Serves || st.Serial != ours || st.Digest == "" {
		return false
	}
	mine := h.ourDigest(zone, ours)
	return mine != "" && mine != st.Digest
}

// ourDigest is the digest of the version of zone we serve, in hex, when
// it is at serial ours and computed.
func (h *health) ourDigest(zone string, ours uint32) string {
	s := h.zones.Get(zone)
	if s == nil || s.Serial() != ours {
		return ""
	}
	return digestHex(s.ContentDigest())
}

// noteDivergence records whether peer p diverges from us on zone, and
// emits the event of a change.
func (h *health) noteDivergence(zone string, ours uint32, p peer, st api.PeerState) {
	key := ""
	mine := h.ourDigest(zone, ours)
	if st.Diverged {
		key = fmt.Sprintf("%d/%s/%s", ours, mine, st.Digest)
	}
	h.mu.Lock()
	m := h.diverged[zone]
	was := m[p.Name]
	if !st.Reachable {
		// Not asked this time: what was seen stands.
		h.mu.Unlock()
		return
	}
	if key != "" {
		if m == nil {
			m = make(map[string]string)
			h.diverged[zone] = m
		}
		m[p.Name] = key
	} else {
		delete(m, p.Name)
	}
	h.mu.Unlock()
	switch {
	case key != "" && key != was:
		detail := fmt.Sprintf("diverged: zone %s serves serial %d here with digest %s, but peer %s (%s) serves serial %d with digest %s: same serial, different content. %s",
			zone, ours, mine, p.Name, p.Addr, st.Serial, st.Digest, h.resolveDivergence(zone, p, st))
		h.log.Error(detail, "zone", zone, "peer", p.Addr.String())
		h.emit(api.Event{Zone: zone, Kind: "diverged", Outcome: api.OutcomeError, Peer: p.Addr.Addr().String(), Serial: ours, Detail: detail})
	case key == "" && was != "":
		detail := fmt.Sprintf("no longer diverged: peer %s (%s) serves serial %d, digest %s; here serial %d, digest %s",
			p.Name, p.Addr, st.Serial, orUnknown(st.Digest), ours, orUnknown(mine))
		h.log.Info(detail, "zone", zone, "peer", p.Addr.String())
		h.emit(api.Event{Zone: zone, Kind: "diverged", Outcome: api.OutcomeOK, Peer: p.Addr.Addr().String(), Serial: ours, Detail: detail})
	}
}

// resolveDivergence says how to resolve a divergence with peer p, by the
// roles of the zone here and there.
func (h *health) resolveDivergence(zone string, p peer, st api.PeerState) string {
	here := api.KindPrimary
	if _, ok := h.secondaries.following(zone); ok {
		here = api.KindSecondary
	} else if row, err := h.db.Zones().Get(context.Background(), zone); err == nil {
		here = string(row.Kind)
	}
	switch {
	case here == api.KindSecondary:
		return fmt.Sprintf("Re-transfer it here in full: `zonekeeper zone retrieve %s`", zone)
	case st.Role == api.KindSecondary:
		return fmt.Sprintf("On %s, which is a secondary (of %s), re-transfer it in full: `zonekeeper zone retrieve %s`", p.Name, orUnknown(st.Primary), zone)
	case st.Role == api.KindPrimary && here == api.KindPrimary:
		return fmt.Sprintf("Two primaries hold different data: keep one, and demote the other to follow it: here `zonekeeper zone demote %s --primary %s`, or on %s with --primary naming this node (back up the edits of the one demoted first: its version goes to DATA/backup/)", zone, p.Name, p.Name)
	}
	return fmt.Sprintf("Keep one version: `zonekeeper zone retrieve %s` on the node that should follow the other", zone)
}

// decorateDiverged adds our digest to a zone's API view and, when a peer
// diverges, the diverged state.
func (h *health) decorateDiverged(z api.Zone) api.Zone {
	z.Digest = h.ourDigest(z.Name, z.Serial)
	if z.State == api.StateSplitBrain {
		return z
	}
	var with []string
	for _, ps := range z.Peers {
		if ps.Diverged {
			with = append(with, fmt.Sprintf("peer %s (%s) serves serial %d with digest %s, ours is %s", ps.Peer, ps.Addr, ps.Serial, ps.Digest, z.Digest))
		}
	}
	if len(with) > 0 {
		z.State = api.StateDiverged
		z.Error = strings.Join(with, "; ") + ": same serial, different content (see the diverged event for how to resolve it)"
	}
	return z
}

// orUnknown is s, or "unknown" when empty.
func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
