package daemon

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"zonekeeper/zonefile"
)

// Snapshot is an immutable zone compiled for answering queries. It is
// built once by Compile and then shared by every query goroutine; nothing
// in it changes afterwards, so it is read without locks.
type Snapshot struct {
	origin string // presentation format, lower case
	serial uint32
	wire   []byte           // origin, lower-case wire format
	nodes  map[string]*node // lower-case wire owner name -> node; empty non-terminals included
	apex   *node
	soaNeg *rrset // the SOA with TTL min(SOA TTL, MINIMUM), for negative answers (RFC 2308 §3)
	ns     *rrset // the apex NS RRset

	zone    *zonefile.Zone // the records compiled, for outgoing transfers; never modified
	soa     *dns.SOA       // the apex SOA record of zone
	expired bool           // a secondary past its SOA expire: every query gets SERVFAIL
}

// node is one owner name of a zone, or an empty non-terminal.
type node struct {
	owner []byte   // wire format, letter case as in the zone data
	key   []byte   // lower-case wire format
	sets  []*rrset // sorted by type; none for an empty non-terminal
	cut   *node    // topmost delegation point at or above this name; nil when the name is authoritative data
	wild  *node    // the child "*" node, for wildcard synthesis
	any   *rrset   // the RRset that answers QTYPE=ANY (RFC 8482)
	cname *rrset
	a     *rrset
	aaaa  *rrset
}

// rrset is one RRset in wire format, ready to be copied into replies.
type rrset struct {
	rtype   uint16
	class   uint16
	ttl     uint32
	rdata   []rdata
	targets []target // in-zone hosts named by NS, MX and SRV rdata, for the additional section
	cnTo    []byte   // CNAME target, wire format as in the zone
	cnKey   []byte   // CNAME target, lower case
}

// rdata is one record's data. Names that RFC 3597 §4 allows to compress
// (in NS, CNAME, PTR, MX and SOA) are at the offsets in names.
type rdata struct {
	wire  []byte
	names [2]int16 // offsets into wire; -1 when unused
}

// target is a host whose A and AAAA RRsets belong in the additional
// section after an RRset naming it.
type target struct {
	owner    []byte // the name as written in the rdata
	key      []byte // lower case
	node     *node  // the node holding its addresses (a wildcard for a synthesized match)
	inDomain bool   // glue below the delegation point that names it: required (RFC 9471)
}

// Origin returns the zone's origin, fully qualified and in lower case.
func (s *Snapshot) Origin() string { return s.origin }

// Serial returns the serial of the zone's SOA record.
func (s *Snapshot) Serial() uint32 { return s.serial }

// Zone returns the zone the snapshot was compiled from, for outgoing
// transfers. It is shared: callers must not modify it.
func (s *Snapshot) Zone() *zonefile.Zone { return s.zone }

// SOA returns the zone's apex SOA record. It is shared: callers must not
// modify it.
func (s *Snapshot) SOA() *dns.SOA { return s.soa }

// Expired reports whether the snapshot is marked expired: a secondary
// zone whose primaries were not reached for its SOA expire time. Queries
// that land in it get SERVFAIL, transfers of it are refused.
func (s *Snapshot) Expired() bool { return s.expired }

// WithExpired returns a copy of s marked expired or not, sharing its
// compiled data, for the secondary side to swap in (Zones.Set) when a
// zone expires or is refreshed again. s itself is unchanged.
func (s *Snapshot) WithExpired(expired bool) *Snapshot {
	c := *s
	c.expired = expired
	return &c
}

// get returns the node's RRset of type t, or nil.
func (n *node) get(t uint16) *rrset {
	for _, rs := range n.sets {
		if rs.rtype == t {
			return rs
		}
	}
	return nil
}

// Compile builds the immutable snapshot that serves zone z. z must have
// passed zonefile validation; Compile still refuses a zone whose SOA is
// missing or whose records lie outside its origin rather than serve
// nonsense.
func Compile(z *zonefile.Zone) (*Snapshot, error) {
	if z == nil {
		return nil, errors.New("daemon: compile: nil zone")
	}
	origin := strings.ToLower(dns.Fqdn(z.Origin))
	ow, err := wireName(origin)
	if err != nil {
		return nil, fmt.Errorf("daemon: compile %s: origin: %w", origin, err)
	}
	s := &Snapshot{
		origin: origin,
		wire:   ow,
		nodes:  make(map[string]*node, len(z.Records)),
		zone:   z,
	}
	s.apex = s.ensureNode(ow, ow)

	buf := make([]byte, 0, 65535)
	for _, rr := range z.Records {
		if err := s.add(rr, buf); err != nil {
			return nil, fmt.Errorf("daemon: compile %s: %w", origin, err)
		}
	}
	soa := s.apex.get(dns.TypeSOA)
	if soa == nil {
		return nil, fmt.Errorf("daemon: compile %s: no SOA record at the apex", origin)
	}
	s.ns = s.apex.get(dns.TypeNS)
	if s.ns == nil {
		return nil, fmt.Errorf("daemon: compile %s: no NS records at the apex", origin)
	}
	for _, rr := range z.Records {
		if v, ok := rr.(*dns.SOA); ok && strings.EqualFold(dns.Fqdn(v.Hdr.Name), origin) {
			s.soa = v
			s.serial = v.Serial
			neg := *soa
			neg.ttl = min(soa.ttl, v.Minttl)
			s.soaNeg = &neg
			break
		}
	}
	s.link()
	return s, nil
}

// add files one record under its node and RRset.
func (s *Snapshot) add(rr dns.RR, buf []byte) error {
	h := rr.Header()
	owner, err := wireName(h.Name)
	if err != nil {
		return fmt.Errorf("owner %q: %w", h.Name, err)
	}
	key := slices.Clone(owner)
	lowerInPlace(key)
	if !isSubdomain(key, s.wire) {
		return fmt.Errorf("%s %s is outside the zone", h.Name, dns.TypeToString[h.Rrtype])
	}
	if h.Rrtype == dns.TypeOPT || h.Rrtype == dns.TypeTSIG {
		return fmt.Errorf("%s: %s is not zone data", h.Name, dns.TypeToString[h.Rrtype])
	}
	end, err := dns.PackRR(rr, buf[:cap(buf)], 0, nil, false)
	if err != nil {
		return fmt.Errorf("%s %s: %w", h.Name, dns.TypeToString[h.Rrtype], err)
	}
	rd := rdata{wire: slices.Clone(buf[len(owner)+10 : end]), names: [2]int16{-1, -1}}
	switch h.Rrtype {
	case dns.TypeNS, dns.TypeCNAME, dns.TypePTR, dns.TypeSOA:
		rd.names[0] = 0
		if h.Rrtype == dns.TypeSOA {
			rd.names[1] = int16(nameLen(rd.wire))
		}
	case dns.TypeMX:
		rd.names[0] = 2
	}

	n := s.ensureNode(key, owner)
	rs := n.get(h.Rrtype)
	if rs == nil {
		rs = &rrset{rtype: h.Rrtype, class: h.Class, ttl: h.Ttl}
		i, _ := slices.BinarySearchFunc(n.sets, h.Rrtype, func(x *rrset, t uint16) int { return int(x.rtype) - int(t) })
		n.sets = slices.Insert(n.sets, i, rs)
	}
	rs.rdata = append(rs.rdata, rd)
	return nil
}

// ensureNode returns the node for key, creating it and every missing
// ancestor up to the apex (the empty non-terminals).
func (s *Snapshot) ensureNode(key, owner []byte) *node {
	if n := s.nodes[string(key)]; n != nil {
		return n
	}
	n := &node{owner: owner, key: key}
	s.nodes[string(key)] = n
	if len(key) > len(s.wire) {
		p := parentName(key)
		s.ensureNode(p, owner[len(owner)-len(p):])
	}
	return n
}

// link computes what queries would otherwise compute: delegation points,
// wildcard children, the ANY answer, additional-section targets.
func (s *Snapshot) link() {
	all := make([]*node, 0, len(s.nodes))
	for _, n := range s.nodes {
		all = append(all, n)
	}
	// Parents before children, so a node's cut follows from its parent's.
	slices.SortFunc(all, func(a, b *node) int { return len(a.key) - len(b.key) })
	for _, n := range all {
		n.cname = n.get(dns.TypeCNAME)
		n.a = n.get(dns.TypeA)
		n.aaaa = n.get(dns.TypeAAAA)
		n.any = anyRRset(n)
		if n == s.apex {
			continue
		}
		p := s.nodes[string(parentName(n.key))]
		switch {
		case p.cut != nil:
			n.cut = p.cut
		case n.get(dns.TypeNS) != nil:
			n.cut = n
		}
		if isWildcard(n.key) {
			p.wild = n
		}
	}
	for _, n := range all {
		for _, rs := range n.sets {
			switch rs.rtype {
			case dns.TypeCNAME:
				w := rs.rdata[0].wire
				rs.cnTo = w[:nameLen(w)]
				rs.cnKey = slices.Clone(rs.cnTo)
				lowerInPlace(rs.cnKey)
			case dns.TypeNS:
				s.linkTargets(n, rs, 0)
			case dns.TypeMX:
				s.linkTargets(n, rs, 2)
			case dns.TypeSRV:
				s.linkTargets(n, rs, 6)
			}
		}
	}
}

// linkTargets records the in-zone hosts named at offset off of rs's rdata.
func (s *Snapshot) linkTargets(n *node, rs *rrset, off int) {
	for _, rd := range rs.rdata {
		w := rd.wire[off:]
		owner := w[:nameLen(w)]
		key := slices.Clone(owner)
		lowerInPlace(key)
		if !isSubdomain(key, s.wire) {
			continue
		}
		if slices.ContainsFunc(rs.targets, func(t target) bool { return string(t.key) == string(key) }) {
			continue
		}
		kind, h := s.find(key, dns.TypeA)
		switch {
		case kind == foundCut && rs.rtype == dns.TypeNS:
			// Glue below a zone cut serves referrals only.
			h = s.nodes[string(key)]
		case kind != foundExact && kind != foundWildcard:
			h = nil
		}
		if h == nil || (h.a == nil && h.aaaa == nil) {
			continue
		}
		inDomain := rs.rtype == dns.TypeNS && n.cut == n && isSubdomain(key, n.key)
		rs.targets = append(rs.targets, target{owner: owner, key: key, node: h, inDomain: inDomain})
	}
}

// anyRRsetOrder is the preference for the one RRset answering QTYPE=ANY:
// NSD 4.6 prefers SOA, then address, MX and PTR data.
var anyRRsetOrder = []uint16{dns.TypeSOA, dns.TypeCNAME, dns.TypeA, dns.TypeAAAA, dns.TypeMX, dns.TypePTR}

// anyRRset picks the RRset answering QTYPE=ANY at n (RFC 8482 §4.1: one
// RRset suffices): the first present in anyRRsetOrder, else the one with
// the lowest type code. RRSIG, NSEC and NSEC3 are never picked alone.
func anyRRset(n *node) *rrset {
	for _, t := range anyRRsetOrder {
		if rs := n.get(t); rs != nil {
			return rs
		}
	}
	for _, rs := range n.sets {
		switch rs.rtype {
		case dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3:
			continue
		}
		return rs
	}
	return nil
}

// findKind says what a name lookup inside one zone found.
type findKind uint8

const (
	foundNXDomain findKind = iota // no such name, no wildcard
	foundExact                    // the node of that name (possibly an empty non-terminal)
	foundWildcard                 // the wildcard node that the name matches
	foundCut                      // a delegation point at or above the name
)

// find looks up name (lower case, inside the zone) as RFC 1034 §4.3.2
// step 3 describes. A DS query at a delegation point is answered from the
// parent side of the cut (RFC 4035 §3.1.4.1), so it finds the node
// itself.
func (s *Snapshot) find(name []byte, qtype uint16) (findKind, *node) {
	if n := s.nodes[string(name)]; n != nil {
		if n.cut != nil && (n.cut != n || qtype != dns.TypeDS) {
			return foundCut, n.cut
		}
		return foundExact, n
	}
	for off := 0; off < len(name) && name[off] != 0; {
		off += int(name[off]) + 1
		ce := s.nodes[string(name[off:])]
		if ce == nil {
			continue
		}
		// ce is the closest encloser (RFC 4592 §3.3.1).
		switch {
		case ce.cut != nil:
			return foundCut, ce.cut
		case ce.wild != nil:
			return foundWildcard, ce.wild
		}
		return foundNXDomain, nil
	}
	return foundNXDomain, nil
}
