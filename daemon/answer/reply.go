package answer

import (
	"encoding/binary"

	"github.com/miekg/dns"
)

// MaxMsgLen is the largest DNS message (a TCP frame, RFC 1035 §4.2.2).
const MaxMsgLen = 65535

// maxPtrs bounds the compression table of one reply; names past it are
// written uncompressed, which is correct, only longer.
const maxPtrs = 128

// packer writes replies into a buffer it keeps from one query to the
// next, compressing names itself so that a reply costs no allocation.
type packer struct {
	buf  []byte
	ptrs [maxPtrs]ptr
	nptr int
	cut  bool // set by reply: the size limit shaped the reply (TC set or an additional RRset left out)
}

// ptr is a name already in the message that later names may point to:
// its offset and its uncompressed length from there (a cheap filter
// before comparing labels).
type ptr struct {
	off uint16
	rem uint16
}

// replyOpts are the header and EDNS facts of a reply.
type replyOpts struct {
	rcode    int
	aa       bool
	question bool   // echo the question
	limit    int    // largest reply allowed
	udpSize  uint16 // ours, advertised in the OPT RR
	ede      uint16 // extended DNS error, EDEAbsent for none
}

// header starts a reply to q: the header with zero counts.
func (p *packer) header(q *query, flags uint16) {
	if cap(p.buf) < MaxMsgLen {
		p.buf = make([]byte, 0, MaxMsgLen+512)
	}
	p.buf = append(p.buf[:0], byte(q.id>>8), byte(q.id), byte(flags>>8), byte(flags), 0, 0, 0, 0, 0, 0, 0, 0)
	p.nptr = 0
	p.cut = false
}

// bare returns a header-only reply with rcode: what NSD sends for FORMERR
// and NOTIMP.
func (p *packer) bare(q *query, rcode int) []byte {
	flags := flagQR | q.flags&(0xf<<11|flagRD) | uint16(rcode&0xf)
	if q.clearAll {
		flags = flagQR | uint16(rcode&0xf)
	}
	p.header(q, flags)
	return p.buf
}

// reply packs r as the answer to q. Records are placed RRset by RRset. An
// answer or authority RRset, or required glue, that does not fit makes the
// reply truncated: TC set and every section emptied (RFC 2181 §9, RFC 9471
// §3). Other additional RRsets that do not fit are left out.
func (p *packer) reply(q *query, r *result, o replyOpts) []byte {
	flags := flagQR | q.flags&(flagRD|flagCD) | uint16(o.rcode&0xf)
	if o.aa {
		flags |= flagAA
	}
	p.header(q, flags)
	if o.question {
		p.buf = append(p.buf, q.question...)
		binary.BigEndian.PutUint16(p.buf[4:], 1)
		p.addPtrs(headerLen, len(q.qname))
	}
	afterQuestion, ptrsAfterQuestion := len(p.buf), p.nptr
	maxLen := o.limit
	if q.edns {
		maxLen -= optLen(o.ede)
	}

	// The answer, authority and additional sections, RRset by RRset; an
	// RRset goes with its signatures when the query has DO (signedSet).
	var counts [3]int
	truncated := false
	do := q.do
sections:
	for sec, list := range [...][]entry{r.answer, r.authority, r.additional} {
		for _, e := range list {
			var n int
			var ok bool
			if do || e.sig {
				n, ok = p.signedSet(e, maxLen, do)
			} else {
				n, ok = e.z.count(e.set), p.rrset(e.owner, &e.z.sets[e.set], e.z.data, maxLen)
			}
			if ok {
				counts[sec] += n
				continue
			}
			if sec < 2 || e.required {
				truncated = true
				break sections
			}
			p.cut = true
		}
	}
	an, ns, ar := counts[0], counts[1], counts[2]
	if truncated {
		p.buf, p.nptr = p.buf[:afterQuestion], ptrsAfterQuestion
		an, ns, ar = 0, 0, 0
		p.buf[2] |= flagTC >> 8
		p.cut = true
	}
	if q.edns {
		p.opt(q, o)
		ar++
	}
	binary.BigEndian.PutUint16(p.buf[6:], uint16(an))
	binary.BigEndian.PutUint16(p.buf[8:], uint16(ns))
	binary.BigEndian.PutUint16(p.buf[10:], uint16(ar))
	return p.buf
}

// signedSet appends the RRset of e and, with do, the RRSIGs covering
// it, and returns the records written; ok is false, and the message as
// it was, when they do not all fit in maxLen: an RRset never goes out
// without its signatures (RFC 4035 §3.1.1 allows dropping them; we set
// TC or leave the additional RRset out instead).
func (p *packer) signedSet(e entry, maxLen int, do bool) (n int, ok bool) {
	if e.sig {
		return e.count(), p.rrset(e.owner, &e.z.sec.sigSets[e.set], e.z.sec.sigData, maxLen)
	}
	if !do || e.z.sec == nil {
		return e.count(), p.rrset(e.owner, &e.z.sets[e.set], e.z.data, maxLen)
	}
	sig := e.z.sec.sigOf[e.set]
	mark, nptr := len(p.buf), p.nptr
	if !p.rrset(e.owner, &e.z.sets[e.set], e.z.data, maxLen) {
		return 0, false
	}
	n = e.count()
	if sig < 0 {
		return n, true
	}
	rs := &e.z.sec.sigSets[sig]
	if !p.rrset(e.owner, rs, e.z.sec.sigData, maxLen) {
		p.buf, p.nptr = p.buf[:mark], nptr
		return 0, false
	}
	return n + e.z.sec.sigCount(sig), true
}

// rrset appends every record of RRset rs, whose rdatas are in the arena
// d, under owner, and reports whether the message still fits in maxLen;
// when it does not, the message is restored as it was.
func (p *packer) rrset(owner []byte, rs *setRec, d []byte, maxLen int) bool {
	mark, nptr := len(p.buf), p.nptr
	nameAt := compressAt(rs.rtype)
	ownerAt := -1
	// The RRset in the data arena: a count, then each rdata after its
	// length (snapshot.go).
	off := int(rs.data)
	n := int(binary.BigEndian.Uint16(d[off:]))
	off += 2
	for range n {
		l := int(binary.BigEndian.Uint16(d[off:]))
		wire := d[off+2 : off+2+l]
		off += 2 + l
		if ownerAt >= 0 {
			p.buf = append(p.buf, byte(0xc0|ownerAt>>8), byte(ownerAt))
		} else {
			at := len(p.buf)
			p.name(owner)
			if at < 0x4000 && len(owner) > 1 { // the root is shorter than a pointer
				ownerAt = p.pointerTarget(at)
			}
		}
		p.buf = append(p.buf,
			byte(rs.rtype>>8), byte(rs.rtype),
			byte(rs.class>>8), byte(rs.class),
			byte(rs.ttl>>24), byte(rs.ttl>>16), byte(rs.ttl>>8), byte(rs.ttl),
			0, 0)
		start := len(p.buf)
		if nameAt < 0 || nameAt >= len(wire) {
			p.buf = append(p.buf, wire...)
		} else {
			p.rdataNames(rs.rtype, wire, nameAt)
		}
		binary.BigEndian.PutUint16(p.buf[start-2:], uint16(len(p.buf)-start))
		if len(p.buf) > maxLen {
			p.buf, p.nptr = p.buf[:mark], nptr
			return false
		}
	}
	return true
}

// compressAt returns where in the rdata of type rtype the first name that
// RFC 3597 §4 allows to compress starts: the host of NS, CNAME and PTR,
// the exchange of MX, the first of the two names of SOA; -1 for types
// whose names must stay as they are.
func compressAt(rtype uint16) int {
	switch rtype {
	case dns.TypeNS, dns.TypeCNAME, dns.TypePTR, dns.TypeSOA:
		return 0
	case dns.TypeMX:
		return 2
	}
	return -1
}

// rdataNames appends rdata wire whose compressible name starts at at
// (compressAt), compressing it and, for SOA, the name after it.
func (p *packer) rdataNames(rtype uint16, wire []byte, at int) {
	p.buf = append(p.buf, wire[:at]...)
	l := NameLen(wire[at:])
	p.name(wire[at : at+l])
	done := at + l
	if rtype == dns.TypeSOA {
		l = NameLen(wire[done:])
		p.name(wire[done : done+l])
		done += l
	}
	p.buf = append(p.buf, wire[done:]...)
}

// pointerTarget returns where a pointer to the name just written at at
// should point: at itself when it was written out, or the place its first
// label pointer refers to when it was one pointer only.
func (p *packer) pointerTarget(at int) int {
	if p.buf[at]&0xc0 == 0xc0 {
		return int(p.buf[at]&0x3f)<<8 | int(p.buf[at+1])
	}
	return at
}

// name appends the wire-format name n, compressed against the names
// already in the message (RFC 1035 §4.1.4). Matching ignores letter case,
// so a name equal to the question's points to it and reads back with the
// question's case.
func (p *packer) name(n []byte) {
	for i := 0; i < len(n) && n[i] != 0; i += int(n[i]) + 1 {
		suffix := n[i:]
		for _, c := range p.ptrs[:p.nptr] {
			if int(c.rem) != len(suffix) || !p.equalAt(int(c.off), suffix) {
				continue
			}
			at := len(p.buf)
			p.buf = append(p.buf, n[:i]...)
			p.buf = append(p.buf, byte(0xc0|c.off>>8), byte(c.off))
			p.addPtrs(at, i)
			return
		}
	}
	at := len(p.buf)
	p.buf = append(p.buf, n...)
	p.addPtrs(at, len(n))
}

// addPtrs records every label start of the name written at at whose
// labels (before any pointer) span n bytes.
func (p *packer) addPtrs(at, n int) {
	total := nameLenAt(p.buf, at)
	for i := 0; i < n && p.buf[at+i] != 0 && p.buf[at+i]&0xc0 == 0; i += int(p.buf[at+i]) + 1 {
		if at+i >= 0x4000 || p.nptr == maxPtrs {
			return
		}
		p.ptrs[p.nptr] = ptr{off: uint16(at + i), rem: uint16(total - i)}
		p.nptr++
	}
}

// nameLenAt returns the uncompressed length of the name at off in the
// message being built.
func nameLenAt(msg []byte, off int) int {
	n := 0
	for {
		l := int(msg[off])
		if l&0xc0 == 0xc0 {
			off = (l&0x3f)<<8 | int(msg[off+1])
			continue
		}
		n += l + 1
		if l == 0 {
			return n
		}
		off += l + 1
	}
}

// equalAt reports whether the name at off in the message equals the
// uncompressed name n, ignoring ASCII case.
func (p *packer) equalAt(off int, n []byte) bool {
	msg := p.buf
	j := 0
	for {
		l := int(msg[off])
		if l&0xc0 == 0xc0 {
			off = (l&0x3f)<<8 | int(msg[off+1])
			continue
		}
		if j >= len(n) || int(n[j]) != l {
			return false
		}
		if l == 0 {
			return true
		}
		a, b := msg[off+1:off+1+l], n[j+1:j+1+l]
		for k := range a {
			if lowerTable[a[k]] != lowerTable[b[k]] {
				return false
			}
		}
		off += l + 1
		j += l + 1
	}
}
