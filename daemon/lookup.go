package daemon

import (
	"github.com/miekg/dns"
)

// Choices where the RFCs leave room, and how they compare with NSD 4.6:
//
//   - A CNAME chain is followed into every zone served here, as NSD does
//     (RFC 1034 §4.3.2 step 3a restarts the lookup "at step 1"); its end
//     is answered by the zone that holds it, so NXDOMAIN, NODATA and
//     referrals after a chain carry that zone's SOA or NS. AA reflects the
//     first zone only. A chain stops at a name already in it (a loop) or
//     after maxChain CNAMEs; NSD follows longer chains.
//   - QTYPE=ANY is answered with one RRset (RFC 8482 §4.1), over UDP and
//     TCP alike, as NSD 4.6 does; see anyRRsetOrder for which one. NSD
//     picks by zonefile order, which the compiled zone no longer has.
//   - Positive answers carry no NS RRset in the authority section
//     (RFC 2181 §6.1 and RFC 1034 §4.3.2 make it optional; it only grows
//     replies), but NS, MX and SRV answers do carry the addresses of
//     their in-zone targets in the additional section, which saves the
//     resolver a round trip (RFC 1035 §3.3.9, RFC 2782). NSD's default
//     ("minimal-responses: no") adds the authority NS too; FullResponses
//     does the same. Even then an ANY answer, a DS answer at a
//     delegation point and an answer that is the apex NS RRset carry no
//     authority NS, like NSD.
//   - A query whose zone is an expired secondary gets SERVFAIL without
//     AA; a CNAME chain that enters an expired zone stops there.
//   - The additional section holds A and AAAA RRsets (all A first, then
//     all AAAA, like NSD) of in-zone hosts, including hosts matched by a
//     wildcard; a host of another zone served here is not looked up (NSD
//     does not either).

// maxChain bounds the CNAMEs followed for one query.
const maxChain = 16

// maxAdditional bounds the hosts whose addresses go to the additional
// section; past it, a reply would not fit a UDP datagram anyway.
const maxAdditional = 64

// Extended DNS error codes sent with REFUSED (RFC 8914), as NSD does.
const (
	edeProhibited   = 18
	edeNotAuth      = 20
	edeNotSupported = 21
	edeAbsent       = 0xffff
)

// entry is one RRset placed in a reply section under an owner name.
type entry struct {
	owner    []byte // wire format, letter case as it goes on the wire
	set      *rrset
	required bool // additional only: in-domain glue of a referral (RFC 9471)
}

// result is the answer to one question, before packing. It is reused from
// query to query, so its slices keep their backing arrays.
type result struct {
	rcode      int
	aa         bool
	referral   bool
	ede        uint16 // edeAbsent when none
	answer     []entry
	authority  []entry
	additional []entry
	hosts      []target // scratch: hosts whose addresses go to additional
	visited    [][]byte // scratch: CNAME owners already followed
}

func (r *result) reset() {
	r.rcode = dns.RcodeSuccess
	r.aa = false
	r.referral = false
	r.ede = edeAbsent
	r.answer = r.answer[:0]
	r.authority = r.authority[:0]
	r.additional = r.additional[:0]
	r.hosts = r.hosts[:0]
	r.visited = r.visited[:0]
}

// resolve answers qname/qtype (an IN-class query) from the zones of t.
// qname is the name as asked, lname the same in lower case. With full,
// positive answers also carry the zone's NS RRset in authority.
func (r *result) resolve(t *zoneTable, qname, lname []byte, qtype uint16, full bool) {
	r.reset()
	z := t.zoneFor(lname, qtype)
	if z == nil {
		r.rcode = dns.RcodeRefused
		r.ede = edeNotAuth
		return
	}
	if z.expired {
		// A secondary past its expire time has no data to vouch for
		// (RFC 1035 §4.3.5): SERVFAIL, as BIND and NSD answer.
		r.rcode = dns.RcodeServerFailure
		return
	}
	r.aa = true
	owner, key := qname, lname
	for {
		kind, n := z.find(key, qtype)
		switch kind {
		case foundCut:
			if len(r.answer) == 0 {
				r.aa = false
			}
			r.refer(n)
			return
		case foundNXDomain:
			r.rcode = dns.RcodeNameError
			r.authority = append(r.authority, entry{owner: z.apex.owner, set: z.soaNeg})
			return
		}
		// An exact or wildcard match: the answer's owner is the name asked
		// for in either case (RFC 4592 §4.1 synthesis).
		var rs *rrset
		switch qtype {
		case dns.TypeANY:
			rs = n.any
		case dns.TypeA:
			rs = n.a
		case dns.TypeAAAA:
			rs = n.aaaa
		default:
			rs = n.get(qtype)
		}
		if rs != nil {
			r.answer = append(r.answer, entry{owner: owner, set: rs})
			r.addHosts(rs.targets, false)
			if full && rs != z.ns && qtype != dns.TypeANY && n.cut == nil {
				r.authority = append(r.authority, entry{owner: z.apex.owner, set: z.ns})
				r.addHosts(z.ns.targets, false)
			}
			r.fillAdditional()
			return
		}
		cn := n.cname
		if cn == nil || qtype == dns.TypeCNAME {
			r.authority = append(r.authority, entry{owner: z.apex.owner, set: z.soaNeg})
			return
		}
		r.answer = append(r.answer, entry{owner: owner, set: cn})
		r.visited = append(r.visited, key)
		if len(r.answer) >= maxChain || r.seen(cn.cnKey) {
			return
		}
		if z = t.zoneFor(cn.cnKey, qtype); z == nil || z.expired {
			// The chain leaves our data, or enters an expired zone: the
			// resolver follows it from here and learns the rest.
			return
		}
		owner, key = cn.cnTo, cn.cnKey
	}
}

// seen reports whether the chain already went through key.
func (r *result) seen(key []byte) bool {
	for _, v := range r.visited {
		if string(v) == string(key) {
			return true
		}
	}
	return false
}

// refer fills the authority and additional sections with the NS RRset
// of delegation point cut and its glue.
func (r *result) refer(cut *node) {
	r.referral = true
	ns := cut.get(dns.TypeNS)
	r.authority = append(r.authority, entry{owner: cut.owner, set: ns})
	r.addHosts(ns.targets, true)
	r.fillAdditional()
}

// addHosts queues hosts for the additional section, once each.
func (r *result) addHosts(hosts []target, referral bool) {
	for _, h := range hosts {
		if len(r.hosts) >= maxAdditional {
			return
		}
		dup := false
		for _, x := range r.hosts {
			if string(x.key) == string(h.key) {
				dup = true
				break
			}
		}
		if !dup {
			if !referral {
				h.inDomain = false
			}
			r.hosts = append(r.hosts, h)
		}
	}
}

// fillAdditional turns the queued hosts into A RRsets, then AAAA RRsets.
func (r *result) fillAdditional() {
	for _, h := range r.hosts {
		if h.node.a != nil {
			r.additional = append(r.additional, entry{owner: h.owner, set: h.node.a, required: h.inDomain})
		}
	}
	for _, h := range r.hosts {
		if h.node.aaaa != nil {
			r.additional = append(r.additional, entry{owner: h.owner, set: h.node.aaaa, required: h.inDomain})
		}
	}
}
