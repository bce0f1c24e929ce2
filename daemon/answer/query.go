package answer

import (
	"encoding/binary"

	"github.com/miekg/dns"
)

// Header bits of the second header word (RFC 1035 §4.1.1). Of the
// query's bits RD and CD are copied to the reply (RFC 4035 §3.1.6 wants
// CD copied; NSD 4.6 copies RD only); the Z bit is not.
const (
	flagQR = 1 << 15
	flagAA = 1 << 10
	flagTC = 1 << 9
	flagRD = 1 << 8
	flagCD = 1 << 4
)

const headerLen = 12

// verdict says what to do with an incoming message after parsing it.
type verdict uint8

const (
	verdictAnswer  verdict = iota // a well-formed query
	verdictDrop                   // no reply at all: too short for a header, or a response
	verdictFormErr                // FORMERR with a bare header
	verdictNotImp                 // NOTIMP with a bare header: an opcode other than QUERY or NOTIFY
	verdictNotify                 // a NOTIFY (RFC 1996): parsed no further, for the slow path
)

// query is one parsed incoming message. Its slices point into the packet
// it was parsed from, except lname.
type query struct {
	id       uint16
	flags    uint16 // the query's second header word
	question []byte // QNAME, QTYPE and QCLASS as received
	qname    []byte // as received: its letter case goes back in the reply
	lname    []byte // lower case, backed by lbuf
	qtype    uint16
	qclass   uint16
	edns     bool // an OPT RR was present
	version  uint8
	udpSize  uint16
	do       bool
	tsig     bool // a TSIG RR ends the message
	expire   bool // the OPT RR carries an EDNS EXPIRE option (RFC 7314)
	state    bool // the OPT RR carries the zone state option (zonestate.go)
	lbuf     [MaxNameLen]byte
	clearAll bool // FORMERR with every flag but QR clear, as NSD does for QDCOUNT > 1
}

// parse reads the message b into q and says how to reply. It accepts what
// RFC 1035 and RFC 6891 allow in a query: one question, no answer
// records, no authority records but the SOA of an IXFR query (RFC 1995
// §3), and in additional at most one OPT and a final TSIG. Bytes after
// the last counted record are ignored, as NSD does. A NOTIFY is left to
// the slow path, which unpacks it whole.
func (q *query) parse(b []byte) verdict {
	*q = query{lbuf: q.lbuf}
	if len(b) < headerLen {
		return verdictDrop
	}
	q.id = binary.BigEndian.Uint16(b)
	q.flags = binary.BigEndian.Uint16(b[2:])
	if q.flags&flagQR != 0 {
		return verdictDrop
	}
	switch (q.flags >> 11) & 0xf {
	case dns.OpcodeQuery:
	case dns.OpcodeNotify:
		return verdictNotify
	default:
		return verdictNotImp
	}
	qd := binary.BigEndian.Uint16(b[4:])
	an := binary.BigEndian.Uint16(b[6:])
	ns := binary.BigEndian.Uint16(b[8:])
	ar := binary.BigEndian.Uint16(b[10:])
	if qd > 1 {
		q.clearAll = true
		return verdictFormErr
	}
	if qd != 1 || an != 0 || ns > 1 {
		return verdictFormErr
	}

	// The question: its name may not be compressed (nothing precedes it).
	off := headerLen
	for {
		if off >= len(b) {
			return verdictFormErr
		}
		l := int(b[off])
		if l > 63 || off+1+l > len(b) || off+1+l-headerLen > MaxNameLen {
			return verdictFormErr
		}
		off += 1 + l
		if l == 0 {
			break
		}
	}
	if off+4 > len(b) {
		return verdictFormErr
	}
	q.qname = b[headerLen:off]
	q.lname = q.lbuf[:len(q.qname)]
	copy(q.lname, q.qname)
	LowerInPlace(q.lname)
	q.qtype = binary.BigEndian.Uint16(b[off:])
	q.qclass = binary.BigEndian.Uint16(b[off+2:])
	off += 4
	q.question = b[headerLen:off]

	if ns == 1 {
		// Only an IXFR query carries a record here: the client's SOA.
		if q.qtype != dns.TypeIXFR {
			return verdictFormErr
		}
		if off = skipRR(b, off); off < 0 {
			return verdictFormErr
		}
	}

	for i := 0; i < int(ar); i++ {
		if q.tsig {
			return verdictFormErr // TSIG must be the last record (RFC 8945 §5.1)
		}
		nameStart := off
		off = skipName(b, off)
		if off < 0 || off+10 > len(b) {
			return verdictFormErr
		}
		rtype := binary.BigEndian.Uint16(b[off:])
		class := binary.BigEndian.Uint16(b[off+2:])
		ttl := binary.BigEndian.Uint32(b[off+4:])
		rdlen := int(binary.BigEndian.Uint16(b[off+8:]))
		off += 10
		if off+rdlen > len(b) {
			return verdictFormErr
		}
		switch rtype {
		case dns.TypeOPT:
			// RFC 6891 §6.1.1: one OPT, owned by the root.
			if q.edns || off-10-nameStart != 1 || b[nameStart] != 0 {
				return verdictFormErr
			}
			valid, expire, state := scanOptions(b[off : off+rdlen])
			if !valid {
				return verdictFormErr
			}
			q.edns, q.expire, q.state = true, expire, state
			q.udpSize = class
			q.version = uint8(ttl >> 16)
			q.do = ttl&(1<<15) != 0
		case dns.TypeTSIG:
			q.tsig = true
		default:
			return verdictFormErr
		}
		off += rdlen
	}
	return verdictAnswer
}

// skipName returns the offset just past the possibly compressed name at
// off, or -1.
func skipName(b []byte, off int) int {
	for off < len(b) {
		l := int(b[off])
		switch {
		case l == 0:
			return off + 1
		case l&0xc0 == 0xc0:
			if off+2 > len(b) {
				return -1
			}
			return off + 2
		case l > 63:
			return -1
		}
		off += 1 + l
	}
	return -1
}

// skipRR returns the offset just past the resource record at off, or -1.
func skipRR(b []byte, off int) int {
	off = skipName(b, off)
	if off < 0 || off+10 > len(b) {
		return -1
	}
	off += 10 + int(binary.BigEndian.Uint16(b[off+8:]))
	if off > len(b) {
		return -1
	}
	return off
}

// scanOptions reports whether OPT rdata is a well-formed sequence of
// options (RFC 6891 §6.1.2), and whether they hold EDNS EXPIRE and the
// zone state option.
func scanOptions(b []byte) (valid, expire, state bool) {
	for len(b) > 0 {
		if len(b) < 4 {
			return false, false, false
		}
		l := int(binary.BigEndian.Uint16(b[2:]))
		if 4+l > len(b) {
			return false, false, false
		}
		switch binary.BigEndian.Uint16(b) {
		case dns.EDNS0EXPIRE:
			expire = true
		case OptionZoneState:
			state = true
		}
		b = b[4+l:]
	}
	return true, expire, state
}
