package answer

import (
	"encoding/binary"
	"hash/maphash"
	"sync/atomic"

	"github.com/miekg/dns"
)

// Snapshot is an immutable zone compiled for answering queries. It is
// built once by CompilePacked (or Compile) and then shared by every query goroutine; nothing
// in it changes afterwards, so it is read without locks.
//
// The served form is flat: a few large slices of fixed-size records that
// refer to each other by index, and two byte arenas. A zone of millions
// of records is then a handful of heap objects, close to its wire size,
// which the garbage collector does not have to scan pointer by pointer.
type Snapshot struct {
	origin string // presentation format, lower case
	serial uint32
	wire   []byte // origin, lower-case wire format

	names   []byte      // arena: owner names in zone case, their lower-case keys when different, lower-case CNAME targets
	data    []byte      // arena: per RRset a uint16 record count, then each rdata as a uint16 length and the wire bytes
	nodes   []nodeRec   // the apex first; a parent always before its children
	sets    []setRec    // a node's RRsets are contiguous and sorted by type
	targets []targetRec // additional-section hosts, contiguous per RRset
	index   nameIndex   // lower-case wire owner name -> node

	apexOwner []byte // the apex name as it goes on the wire
	soaNeg    int32  // the SOA with TTL min(SOA TTL, MINIMUM), for negative answers (RFC 2308 §3)
	ns        int32  // the apex NS RRset

	sec     *dnssecData // signatures and the NSEC chain of a signed zone, nil when unsigned (dnssec.go)
	soa     *dns.SOA    // the apex SOA record, as compiled
	expired bool        // a secondary past its SOA expire: every query gets SERVFAIL

	// digest is the version's content digest, computed in the background
	// after it is served (the daemon's zone_digest.go); shared by the
	// copies WithExpired makes, which serve the same records.
	digest *digestSlot
}

// digestSlot holds a snapshot's content digest once known.
type digestSlot struct{ v atomic.Pointer[[]byte] }

// ContentDigest returns the version's content digest (RFC 8976 ZONEMD
// SHA-384, docs/architecture.md "Content digests and the zone state
// option"), nil until SetContentDigest was called. Callers must not
// modify it.
func (s *Snapshot) ContentDigest() []byte {
	if s.digest == nil {
		return nil
	}
	if p := s.digest.v.Load(); p != nil {
		return *p
	}
	return nil
}

// SetContentDigest records the version's content digest; d must not be
// modified afterwards. It is the one thing of a snapshot that is set
// after it is built, atomically, so queries still read it without locks.
func (s *Snapshot) SetContentDigest(d []byte) {
	if s.digest != nil {
		s.digest.v.Store(&d)
	}
}

// noRel marks an RRset a node does not have, in nodeRec's relative
// indices.
const noRel = 0xffff

// nodeRec is one owner name of a zone, or an empty non-terminal.
type nodeRec struct {
	owner    uint32 // offset in names of the name in wire format, letter case as in the zone data
	firstSet uint32 // index in sets of its first RRset
	cut      int32  // topmost delegation point at or above this name; -1 when the name is authoritative data
	wild     int32  // the child "*" node, for wildcard synthesis; -1 when none
	nsets    uint16 // its RRsets; none for an empty non-terminal
	a        uint16 // the A RRset, relative to firstSet; noRel when absent
	aaaa     uint16
	cname    uint16
	any      uint16 // the RRset that answers QTYPE=ANY (RFC 8482)
	nameLen  uint8
	keyAfter uint8 // the name in lower case is this many bytes after owner in names; 0 when owner is lower case
}

// setRec is one RRset; its records are in data, ready to be copied into
// replies.
type setRec struct {
	ttl   uint32
	data  uint32 // offset in data of the record count and rdatas
	aux   uint32 // NS, MX, SRV: 1 + index in targets of its first host, 0 for none; CNAME: offset in names of the lower-case target
	rtype uint16
	class uint16
}

// targetRec is an in-zone host named by NS, MX or SRV rdata, whose A and
// AAAA RRsets belong in the additional section after that RRset.
type targetRec struct {
	name     uint32 // offset in data of the name as written in the rdata
	node     int32  // the node holding its addresses (a wildcard for a synthesized match)
	nameLen  uint8
	inDomain bool // glue below the delegation point that names it: required (RFC 9471)
	last     bool // the RRset's last host
}

// Origin returns the zone's origin, fully qualified and in lower case.
func (s *Snapshot) Origin() string { return s.origin }

// Serial returns the serial of the zone's SOA record.
func (s *Snapshot) Serial() uint32 { return s.serial }

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

// key returns node n's name in lower-case wire format.
func (s *Snapshot) key(n int32) []byte {
	nd := &s.nodes[n]
	k := nd.owner + uint32(nd.keyAfter)
	return s.names[k : k+uint32(nd.nameLen)]
}

// ownerName returns node n's name in wire format, in zone case.
func (s *Snapshot) ownerName(n int32) []byte {
	nd := &s.nodes[n]
	return s.names[nd.owner : nd.owner+uint32(nd.nameLen)]
}

// rel returns the index in sets of node n's RRset at relative index r,
// or -1 for noRel.
func (s *Snapshot) rel(n int32, r uint16) int32 {
	if r == noRel {
		return -1
	}
	return int32(s.nodes[n].firstSet) + int32(r)
}

// get returns the index of node n's RRset of type t, or -1.
func (s *Snapshot) get(n int32, t uint16) int32 {
	nd := &s.nodes[n]
	for i := nd.firstSet; i < nd.firstSet+uint32(nd.nsets); i++ {
		if s.sets[i].rtype == t {
			return int32(i)
		}
	}
	return -1
}

// hasAddrs reports whether node n has an A or an AAAA RRset.
func (s *Snapshot) hasAddrs(n int32) bool {
	nd := &s.nodes[n]
	return nd.a != noRel || nd.aaaa != noRel
}

// count returns the number of records of RRset set.
func (s *Snapshot) count(set int32) int {
	return int(binary.BigEndian.Uint16(s.data[s.sets[set].data:]))
}

// Len returns the number of records the snapshot serves, those
// EachRecord walks. It walks every name's RRsets (the set arena also
// holds the SOA of negative answers, which no name owns): callers keep
// the figure rather than ask per query.
func (s *Snapshot) Len() int {
	n := 0
	for i := range s.nodes {
		nd := &s.nodes[i]
		for set := nd.firstSet; set < nd.firstSet+uint32(nd.nsets); set++ {
			n += s.count(int32(set))
		}
	}
	return n
}

// rdataIter walks the rdatas of one RRset.
type rdataIter struct {
	data []byte
	off  int // of the next rdata's length
	left int
}

// rdatas returns an iterator over the rdatas of RRset set.
func (s *Snapshot) rdatas(set int32) rdataIter {
	off := int(s.sets[set].data)
	return rdataIter{data: s.data, off: off + 2, left: int(binary.BigEndian.Uint16(s.data[off:]))}
}

// next returns the next rdata and its offset in the data arena; ok is
// false past the last.
func (it *rdataIter) next() (rd []byte, at int, ok bool) {
	if it.left == 0 {
		return nil, 0, false
	}
	l := int(binary.BigEndian.Uint16(it.data[it.off:]))
	at = it.off + 2
	it.off = at + l
	it.left--
	return it.data[at:it.off:it.off], at, true
}

// cnameTarget returns the target of CNAME RRset set as written in the
// zone and in lower case.
func (s *Snapshot) cnameTarget(set int32) (to, key []byte) {
	rs := &s.sets[set]
	at := int(rs.data) + 4 // past the count and the one rdata's length
	l := NameLen(s.data[at:])
	return s.data[at : at+l : at+l], s.names[rs.aux : int(rs.aux)+l : int(rs.aux)+l]
}

// firstTarget returns the index in targets of RRset set's first host, or
// -1 when it names none.
func (s *Snapshot) firstTarget(set int32) int32 {
	switch s.sets[set].rtype {
	case dns.TypeNS, dns.TypeMX, dns.TypeSRV:
		return int32(s.sets[set].aux) - 1
	}
	return -1
}

// targetName returns host t's name as written in the rdata naming it.
func (s *Snapshot) targetName(t int32) []byte {
	tr := &s.targets[t]
	return s.data[tr.name : tr.name+uint32(tr.nameLen) : tr.name+uint32(tr.nameLen)]
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
func (s *Snapshot) find(name []byte, qtype uint16) (findKind, int32) {
	if n := s.lookup(name); n >= 0 {
		cut := s.nodes[n].cut
		if cut >= 0 && (cut != n || qtype != dns.TypeDS) {
			return foundCut, cut
		}
		return foundExact, n
	}
	for off := 0; off < len(name) && name[off] != 0; {
		off += int(name[off]) + 1
		ce := s.lookup(name[off:])
		if ce < 0 {
			continue
		}
		// ce is the closest encloser (RFC 4592 §3.3.1).
		switch nd := &s.nodes[ce]; {
		case nd.cut >= 0:
			return foundCut, nd.cut
		case nd.wild >= 0:
			return foundWildcard, nd.wild
		}
		return foundNXDomain, -1
	}
	return foundNXDomain, -1
}

// nameIndex maps lower-case wire names to node indices: an open
// addressing hash table of 64-bit slots, each the upper half of the
// name's hash and 1 + the node index (0 marks an empty slot). The hash
// half spares most comparisons with names in the arena.
type nameIndex struct {
	seed  maphash.Seed
	slots []uint64 // a power of two long
	used  int
}

// lookup returns the node of the lower-case wire name key, or -1.
func (s *Snapshot) lookup(key []byte) int32 {
	x := &s.index
	if len(x.slots) == 0 {
		return -1
	}
	h := maphash.Bytes(x.seed, key)
	tag, mask := h>>32, uint64(len(x.slots)-1)
	for i := h & mask; ; i = (i + 1) & mask {
		v := x.slots[i]
		if v == 0 {
			return -1
		}
		if v>>32 == tag {
			n := int32(uint32(v)) - 1
			nd := &s.nodes[n]
			k := nd.owner + uint32(nd.keyAfter)
			if int(nd.nameLen) == len(key) && string(s.names[k:k+uint32(nd.nameLen)]) == string(key) {
				return n
			}
		}
	}
}

// insert files node n under its key, which is not in the index yet,
// growing the table to keep it at most five eighths full: probe
// sequences stay short, and at 1M names the table is 2^21 slots.
func (s *Snapshot) insert(n int32) {
	x := &s.index
	if (x.used+1)*8 > len(x.slots)*5 {
		size := max(len(x.slots)*2, 1024)
		old := x.slots
		x.slots = make([]uint64, size)
		for _, v := range old {
			if v != 0 {
				x.place(maphash.Bytes(x.seed, s.key(int32(uint32(v))-1)), v)
			}
		}
	}
	h := maphash.Bytes(x.seed, s.key(n))
	x.place(h, h>>32<<32|uint64(uint32(n)+1))
	x.used++
}

// place puts slot value v in the first free slot for hash h.
func (x *nameIndex) place(h, v uint64) {
	mask := uint64(len(x.slots) - 1)
	i := h & mask
	for x.slots[i] != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = v
}

// buildIndex files every node in a new index at once, sized to stay at
// most five eighths full. Nodes are placed in the order of their home
// slots (a counting sort by the slots' upper bits), so the table is
// written front to back instead of at a random place per name.
func (s *Snapshot) buildIndex() { s.buildIndexHiding(nil) }

// buildIndexHiding is buildIndex leaving out the nodes n with hide[n]
// set, which lookups then do not find (nil hides none).
func (s *Snapshot) buildIndexHiding(hide []bool) {
	x := &s.index
	size := 1024
	for size*5 < len(s.nodes)*8 {
		size *= 2
	}
	x.slots = make([]uint64, size)
	mask := uint64(size - 1)
	hashes := make([]uint64, 0, len(s.nodes))
	ids := make([]int32, 0, len(s.nodes))
	for i := range s.nodes {
		if hide != nil && hide[i] {
			continue
		}
		hashes = append(hashes, maphash.Bytes(x.seed, s.key(int32(i))))
		ids = append(ids, int32(i))
	}
	x.used = len(hashes)
	const shift = 8 // 256 slots, 2 KiB of table, per bucket
	start := make([]int32, size>>shift+1)
	for _, h := range hashes {
		start[(h&mask)>>shift+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	order := make([]int32, len(hashes))
	for i, h := range hashes {
		b := (h & mask) >> shift
		order[start[b]] = int32(i)
		start[b]++
	}
	for _, i := range order {
		h := hashes[i]
		x.place(h, h>>32<<32|uint64(uint32(ids[i])+1))
	}
}

// SameVersion reports whether s and o serve the same compiled version of
// a zone, marked expired or not (WithExpired shares the compiled data).
func (s *Snapshot) SameVersion(o *Snapshot) bool {
	if s == nil || o == nil {
		return s == o
	}
	return s == o || (len(s.nodes) > 0 && len(o.nodes) > 0 && &s.nodes[0] == &o.nodes[0])
}
