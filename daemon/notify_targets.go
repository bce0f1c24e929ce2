package daemon

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"zonekeeper/daemon/answer"

	"github.com/miekg/dns"

	"zonekeeper/store"
)

// Who a zone's NOTIFY goes to (RFC 1996 §3.6; docs/architecture.md,
// "NOTIFY targets"), for primary and secondary zones alike (RFC 1996
// §3.11: a secondary that others transfer from tells them of each
// version it takes): the addresses of
// the zone's NS names except the SOA MNAME, on the ns-port setting's port,
// then the zone's ALSO-NOTIFY metadata, then the global also-notify
// setting; each address once, in that order, never one of our own
// listening sockets. Addresses of NS names come from data served here:
// the zone's own A/AAAA records (glue included) and those of the served
// zone the name belongs to. The system resolver is asked only when
// notify-resolve is on, and only for names without a local address.
// Every peer, of either role, is a target of every zone too (listed in NS
// or not: stealth secondaries, RFC 2182 §5.1), its NOTIFY signed with
// the peer's key when it has one. The catalog zone (catalog.go) goes to
// the peers only.

// notifyResolveTimeout bounds one system resolver lookup of an NS name.
const notifyResolveTimeout = 2 * time.Second

// notifyTarget is one address a zone's NOTIFY goes to, and why.
type notifyTarget struct {
	addr   netip.AddrPort
	source string     // ns NAME, ALSO-NOTIFY, also-notify, notify-host, peer NAME
	key    *store.Key // signs the NOTIFY instead of the zone's key: the peer's key; nil none
}

// targets returns the NOTIFY targets of zone, served as snap, and what
// prevented others (an NS name without an address, a malformed
// ALSO-NOTIFY value), in words.
func (n *notifier) targets(ctx context.Context, zone string, snap *answer.Snapshot) (targets []notifyTarget, problems []string) {
	seen := make(map[netip.AddrPort]bool)
	// A secondary zone's own primaries already have every version it
	// has: they are not told of it unless configured by name (ALSO-NOTIFY,
	// also-notify).
	upstream := n.secondaries.ownPrimaries(zone)
	derived := func(ap netip.AddrPort) bool { return containsAddr(upstream, ap.Addr().Unmap()) }
	add := func(ap netip.AddrPort, source string) {
		ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		if seen[ap] || n.isSelf(ap) {
			return
		}
		seen[ap] = true
		t := notifyTarget{addr: ap, source: source}
		for _, p := range n.peers.list() {
			if p.Addr == ap && p.Key != "" {
				t.key = n.peerKey(ctx, p)
			}
		}
		targets = append(targets, t)
	}
	if zone == legacyCatalog || zone == n.catalog {
		// The catalog goes to the peers only: under its name to those
		// that may consume it (zonekeeper nodes, BIND or Knot
		// secondaries), under the legacy name to zonekeeper nodes only.
		// A catalog producer (role catalog) consumes none.
		for _, p := range n.peers.list() {
			if p.Role == rolePeer || (p.Role == roleSecondary && zone == n.catalog) {
				add(p.Addr, "peer "+p.Name)
			}
		}
		return targets, nil
	}

	port := uint16(n.nsPort)
	mname := ""
	if soa := snap.SOA(); soa != nil {
		mname = dns.CanonicalName(soa.Ns)
	}
	for _, name := range apexNSNames(snap) {
		if dns.CanonicalName(name) == mname {
			continue
		}
		addrs := n.knownAddrs(name, snap)
		why := "no address is known here (no A/AAAA in this zone nor in another served zone)"
		if len(addrs) == 0 && n.resolveNS {
			var err error
			if addrs, err = n.resolve(ctx, name); err != nil {
				why = "the system resolver found no address (" + err.Error() + ")"
			}
		} else if len(addrs) == 0 {
			why += "; notify-resolve is off"
		}
		if len(addrs) == 0 {
			problems = append(problems, fmt.Sprintf("NS %s not notified: %s", name, why))
			continue
		}
		for _, a := range addrs {
			if ap := netip.AddrPortFrom(a, port); !derived(ap) {
				add(ap, "ns "+name)
			}
		}
	}

	if values, err := n.db.Meta().Get(ctx, zone, store.MetaAlsoNotify); err == nil {
		for _, v := range values {
			ap, err := ParseAddr(strings.TrimSpace(v), 53)
			if err != nil {
				problems = append(problems, fmt.Sprintf("ALSO-NOTIFY value not used: %v", err))
				continue
			}
			add(ap, store.MetaAlsoNotify)
		}
	}
	for _, v := range n.alsoNotify {
		if ap, err := ParseAddr(v, 53); err == nil {
			add(ap, "also-notify")
		}
	}
	for _, p := range n.peers.list() {
		if !derived(p.Addr) && p.Role != roleCatalog {
			add(p.Addr, "peer "+p.Name)
		}
	}
	return targets, problems
}

// peerKey returns a peer's TSIG key for signing; nil when it does not
// exist (the control API refuses such peers; the NOTIFY then goes signed
// with the zone's key or unsigned, and the peer refuses it).
func (n *notifier) peerKey(ctx context.Context, p peer) *store.Key {
	if k, ok := n.keys.lookup(p.Key); ok {
		return &k
	}
	if k, err := n.db.Keys().Get(ctx, p.Key); err == nil {
		return &k
	}
	return nil
}

// apexNSNames returns the names of the zone's apex NS RRset.
func apexNSNames(snap *answer.Snapshot) []string {
	rds := snap.ApexNSRdata()
	names := make([]string, 0, len(rds))
	for _, rd := range rds {
		if name, _, err := dns.UnpackDomainName(rd, 0); err == nil {
			names = append(names, name)
		}
	}
	return names
}

// knownAddrs returns the addresses of name found in data served here: in
// the zone being notified (glue included) and in the served zone name
// belongs to.
func (n *notifier) knownAddrs(name string, own *answer.Snapshot) []netip.Addr {
	return n.zones.HostAddrs(name, own)
}

// resolve asks the system resolver for name's addresses.
func (n *notifier) resolve(ctx context.Context, name string) ([]netip.Addr, error) {
	ctx, cancel := context.WithTimeout(ctx, notifyResolveTimeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", name)
	if err != nil {
		return nil, err
	}
	out := make([]netip.Addr, 0, len(addrs))
	for _, a := range addrs {
		if !containsAddr(out, a.Unmap()) {
			out = append(out, a.Unmap())
		}
	}
	return out, nil
}

// isSelf reports whether ap is one of our own listening sockets: a NOTIFY
// there would only be refused by ourselves.
func (n *notifier) isSelf(ap netip.AddrPort) bool {
	if n.listening == nil {
		return false
	}
	for _, a := range n.listening() {
		ua, ok := a.(*net.UDPAddr)
		if !ok {
			continue
		}
		own := ua.AddrPort()
		if own.Port() != ap.Port() {
			continue
		}
		ownIP := own.Addr().Unmap()
		if ownIP == ap.Addr() {
			return true
		}
		if ownIP.IsUnspecified() && isLocalAddr(ap.Addr()) {
			return true
		}
	}
	return false
}

// isLocalAddr reports whether a is an address of this host.
func isLocalAddr(a netip.Addr) bool {
	if a.IsLoopback() {
		return true
	}
	ifaddrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, ia := range ifaddrs {
		if p, err := netip.ParsePrefix(ia.String()); err == nil && p.Addr().Unmap() == a {
			return true
		}
	}
	return false
}

func containsAddr(list []netip.Addr, a netip.Addr) bool {
	for _, b := range list {
		if a == b {
			return true
		}
	}
	return false
}
