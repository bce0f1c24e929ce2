package answer

import (
	"encoding/binary"

	"github.com/miekg/dns"
)

// EDNS(0) as RFC 6891 has it: a query with an OPT RR gets our OPT RR back
// (our UDP payload size, the DO bit copied, version 0) and may receive as
// much as the smaller of its size and ours over UDP, never less than 512
// bytes. A query without one gets no OPT RR and at most 512 bytes.

// MinUDPSize is the DNS payload every client accepts (RFC 1035 §4.2.1).
const MinUDPSize = 512

// DefaultUDPSize is the EDNS UDP payload size advertised when
// ServerConfig.UDPSize is zero: the DNS Flag Day 2020 value, which avoids
// IP fragmentation on common paths.
const DefaultUDPSize = 1232

// optCodeEDE is the EDNS option code of Extended DNS Errors (RFC 8914).
const optCodeEDE = 15

// optLen returns the size of our OPT RR: root owner, type, class, TTL,
// rdata length, and an EDE option when there is one.
func optLen(ede uint16) int {
	if ede == EDEAbsent {
		return 11
	}
	return 11 + 6
}

// udpLimit returns the largest UDP reply q may receive.
func udpLimit(q *query, ours uint16) int {
	if !q.edns {
		return MinUDPSize
	}
	return max(MinUDPSize, int(min(q.udpSize, ours)))
}

// opt appends our OPT RR. The upper eight bits of an extended RCODE go in
// its TTL field (RFC 6891 §6.1.3); EDE info codes carry no text.
func (p *packer) opt(q *query, o replyOpts) {
	var ttl uint32
	ttl |= uint32(o.rcode>>4) << 24
	// DO is copied (RFC 3225 §3), but into BADVERS, which answers no
	// question: NSD leaves it clear there too.
	if q.do && o.rcode != dns.RcodeBadVers {
		ttl |= 1 << 15
	}
	p.buf = append(p.buf, 0, byte(dns.TypeOPT>>8), byte(dns.TypeOPT&0xff), byte(o.udpSize>>8), byte(o.udpSize))
	p.buf = binary.BigEndian.AppendUint32(p.buf, ttl)
	if o.ede == EDEAbsent {
		p.buf = append(p.buf, 0, 0)
		return
	}
	p.buf = append(p.buf, 0, 6, 0, optCodeEDE, 0, 2, byte(o.ede>>8), byte(o.ede))
}
