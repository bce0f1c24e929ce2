package daemon

// Split-brain on both sides (issue 16; docs/architecture.md, "Guarded
// role changes"). A zone that is primary here has a second primary when
// a peer's zone state says it serves the zone as primary too, whatever
// the serials: the returning old primary sees the new one ahead, and the
// new primary sees the old one behind. A peer that does not say its role
// (not a zonekeeper) counts when it serves a newer serial, as before.
// The advice names only nodes that are primaries: this one and the
// other primary, never a secondary that merely serves a newer serial.

import (
	"fmt"
	"net"
	"net/netip"

	"zonekeeper/daemon/api"
	"zonekeeper/zonefile"
)

// secondPrimary reports whether peer state v shows a second primary of
// a zone that is primary here at serial ours.
func secondPrimary(ours uint32, v roleView) bool {
	if !v.serves {
		return false
	}
	if v.role != "" {
		return v.role == zoneRolePrimary
	}
	return zonefile.SerialGreater(v.serial, ours)
}

// splitAdvice is the event text of a split-brain between this node (at
// serial ours, reached by the other primary at self) and peer p.
func splitAdvice(zone string, ours uint32, p peer, v roleView, self string) string {
	rel := "the same serial"
	switch {
	case zonefile.SerialGreater(v.serial, ours):
		rel = "a newer serial"
	case zonefile.SerialGreater(ours, v.serial):
		rel = "an older serial"
	}
	them := fmt.Sprintf("peer %s (%s) serves it as primary too, at serial %d (%s)", p.Name, p.Addr, v.serial, rel)
	if v.role == "" {
		them = fmt.Sprintf("peer %s (%s) serves serial %d, which is newer, and does not say its role", p.Name, p.Addr, v.serial)
	}
	detail := fmt.Sprintf("split-brain: zone %s is primary here at serial %d, but %s: two primaries. "+
		"Keep one: demote here with `zonekeeper zone demote %s --primary %s`", zone, ours, them, zone, p.Name)
	if self != "" {
		detail += fmt.Sprintf(", or demote it on %s with `zonekeeper zone demote %s --primary %s`", p.Name, zone, self)
	} else {
		detail += ", or demote it on " + p.Name
	}
	return detail + "; the demoted node keeps its version in DATA/backup/"
}

// splitState is the one-line state of a split-brain (zone list, zone
// show): the other primary and what to do.
func splitState(zone string, ours uint32, ps api.PeerState) string {
	return fmt.Sprintf("peer %s (%s) is primary too, at serial %d (ours %d): demote here with `zonekeeper zone demote %s --primary %s`, or demote it there",
		ps.Peer, ps.Addr, ps.Serial, ours, zone, ps.Peer)
}

// selfAddrFor is this node's DNS address as dst reaches it (IP:port),
// for advice given to the operator of dst, or "" when not known.
func (h *health) selfAddrFor(dst netip.AddrPort) string {
	if h.listening == nil {
		return ""
	}
	for _, a := range h.listening() {
		ua, ok := a.(*net.UDPAddr)
		if !ok {
			continue
		}
		ap := ua.AddrPort()
		ip := ap.Addr().Unmap()
		if ip.IsUnspecified() {
			if src := h.secondaries.sourceFor(dst.Addr()); src.IsValid() {
				ip = src
			} else {
				continue
			}
		}
		if ip.Is4() != dst.Addr().Is4() || ip.IsLoopback() != dst.Addr().IsLoopback() {
			continue
		}
		return netip.AddrPortFrom(ip, ap.Port()).String()
	}
	return ""
}
