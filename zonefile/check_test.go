package zonefile

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestCheckAsParse: Check finds in records what parsing their canonical
// text finds (line numbers aside), and serves the same records.
func TestCheckAsParse(t *testing.T) {
	zones := map[string]string{
		"valid": `$TTL 300
@ SOA ns1 host 1 3600 900 604800 60
@ NS ns1
ns1 A 127.0.0.1
www A 127.0.0.2
www AAAA ::2
mail MX 10 www
alias CNAME www
*.w TXT "wild"
`,
		"warnings: occluded and TTLs": `$TTL 300
@ SOA ns1 host 1 3600 900 604800 60
@ NS ns1
ns1 A 127.0.0.1
sub NS ns.sub
ns.sub A 127.0.0.3
deep.sub A 127.0.0.4
www 60 A 127.0.0.5
www 120 A 127.0.0.6
`,
		"errors: CNAME and other data, no NS": `$TTL 300
@ SOA ns1 host 1 3600 900 604800 60
ns1 A 127.0.0.1
www CNAME ns1
www A 127.0.0.2
`,
	}
	lineRE := regexp.MustCompile(`(?: \((?:first at )?line \d+\)| at line \d+)`)
	text := func(fs Findings) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.Severity.String()+" "+f.Rule+": "+lineRE.ReplaceAllString(f.Detail, ""))
		}
		return out
	}
	for name, src := range zones {
		t.Run(name, func(t *testing.T) {
			var records []dns.RR
			zp := dns.NewZoneParser(strings.NewReader(src), "check.test.", "")
			for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
				records = append(records, rr)
			}
			if err := zp.Err(); err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := Write(&buf, &Zone{Origin: "check.test.", Records: slices.Clone(records)}); err != nil {
				t.Fatal(err)
			}
			pz, pf, perr := Parse(&buf, "check.test.", "x")
			cz, cf, cerr := Check("check.test", "x", records)
			if (perr == nil) != (cerr == nil) {
				t.Fatalf("Parse error %v, Check error %v", perr, cerr)
			}
			if got, want := text(cf), text(pf); !slices.Equal(got, want) {
				t.Errorf("findings\n got %q\nwant %q", got, want)
			}
			if perr != nil {
				return
			}
			if got, want := fmt.Sprint(cz.Records), fmt.Sprint(pz.Records); got != want {
				t.Errorf("records\n got %s\nwant %s", got, want)
			}
		})
	}
}

// TestCheckLeavesRecordsAlone: giving an RRset one TTL does not change
// the records passed in, which a version still served may share.
func TestCheckLeavesRecordsAlone(t *testing.T) {
	var records []dns.RR
	for _, s := range []string{
		"check.test. 300 SOA ns1.check.test. host.check.test. 1 3600 900 604800 60",
		"check.test. 300 NS ns1.check.test.",
		"ns1.check.test. 300 A 127.0.0.1",
		"www.check.test. 60 A 127.0.0.5",
		"www.check.test. 120 A 127.0.0.6",
	} {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		records = append(records, rr)
	}
	z, _, err := Check("check.test.", "x", slices.Clone(records))
	if err != nil {
		t.Fatal(err)
	}
	if records[4].Header().Ttl != 120 {
		t.Errorf("the record passed in now has TTL %d", records[4].Header().Ttl)
	}
	for _, rr := range z.Records {
		if rr.Header().Name == "www.check.test." && rr.Header().Ttl != 60 {
			t.Errorf("served %s, want TTL 60", rr)
		}
	}
}
