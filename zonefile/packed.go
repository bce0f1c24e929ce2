package zonefile

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// Packed is a validated zone in wire form, its records in the canonical
// order of Zone.Records: what a server compiles. It holds a few flat,
// pointer-free arrays instead of a dns.RR per record, so that a zone of
// millions of records loads without millions of objects for the garbage
// collector to trace.
type Packed struct {
	Origin   string   // fully qualified, lower case
	Includes []string // as in Zone
	FileSum  [32]byte // as in Zone

	names []byte // owner names, wire form, as written
	data  []byte // record data, wire form, uncompressed
	recs  []rec
}

// rec is one record of a Packed zone or of a parse: offsets into the
// name and data arenas and the header fields.
type rec struct {
	name, data, ttl  uint32
	rtype, class, dl uint16
	nl               uint8
	flags            uint8 // while validated: flagNoData, flagNoWire
}

// PackedRecord is one record of a Packed zone. Owner and Rdata point
// into the zone's arenas: do not modify them.
type PackedRecord struct {
	Owner []byte // wire form, the letter case as written
	Type  uint16
	Class uint16
	TTL   uint32
	Rdata []byte // wire form, uncompressed, as dns.PackRR writes it
}

// Len returns the number of records.
func (p *Packed) Len() int { return len(p.recs) }

// Record returns the i-th record.
func (p *Packed) Record(i int) PackedRecord {
	r := &p.recs[i]
	return PackedRecord{
		Owner: p.names[r.name : r.name+uint32(r.nl)],
		Type:  r.rtype, Class: r.class, TTL: r.ttl,
		Rdata: p.data[r.data : r.data+uint32(r.dl)],
	}
}

// RR returns the i-th record as a dns.RR.
func (p *Packed) RR(i int) (dns.RR, error) {
	return unpackRec(p.names, p.data, &p.recs[i])
}

// SOA returns the zone's SOA record, or nil when it has none. A
// validated zone's SOA is its first record.
func (p *Packed) SOA() *dns.SOA {
	for i := range p.recs {
		if p.recs[i].rtype != dns.TypeSOA {
			continue
		}
		rr, err := p.RR(i)
		if err != nil {
			return nil
		}
		if soa, ok := rr.(*dns.SOA); ok && strings.EqualFold(soa.Hdr.Name, p.Origin) {
			return soa
		}
	}
	return nil
}

// Serial returns the serial of the zone's SOA, or 0 when it has none.
func (p *Packed) Serial() uint32 {
	if soa := p.SOA(); soa != nil {
		return soa.Serial
	}
	return 0
}

// Digest returns Digest of the zone the records came from.
func (p *Packed) Digest() [sha256.Size]byte {
	return digestBlocks(p.Origin, len(p.recs), func(lo, hi int, buf []byte) [sha256.Size]byte {
		h := sha256.New()
		off := 0
		for i := lo; i < hi; i++ {
			r := &p.recs[i]
			if len(buf)-off < maxPacked {
				h.Write(buf[:off])
				off = 0
			}
			off += putPacked(buf[off:], p.names[r.name:r.name+uint32(r.nl)], r, p.data[r.data:r.data+uint32(r.dl)])
		}
		h.Write(buf[:off])
		var out [sha256.Size]byte
		h.Sum(out[:0])
		return out
	})
}

// putPacked writes a record as dns.PackRR packs it, the owner folded
// to lower case, and returns its length.
func putPacked(buf, owner []byte, r *rec, rdata []byte) int {
	n := copy(buf, owner)
	foldASCII(buf[:n])
	binary.BigEndian.PutUint16(buf[n:], r.rtype)
	binary.BigEndian.PutUint16(buf[n+2:], r.class)
	binary.BigEndian.PutUint32(buf[n+4:], r.ttl)
	binary.BigEndian.PutUint16(buf[n+8:], r.dl)
	return n + 10 + copy(buf[n+10:], rdata)
}

// foldASCII folds the ASCII letters of b to lower case in place. In a
// wire-form name the label lengths (at most 63) are below 'A'.
func foldASCII(b []byte) {
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
}

// PackZone returns z in packed form. It fails on a record that cannot
// be put in wire form, which a zone from Load or Check never holds.
func PackZone(z *Zone) (*Packed, error) {
	var pk packer
	p := &Packed{Origin: z.Origin, Includes: z.Includes, FileSum: z.FileSum, recs: make([]rec, len(z.Records))}
	for i, rr := range z.Records {
		r, err := pk.add(rr)
		if err != nil {
			h := rr.Header()
			return nil, fmt.Errorf("zonefile: %s %s: %w", h.Name, typeName(h.Rrtype), err)
		}
		p.recs[i] = r
	}
	p.names, p.data = pk.names, pk.data
	return p, nil
}

// digestBlocks computes Digest's layout: records hashed in blocks of
// digestBlock, in parallel, then the origin, the count and the blocks'
// sums in order. block hashes records [lo, hi) using buf.
func digestBlocks(origin string, n int, block func(lo, hi int, buf []byte) [sha256.Size]byte) [sha256.Size]byte {
	blocks := (n + digestBlock - 1) / digestBlock
	sums := make([][sha256.Size]byte, blocks)
	workers := min(runtime.GOMAXPROCS(0), blocks)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			buf := make([]byte, 256<<10)
			for b := w; b < blocks; b += workers {
				sums[b] = block(b*digestBlock, min((b+1)*digestBlock, n), buf)
			}
		})
	}
	wg.Wait()

	h := sha256.New()
	h.Write([]byte(origin))
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(n)))
	for i := range sums {
		h.Write(sums[i][:])
	}
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

// packer puts records in wire form into a name and a data arena.
// Consecutive records of one owner (the usual layout of a zonefile)
// share the owner's bytes.
type packer struct {
	names, data []byte
	buf         []byte // scratch for dns.PackRR

	lastOwner string
	last      rec // name and nl of lastOwner
	hasLast   bool
}

// errRdataLen refuses data that cannot have a 16-bit length.
var errRdataLen = errors.New("record data over 65535 bytes")

// add packs rr and returns its rec. When only its data fails to pack,
// the rec still names its owner.
func (pk *packer) add(rr dns.RR) (rec, error) {
	h := rr.Header()
	r := rec{rtype: h.Rrtype, class: h.Class, ttl: h.Ttl}
	if pk.hasLast && h.Name == pk.lastOwner {
		r.name, r.nl = pk.last.name, pk.last.nl
	} else {
		at := len(pk.names)
		var ok bool
		if pk.names, ok = appendPlainName(pk.names, h.Name); !ok {
			var err error
			if pk.names, err = pk.appendName(pk.names[:at], h.Name); err != nil {
				return rec{}, err
			}
		}
		r.name, r.nl = uint32(at), uint8(len(pk.names)-at)
		pk.lastOwner, pk.last, pk.hasLast = h.Name, r, true
	}
	at := len(pk.data)
	var err error
	if pk.data, err = pk.appendRdata(pk.data, rr); err != nil {
		pk.data = pk.data[:at]
		return r, err
	}
	if len(pk.data)-at > 0xffff {
		pk.data = pk.data[:at]
		return r, errRdataLen
	}
	r.data, r.dl = uint32(at), uint16(len(pk.data)-at)
	return r, nil
}

// appendName appends the wire form of a name that is not plain.
func (pk *packer) appendName(dst []byte, name string) ([]byte, error) {
	var buf [256]byte
	n, err := dns.PackDomainName(dns.Fqdn(name), buf[:], 0, nil, false)
	if err != nil {
		return dst, err
	}
	return append(dst, buf[:n]...), nil
}

// appendRdata appends rr's data in wire form. The common types are
// packed here, the others (and names that are not plain) by dns.PackRR:
// the bytes are the same, without packing the owner once per record.
func (pk *packer) appendRdata(dst []byte, rr dns.RR) ([]byte, error) {
	var ok bool
	switch v := rr.(type) {
	case *dns.A:
		if ip := v.A.To4(); ip != nil {
			return append(dst, ip...), nil
		}
	case *dns.AAAA:
		if len(v.AAAA) == 16 {
			return append(dst, v.AAAA...), nil
		}
	case *dns.CNAME:
		if dst, ok = appendPlainName(dst, v.Target); ok {
			return dst, nil
		}
	case *dns.NS:
		if dst, ok = appendPlainName(dst, v.Ns); ok {
			return dst, nil
		}
	case *dns.PTR:
		if dst, ok = appendPlainName(dst, v.Ptr); ok {
			return dst, nil
		}
	case *dns.MX:
		at := len(dst)
		dst = binary.BigEndian.AppendUint16(dst, v.Preference)
		if dst, ok = appendPlainName(dst, v.Mx); ok {
			return dst, nil
		}
		dst = dst[:at]
	}
	return pk.appendGeneric(dst, rr)
}

// appendGeneric appends rr's data as dns.PackRR packs it.
func (pk *packer) appendGeneric(dst []byte, rr dns.RR) ([]byte, error) {
	if pk.buf == nil {
		pk.buf = make([]byte, maxPacked)
	}
	end, err := dns.PackRR(rr, pk.buf, 0, nil, false)
	if err != nil {
		return dst, err
	}
	l := 0
	for l < end && pk.buf[l] != 0 {
		l += int(pk.buf[l]) + 1
	}
	l++
	if l+10 > end {
		return dst, errors.New("malformed record")
	}
	return append(dst, pk.buf[l+10:end]...), nil
}

// appendPlainName appends the wire form of the fully qualified name s
// when it is plain: no escapes, no empty label, labels and name within
// the limits of RFC 1035 §2.3.4. Otherwise it reports false and the
// caller falls back to miekg/dns, which knows the rest.
func appendPlainName(dst []byte, s string) ([]byte, bool) {
	if s == "." {
		return append(dst, 0), true
	}
	if len(s) == 0 || len(s) > 254 || s[len(s)-1] != '.' {
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

// unpackRec returns a record of the arenas as a dns.RR.
func unpackRec(names, data []byte, r *rec) (dns.RR, error) {
	owner, _, err := dns.UnpackDomainName(names[r.name:r.name+uint32(r.nl)], 0)
	if err != nil {
		return nil, err
	}
	h := dns.RR_Header{Name: owner, Rrtype: r.rtype, Class: r.class, Ttl: r.ttl, Rdlength: r.dl}
	rr, _, err := dns.UnpackRRWithHeader(h, data[r.data:r.data+uint32(r.dl)], 0)
	return rr, err
}

// LoadPacked is Load for a server: the zone comes back packed, and the
// records are never all held as dns.RR values at once (each is packed
// as it is parsed).
func LoadPacked(path, origin string) (*Packed, Findings, error) {
	return Loader{}.LoadPacked(path, origin)
}

// LoadPacked is the package's LoadPacked within l's limits.
func (l Loader) LoadPacked(path, origin string) (*Packed, Findings, error) {
	res, findings, err := l.loadFile(path, origin, false)
	if err != nil {
		return nil, findings, err
	}
	p := res.p.packed(res.origin, res.served)
	p.Includes = res.includes
	p.FileSum = res.fileSum
	return p, findings, nil
}
