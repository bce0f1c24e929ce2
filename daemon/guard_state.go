package daemon

import (
	"context"

	"strings"
	"zonekeeper/daemon/api"

	"github.com/miekg/dns"
)

// roleAt asks node p for zone's state now. Until the zone state
// exchange (zone_state.go) is in, only the SOA is asked: the role is
// unknown.
func (d *Daemon) roleAt(ctx context.Context, p peer, zone string) roleView {
	v := roleView{node: p.Name, addr: p.Addr}
	var key *xfrKey
	if p.Key != "" {
		k, err := d.secondaries.keyNamed(ctx, p.Key)
		if err != nil {
			v.err = err.Error()
			return v
		}
		key = k
	}
	ctx, cancel := context.WithTimeout(ctx, healthQueryTimeout)
	defer cancel()
	r, err := d.secondaries.exchangeSOA(ctx, "udp", p.Addr, zone, key)
	if err != nil {
		v.err = err.Error()
		return v
	}
	v.answered = true
	if r.Rcode != dns.RcodeSuccess || !r.Authoritative {
		v.err = "answered " + dns.RcodeToString[r.Rcode]
		return v
	}
	for _, rr := range r.Answer {
		if soa, ok := rr.(*dns.SOA); ok && strings.EqualFold(soa.Hdr.Name, zone) {
			v.serves, v.serial = true, soa.Serial
		}
	}
	return v
}

// viewOf is what the last health round saw of a zone at peer p.
func viewOf(p peer, st *api.PeerState) roleView {
	return roleView{node: p.Name, addr: p.Addr, answered: st.Reachable, serves: st.Serves, serial: st.Serial, err: st.Error}
}
