package zonefile

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// chunkyZone returns a zone with the constructs the chunk pre-scan must
// follow: $ORIGIN and $TTL changes, multi-line records, comments,
// quoted strings with parentheses and semicolons, blank owners, escapes.
func chunkyZone(r *rand.Rand, records int) string {
	var b strings.Builder
	b.WriteString("$TTL 3600\n@ IN SOA ns1 hostmaster ( 1 ; serial\n 3600 900\n 604800 300 )\n@ IN NS ns1\nns1 IN A 127.0.0.1\n")
	for i := range records {
		switch r.IntN(14) {
		case 0:
			fmt.Fprintf(&b, "$ORIGIN s%d.example.org.\n", r.IntN(5))
		case 1:
			fmt.Fprintf(&b, "$TTL %d ; new default\n", 60+r.IntN(100))
		case 2:
			fmt.Fprintf(&b, "m%d IN TXT ( \"a (\" ; comment )\n  \"b ; c\" )\n", i)
		case 3:
			fmt.Fprintf(&b, "m%d IN TXT \"quote \\\" and ( paren\"\n", i)
		case 4:
			fmt.Fprintf(&b, "  IN AAAA ::%x\n", i&0xffff)
		case 5:
			b.WriteString("; a comment ( with \" odd things\n\n")
		case 6:
			fmt.Fprintf(&b, "e\\.%d 120 IN A 127.0.0.%d\n", i, i%250)
		case 7:
			fmt.Fprintf(&b, "$ORIGIN example.org.\n")
		case 8:
			fmt.Fprintf(&b, "w%d IN MX ( 10\n mail )\n", i)
		default:
			fmt.Fprintf(&b, "h%d IN A 127.0.%d.%d\n", i, i>>8&255, i&255)
		}
	}
	return b.String()
}

func TestChunksMatchOneParser(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for round := range 20 {
		text := chunkyZone(r, 2000+r.IntN(2000))
		data := []byte(text)
		got, ok := chunked(data, 1+round%3, 1000+r.IntN(5000), round%2 == 0)
		if !ok {
			t.Fatalf("round %d: not parsed in chunks", round)
		}
		want := parseOne(t, text)
		if len(got) != len(want) {
			t.Fatalf("round %d: %d records, one parser %d", round, len(got), len(want))
		}
		for i := range got {
			if !samePlaced(t, got[i], want[i]) || got[i].line != want[i].line || got[i].file != 0 {
				t.Fatalf("round %d record %d: %v line %d, one parser %v line %d", round, i, got[i].rr, got[i].line, want[i].rr, want[i].line)
			}
		}
	}
}

// parseOne parses text with one parser, as parse's fallback does.
func parseOne(t *testing.T, text string) []placed {
	t.Helper()
	pos := &position{}
	zp := dns.NewZoneParser(newSliceReader([]byte(text), "t.zone", 1, pos), "example.org.", "t.zone")
	var out []placed
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		out = append(out, placed{rr: rr, line: int32(pos.line)})
		pos.reset()
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestWrittenZoneChunks checks that what Write writes (no $TTL, a TTL
// on every record, as secondaries store transferred zones) is parsed in
// chunks too.
func TestWrittenZoneChunks(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	z, _, err := Parse(strings.NewReader(chunkyZone(r, 5000)), "example.org.", "t.zone")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := Write(&b, z); err != nil {
		t.Fatal(err)
	}
	got, ok := chunked([]byte(b.String()), 2, 4000, false)
	if !ok {
		t.Fatal("written zone not parsed in chunks")
	}
	want := parseOne(t, b.String())
	if len(got) != len(want) {
		t.Fatalf("%d records, one parser %d", len(got), len(want))
	}
	for i := range got {
		if !samePlaced(t, got[i], want[i]) || got[i].line != want[i].line {
			t.Fatalf("record %d: %v line %d, one parser %v line %d", i, got[i].rr, got[i].line, want[i].rr, want[i].line)
		}
	}
}

func TestChunksRefused(t *testing.T) {
	body := strings.Repeat("h IN A 127.0.0.1\n", 2000)
	for name, text := range map[string]string{
		"no ttl":      "@ 60 IN SOA ns1 h 1 1 1 1 1\n" + body,
		"include":     "$TTL 60\n" + body + "$INCLUDE x\n" + body,
		"generate":    "$TTL 60\n" + body + "$GENERATE 1-3 a$ A 127.0.0.1\n" + body,
		"indented":    "$TTL 60\n" + body + "  $ORIGIN x.\n" + body,
		"open quote":  "$TTL 60\n" + body + "x IN TXT \"a\nb\"\n" + body,
		"end escape":  "$TTL 60\n" + body + "x IN TXT a\\\n" + body,
		"syntax":      "$TTL 60\n" + body + "x IN A 1.2.3\n" + body,
		"odd origin":  "$TTL 60\n" + body + "$ORIGIN a\\.b.\n" + body,
		"extra token": "$TTL 60 60\n" + body,
		"ttl missing": "a 60 IN A 127.0.0.1\n" + body + "$TTL 60\n" + body,
		"blank owner": "a 60 IN A 127.0.0.1\n" + strings.Repeat("  IN A 127.0.0.2\n", 2000),
	} {
		if _, ok := parseInChunks([]byte(text), "example.org.", "t.zone", 2, 1000, false); ok {
			t.Errorf("%s: parsed in chunks", name)
		}
	}
}

// TestChunkedLoadFindings checks that a big zone loads in chunks with
// findings placed as the one parser places them.
func TestChunkedLoadFindings(t *testing.T) {
	defer func(p, c int) { parallelMin, chunkMin = p, c }(parallelMin, chunkMin)
	parallelMin, chunkMin = 64<<10, 8<<10
	r := rand.New(rand.NewPCG(9, 10))
	text := chunkyZone(r, 20_000) + "dup IN A 127.0.0.9\nDUP IN A 127.0.0.9\n"
	if _, ok := parseChunks([]byte(text), "example.org.", "t.zone", false); !ok && runtime.GOMAXPROCS(0) > 1 {
		t.Fatal("zone not parsed in chunks")
	}
	z1, f1, err1 := Parse(strings.NewReader(text), "example.org.", "t.zone")
	z2, f2, err2 := legacyParse(t, text, "example.org.", "t.zone")
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if fmt.Sprint(f1) != fmt.Sprint(f2) || len(f1) == 0 {
		t.Fatalf("findings %v, legacy %v", f1, f2)
	}
	if len(z1.Records) != len(z2.Records) {
		t.Fatalf("%d records, legacy %d", len(z1.Records), len(z2.Records))
	}
}

// FuzzChunks checks that whenever the pre-scan vouches for a cut, the
// chunks parse to what one parser reads, records and lines alike.
func FuzzChunks(f *testing.F) {
	f.Add("$TTL 60\na IN A 127.0.0.1\nb IN TXT \"x ( ;\"\nc IN MX ( 10\n m )\nd IN A 127.0.0.2\n", 10)
	f.Add("$TTL 60\n$ORIGIN s.example.org.\na IN A 127.0.0.1\n IN AAAA ::1\nb IN A 127.0.0.2\n", 5)
	f.Add("$TTL 60\na IN TXT \"a\\\"\"\nb IN A 127.0.0.2\n; c\nc IN A 127.0.0.3\n", 1)
	f.Add("a 60 IN A 127.0.0.1\n  70 IN AAAA ::1\nb 80 IN A 127.0.0.2\n$TTL 5\nc IN A 127.0.0.3\n", 3)
	f.Fuzz(func(t *testing.T, text string, size int) {
		if size < 1 || size > 1<<20 {
			return
		}
		got, ok := chunked([]byte(text), 2, size, size%2 == 0)
		if !ok {
			return
		}
		pos := &position{}
		zp := dns.NewZoneParser(newSliceReader([]byte(text), "t.zone", 1, pos), "example.org.", "t.zone")
		var want []placed
		for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
			want = append(want, placed{rr: rr, line: int32(pos.line)})
			pos.reset()
		}
		if err := zp.Err(); err != nil {
			t.Fatalf("chunks parsed, one parser fails: %v", err)
		}
		if len(got) != len(want) {
			t.Fatalf("%d records, one parser %d", len(got), len(want))
		}
		for i := range got {
			if !samePlaced(t, got[i], want[i]) || got[i].line != want[i].line {
				t.Fatalf("record %d: %v line %d, one parser %v line %d", i, got[i].rr, got[i].line, want[i].rr, want[i].line)
			}
		}
	})
}

// placed is a record with the place it was parsed from.
type placed struct {
	rr         dns.RR
	file, line int32
}

// chunked parses data in chunks of origin example.org. and returns its
// records, read back from the packed entries unless rich.
func chunked(data []byte, workers, size int, rich bool) ([]placed, bool) {
	p, ok := parseInChunks(data, "example.org.", "t.zone", workers, size, rich)
	if !ok {
		return nil, false
	}
	out := make([]placed, len(p.entries))
	for i, e := range p.entries {
		out[i] = placed{rr: p.rr(uint32(i)), file: e.file, line: e.line}
	}
	return out, true
}

// samePlaced reports whether two records have the same wire form.
func samePlaced(t *testing.T, a, b placed) bool {
	return wire(t, a.rr) == wire(t, b.rr)
}
