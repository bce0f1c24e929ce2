package answer

import (
	"bytes"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// fastResponder returns a responder with the fast path on, as the
// Server's pool makes them with FastPath set.
func fastResponder(zs *Zones, full bool) *Responder {
	r := newResponder(zs, 1232, full)
	r.ready = 1024
	return r
}

// readyQuery describes one query message for the cache tests.
type readyQuery struct {
	name  string
	qtype uint16
	class uint16 // 0: IN
	edns  uint16 // advertised UDP size; 0: no OPT RR
	do    bool
	rd    bool
	cd    bool // CD and AD: not copied to replies (NSD copies neither)
	ad    bool
	ver   uint8
	opt   dns.EDNS0 // an EDNS option to carry, or nil
	tcp   bool
}

// pack builds the query message with id.
func (c readyQuery) pack(t testing.TB, id uint16) []byte {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(c.name, c.qtype)
	m.Id = id
	m.RecursionDesired = c.rd
	m.CheckingDisabled, m.AuthenticatedData = c.cd, c.ad
	if c.class != 0 {
		m.Question[0].Qclass = c.class
	}
	if c.edns != 0 {
		m.SetEdns0(c.edns, c.do)
		o := m.IsEdns0()
		o.SetVersion(c.ver)
		if c.opt != nil {
			o.Option = append(o.Option, c.opt)
		}
	}
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mixCase returns name with the letter case of each letter chosen by rng,
// as a resolver doing 0x20 randomisation sends it.
func mixCase(name string, rng *rand.Rand) string {
	b := []byte(name)
	for i, c := range b {
		if c >= 'a' && c <= 'z' && rng.IntN(2) == 0 {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// stats returns the responder's counts.
func (r *Responder) statsNow() QueryStats {
	var s QueryStats
	r.stats.AddTo(&s)
	return s
}

// TestReadyMatchesFullPath is the cache's oracle: every reply of a
// responder with the fast path on, hit or miss, must be byte for byte the
// reply of one with it off, over names that exercise every kind of answer,
// in random letter case, order, ID, RD, EDNS size, DO bit and transport.
func TestReadyMatchesFullPath(t *testing.T) {
	zs := testZones(t)
	tz := truncZones(t)
	for _, s := range tz.List() {
		zs.Set(s)
	}
	names := []string{
		"example.org.", "www.example.org.", "alias.example.org.", "chain1.example.org.",
		"dangling.example.org.", "ext.example.org.", "outside.example.org.", "loop1.example.org.",
		"x.wild.example.org.", "sub.wild.example.org.", "z.y.wild.example.org.", "a.b.wild.example.org.",
		"a.cw.example.org.", "b.cwmx.example.org.", "srv.example.org.", "deleg.example.org.",
		"foo.deleg.example.org.", "deleg2.example.org.", "todeleg.example.org.", "child.example.org.",
		"www.child.example.org.", "big.example.org.", "anyt.example.org.", "ent.example.org.",
		"c.ent.example.org.", "nx.example.org.", "www.example.net.", "nothere.test.", ".",
		"big.trunc.test.", "manymx.trunc.test.", "indom.trunc.test.", "sibling.trunc.test.",
	}
	types := []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeMX, dns.TypeTXT, dns.TypeANY, dns.TypeNS,
		dns.TypeSOA, dns.TypeDS, dns.TypeCNAME, dns.TypeSRV, dns.TypeAXFR}
	sizes := []uint16{0, 512, 1232, 4096}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, full := range []bool{false, true} {
		fast, ref := fastResponder(zs, full), newResponder(zs, 1232, full)
		for i := range 6000 {
			c := readyQuery{
				name:  mixCase(names[rng.IntN(len(names))], rng),
				qtype: types[rng.IntN(len(types))],
				edns:  sizes[rng.IntN(len(sizes))],
				rd:    rng.IntN(2) == 0,
				cd:    rng.IntN(2) == 0,
				ad:    rng.IntN(2) == 0,
				tcp:   rng.IntN(4) == 0,
			}
			c.do = c.edns != 0 && rng.IntN(2) == 0
			switch rng.IntN(40) {
			case 0:
				c.class = dns.ClassANY
			case 1:
				c.class = dns.ClassCHAOS
			case 2:
				c.class = dns.ClassNONE
			case 3:
				if c.edns != 0 {
					c.ver = 1
				}
			case 4:
				if c.edns != 0 {
					c.opt = &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"}
				}
			}
			// Each query is asked twice, the second time as another
			// resolver would: its own case, ID and RD.
			for again := range 2 {
				if again == 1 {
					c.name, c.rd, c.cd = mixCase(strings.ToLower(c.name), rng), !c.rd, !c.cd
				}
				in := c.pack(t, uint16(rng.Uint32()))
				want := bytes.Clone(ref.Respond(in, c.tcp))
				got := fast.Respond(in, c.tcp)
				if !bytes.Equal(got, want) {
					t.Fatalf("query %d %+v (full %t): the fast path replied\n%x\nthe full path\n%x", i, c, full, got, want)
				}
			}
		}
		st := fast.statsNow()
		if st.Fast == 0 || st.Full == 0 || st.Special != 0 {
			t.Errorf("full %t: counts %+v, want both fast and full replies", full, st)
		}
		t.Logf("full %t: %+v", full, st)
	}
}

// ask1 sends one packed query through r and unpacks the reply.
func ask1(t *testing.T, r *Responder, in []byte, tcp bool) (*dns.Msg, []byte) {
	t.Helper()
	out := r.Respond(in, tcp)
	if out == nil {
		t.Fatal("no reply")
	}
	m := new(dns.Msg)
	if err := m.Unpack(out); err != nil {
		t.Fatalf("reply does not unpack: %v", err)
	}
	return m, bytes.Clone(out)
}

func TestReadyHitEchoesCaseIDAndRD(t *testing.T) {
	r := fastResponder(testZones(t), false)
	first := readyQuery{name: "www.example.org.", qtype: dns.TypeA, edns: 1232}
	ask1(t, r, first.pack(t, 1), false)
	if st := r.statsNow(); st.Fast != 0 || st.Full != 1 {
		t.Fatalf("after the first query: %+v, want one full reply", st)
	}
	second := readyQuery{name: "WwW.Example.ORG.", qtype: dns.TypeA, edns: 1232, rd: true}
	in := second.pack(t, 0xbeef)
	m, out := ask1(t, r, in, false)
	if st := r.statsNow(); st.Fast != 1 || st.Full != 1 {
		t.Fatalf("after the repeat: %+v, want one reply from the cache", st)
	}
	qlen := len(in) - headerLen - 11 // the query ends with the OPT RR
	if !bytes.Equal(out[headerLen:headerLen+qlen], in[headerLen:headerLen+qlen]) {
		t.Errorf("question %x, want the query's %x", out[headerLen:headerLen+qlen], in[headerLen:headerLen+qlen])
	}
	if m.Id != 0xbeef || !m.RecursionDesired || !m.Response || !m.Authoritative {
		t.Errorf("header: id %#x RD %t QR %t AA %t, want 0xbeef, RD, QR, AA", m.Id, m.RecursionDesired, m.Response, m.Authoritative)
	}
	if len(m.Answer) != 1 || m.Answer[0].Header().Name != "WwW.Example.ORG." {
		t.Errorf("answer %v, want the owner in the query's case", m.Answer)
	}
	// And back: RD clear again, lower case.
	m, _ = ask1(t, r, first.pack(t, 7), false)
	if m.Id != 7 || m.RecursionDesired || m.Question[0].Name != "www.example.org." || m.Answer[0].Header().Name != "www.example.org." {
		t.Errorf("third reply: id %d RD %t question %v answer %v", m.Id, m.RecursionDesired, m.Question, m.Answer)
	}
}

func TestReadyWildcardAndCNAMEKeepCase(t *testing.T) {
	r := fastResponder(testZones(t), false)
	for _, name := range []string{"x.wild.example.org.", "alias.example.org.", "a.cw.example.org."} {
		ref := newResponder(r.zones, 1232, false)
		lower := readyQuery{name: name, qtype: dns.TypeA, edns: 1232}
		upper := lower
		upper.name = mixCase(name, rand.New(rand.NewPCG(3, 4)))
		ask1(t, r, lower.pack(t, 1), false)
		_, got := ask1(t, r, upper.pack(t, 2), false)
		_, want := ask1(t, ref, upper.pack(t, 2), false)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: cached reply\n%x\nwant\n%x", upper.name, got, want)
		}
	}
	if st := r.statsNow(); st.Fast != 3 {
		t.Errorf("counts %+v, want 3 from the cache", st)
	}
}

func TestReadySizeLimit(t *testing.T) {
	tests := []struct {
		name        string
		qname       string
		qtype       uint16
		first, then uint16 // EDNS sizes; 0: none
		tcpFirst    bool
		wantTC      bool // of the second reply
		wantFast    uint64
	}{
		// The 4096 reply is too big for 512: the second is built anew, TC.
		{"big after 4096", "big.trunc.test.", dns.TypeTXT, 4096, 0, false, true, 0},
		// A truncated 512 reply is no answer for 4096.
		{"4096 after truncated", "big.trunc.test.", dns.TypeTXT, 512, 4096, false, false, 0},
		// A truncated reply serves the very same limit.
		{"truncated twice", "big.trunc.test.", dns.TypeTXT, 0, 0, false, true, 1},
		{"truncated twice with EDNS", "big.trunc.test.", dns.TypeTXT, 512, 512, false, true, 1},
		// No EDNS and an EDNS size below 512 both mean 512, but the OPT
		// RR differs: a different key.
		{"512 without and with EDNS", "big.trunc.test.", dns.TypeTXT, 0, 512, false, true, 0},
		// Additional records dropped for 512: not reused for 4096.
		{"mx cut then 4096", "manymx.trunc.test.", dns.TypeMX, 512, 4096, false, false, 0},
		{"mx cut twice", "manymx.trunc.test.", dns.TypeMX, 0, 0, false, false, 1},
		// A whole reply fits any larger limit, whatever the transport.
		{"small after tcp", "www.trunc.test.", dns.TypeA, 4096, 4096, true, false, 1},
		{"whole reply for less", "ns1.trunc.test.", dns.TypeA, 4096, 1232, false, false, 1},
		{"tcp after whole udp", "big.trunc.test.", dns.TypeTXT, 4096, 4096, false, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			zs := truncZones(t)
			r, ref := fastResponder(zs, true), newResponder(zs, 1232, true)
			q1 := readyQuery{name: tt.qname, qtype: tt.qtype, edns: tt.first}
			ask1(t, r, q1.pack(t, 1), tt.tcpFirst)
			q2 := readyQuery{name: tt.qname, qtype: tt.qtype, edns: tt.then}
			tcp2 := tt.name == "tcp after whole udp"
			m, got := ask1(t, r, q2.pack(t, 2), tcp2)
			_, want := ask1(t, ref, q2.pack(t, 2), tcp2)
			if !bytes.Equal(got, want) {
				t.Errorf("second reply\n%x\nwant\n%x", got, want)
			}
			if m.Truncated != tt.wantTC {
				t.Errorf("TC %t, want %t", m.Truncated, tt.wantTC)
			}
			if st := r.statsNow(); st.Fast != tt.wantFast {
				t.Errorf("%d replies from the cache, want %d", st.Fast, tt.wantFast)
			}
		})
	}
}

func TestReadyEDNSAndDO(t *testing.T) {
	r := fastResponder(testZones(t), false)
	variants := []readyQuery{
		{name: "www.example.org.", qtype: dns.TypeA},
		{name: "www.example.org.", qtype: dns.TypeA, edns: 1232},
		{name: "www.example.org.", qtype: dns.TypeA, edns: 1232, do: true},
	}
	for round := range 2 {
		for i, v := range variants {
			m, _ := ask1(t, r, v.pack(t, uint16(i)), false)
			o := m.IsEdns0()
			if (o != nil) != (v.edns != 0) || (o != nil && o.Do() != v.do) {
				t.Errorf("round %d, query %+v: OPT %v", round, v, o)
			}
		}
	}
	if st := r.statsNow(); st.Fast != 3 || st.Full != 3 {
		t.Errorf("counts %+v, want each variant built once and served once from the cache", st)
	}
}

func TestReadyNotCached(t *testing.T) {
	zs := testZones(t)
	expired := mustCompile(t, testZone(t, "expired.test.",
		"@ SOA ns1 host 1 7200 3600 1209600 300", "@ NS ns1", "ns1 A 192.0.2.1"))
	zs.Set(expired.WithExpired(true))
	var huge []string
	for i := range 30 {
		huge = append(huge, fmt.Sprintf("txt TXT %s%d", bigText, i))
	}
	zs.Set(mustCompile(t, testZone(t, "huge.test.", append([]string{"@ SOA ns1 host 1 7200 3600 1209600 300", "@ NS ns1", "ns1 A 192.0.2.1"}, huge...)...)))
	for _, c := range []readyQuery{
		{name: "www.example.org.", qtype: dns.TypeA, edns: 1232, opt: &dns.EDNS0_EXPIRE{Code: dns.EDNS0EXPIRE, Empty: true}},
		{name: "www.example.org.", qtype: dns.TypeA, edns: 1232, ver: 1},
		{name: "ns1.expired.test.", qtype: dns.TypeA, edns: 1232},
		{name: "www.elsewhere.test.", qtype: dns.TypeA, edns: 1232},
		{name: "version.bind.", qtype: dns.TypeTXT, class: dns.ClassCHAOS},
		{name: "example.org.", qtype: dns.TypeAXFR},
		{name: "txt.huge.test.", qtype: dns.TypeTXT, tcp: true}, // over maxReadyLen
	} {
		r := fastResponder(zs, false)
		for range 2 {
			r.Respond(c.pack(t, 1), c.tcp)
		}
		if st := r.statsNow(); st.Fast != 0 || st.Full != 2 {
			t.Errorf("%+v: counts %+v, want two full replies", c, st)
		}
	}
	// The slow path's responders, made without Ready, have the fast path
	// off.
	if r := NewResponder(zs, ResponderConfig{UDPSize: 1232}); r.ready != 0 {
		t.Errorf("a slow-path responder has the fast path on")
	}
}

func TestReadyInvalidatedBySet(t *testing.T) {
	zs := testZones(t)
	r := fastResponder(zs, false)
	q := readyQuery{name: "www.example.net.", qtype: dns.TypeA, edns: 1232}
	for range 2 {
		m, _ := ask1(t, r, q.pack(t, 1), false)
		if len(m.Answer) != 1 || m.Answer[0].(*dns.A).A.String() != "198.51.100.1" {
			t.Fatalf("answer %v", m.Answer)
		}
	}
	zs.Set(mustCompile(t, testZone(t, "example.net.",
		"@ 600 SOA ns1.example.org. host.example.org. 2 7200 3600 1209600 900",
		"@ 600 NS ns1.example.org.",
		"www 600 A 198.51.100.2",
	)))
	m, _ := ask1(t, r, q.pack(t, 1), false)
	if len(m.Answer) != 1 || m.Answer[0].(*dns.A).A.String() != "198.51.100.2" {
		t.Errorf("after Set: answer %v, want the new address", m.Answer)
	}
	// Expiry swaps the table too.
	zs.Set(zs.Get("example.net.").WithExpired(true))
	m, _ = ask1(t, r, q.pack(t, 1), false)
	if m.Rcode != dns.RcodeServerFailure {
		t.Errorf("after expiry: rcode %s, want SERVFAIL", dns.RcodeToString[m.Rcode])
	}
	zs.Delete("example.net.")
	m, _ = ask1(t, r, q.pack(t, 1), false)
	if m.Rcode != dns.RcodeRefused {
		t.Errorf("after Delete: rcode %s, want REFUSED", dns.RcodeToString[m.Rcode])
	}
	if st := r.statsNow(); st.Fast != 1 {
		t.Errorf("counts %+v, want one reply from the cache", st)
	}
}

func TestReadyCacheSize(t *testing.T) {
	for _, tt := range []struct{ entries, want int }{{0, 2}, {1, 2}, {3, 4}, {65536, 65536}, {65537, 131072}, {1 << 30, MaxFastPathEntries}} {
		if got := len(newReadyCache(tt.entries).slots); got != tt.want {
			t.Errorf("newReadyCache(%d): %d slots, want %d", tt.entries, got, tt.want)
		}
	}
	// A cache of one pair keeps two replies, and stays correct when a
	// third evicts one.
	zs := testZones(t)
	r, ref := newResponder(zs, 1232, false), newResponder(zs, 1232, false)
	r.ready = 1
	for i := range 20 {
		name := []string{"www.example.org.", "mail.example.org.", "nx.example.org."}[[]int{0, 0, 1, 1, 0, 2, 2, 0}[i%8]]
		q := readyQuery{name: name, qtype: dns.TypeA}
		if _, got := ask1(t, r, q.pack(t, uint16(i)), false); !bytes.Equal(got, ref.Respond(q.pack(t, uint16(i)), false)) {
			t.Fatalf("query %d (%s): replies differ", i, q.name)
		}
	}

	// Two keys in one pair both stay.
	zs = testZones(t)
	r = newResponder(zs, 1232, false)
	r.ready = 2
	for range 3 {
		for _, name := range []string{"www.example.org.", "mail.example.org."} {
			r.Respond(readyQuery{name: name, qtype: dns.TypeA}.pack(t, 1), false)
		}
	}
	if st := r.statsNow(); st != (QueryStats{Fast: 4, Full: 2}) {
		t.Errorf("two keys, one pair: %+v, want both kept", st)
	}
}

// TestReadySlotsSpread checks that the type, class and EDNS bits of a
// key, not only its name, choose the slot.
func TestReadySlotsSpread(t *testing.T) {
	c := newReadyCache(1 << 16)
	var q query
	same := 0
	for i := range 1000 {
		q.lname, _ = WireName(fmt.Sprintf("host%d.example.org.", i))
		q.qtype, q.qclass = dns.TypeA, dns.ClassINET
		slots := map[uint64]bool{c.hash(&q, 0) & c.mask: true}
		for _, v := range []struct {
			qtype, qclass uint16
			sig           uint32
		}{{dns.TypeAAAA, dns.ClassINET, 0}, {dns.TypeA, dns.ClassANY, 0}, {dns.TypeA, dns.ClassINET, sigEDNS}, {dns.TypeA, dns.ClassINET, sigEDNS | sigDO}} {
			q.qtype, q.qclass = v.qtype, v.qclass
			slot := c.hash(&q, v.sig) & c.mask
			if slots[slot] {
				same++
			}
			slots[slot] = true
		}
	}
	// 4000 pairs among 65536 slots: a handful by chance.
	if same > 20 {
		t.Errorf("%d of 4000 variants of a name share a slot with another", same)
	}
}

// TestReadyConcurrent runs responders sharing one registry while its
// table is swapped under them: no data race (run with -race), and every
// reply answers its own query: ID, letter case, one record.
func TestReadyConcurrent(t *testing.T) {
	zs := testZones(t)
	net := func(addr string) *Snapshot {
		return mustCompile(t, testZone(t, "example.net.",
			"@ 600 SOA ns1.example.org. host.example.org. 1 7200 3600 1209600 900",
			"@ 600 NS ns1.example.org.",
			"www 600 A "+addr,
		))
	}
	versions := []*Snapshot{net("198.51.100.1"), net("198.51.100.2")}
	stop := make(chan struct{})
	swapped := make(chan struct{})
	go func() {
		defer close(swapped)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			zs.Set(versions[i%2])
			time.Sleep(100 * time.Microsecond)
		}
	}()
	// The queries, packed beforehand: www.example.net and www.example.org
	// in random letter case.
	rng := rand.New(rand.NewPCG(5, 9))
	names := make([]string, 3000)
	ins := make([][]byte, len(names))
	for i := range names {
		names[i] = mixCase([]string{"www.example.net.", "www.example.org."}[i%2], rng)
		ins[i] = readyQuery{name: names[i], qtype: dns.TypeA, edns: 1232}.pack(t, uint16(i))
	}
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			r := fastResponder(zs, false)
			for i, in := range ins {
				m := new(dns.Msg)
				if err := m.Unpack(r.Respond(in, false)); err != nil {
					errs <- err
					return
				}
				if len(m.Answer) != 1 || m.Answer[0].Header().Name != names[i] || m.Id != uint16(i) {
					errs <- fmt.Errorf("%s: reply %v", names[i], m)
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	close(stop)
	<-swapped
}

// TestReadyAutoSize checks the cache sized by the zones: four slots per
// name, within bounds.
func TestReadyAutoSize(t *testing.T) {
	zs := NewZones()
	if got := len(zs.cur.Load().readyCache(-1).slots); got != minAutoEntries {
		t.Errorf("no zones: %d slots, want %d", got, minAutoEntries)
	}
	z := spBigZone("auto.test.", 5000, 0)
	zs.Set(mustCompile(t, z))
	names := len(zs.Get("auto.test.").nodes)
	want := 1 << bits.Len(uint(4*names-1))
	if got := len(zs.cur.Load().readyCache(-1).slots); got != want {
		t.Errorf("%d names: %d slots, want %d", names, got, want)
	}
	if got := len(zs.cur.Load().readyCache(-1).slots); got != want {
		t.Errorf("the second call made another cache of %d slots", got)
	}
}

// TestReadyOptions: a query carrying EDNS options that do not shape the
// reply (a resolver's COOKIE, NSID) is answered from the cache, with
// the bytes the full path would send.
func TestReadyOptions(t *testing.T) {
	zs := testZones(t)
	full := newResponder(zs, 1232, false)
	for _, opt := range []dns.EDNS0{
		&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"},
		&dns.EDNS0_NSID{Code: dns.EDNS0NSID},
	} {
		r := fastResponder(zs, false)
		plain := readyQuery{name: "www.example.org.", qtype: dns.TypeA, edns: 1232}
		r.Respond(plain.pack(t, 1), false)
		with := plain
		with.opt = opt
		in := with.pack(t, 2)
		before := r.statsNow().Fast
		got := bytes.Clone(r.Respond(in, false))
		if st := r.statsNow(); st.Fast != before+1 {
			t.Errorf("%T: counts %+v, want the second reply from the cache", opt, st)
		}
		if want := full.Respond(in, false); !bytes.Equal(got, want) {
			t.Errorf("%T: the cached reply differs from the full path's", opt)
		}
	}
}
