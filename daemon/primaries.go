package daemon

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/store"
)

// How a secondary zone reaches its primaries: their addresses in the
// order tried, the TSIG key that signs every request to them, and the
// source address requests leave from.

// primarySet is what a secondary zone needs to talk to its primaries,
// read from the store at each check so that changes apply without a
// restart.
type primarySet struct {
	addrs []netip.AddrPort // in the order configured, then the peers
	key   *xfrKey          // nil: requests are not signed
	// keys holds, per address, the key of the peer there when it signs
	// instead of key (nil entries, or a short slice: key signs).
	keys []*xfrKey
	// own is how many of addrs are the zone's own primaries; the rest
	// are peers of role peer, candidates for every secondary zone.
	own int
}

// keyAt returns the key that signs requests to addrs[i].
func (ps primarySet) keyAt(i int) *xfrKey {
	if i < len(ps.keys) && ps.keys[i] != nil {
		return ps.keys[i]
	}
	return ps.key
}

// indexOf returns the index of the first address with IP a, or -1.
func (ps primarySet) indexOf(a netip.Addr) int {
	for i, p := range ps.addrs {
		if p.Addr() == a.Unmap() {
			return i
		}
	}
	return -1
}

// xfrKey is the TSIG key that signs a zone's requests to its primaries
// and must sign every answer.
type xfrKey struct {
	name      string    // fully qualified, lower case
	algorithm string    // as it goes in the TSIG RR
	key       store.Key // name, algorithm and secret as stored
}

// provider verifies and signs with this key only (tsig.go's keyProvider
// knows every algorithm, hmac-md5 included): an answer signed with any
// other key or algorithm fails.
func (k *xfrKey) provider() dns.TsigProvider {
	if k == nil {
		return nil
	}
	return keyProvider(k.key)
}

// primariesOf reads a secondary zone's primaries and key. The key is the
// zone's AXFR-MASTER-TSIG metadata, else its TSIG key; a key that is
// named but missing is an error, never a reason to send unsigned. A
// primary may be given as a peer's name. The peers of role peer follow
// the zone's own primaries as candidates (docs/architecture.md, "Peers,
// keys and access"): requests to a peer with a key are signed with it,
// and so are requests to a primary that is a peer when the zone has no
// key of its own.
func (s *secondaries) primariesOf(ctx context.Context, zone string) (primarySet, error) {
	row, err := s.db.Zones().Get(ctx, zone)
	if err != nil {
		return primarySet{}, fmt.Errorf("reading the zone's settings: %w", err)
	}
	var ps primarySet
	for _, p := range row.Primaries {
		ap, err := ParseAddr(p, 53)
		if err != nil {
			pr, ok := s.peers.byName(p)
			if !ok {
				return primarySet{}, fmt.Errorf("primary %q is neither an IP address with an optional port nor a peer's name", p)
			}
			ap = pr.Addr
		}
		ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		if !slices.Contains(ps.addrs, ap) {
			ps.addrs = append(ps.addrs, ap)
		}
	}
	ps.own = len(ps.addrs)
	for _, p := range s.peers.list() {
		if p.Role == rolePeer && !slices.Contains(ps.addrs, p.Addr) {
			ps.addrs = append(ps.addrs, p.Addr)
		}
	}
	if len(ps.addrs) == 0 {
		return primarySet{}, fmt.Errorf("no primary is configured (zone demote NAME --primary ADDR)")
	}
	name := row.TSIGKey
	if meta, err := s.db.Meta().Get(ctx, zone, store.MetaAXFRMasterTSIG); err == nil && len(meta) > 0 && meta[0] != "" {
		name = meta[0]
	}
	if name != "" {
		k, err := s.keyNamed(ctx, name)
		if err != nil {
			return primarySet{}, err
		}
		ps.key = k
	}
	s.peerKeys(ctx, &ps, ps.key != nil)
	return ps, nil
}

// peerKeys sets the key of each address of ps that is a peer with a key:
// always for the peers that follow the zone's own primaries, for its own
// primaries only when the zone has no key (zoneKeyed false). A peer's
// key that does not exist leaves that address to the zone's key.
func (s *secondaries) peerKeys(ctx context.Context, ps *primarySet, zoneKeyed bool) {
	for i, a := range ps.addrs {
		if i < ps.own && zoneKeyed {
			continue
		}
		p, ok := s.peers.byAddr(a.Addr())
		if !ok || p.Key == "" || p.Addr != a {
			continue
		}
		k, err := s.keyNamed(ctx, p.Key)
		if err != nil {
			continue
		}
		if ps.keys == nil {
			ps.keys = make([]*xfrKey, len(ps.addrs))
		}
		ps.keys[i] = k
	}
}

// keyNamed returns the TSIG key of that name from the keyring, or from
// the store while the keyring does not hold it.
func (s *secondaries) keyNamed(ctx context.Context, name string) (*xfrKey, error) {
	k, ok := s.keys.lookup(name)
	if !ok {
		var err error
		if k, err = s.db.Keys().Get(ctx, name); err != nil {
			return nil, fmt.Errorf("TSIG key %s, which signs requests to the primaries, is not known (key add %s ...)", name, name)
		}
	}
	if newHMAC(tsigStoreAlgorithm(k.Algorithm), nil) == nil {
		return nil, fmt.Errorf("TSIG key %s has algorithm %q, which is not supported", name, k.Algorithm)
	}
	k.Algorithm = tsigStoreAlgorithm(k.Algorithm)
	return &xfrKey{name: canonicalKeyName(k.Name), algorithm: tsigWireAlgorithm(k.Algorithm), key: k}, nil
}

// sourceFor returns the address requests to dst leave from: the first
// address the daemon listens on that is of dst's family and scope
// (loopback or not), so that a primary's access list sees the address
// this server is known by; the zero Addr lets the system choose.
func (s *secondaries) sourceFor(dst netip.Addr) netip.Addr {
	for _, a := range s.listening() {
		ua, ok := a.(*net.UDPAddr)
		if !ok {
			continue
		}
		ip := ua.AddrPort().Addr().Unmap()
		if ip.IsUnspecified() || ip.Is4() != dst.Is4() || ip.IsLoopback() != dst.IsLoopback() {
			continue
		}
		if ip.Is6() && ip.IsLinkLocalUnicast() {
			continue
		}
		return ip
	}
	return netip.Addr{}
}

// dialer returns a dialer for network ("udp" or "tcp") to dst from the
// source sourceFor chooses.
func (s *secondaries) dialer(network string, dst netip.Addr, timeout time.Duration) *net.Dialer {
	d := &net.Dialer{Timeout: timeout}
	if src := s.sourceFor(dst); src.IsValid() {
		if network == "udp" {
			d.LocalAddr = &net.UDPAddr{IP: src.AsSlice()}
		} else {
			d.LocalAddr = &net.TCPAddr{IP: src.AsSlice()}
		}
	}
	return d
}

// hasIP reports whether a NOTIFY source is one of the primaries: the
// IP decides, the port may differ (a NOTIFY leaves from any port).
func (ps primarySet) hasIP(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range ps.addrs {
		if p.Addr() == ip {
			return true
		}
	}
	return false
}
