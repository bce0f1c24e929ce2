package answer

import (
	"encoding/binary"
	"fmt"

	"github.com/miekg/dns"
)

// The served records in other forms, made from the compact data when a
// consumer needs them (transfers, the journal, the control API): the
// daemon keeps no other copy of a zone's records.

// EachRR calls fn with every served record as a dns.RR, in canonical
// order, until fn returns false. Each record is unpacked anew: the
// caller may keep it.
func (s *Snapshot) EachRR(fn func(dns.RR) bool) error {
	var scratch []byte
	var err error
	s.EachRecord(func(owner []byte, rtype, class uint16, ttl uint32, rdata []byte) bool {
		scratch = AppendWireRR(scratch[:0], owner, rtype, class, ttl, rdata)
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
	err := s.EachRR(func(rr dns.RR) bool {
		out = append(out, rr)
		return true
	})
	return out, err
}

// AppendWireRR appends one record in uncompressed wire form.
func AppendWireRR(b, owner []byte, rtype, class uint16, ttl uint32, rdata []byte) []byte {
	b = append(b, owner...)
	b = binary.BigEndian.AppendUint16(b, rtype)
	b = binary.BigEndian.AppendUint16(b, class)
	b = binary.BigEndian.AppendUint32(b, ttl)
	b = binary.BigEndian.AppendUint16(b, uint16(len(rdata)))
	return append(b, rdata...)
}
