package answer

import (
	"context"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/zonefile"
)

// signedSource is the zone the tests of this file sign: a wildcard, a
// CNAME, an empty non-terminal, delegations with and without DS, and a
// TXT RRset that fits 512 octets only without its signature.
var signedSource = []string{
	"$TTL 3600",
	"@ SOA ns1 hostmaster 1 7200 3600 1209600 300",
	"@ NS ns1",
	"@ MX 10 mail",
	"ns1 A 127.0.0.1",
	"mail A 127.0.0.3",
	"mail AAAA ::3",
	"www A 127.0.0.4",
	"alias CNAME www",
	"*.wild A 127.0.0.5",
	"a.b.ent A 127.0.0.6",
	"secure NS ns.secure",
	"secure DS 31589 13 2 4BEB8EA7B4E5E5D6F8B5B1A6E4C1B1D8C7A4F2B3E1D0C9B8A7F6E5D4C3B2A190",
	"ns.secure A 127.0.0.7",
	"insecure NS ns.insecure",
	"ns.insecure A 127.0.0.8",
	`big TXT "` + strings.Repeat("x", 200) + `" "` + strings.Repeat("y", 200) + `"`,
}

// signZone writes signedSource for origin, signs it with dnssec-signzone
// (args choose NSEC3) and keys made here, and returns the signed zone
// and its DNSKEY RRset.
func signZone(t testing.TB, origin string, args ...string) (*zonefile.Zone, []dns.RR) {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "src.zone")
	if err := os.WriteFile(src, []byte("$ORIGIN "+origin+"\n"+strings.Join(signedSource, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run := func(name string, a ...string) {
		cmd := exec.CommandContext(ctx, name, a...)
		cmd.Dir = dir
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(a, " "), err, b)
		}
	}
	run("dnssec-keygen", "-q", "-K", dir, "-a", "ECDSAP256SHA256", "-f", "KSK", origin)
	run("dnssec-keygen", "-q", "-K", dir, "-a", "ECDSAP256SHA256", origin)
	out := filepath.Join(dir, "signed.zone")
	run("dnssec-signzone", append(append([]string{"-q", "-S", "-K", dir, "-o", origin, "-f", out}, args...), src)...)
	z, _, err := zonefile.Load(out, origin)
	if err != nil {
		t.Fatal(err)
	}
	var keys []dns.RR
	for _, rr := range z.Records {
		if rr.Header().Rrtype == dns.TypeDNSKEY {
			keys = append(keys, rr)
		}
	}
	return z, keys
}

// askSigned asks r name/qtype with EDNS and the DO bit as given, with CD
// set, and returns the reply.
func askSigned(t *testing.T, r *Responder, name string, qtype uint16, do bool, size uint16) *dns.Msg {
	t.Helper()
	q := question(name, qtype)
	q.CheckingDisabled = true
	q.SetEdns0(size, do)
	return ask(t, r, q, false)
}

// verifyAll checks every RRSIG of m against the RRset it covers in its
// section with keys, and that every other RRset (but glue) is covered.
func verifyAll(t *testing.T, m *dns.Msg, keys []dns.RR) {
	t.Helper()
	for _, sec := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		sets := map[[2]string][]dns.RR{}
		var sigs []*dns.RRSIG
		for _, rr := range sec {
			h := rr.Header()
			switch v := rr.(type) {
			case *dns.RRSIG:
				sigs = append(sigs, v)
			case *dns.OPT:
			default:
				k := [2]string{strings.ToLower(h.Name), dns.TypeToString[h.Rrtype]}
				sets[k] = append(sets[k], rr)
			}
		}
		signed := map[[2]string]bool{}
		for _, sig := range sigs {
			k := [2]string{strings.ToLower(sig.Hdr.Name), dns.TypeToString[sig.TypeCovered]}
			set := sets[k]
			if len(set) == 0 {
				t.Errorf("%v: RRSIG without its RRset: %v", m.Question, sig)
				continue
			}
			ok := false
			for _, key := range keys {
				if k := key.(*dns.DNSKEY); k.KeyTag() == sig.KeyTag && sig.Verify(k, set) == nil {
					ok = true
				}
			}
			if !ok {
				t.Errorf("%v: RRSIG does not verify: %v over %v", m.Question, sig, set)
			}
			signed[k] = true
		}
		for k := range sets {
			if !signed[k] && !(k[1] == "NS" && !m.Authoritative) && !strings.Contains(k[0], "secure.") {
				t.Errorf("%v: %v sent without its RRSIG", m.Question, k)
			}
		}
	}
}

// types lists the types of rrs, RRSIGs by what they cover, in order.
func types(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		switch v := rr.(type) {
		case *dns.OPT:
		case *dns.RRSIG:
			out = append(out, "RRSIG/"+dns.TypeToString[v.TypeCovered])
		default:
			out = append(out, dns.TypeToString[rr.Header().Rrtype])
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestSignedAnswers asks a zone signed with NSEC, NSEC3 and NSEC3 with
// opt-out, with the fast path on: DO answers carry valid signatures and
// the proofs of RFC 4035 §3.1 and RFC 5155 §7.2; DO=0 answers carry
// nothing DNSSEC-only; CD is echoed and AD never set.
func TestSignedAnswers(t *testing.T) {
	const origin = "signed.test."
	for _, v := range []struct {
		name  string
		args  []string
		proof string // the denial type
	}{
		{"nsec", nil, "NSEC"},
		{"nsec3", []string{"-3", "ab12", "-H", "1"}, "NSEC3"},
		{"nsec3-optout", []string{"-3", "-", "-H", "0", "-A"}, "NSEC3"},
	} {
		t.Run(v.name, func(t *testing.T) {
			z, keys := signZone(t, origin, v.args...)
			zs := NewZones()
			zs.Set(mustCompile(t, z))
			r := NewResponder(zs, ResponderConfig{UDPSize: 1232, Ready: -1})
			cases := []struct {
				name      string
				qtype     uint16
				rcode     int
				answer    []string // types, sorted, RRSIGs by what they cover
				authority []string
			}{
				{"www", dns.TypeA, dns.RcodeSuccess, []string{"A", "RRSIG/A"}, nil},
				{"@", dns.TypeDNSKEY, dns.RcodeSuccess, []string{"DNSKEY", "RRSIG/DNSKEY"}, nil},
				{"nothere", dns.TypeA, dns.RcodeNameError, nil, []string{v.proof, "RRSIG/" + v.proof, "RRSIG/SOA", "SOA"}},
				{"www", dns.TypeMX, dns.RcodeSuccess, nil, []string{v.proof, "RRSIG/" + v.proof, "RRSIG/SOA", "SOA"}},
				{"b.ent", dns.TypeA, dns.RcodeSuccess, nil, []string{v.proof, "RRSIG/" + v.proof, "RRSIG/SOA", "SOA"}},
				{"x.wild", dns.TypeA, dns.RcodeSuccess, []string{"A", "RRSIG/A"}, []string{v.proof, "RRSIG/" + v.proof}},
				{"x.wild", dns.TypeMX, dns.RcodeSuccess, nil, []string{v.proof, "RRSIG/" + v.proof, "RRSIG/SOA", "SOA"}},
				{"alias", dns.TypeA, dns.RcodeSuccess, []string{"A", "CNAME", "RRSIG/A", "RRSIG/CNAME"}, nil},
				{"www.secure", dns.TypeA, dns.RcodeSuccess, nil, []string{"DS", "NS", "RRSIG/DS"}},
				{"www.insecure", dns.TypeA, dns.RcodeSuccess, nil, []string{"NS", v.proof, "RRSIG/" + v.proof}},
			}
			for _, c := range cases {
				name := strings.TrimPrefix(c.name+"."+origin, "@.")
				for range 2 { // the second time from the ready-answer cache
					m := askSigned(t, r, name, c.qtype, true, 1232)
					if m.Rcode != c.rcode || !slices.Equal(types(m.Answer), c.answer) || !slices.Equal(types(m.Ns), c.authority) {
						t.Errorf("%s %s DO: %s, answer %v, authority %v; want %s, %v, %v", name, dns.TypeToString[c.qtype],
							dns.RcodeToString[m.Rcode], types(m.Answer), types(m.Ns), dns.RcodeToString[c.rcode], c.answer, c.authority)
					}
					if m.AuthenticatedData || !m.CheckingDisabled {
						t.Errorf("%s %s: AD %v, CD %v; want AD clear, CD echoed", name, dns.TypeToString[c.qtype], m.AuthenticatedData, m.CheckingDisabled)
					}
					verifyAll(t, m, keys)
					m = askSigned(t, r, name, c.qtype, false, 1232)
					for _, rr := range append(append(m.Answer, m.Ns...), m.Extra...) {
						switch rr.Header().Rrtype {
						case dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3, dns.TypeDS:
							if !(rr.Header().Rrtype == dns.TypeDS && c.qtype == dns.TypeDS) {
								t.Errorf("%s %s without DO: %v", name, dns.TypeToString[c.qtype], rr)
							}
						}
					}
				}
			}
			if got := r.Counters().fast.Load(); got == 0 {
				t.Error("no answer came from the ready-answer cache")
			}
			// The cached reply was made for CD set: the bit follows the query.
			q := question("www."+origin, dns.TypeA)
			q.SetEdns0(1232, true)
			fast := r.Counters().fast.Load()
			if m := ask(t, r, q, false); m.CheckingDisabled || r.Counters().fast.Load() != fast+1 {
				t.Errorf("CD clear, from the cache: CD %v, cache hits %d -> %d", m.CheckingDisabled, fast, r.Counters().fast.Load())
			}
		})
	}
}

// TestSignedTruncation: an RRset goes out with its signatures or not at
// all: the answer that fits 512 octets only without its RRSIG is
// truncated, and an additional address whose RRSIG does not fit is left
// out with it.
func TestSignedTruncation(t *testing.T) {
	z, _ := signZone(t, "signed.test.")
	zs := NewZones()
	zs.Set(mustCompile(t, z))
	r := newResponder(zs, 1232, false)
	m := askSigned(t, r, "big.signed.test.", dns.TypeTXT, false, 512)
	if m.Truncated || len(m.Answer) != 1 {
		t.Fatalf("without DO: TC %v, %d answers; want the TXT record in 512 octets", m.Truncated, len(m.Answer))
	}
	m = askSigned(t, r, "big.signed.test.", dns.TypeTXT, true, 512)
	if !m.Truncated || len(m.Answer) != 0 {
		t.Errorf("with DO: TC %v, answer %v; want TC and no records", m.Truncated, m.Answer)
	}
	for size := uint16(512); size < 1232; size += 8 {
		m = askSigned(t, r, "signed.test.", dns.TypeMX, true, size)
		if m.Truncated {
			t.Fatalf("MX at %d octets: truncated", size)
		}
		sets, sigs := map[string]bool{}, map[string]bool{}
		for _, rr := range m.Extra {
			switch v := rr.(type) {
			case *dns.OPT:
			case *dns.RRSIG:
				sigs[dns.TypeToString[v.TypeCovered]] = true
			default:
				sets[dns.TypeToString[rr.Header().Rrtype]] = true
			}
		}
		if !maps.Equal(sets, sigs) {
			t.Errorf("MX at %d octets: additional RRsets %v, signatures of %v", size, sets, sigs)
		}
	}
}

// TestNSEC3HashesAtLoad: the hash of every name the zone holds, and of
// the wildcard below it, is found at load (nsec3.go) and agrees with
// RFC 5155 as miekg/dns computes it; a DO query for a name that does
// not exist, whose next closer name is hashed per query, allocates
// nothing.
func TestNSEC3HashesAtLoad(t *testing.T) {
	z, _ := signZone(t, "signed.test.", "-3", "c0ffee", "-H", "3")
	s := mustCompile(t, z)
	n3 := s.sec.n3
	if n3 == nil {
		t.Fatal("no NSEC3 chain compiled")
	}
	for n := range s.nodes {
		name := presentName(s.key(int32(n)))
		h := dns.HashName(name, dns.SHA1, 3, "C0FFEE")
		i, match := n3.cover(n3.hash(s.key(int32(n))))
		if i != n3.own[n] || match != n3.ownMatch[n] {
			t.Errorf("%s: compiled %d/%v, hashed now %d/%v", name, n3.own[n], n3.ownMatch[n], i, match)
		}
		if match && !strings.EqualFold(strings.SplitN(presentName(s.ownerName(n3.nodes[i])), ".", 2)[0], h) {
			t.Errorf("%s: matched %s, RFC 5155 hash %s", name, presentName(s.ownerName(n3.nodes[i])), h)
		}
	}
	zs := NewZones()
	zs.Set(s)
	r := newResponder(zs, 1232, false)
	q := question("a.nothere.signed.test.", dns.TypeA)
	q.SetEdns0(1232, true)
	b, _ := q.Pack()
	if allocs := testing.AllocsPerRun(100, func() { r.Respond(b, false) }); allocs != 0 {
		t.Errorf("an NSEC3 NXDOMAIN allocates %v times a query", allocs)
	}
}

// TestSignedCacheRoundTrip: a signed snapshot read back from the compiled
// cache answers with the same signatures and proofs.
func TestSignedCacheRoundTrip(t *testing.T) {
	for _, args := range [][]string{nil, {"-3", "-", "-H", "0", "-A"}} {
		z, _ := signZone(t, "signed.test.", args...)
		s := mustCompile(t, z)
		got, _, err := decodeCache(aligned(encodeCache(t, s, CacheStamp{}, CacheMeta{})))
		if err != nil {
			t.Fatal(err)
		}
		a, b := NewZones(), NewZones()
		a.Set(s)
		b.Set(got)
		ra, rb := newResponder(a, 1232, false), newResponder(b, 1232, false)
		for _, name := range []string{"www", "nothere", "x.wild", "b.ent", "www.insecure", "www.secure"} {
			for _, qt := range []uint16{dns.TypeA, dns.TypeMX} {
				want := askSigned(t, ra, name+".signed.test.", qt, true, 1232)
				have := askSigned(t, rb, name+".signed.test.", qt, true, 1232)
				if w, h := strings.Join(rrStrings(append(want.Answer, want.Ns...)), "\n"), strings.Join(rrStrings(append(have.Answer, have.Ns...)), "\n"); w != h {
					t.Errorf("%v %s %s: from the cache\n%s\nwant\n%s", args, name, dns.TypeToString[qt], h, w)
				}
			}
		}
	}
}
