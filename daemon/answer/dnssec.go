package answer

import (
	"encoding/binary"
	"slices"

	"github.com/miekg/dns"
)

// Signed zones (RFC 4035 §3, docs/architecture.md "Signed zones"). The
// zone data already holds the signatures and the NSEC chain, made by the
// signer; serving them is a matter of finding, at load, what each answer
// will need:
//
//   - the RRSIGs covering each RRset: a node's RRSIG RRset split by the
//     type covered into signature sets of their own (sigSets, sigData),
//     and per RRset the index of its signature set (sigOf), so that a DO
//     reply appends an RRset's signatures right after it, on the fast
//     path as on the full one;
//   - the NSEC owners in canonical order (RFC 4034 §6.1), so that the NSEC
//     covering a name that does not exist is a binary search.
//
// Without DO nothing of this is read: the reply is what an unsigned zone
// gets (RFC 4035 §3.1).

// dnssecData is what a signed zone serves besides its RRsets. It is nil
// for an unsigned zone.
type dnssecData struct {
	sigOf   []int32    // per RRset of the zone: its signature set in sigSets, -1 when none
	sigSets []setRec   // RRSIG RRsets by type covered; rdatas in sigData
	sigData []byte     // the data arena of sigSets, laid out as Snapshot.data
	nsec    []int32    // the nodes holding an NSEC RRset, in canonical order
	n3      *nsec3Data // the NSEC3 chain, nil without NSEC3PARAM (nsec3.go)
}

// linkDNSSEC builds s.sec from the RRSIG and NSEC RRsets of s. It reads
// only the snapshot, so that a snapshot read from the compiled cache gets
// it too (snapshot_cache.go).
func (s *Snapshot) linkDNSSEC() {
	signed := false
	for i := range s.sets {
		if s.sets[i].rtype == dns.TypeRRSIG {
			signed = true
			break
		}
	}
	if !signed {
		s.sec = nil
		return
	}
	d := &dnssecData{sigOf: make([]int32, len(s.sets))}
	for i := range d.sigOf {
		d.sigOf[i] = -1
	}
	var covered []uint16
	var sigs []int32
	for n := range s.nodes {
		nd := &s.nodes[n]
		if s.get(int32(n), dns.TypeNSEC) >= 0 {
			d.nsec = append(d.nsec, int32(n))
		}
		// A name's RRSIGs of different TTLs are runs of their own
		// (compile.go, packNode): the signatures of a type may be in any.
		sigs = sigs[:0]
		for i := nd.firstSet; i < nd.firstSet+uint32(nd.nsets); i++ {
			if s.sets[i].rtype == dns.TypeRRSIG {
				sigs = append(sigs, int32(i))
			}
		}
		if len(sigs) == 0 {
			continue
		}
		covered = covered[:0]
		for _, sig := range sigs {
			it := s.rdatas(sig)
			for rd, _, ok := it.next(); ok; rd, _, ok = it.next() {
				if len(rd) >= 2 && !slices.Contains(covered, binary.BigEndian.Uint16(rd)) {
					covered = append(covered, binary.BigEndian.Uint16(rd))
				}
			}
		}
		for _, t := range covered {
			set := int32(-1)
			for i := nd.firstSet; i < nd.firstSet+uint32(nd.nsets); i++ {
				if s.sets[i].rtype == t {
					set = int32(i)
				}
			}
			if set < 0 {
				continue // a signature of nothing here
			}
			d.sigOf[set] = d.addSigSet(s, sigs, t, s.sets[set].ttl)
			if n == 0 && t == dns.TypeSOA && s.soaNeg >= 0 {
				d.sigOf[s.soaNeg] = d.addSigSet(s, sigs, t, s.sets[s.soaNeg].ttl)
			}
		}
	}
	slices.SortFunc(d.nsec, func(a, b int32) int { return compareNames(s.key(a), s.key(b)) })
	d.linkNSEC3(s)
	s.sec = d
}

// addSigSet appends the records of the RRSIG RRsets sigs (one name's)
// that cover type t as a signature set with TTL ttl, and returns its
// index.
func (d *dnssecData) addSigSet(s *Snapshot, sigs []int32, t uint16, ttl uint32) int32 {
	at := len(d.sigData)
	d.sigData = append(d.sigData, 0, 0)
	count := 0
	for _, sig := range sigs {
		it := s.rdatas(sig)
		for rd, _, ok := it.next(); ok; rd, _, ok = it.next() {
			if len(rd) < 2 || binary.BigEndian.Uint16(rd) != t {
				continue
			}
			d.sigData = binary.BigEndian.AppendUint16(d.sigData, uint16(len(rd)))
			d.sigData = append(d.sigData, rd...)
			count++
		}
	}
	binary.BigEndian.PutUint16(d.sigData[at:], uint16(count))
	d.sigSets = append(d.sigSets, setRec{ttl: ttl, data: uint32(at), rtype: dns.TypeRRSIG, class: s.sets[sigs[0]].class})
	return int32(len(d.sigSets) - 1)
}

// Signed reports whether the zone holds signatures (RRSIG records).
func (s *Snapshot) Signed() bool { return s.sec != nil }

// nsecCovering returns the node whose NSEC RRset covers or matches the
// lower-case name key: the last NSEC owner at or before key in canonical
// order, the last of the chain for a name before the apex. It returns -1
// when the zone has no NSEC chain.
func (s *Snapshot) nsecCovering(key []byte) int32 {
	nsec := s.sec.nsec
	if len(nsec) == 0 {
		return -1
	}
	lo, hi := 0, len(nsec) // the answer is nsec[lo-1]
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if compareNames(s.key(nsec[m]), key) <= 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return nsec[len(nsec)-1]
	}
	return nsec[lo-1]
}

// addNSEC puts the RRset of type t (NSEC or NSEC3) of node n of zone z
// in the authority section, once; n < 0 adds nothing.
func (r *result) addNSEC(z *Snapshot, n int32, t uint16) {
	if n < 0 {
		return
	}
	set := z.get(n, t)
	if set < 0 {
		return
	}
	for _, e := range r.authority {
		if e.z == z && e.set == set {
			return
		}
	}
	r.authority = append(r.authority, entry{owner: z.ownerName(n), z: z, set: set})
}

// denyName adds the proof that the lower-case name key does not exist in
// zone z (RFC 4035 §3.1.3.2): the NSEC covering it and the NSEC covering
// the wildcard at its closest encloser, which may be the same; or the
// NSEC3 proof (nsec3.go).
func (r *result) denyName(z *Snapshot, key []byte) {
	if z.sec.n3 != nil {
		r.denyName3(z, key)
		return
	}
	r.addNSEC(z, z.nsecCovering(key), dns.TypeNSEC)
	ce, _ := closestEncloser(z, key)
	ck := z.key(ce)
	if len(ck)+2 > len(r.wbuf) {
		return
	}
	w := append(append(r.wbuf[:0], 1, '*'), ck...)
	r.addNSEC(z, z.nsecCovering(w), dns.TypeNSEC)
}

// proveWildcard adds what an answer synthesized from a wildcard carries
// for the name asked, key: the proof that key itself does not exist
// (RFC 4035 §3.1.3.3, RFC 5155 §7.2.6).
func (r *result) proveWildcard(z *Snapshot, key []byte) {
	if z.sec.n3 != nil {
		r.nextCloser3(z, key)
		return
	}
	r.addNSEC(z, z.nsecCovering(key), dns.TypeNSEC)
}

// denyType adds the proof that node n of zone z, found for the lower-case
// name key, has no RRset of the type asked for (RFC 4035 §3.1.3.1, RFC
// 5155 §7.2.3, §7.2.4): its NSEC or NSEC3, or for an empty non-terminal
// without one the NSEC covering its name; for a wildcard match (RFC 4035
// §3.1.3.4, RFC 5155 §7.2.5) the wildcard's and the proof that key does
// not exist.
func (r *result) denyType(z *Snapshot, n int32, key []byte, wildcard bool) {
	if n3 := z.sec.n3; n3 != nil {
		switch {
		case wildcard:
			ce, next := closestEncloser(z, key)
			if n3.ownMatch[ce] {
				r.addNSEC3(z, n3.own[ce])
			}
			i, _ := n3.cover(n3.hash(next))
			r.addNSEC3(z, i)
			if n3.ownMatch[n] {
				r.addNSEC3(z, n3.own[n])
			}
		case n3.ownMatch[n]:
			r.addNSEC3(z, n3.own[n])
		default:
			r.provable3(z, n)
		}
		return
	}
	if z.get(n, dns.TypeNSEC) >= 0 {
		r.addNSEC(z, n, dns.TypeNSEC)
	} else if !wildcard {
		r.addNSEC(z, z.nsecCovering(key), dns.TypeNSEC)
	}
	if wildcard {
		r.addNSEC(z, z.nsecCovering(key), dns.TypeNSEC)
	}
}

// denyDS adds the proof that delegation point cut of zone z has no DS
// RRset (RFC 4035 §3.1.4.1, RFC 5155 §7.2.7): its NSEC or NSEC3, or
// under NSEC3 opt-out the closest provable encloser's.
func (r *result) denyDS(z *Snapshot, cut int32) {
	if n3 := z.sec.n3; n3 != nil {
		if n3.ownMatch[cut] {
			r.addNSEC3(z, n3.own[cut])
		} else {
			r.provable3(z, cut)
		}
		return
	}
	r.addNSEC(z, cut, dns.TypeNSEC)
}

// parentOf returns the node of the name one label above node n's, -1
// for the apex.
func (s *Snapshot) parentOf(n int32) int32 {
	if n == 0 {
		return -1
	}
	k := s.key(n)
	return s.lookup(k[1+k[0]:])
}

// sigCount returns the number of records of signature set sig.
func (d *dnssecData) sigCount(sig int32) int {
	return int(binary.BigEndian.Uint16(d.sigData[d.sigSets[sig].data:]))
}

// answerSigs answers a query for type RRSIG at node n of the signed zone
// z with its signature sets, each with the TTL of the RRset it covers, as
// NSD does, whatever runs (by TTL) the node's RRSIGs are stored in. It
// reports whether there was any.
func (r *result) answerSigs(z *Snapshot, n int32, owner []byte) bool {
	nd := &z.nodes[n]
	found := false
	for i := nd.firstSet; i < nd.firstSet+uint32(nd.nsets); i++ {
		if sig := z.sec.sigOf[i]; sig >= 0 {
			r.answer = append(r.answer, entry{owner: owner, z: z, set: sig, sig: true})
			found = true
		}
	}
	return found
}
