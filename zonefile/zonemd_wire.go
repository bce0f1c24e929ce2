package zonefile

import (
	"bytes"
	"encoding/binary"

	"github.com/miekg/dns"
)

// The wire path of ZONEMDHash: a served snapshot hands out its records in
// uncompressed wire form, and digesting them as they are, without a
// dns.RR per record, leaves no garbage behind for a large zone (the
// digest of every served version runs in the background, and garbage
// there would let the heap grow to twice what is live).

// nameAt lists, per type, where the names RFC 4034 §6.2 lowers sit in
// its data: the offset of the first, and whether a second follows it.
// Types canonicalNames lowers that are not listed here (NAPTR, PX, SIG)
// take the dns.RR path.
var nameAt = map[uint16]struct {
	off    int
	second bool
}{
	dns.TypeNS: {0, false}, dns.TypeMD: {0, false}, dns.TypeMF: {0, false}, dns.TypeCNAME: {0, false},
	dns.TypeMB: {0, false}, dns.TypeMG: {0, false}, dns.TypeMR: {0, false}, dns.TypePTR: {0, false},
	dns.TypeDNAME: {0, false}, dns.TypeSOA: {0, true}, dns.TypeMINFO: {0, true}, dns.TypeRP: {0, true},
	dns.TypeMX: {2, false}, dns.TypeAFSDB: {2, false}, dns.TypeRT: {2, false}, dns.TypeKX: {2, false},
	dns.TypeSRV: {6, false}, dns.TypeRRSIG: {18, false},
}

// AddWire adds one record given in uncompressed wire form (owner, type,
// class, TTL, RDLENGTH, data), as Add does; wire is not kept.
func (z *ZONEMDHash) AddWire(wire []byte) {
	if z.err != nil {
		return
	}
	n := nameLen(wire)
	if n+10 > len(wire) {
		z.addUnpacked(wire)
		return
	}
	rtype := binary.BigEndian.Uint16(wire[n:])
	at, listed := nameAt[rtype]
	if namesInData[rtype] && !listed {
		z.addUnpacked(wire)
		return
	}
	z.buf = append(z.buf[:0], wire...)
	c := z.buf
	lowerName(c, 0)
	if listed {
		off := n + 10 + at.off
		end, ok := lowerName(c, off)
		if ok && at.second {
			_, ok = lowerName(c, end)
		}
		if !ok {
			z.addUnpacked(wire)
			return
		}
	}
	if z.originWire == nil {
		z.originWire = make([]byte, 0, 256)
		z.originWire, _ = appendWireName(z.originWire, z.origin)
	}
	owner := c[:n]
	if !inZoneWire(owner, z.originWire) {
		return
	}
	if bytes.Equal(owner, z.originWire) {
		if rtype == dns.TypeZONEMD {
			return
		}
		if rtype == dns.TypeRRSIG && len(c) >= n+12 && binary.BigEndian.Uint16(c[n+10:]) == dns.TypeZONEMD {
			return
		}
	}
	z.take(c, n)
}

// addUnpacked adds a record of the wire path by the dns.RR path.
func (z *ZONEMDHash) addUnpacked(wire []byte) {
	rr, _, err := dns.UnpackRR(wire, 0)
	if err != nil {
		z.err = err
		return
	}
	z.Add(rr)
}

// lowerName lowers the ASCII letters of the uncompressed wire name at
// b[off:] in place, leaving the label lengths alone, and returns the
// offset after it; ok is false when no whole name is there.
func lowerName(b []byte, off int) (end int, ok bool) {
	for off < len(b) {
		l := int(b[off])
		if l == 0 {
			return off + 1, true
		}
		if l > 63 || off+1+l > len(b) {
			return 0, false
		}
		for i := off + 1; i <= off+l; i++ {
			if 'A' <= b[i] && b[i] <= 'Z' {
				b[i] += 'a' - 'A'
			}
		}
		off += 1 + l
	}
	return 0, false
}

// inZoneWire reports whether the lower-case wire name is origin or
// below it.
func inZoneWire(name, origin []byte) bool {
	for i := 0; i < len(name); i += int(name[i]) + 1 {
		if len(name)-i == len(origin) {
			return bytes.Equal(name[i:], origin)
		}
		if name[i] == 0 {
			break
		}
	}
	return false
}

// appendWireName appends the uncompressed wire form of a presentation
// name.
func appendWireName(b []byte, name string) ([]byte, error) {
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(name, buf, 0, nil, false)
	if err != nil {
		return b, err
	}
	return append(b, buf[:n]...), nil
}
