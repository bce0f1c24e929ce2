package load

import (
	"bufio"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// Query is one line of a query file: what to ask and what to expect back.
type Query struct {
	Name   string  // absolute query name, with the trailing dot
	Type   uint16  // query type (dns.TypeA, ...)
	Expect *Expect // nil: the answer is counted but not checked
}

// Where names what part of an answer an Expect checks beyond the rcode.
type Where uint8

// The parts of an answer an Expect can check, see the package doc.
const (
	WhereRcode     Where = iota // only the rcode
	WhereEmpty                  // "-": the answer section is empty
	WhereAnswer                 // "TYPE [RDATA]": the first answer record
	WhereAuthority              // "TYPE@auth": empty answer, first authority record
)

// Expect is the expected answer to a Query, as written after its ';'.
type Expect struct {
	Rcode int    // dns.RcodeSuccess, dns.RcodeNameError, ...
	Where Where  // what beyond the rcode is checked
	Type  uint16 // type of the first record checked (WhereAnswer, WhereAuthority)
	Rdata string // presentation rdata of the first answer record; "" = not checked

	rdata []byte // canonical wire rdata, filled by ReadQueries or prepare
}

// ErrSyntax is wrapped by every query file parse error.
var ErrSyntax = errors.New("query file syntax")

// String formats q as a query file line, the inverse of ParseQuery.
func (q Query) String() string {
	s := q.Name + " " + typeString(q.Type)
	if q.Expect != nil {
		s += " ; " + q.Expect.String()
	}
	return s
}

// String formats e as it is written after the ';' of a query file line.
func (e *Expect) String() string {
	s := rcodeString(e.Rcode)
	switch e.Where {
	case WhereEmpty:
		s += " -"
	case WhereAuthority:
		s += " " + typeString(e.Type) + "@auth"
	case WhereAnswer:
		s += " " + typeString(e.Type)
		if e.Rdata != "" {
			s += " " + e.Rdata
		}
	}
	return s
}

// ReadQueries reads a query file in the format of the package doc.
func ReadQueries(path string) ([]Query, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	defer f.Close()
	var qs []Query
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	line := 0
	for sc.Scan() {
		line++
		q, ok, err := ParseQuery(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("load: %s line %d: %w", path, line, err)
		}
		if ok {
			qs = append(qs, q)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("load: %s: %w", path, err)
	}
	if len(qs) == 0 {
		return nil, fmt.Errorf("load: %s: %w: no queries", path, ErrSyntax)
	}
	return qs, nil
}

// ParseQuery parses one query file line; ok is false for blank and
// comment lines.
func ParseQuery(line string) (q Query, ok bool, err error) {
	text, comment, hasComment := strings.Cut(line, ";")
	f := strings.Fields(text)
	if len(f) == 0 || strings.HasPrefix(f[0], "#") {
		return Query{}, false, nil
	}
	if len(f) != 2 {
		return Query{}, false, fmt.Errorf("%w: want NAME TYPE, got %q", ErrSyntax, text)
	}
	if _, ok := dns.IsDomainName(f[0]); !ok {
		return Query{}, false, fmt.Errorf("%w: bad name %q", ErrSyntax, f[0])
	}
	q.Name = dns.Fqdn(f[0])
	if q.Type, err = parseType(f[1]); err != nil {
		return Query{}, false, err
	}
	if hasComment {
		if q.Expect, err = parseExpect(comment); err != nil {
			return Query{}, false, err
		}
	}
	return q, true, nil
}

// parseExpect parses the text after ';'; an empty comment expects nothing.
func parseExpect(s string) (*Expect, error) {
	rcode, rest := nextField(s)
	if rcode == "" {
		return nil, nil
	}
	rc, ok := dns.StringToRcode[strings.ToUpper(rcode)]
	if !ok || rc > 15 {
		return nil, fmt.Errorf("%w: bad rcode %q (the header holds 0 to 15)", ErrSyntax, rcode)
	}
	e := &Expect{Rcode: rc}
	what, rdata := nextField(rest)
	switch {
	case what == "":
		return e, nil
	case what == "-":
		if rdata != "" {
			return nil, fmt.Errorf("%w: nothing may follow \"-\"", ErrSyntax)
		}
		e.Where = WhereEmpty
	case strings.HasSuffix(strings.ToLower(what), "@auth"):
		if rdata != "" {
			return nil, fmt.Errorf("%w: nothing may follow %q", ErrSyntax, what)
		}
		t, err := parseType(what[:len(what)-len("@auth")])
		if err != nil {
			return nil, err
		}
		e.Where, e.Type = WhereAuthority, t
	default:
		t, err := parseType(what)
		if err != nil {
			return nil, err
		}
		// The rdata is kept as written: blanks inside quoted strings count.
		e.Where, e.Type, e.Rdata = WhereAnswer, t, rdata
		if rdata == "" && rc == dns.RcodeNameError && t == dns.TypeSOA {
			e.Where = WhereAuthority
		}
	}
	if err := e.compile(); err != nil {
		return nil, err
	}
	return e, nil
}

// nextField splits s into its first blank-separated field and the rest,
// both trimmed.
func nextField(s string) (field, rest string) {
	s = strings.TrimLeft(s, " \t")
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.Trim(s[i:], " \t")
}

// compile fills e.rdata from e.Rdata, once.
func (e *Expect) compile() error {
	if e.Where != WhereAnswer || e.Rdata == "" || e.rdata != nil {
		return nil
	}
	if c, ok := quickRdata(e.Type, e.Rdata); ok {
		e.rdata = c
		return nil
	}
	rr, err := dns.NewRR(". 0 IN " + typeString(e.Type) + " " + e.Rdata)
	if err != nil {
		return fmt.Errorf("%w: rdata %q: %v", ErrSyntax, e.Rdata, err)
	}
	if rr == nil {
		return fmt.Errorf("%w: empty rdata %q", ErrSyntax, e.Rdata)
	}
	buf := make([]byte, 65536)
	end, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return fmt.Errorf("%w: rdata %q: %v", ErrSyntax, e.Rdata, err)
	}
	// Owner "." is one byte, then type, class, TTL and rdlength.
	const rdStart = 1 + 2 + 2 + 4 + 2
	c, ok := appendRdata(nil, buf[:end], rdStart, end-rdStart, e.Type)
	if !ok {
		return fmt.Errorf("%w: rdata %q does not pack", ErrSyntax, e.Rdata)
	}
	e.rdata = c
	return nil
}

// quickRdata is the canonical rdata of the common types, built directly:
// dns.NewRR costs tens of microseconds a line, which for a million-line
// query file is most of a minute. ok is false when the slow path must
// decide (other types, escapes, anything unusual).
func quickRdata(t uint16, rdata string) ([]byte, bool) {
	switch t {
	case dns.TypeA, dns.TypeAAAA:
		a, err := netip.ParseAddr(rdata)
		if err != nil || a.Is4() != (t == dns.TypeA) || a.Zone() != "" {
			return nil, false
		}
		return a.AsSlice(), true
	case dns.TypeCNAME, dns.TypeNS, dns.TypePTR, dns.TypeDNAME:
		return appendWireName(nil, rdata)
	case dns.TypeMX:
		pref, name, ok := strings.Cut(rdata, " ")
		v, err := strconv.ParseUint(pref, 10, 16)
		if !ok || err != nil {
			return nil, false
		}
		return appendWireName([]byte{byte(v >> 8), byte(v)}, name)
	}
	return nil, false
}

// appendWireName appends the plain name s (no escapes; relative names are
// taken as absolute) in lower-case wire form.
func appendWireName(dst []byte, s string) ([]byte, bool) {
	if strings.ContainsAny(s, "\\\"() \t@;") || len(s) > 254 {
		return nil, false
	}
	s = strings.TrimSuffix(s, ".")
	if s != "" {
		for l := range strings.SplitSeq(s, ".") {
			if l == "" || len(l) > 63 {
				return nil, false
			}
			dst = append(dst, byte(len(l)))
			for i := range len(l) {
				dst = append(dst, lower(l[i]))
			}
		}
	}
	return append(dst, 0), true
}

// parseType reads a type mnemonic or TYPEnnn.
func parseType(s string) (uint16, error) {
	u := strings.ToUpper(s)
	if t, ok := dns.StringToType[u]; ok {
		return t, nil
	}
	if n, ok := strings.CutPrefix(u, "TYPE"); ok {
		if v, err := strconv.ParseUint(n, 10, 16); err == nil {
			return uint16(v), nil
		}
	}
	return 0, fmt.Errorf("%w: bad type %q", ErrSyntax, s)
}

// typeString is the mnemonic of t, TYPEnnn for unknown types.
func typeString(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return "TYPE" + strconv.Itoa(int(t))
}

// rcodeString is the mnemonic of rc, RCODEnn for unknown codes.
func rcodeString(rc int) string {
	if s, ok := dns.RcodeToString[rc]; ok {
		return s
	}
	return "RCODE" + strconv.Itoa(rc)
}
