package answer

import (
	"github.com/miekg/dns"
)

// link computes what queries would otherwise compute: delegation points,
// wildcard children, CNAME targets in lower case, additional-section
// targets. The ANY answer and the A, AAAA and CNAME RRsets of each node
// were found as its RRsets were packed.
func (c *compiler) link() error {
	s := c.s
	// Node indices put parents before children, so a node's cut follows
	// from its parent's. The apex is never a cut.
	for i := 1; i < len(s.nodes); i++ {
		n, p := int32(i), c.parent[i]
		switch {
		case s.nodes[p].cut >= 0:
			s.nodes[n].cut = s.nodes[p].cut
		case s.get(n, dns.TypeNS) >= 0:
			s.nodes[n].cut = n
		}
		if isWildcard(s.key(n)) {
			s.nodes[p].wild = n
		}
	}
	for i := range s.nodes {
		n := int32(i)
		nd := &s.nodes[n]
		for set := int32(nd.firstSet); set < int32(nd.firstSet)+int32(nd.nsets); set++ {
			switch s.sets[set].rtype {
			case dns.TypeCNAME:
				if len(s.names) > maxArena {
					return errArena
				}
				c.linkCNAME(set)
			case dns.TypeNS:
				c.linkTargets(n, set, 0)
			case dns.TypeMX:
				c.linkTargets(n, set, 2)
			case dns.TypeSRV:
				c.linkTargets(n, set, 6)
			}
		}
	}
	return nil
}

// linkCNAME stores the lower-case target of CNAME RRset set, which
// queries follow.
func (c *compiler) linkCNAME(set int32) {
	s := c.s
	it := s.rdatas(set)
	w, _, _ := it.next()
	l := NameLen(w)
	if l < 0 {
		l = 0
	}
	s.sets[set].aux = uint32(len(s.names))
	at := len(s.names)
	s.names = append(s.names, w[:l]...)
	LowerInPlace(s.names[at:])
}

// linkTargets records the in-zone hosts named at offset off of the rdata
// of RRset set, at node n.
func (c *compiler) linkTargets(n, set int32, off int) {
	s := c.s
	rtype := s.sets[set].rtype
	first := int32(len(s.targets))
	var kb [MaxNameLen + 1]byte
	it := s.rdatas(set)
	for w, at, ok := it.next(); ok; w, at, ok = it.next() {
		if len(w) < off {
			continue
		}
		l := NameLen(w[off:])
		if l < 0 {
			continue
		}
		key := append(kb[:0], w[off:off+l]...)
		LowerInPlace(key)
		if !IsSubdomain(key, s.wire) {
			continue
		}
		dup := false
		for t := first; t < int32(len(s.targets)); t++ {
			if EqualFold(s.targetName(t), key) {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		kind, h := s.find(key, dns.TypeA)
		switch {
		case kind == foundCut && rtype == dns.TypeNS:
			// Glue below a zone cut serves referrals only.
			h = s.lookup(key)
		case kind != foundExact && kind != foundWildcard:
			h = -1
		}
		if h < 0 || !s.hasAddrs(h) {
			continue
		}
		inDomain := rtype == dns.TypeNS && s.nodes[n].cut == n && IsSubdomain(key, s.key(n))
		s.targets = append(s.targets, targetRec{name: uint32(at + off), nameLen: uint8(l), node: h, inDomain: inDomain})
	}
	if int32(len(s.targets)) > first {
		s.targets[len(s.targets)-1].last = true
		s.sets[set].aux = uint32(first) + 1
	}
}

// anyRRsetOrder is the preference for the one RRset answering QTYPE=ANY:
// NSD 4.6 prefers SOA, then address, MX and PTR data.
var anyRRsetOrder = []uint16{dns.TypeSOA, dns.TypeCNAME, dns.TypeA, dns.TypeAAAA, dns.TypeMX, dns.TypePTR}

// anyRel picks the RRset answering QTYPE=ANY at n (RFC 8482 §4.1: one
// RRset suffices): the first present in anyRRsetOrder, else the one with
// the lowest type code. RRSIG, NSEC and NSEC3 are never picked alone. It
// returns its index relative to the node's first RRset, or noRel.
func (c *compiler) anyRel(n int32) uint16 {
	s := c.s
	nd := &s.nodes[n]
	for _, t := range anyRRsetOrder {
		if i := s.get(n, t); i >= 0 {
			return uint16(i - int32(nd.firstSet))
		}
	}
	for i := uint16(0); i < nd.nsets; i++ {
		switch s.sets[nd.firstSet+uint32(i)].rtype {
		case dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3:
			continue
		}
		return i
	}
	return noRel
}
