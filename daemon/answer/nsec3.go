package answer

import (
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"slices"

	"github.com/miekg/dns"
)

// NSEC3 (RFC 5155) at load and at query time. Every hash a proof can
// need of a name the zone holds is computed at load: each node's own
// hash (its matching NSEC3, or for a name opted out the NSEC3 covering
// it) and the hash of the wildcard below it (the NSEC3 matching or
// covering "*.name"), so closest encloser and wildcard proofs are array
// reads. The one hash that cannot be known at load is that of the next
// closer name of a name the zone does not hold (an NXDOMAIN, a wildcard
// answer: RFC 5155 §7.2.1): it is a name the query brings, so it is
// hashed per query (nsec3Hash, SHA-1 on a stack buffer, no allocation),
// and the covering NSEC3 is then a binary search in the sorted hashes.

// nsec3Data is the NSEC3 chain of a signed zone.
type nsec3Data struct {
	iterations uint16
	salt       []byte
	hashes     [][sha1.Size]byte // the NSEC3 owners' hashes, sorted
	nodes      []int32           // per hash: the node holding that NSEC3 RRset
	own        []int32           // per node: index in hashes matching or covering its name
	ownMatch   []bool            // per node: own matches (the name has its NSEC3)
	wild       []int32           // per node: index in hashes matching or covering "*." + its name
}

// b32hex decodes NSEC3 owner labels (RFC 4648 §7, no padding).
var b32hex = base32.HexEncoding.WithPadding(base32.NoPadding)

// linkNSEC3 builds d.n3 from the NSEC3PARAM at the apex of s and the
// NSEC3 RRsets of s that use its parameters. A zone without NSEC3PARAM
// gets none.
func (d *dnssecData) linkNSEC3(s *Snapshot) {
	param := s.get(0, dns.TypeNSEC3PARAM)
	if param < 0 {
		return
	}
	it := s.rdatas(param)
	rd, _, ok := it.next()
	// Hash algorithm, flags, iterations, salt length, salt.
	if !ok || len(rd) < 5 || rd[0] != dns.SHA1 || len(rd) < 5+int(rd[4]) {
		return
	}
	n3 := &nsec3Data{iterations: binary.BigEndian.Uint16(rd[2:]), salt: slices.Clone(rd[5 : 5+int(rd[4])])}
	type owner struct {
		h    [sha1.Size]byte
		node int32
	}
	var owners []owner
	hide := make([]bool, len(s.nodes))
	for n := range s.nodes {
		if s.get(int32(n), dns.TypeNSEC3) < 0 {
			continue
		}
		// RFC 5155 §7.2.8: an NSEC3 owner name answers NXDOMAIN, as if
		// it were not there (NSD does the same), when it holds nothing
		// but the NSEC3 RRset and its signatures.
		if nd := &s.nodes[n]; nd.nsets <= 2 && (nd.nsets == 1 || s.get(int32(n), dns.TypeRRSIG) >= 0) {
			hide[n] = true
		}
		k := s.key(int32(n))
		var h [sha1.Size]byte
		if k[0] != 32 || string(k[1+k[0]:]) != string(s.wire) {
			continue
		}
		var up [32]byte
		for i, c := range k[1:33] {
			if c >= 'a' && c <= 'z' {
				c -= 'a' - 'A'
			}
			up[i] = c
		}
		if m, err := b32hex.Decode(h[:], up[:]); err != nil || m != sha1.Size {
			continue
		}
		owners = append(owners, owner{h, int32(n)})
	}
	if len(owners) == 0 {
		return
	}
	if slices.Contains(hide, true) {
		s.buildIndexHiding(hide)
	}
	slices.SortFunc(owners, func(a, b owner) int { return compareBytes(a.h[:], b.h[:]) })
	for _, o := range owners {
		n3.hashes = append(n3.hashes, o.h)
		n3.nodes = append(n3.nodes, o.node)
	}
	n3.own = make([]int32, len(s.nodes))
	n3.ownMatch = make([]bool, len(s.nodes))
	n3.wild = make([]int32, len(s.nodes))
	var wbuf [MaxNameLen + 1]byte
	for n := range s.nodes {
		k := s.key(int32(n))
		n3.own[n], n3.ownMatch[n] = n3.cover(n3.hash(k))
		if len(k)+2 <= len(wbuf) {
			n3.wild[n], _ = n3.cover(n3.hash(append(append(wbuf[:0], 1, '*'), k...)))
		} else {
			n3.wild[n] = -1
		}
	}
	d.n3 = n3
}

// hash returns the NSEC3 hash of the lower-case wire name key (RFC 5155
// §5): SHA-1 of the name and the salt, iterated over the digest and the
// salt. It allocates nothing.
func (n3 *nsec3Data) hash(key []byte) [sha1.Size]byte {
	var buf [MaxNameLen + 1 + 255]byte
	b := append(append(buf[:0], key...), n3.salt...)
	h := sha1.Sum(b)
	for range n3.iterations {
		b = append(append(buf[:0], h[:]...), n3.salt...)
		h = sha1.Sum(b)
	}
	return h
}

// cover returns the index of the NSEC3 matching h, with match set, or
// covering it: the last hash before h, the last of all for a hash before
// the first (the chain wraps, RFC 5155 §7.2.1).
func (n3 *nsec3Data) cover(h [sha1.Size]byte) (int32, bool) {
	lo, hi := 0, len(n3.hashes)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if compareBytes(n3.hashes[m][:], h[:]) <= 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return int32(len(n3.hashes) - 1), false
	}
	return int32(lo - 1), n3.hashes[lo-1] == h
}

// addNSEC3 puts the NSEC3 RRset of index i of z's chain in the authority
// section, once.
func (r *result) addNSEC3(z *Snapshot, i int32) {
	if i < 0 {
		return
	}
	r.addNSEC(z, z.sec.n3.nodes[i], dns.TypeNSEC3)
}

// closestEncloser returns the closest encloser of the lower-case name key,
// not in zone z, and the next closer name (RFC 5155 §7.2.1): the suffix
// of key one label longer than it.
func closestEncloser(z *Snapshot, key []byte) (ce int32, next []byte) {
	prev := 0
	for off := 0; off < len(key) && key[off] != 0; {
		prev = off
		off += int(key[off]) + 1
		if n := z.lookup(key[off:]); n >= 0 {
			return n, key[prev:]
		}
	}
	return 0, key
}

// denyName3 adds the NSEC3 proof that key does not exist (RFC 5155
// §7.2.2): the closest encloser's NSEC3, the NSEC3 covering the next
// closer name (hashed here: a name the zone does not hold) and the one
// covering the wildcard at the closest encloser.
func (r *result) denyName3(z *Snapshot, key []byte) {
	n3 := z.sec.n3
	ce, next := closestEncloser(z, key)
	if n3.ownMatch[ce] {
		r.addNSEC3(z, n3.own[ce])
	}
	i, _ := n3.cover(n3.hash(next))
	r.addNSEC3(z, i)
	r.addNSEC3(z, n3.wild[ce])
}

// nextCloser3 adds the NSEC3 covering the next closer name of key, not in
// zone z: what a wildcard answer carries (RFC 5155 §7.2.6).
func (r *result) nextCloser3(z *Snapshot, key []byte) {
	n3 := z.sec.n3
	_, next := closestEncloser(z, key)
	i, _ := n3.cover(n3.hash(next))
	r.addNSEC3(z, i)
}

// provable3 adds the proof for node n, which has no NSEC3 of its own
// (opted out, RFC 5155 §7.2.4 and §7.2.7): the NSEC3 of the closest
// provable encloser and the NSEC3 covering the next closer name, an
// existing name whose hash is known.
func (r *result) provable3(z *Snapshot, n int32) {
	n3 := z.sec.n3
	next := n
	for a := z.parentOf(n); a >= 0; next, a = a, z.parentOf(a) {
		if n3.ownMatch[a] {
			r.addNSEC3(z, n3.own[a])
			r.addNSEC3(z, n3.own[next])
			return
		}
	}
}
