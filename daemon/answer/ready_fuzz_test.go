package answer

import (
	"bytes"
	"testing"

	"github.com/miekg/dns"
)

// FuzzReady feeds arbitrary messages to a responder with the fast path
// on, each twice and once more with its question name in upper case, and
// to one with it off: the replies must be the same bytes, so that
// whatever a query holds, the cache answers it as the full path would.
func FuzzReady(f *testing.F) {
	zs := testZones(f)
	for _, c := range []readyQuery{
		{name: "www.example.org.", qtype: dns.TypeA, edns: 1232},
		{name: "x.wild.example.org.", qtype: dns.TypeTXT, do: true, edns: 4096},
		{name: "alias.example.org.", qtype: dns.TypeA},
		{name: "big.example.org.", qtype: dns.TypeTXT, edns: 512},
		{name: "deleg.example.org.", qtype: dns.TypeNS, edns: 1232, rd: true},
		{name: "nx.example.org.", qtype: dns.TypeMX, class: dns.ClassANY},
		{name: "www.example.org.", qtype: dns.TypeA, edns: 1232, opt: &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"}},
	} {
		f.Add(c.pack(f, 1), false)
		f.Add(c.pack(f, 2), true)
	}
	fast, ref := fastResponder(zs, false), newResponder(zs, 1232, false)
	f.Fuzz(func(t *testing.T, in []byte, tcp bool) {
		check := func(in []byte) {
			want := bytes.Clone(ref.Respond(in, tcp))
			for range 2 {
				if got := fast.Respond(in, tcp); !bytes.Equal(got, want) {
					t.Fatalf("query %x (tcp %t): the fast path replied\n%x\nthe full path\n%x", in, tcp, got, want)
				}
			}
		}
		check(in)
		if len(ref.q.qname) > 0 && bytes.Equal(ref.q.qname, in[headerLen:headerLen+len(ref.q.qname)]) {
			upper := bytes.Clone(in)
			name := upper[headerLen : headerLen+len(ref.q.qname)]
			for i, b := range name {
				if b >= 'a' && b <= 'z' {
					name[i] = b - 'a' + 'A'
				}
			}
			check(upper)
		}
	})
}
