package zonefile

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// parseRRs reads zone text into records.
func parseRRs(t *testing.T, origin, text string) []dns.RR {
	t.Helper()
	var out []dns.RR
	zp := dns.NewZoneParser(strings.NewReader(text), origin, "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		out = append(out, rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// RFC 8976 Appendix A.1, whose digest the RFC gives.
const rfc8976Simple = `
example.      86400  IN  SOA     ns1 admin 2018031900 1800 900 604800 86400
              86400  IN  NS      ns1
              86400  IN  NS      ns2
              86400  IN  ZONEMD  2018031900 1 1 c68090d90a7aed716bc459f9340e3d7c1370d4d24b7e2fc3a1ddc0b9a87153b9a9713b3c9ae5cc27777f98b8e730044c
ns1           3600   IN  A       203.0.113.63
ns2           3600   IN  AAAA    2001:db8::63
`

func TestZONEMDAppendixA1(t *testing.T) {
	const want = "c68090d90a7aed716bc459f9340e3d7c1370d4d24b7e2fc3a1ddc0b9a87153b9a9713b3c9ae5cc27777f98b8e730044c"
	rrs := parseRRs(t, "example.", rfc8976Simple)
	got, err := ZONEMD("example.", rrs)
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(got) != want {
		t.Errorf("digest %x, want %s", got, want)
	}
	// Order, letter case, duplicates and out-of-zone data change nothing;
	// the records are left as they were.
	more := parseRRs(t, "example.", `
NS2.Example.  3600   IN  AAAA    2001:db8::63
example.      86400  IN  NS      NS2.example.
foo.test.     300    IN  TXT     "not in the zone"
ns1           3600   IN  A       203.0.113.63
`)
	mixed := append(more, rrs...)
	first := mixed[0].Header().Name
	if got, _ := ZONEMD("EXAMPLE", mixed); hex.EncodeToString(got) != want {
		t.Errorf("shuffled, mixed case, duplicated: digest %x, want %s", got, want)
	}
	if mixed[0].Header().Name != first {
		t.Error("ZONEMD changed its input")
	}
	// Any change of content does.
	changed := parseRRs(t, "example.", strings.Replace(rfc8976Simple, "203.0.113.63", "203.0.113.64", 1))
	if got, _ := ZONEMD("example.", changed); hex.EncodeToString(got) == want {
		t.Error("a changed address kept the digest")
	}
	ttl := parseRRs(t, "example.", strings.Replace(rfc8976Simple, "3600   IN  A", "3601 IN A", 1))
	if got, _ := ZONEMD("example.", ttl); hex.EncodeToString(got) == want {
		t.Error("a changed TTL kept the digest")
	}
}

func TestZONEMDHashOrder(t *testing.T) {
	rrs := parseRRs(t, "example.", rfc8976Simple)
	h := NewZONEMDHash("example.")
	for i := len(rrs) - 1; i >= 0; i-- {
		h.Add(rrs[i])
	}
	if _, err := h.Sum(); err == nil || !strings.Contains(err.Error(), "canonical order") {
		t.Errorf("records out of canonical order: %v", err)
	}
}
