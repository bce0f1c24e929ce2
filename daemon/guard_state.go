package daemon

import (
	"context"
	"strings"

	"zonekeeper/daemon/api"
)

// roleAt asks node p for its state of zone now, over DNS (the zone state
// option of zone_state.go; a node that is not a zonekeeper peer answers
// the SOA alone, and its role stays unknown).
func (d *Daemon) roleAt(ctx context.Context, p peer, zone string) roleView {
	st, _ := d.peerZoneState(ctx, p, zone)
	return roleView{node: p.Name, addr: p.Addr, answered: st.Reachable, serves: st.Serves, role: st.Role,
		serial: st.Serial, follows: st.Primary, upOK: st.Primary != "", err: st.Why}
}

// viewOf is what the last health round saw of a zone at peer p.
func viewOf(p peer, st *api.PeerState) roleView {
	return roleView{node: p.Name, addr: p.Addr, answered: st.Reachable, serves: st.Serves, role: st.Role,
		serial: st.Serial, follows: st.Primary, upOK: st.Primary != "", err: st.Error}
}

// following is secondaries.following, less a primary that is a peer the
// last health round found unreachable: a secondary says it follows a
// primary only while that primary answers it (the promote guard counts
// such peers; docs/architecture.md, "Guarded role changes").
func (d *Daemon) following(zone string) (string, bool) {
	primary, ok := d.secondaries.following(zone)
	if !ok || primary == "" || d.health == nil {
		return primary, ok
	}
	name := primary
	if ap, err := ParseAddr(primary, 53); err == nil {
		p, found := d.peers.byAddr(ap.Addr())
		if !found || p.Addr.Port() != ap.Port() {
			return primary, ok
		}
		name = p.Name
	}
	if st, seen := d.health.peerState(zone, name); seen && !st.Reachable {
		return "", true
	}
	return primary, ok
}

// peerState returns what the last round saw of zone at the peer of that
// name.
func (h *health) peerState(zone, name string) (api.PeerState, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.peers[strings.ToLower(zone)][name]
	if st == nil {
		return api.PeerState{}, false
	}
	return *st, true
}
