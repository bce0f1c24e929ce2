package zonefile

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// builderZone holds what the rules keep, drop and change: a record
// outside the zone, occluded data, a duplicate, TTLs that differ within
// an RRset, mixed case, and a type miekg/dns packs generically.
const builderZone = `$TTL 300
@ SOA ns1 host 7 3600 900 604800 60
@ NS ns1
ns1 A 127.0.0.1
WWW A 127.0.0.2
www 60 A 127.0.0.3
www A 127.0.0.2
sub NS ns.sub
ns.sub A 127.0.0.4
deep.sub A 127.0.0.5
outside.example. A 127.0.0.6
t TYPE65280 \# 2 abcd
`

func builderRecords(t *testing.T, src string) []dns.RR {
	t.Helper()
	var out []dns.RR
	zp := dns.NewZoneParser(strings.NewReader(src), "build.test.", "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		out = append(out, rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBuilderAsCheck: records added one at a time come out as Check
// serves them (records, findings, digest), and WritePacked writes the
// text Write does.
func TestBuilderAsCheck(t *testing.T) {
	records := builderRecords(t, builderZone)
	want, wantFindings, err := Check("build.test.", "transfer", records)
	if err != nil {
		t.Fatal(err)
	}
	var b Builder
	for _, rr := range records {
		b.Add(rr)
	}
	if b.Len() != len(records) {
		t.Fatalf("Len %d, want %d", b.Len(), len(records))
	}
	got, findings, err := b.Finish("build.test", "transfer")
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() != 0 {
		t.Errorf("the builder holds %d records after Finish", b.Len())
	}
	if !slices.Equal(findings.Warnings(), wantFindings.Warnings()) {
		t.Errorf("findings %v, want %v", findings, wantFindings)
	}
	wantPacked, err := PackZone(want)
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest() != wantPacked.Digest() || got.Len() != len(want.Records) {
		t.Fatalf("%d records, digest differs from Check's %d", got.Len(), len(want.Records))
	}
	var wantText, gotText bytes.Buffer
	if err := Write(&wantText, want); err != nil {
		t.Fatal(err)
	}
	if err := WritePacked(&gotText, got); err != nil {
		t.Fatal(err)
	}
	if gotText.String() != wantText.String() {
		t.Errorf("WritePacked:\n%s\nWrite:\n%s", gotText.String(), wantText.String())
	}
	z, err := got.Zone()
	if err != nil {
		t.Fatal(err)
	}
	for i, rr := range z.Records {
		if rr.String() != want.Records[i].String() {
			t.Errorf("Zone record %d: %s, want %s", i, rr, want.Records[i])
		}
	}
}

// TestBuilderRefuses: a zone the rules refuse is refused with their
// errors, as by Check.
func TestBuilderRefuses(t *testing.T) {
	var b Builder
	for _, rr := range builderRecords(t, "$TTL 300\n@ SOA ns1 host 1 3600 900 604800 60\nns1 A 127.0.0.1\n") {
		b.Add(rr)
	}
	_, _, err := b.Finish("build.test.", "transfer")
	var inv *InvalidError
	if !errors.As(err, &inv) || inv.Errors[0].Rule != RuleNSMissing {
		t.Fatalf("Finish: %v, want the NS-missing error", err)
	}
}
