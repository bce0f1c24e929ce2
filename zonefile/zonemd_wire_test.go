package zonefile

import (
	"bytes"
	"testing"

	"github.com/miekg/dns"
)

// wireOf packs rr uncompressed, as a snapshot hands records out.
func wireOf(t testing.TB, rr dns.RR) []byte {
	buf := make([]byte, dns.Len(rr)+256)
	n, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n]
}

// TestZONEMDWireMatchesRR: the wire path gives the digest the dns.RR
// path gives, for every type whose data holds names (lowered in place or
// handed to the dns.RR path) and for names in mixed case.
func TestZONEMDWireMatchesRR(t *testing.T) {
	const extra = `
@        IN NAPTR 100 10 "S" "SIP+D2U" "" _Sip._udp.Digest.test.
@        IN RP   Admin.Digest.test. Txt.Digest.Test.
@        IN AFSDB 1 AFS.digest.test.
kx       IN KX   5 Mail.Digest.test.
dn       IN DNAME Target.Example.
www      IN RRSIG CNAME 13 3 300 20270101000000 20261201000000 12345 Digest.Test. AAAA
@        IN RRSIG ZONEMD 13 2 300 20270101000000 20261201000000 12345 digest.test. AAAA
@        IN ZONEMD 7 1 1 616c6c6f776564206275742069676e6f7265642e20616c6c6f776564206275742069676e6f7265642e20616c6c6f7765
`
	for _, z := range []struct{ origin, text string }{
		{"example.", rfc8976Simple},
		{"digest.test.", knotZONEMDZone + extra},
	} {
		rrs := parseRRs(t, z.origin, z.text)
		want, err := ZONEMD(z.origin, rrs)
		if err != nil {
			t.Fatal(err)
		}
		sorted := append([]dns.RR(nil), rrs...)
		Sort(sorted)
		h := NewZONEMDHash(z.origin)
		for _, rr := range sorted {
			h.AddWire(wireOf(t, rr))
		}
		got, err := h.Sum()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: wire path %x, dns.RR path %x", z.origin, got, want)
		}
	}
}

// TestZONEMDWireAllocs: records of the common types cost no allocation
// once the buffers have grown.
func TestZONEMDWireAllocs(t *testing.T) {
	a := wireOf(t, &dns.A{Hdr: dns.RR_Header{Name: "Host.example.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300}, A: []byte{127, 0, 0, 1}})
	mx := wireOf(t, &dns.MX{Hdr: dns.RR_Header{Name: "Host.example.", Rrtype: dns.TypeMX, Class: dns.ClassINET, Ttl: 300}, Preference: 10, Mx: "Mail.example."})
	h := NewZONEMDHash("example.")
	h.AddWire(a)
	h.AddWire(mx)
	allocs := testing.AllocsPerRun(1000, func() {
		h.AddWire(a)
		h.AddWire(mx)
	})
	if allocs > 0.1 {
		t.Errorf("%.2f allocations per two records", allocs)
	}
}
