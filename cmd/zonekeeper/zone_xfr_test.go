package main

// End-to-end tests of `zone retrieve`, `zone notify` and `zone
// notify-host` through the real binary: NOTIFYs go to UDP listeners of
// the test's own on 127.0.0.x, which record them and ask the daemon what
// it serves when each arrives; a secondary zone is retrieved from a
// small primary of the test's own.

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
)

// startXfrCLIDaemon is startCLIDaemon with the serve flags given instead
// of a dead ns-port.
func startXfrCLIDaemon(t *testing.T, flags ...string) *cliDaemon {
	t.Helper()
	dir := t.TempDir()
	d := &cliDaemon{t: t, dir: dir, bin: buildZonekeeper(t, dir), data: filepath.Join(dir, "data")}
	d.sock = filepath.Join(d.data, "control.sock")
	d.conf = filepath.Join(dir, "empty.conf")
	if err := os.WriteFile(d.conf, []byte("# the test passes flags\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(d.data, "zones"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"example.org.zone": exampleOrgZone, "example.net.zone": exampleNetZone} {
		if err := os.WriteFile(filepath.Join(d.data, "zones", name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d.dns = net.JoinHostPort("127.0.0.1", strconv.Itoa(freeLoopbackPort(t, "127.0.0.1")))
	argv := append([]string{d.bin, "serve", "--config", d.conf, "--data", d.data, "--listen", d.dns}, flags...)
	d.proc = startPeerProcess(t, "zonekeeper", argv...)
	waitForSOA(t, d.proc, d.dns, "example.org.")
	d.eventually("the control socket answers", func() bool { return d.run("status").code == 0 })
	return d
}

// xfrNotify is one NOTIFY a listener received.
type xfrNotify struct {
	zone   string
	serial uint32
	aa     bool
	served uint32 // what the daemon served for the zone when it arrived
}

// xfrListener is a secondary's NOTIFY port: it records NOTIFYs and
// answers them unless silent.
type xfrListener struct {
	conn   *net.UDPConn
	addr   netip.AddrPort
	daemon *atomic.Pointer[string] // the daemon's DNS address, asked for its SOA on each NOTIFY once set
	silent atomic.Bool

	mu  sync.Mutex
	got []xfrNotify
}

// listenXfrNotify binds a listener on each ip, all on one port, and
// returns them with the port.
func listenXfrNotify(t *testing.T, daemon *atomic.Pointer[string], ips ...string) ([]*xfrListener, int) {
	t.Helper()
	for range 50 {
		port := freeLoopbackPort(t, ips[0])
		var ls []*xfrListener
		for _, ip := range ips {
			c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(net.JoinHostPort(ip, strconv.Itoa(port)))))
			if err != nil {
				break
			}
			ls = append(ls, &xfrListener{conn: c, addr: c.LocalAddr().(*net.UDPAddr).AddrPort(), daemon: daemon})
		}
		if len(ls) < len(ips) {
			for _, l := range ls {
				l.conn.Close()
			}
			continue
		}
		for _, l := range ls {
			done := make(chan struct{})
			go l.serve(done)
			t.Cleanup(func() {
				l.conn.Close()
				<-done
			})
		}
		return ls, port
	}
	t.Fatalf("no UDP port free on all of %v", ips)
	return nil, 0
}

func (l *xfrListener) serve(done chan struct{}) {
	defer close(done)
	buf := make([]byte, 65535)
	for {
		n, from, err := l.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		m := new(dns.Msg)
		if m.Unpack(buf[:n]) != nil || m.Opcode != dns.OpcodeNotify || len(m.Question) != 1 {
			continue
		}
		rec := xfrNotify{zone: m.Question[0].Name, aa: m.Authoritative}
		if len(m.Answer) == 1 {
			if soa, ok := m.Answer[0].(*dns.SOA); ok {
				rec.serial = soa.Serial
			}
		}
		if addr := l.daemon.Load(); addr != nil {
			q := new(dns.Msg)
			q.SetQuestion(rec.zone, dns.TypeSOA)
			if r, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(q, *addr); err == nil && len(r.Answer) > 0 {
				if soa, ok := r.Answer[0].(*dns.SOA); ok {
					rec.served = soa.Serial
				}
			}
		}
		l.mu.Lock()
		l.got = append(l.got, rec)
		l.mu.Unlock()
		if l.silent.Load() {
			continue
		}
		r := new(dns.Msg)
		r.SetReply(m)
		r.Authoritative = true
		if out, err := r.Pack(); err == nil {
			l.conn.WriteToUDPAddrPort(out, from)
		}
	}
}

// received returns the NOTIFYs of zone at serial.
func (l *xfrListener) received(zone string, serial uint32) []xfrNotify {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []xfrNotify
	for _, n := range l.got {
		if n.zone == zone && n.serial == serial {
			out = append(out, n)
		}
	}
	return out
}

// tableRows splits a table's lines into their fields, header excluded.
func tableRows(out string) [][]string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var rows [][]string
	for _, l := range lines[1:] {
		rows = append(rows, regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(l), -1))
	}
	return rows
}

func TestCLIZoneNotify(t *testing.T) {
	var daemonAddr atomic.Pointer[string]
	ls, port := listenXfrNotify(t, &daemonAddr, "127.0.0.2", "127.0.0.3", "127.0.0.4")
	ns2, also, host := ls[0], ls[1], ls[2]
	p := strconv.Itoa(port)
	d := startXfrCLIDaemon(t, "--ns-port", p, "--also-notify", "127.0.0.3:"+p)
	daemonAddr.Store(&d.dns)

	t.Run("notify", func(t *testing.T) {
		r := d.run("zone", "notify", "example.org")
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("%v", r)
		}
		if !strings.HasPrefix(r.stdout, "ADDR") || !strings.Contains(r.stdout, "SOURCE") || !strings.Contains(r.stdout, "RESULT") {
			t.Errorf("no table header: %v", r)
		}
		want := [][]string{
			{"127.0.0.2:" + p, "ns ns2.example.org.", "NOERROR"},
			{"127.0.0.3:" + p, "also-notify", "NOERROR"},
		}
		if got := tableRows(r.stdout); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("rows\n got %q\nwant %q", got, want)
		}
		var res api.NotifyResult
		d.json(&res, "zone", "notify", "example.org.")
		if res.Zone != "example.org." || res.Serial != 2026112101 || len(res.Targets) != 2 || res.Targets[1].Source != "also-notify" {
			t.Errorf("--json: %+v", res)
		}
		for _, l := range []*xfrListener{ns2, also} {
			got := l.received("example.org.", 2026112101)
			if len(got) < 2 || !got[0].aa {
				t.Errorf("%s received %+v", l.addr, got)
			}
		}
		if got := host.received("example.org.", 2026112101); len(got) != 0 {
			t.Errorf("127.0.0.4 is no target of example.org. but received %+v", got)
		}
	})

	t.Run("notify-host", func(t *testing.T) {
		out := d.ok("zone", "notify-host", "example.org.", host.addr.String())
		want := [][]string{{host.addr.String(), "notify-host", "NOERROR"}}
		if got := tableRows(out); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("rows %q, want %q", got, want)
		}
		if got := host.received("example.org.", 2026112101); len(got) != 1 || !got[0].aa {
			t.Errorf("received %+v", got)
		}
		host.silent.Store(true)
		r := d.run("zone", "notify-host", "example.org.", host.addr.String())
		host.silent.Store(false)
		if r.code != 1 || !strings.Contains(r.stdout, "no answer after 3 tries") ||
			!strings.HasPrefix(r.stderr, "zonekeeper: 1 of 1 NOTIFY targets of zone example.org.") || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("unanswered: %v", r)
		}
	})

	t.Run("an edit is announced once served", func(t *testing.T) {
		var res api.EditResult
		d.json(&res, "record", "add", "example.org.", "fresh", "A", "127.0.0.77")
		d.eventually("NOTIFY of the new serial", func() bool {
			return len(ns2.received("example.org.", res.NewSerial)) > 0 && len(also.received("example.org.", res.NewSerial)) > 0
		})
		for _, l := range []*xfrListener{ns2, also} {
			for _, n := range l.received("example.org.", res.NewSerial) {
				if n.served != res.NewSerial {
					t.Errorf("NOTIFY of serial %d reached %s while the daemon served %d", n.serial, l.addr, n.served)
				}
			}
		}
		var events []api.Event
		d.eventually("notify-out events", func() bool {
			events = nil
			for _, line := range strings.Split(strings.TrimSpace(d.ok("events", "--zone", "example.org.", "--kind", "notify-out", "--limit", "1000", "--json")), "\n") {
				var e api.Event
				if json.Unmarshal([]byte(line), &e) == nil && e.Kind == "notify-out" && e.Serial == res.NewSerial && strings.Contains(e.Detail, "answered NOERROR") {
					events = append(events, e)
				}
			}
			return len(events) >= 2
		})
	})

	t.Run("refused", func(t *testing.T) {
		d.refused(1, "not known here", "zone", "notify", "unknown.test.")
		d.refused(1, "not known here", "zone", "notify-host", "unknown.test.", host.addr.String())
	})
}

func TestCLIZoneXfrUsage(t *testing.T) {
	t.Setenv(controlEnv, filepath.Join(t.TempDir(), "none.sock"))
	for _, tc := range []struct {
		args string
		want string
	}{
		{"zone retrieve", "missing arguments: want NAME"},
		{"zone retrieve a.test. b.test.", "unexpected argument"},
		{"zone retrieve exa..mple.org", "not a domain name"},
		{"zone notify", "missing arguments: want NAME"},
		{"zone notify example.org. 127.0.0.2", "unexpected argument"},
		{"zone notify-host example.org.", "missing arguments: want NAME ADDR"},
		{"zone notify-host example.org. localhost", "host names are not resolved"},
		{"zone notify-host example.org. 127.0.0.300", "not an IP address"},
		{"zone notify-host example.org. 127.0.0.2:99999", "not an IP address"},
		{"zone notify-host exa..mple.org 127.0.0.2", "not a domain name"},
	} {
		wantUsageError(t, tc.args, tc.want)
	}
	for _, verb := range []string{"retrieve", "notify", "notify-host"} {
		var stdout, stderr strings.Builder
		if err := run([]string{"zone", verb, "--help"}, &stdout, &stderr); !errors.Is(err, flag.ErrHelp) {
			t.Errorf("zone %s --help: %v", verb, err)
		}
		for _, want := range []string{"usage: zonekeeper zone " + verb + " NAME", "--json", "--control", "--data", "--config"} {
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("zone %s --help: no %q in\n%s", verb, want, stdout.String())
			}
		}
	}
	var stdout strings.Builder
	run([]string{"zone", "--help"}, &stdout, &stdout)
	for _, verb := range []string{"retrieve", "notify", "notify-host"} {
		if !strings.Contains(stdout.String(), "  "+verb+" ") {
			t.Errorf("zone --help does not list %s:\n%s", verb, stdout.String())
		}
	}
}

// xfrPrimary is a primary of the test's own on 127.0.0.5: it answers SOA
// queries and transfers (the whole zone, for AXFR and IXFR alike) of one
// zone whose serial the test sets.
type xfrPrimary struct {
	addr   string
	serial atomic.Uint32
}

func startXfrPrimary(t *testing.T, zone string, serial uint32) *xfrPrimary {
	t.Helper()
	p := &xfrPrimary{}
	p.serial.Store(serial)
	port := freeLoopbackPort(t, "127.0.0.5")
	p.addr = net.JoinHostPort("127.0.0.5", strconv.Itoa(port))
	records := func() []dns.RR {
		var rrs []dns.RR
		for _, s := range []string{
			fmt.Sprintf("%s 300 IN SOA ns1.%s host.%s %d 3600 900 604800 60", zone, zone, zone, p.serial.Load()),
			fmt.Sprintf("%s 300 IN NS ns1.%s", zone, zone),
			fmt.Sprintf("ns1.%s 300 IN A 127.0.0.5", zone),
			fmt.Sprintf("www.%s 300 IN A 127.0.0.%d", zone, p.serial.Load()%200+10),
		} {
			rr, err := dns.NewRR(s)
			if err != nil {
				panic(err)
			}
			rrs = append(rrs, rr)
		}
		return rrs
	}
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		if len(req.Question) != 1 || !strings.EqualFold(req.Question[0].Name, zone) {
			m := new(dns.Msg)
			m.SetRcode(req, dns.RcodeRefused)
			w.WriteMsg(m)
			return
		}
		rrs := records()
		switch req.Question[0].Qtype {
		case dns.TypeAXFR, dns.TypeIXFR:
			ch := make(chan *dns.Envelope, 1)
			ch <- &dns.Envelope{RR: append(rrs, rrs[0])}
			close(ch)
			new(dns.Transfer).Out(w, req, ch)
		default:
			m := new(dns.Msg)
			m.SetReply(req)
			m.Authoritative = true
			if req.Question[0].Qtype == dns.TypeSOA {
				m.Answer = rrs[:1]
			}
			w.WriteMsg(m)
		}
	})
	for _, network := range []string{"udp", "tcp"} {
		srv := &dns.Server{Addr: p.addr, Net: network, Handler: handler}
		started := make(chan error, 1)
		srv.NotifyStartedFunc = func() { started <- nil }
		go func() {
			if err := srv.ListenAndServe(); err != nil {
				started <- err
			}
		}()
		if err := <-started; err != nil {
			t.Fatalf("test primary on %s/%s: %v", p.addr, network, err)
		}
		t.Cleanup(func() { srv.Shutdown() })
	}
	return p
}

func TestCLIZoneRetrieve(t *testing.T) {
	primary := startXfrPrimary(t, "sec.test.", 42)
	d := startXfrCLIDaemon(t, "--ns-port", strconv.Itoa(freeLoopbackPort(t, "127.0.0.1")))

	d.refused(1, "only secondaries are retrieved", "zone", "retrieve", "example.org.")
	d.refused(1, "not known here", "zone", "retrieve", "unknown.test.")

	d.ok("zone", "add-secondary", "sec.test.", primary.addr)
	if out := d.ok("zone", "retrieve", "sec.test."); out != "retrieved zone sec.test.: serial 42\n" {
		t.Errorf("retrieve printed %q", out)
	}
	if s := d.serial("sec.test."); s != 42 {
		t.Errorf("serving serial %d after retrieve", s)
	}
	primary.serial.Store(43)
	var z api.Zone
	d.json(&z, "zone", "retrieve", "sec.test.")
	if z.Name != "sec.test." || z.Kind != api.KindSecondary || z.Serial != 43 {
		t.Errorf("retrieve --json: %+v", z)
	}
	if got := d.answers("www.sec.test.", dns.TypeA); len(got) != 1 || got[0] != "127.0.0.53" {
		t.Errorf("www.sec.test. A %v after the retrieve of serial 43", got)
	}
}
