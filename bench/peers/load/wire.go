package load

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// prepared is a Query packed once, ready to be copied into a send buffer.
type prepared struct {
	wire []byte // the packed query with ID 0
	qEnd int    // end of the question section in wire
	exp  *Expect
	do   bool // DO set: the checked RRset must come signed (checkSigned)
}

// EDNS0 buffer size advertised by every query (the DNS flag day 2020 value).
const ednsSize = 1232

// prepare packs every query: RD clear, EDNS0 with DO set as do says.
func prepare(qs []Query, do bool) ([]prepared, error) {
	ps := make([]prepared, len(qs))
	for i, q := range qs {
		m := new(dns.Msg)
		m.SetQuestion(q.Name, q.Type)
		m.RecursionDesired = false
		m.SetEdns0(ednsSize, do)
		w, err := m.Pack()
		if err != nil {
			return nil, fmt.Errorf("load: pack %s: %w", q, err)
		}
		end, ok := skipName(w, headerLen)
		if !ok {
			return nil, fmt.Errorf("load: pack %s: bad question", q)
		}
		if q.Expect != nil {
			if err := q.Expect.compile(); err != nil {
				return nil, fmt.Errorf("load: %s: %w", q, err)
			}
		}
		ps[i] = prepared{wire: w, qEnd: end + 4, exp: q.Expect, do: do}
	}
	return ps, nil
}

const headerLen = 12

// verdict is the outcome of checking one answer; the zero value is a pass.
type verdict uint8

const (
	pass          verdict = iota
	badMessage            // too short or does not parse
	notResponse           // QR clear or opcode not QUERY
	badQuestion           // the question differs from the one sent
	badRcode              // rcode differs
	answerPresent         // answer section not empty when it must be
	noRecord              // the section to check is empty
	badType               // first record has another type
	badRdata              // first record has other rdata
	noRRSIG               // DO set, and the checked RRset came without its RRSIG
	noProof               // DO set, and a negative answer came without NSEC or NSEC3
)

var verdictText = [...]string{
	pass:          "ok",
	badMessage:    "malformed message",
	notResponse:   "not a response",
	badQuestion:   "question differs",
	badRcode:      "rcode differs",
	answerPresent: "answer section not empty",
	noRecord:      "no record to check",
	badType:       "record type differs",
	badRdata:      "rdata differs",
	noRRSIG:       "RRSIG missing",
	noProof:       "NSEC/NSEC3 proof missing",
}

// check verifies the answer m to p by hand so that it does not allocate;
// scratch is reused for canonical rdata and returned for the next call.
// The caller has already checked that the message is long enough for a
// header and that TC is clear. With DO set, an answer that passes its
// expectation must also carry its signatures (checkSigned).
func check(m []byte, p *prepared, scratch []byte) (verdict, []byte) {
	v, scratch := checkPlain(m, p, scratch)
	if v == pass && p.do && p.exp != nil {
		v = checkSigned(m, p)
	}
	return v, scratch
}

// checkSigned verifies that an answer to a DO=1 query, which passed its
// expectation, carries what RFC 4035 §3.1 adds to it: the RRSIG of the
// checked record's type in the checked section (the first answer
// record's, or for "TYPE@auth" the authority record's, which may then
// come anywhere in the section, not only first), and with a
// negative answer (NXDOMAIN, or NODATA: SOA@auth) an NSEC or NSEC3
// record in the authority section. The signatures are not verified:
// the conformance and validation tests do that; here a server that
// drops them is caught.
func checkSigned(m []byte, p *prepared) verdict {
	e := p.exp
	if e.Where != WhereAnswer && e.Where != WhereAuthority {
		return pass
	}
	an := int(m[6])<<8 | int(m[7])
	ns := int(m[8])<<8 | int(m[9])
	off := p.qEnd
	signed, proof, found := false, false, false
	for i := range an + ns {
		next, ok := skipName(m, off)
		if !ok || next+10 > len(m) {
			return badMessage
		}
		typ := uint16(m[next])<<8 | uint16(m[next+1])
		rdlen := int(m[next+8])<<8 | int(m[next+9])
		rd := next + 10
		if rd+rdlen > len(m) {
			return badMessage
		}
		inChecked := (i < an) == (e.Where == WhereAnswer)
		switch {
		case !inChecked:
		case typ == e.Type:
			found = true
		case typ == dns.TypeRRSIG && rdlen >= 2 && uint16(m[rd])<<8|uint16(m[rd+1]) == e.Type:
			signed = true
		case typ == dns.TypeNSEC || typ == dns.TypeNSEC3:
			proof = true
		}
		off = rd + rdlen
	}
	if !found {
		return badType
	}
	if !signed {
		return noRRSIG
	}
	negative := e.Rcode == dns.RcodeNameError || (e.Where == WhereAuthority && e.Type == dns.TypeSOA)
	if negative && !proof {
		return noProof
	}
	return pass
}

// checkPlain is check without the DNSSEC part.
func checkPlain(m []byte, p *prepared, scratch []byte) (verdict, []byte) {
	if m[2]&0x80 == 0 || m[2]&0x78 != 0 {
		return notResponse, scratch
	}
	qd := int(m[4])<<8 | int(m[5])
	an := int(m[6])<<8 | int(m[7])
	if qd != 1 || len(m) < p.qEnd || !equalFold(m[headerLen:p.qEnd], p.wire[headerLen:p.qEnd]) {
		return badQuestion, scratch
	}
	e := p.exp
	if e == nil {
		return pass, scratch
	}
	if int(m[3]&0x0f) != e.Rcode {
		return badRcode, scratch
	}
	switch e.Where {
	case WhereRcode:
		return pass, scratch
	case WhereEmpty, WhereAuthority:
		if an != 0 {
			return answerPresent, scratch
		}
		if e.Where == WhereEmpty {
			return pass, scratch
		}
		if m[8] == 0 && m[9] == 0 {
			return noRecord, scratch
		}
	case WhereAnswer:
		if an == 0 {
			return noRecord, scratch
		}
	}
	// The first answer or authority record starts right after the
	// question: either the answer section is the one checked, or it is empty.
	off, ok := skipName(m, p.qEnd)
	if !ok || off+10 > len(m) {
		return badMessage, scratch
	}
	typ := uint16(m[off])<<8 | uint16(m[off+1])
	rdlen := int(m[off+8])<<8 | int(m[off+9])
	off += 10
	if off+rdlen > len(m) {
		return badMessage, scratch
	}
	if typ != e.Type {
		// Signed, the authority section's order is the server's: NSD
		// puts the NSEC3 proof before the SOA. checkSigned looks for
		// the type over the whole section then.
		if p.do && e.Where == WhereAuthority {
			return pass, scratch
		}
		return badType, scratch
	}
	if e.rdata == nil {
		return pass, scratch
	}
	scratch, ok = appendRdata(scratch[:0], m, off, rdlen, typ)
	if !ok {
		return badMessage, scratch
	}
	if string(scratch) != string(e.rdata) {
		return badRdata, scratch
	}
	return pass, scratch
}

// skipName returns the offset after the (possibly compressed) name at off.
func skipName(m []byte, off int) (int, bool) {
	for off < len(m) {
		c := int(m[off])
		switch c & 0xc0 {
		case 0x00:
			if c == 0 {
				return off + 1, true
			}
			off += 1 + c
		case 0xc0:
			if off+2 > len(m) {
				return 0, false
			}
			return off + 2, true
		default:
			return 0, false
		}
	}
	return 0, false
}

// appendName appends the name at off in m to dst decompressed and in lower
// case, and returns the offset after the name where it was written.
func appendName(dst, m []byte, off int) ([]byte, int, bool) {
	end := -1
	for hops := 0; off < len(m); {
		c := int(m[off])
		switch c & 0xc0 {
		case 0x00:
			if c == 0 {
				dst = append(dst, 0)
				if end < 0 {
					end = off + 1
				}
				return dst, end, true
			}
			if off+1+c > len(m) {
				return dst, 0, false
			}
			dst = append(dst, byte(c))
			for _, b := range m[off+1 : off+1+c] {
				dst = append(dst, lower(b))
			}
			off += 1 + c
		case 0xc0:
			// A pointer must point backwards; the hop limit stops loops
			// through a hostile message all the same.
			if off+2 > len(m) || hops > 127 {
				return dst, 0, false
			}
			ptr := (c&0x3f)<<8 | int(m[off+1])
			if ptr >= off {
				return dst, 0, false
			}
			if end < 0 {
				end = off + 2
			}
			off = ptr
			hops++
		default:
			return dst, 0, false
		}
	}
	return dst, 0, false
}

// rdataLayout tells how many fixed bytes precede how many names in the
// rdata of the types whose names may be compressed (RFC 3597 section 4
// and the few types servers compress anyway); trail is what follows.
type rdataLayout struct{ lead, names, trail int }

var layouts = map[uint16]rdataLayout{
	dns.TypeNS:    {0, 1, 0},
	dns.TypeMD:    {0, 1, 0},
	dns.TypeMF:    {0, 1, 0},
	dns.TypeCNAME: {0, 1, 0},
	dns.TypeMB:    {0, 1, 0},
	dns.TypeMG:    {0, 1, 0},
	dns.TypeMR:    {0, 1, 0},
	dns.TypePTR:   {0, 1, 0},
	dns.TypeDNAME: {0, 1, 0},
	dns.TypeSOA:   {0, 2, 20},
	dns.TypeMINFO: {0, 2, 0},
	dns.TypeRP:    {0, 2, 0},
	dns.TypeMX:    {2, 1, 0},
	dns.TypeAFSDB: {2, 1, 0},
	dns.TypeRT:    {2, 1, 0},
	dns.TypeKX:    {2, 1, 0},
	dns.TypeSRV:   {6, 1, 0},
}

// appendRdata appends the rdata at m[off:off+n] to dst in a canonical form:
// names decompressed and lower-cased, everything else verbatim.
func appendRdata(dst, m []byte, off, n int, typ uint16) ([]byte, bool) {
	l, ok := layouts[typ]
	if !ok {
		return append(dst, m[off:off+n]...), true
	}
	end := off + n
	if off+l.lead > end {
		return dst, false
	}
	dst = append(dst, m[off:off+l.lead]...)
	off += l.lead
	for range l.names {
		if dst, off, ok = appendName(dst, m[:end], off); !ok {
			return dst, false
		}
	}
	if off+l.trail != end {
		return dst, false
	}
	return append(dst, m[off:end]...), true
}

// equalFold compares two wire names ASCII case-insensitively.
func equalFold(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func lower(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// describe explains a failed check for the report; it allocates freely,
// being called only for the first few mismatches.
func describe(m []byte, q Query, v verdict) string {
	want := "(anything)"
	if q.Expect != nil {
		want = q.Expect.String()
	}
	got := "unparsable"
	var r dns.Msg
	if err := r.Unpack(m); err == nil {
		got = rcodeString(r.Rcode)
		switch {
		case len(r.Answer) > 0:
			got += " " + rrText(r.Answer[0])
		case len(r.Ns) > 0:
			got += " - auth " + rrText(r.Ns[0])
		default:
			got += " -"
		}
		if len(r.Question) == 1 && !strings.EqualFold(r.Question[0].Name, q.Name) {
			got += " (question " + r.Question[0].Name + ")"
		}
	}
	return fmt.Sprintf("%s %s: %s: want %s, got %s", q.Name, typeString(q.Type), verdictText[v], want, got)
}

// rrText is "TYPE RDATA" of rr.
func rrText(rr dns.RR) string {
	h := rr.Header().String()
	return typeString(rr.Header().Rrtype) + " " + strings.TrimSpace(strings.TrimPrefix(rr.String(), h))
}
