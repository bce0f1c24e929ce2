package answer

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"zonekeeper/zonefile"
)

// servedRecord is one record as eachRecord yields it, comparable.
type servedRecord struct {
	owner        string // wire format
	rtype, class uint16
	ttl          uint32
	rdata        string
}

func (r servedRecord) String() string {
	return fmt.Sprintf("%x %d %d %d %x", r.owner, r.rtype, r.class, r.ttl, r.rdata)
}

// served collects what s.eachRecord yields.
func served(s *Snapshot) []servedRecord {
	var out []servedRecord
	s.EachRecord(func(owner []byte, rtype, class uint16, ttl uint32, rdata []byte) bool {
		out = append(out, servedRecord{string(owner), rtype, class, ttl, string(rdata)})
		return true
	})
	return out
}

// packed returns rrs as eachRecord would yield them: owner and rdata in
// uncompressed wire format.
func packed(t *testing.T, rrs []dns.RR) []servedRecord {
	t.Helper()
	buf := make([]byte, MaxMsgLen)
	var out []servedRecord
	for _, rr := range rrs {
		end, err := dns.PackRR(rr, buf, 0, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		l := NameLen(buf)
		h := rr.Header()
		out = append(out, servedRecord{string(buf[:l]), h.Rrtype, h.Class, h.Ttl, string(buf[l+10 : end])})
	}
	return out
}

// mixedZone has mixed-case names, empty non-terminals and RRsets of
// several records.
func mixedZone(t testing.TB) *zonefile.Zone {
	return testZone(t, "Mixed.TEST.",
		"@ SOA NS1 Host 5 1 1 1 1",
		"@ NS NS1",
		"@ NS ns2.Mixed.test.",
		"NS1 A 192.0.2.1",
		"ns2.MIXED.test. AAAA 2001:db8::1",
		"Www A 192.0.2.2",
		"www AAAA 2001:db8::2",
		"B.c.D A 192.0.2.3",
		"X.d MX 5 NS1",
		"X.d MX 6 ns2",
		"*.W CNAME Www",
		"del NS ns.DEL",
		"ns.Del A 192.0.2.9",
		"s SRV 1 2 3 Www",
	)
}

// TestEachRecord: the compact form gives back every record of a zone in
// canonical order, as the zone it was compiled from holds them.
func TestEachRecord(t *testing.T) {
	for _, z := range []*zonefile.Zone{exampleOrg(t), mixedZone(t), bigZone(300)} {
		zonefile.Sort(z.Records)
		s := mustCompile(t, z)
		got, want := served(s), packed(t, z.Records)
		// A name has one spelling in the compact form: that of its first
		// record.
		for i := range min(len(got), len(want)) {
			if strings.EqualFold(got[i].owner, want[i].owner) {
				got[i].owner = want[i].owner
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: eachRecord differs from the zone's records:\n got %v\nwant %v", z.Origin, got, want)
		}
		if s.Len() != len(want) {
			t.Errorf("%s: Len %d, the zone has %d records", z.Origin, s.Len(), len(want))
		}
		n := 0
		s.EachRecord(func([]byte, uint16, uint16, uint32, []byte) bool { n++; return n < 3 })
		if n != 3 {
			t.Errorf("%s: eachRecord went on after fn returned false: %d calls", z.Origin, n)
		}
	}
}

// TestCompileOrder: a zone whose records are not in canonical order
// compiles to the same answers, and eachRecord still walks it in
// canonical order.
func TestCompileOrder(t *testing.T) {
	// Ways to disorder sorted records: Compile notices at the first name
	// out of order, early or late, and goes on with the index.
	disorder := []func([]dns.RR){
		func(rrs []dns.RR) {
			rng := rand.New(rand.NewPCG(1, 2))
			rng.Shuffle(len(rrs), func(i, j int) { rrs[i], rrs[j] = rrs[j], rrs[i] })
		},
		func(rrs []dns.RR) { slices.Reverse(rrs) },
		func(rrs []dns.RR) { copy(rrs, append(rrs[len(rrs)-1:], rrs[:len(rrs)-1]...)) },
		func(rrs []dns.RR) {
			// The last owner before the one ahead of it.
			last := rrs[len(rrs)-1].Header().Name
			i := slices.IndexFunc(rrs, func(rr dns.RR) bool { return strings.EqualFold(rr.Header().Name, last) })
			j := i - 1
			for j > 0 && strings.EqualFold(rrs[j-1].Header().Name, rrs[i-1].Header().Name) {
				j--
			}
			moved := slices.Clone(rrs[i:])
			copy(rrs[j+len(moved):], slices.Clone(rrs[j:i]))
			copy(rrs[j:], moved)
		},
	}
	for _, mk := range []func(testing.TB) *zonefile.Zone{exampleOrg, mixedZone} {
		for _, disorderly := range disorder {
			compareCompiled(t, mk, disorderly)
		}
	}
}

// compareCompiled compiles a zone from mk in canonical order and after
// disorderly has changed the order of its records, and compares them.
func compareCompiled(t *testing.T, mk func(testing.TB) *zonefile.Zone, disorderly func([]dns.RR)) {
	sortedZone, shuffled := mk(t), mk(t)
	zonefile.Sort(sortedZone.Records)
	zonefile.Sort(shuffled.Records)
	disorderly(shuffled.Records)
	a, b := mustCompile(t, sortedZone), mustCompile(t, shuffled)
	if len(a.nodes) != len(b.nodes) {
		t.Fatalf("%s: %d nodes sorted, %d shuffled", a.origin, len(a.nodes), len(b.nodes))
	}
	// RRsets of several records may keep another order: compare
	// record sets, and the order of owners and types.
	ga, gb := served(a), served(b)
	for _, g := range [][]servedRecord{ga, gb} {
		for i := range g {
			g[i].owner = strings.ToLower(g[i].owner)
		}
	}
	key := func(r servedRecord) string { return r.String() }
	sa, sb := slices.Clone(ga), slices.Clone(gb)
	slices.SortFunc(sa, func(x, y servedRecord) int { return strings.Compare(key(x), key(y)) })
	slices.SortFunc(sb, func(x, y servedRecord) int { return strings.Compare(key(x), key(y)) })
	if !slices.Equal(sa, sb) {
		t.Errorf("%s: shuffled zone serves other records", a.origin)
	}
	for i := range ga {
		if ga[i].owner != gb[i].owner || ga[i].rtype != gb[i].rtype {
			t.Errorf("%s: record %d: %v in canonical order, %v from the shuffled zone", a.origin, i, ga[i], gb[i])
			break
		}
	}
	for _, rr := range sortedZone.Records {
		key, _ := WireName(rr.Header().Name)
		LowerInPlace(key)
		na, nb := a.lookup(key), b.lookup(key)
		if na < 0 || nb < 0 || a.nodes[na].nsets != b.nodes[nb].nsets || (a.nodes[na].cut < 0) != (b.nodes[nb].cut < 0) {
			t.Errorf("%s: %s: node %d sorted, %d shuffled", a.origin, rr.Header().Name, na, nb)
		}
	}
}

// TestCompareNames checks the canonical order of RFC 4034 §6.1 on its
// own example.
func TestCompareNames(t *testing.T) {
	names := []string{"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.",
		"zABC.a.EXAMPLE.", "z.example.", "\\001.z.example.", "*.z.example.", "\\200.z.example."}
	var keys [][]byte
	for _, n := range names {
		w, err := WireName(n)
		if err != nil {
			t.Fatal(err)
		}
		LowerInPlace(w)
		keys = append(keys, w)
	}
	for i := range keys {
		for j := range keys {
			got, want := compareNames(keys[i], keys[j]), cmp.Compare(i, j)
			if cmp.Compare(got, 0) != want {
				t.Errorf("compareNames(%s, %s) = %d, want sign of %d", names[i], names[j], got, want)
			}
		}
	}
}
