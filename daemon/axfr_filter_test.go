package daemon

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/store"
	"zonekeeper/zonefile"
)

// filterZoneLines is the zone the filter tests transfer: HINFO, TXT
// under _tstamp., MX and SRV, beside the usual.
func filterZoneLines(serial uint32) []string {
	return secZoneLines(serial, 3600, 600, 86400,
		`host HINFO "PC" "Linux"`,
		`_tstamp TXT "old stamp"`,
		`_tstamp.sub TXT "another"`,
		`notstamp TXT "kept" "as is"`,
		`@ MX 10 mail`,
		`mail A 127.0.0.11`,
		`_sip._tcp SRV 10 20 5060 sip`,
		`sip A 127.0.0.12`)
}

// luaFixture is the absolute path of a script under testdata/lua.
func luaFixture(t testing.TB, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", "lua", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// installScript copies testdata/lua/name into n's scripts directory
// and returns the path the daemon resolves it to.
func installScript(t testing.TB, n *secondaryNode, name string) string {
	t.Helper()
	src, err := os.ReadFile(luaFixture(t, name))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	dir := scriptsDir(n.cfg.Data)
	if err == nil {
		if err := os.WriteFile(filepath.Join(dir, name), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(real, name)
}

// parseLines parses zone lines as the test primary does.
func parseLines(t testing.TB, zone string, lines ...string) []dns.RR {
	t.Helper()
	var out []dns.RR
	for _, l := range lines {
		rr, err := dns.NewRR("$ORIGIN " + zone + "\n$TTL 300\n" + l)
		if err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		out = append(out, rr)
	}
	return out
}

func TestFilterAXFRUnit(t *testing.T) {
	zone := "example.com."
	recs := parseLines(t, zone, filterZoneLines(7)...)
	remote := netip.MustParseAddr("127.0.0.1")

	t.Run("MX and SRV priorities, omitted fields", func(t *testing.T) {
		out, err := filterAXFR(context.Background(), luaFixture(t, "mx.lua"), remote, zone, recs, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var mx []string
		var srv *dns.SRV
		for _, rr := range out {
			switch r := rr.(type) {
			case *dns.MX:
				mx = append(mx, oneLineRR(r))
			case *dns.SRV:
				srv = r
			}
		}
		want := []string{"example.com. 300 IN MX 5 mail.example.com.", "example.com. 300 IN MX 11 backup.example.com."}
		if strings.Join(mx, "|") != strings.Join(want, "|") {
			t.Errorf("MX = %q, want %q", mx, want)
		}
		if srv == nil || oneLineRR(srv) != "_sip._tcp.example.com. 42 IN SRV 10 20 5060 sip.example.com." {
			t.Errorf("SRV = %v", srv)
		}
		if len(out) != len(recs)+1 {
			t.Errorf("%d records, want %d", len(out), len(recs)+1)
		}
		if _, ok := out[0].(*dns.SOA); !ok {
			t.Errorf("first record %s is not the SOA", out[0])
		}
	})

	t.Run("verbatim script", func(t *testing.T) {
		out, err := filterAXFR(context.Background(), luaFixture(t, "ahu.lua"), remote, zone, recs, 1000)
		if err != nil {
			t.Fatal(err)
		}
		checkAhu(t, zone, recs, out)
	})

	failures := []struct {
		script, want string
	}{
		{"syntax.lua", "does not compile"},
		{"missing.lua", "cannot be read: no such file or directory"},
		{"ioopen.lua", "io.open is not available to AXFR filter scripts"},
		{"osexecute.lua", "os.execute is not available to AXFR filter scripts (only os.date and os.time are)"},
		{"dofile.lua", "dofile is not available to AXFR filter scripts"},
		{"loop.lua", "ran longer than its budget"},
	}
	old := axfrFilterBudget
	axfrFilterBudget = 500 * time.Millisecond
	t.Cleanup(func() { axfrFilterBudget = old })
	for _, tc := range failures {
		t.Run(tc.script, func(t *testing.T) {
			path := luaFixture(t, tc.script)
			_, err := filterAXFR(context.Background(), path, remote, zone, recs, 1000)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("error %v, want one naming %s and saying %q", err, path, tc.want)
			}
			t.Log(err)
		})
	}
}

// checkAhu compares the output of the verbatim script with the
// primary's records, record by record.
func checkAhu(t *testing.T, zone string, in, out []dns.RR) {
	t.Helper()
	stamp := regexp.MustCompile(`^Ver (\d{8}-\d\d:\d\d)$`)
	var want []dns.RR
	for _, rr := range in {
		h := rr.Header()
		switch {
		case h.Rrtype == dns.TypeHINFO:
			want = append(want, &dns.TXT{Hdr: dns.RR_Header{Name: h.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 99}, Txt: []string{"Hello Ahu!"}})
		case h.Rrtype == dns.TypeTXT && strings.HasPrefix(h.Name, "_tstamp."):
			// Checked apart: the content is the transfer's time.
		default:
			want = append(want, rr)
		}
	}
	stamps := 0
	for _, rr := range out {
		if txt, ok := rr.(*dns.TXT); ok && strings.HasPrefix(txt.Hdr.Name, "_tstamp.") {
			stamps++
			m := stamp.FindStringSubmatch(strings.Join(txt.Txt, ""))
			if len(txt.Txt) != 1 || m == nil || txt.Hdr.Ttl != 300 {
				t.Errorf("_tstamp record %s: want TTL 300 and one string Ver YYYYMMDD-HH:MM", oneLineRR(rr))
				continue
			}
			at, err := time.ParseInLocation("20060102-15:04", m[1], time.Local)
			if err != nil || time.Since(at) > 5*time.Minute || time.Until(at) > time.Minute {
				t.Errorf("_tstamp record %s: not the transfer's time (%v)", oneLineRR(rr), err)
			}
			continue
		}
		found := false
		for i, w := range want {
			if w != nil && dns.IsDuplicate(w, rr) && w.Header().Ttl == rr.Header().Ttl {
				want[i], found = nil, true
				break
			}
		}
		if !found {
			t.Errorf("unexpected record %s", oneLineRR(rr))
		}
	}
	for _, w := range want {
		if w != nil {
			t.Errorf("missing record %s", oneLineRR(w))
		}
	}
	if stamps != 2 {
		t.Errorf("%d _tstamp records, want 2", stamps)
	}
}

// filterSetup starts a test primary on 127.0.0.1 with the filter zone
// and a secondary node whose copy of it uses testdata/lua/script ("" none),
// installed in its scripts directory.
func filterSetup(t *testing.T, script string) (*testPrimary, *secondaryNode) {
	t.Helper()
	zone := "example.com."
	p := newTestPrimary(t, "127.0.0.1", zone, filterZoneLines(2026010101)...)
	n := startSecondaryNode(t, "", nil)
	ctx := context.Background()
	if err := n.store.Zones().Add(ctx, store.Zone{Name: zone, Kind: store.KindSecondary, Primaries: []string{p.addr}}); err != nil {
		t.Fatal(err)
	}
	if script != "" {
		if err := n.store.Meta().Set(ctx, zone, store.MetaLuaAXFRScript, []string{installScript(t, n, script)}); err != nil {
			t.Fatal(err)
		}
	}
	n.secondaries.added(zone)
	return p, n
}

// servedRecords parses the secondary's file of zone.
func servedRecords(t *testing.T, n *secondaryNode, zone string) []dns.RR {
	t.Helper()
	z, _, err := zonefile.Parse(bytes.NewReader(n.zoneFile(t, zone)), zone, "secondary copy")
	if err != nil {
		t.Fatal(err)
	}
	return z.Records
}

func TestAXFRFilterVerbatimScript(t *testing.T) {
	zone := "example.com."
	p, n := filterSetup(t, "ahu.lua")
	eventually(t, 20*time.Second, "the filtered zone served", func() bool { return n.servedSerial(t, zone) == 2026010101 },
		func() string { return eventDump(n.events(t, zone, "")) })
	checkAhu(t, zone, p.current(), servedRecords(t, n, zone))
	r := n.ask(t, "host."+zone, dns.TypeTXT)
	if len(r.Answer) != 1 || oneLineRR(r.Answer[0]) != `host.example.com. 99 IN TXT "Hello Ahu!"` {
		t.Errorf("host TXT answer %v", r.Answer)
	}
	if r := n.ask(t, "host."+zone, dns.TypeHINFO); len(r.Answer) != 0 {
		t.Errorf("HINFO still served: %v", r.Answer)
	}
	n.waitEvent(t, zone, "axfr-in", "filtered by "+installScript(t, n, "ahu.lua"), 5*time.Second)

	// A newer version is fetched by AXFR, not IXFR, and filtered again.
	p.set(filterZoneLines(2026010102)...)
	ixfrs := p.ixfrs.Load()
	if rc := n.secondaries.notify(zone, netip.MustParseAddrPort(p.ip+":53"), ""); rc != dns.RcodeSuccess {
		t.Fatalf("NOTIFY answered %s", dns.RcodeToString[rc])
	}
	eventually(t, 20*time.Second, "the new version served", func() bool { return n.servedSerial(t, zone) == 2026010102 },
		func() string { return eventDump(n.events(t, zone, "")) })
	if p.ixfrs.Load() != ixfrs {
		t.Errorf("an IXFR was asked of a filtered zone")
	}
	n.waitEvent(t, zone, "axfr-in", "AXFR, not IXFR: the zone has an AXFR filter script", 5*time.Second)
	checkAhu(t, zone, p.current(), servedRecords(t, n, zone))
}

// TestAXFRFilterSerialRewrite: the served serial is the filter's
// YYYYMMDDnn; the primary's next version is still seen as newer (the
// primary's own serial is compared, not the rewritten one).
func TestAXFRFilterSerialRewrite(t *testing.T) {
	zone := "example.com."
	p, n := filterSetup(t, "serial.lua")
	rewritten := func(nn string) func() bool {
		return func() bool {
			want, _ := strconv.ParseInt(time.Now().UTC().Format("20060102")+nn, 10, 64)
			return n.servedSerial(t, zone) == want
		}
	}
	eventually(t, 20*time.Second, "the serial YYYYMMDD01 served", rewritten("01"), func() string { return eventDump(n.events(t, zone, "")) })

	p.set(filterZoneLines(2026010102)...)
	if rc := n.secondaries.notify(zone, netip.MustParseAddrPort(p.ip+":53"), ""); rc != dns.RcodeSuccess {
		t.Fatalf("NOTIFY answered %s", dns.RcodeToString[rc])
	}
	eventually(t, 20*time.Second, "the serial YYYYMMDD02 served", rewritten("02"), func() string { return eventDump(n.events(t, zone, "")) })

	// Up to date: a check transfers nothing more.
	axfrs := p.axfrs.Load()
	if rc := n.secondaries.notify(zone, netip.MustParseAddrPort(p.ip+":53"), ""); rc != dns.RcodeSuccess {
		t.Fatalf("NOTIFY answered %s", dns.RcodeToString[rc])
	}
	n.waitEvent(t, zone, "refresh", "serial 2026010102 at "+p.addr+": up to date", 10*time.Second)
	if p.axfrs.Load() != axfrs {
		t.Errorf("the zone was transferred again although up to date")
	}
}

func TestAXFRFilterFailuresKeepOldZone(t *testing.T) {
	old := axfrFilterBudget
	axfrFilterBudget = time.Second
	t.Cleanup(func() { axfrFilterBudget = old })
	zone := "example.com."
	p, n := filterSetup(t, "")
	eventually(t, 20*time.Second, "the zone served", func() bool { return n.servedSerial(t, zone) == 2026010101 },
		func() string { return eventDump(n.events(t, zone, "")) })
	p.set(filterZoneLines(2026010102)...)
	ctx := context.Background()

	marker := filepath.Join(os.TempDir(), "zonekeeper-lua-escaped")
	os.Remove(marker)
	cases := []struct{ script, want string }{
		{"dropns.lua", "the transferred zone is not valid"},
		{"syntax.lua", "does not compile"},
		{"missing.lua", "cannot be read"},
		{"ioopen.lua", "io.open is not available"},
		{"osexecute.lua", "os.execute is not available"},
		{"loop.lua", "ran longer than its budget"},
	}
	for _, tc := range cases {
		t.Run(tc.script, func(t *testing.T) {
			path := installScript(t, n, tc.script)
			if err := n.store.Meta().Set(ctx, zone, store.MetaLuaAXFRScript, []string{path}); err != nil {
				t.Fatal(err)
			}
			err := n.secondaries.retrieve(ctx, zone)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("retrieve: %v, want an error saying %q", err, tc.want)
			}
			if tc.script != "dropns.lua" && !strings.Contains(err.Error(), path) {
				t.Errorf("retrieve: %v does not name the script %s", err, path)
			}
			n.waitEvent(t, zone, "xfr-in-error", tc.want, 5*time.Second)
			if got := n.servedSerial(t, zone); got != 2026010101 {
				t.Errorf("serial served %d, want the old zone's 2026010101", got)
			}
		})
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("os.execute ran")
	}

	// A script outside the scripts directory is never run, whether named
	// directly or through a symlink, and the refusal does not show what
	// the file holds.
	outside := filepath.Join(n.cfg.Data, "ahu.lua")
	src, err := os.ReadFile(luaFixture(t, "ahu.lua"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(outside, src, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(scriptsDir(n.cfg.Data), "link.lua")
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{outside, "../ahu.lua", "link.lua"} {
		if err := n.store.Meta().Set(ctx, zone, store.MetaLuaAXFRScript, []string{v}); err != nil {
			t.Fatal(err)
		}
		err := n.secondaries.retrieve(ctx, zone)
		if err == nil || !strings.Contains(err.Error(), "outside the scripts directory") {
			t.Fatalf("retrieve with script %s: %v, want a refusal naming the scripts directory", v, err)
		}
		if strings.Contains(err.Error(), "axfrfilter") {
			t.Errorf("the refusal shows the script's text: %v", err)
		}
	}
	if got := n.servedSerial(t, zone); got != 2026010101 {
		t.Errorf("serial served %d after refused scripts, want 2026010101", got)
	}

	// A relative path is relative to the scripts directory.
	installScript(t, n, "ahu.lua")
	if err := n.store.Meta().Set(ctx, zone, store.MetaLuaAXFRScript, []string{"ahu.lua"}); err != nil {
		t.Fatal(err)
	}
	if err := n.secondaries.retrieve(ctx, zone); err != nil {
		t.Fatal(err)
	}
	if got := n.servedSerial(t, zone); got != 2026010102 {
		t.Errorf("serial served %d, want 2026010102", got)
	}
	checkAhu(t, zone, p.current(), servedRecords(t, n, zone))
}

// FuzzQuoteTXT: a TXT content a script gives without quotes becomes one
// character-string, byte for byte.
func FuzzQuoteTXT(f *testing.F) {
	for _, s := range []string{"Hello Ahu!", `a "quoted" \ word`, "tab\there", "é", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 255 {
			return
		}
		rr, err := dns.NewRR("x.example. 60 IN TXT " + quoteTXT(s))
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		txt := rr.(*dns.TXT)
		if len(txt.Txt) != 1 {
			t.Fatalf("%q: %d strings", s, len(txt.Txt))
		}
		// miekg/dns keeps strings in presentation form: compare on the wire.
		buf := make([]byte, 1024)
		n, err := dns.PackRR(rr, buf, 0, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		wire := buf[:n]
		if got := wire[len(wire)-len(s):]; string(got) != s || int(wire[len(wire)-len(s)-1]) != len(s) {
			t.Fatalf("%q packs as %q", s, got)
		}
	})
}
