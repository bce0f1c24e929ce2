package load

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestParseQuery(t *testing.T) {
	tests := []struct {
		line string
		ok   bool
		want Query
		str  string // String() of the result, "" = line itself
	}{
		{line: "", ok: false},
		{line: "   ", ok: false},
		{line: "; a comment", ok: false},
		{line: "# a comment", ok: false},
		{line: "h1.bench.test A", ok: true,
			want: Query{Name: "h1.bench.test.", Type: dns.TypeA}, str: "h1.bench.test. A"},
		{line: "h1.bench.test. aaaa ;", ok: true,
			want: Query{Name: "h1.bench.test.", Type: dns.TypeAAAA}, str: "h1.bench.test. AAAA"},
		{line: "h123.bench.test A ; NOERROR A 10.0.0.123", ok: true,
			want: Query{Name: "h123.bench.test.", Type: dns.TypeA,
				Expect: &Expect{Rcode: dns.RcodeSuccess, Where: WhereAnswer, Type: dns.TypeA, Rdata: "10.0.0.123"}},
			str: "h123.bench.test. A ; NOERROR A 10.0.0.123"},
		{line: "c25.bench.test. A ; NOERROR CNAME h25.bench.test.", ok: true,
			want: Query{Name: "c25.bench.test.", Type: dns.TypeA,
				Expect: &Expect{Rcode: dns.RcodeSuccess, Where: WhereAnswer, Type: dns.TypeCNAME, Rdata: "h25.bench.test."}}},
		{line: "m.bench.test MX ;NOERROR   MX  10 mail.bench.test.  ", ok: true,
			want: Query{Name: "m.bench.test.", Type: dns.TypeMX,
				Expect: &Expect{Rcode: dns.RcodeSuccess, Where: WhereAnswer, Type: dns.TypeMX, Rdata: "10 mail.bench.test."}},
			str: "m.bench.test. MX ; NOERROR MX 10 mail.bench.test."},
		{line: `t.bench.test. TXT ; NOERROR TXT "a  b; c" "d"`, ok: true,
			want: Query{Name: "t.bench.test.", Type: dns.TypeTXT,
				Expect: &Expect{Rcode: dns.RcodeSuccess, Where: WhereAnswer, Type: dns.TypeTXT, Rdata: `"a  b; c" "d"`}}},
		{line: "nope5.bench.test A ; NXDOMAIN SOA", ok: true,
			want: Query{Name: "nope5.bench.test.", Type: dns.TypeA,
				Expect: &Expect{Rcode: dns.RcodeNameError, Where: WhereAuthority, Type: dns.TypeSOA}},
			str: "nope5.bench.test. A ; NXDOMAIN SOA@auth"},
		{line: "h1.bench.test. TXT ; NOERROR SOA@auth", ok: true,
			want: Query{Name: "h1.bench.test.", Type: dns.TypeTXT,
				Expect: &Expect{Rcode: dns.RcodeSuccess, Where: WhereAuthority, Type: dns.TypeSOA}}},
		{line: "x.sub.bench.test. A ; NOERROR NS@auth", ok: true,
			want: Query{Name: "x.sub.bench.test.", Type: dns.TypeA,
				Expect: &Expect{Rcode: dns.RcodeSuccess, Where: WhereAuthority, Type: dns.TypeNS}}},
		{line: "x.sub.bench.test. A ; NOERROR -", ok: true,
			want: Query{Name: "x.sub.bench.test.", Type: dns.TypeA,
				Expect: &Expect{Rcode: dns.RcodeSuccess, Where: WhereEmpty}}},
		{line: "x.bench.test TYPE65 ; refused", ok: true,
			want: Query{Name: "x.bench.test.", Type: 65,
				Expect: &Expect{Rcode: dns.RcodeRefused, Where: WhereRcode}},
			str: "x.bench.test. HTTPS ; REFUSED"},
	}
	for _, tt := range tests {
		q, ok, err := ParseQuery(tt.line)
		if err != nil || ok != tt.ok {
			t.Errorf("ParseQuery(%q) = ok %v, %v; want ok %v", tt.line, ok, err, tt.ok)
			continue
		}
		if !ok {
			continue
		}
		if q.Name != tt.want.Name || q.Type != tt.want.Type || (q.Expect == nil) != (tt.want.Expect == nil) {
			t.Errorf("ParseQuery(%q) = %+v, want %+v", tt.line, q, tt.want)
			continue
		}
		if e, w := q.Expect, tt.want.Expect; e != nil &&
			(e.Rcode != w.Rcode || e.Where != w.Where || e.Type != w.Type || e.Rdata != w.Rdata) {
			t.Errorf("ParseQuery(%q).Expect = %+v, want %+v", tt.line, *e, *w)
		}
		str := tt.str
		if str == "" {
			str = tt.line
		}
		if q.String() != str {
			t.Errorf("ParseQuery(%q).String() = %q, want %q", tt.line, q.String(), str)
		}
		// The formatted line parses back to the same query.
		if q2, _, err := ParseQuery(q.String()); err != nil || q2.String() != q.String() {
			t.Errorf("round trip of %q: %q, %v", q.String(), q2.String(), err)
		}
	}
}

func TestParseQueryErrors(t *testing.T) {
	for _, line := range []string{
		"h1.bench.test",
		"h1.bench.test A extra",
		"h1.bench.test BOGUS",
		"h1.bench.test A ; NOSUCHRCODE",
		"h1.bench.test A ; BADVERS",
		"h1.bench.test A ; NOERROR BOGUS",
		"h1.bench.test A ; NOERROR A 10.0.0",
		"h1.bench.test A ; NOERROR - extra",
		"h1.bench.test A ; NOERROR NS@auth extra",
		"h1.bench.test A ; NOERROR BOGUS@auth",
		"a..b A",
	} {
		if _, _, err := ParseQuery(line); !errors.Is(err, ErrSyntax) {
			t.Errorf("ParseQuery(%q) error = %v, want ErrSyntax", line, err)
		}
	}
}

func TestReadQueries(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	os.WriteFile(good, []byte("; generated\n\nh1.bench.test A ; NOERROR A 10.0.0.1\nnope.bench.test A ; NXDOMAIN SOA\nh2.bench.test AAAA\n"), 0o644)
	qs, err := ReadQueries(good)
	if err != nil || len(qs) != 3 {
		t.Fatalf("ReadQueries = %d queries, %v; want 3", len(qs), err)
	}
	if qs[2].Expect != nil || qs[1].Expect.Where != WhereAuthority {
		t.Errorf("ReadQueries = %v", qs)
	}
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("h1.bench.test A\nh2.bench.test NOPE\n"), 0o644)
	if _, err := ReadQueries(bad); !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("ReadQueries(bad) error = %v, want ErrSyntax at line 2", err)
	}
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("; nothing\n"), 0o644)
	if _, err := ReadQueries(empty); !errors.Is(err, ErrSyntax) {
		t.Errorf("ReadQueries(empty) error = %v, want ErrSyntax", err)
	}
	if _, err := ReadQueries(filepath.Join(dir, "missing")); err == nil {
		t.Error("ReadQueries(missing) succeeded")
	}
}

// The quick rdata path must agree with the dns.NewRR one it short-cuts.
func TestQuickRdata(t *testing.T) {
	tests := []struct {
		typ   uint16
		rdata string
		quick bool
	}{
		{dns.TypeA, "10.0.0.1", true},
		{dns.TypeAAAA, "2001:db8::1", true},
		{dns.TypeAAAA, "::ffff:10.0.0.1", true},
		{dns.TypeA, "2001:db8::1", false},
		{dns.TypeCNAME, "H1.Bench.Test.", true},
		{dns.TypeCNAME, "h1.bench.test", true},
		{dns.TypeNS, ".", true},
		{dns.TypePTR, "h1.bench.test.", true},
		{dns.TypeMX, "10 mail.bench.test.", true},
		{dns.TypeMX, "65535 .", true},
		{dns.TypeCNAME, `a\.b.bench.test.`, false},
		{dns.TypeTXT, `"hello"`, false},
	}
	for _, tt := range tests {
		q, ok := quickRdata(tt.typ, tt.rdata)
		if ok != tt.quick {
			t.Errorf("quickRdata(%s %q) ok = %v, want %v", typeString(tt.typ), tt.rdata, ok, tt.quick)
		}
		slow := &Expect{Where: WhereAnswer, Type: tt.typ, Rdata: tt.rdata}
		// Force the slow path by compiling through dns.NewRR directly.
		rr, err := dns.NewRR(". 0 IN " + typeString(tt.typ) + " " + tt.rdata)
		if err != nil {
			if ok {
				t.Errorf("quickRdata accepted %q which dns.NewRR refuses: %v", tt.rdata, err)
			}
			continue
		}
		buf := make([]byte, 512)
		end, err := dns.PackRR(rr, buf, 0, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := appendRdata(nil, buf[:end], 11, end-11, tt.typ)
		if ok && string(q) != string(want) {
			t.Errorf("quickRdata(%s %q) = %x, NewRR gives %x", typeString(tt.typ), tt.rdata, q, want)
		}
		if err := slow.compile(); err != nil || string(slow.rdata) != string(want) {
			t.Errorf("compile(%s %q) = %x, %v; want %x", typeString(tt.typ), tt.rdata, slow.rdata, err, want)
		}
	}
}

// BenchmarkReadQueries reads a 100k-line file of the usual mix; a
// million-line file should take seconds, not minutes.
func BenchmarkReadQueries(b *testing.B) {
	path := filepath.Join(b.TempDir(), "queries")
	var sb strings.Builder
	for i := range 100_000 {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&sb, "h%d.bench.test A ; NOERROR A 10.0.%d.%d\n", i, i>>8&255, i&255)
		case 1:
			fmt.Fprintf(&sb, "c%d.bench.test A ; NOERROR CNAME h%d.bench.test.\n", i, i)
		case 2:
			fmt.Fprintf(&sb, "nope%d.bench.test A ; NXDOMAIN SOA\n", i)
		case 3:
			fmt.Fprintf(&sb, "h%d.bench.test MX ; NOERROR MX 10 h%d.bench.test.\n", i, i+1)
		}
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := ReadQueries(path); err != nil {
			b.Fatal(err)
		}
	}
}
