package zonefile

import (
	"bytes"
	"cmp"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"hash"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// The content digest of a zone (docs/architecture.md, "Content digests
// and the zone state option"): RFC 8976 ZONEMD, scheme SIMPLE (1), hash
// SHA-384 (1), so that any tool that computes ZONEMD (Knot's
// zonemd-generate, ldns) gets the same value for the same records:
//
//   - every record of the zone in canonical form (RFC 4034 §6.2: owner
//     and the names in the data of the types listed there in lower case,
//     no compression), with its TTL as served;
//   - in canonical order: owner names as RFC 4034 §6.1 orders them, then
//     class, type, and the data as a string of octets (§6.3);
//   - each distinct record once (RFC 8976 §3.3.1.1);
//   - without the apex ZONEMD RRset and the RRSIGs that cover it, nor any
//     record outside the zone (RFC 8976 §3.3.1); non-apex ZONEMD records
//     and occluded data are included.

// ZONEMDScheme and ZONEMDHashAlg are the scheme and hash algorithm of the
// digest ZONEMD computes, as they go in a ZONEMD record (RFC 8976 §2.2).
const (
	ZONEMDScheme  = 1 // SIMPLE
	ZONEMDHashAlg = 1 // SHA-384
)

// ZONEMDSize is the length of a digest.
const ZONEMDSize = sha512.Size384

// ZONEMD returns the RFC 8976 SIMPLE SHA-384 digest of the records of
// the zone at origin, in any order. rrs is not changed.
func ZONEMD(origin string, rrs []dns.RR) ([]byte, error) {
	sorted := slices.Clone(rrs)
	Sort(sorted)
	h := NewZONEMDHash(origin)
	for _, rr := range sorted {
		h.Add(rr)
	}
	return h.Sum()
}

// ZONEMDHash computes ZONEMD over records given one at a time, as a
// served snapshot hands them out: owner names in canonical order (RFC
// 4034 §6.1), every record of one owner together, the records at one
// owner in any order. Only one owner's records are held at a time.
type ZONEMDHash struct {
	origin     string // lower case, fully qualified
	originWire []byte // origin in wire form, made by the wire path (zonemd_wire.go)
	h          hash.Hash
	owner      []byte   // canonical wire form of the current owner
	arena      []byte   // its records in canonical wire form, one after the other
	pending    [][]byte // the records in arena
	buf        []byte
	err        error
}

// NewZONEMDHash starts the digest of the zone at origin.
func NewZONEMDHash(origin string) *ZONEMDHash {
	return &ZONEMDHash{origin: strings.ToLower(dns.Fqdn(origin)), h: sha512.New384(), buf: make([]byte, 0, 512)}
}

// Add adds one record. Records outside the zone, the apex ZONEMD RRset
// and its RRSIGs are left out.
func (z *ZONEMDHash) Add(rr dns.RR) {
	if z.err != nil {
		return
	}
	hdr := rr.Header()
	owner := strings.ToLower(hdr.Name)
	if !dns.IsSubDomain(z.origin, owner) {
		return
	}
	if owner == z.origin {
		if hdr.Rrtype == dns.TypeZONEMD {
			return
		}
		if sig, ok := rr.(*dns.RRSIG); ok && sig.TypeCovered == dns.TypeZONEMD {
			return
		}
	}
	wire, err := canonicalWire(rr, z.buf[:0])
	if err != nil {
		z.err = fmt.Errorf("ZONEMD: %s %s: %w", hdr.Name, dns.Type(hdr.Rrtype), err)
		return
	}
	z.buf = wire[:0]
	z.take(wire, nameLen(wire))
}

// take keeps one record in canonical wire form, whose owner is its
// first n bytes, for its owner's flush; wire is copied.
func (z *ZONEMDHash) take(wire []byte, n int) {
	if !bytes.Equal(wire[:n], z.owner) {
		if z.owner != nil && compareCanonical(z.owner, wire[:n]) > 0 {
			z.err = fmt.Errorf("ZONEMD: %s comes after a name it sorts before: records not in canonical order", presentWire(wire[:n]))
			return
		}
		z.flush()
		z.owner = append(z.owner[:0], wire[:n]...)
	}
	if cap(z.arena)-len(z.arena) < len(wire) {
		// A new arena: the records already kept point into the old one.
		z.arena = make([]byte, 0, max(2*cap(z.arena), len(wire), 4096))
	}
	start := len(z.arena)
	z.arena = append(z.arena, wire...)
	z.pending = append(z.pending, z.arena[start:len(z.arena):len(z.arena)])
}

// presentWire is a wire name in presentation form, for messages.
func presentWire(name []byte) string {
	if s, _, err := dns.UnpackDomainName(name, 0); err == nil {
		return s
	}
	return fmt.Sprintf("%x", name)
}

// flush hashes the records of the current owner, sorted, each once.
func (z *ZONEMDHash) flush() {
	n := len(z.owner)
	// After the owner: type (2), class (2), TTL (4), RDLENGTH (2), RDATA.
	slices.SortFunc(z.pending, func(a, b []byte) int {
		if c := cmp.Compare(binary.BigEndian.Uint16(a[n+2:]), binary.BigEndian.Uint16(b[n+2:])); c != 0 {
			return c // class
		}
		if c := cmp.Compare(binary.BigEndian.Uint16(a[n:]), binary.BigEndian.Uint16(b[n:])); c != 0 {
			return c // type
		}
		return bytes.Compare(a[n+10:], b[n+10:])
	})
	for i, w := range z.pending {
		if i > 0 && sameRecord(z.pending[i-1], w, n) {
			continue
		}
		z.h.Write(w)
	}
	z.pending = z.pending[:0]
	z.arena = z.arena[:0]
}

// sameRecord reports whether two canonical records of one owner (name
// of n bytes) are the same record: type, class and data (RFC 2181 §5).
func sameRecord(a, b []byte, n int) bool {
	return bytes.Equal(a[n:n+4], b[n:n+4]) && bytes.Equal(a[n+10:], b[n+10:])
}

// Sum returns the digest of the records added.
func (z *ZONEMDHash) Sum() ([]byte, error) {
	if z.err != nil {
		return nil, z.err
	}
	z.flush()
	return z.h.Sum(nil), nil
}

// canonicalWire appends rr in canonical wire form (RFC 4034 §6.2) to b.
func canonicalWire(rr dns.RR, b []byte) ([]byte, error) {
	rr = canonicalNames(rr)
	size := dns.Len(rr) + 256
	if cap(b) < size {
		b = make([]byte, 0, size)
	}
	b = b[:size]
	end, err := dns.PackRR(rr, b, 0, nil, false)
	if err != nil {
		return nil, err
	}
	return b[:end], nil
}

// canonicalNames returns rr, or a copy of it, with its owner and the
// names in its data in lower case, for the types whose data names RFC
// 4034 §6.2 (as RFC 6840 §5.1 amends it: not NSEC) lowers.
func canonicalNames(rr dns.RR) dns.RR {
	lower := strings.ToLower
	if name := rr.Header().Name; !namesInData[rr.Header().Rrtype] && lower(name) == name {
		return rr // nothing to lower: no copy
	}
	c := dns.Copy(rr)
	c.Header().Name = lower(c.Header().Name)
	switch r := c.(type) {
	case *dns.NS:
		r.Ns = lower(r.Ns)
	case *dns.MD:
		r.Md = lower(r.Md)
	case *dns.MF:
		r.Mf = lower(r.Mf)
	case *dns.CNAME:
		r.Target = lower(r.Target)
	case *dns.SOA:
		r.Ns, r.Mbox = lower(r.Ns), lower(r.Mbox)
	case *dns.MB:
		r.Mb = lower(r.Mb)
	case *dns.MG:
		r.Mg = lower(r.Mg)
	case *dns.MR:
		r.Mr = lower(r.Mr)
	case *dns.PTR:
		r.Ptr = lower(r.Ptr)
	case *dns.MINFO:
		r.Rmail, r.Email = lower(r.Rmail), lower(r.Email)
	case *dns.MX:
		r.Mx = lower(r.Mx)
	case *dns.RP:
		r.Mbox, r.Txt = lower(r.Mbox), lower(r.Txt)
	case *dns.AFSDB:
		r.Hostname = lower(r.Hostname)
	case *dns.RT:
		r.Host = lower(r.Host)
	case *dns.SIG:
		r.SignerName = lower(r.SignerName)
	case *dns.PX:
		r.Map822, r.Mapx400 = lower(r.Map822), lower(r.Mapx400)
	case *dns.NAPTR:
		r.Replacement = lower(r.Replacement)
	case *dns.KX:
		r.Exchanger = lower(r.Exchanger)
	case *dns.SRV:
		r.Target = lower(r.Target)
	case *dns.DNAME:
		r.Target = lower(r.Target)
	case *dns.RRSIG:
		r.SignerName = lower(r.SignerName)
	}
	return c
}

// namesInData are the types whose data holds names canonicalNames
// lowers.
var namesInData = map[uint16]bool{
	dns.TypeNS: true, dns.TypeMD: true, dns.TypeMF: true, dns.TypeCNAME: true, dns.TypeSOA: true,
	dns.TypeMB: true, dns.TypeMG: true, dns.TypeMR: true, dns.TypePTR: true, dns.TypeMINFO: true,
	dns.TypeMX: true, dns.TypeRP: true, dns.TypeAFSDB: true, dns.TypeRT: true, dns.TypeSIG: true,
	dns.TypePX: true, dns.TypeNAPTR: true, dns.TypeKX: true, dns.TypeSRV: true, dns.TypeDNAME: true,
	dns.TypeRRSIG: true,
}

// nameLen returns the length of the uncompressed wire name at the start
// of b.
func nameLen(b []byte) int {
	i := 0
	for i < len(b) && b[i] != 0 {
		i += int(b[i]) + 1
	}
	return i + 1
}

// compareCanonical orders two lower-case uncompressed wire names as RFC
// 4034 §6.1 does: label by label from the root, each label as a string
// of octets, a name before the names below it.
func compareCanonical(a, b []byte) int {
	var sa, sb [128][]byte // a name has at most 127 labels: no allocation
	la, lb := labelsOf(sa[:0], a), labelsOf(sb[:0], b)
	for i, j := len(la)-1, len(lb)-1; i >= 0 && j >= 0; i, j = i-1, j-1 {
		if c := bytes.Compare(la[i], lb[j]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(la), len(lb))
}

// labelsOf appends the labels of a wire name to out, leftmost first.
func labelsOf(out [][]byte, b []byte) [][]byte {
	for i := 0; i < len(b) && b[i] != 0; i += int(b[i]) + 1 {
		out = append(out, b[i+1:i+1+int(b[i])])
	}
	return out
}
