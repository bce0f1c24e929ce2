package answer

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
//   - Signed zones (dnssec.go), with DO: like NSD, a query for type RRSIG
//     gets every signature at the name, each with the TTL of the RRset it
//     covers; an NSEC3 owner name answers NXDOMAIN (RFC 5155 §7.2.8). A
//     name below an NSEC3 owner gets the full NXDOMAIN proof with the apex
//     as closest encloser; NSD takes the owner for it and sends one NSEC3.
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
	EDEProhibited   = 18
	EDENotAuth      = 20
	EDENotSupported = 21
	EDEAbsent       = 0xffff
)

// entry is one RRset placed in a reply section under an owner name.
type entry struct {
	owner    []byte    // wire format, letter case as it goes on the wire
	z        *Snapshot // the zone holding the RRset
	set      int32     // the RRset's index in z.sets
	required bool      // additional only: in-domain glue of a referral (RFC 9471)
	sig      bool      // set is a signature set of z.sec (dnssec.go), not one of z.sets
}

// count returns the number of records of e's RRset.
func (e *entry) count() int {
	if e.sig {
		return e.z.sec.sigCount(e.set)
	}
	return e.z.count(e.set)
}

// host is an in-zone host whose addresses go to the additional section.
type host struct {
	owner    []byte    // the name as written in the rdata naming it
	z        *Snapshot // the zone holding node
	node     int32     // the node holding its addresses (a wildcard for a synthesized match)
	inDomain bool      // required glue of a referral
}

// result is the answer to one question, before packing. It is reused from
// query to query, so its slices keep their backing arrays.
type result struct {
	rcode      int
	aa         bool
	referral   bool
	ede        uint16 // EDEAbsent when none
	answer     []entry
	authority  []entry
	additional []entry
	hosts      []host   // scratch: hosts whose addresses go to additional
	visited    [][]byte // scratch: CNAME owners already followed

	// do is the query's DO bit, set by the caller before resolve (reset
	// keeps it): with it a signed zone's answers carry their proofs
	// (dnssec.go); the packer adds the signatures.
	do   bool
	wbuf [MaxNameLen + 1]byte // scratch: a wildcard name
}

func (r *result) reset() {
	r.rcode = dns.RcodeSuccess
	r.aa = false
	r.referral = false
	r.ede = EDEAbsent
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
		r.ede = EDENotAuth
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
			r.refer(z, n)
			return
		case foundNXDomain:
			r.rcode = dns.RcodeNameError
			r.authority = append(r.authority, entry{owner: z.apexOwner, z: z, set: z.soaNeg})
			if r.do && z.sec != nil {
				r.denyName(z, key)
			}
			return
		}
		wild := kind == foundWildcard && r.do && z.sec != nil
		// An exact or wildcard match: the answer's owner is the name asked
		// for in either case (RFC 4592 §4.1 synthesis).
		nd := &z.nodes[n]
		var rs int32
		switch qtype {
		case dns.TypeANY:
			rs = z.rel(n, nd.any)
		case dns.TypeA:
			rs = z.rel(n, nd.a)
		case dns.TypeAAAA:
			rs = z.rel(n, nd.aaaa)
		default:
			rs = z.get(n, qtype)
		}
		if rs >= 0 && qtype == dns.TypeRRSIG && z.sec != nil && r.answerSigs(z, n, owner) {
			return
		}
		if rs >= 0 {
			r.answer = append(r.answer, entry{owner: owner, z: z, set: rs})
			r.addHosts(z, rs, false)
			if full && rs != z.ns && qtype != dns.TypeANY && nd.cut < 0 {
				r.authority = append(r.authority, entry{owner: z.apexOwner, z: z, set: z.ns})
				r.addHosts(z, z.ns, false)
			}
			if wild {
				r.proveWildcard(z, key)
			}
			r.fillAdditional()
			return
		}
		cn := z.rel(n, nd.cname)
		if cn < 0 || qtype == dns.TypeCNAME {
			r.authority = append(r.authority, entry{owner: z.apexOwner, z: z, set: z.soaNeg})
			if r.do && z.sec != nil {
				r.denyType(z, n, key, kind == foundWildcard)
			}
			return
		}
		if wild {
			r.proveWildcard(z, key)
		}
		r.answer = append(r.answer, entry{owner: owner, z: z, set: cn})
		r.visited = append(r.visited, key)
		cnTo, cnKey := z.cnameTarget(cn)
		if len(r.answer) >= maxChain || r.seen(cnKey) {
			return
		}
		if z = t.zoneFor(cnKey, qtype); z == nil || z.expired {
			// The chain leaves our data, or enters an expired zone: the
			// resolver follows it from here and learns the rest.
			return
		}
		owner, key = cnTo, cnKey
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
// of delegation point cut of zone z and its glue.
func (r *result) refer(z *Snapshot, cut int32) {
	r.referral = true
	ns := z.get(cut, dns.TypeNS)
	r.authority = append(r.authority, entry{owner: z.ownerName(cut), z: z, set: ns})
	if r.do && z.sec != nil {
		// RFC 4035 §3.1.4: the DS RRset of a secure delegation, or the
		// NSEC proving there is none.
		if ds := z.get(cut, dns.TypeDS); ds >= 0 {
			r.authority = append(r.authority, entry{owner: z.ownerName(cut), z: z, set: ds})
		} else {
			r.denyDS(z, cut)
		}
	}
	r.addHosts(z, ns, true)
	r.fillAdditional()
}

// addHosts queues the hosts named by RRset set of zone z for the
// additional section, once each.
func (r *result) addHosts(z *Snapshot, set int32, referral bool) {
	t := z.firstTarget(set)
	if t < 0 {
		return
	}
	for ; ; t++ {
		if len(r.hosts) >= maxAdditional {
			return
		}
		tr := &z.targets[t]
		name := z.targetName(t)
		dup := false
		for _, x := range r.hosts {
			if EqualFold(x.owner, name) {
				dup = true
				break
			}
		}
		if !dup {
			r.hosts = append(r.hosts, host{owner: name, z: z, node: tr.node, inDomain: referral && tr.inDomain})
		}
		if tr.last {
			return
		}
	}
}

// fillAdditional turns the queued hosts into A RRsets, then AAAA RRsets.
func (r *result) fillAdditional() {
	for _, h := range r.hosts {
		if a := h.z.rel(h.node, h.z.nodes[h.node].a); a >= 0 {
			r.additional = append(r.additional, entry{owner: h.owner, z: h.z, set: a, required: h.inDomain})
		}
	}
	for _, h := range r.hosts {
		if aaaa := h.z.rel(h.node, h.z.nodes[h.node].aaaa); aaaa >= 0 {
			r.additional = append(r.additional, entry{owner: h.owner, z: h.z, set: aaaa, required: h.inDomain})
		}
	}
}
