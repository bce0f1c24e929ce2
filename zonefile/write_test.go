package zonefile

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestWriteRoundTrip(t *testing.T) {
	path := writeZone(t, "example.org.zone", head+`
WWW 300 IN A 127.0.0.2
www IN AAAA ::1
@ IN MX 10 mail
mail IN A 127.0.0.3
_sip._tcp IN SRV 10 5 5060 www
txt IN TXT "hello world" "semi;colon" "quote\"d"
*.wild IN A 127.0.0.4
alias IN CNAME www
esc\.aped IN A 127.0.0.5
unk IN TYPE65534 \# 4 0a0b0c0d
sub IN NS ns.sub
ns.sub IN A 127.0.0.6
$GENERATE 1-20 h$ A 127.0.1.$
`)
	z, _, err := Load(path, "")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Write(&buf, z); err != nil {
		t.Fatal(err)
	}
	z2, fs, err := Parse(bytes.NewReader(buf.Bytes()), z.Origin, "written")
	if err != nil || len(fs) != 0 {
		t.Fatalf("written zone does not parse cleanly: %v %v\n%s", err, fs, buf.String())
	}
	if len(z.Records) != len(z2.Records) {
		t.Fatalf("%d records, %d after round trip", len(z.Records), len(z2.Records))
	}
	for i := range z.Records {
		a, b := z.Records[i], z2.Records[i]
		if a.String() != b.String() {
			t.Errorf("record %d: %q became %q", i, a, b)
		}
	}
	// Writing is stable: the second write is byte-identical.
	var buf2 bytes.Buffer
	Write(&buf2, z2)
	if buf.String() != buf2.String() {
		t.Errorf("write is not stable:\n%s\n---\n%s", buf.String(), buf2.String())
	}
	if !strings.HasPrefix(buf.String(), "$ORIGIN example.org.\n@\t3600\tIN\tSOA\t") {
		t.Errorf("SOA does not come first:\n%s", buf.String())
	}
}

func TestCompareNames(t *testing.T) {
	// RFC 4034 §6.1 example order.
	names := []string{"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.", "zABC.a.EXAMPLE.", "z.example.", "\\001.z.example.", "*.z.example.", "\\200.z.example."}
	// Labels holding a zero or one byte: a shorter label first, and a
	// name below a label before a longer label.
	names = append(names, "zz.example.", "y.zz.example.", "zz\\000.example.", "zz\\000\\000.example.", "zz\\000\\001.example.", "zz\\001.example.", "zz\\002.example.")
	for i := 1; i < len(names); i++ {
		if CompareNames(names[i-1], names[i]) >= 0 {
			t.Errorf("%s should sort before %s", names[i-1], names[i])
		}
	}
	if CompareNames("A.example.", "a.EXAMPLE.") != 0 {
		t.Error("comparison is not case-insensitive")
	}
}

func TestReplaceFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "example.org.zone")
	if err := os.WriteFile(path, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := ReplaceFile(path, func(w io.Writer) error { _, err := w.Write([]byte("new")); return err }); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	fi, _ := os.Stat(path)
	if string(b) != "new" || fi.Mode().Perm() != 0o640 {
		t.Fatalf("content %q mode %v", b, fi.Mode().Perm())
	}
	// A failing writer leaves the old file and no temporary file behind.
	err := ReplaceFile(path, func(w io.Writer) error { w.Write([]byte("half")); return os.ErrClosed })
	if err == nil {
		t.Fatal("error not returned")
	}
	b, _ = os.ReadFile(path)
	entries, _ := os.ReadDir(dir)
	if string(b) != "new" || len(entries) != 1 {
		t.Fatalf("after a failed replace: content %q, %d files", b, len(entries))
	}
}

func FuzzParse(f *testing.F) {
	f.Add(head + "www IN A 127.0.0.2\n")
	f.Add(head + "*.w IN CNAME x\n$GENERATE 1-3 a$ A 1.2.3.$\n")
	f.Add("$ORIGIN x.\n@ SOA a b ( 1 2 3 4 5 )\n")
	f.Fuzz(func(t *testing.T, text string) {
		z, _, err := Parse(strings.NewReader(text), "example.org.", "fuzz")
		if err != nil {
			return
		}
		// A zone that loads writes back to one that loads the same.
		var buf bytes.Buffer
		if err := Write(&buf, z); err != nil {
			t.Fatal(err)
		}
		z2, _, err := Parse(&buf, z.Origin, "rewritten")
		if err != nil {
			t.Fatalf("rewritten zone fails: %v\n%s", err, buf.String())
		}
		if len(z2.Records) != len(z.Records) {
			t.Fatalf("%d records became %d", len(z.Records), len(z2.Records))
		}
		for i := range z.Records {
			if z.Records[i].String() != z2.Records[i].String() {
				t.Fatalf("%v became %v", z.Records[i], z2.Records[i])
			}
		}
	})
}

func TestParseRecord(t *testing.T) {
	rr, err := ParseRecord("example.org.", "www 300 IN MX 10 mail")
	if err != nil || rr.String() != "www.example.org.\t300\tIN\tMX\t10 mail.example.org." {
		t.Fatalf("%v %v", rr, err)
	}
	for _, bad := range []string{"www 300 IN A 1.2.3", "$TTL 5", "a IN A 1.2.3.4\nb IN A 1.2.3.5", "www IN NS", "www IN BOGUS x"} {
		if _, err := ParseRecord("example.org.", bad); err == nil {
			t.Errorf("%q accepted", bad)
		} else if strings.Contains(err.Error(), "line:") {
			t.Errorf("%q: error keeps the parser position: %v", bad, err)
		}
	}
}

// TestRdataText: the data of a record as rdataText cuts it from the
// record's text is what follows the header's own text, for every kind
// of record a zone holds, odd owner names included.
func TestRdataText(t *testing.T) {
	for _, s := range []string{
		"a.example. 300 IN A 192.0.2.1",
		"a.example. 300 IN AAAA 2001:db8::1",
		"example. 300 IN SOA ns1.example. host.example. 1 2 3 4 5",
		"example. 300 IN NS ns1.example.",
		"example. 300 IN MX 10 mail.example.",
		`example. 300 IN TXT "with\ttab" "and space" "quote\"d"`,
		"c.example. 300 IN CNAME a.example.",
		"_sip._tcp.example. 300 IN SRV 1 2 5060 sip.example.",
		"1.2.0.192.in-addr.arpa. 300 IN PTR a.example.",
		"example. 300 IN CAA 0 issue \"ca.example\"",
		"example. 300 IN SSHFP 1 1 dd465c09cfa51fb45020cc83316fff21b9ec74ac",
		"example. 300 IN NAPTR 100 10 \"U\" \"E2U+sip\" \"!^.*$!sip:info@example!\" .",
		"example. 300 IN DS 12345 8 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE",
		"example. 300 IN TYPE65534 \\# 3 010203",
		`tab\009name.example. 300 IN A 192.0.2.2`,
		`sp\032ace.example. 300 IN TXT "x"`,
		`dot\.in.example. 300 IN A 192.0.2.3`,
	} {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if _, ok := rr.(*dns.RFC3597); ok {
			continue
		}
		if got, want := rdataText(rr), strings.TrimPrefix(rr.String(), rr.Header().String()); got != want {
			t.Errorf("%s: rdataText %q, want %q", s, got, want)
		}
	}
}
