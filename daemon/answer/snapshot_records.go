package answer

import (
	"slices"

	"github.com/miekg/dns"
)

// EachRecord calls fn for every record the snapshot serves, in the
// canonical order of zonefile.Sort: names in DNS canonical order (RFC
// 4034 §6.1), at each name the SOA first and then the RRsets by type, the
// records of an RRset in the order of the zone's records. owner is in
// zone case and wire format; every record of an RRset carries the RRset's
// class and TTL. The slices are shared and valid only during the call.
// It stops when fn returns false. It is meant for packing outgoing
// transfers from the compact form.
func (s *Snapshot) EachRecord(fn func(owner []byte, rtype, class uint16, ttl uint32, rdata []byte) bool) {
	for _, n := range s.canonicalNodes() {
		owner := s.ownerName(n)
		nd := &s.nodes[n]
		first, end := int32(nd.firstSet), int32(nd.firstSet)+int32(nd.nsets)
		if soa := s.get(n, dns.TypeSOA); soa >= 0 && !s.eachOf(soa, owner, fn) {
			return
		}
		for set := first; set < end; set++ {
			if s.sets[set].rtype == dns.TypeSOA {
				continue
			}
			if !s.eachOf(set, owner, fn) {
				return
			}
		}
	}
}

// eachOf calls fn for every record of RRset set; false when fn stopped.
func (s *Snapshot) eachOf(set int32, owner []byte, fn func(owner []byte, rtype, class uint16, ttl uint32, rdata []byte) bool) bool {
	rs := &s.sets[set]
	it := s.rdatas(set)
	for rd, _, ok := it.next(); ok; rd, _, ok = it.next() {
		if !fn(owner, rs.rtype, rs.class, rs.ttl, rd) {
			return false
		}
	}
	return true
}

// canonicalNodes returns the node indices in canonical name order. Nodes
// are numbered in the order their names first appear in the zone's
// records, which for a zone in canonical order (as zonefile leaves it) is
// already canonical; only otherwise is a sorted copy made.
func (s *Snapshot) canonicalNodes() []int32 {
	all := make([]int32, len(s.nodes))
	sorted := true
	for i := range all {
		all[i] = int32(i)
		if i > 0 && sorted && compareNames(s.key(int32(i-1)), s.key(int32(i))) > 0 {
			sorted = false
		}
	}
	if !sorted {
		slices.SortFunc(all, func(a, b int32) int { return compareNames(s.key(a), s.key(b)) })
	}
	return all
}

// compareNames orders two lower-case wire-format names canonically (RFC
// 4034 §6.1): label by label from the root, each label as a string of
// bytes, a name before the names below it.
func compareNames(a, b []byte) int {
	var la, lb [128]uint8
	na, nb := labelStarts(a, &la), labelStarts(b, &lb)
	for na > 0 && nb > 0 {
		na--
		nb--
		x := a[la[na]+1 : la[na]+1+a[la[na]]]
		y := b[lb[nb]+1 : lb[nb]+1+b[lb[nb]]]
		if c := compareBytes(x, y); c != 0 {
			return c
		}
	}
	return na - nb
}

// labelStarts records the offset of each label of the wire name w but the
// root, and returns how many there are.
func labelStarts(w []byte, at *[128]uint8) int {
	n := 0
	for off := 0; off < len(w) && w[off] != 0 && n < len(at); off += int(w[off]) + 1 {
		at[n] = uint8(off)
		n++
	}
	return n
}

// compareBytes compares two byte strings as strings.Compare does.
func compareBytes(a, b []byte) int {
	switch {
	case string(a) < string(b):
		return -1
	case string(a) > string(b):
		return 1
	}
	return 0
}

// ApexNSRdata returns the rdata of the apex NS RRset: each an
// uncompressed host name in wire format. The slices are shared.
func (s *Snapshot) ApexNSRdata() [][]byte {
	if s.ns < 0 {
		return nil
	}
	var out [][]byte
	it := s.rdatas(s.ns)
	for rd, _, ok := it.next(); ok; rd, _, ok = it.next() {
		out = append(out, rd)
	}
	return out
}

// addrRdata returns the rdata of the A and then the AAAA records owned
// by the lower-case wire name key (glue included), none when the zone
// has no such name. The slices are shared.
func (s *Snapshot) addrRdata(key []byte) [][]byte {
	n := s.lookup(key)
	if n < 0 {
		return nil
	}
	var out [][]byte
	nd := &s.nodes[n]
	for _, r := range []uint16{nd.a, nd.aaaa} {
		if set := s.rel(n, r); set >= 0 {
			it := s.rdatas(set)
			for rd, _, ok := it.next(); ok; rd, _, ok = it.next() {
				out = append(out, rd)
			}
		}
	}
	return out
}

// ApexHas reports whether the apex has an RRset of type t: the signature
// watch asks for DNSKEY before it reads a version's signatures
// (docs/architecture.md, "Signed zones").
func (s *Snapshot) ApexHas(t uint16) bool { return len(s.nodes) > 0 && s.get(0, t) >= 0 }
