package zonefile

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// legacyParse parses text as parse does and validates it with the
// reference validator.
func legacyParse(t *testing.T, text, origin, display string) (*Zone, Findings, error) {
	t.Helper()
	pos := &position{}
	zp := dns.NewZoneParser(newSliceReader([]byte(text), display, 1, pos), origin, display)
	var entries []legacyEntry
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		line := pos.line
		if !pos.set {
			line = pos.lastLine
		}
		pos.reset()
		if rr.Header().Name == "" {
			// BIND's "no current owner name": the parser, not the
			// validator, refuses the file (see ownerless).
			return nil, nil, fmt.Errorf("%s:%d: no current owner name", display, line)
		}
		entries = append(entries, legacyEntry{rr: rr, file: display, line: line})
	}
	if err := zp.Err(); err != nil {
		return nil, nil, err
	}
	return legacyValidate(origin, display, entries)
}

// randomZone returns a small zone with many chances to break rules.
func randomZone(r *rand.Rand) string {
	owners := []string{"@", "www", "WWW", "Www", "sub", "SUB", "a.sub", "b.a.sub", "x", "X.Y", "y", "*", "out.example.com.", "ns.sub", "\\065bc", "abc", "a\\.b", "deep.x.y"}
	data := map[string][]string{
		"A":         {"127.0.0.1", "127.0.0.2", "127.0.0.1"},
		"AAAA":      {"::1", "2001:db8::1", "0:0::1"},
		"MX":        {"10 mail", "10 MAIL", "20 mail.example.com.", "10 mail.example.org."},
		"TXT":       {"\"a\"", "\"A\"", "\"a\" \"b\"", "\"\\065\""},
		"CNAME":     {"www", "WWW", "target.example.com."},
		"NS":        {"ns1", "NS1", "ns.sub", "ns2.example.com."},
		"SOA":       {"ns1 hostmaster 1 3600 900 604800 300", "NS1 hostmaster 1 3600 900 604800 300", "ns1 h 2 1 1 1 1"},
		"DS":        {"12345 8 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE7C2B9B8A7C3F8F0EFA3A0C0E", "12345 8 2 49fd46e6c4b45c55d4ac69cbd3cd34ac1afe51de7c2b9b8a7c3f8f0efa3a0c0e"},
		"SRV":       {"0 5 80 www", "0 5 80 WWW"},
		"NSEC":      {"www A RRSIG NSEC", "WWW A RRSIG NSEC"},
		"HINFO":     {"\"x\" \"y\"", "\"X\" \"y\""},
		"TYPE65534": {"\\# 3 010203", "\\# 3 0A0B0C", "\\# 3 0a0b0c"},
		"PTR":       {"www", "Www"},
		"RRSIG":     {"A 8 3 3600 20300101000000 20200101000000 12345 example.org. AQID", "A 8 3 3600 20300101000000 20200101000000 12345 EXAMPLE.org. AQID", "AAAA 8 3 3600 20300101000000 20200101000000 12345 example.org. AQID"},
		"DNSKEY":    {"257 3 8 AQID", "256 3 8 AQID"},
		"CAA":       {"0 issue \"ca.example\"", "0 issue \"CA.example\""},
	}
	types := []string{"A", "AAAA", "MX", "TXT", "CNAME", "NS", "SOA", "DS", "SRV", "NSEC", "HINFO", "TYPE65534", "PTR", "RRSIG", "DNSKEY", "CAA"}
	var b strings.Builder
	b.WriteString("$TTL 3600\n")
	if r.IntN(8) != 0 {
		b.WriteString("@ IN SOA ns1 hostmaster 1 3600 900 604800 300\n")
	}
	if r.IntN(8) != 0 {
		b.WriteString("@ IN NS ns1\n")
	}
	n := 3 + r.IntN(25)
	for range n {
		owner := owners[r.IntN(len(owners))]
		typ := types[r.IntN(len(types))]
		ds := data[typ]
		ttl := ""
		switch r.IntN(10) {
		case 0:
			ttl = "60 "
		case 1:
			ttl = "30 "
		case 2:
			if r.IntN(4) == 0 {
				ttl = "2147483648 "
			}
		}
		class := "IN "
		if r.IntN(40) == 0 {
			class = "CH "
		}
		fmt.Fprintf(&b, "%s %s%s%s %s\n", owner, ttl, class, typ, ds[r.IntN(len(ds))])
		if r.IntN(10) == 0 {
			b.WriteString("; comment\n\n")
		}
	}
	return b.String()
}

func TestValidateMatchesLegacy(t *testing.T) {
	var texts []string
	for _, tt := range []string{
		head + "www IN A 127.0.0.2\n",
		head + "www IN CNAME ns1\nwww IN A 127.0.0.2\n",
		head + "www IN A 127.0.0.2\nWWW 60 IN A 127.0.0.2\n",
		head + "sub IN NS ns.sub\nns.sub IN A 127.0.0.3\nx.sub IN TXT \"hidden\"\nsub IN MX 10 ns1\n",
		head + "$GENERATE 1-5 host$ A 127.0.0.$\n$GENERATE 1-5 host$ A 127.0.0.$\n$GENERATE 1-5 host$ CNAME x\n",
		head + "www A\nwww TXT\nwww CNAME\n",
	} {
		texts = append(texts, tt)
	}
	// Big RRsets: above 32 records dns.IsDuplicate is not tried, above 64
	// dedupe keys its candidates by a map.
	for _, size := range []int{31, 33, 40, 70, 100} {
		var b strings.Builder
		b.WriteString(head)
		for i := range size {
			fmt.Fprintf(&b, "big IN NS n%d\nbig IN NS N%d\nbig IN NS n%d\n", i, i, i)
			fmt.Fprintf(&b, "bag IN TXT \"t%d\"\nbag IN TXT \"t%d\"\nbag IN TXT \"T%d\"\n", i%50, i, i)
		}
		texts = append(texts, b.String())
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		texts = append(texts, randomZone(r))
	}
	for i, text := range texts {
		z1, f1, err1 := Parse(strings.NewReader(text), "example.org.", "t.zone")
		z2, f2, err2 := legacyParse(t, text, "example.org.", "t.zone")
		if (err1 == nil) != (err2 == nil) || (err1 != nil && err1.Error() != err2.Error()) {
			if _, syntax := err2.(*dns.ParseError); syntax {
				continue
			}
			t.Fatalf("zone %d: err %v, legacy %v\n%s", i, err1, err2, text)
		}
		if !reflect.DeepEqual(f1, f2) {
			t.Fatalf("zone %d: findings\n%v\nlegacy\n%v\n%s", i, f1, f2, text)
		}
		if (z1 == nil) != (z2 == nil) {
			t.Fatalf("zone %d: zone %v legacy %v", i, z1, z2)
		}
		if z1 == nil {
			continue
		}
		if len(z1.Records) != len(z2.Records) {
			t.Fatalf("zone %d: %d records, legacy %d\n%s", i, len(z1.Records), len(z2.Records), text)
		}
		for k := range z1.Records {
			if a, b := z1.Records[k].String(), z2.Records[k].String(); a != b {
				t.Fatalf("zone %d: record %d %q, legacy %q\n%s", i, k, a, b, text)
			}
		}
	}
}

func TestSortMatchesLegacy(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		text := randomZone(r)
		zp := dns.NewZoneParser(strings.NewReader(text), "example.org.", "")
		var rrs []dns.RR
		for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
			rrs = append(rrs, rr)
		}
		a := append([]dns.RR(nil), rrs...)
		b := append([]dns.RR(nil), rrs...)
		Sort(a)
		legacySort(b)
		for k := range a {
			if a[k] != b[k] {
				t.Fatalf("record %d: %v, legacy %v\n%s", k, a[k], b[k], text)
			}
		}
	}
	for _, p := range [][2]string{{"a.", "B."}, {"a.b.", "b."}, {"x.", "\\065."}, {"a\\.b.c.", "a.b.c."}, {".", "a."}} {
		if got, want := CompareNames(p[0], p[1]), legacyCompareNames(p[0], p[1]); got != want {
			t.Errorf("CompareNames(%q, %q) = %d, legacy %d", p[0], p[1], got, want)
		}
	}
}

// TestBigZoneMatchesLegacy runs zones big enough for the radix sort,
// sorted in parallel buckets in the later rounds.
func TestBigZoneMatchesLegacy(t *testing.T) {
	defer func(n, m int) { parallelRecords, parallelSort = n, m }(parallelRecords, parallelSort)
	parallelRecords = 1000
	r := rand.New(rand.NewPCG(5, 6))
	for round := range 3 {
		if round > 0 {
			parallelSort = 16
		}
		var b strings.Builder
		if round == 0 {
			b.WriteString(randomZone(r))
		}
		for range 800 {
			zone := randomZone(r)
			lines := strings.Split(zone, "\n")
			prefix := fmt.Sprintf("n%d.", r.IntN(400))
			if round == 2 {
				prefix = fmt.Sprintf("host-%d.long-common-label.", r.IntN(400))
			}
			for _, l := range lines[1:] {
				if l == "" || strings.HasPrefix(l, ";") || strings.HasPrefix(l, "@") {
					continue
				}
				// Later rounds leave out what makes errors, so that the
				// zone loads and its records are compared too.
				if round > 0 && (strings.Contains(l, " CH ") || strings.Contains(l, "2147483648") ||
					strings.Contains(l, "SOA") || strings.Contains(l, "CNAME")) {
					continue
				}
				if strings.HasPrefix(l, "out.") {
					b.WriteString(l + "\n")
					continue
				}
				b.WriteString(prefix + l + "\n")
			}
		}
		text := b.String()
		if round > 0 {
			text = head + text
		}
		z1, f1, err1 := Parse(strings.NewReader(text), "example.org.", "t.zone")
		z2, f2, err2 := legacyParse(t, text, "example.org.", "t.zone")
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("round %d: err %v, legacy %v", round, err1, err2)
		}
		if !reflect.DeepEqual(f1, f2) {
			for i := range min(len(f1), len(f2)) {
				if f1[i] != f2[i] {
					t.Fatalf("round %d: finding %d of %d/%d: %v, legacy %v", round, i, len(f1), len(f2), f1[i], f2[i])
				}
			}
			t.Fatalf("round %d: %d findings, legacy %d", round, len(f1), len(f2))
		}
		if z1 != nil {
			if len(z1.Records) != len(z2.Records) {
				t.Fatalf("round %d: %d records, legacy %d", round, len(z1.Records), len(z2.Records))
			}
			for k := range z1.Records {
				if a, b := z1.Records[k].String(), z2.Records[k].String(); a != b {
					t.Fatalf("round %d: record %d %q, legacy %q", round, k, a, b)
				}
			}
		}
		t.Logf("round %d: %d findings, zone loaded: %v", round, len(f1), z1 != nil)

		zp := dns.NewZoneParser(strings.NewReader(text), "example.org.", "")
		var rrs []dns.RR
		for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
			rrs = append(rrs, rr)
		}
		a := append([]dns.RR(nil), rrs...)
		c := append([]dns.RR(nil), rrs...)
		Sort(a)
		legacySort(c)
		for k := range a {
			if a[k] != c[k] {
				t.Fatalf("round %d: sorted record %d: %v, legacy %v", round, k, a[k], c[k])
			}
		}
	}
}

// FuzzValidateMatchesLegacy checks the validator against the reference.
func FuzzValidateMatchesLegacy(f *testing.F) {
	r := rand.New(rand.NewPCG(11, 12))
	for range 5 {
		f.Add(randomZone(r))
	}
	f.Fuzz(func(t *testing.T, text string) {
		_, f1, err1 := Parse(strings.NewReader(text), "example.org.", "t.zone")
		_, f2, err2 := legacyParse(t, text, "example.org.", "t.zone")
		if _, syntax := err2.(*dns.ParseError); syntax || err2 != nil && f2 == nil {
			return
		}
		if (err1 == nil) != (err2 == nil) || !reflect.DeepEqual(f1, f2) {
			t.Fatalf("findings %v (%v), legacy %v (%v)", f1, err1, f2, err2)
		}
	})
}

// TestSinglesMatchLegacy: a zone in which no two consecutive records
// share an owner is sorted without owner runs (sortSingles), on one CPU
// and in parallel buckets; owners that come back later still get their
// records in type order.
func TestSinglesMatchLegacy(t *testing.T) {
	defer func(n, m int) { parallelRecords, parallelSort = n, m }(parallelRecords, parallelSort)
	parallelRecords = 1000
	r := rand.New(rand.NewPCG(7, 8))
	perm := r.Perm(1500)
	var b strings.Builder
	b.WriteString("$TTL 300\n@ SOA ns1 host 1 3600 900 604800 60\nns1 A 127.0.0.1\n@ NS ns1\n")
	for _, typ := range []string{`TXT "t"`, "AAAA ::1", "A 127.0.0.2"} {
		for _, i := range perm {
			fmt.Fprintf(&b, "h%d.s%d %s\n", i, i%7, typ)
		}
	}
	text := b.String()
	for _, ps := range []int{1 << 30, 16} {
		parallelSort = ps
		z1, _, err := Parse(strings.NewReader(text), "example.org.", "t.zone")
		if err != nil {
			t.Fatal(err)
		}
		z2, _, err := legacyParse(t, text, "example.org.", "t.zone")
		if err != nil {
			t.Fatal(err)
		}
		if len(z1.Records) != len(z2.Records) {
			t.Fatalf("parallelSort %d: %d records, legacy %d", ps, len(z1.Records), len(z2.Records))
		}
		for k := range z1.Records {
			if a, b := z1.Records[k].String(), z2.Records[k].String(); a != b {
				t.Fatalf("parallelSort %d: record %d %q, legacy %q", ps, k, a, b)
			}
		}
	}
}
