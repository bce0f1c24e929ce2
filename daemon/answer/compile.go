package answer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"zonekeeper/zonefile"
)

// maxArena bounds the byte arenas, whose offsets are uint32.
const maxArena = math.MaxUint32 - 2*(MaxNameLen+1)

// errArena refuses a zone too big for the compact form.
var errArena = errors.New("zone too large: over 4 GiB of names or record data")

// compiler holds what Compile needs only while it builds a Snapshot.
type compiler struct {
	s       *Snapshot
	p       *zonefile.Packed // the zone compiled
	parent  []int32          // per node: its parent node, -1 for the apex
	recNode []int32          // per record of the zone: its node
	recType []uint16         // per record: its type

	// While the owner names come in canonical order, nodes are found
	// without the index, which is built once at the end: chain holds the
	// previous owner's node and its ancestors, the apex first.
	indexed bool
	chain   []int32
}

// Compile builds the immutable snapshot that serves zone z. z must have
// passed zonefile validation; Compile still refuses a zone whose SOA is
// missing or whose records lie outside its origin rather than serve
// nonsense. It packs z (zonefile.PackZone) and compiles that with
// CompilePacked.
func Compile(z *zonefile.Zone) (*Snapshot, error) {
	if z == nil {
		return nil, errors.New("daemon: compile: nil zone")
	}
	p, err := zonefile.PackZone(z)
	if err != nil {
		return nil, fmt.Errorf("daemon: compile %s: %w", strings.ToLower(dns.Fqdn(z.Origin)), err)
	}
	return CompilePacked(p)
}

// CompilePacked builds the immutable snapshot that serves the packed
// zone p. p must hold a validated zone (zonefile.LoadPacked,
// zonefile.PackZone of a zone that passed validation); CompilePacked
// still refuses a zone whose SOA is missing or whose records lie outside
// its origin rather than serve nonsense. The snapshot shares nothing
// with p.
func CompilePacked(p *zonefile.Packed) (*Snapshot, error) {
	if p == nil {
		return nil, errors.New("daemon: compile: nil zone")
	}
	origin := strings.ToLower(dns.Fqdn(p.Origin))
	ow, err := WireName(origin)
	if err != nil {
		return nil, fmt.Errorf("daemon: compile %s: origin: %w", origin, err)
	}
	s := &Snapshot{
		origin: origin,
		wire:   ow,
		index:  nameIndex{seed: maphash.MakeSeed()},
		soaNeg: -1,
		ns:     -1,
		digest: new(digestSlot),
	}
	c := &compiler{s: s, p: p}
	if err := c.build(); err != nil {
		return nil, fmt.Errorf("daemon: compile %s: %w", origin, err)
	}
	soa := s.get(0, dns.TypeSOA)
	if soa < 0 {
		return nil, fmt.Errorf("daemon: compile %s: no SOA record at the apex", origin)
	}
	s.ns = s.get(0, dns.TypeNS)
	if s.ns < 0 {
		return nil, fmt.Errorf("daemon: compile %s: no NS records at the apex", origin)
	}
	// The first SOA record at the apex, in the zone's order, is the
	// first of the apex SOA RRset.
	for i, n := range c.recNode {
		if n != 0 || c.recType[i] != dns.TypeSOA {
			continue
		}
		rr, err := p.RR(i)
		if err != nil {
			continue
		}
		if v, ok := rr.(*dns.SOA); ok {
			s.soa = v
			s.serial = v.Serial
			neg := s.sets[soa]
			neg.ttl = min(neg.ttl, v.Minttl)
			s.soaNeg = int32(len(s.sets))
			s.sets = append(s.sets, neg)
			break
		}
	}
	if s.soa == nil {
		// An SOA RRset of rdata miekg/dns could not read.
		return nil, fmt.Errorf("daemon: compile %s: no SOA record at the apex", origin)
	}
	if err := c.link(); err != nil {
		return nil, fmt.Errorf("daemon: compile %s: %w", origin, err)
	}
	s.apexOwner = s.key(0)
	s.names = shrink(s.names)
	s.data = shrink(s.data)
	s.nodes = shrink(s.nodes)
	s.sets = shrink(s.sets)
	s.targets = shrink(s.targets)
	s.linkDNSSEC()
	return s, nil
}

// shrink returns a slice sized to what it holds when its spare capacity
// is worth a copy: the arenas are allocated from estimates of the zone's
// shape and grow by doubling, and a snapshot lives long.
func shrink[T any](b []T) []T {
	if cap(b)-len(b) <= len(b)/16 {
		return b
	}
	return slices.Clone(b)
}

// build files every record under its node and RRset. A first pass finds
// each record's node, creating the nodes in the order their names first
// appear (a zone in canonical order keeps it); a counting sort then
// groups the records by node, and a second pass copies each node's
// RRsets, in the order of the records, into the data arena.
func (c *compiler) build() error {
	s, p := c.s, c.p
	nrec := p.Len()
	if nrec >= math.MaxInt32 {
		return errors.New("too many records")
	}
	s.nodes = make([]nodeRec, 0, nrec/2+16)
	s.names = make([]byte, 0, 20*(nrec/2+16))
	c.parent = make([]int32, 0, cap(s.nodes))
	apex := c.addName(s.wire, s.wire)
	c.chain = append(c.chain, c.newNode(apex, apex, uint8(len(s.wire)), -1))

	c.recNode = make([]int32, nrec)
	c.recType = make([]uint16, nrec)
	var lastOwner []byte
	last := int32(-1)
	var lastType uint16
	apexSeen := false
	// The data arena's size, exactly for a zone in canonical order: the
	// rdatas with their lengths, and a count per run of records of one
	// owner and type (a run per RRset then; more runs otherwise).
	size := 0
	var key [MaxNameLen + 1]byte
	for i := range nrec {
		r := p.Record(i)
		c.recType[i] = r.Type
		size += 2 + len(r.Rdata)
		// Consecutive records of one owner mostly share its bytes, which
		// the comparison finds first.
		if last >= 0 && string(r.Owner) == string(lastOwner) {
			if r.Type == dns.TypeOPT || r.Type == dns.TypeTSIG {
				return fmt.Errorf("%s: %s is not zone data", presentName(r.Owner), dns.TypeToString[r.Type])
			}
			if r.Type != lastType {
				size += 2
				lastType = r.Type
			}
			c.recNode[i] = last
			continue
		}
		size += 2
		lastType = r.Type
		ob := r.Owner
		kb := append(key[:0], ob...)
		LowerInPlace(kb)
		if !IsSubdomain(kb, s.wire) {
			return fmt.Errorf("%s %s is outside the zone", presentName(ob), dns.TypeToString[r.Type])
		}
		if r.Type == dns.TypeOPT || r.Type == dns.TypeTSIG {
			return fmt.Errorf("%s: %s is not zone data", presentName(ob), dns.TypeToString[r.Type])
		}
		if len(s.names) > maxArena-2*len(kb) {
			return errArena
		}
		n := c.nodeFor(ob, kb)
		if n == 0 && !apexSeen {
			// The apex node was made from the origin in lower case, which
			// queries keep using (apexOwner); eachRecord gives its records
			// the spelling of the first of them, like any other name's.
			apexSeen = true
			if string(ob) != string(s.wire) {
				s.nodes[0].owner = c.addName(ob, kb)
				s.nodes[0].keyAfter = uint8(len(ob))
			}
		}
		c.recNode[i], lastOwner, last = n, ob, n
	}
	// The name index is built beside the packing below, which reads
	// and writes other fields of the nodes and never looks a name up.
	var index sync.WaitGroup
	defer index.Wait()
	if !c.indexed {
		index.Go(s.buildIndex)
	}

	// Group the records by node, keeping their order (a counting sort).
	start := make([]int32, len(s.nodes)+1)
	for _, n := range c.recNode {
		start[n+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	order := make([]int32, nrec)
	next := slices.Clone(start[:len(s.nodes)])
	for i, n := range c.recNode {
		order[next[n]] = int32(i)
		next[n]++
	}
	next = nil

	s.sets = make([]setRec, 0, nrec+1)
	s.data = make([]byte, 0, min(size, maxArena))
	for n := range s.nodes {
		recs := order[start[n]:start[n+1]]
		c.sortByType(recs)
		if err := c.packNode(int32(n), recs); err != nil {
			return err
		}
	}
	return nil
}

// presentName returns the wire-format name w in presentation format,
// for messages.
func presentName(w []byte) string {
	name, _, err := dns.UnpackDomainName(w, 0)
	if err != nil {
		return fmt.Sprintf("%q", w)
	}
	return name
}

// addName appends a name and, when it differs, its lower-case key to the
// names arena, and returns the owner's offset.
func (c *compiler) addName(owner, key []byte) uint32 {
	s := c.s
	at := uint32(len(s.names))
	s.names = append(s.names, owner...)
	if string(owner) != string(key) {
		s.names = append(s.names, key...)
	}
	return at
}

// nodeFor returns the node of the owner name owner, key in lower case,
// creating it and its missing ancestors.
func (c *compiler) nodeFor(owner, key []byte) int32 {
	s := c.s
	if !c.indexed {
		prev := c.chain[len(c.chain)-1]
		switch cmp := compareNames(s.key(prev), key); {
		case cmp == 0:
			return prev
		case cmp < 0:
			return c.nodeInOrder(owner, key)
		}
		// Out of canonical order: from here on the index finds nodes.
		s.buildIndex()
		c.indexed = true
	}
	if n := s.lookup(key); n >= 0 {
		return n
	}
	at := c.addName(owner, key)
	keyAt := uint32(len(s.names) - len(key))
	return c.newIndexed(at, keyAt, uint8(len(key)))
}

// nodeInOrder creates the node of a name that comes after every name
// before it in canonical order, and so is new, as are its ancestors below
// the deepest one in c.chain.
func (c *compiler) nodeInOrder(owner, key []byte) int32 {
	s := c.s
	at := c.addName(owner, key)
	keyAt := uint32(len(s.names) - len(key))
	var starts [128]uint8
	ns := labelStarts(key, &starts)
	// Find the closest ancestor already there, popping the chain down to
	// it: the apex at the bottom of the chain is one. starts[j] is where
	// its name begins in key (j == ns for the root).
	j := -1
	for {
		tk := s.key(c.chain[len(c.chain)-1])
		pos := len(key) - len(tk)
		if pos > 0 && string(key[pos:]) == string(tk) {
			if pos == len(key)-1 {
				j = ns
			} else {
				j = slices.Index(starts[:ns], uint8(pos))
			}
			if j >= 0 {
				break
			}
		}
		if len(c.chain) == 1 {
			panic("daemon: compile: a name outside the zone")
		}
		c.chain = c.chain[:len(c.chain)-1]
	}
	// Create the names from just below the ancestor down to key.
	for j--; j >= 0; j-- {
		p := uint32(starts[j])
		c.chain = append(c.chain, c.newNode(at+p, keyAt+p, uint8(len(key))-uint8(p), c.chain[len(c.chain)-1]))
	}
	return c.chain[len(c.chain)-1]
}

// newIndexed creates the node whose names are in the arena at owner and
// key, and before it every missing ancestor up to the apex (the empty
// non-terminals), whose names are suffixes of the same bytes.
func (c *compiler) newIndexed(owner, key uint32, l uint8) int32 {
	s := c.s
	skip := uint32(s.names[key]) + 1
	parent := s.lookup(s.names[key+skip : key+uint32(l)])
	if parent < 0 {
		parent = c.newIndexed(owner+skip, key+skip, l-uint8(skip))
	}
	return c.newNode(owner, key, l, parent)
}

// newNode appends a node below parent (-1 for the apex). Its lower-case
// name, at key, is at most a name's length after owner: addName put it
// right after the name it is a suffix of.
func (c *compiler) newNode(owner, key uint32, l uint8, parent int32) int32 {
	s := c.s
	n := int32(len(s.nodes))
	s.nodes = append(s.nodes, nodeRec{
		owner: owner, keyAfter: uint8(key - owner), nameLen: l,
		firstSet: uint32(len(s.sets)),
		cut:      -1, wild: -1,
		a: noRel, aaaa: noRel, cname: noRel, any: noRel,
	})
	c.parent = append(c.parent, parent)
	if c.indexed {
		s.insert(n)
	}
	return n
}

// sortByType orders one node's records by type, keeping the order of
// records of the same type.
func (c *compiler) sortByType(recs []int32) {
	for i := 1; i < len(recs); i++ {
		if c.recType[recs[i]] >= c.recType[recs[i-1]] {
			continue
		}
		slices.SortStableFunc(recs, func(a, b int32) int { return int(c.recType[a]) - int(c.recType[b]) })
		return
	}
}

// packNode copies node n's records, recs sorted by type, as its RRsets
// into the data arena.
func (c *compiler) packNode(n int32, recs []int32) error {
	s, p := c.s, c.p
	nd := &s.nodes[n]
	nd.firstSet = uint32(len(s.sets))
	for i := 0; i < len(recs); {
		j := i + 1
		first := p.Record(int(recs[i]))
		// RRSIGs have no one TTL at a name: each has its covered RRset's
		// (RFC 4034 §3), so a run of RRSIGs ends where the TTL changes
		// and transfers carry each as signed (docs/architecture.md,
		// "Signed zones").
		for j < len(recs) && c.recType[recs[j]] == c.recType[recs[i]] &&
			(first.Type != dns.TypeRRSIG || p.Record(int(recs[j])).TTL == first.TTL) {
			j++
		}
		if j-i > math.MaxUint16 {
			return fmt.Errorf("%s %s: more than %d records", presentName(first.Owner), dns.TypeToString[first.Type], math.MaxUint16)
		}
		rs := setRec{rtype: first.Type, class: first.Class, ttl: first.TTL, data: uint32(len(s.data))}
		s.data = binary.BigEndian.AppendUint16(s.data, uint16(j-i))
		for _, r := range recs[i:j] {
			// Packed rdata is at most 65535 bytes.
			rd := p.Record(int(r)).Rdata
			s.data = binary.BigEndian.AppendUint16(s.data, uint16(len(rd)))
			s.data = append(s.data, rd...)
		}
		if len(s.data) > maxArena {
			return errArena
		}
		s.sets = append(s.sets, rs)
		i = j
	}
	nsets := len(s.sets) - int(nd.firstSet)
	if nsets >= noRel {
		return fmt.Errorf("%s: too many RRsets", presentName(p.Record(int(recs[0])).Owner))
	}
	nd.nsets = uint16(nsets)
	relOf := func(t uint16) uint16 {
		if i := s.get(n, t); i >= 0 {
			return uint16(i - int32(nd.firstSet))
		}
		return noRel
	}
	nd.a, nd.aaaa, nd.cname = relOf(dns.TypeA), relOf(dns.TypeAAAA), relOf(dns.TypeCNAME)
	nd.any = c.anyRel(n)
	return nil
}
