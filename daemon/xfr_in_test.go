package daemon

// The AXFR and IXFR interpreters on their own: complete streams, broken
// ones, differences that do not apply; and the SOA timer arithmetic.

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/zonefile"
)

// rrs parses records of zone x.test., one per string.
func rrs(t *testing.T, lines ...string) []dns.RR {
	t.Helper()
	var out []dns.RR
	for _, l := range lines {
		rr, err := dns.NewRR("$ORIGIN x.test.\n$TTL 300\n" + l)
		if err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		out = append(out, rr)
	}
	return out
}

func soaLine(serial string) string { return "@ SOA ns hostmaster " + serial + " 3600 600 86400 60" }

// recordSet renders records sorted, one line each, for comparison.
func recordSet(recs []dns.RR) []string {
	out := make([]string, len(recs))
	for i, rr := range recs {
		out[i] = oneLineRR(rr)
	}
	slices.Sort(out)
	return out
}

func TestAXFRRecords(t *testing.T) {
	soa := soaLine("7")
	cases := []struct {
		name  string
		lines []string
		want  string // error text; "" ok
	}{
		{"complete", []string{soa, "@ NS ns", "ns A 127.0.0.1", soa}, ""},
		{"no closing SOA", []string{soa, "@ NS ns", "ns A 127.0.0.1"}, "does not end"},
		{"SOA alone", []string{soa}, "does not end"},
		{"other serial at the end", []string{soa, "@ NS ns", soaLine("8")}, "closing SOA has serial 8"},
		{"SOA in the middle", []string{soa, "@ NS ns", soaLine("7"), "ns A 127.0.0.1", soa}, "middle"},
		{"starts without SOA", []string{"@ NS ns", soa}, "begin"},
		{"SOA of another zone", []string{"other.test. 300 SOA ns hostmaster 7 1 1 1 1", "@ NS ns", soa}, "begin"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, serial, err := axfrRecords("x.test.", rrs(t, c.lines...))
			if c.want != "" {
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("error %v, want %q", err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if serial != 7 || len(out) != len(c.lines)-1 {
				t.Fatalf("serial %d, %d records", serial, len(out))
			}
		})
	}
}

func TestIXFRRecords(t *testing.T) {
	base := &zonefile.Zone{Origin: "x.test.", Records: rrs(t, soaLine("1"), "@ NS ns", "ns A 127.0.0.1", "www A 127.0.0.2", "txt TXT a")}
	baseCopy := recordSet(base.Records)
	cases := []struct {
		name     string
		lines    []string
		want     []string // resulting zone; nil when an error is expected
		full     bool
		err      string
		fallback bool
	}{
		{
			name:  "one step",
			lines: []string{soaLine("2"), soaLine("1"), "www A 127.0.0.2", soaLine("2"), "www A 127.0.0.3", "new AAAA ::1", soaLine("2")},
			want:  []string{soaLine("2"), "@ NS ns", "ns A 127.0.0.1", "www A 127.0.0.3", "txt TXT a", "new AAAA ::1"},
		},
		{
			name: "two steps",
			lines: []string{soaLine("3"),
				soaLine("1"), "txt TXT a", soaLine("2"), "txt TXT b",
				soaLine("2"), "txt TXT b", soaLine("3"), "txt TXT c",
				soaLine("3")},
			want: []string{soaLine("3"), "@ NS ns", "ns A 127.0.0.1", "www A 127.0.0.2", "txt TXT c"},
		},
		{
			name:  "TTL change",
			lines: []string{soaLine("2"), soaLine("1"), "www A 127.0.0.2", soaLine("2"), "www 60 A 127.0.0.2", soaLine("2")},
			want:  []string{soaLine("2"), "@ NS ns", "ns A 127.0.0.1", "www 60 A 127.0.0.2", "txt TXT a"},
		},
		{
			name:  "names compared without case",
			lines: []string{soaLine("2"), soaLine("1"), "WWW A 127.0.0.2", soaLine("2"), soaLine("2")},
			want:  []string{soaLine("2"), "@ NS ns", "ns A 127.0.0.1", "txt TXT a"},
		},
		{
			name:  "full zone instead of differences",
			lines: []string{soaLine("5"), "@ NS ns", "ns A 127.0.0.1", soaLine("5")},
			want:  []string{soaLine("5"), "@ NS ns", "ns A 127.0.0.1"},
			full:  true,
		},
		{name: "SOA alone", lines: []string{soaLine("5")}, err: "SOA alone", fallback: true},
		{name: "starts at another serial", lines: []string{soaLine("3"), soaLine("2"), soaLine("3"), soaLine("3")}, err: "starts at serial 2, we hold 1", fallback: true},
		{name: "removes what we lack", lines: []string{soaLine("2"), soaLine("1"), "nope A 127.0.0.9", soaLine("2"), soaLine("2")}, err: "removes a record we do not hold", fallback: true},
		{name: "adds what we hold", lines: []string{soaLine("2"), soaLine("1"), soaLine("2"), "ns A 127.0.0.1", soaLine("2")}, err: "adds a record we already hold", fallback: true},
		{name: "incomplete", lines: []string{soaLine("2"), soaLine("1"), "www A 127.0.0.2", soaLine("2"), "www A 127.0.0.3"}, err: "incomplete", fallback: true},
		{name: "ends short of the new serial", lines: []string{soaLine("3"), soaLine("1"), soaLine("2"), soaLine("3")}, err: "end at serial 2, not 3", fallback: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, serial, full, err := ixfrRecords("x.test.", base, rrs(t, c.lines...))
			if c.err != "" {
				var xe *xfrError
				if err == nil || !strings.Contains(err.Error(), c.err) || !errors.As(err, &xe) || xe.fallback != c.fallback {
					t.Fatalf("error %#v, want %q (fallback %v)", err, c.err, c.fallback)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := rrs(t, c.want...)
			if serial != want[0].(*dns.SOA).Serial || full != c.full {
				t.Errorf("serial %d full %v", serial, full)
			}
			got, exp := recordSet(out), recordSet(want)
			if !slices.Equal(got, exp) {
				t.Errorf("records\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(exp, "\n"))
			}
		})
	}
	if !slices.Equal(recordSet(base.Records), baseCopy) {
		t.Fatal("the base zone was modified")
	}
}

func TestSecondaryTimers(t *testing.T) {
	z := &zonefile.Zone{Origin: "x.test.", Records: rrs(t, "@ SOA ns hostmaster 1 0 4294967295 6 60")}
	tm := timersOf(z.SOA())
	if tm.refresh != time.Second || tm.retry != maxSOATimer || tm.expire != 6*time.Second {
		t.Errorf("timers %+v", tm)
	}
	if tm := timersOf(nil); tm.retry != 5*time.Second {
		t.Errorf("pending timers %+v", tm)
	}
	for n, want := range map[int]time.Duration{1: 5 * time.Second, 2: 10 * time.Second, 7: 5 * time.Minute, 100: 5 * time.Minute} {
		if got := pendingRetry(n); got != want {
			t.Errorf("pendingRetry(%d) = %s, want %s", n, got, want)
		}
	}
	now := time.Now()
	for range 100 {
		// Checked 10 minutes ago, refresh an hour: within the 50 left.
		if at := firstCheck(now, now.Add(-10*time.Minute), time.Hour); at.Before(now) || at.After(now.Add(50*time.Minute)) {
			t.Fatalf("first check at %s", at.Sub(now))
		}
		// Overdue: soon, spread.
		if at := firstCheck(now, now.Add(-2*time.Hour), time.Hour); at.Before(now) || at.After(now.Add(startupSpread)) {
			t.Fatalf("overdue first check at %s", at.Sub(now))
		}
		if d := refreshJitter(time.Hour); d > time.Hour || d < 54*time.Minute {
			t.Fatalf("refresh jitter %s", d)
		}
	}
}

// FuzzXFRRecords feeds transfer answers from the wire to the AXFR and
// IXFR interpreters: they must reject, never panic, and never change the
// version they apply differences to.
func FuzzXFRRecords(f *testing.F) {
	mk := func(lines ...string) []dns.RR {
		var out []dns.RR
		for _, l := range lines {
			rr, err := dns.NewRR("$ORIGIN x.test.\n$TTL 300\n" + l)
			if err != nil {
				f.Fatal(err)
			}
			out = append(out, rr)
		}
		return out
	}
	base := &zonefile.Zone{Origin: "x.test.", Records: mk(soaLine("1"), "@ NS ns", "ns A 127.0.0.1", "www A 127.0.0.2")}
	before := recordSet(base.Records)
	for _, answer := range [][]dns.RR{
		mk(soaLine("2"), soaLine("1"), "www A 127.0.0.2", soaLine("2"), "www A 127.0.0.3", soaLine("2")),
		mk(soaLine("2"), "@ NS ns", "ns A 127.0.0.1", soaLine("2")),
		mk(soaLine("2")),
	} {
		m := new(dns.Msg)
		m.SetQuestion("x.test.", dns.TypeIXFR)
		m.Response, m.Answer = true, answer
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m := new(dns.Msg)
		if m.Unpack(b) != nil {
			return
		}
		axfrRecords("x.test.", m.Answer)
		ixfrRecords("x.test.", base, m.Answer)
		if !slices.Equal(recordSet(base.Records), before) {
			t.Fatal("the base version changed")
		}
	})
}

// bigRRsetIXFR returns a zone with one TXT record at big.x.test (and its
// SOA and NS) and an
// IXFR answer that adds n more to that RRset and removes the first.
func bigRRsetIXFR(n int) (*zonefile.Zone, []dns.RR) {
	soa := func(serial uint32) *dns.SOA {
		return &dns.SOA{Hdr: dns.RR_Header{Name: "x.test.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 300},
			Ns: "ns.x.test.", Mbox: "h.x.test.", Serial: serial, Refresh: 3600, Retry: 600, Expire: 86400, Minttl: 60}
	}
	txt := func(i int) dns.RR {
		return &dns.TXT{Hdr: dns.RR_Header{Name: "big.x.test.", Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 300}, Txt: []string{fmt.Sprint("record ", i)}}
	}
	ns := &dns.NS{Hdr: dns.RR_Header{Name: "x.test.", Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 300}, Ns: "ns.example."}
	base := &zonefile.Zone{Origin: "x.test.", Records: []dns.RR{soa(1), ns, txt(-1)}}
	recs := []dns.RR{soa(2), soa(1), txt(-1), soa(2)}
	for i := range n {
		recs = append(recs, txt(i))
	}
	return base, append(recs, soa(2))
}

// An IXFR that grows one RRset by 100 000 records applies in time linear
// in the records changed: the bound is loose (quadratic work took 3.2 s
// for 10 000 records and would take minutes here), the benchmark below
// gives the figure.
func TestIXFRGrowsOneRRsetLinearly(t *testing.T) {
	base, recs := bigRRsetIXFR(100_000)
	began := time.Now()
	out, serial, full, err := ixfrRecords("x.test.", base, recs)
	if err != nil || full || serial != 2 {
		t.Fatalf("serial %d, full %t: %v", serial, full, err)
	}
	if len(out) != 100_002 {
		t.Fatalf("%d records, want the SOA, the NS and 100000 TXT", len(out))
	}
	if took := time.Since(began); took > 20*time.Second {
		t.Errorf("100000 additions to one RRset took %s", took)
	}
}

func BenchmarkIXFRGrowOneRRset100k(b *testing.B) {
	base, recs := bigRRsetIXFR(100_000)
	for b.Loop() {
		if _, _, _, err := ixfrRecords("x.test.", base, recs); err != nil {
			b.Fatal(err)
		}
	}
}
