package answer

import (
	"net/netip"
	"slices"

	"github.com/miekg/dns"
)

// HostAddrs returns the addresses of the host name found in served data:
// in the zone own (glue included; nil for none) and in the served zone
// that name belongs to, each address once. NOTIFY targets are found this
// way, without asking a resolver.
func (z *Zones) HostAddrs(name string, own *Snapshot) []netip.Addr {
	key, err := WireName(name)
	if err != nil {
		return nil
	}
	LowerInPlace(key)
	var sources []*Snapshot
	if own != nil {
		sources = append(sources, own)
	}
	if s := z.cur.Load().zoneFor(key, dns.TypeA); s != nil && s != own {
		sources = append(sources, s)
	}
	var out []netip.Addr
	for _, s := range sources {
		if !IsSubdomain(key, s.wire) {
			continue
		}
		for _, rd := range s.addrRdata(key) {
			a, ok := netip.AddrFromSlice(rd)
			if ok && !slices.Contains(out, a.Unmap()) {
				out = append(out, a.Unmap())
			}
		}
	}
	return out
}
