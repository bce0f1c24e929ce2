package daemon

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/miekg/dns"
)

// The served records in other forms, made from the compact data when a
// consumer needs them (transfers, the journal, the control API): the
// daemon keeps no other copy of a zone's records.

// packed returns the served records in uncompressed wire form, in
// canonical order (eachRecord's).
func (s *Snapshot) packed() *packedZone {
	size, count := 0, 0
	s.eachRecord(func(owner []byte, _, _ uint16, _ uint32, rdata []byte) bool {
		size += len(owner) + 10 + len(rdata)
		count++
		return true
	})
	p := &packedZone{buf: make([]byte, 0, size), offs: make([]int, 0, count+1), serial: s.serial}
	s.eachRecord(func(owner []byte, rtype, class uint16, ttl uint32, rdata []byte) bool {
		p.offs = append(p.offs, len(p.buf))
		p.buf = appendWireRR(p.buf, owner, rtype, class, ttl, rdata)
		return true
	})
	p.offs = append(p.offs, len(p.buf))
	p.digest = sha256.Sum256(p.buf)
	return p
}

// appendWireRR appends one record in uncompressed wire form.
func appendWireRR(b, owner []byte, rtype, class uint16, ttl uint32, rdata []byte) []byte {
	b = append(b, owner...)
	b = binary.BigEndian.AppendUint16(b, rtype)
	b = binary.BigEndian.AppendUint16(b, class)
	b = binary.BigEndian.AppendUint32(b, ttl)
	b = binary.BigEndian.AppendUint16(b, uint16(len(rdata)))
	return append(b, rdata...)
}

// eachRR calls fn with every served record as a dns.RR, in canonical
// order, until fn returns false. Each record is unpacked anew: the
// caller may keep it.
func (s *Snapshot) eachRR(fn func(dns.RR) bool) error {
	var scratch []byte
	var err error
	s.eachRecord(func(owner []byte, rtype, class uint16, ttl uint32, rdata []byte) bool {
		scratch = appendWireRR(scratch[:0], owner, rtype, class, ttl, rdata)
		var rr dns.RR
		if rr, _, err = dns.UnpackRR(scratch, 0); err != nil {
			err = fmt.Errorf("zone %s: unpacking a %s record: %w", s.origin, dns.Type(rtype), err)
			return false
		}
		return fn(rr)
	})
	return err
}

// Records returns the served records, unpacked, in canonical order.
func (s *Snapshot) Records() ([]dns.RR, error) {
	var out []dns.RR
	err := s.eachRR(func(rr dns.RR) bool {
		out = append(out, rr)
		return true
	})
	return out, err
}
