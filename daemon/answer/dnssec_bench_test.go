package answer

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// BenchmarkRespondSigned answers DO=1 queries from the test zone signed
// with NSEC and with NSEC3, as BenchmarkRespond does unsigned ones: full
// is the lookup, proofs and packing with signatures every time, fast the
// warm ready-answer cache. An NSEC3 NXDOMAIN or wildcard answer hashes
// its next closer name on the full path (nsec3.go).
func BenchmarkRespondSigned(b *testing.B) {
	queries := []struct {
		label string
		name  string
		qtype uint16
	}{
		{"exact", "www.signed.test.", dns.TypeA},
		{"nodata", "www.signed.test.", dns.TypeMX},
		{"nxdomain", "nothere.signed.test.", dns.TypeA},
		{"wildcard", "foo.wild.signed.test.", dns.TypeA},
		{"referral", "www.insecure.signed.test.", dns.TypeA},
	}
	for _, chain := range []struct {
		name string
		args []string
	}{{"nsec", nil}, {"nsec3", []string{"-3", "-", "-H", "0"}}} {
		z, _ := signZone(b, "signed.test.", chain.args...)
		zs := NewZones()
		zs.Set(mustCompile(b, z))
		for _, mode := range []string{"full", "fast"} {
			for _, c := range queries {
				b.Run(chain.name+"/"+mode+"/"+c.label, func(b *testing.B) {
					q := question(c.name, c.qtype)
					q.SetEdns0(1232, true)
					in, _ := q.Pack()
					r := newResponder(zs, 1232, false)
					if mode == "fast" {
						r.ready = -1
						r.Respond(in, false)
						q.Question[0].Name = strings.ToUpper(c.name[:3]) + c.name[3:]
						in, _ = q.Pack()
					}
					b.ReportAllocs()
					for b.Loop() {
						if r.Respond(in, false) == nil {
							b.Fatal("no reply")
						}
					}
				})
			}
		}
	}
}
