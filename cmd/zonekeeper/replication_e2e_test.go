package main

// zonekeeper replicating to zonekeeper, and TSIG as real clients see it
// (issue 4, "Must show"): two binaries on 127.0.0.1 (primary) and
// 127.0.0.2 (secondary) transfer with each of the six TSIG algorithms,
// and fail with BADSIG when the secondary's secret is wrong; dig's
// signed, unsigned, wrongly signed and unknown-key AXFRs get what BIND
// gives them.

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
)

const (
	primaryIP   = "127.0.0.1" // the primary zonekeeper of a zonekeeper → zonekeeper test
	secondaryIP = "127.0.0.2" // its secondary
)

// TestReplicationTSIGAlgorithms: for each algorithm, a zone whose
// transfers need a key of that algorithm arrives on the secondary whole,
// and a zone whose key the secondary holds with a wrong secret does not
// arrive: the transfer fails with BADSIG, which one side's events show.
func TestReplicationTSIGAlgorithms(t *testing.T) {
	bin := buildZonekeeper(t, t.TempDir())
	type tc struct {
		alg                   string
		good, bad             tsigKey // bad: the primary's; the secondary holds it with another secret
		goodZone, badZone     string
		goodSerial, badSerial uint32
	}
	var cases []tc
	zones := map[string]string{}
	for i, a := range testTSIGAlgorithms {
		c := tc{alg: a.Name, goodZone: a.Name + ".tsig.test.", badZone: "bad-" + a.Name + ".tsig.test.",
			goodSerial: uint32(100 + i), badSerial: uint32(200 + i)}
		c.good = newTSIGKey(t, a.Name+".key", a.Name)
		c.bad = newTSIGKey(t, "bad-"+a.Name+".key", a.Name)
		zones[c.goodZone] = replicationZone(t, c.goodSerial)
		zones[c.badZone] = replicationZone(t, c.badSerial)
		cases = append(cases, c)
	}
	primary := startZKNode(t, bin, zkOptions{IP: primaryIP, Zones: zones})
	secondary := startZKNode(t, bin, zkOptions{IP: secondaryIP, Flags: []string{"--allow-axfr", "127.0.0.1"}})
	for _, c := range cases {
		primary.addKey(c.good)
		primary.addKey(c.bad)
		primary.ok("meta", "set", c.goodZone, "TSIG-ALLOW-AXFR", c.good.Name)
		primary.ok("meta", "set", c.badZone, "TSIG-ALLOW-AXFR", c.bad.Name)
		secondary.addKey(c.good)
		secondary.addKey(c.bad.withSecret(randomSecret(32)))
	}
	for _, c := range cases {
		secondary.ok("zone", "add-secondary", c.goodZone, primary.dns, "--tsig", c.good.Name)
		secondary.ok("zone", "add-secondary", c.badZone, primary.dns, "--tsig", c.bad.Name)
	}

	for _, c := range cases {
		t.Run(c.alg, func(t *testing.T) {
			primary.t, secondary.t = t, t
			diag := func(zone string) func() string {
				return func() string {
					return "primary events:\n" + primary.eventsText(zone) + "\nsecondary events:\n" + secondary.eventsText(zone) +
						"\nsecondary log:\n" + secondary.proc.Output()
				}
			}
			waitSerial(t, secondary.dns, c.goodZone, c.goodSerial, propagationTimeout, diag(c.goodZone))
			compareZones(t, c.goodZone, primary.dns, &c.good, secondary.dns, nil)

			// The wrong secret: `zone retrieve` fails, the zone is not
			// served, and BADSIG is in the events of one side.
			r := secondary.run("zone", "retrieve", c.badZone)
			if r.code == 0 {
				t.Errorf("zone retrieve %s with a wrong secret succeeded: %v", c.badZone, r)
			}
			t.Logf("zone retrieve %s: exit %d: %s", c.badZone, r.code, strings.TrimSpace(r.stderr))
			if s, err := soaSerial(secondary.dns, c.badZone); err == nil {
				t.Errorf("%s is served at serial %d although its transfers fail", c.badZone, s)
			}
			deadline := time.Now().Add(propagationTimeout)
			for {
				ev, side, ok := badsigEvent(primary, secondary, c.badZone, c.bad.Name)
				if ok {
					t.Logf("%s: %s", side, eventLine(ev))
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no event with BADSIG for %s (key %s) on either side within %v; `zone retrieve` said: %s\n%s",
						c.badZone, c.bad.Name, propagationTimeout, strings.TrimSpace(r.stderr), diag(c.badZone)())
				}
				time.Sleep(200 * time.Millisecond)
			}
		})
	}
}

// badsigEvent looks for an event saying BADSIG about zone or key, on the
// primary (which verifies the request) or the secondary (which reads the
// error in the reply).
func badsigEvent(primary, secondary *zkNode, zone, key string) (api.Event, string, bool) {
	mentions := func(ev api.Event) bool {
		return strings.EqualFold(ev.Zone, zone) || strings.Contains(strings.ToLower(ev.Detail), strings.ToLower(zone)) ||
			strings.Contains(strings.ToLower(ev.Detail), strings.TrimSuffix(strings.ToLower(key), "."))
	}
	for _, side := range []struct {
		name string
		n    *zkNode
	}{{"primary", primary}, {"secondary", secondary}} {
		for _, ev := range side.n.events("") {
			if strings.Contains(strings.ToUpper(ev.Detail+" "+ev.Kind), "BADSIG") && mentions(ev) {
				return ev, side.name, true
			}
		}
	}
	return api.Event{}, "", false
}

// TestReplicationDigTSIG: dig's AXFR signed with -y gets the zone; an
// unsigned one is refused, a wrong secret gets BADSIG, an unknown key
// BADKEY, as dig prints them. BIND is asked the same, proving what dig
// prints for each.
func TestReplicationDigTSIG(t *testing.T) {
	const zone = "dig.tsig.test."
	key := newTSIGKey(t, "dig.key", "hmac-sha256")
	bin := buildZonekeeper(t, t.TempDir())
	zk := startZKNode(t, bin, zkOptions{IP: zkIP, Zones: map[string]string{zone: replicationZone(t, 7)}})
	zk.addKey(key)
	zk.ok("meta", "set", zone, "TSIG-ALLOW-AXFR", key.Name)
	file := filepath.Join(t.TempDir(), "dig.zone")
	writeTestFile(t, file, replicationZone(t, 7))
	bind := startBIND(t, bindOptions{Keys: []tsigKey{key}, Zones: []bindZone{{Origin: zone, File: file, Key: key.Name}}})
	wantCount := countZoneRecords(t, replicationZone(t, 7), zone)

	wrong := key.withSecret(randomSecret(32))
	unknown := newTSIGKey(t, "unknown.key", "hmac-sha256")
	for _, srv := range []struct{ name, addr string }{{"BIND", bind.Addr}, {"zonekeeper", zk.dns}} {
		t.Run(srv.name, func(t *testing.T) {
			host, p, _ := net.SplitHostPort(srv.addr)
			dig := func(args ...string) digResult {
				return runDig(t, append([]string{"-b", "127.0.0.1", "@" + host, "-p", p, zone, "AXFR"}, args...)...)
			}
			r := dig("-y", key.digY())
			if body, err := axfrBody(r.Records); err != nil || len(body) != wantCount || len(r.TSIG) == 0 || !strings.Contains(r.TSIG[len(r.TSIG)-1], "NOERROR") {
				t.Errorf("signed AXFR: want %d records between two SOAs, TSIG-signed (%v)\n%v", wantCount, err, r)
			}

			r = dig()
			if len(r.Records) != 0 || !strings.Contains(r.Out, "; Transfer failed.") {
				t.Errorf("unsigned AXFR: want \"; Transfer failed.\" and no records\n%v", r)
			}
			if rcode := axfrRcode(t, srv.addr, zone, nil); rcode != dns.RcodeRefused {
				t.Errorf("unsigned AXFR: rcode %s, want REFUSED", dns.RcodeToString[rcode])
			}

			for _, bad := range []struct {
				name  string
				key   tsigKey
				error string
			}{{"wrong secret", wrong, "BADSIG"}, {"unknown key", unknown, "BADKEY"}} {
				r = dig("-y", bad.key.digY())
				if len(r.Records) != 0 || !strings.Contains(r.Out, "; Transfer failed.") ||
					len(r.TSIG) != 1 || !strings.Contains(r.TSIG[0], " "+bad.error+" ") {
					t.Errorf("AXFR with a %s: want no records, a TSIG record with %s, \"; Transfer failed.\"\n%v", bad.name, bad.error, r)
				}
			}
		})
	}
}

// countZoneRecords counts the records of a zonefile text.
func countZoneRecords(t *testing.T, text, origin string) int {
	t.Helper()
	zp := dns.NewZoneParser(strings.NewReader(text), origin, "")
	n := 0
	for _, ok := zp.Next(); ok; _, ok = zp.Next() {
		n++
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

// axfrRcode sends one AXFR query over TCP from 127.0.0.1 (signed with key
// when not nil) and returns the rcode of the first reply.
func axfrRcode(t *testing.T, addr, zone string, key *tsigKey) int {
	t.Helper()
	m := new(dns.Msg)
	m.SetAxfr(zone)
	c := &dns.Client{Net: "tcp", Timeout: 5 * time.Second}
	if key != nil {
		c.TsigSecret = map[string]string{key.Name: key.Secret}
		m.SetTsig(key.Name, key.miekgAlgorithm(), 300, time.Now().Unix())
	}
	r, _, err := c.Exchange(m, addr)
	if r == nil {
		t.Fatalf("AXFR %s from %s: %v", zone, addr, err)
	}
	return r.Rcode
}
