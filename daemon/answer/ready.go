package answer

import (
	"encoding/binary"
	"hash/maphash"
	"math/bits"
	"sync/atomic"

	"github.com/miekg/dns"
)

// The ready-answer cache keeps the reply bytes the full path (lookup.go,
// reply.go) produced, so that the next query for the same question is a
// copy and three patches: the ID, the RD and CD bits and the question name, whose
// letter case goes back exactly as received (0x20 randomisation). That is
// all the patching needed because the packer writes every name equal to a
// suffix of the question as a pointer into the question (reply.go: name
// matching ignores case); the answer owner of an exact or wildcard match is
// the query name itself, so it is a pointer too, and every other name comes
// from zone data, not from the query.
//
// A reply depends on the question (lower case), EDNS present or not, the DO
// bit (echoed in our OPT RR) and, over UDP, the client's size limit; the
// server's own UDP size and full-responses setting go into the key too, as
// a registry may feed more than one server. The other header bits are not
// copied to replies but RD and CD (patched), and the EDNS version is 0 (others get
// BADVERS, not cached). The transport matters only through the limit: an
// uncut reply of n octets is what the full path makes for any limit of n
// or more (it never came near a limit, so every fit test passed the same
// way), so TCP and UDP share entries; a reply the limit shaped (TC set or
// an additional RRset left out) is reused only for the very same limit.
//
// Only plain queries are cached: opcode QUERY, one question of class IN or
// ANY, no records but an OPT without options (a cookie, NSID, padding or
// EXPIRE option is answered by the full or the slow path), and answers
// with rcode NOERROR or NXDOMAIN. SERVFAIL for an expired zone is not kept;
// REFUSED for a zone we do not serve is not either: it costs the full path
// no record packing, and a flood of names under foreign zones would only
// evict useful entries. The slow path never fills the cache: its
// responders have the fast path off.
//
// The cache belongs to one generation of the zone table (zones.go): every
// Set and Delete, reloads, edits and a secondary's expiry or recovery
// included, builds a new table and so starts an empty cache, and a query
// fills only the cache of the table it was resolved in. Stale bytes cannot
// be served.

// DefaultFastPathEntries is the size of the ready-answer cache when
// ServerConfig.FastPathEntries is zero: sized by the zones (autoEntries).
const DefaultFastPathEntries = 0

// The automatic size: four slots per name served, so that a working set
// of every name asked for two or three types fits the two-way table with
// few collisions, within bounds that keep the slot array (8 bytes a
// slot) and the replies a flood of distinct names can fill small.
const (
	minAutoEntries = 1 << 12
	maxAutoEntries = 1 << 20
)

// autoEntries is the cache size for the zones of t.
func (t *zoneTable) autoEntries() int {
	names := 0
	for _, s := range t.list {
		names += len(s.nodes)
	}
	return min(max(4*names, minAutoEntries), maxAutoEntries)
}

// MaxFastPathEntries bounds the cache size setting (16 Mi slots, 128 MiB
// of slots alone).
const MaxFastPathEntries = 1 << 24

// maxReadyLen is the longest reply kept, so that the cache's memory is
// bounded by its slot count: at most about 4 KiB an entry (270 MiB for the
// default 64 Ki slots if every reply were that long; a typical reply is
// under 200 octets). Longer replies, big RRsets over TCP, cost their
// transfer more than their packing anyway.
const maxReadyLen = 4096

// readyCache is a two-way set-associative table of ready replies: a
// bounded number of slots, in pairs; a key hashes to one pair and its reply
// may sit in either slot, so that two popular names hashing alike do not
// evict each other at every query. The two slots of a pair share a cache
// line. Readers and writers take no lock; entries are immutable once
// stored.
type readyCache struct {
	seed  maphash.Seed
	mask  uint64
	slots []atomic.Pointer[readyEntry]
}

// readyEntry is one cached reply.
type readyEntry struct {
	hash  uint64
	sig   uint32 // readySig of the query and server it answers
	limit int32  // the size limit the reply was built for
	cut   bool   // the limit shaped the reply: reuse it for that limit only
	msg   []byte // the reply; its question name in lower case
}

// Entries with their reply inline, in sizes that round the whole object to
// a Go size class: one allocation per entry, and a hit reads the entry and
// its bytes from adjacent memory instead of two places.
type (
	readyEntry80 struct {
		readyEntry
		buf [80]byte
	}
	readyEntry160 struct {
		readyEntry
		buf [160]byte
	}
	readyEntry336 struct {
		readyEntry
		buf [336]byte
	}
	readyEntry592 struct {
		readyEntry
		buf [592]byte
	}
)

// newReadyEntry returns an entry whose msg holds n bytes, not set.
func newReadyEntry(n int) *readyEntry {
	switch {
	case n <= 80:
		e := new(readyEntry80)
		e.msg = e.buf[:n]
		return &e.readyEntry
	case n <= 160:
		e := new(readyEntry160)
		e.msg = e.buf[:n]
		return &e.readyEntry
	case n <= 336:
		e := new(readyEntry336)
		e.msg = e.buf[:n]
		return &e.readyEntry
	case n <= 592:
		e := new(readyEntry592)
		e.msg = e.buf[:n]
		return &e.readyEntry
	}
	return &readyEntry{msg: make([]byte, n)}
}

// Bits of readySig besides our UDP size in the upper half.
const (
	sigEDNS = 1 << iota
	sigDO
	sigFull
)

// newReadyCache returns an empty cache of entries slots, rounded up to a
// power of two, at least one pair.
func newReadyCache(entries int) *readyCache {
	entries = min(max(entries, 2), MaxFastPathEntries)
	n := 1 << bits.Len(uint(entries-1))
	return &readyCache{seed: maphash.MakeSeed(), mask: uint64(n - 1), slots: make([]atomic.Pointer[readyEntry], n)}
}

// readyCache returns the table's cache, made on first use so that a table
// generation nobody queries (zones loading one after another at start)
// costs nothing. entries below zero sizes it by the zones.
func (t *zoneTable) readyCache(entries int) *readyCache {
	if c := t.ready.Load(); c != nil {
		return c
	}
	if entries < 0 {
		entries = t.autoEntries()
	}
	c := newReadyCache(entries)
	if t.ready.CompareAndSwap(nil, c) {
		return c
	}
	return t.ready.Load()
}

// cacheable reports whether the parsed query q, whose message is in, is
// plain enough for the cache: one question of class IN or ANY, not a
// transfer, nothing in the answer and authority sections, and in
// additional only an OPT RR of version 0 whose options, if any, are well
// formed and not EDNS EXPIRE. Such a query is never one for the slow
// path (handler.go, query.special).
//
// Options other than EXPIRE do not shape our replies (we send no COOKIE,
// NSID or padding back), so a resolver's cookie, which BIND and Unbound
// send with every query, does not keep its queries off the fast path.
// An option that comes to shape replies must join the key or be refused
// here.
func (q *query) cacheable(in []byte) bool {
	if q.qclass != dns.ClassINET && q.qclass != dns.ClassANY {
		return false
	}
	if q.qtype == dns.TypeAXFR || q.qtype == dns.TypeIXFR {
		return false
	}
	ns := binary.BigEndian.Uint16(in[8:])
	ar := binary.BigEndian.Uint16(in[10:])
	if !q.edns {
		return ns == 0 && ar == 0
	}
	if ns != 0 || ar != 1 || q.version != 0 {
		return false
	}
	// parse found the OPT RR as the only record, right after the
	// question: root owner (1), type, class, TTL (8), then RDLENGTH.
	off := headerLen + len(q.question) + 9
	if off+2 > len(in) {
		return false
	}
	n := int(binary.BigEndian.Uint16(in[off:]))
	if off+2+n > len(in) {
		return false
	}
	valid, expire, state := scanOptions(in[off+2 : off+2+n])
	return valid && !expire && !state
}

// readySig is the part of the key besides the question: the query's EDNS
// and DO bit and the responder's settings.
func (r *Responder) readySig() uint32 {
	sig := uint32(r.udpSize) << 16
	if r.q.edns {
		sig |= sigEDNS
	}
	if r.q.do {
		sig |= sigDO
	}
	if r.full {
		sig |= sigFull
	}
	return sig
}

// hash returns the slot hash of the lower-case question of q under sig.
func (c *readyCache) hash(q *query, sig uint32) uint64 {
	h := maphash.Bytes(c.seed, q.lname)
	h ^= uint64(q.qtype) | uint64(q.qclass)<<16 | uint64(sig)<<32
	// A full mix (SplitMix64's finaliser), so that every input bit moves
	// the low bits that pick the slot: the A and AAAA of a name must not
	// share one.
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	return h ^ h>>31
}

// get copies the reply cached for q into p's buffer, patched for q, and
// returns it; or returns nil. limit is the largest reply q may receive.
func (c *readyCache) get(p *packer, q *query, h uint64, sig uint32, limit int) []byte {
	i := h & c.mask
	e := c.slots[i].Load()
	if e == nil || e.hash != h || e.sig != sig {
		if e = c.slots[i^1].Load(); e == nil || e.hash != h || e.sig != sig {
			return nil
		}
	}
	n := len(q.lname)
	m := e.msg
	if len(m) < headerLen+n+4 || string(m[headerLen:headerLen+n]) != string(q.lname) ||
		binary.BigEndian.Uint16(m[headerLen+n:]) != q.qtype || binary.BigEndian.Uint16(m[headerLen+n+2:]) != q.qclass {
		return nil
	}
	if e.cut {
		if int(e.limit) != limit {
			return nil
		}
	} else if len(m) > limit {
		return nil
	}
	if cap(p.buf) < MaxMsgLen {
		p.buf = make([]byte, 0, MaxMsgLen+512)
	}
	b := append(p.buf[:0], m...)
	binary.BigEndian.PutUint16(b, q.id)
	b[2] = b[2]&^(flagRD>>8) | byte(q.flags>>8)&(flagRD>>8)
	b[3] = b[3]&^flagCD | byte(q.flags)&flagCD
	copy(b[headerLen:], q.qname)
	p.buf = b
	return b
}

// put stores out, the full path's reply to q built for limit, cut when the
// limit shaped it. It allocates the entry. In the key's pair it replaces
// the entry of the same key (one built for another limit), else takes an
// empty slot, else evicts one of the two at random: the query ID's low bit
// is random enough (RFC 5452 §9.2 has resolvers pick IDs at random).
func (c *readyCache) put(q *query, h uint64, sig uint32, out []byte, limit int, cut bool) {
	if len(out) < headerLen+len(q.question) || len(out) > maxReadyLen {
		return
	}
	e := newReadyEntry(len(out))
	copy(e.msg, out)
	copy(e.msg[headerLen:], q.lname)
	e.hash, e.sig, e.limit, e.cut = h, sig, int32(limit), cut
	i := h & c.mask
	if e := c.slots[i].Load(); e != nil && (e.hash != h || e.sig != sig) {
		if e := c.slots[i^1].Load(); e == nil || (e.hash == h && e.sig == sig) {
			i ^= 1
		} else {
			i ^= uint64(q.id & 1)
		}
	}
	c.slots[i].Store(e)
}

// Counters counts one responder's queries by the path that answered
// them. Only its responder's goroutine writes; the Server reads them
// (QueryStats). The padding gives each its own cache line, so that
// responders on different cores do not contend.
type Counters struct {
	fast    atomic.Uint64 // replies copied from the ready-answer cache
	full    atomic.Uint64 // replies made by lookup and packing, or bare errors
	special atomic.Uint64 // messages handed to the slow path
	_       [40]byte
}

// AddTo adds the counts of c to s.
func (c *Counters) AddTo(s *QueryStats) {
	s.Fast += c.fast.Load()
	s.Full += c.full.Load()
	s.Special += c.special.Load()
}
