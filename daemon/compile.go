package daemon

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"net"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"zonekeeper/zonefile"
)

// maxArena bounds the byte arenas, whose offsets are uint32.
const maxArena = math.MaxUint32 - 2*(maxNameLen+1)

// errArena refuses a zone too big for the compact form.
var errArena = errors.New("zone too large: over 4 GiB of names or record data")

// compiler holds what Compile needs only while it builds a Snapshot.
type compiler struct {
	s       *Snapshot
	parent  []int32  // per node: its parent node, -1 for the apex
	recNode []int32  // per record of the zone: its node
	recType []uint16 // per record: its type
	buf     []byte   // scratch for packing one record

	// While the owner names come in canonical order, nodes are found
	// without the index, which is built once at the end: chain holds the
	// previous owner's node and its ancestors, the apex first.
	indexed bool
	chain   []int32
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
		index:  nameIndex{seed: maphash.MakeSeed()},
		soaNeg: -1,
		ns:     -1,
	}
	c := &compiler{s: s, buf: make([]byte, maxMsgLen)}
	if err := c.build(z.Records); err != nil {
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
	for _, rr := range z.Records {
		if v, ok := rr.(*dns.SOA); ok && strings.EqualFold(dns.Fqdn(v.Hdr.Name), origin) {
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
		// An SOA RRset of rdata miekg/dns could not type.
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
// groups the records by node, and a second pass packs each node's
// RRsets, in the order of the records, into the data arena.
func (c *compiler) build(rrs []dns.RR) error {
	s := c.s
	if len(rrs) >= math.MaxInt32 {
		return errors.New("too many records")
	}
	s.nodes = make([]nodeRec, 0, len(rrs)/2+16)
	s.names = make([]byte, 0, 20*(len(rrs)/2+16))
	c.parent = make([]int32, 0, cap(s.nodes))
	apex := c.addName(s.wire, s.wire)
	c.chain = append(c.chain, c.newNode(apex, apex, uint8(len(s.wire)), -1))

	c.recNode = make([]int32, len(rrs))
	c.recType = make([]uint16, len(rrs))
	var lastName string
	last := int32(-1)
	apexSeen := false
	var owner, key [maxNameLen + 1]byte
	for i, rr := range rrs {
		h := rr.Header()
		c.recType[i] = h.Rrtype
		if last >= 0 && h.Name == lastName {
			if h.Rrtype == dns.TypeOPT || h.Rrtype == dns.TypeTSIG {
				return fmt.Errorf("%s: %s is not zone data", h.Name, dns.TypeToString[h.Rrtype])
			}
			c.recNode[i] = last
			continue
		}
		ob, err := appendWireName(owner[:0], h.Name)
		if err != nil {
			return fmt.Errorf("owner %q: %w", h.Name, err)
		}
		kb := append(key[:0], ob...)
		lowerInPlace(kb)
		if !isSubdomain(kb, s.wire) {
			return fmt.Errorf("%s %s is outside the zone", h.Name, dns.TypeToString[h.Rrtype])
		}
		if h.Rrtype == dns.TypeOPT || h.Rrtype == dns.TypeTSIG {
			return fmt.Errorf("%s: %s is not zone data", h.Name, dns.TypeToString[h.Rrtype])
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
		c.recNode[i], lastName, last = n, h.Name, n
	}
	if !c.indexed {
		s.buildIndex()
	}

	// Group the records by node, keeping their order (a counting sort).
	start := make([]int32, len(s.nodes)+1)
	for _, n := range c.recNode {
		start[n+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	order := make([]int32, len(rrs))
	next := slices.Clone(start[:len(s.nodes)])
	for i, n := range c.recNode {
		order[next[n]] = int32(i)
		next[n]++
	}
	next = nil

	s.sets = make([]setRec, 0, len(rrs)+1)
	s.data = make([]byte, 0, 16*len(rrs)+64)
	for n := range s.nodes {
		recs := order[start[n]:start[n+1]]
		c.sortByType(recs)
		if err := c.packNode(int32(n), rrs, recs); err != nil {
			return err
		}
	}
	return nil
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

// packNode packs node n's records, recs sorted by type, as its RRsets.
func (c *compiler) packNode(n int32, rrs []dns.RR, recs []int32) error {
	s := c.s
	nd := &s.nodes[n]
	nd.firstSet = uint32(len(s.sets))
	for i := 0; i < len(recs); {
		j := i + 1
		for j < len(recs) && c.recType[recs[j]] == c.recType[recs[i]] {
			j++
		}
		if j-i > math.MaxUint16 {
			h := rrs[recs[i]].Header()
			return fmt.Errorf("%s %s: more than %d records", h.Name, dns.TypeToString[h.Rrtype], math.MaxUint16)
		}
		h := rrs[recs[i]].Header()
		rs := setRec{rtype: h.Rrtype, class: h.Class, ttl: h.Ttl, data: uint32(len(s.data))}
		s.data = binary.BigEndian.AppendUint16(s.data, uint16(j-i))
		for _, r := range recs[i:j] {
			if err := c.packRdata(rrs[r]); err != nil {
				h := rrs[r].Header()
				return fmt.Errorf("%s %s: %w", h.Name, dns.TypeToString[h.Rrtype], err)
			}
		}
		if len(s.data) > maxArena {
			return errArena
		}
		s.sets = append(s.sets, rs)
		i = j
	}
	nsets := len(s.sets) - int(nd.firstSet)
	if nsets >= noRel {
		return fmt.Errorf("%s: too many RRsets", rrs[recs[0]].Header().Name)
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

// packRdata appends rr's rdata, after its length, to the data arena. The
// common types are packed here, the others by dns.PackRR: the result is
// the same, without packing the owner name once per record.
func (c *compiler) packRdata(rr dns.RR) error {
	s := c.s
	at := len(s.data)
	s.data = append(s.data, 0, 0)
	var err error
	switch v := rr.(type) {
	case *dns.A:
		if ip := v.A.To4(); ip != nil && (len(v.A) == net.IPv4len || len(v.A) == net.IPv6len) {
			s.data = append(s.data, ip...)
		} else {
			s.data, err = c.packGeneric(s.data, rr)
		}
	case *dns.AAAA:
		if len(v.AAAA) == net.IPv6len {
			s.data = append(s.data, v.AAAA...)
		} else {
			s.data, err = c.packGeneric(s.data, rr)
		}
	case *dns.CNAME:
		s.data, err = c.packName(s.data, v.Target, rr)
	case *dns.NS:
		s.data, err = c.packName(s.data, v.Ns, rr)
	case *dns.PTR:
		s.data, err = c.packName(s.data, v.Ptr, rr)
	case *dns.MX:
		s.data = binary.BigEndian.AppendUint16(s.data, v.Preference)
		s.data, err = c.packName(s.data, v.Mx, rr)
	default:
		s.data, err = c.packGeneric(s.data, rr)
	}
	if err != nil {
		s.data = s.data[:at]
		return err
	}
	binary.BigEndian.PutUint16(s.data[at:], uint16(len(s.data)-at-2))
	return nil
}

// packName appends the domain name name; when it is not a plain fully
// qualified name, the whole rdata of rr is packed by dns.PackRR instead,
// to get its checks and escapes exactly.
func (c *compiler) packName(dst []byte, name string, rr dns.RR) ([]byte, error) {
	if b, ok := appendPlainName(dst, name); ok {
		return b, nil
	}
	// Drop what the caller appended before the name (MX preference).
	return c.packGeneric(dst[:len(dst)-rdataPrefix(rr)], rr)
}

// rdataPrefix is how many rdata bytes packRdata appends before the
// domain name of rr.
func rdataPrefix(rr dns.RR) int {
	if _, ok := rr.(*dns.MX); ok {
		return 2
	}
	return 0
}

// packGeneric appends rr's rdata as dns.PackRR packs it.
func (c *compiler) packGeneric(dst []byte, rr dns.RR) ([]byte, error) {
	end, err := dns.PackRR(rr, c.buf, 0, nil, false)
	if err != nil {
		return dst, err
	}
	l := nameLen(c.buf[:end])
	if l < 0 || l+10 > end {
		return dst, errors.New("malformed record")
	}
	return append(dst, c.buf[l+10:end]...), nil
}

// appendWireName appends the wire form of the presentation-format name s.
func appendWireName(dst []byte, s string) ([]byte, error) {
	if b, ok := appendPlainName(dst, dns.Fqdn(s)); ok {
		return b, nil
	}
	w, err := wireName(s)
	if err != nil {
		return dst, err
	}
	return append(dst, w...), nil
}

// appendPlainName appends the wire form of the fully qualified name s
// when it is plain: no escapes, no empty label, labels and name within
// the limits of RFC 1035 §2.3.4. Otherwise it reports false and the
// caller falls back to miekg/dns, which knows the rest.
func appendPlainName(dst []byte, s string) ([]byte, bool) {
	if s == "." {
		return append(dst, 0), true
	}
	if len(s) == 0 || len(s) > maxNameLen-1 || s[len(s)-1] != '.' {
		return dst, false
	}
	orig := len(dst)
	lab := len(dst) // where the current label's length goes
	dst = append(dst, 0)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '.':
			l := len(dst) - lab - 1
			if l == 0 || l > 63 {
				return dst[:orig], false
			}
			dst[lab] = byte(l)
			lab = len(dst)
			dst = append(dst, 0) // the next label's length, or the root
		case '\\':
			return dst[:orig], false
		default:
			dst = append(dst, c)
		}
	}
	return dst, true
}
