package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/store"
)

// Fixtures of the secondary tests: a primary of our own on miekg/dns
// that can misbehave on demand, and zonekeeper daemons acting as
// secondaries on 127.0.0.2.

// testPrimary is a primary server for one zone, on 127.0.0.x, UDP and
// TCP on one port. Its knobs are read at each request.
type testPrimary struct {
	t    testing.TB
	ip   string
	addr string // ip:port, fixed for the primary's life (restarts reuse it)
	zone string

	mu       sync.Mutex
	versions [][]dns.RR // every version served, oldest first; the SOA first in each
	chunk    int        // records per transfer message
	// Faults.
	stopAfter   int           // close a transfer's connection after this many messages (0: never)
	stall       time.Duration // pause after a transfer's first message
	ixfrMode    string        // "" differences; "full": the whole zone; or an rcode name such as "NOTIMP"
	axfrRcode   string        // "": the zone; or an rcode name such as "REFUSED"
	unsignedXFR bool          // transfers are answered without TSIG
	expireOpt   int64         // EDNS EXPIRE value sent in SOA answers; -1: none
	tcpSecret   string        // when set, the TCP side signs with this secret instead

	key, secret string // TSIG key (fully qualified) and secret; "" none

	soas, axfrs, ixfrs atomic.Int32

	servers []*dns.Server
	done    chan struct{}
}

// newTestPrimary starts a primary for zone on ip with the given first
// version (zonefile lines relative to the zone, SOA first).
func newTestPrimary(t testing.TB, ip, zone string, lines ...string) *testPrimary {
	t.Helper()
	p := &testPrimary{t: t, ip: ip, zone: zone, chunk: 3, expireOpt: -1, done: make(chan struct{})}
	p.versions = [][]dns.RR{p.parse(lines...)}
	p.start()
	t.Cleanup(func() {
		close(p.done)
		p.stop()
	})
	return p
}

// withKey makes the primary verify and sign with a TSIG key; call before
// restart to take effect.
func (p *testPrimary) withKey(name, secret string) *testPrimary {
	p.mu.Lock()
	p.key, p.secret = dns.CanonicalName(name), secret
	p.mu.Unlock()
	p.stop()
	p.start()
	return p
}

func (p *testPrimary) parse(lines ...string) []dns.RR {
	p.t.Helper()
	var out []dns.RR
	for _, l := range lines {
		rr, err := dns.NewRR("$ORIGIN " + p.zone + "\n$TTL 300\n" + l)
		if err != nil {
			p.t.Fatalf("record %q: %v", l, err)
		}
		out = append(out, rr)
	}
	return out
}

// set makes a new version current.
func (p *testPrimary) set(lines ...string) {
	rrs := p.parse(lines...)
	p.mu.Lock()
	p.versions = append(p.versions, rrs)
	p.mu.Unlock()
}

// configure changes knobs under the lock.
func (p *testPrimary) configure(f func(p *testPrimary)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p)
}

// start listens (again) on the primary's address.
func (p *testPrimary) start() {
	p.t.Helper()
	addr := p.ip + ":0"
	if p.addr != "" {
		addr = p.addr
	}
	var (
		pc  net.PacketConn
		l   net.Listener
		err error
	)
	for attempt := 0; attempt < 20; attempt++ {
		if pc, err = net.ListenPacket("udp", addr); err != nil {
			continue
		}
		l, err = net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			break
		}
		pc.Close()
		if p.addr != "" {
			// Restarting on a fixed port: the old socket may linger a moment.
			time.Sleep(50 * time.Millisecond)
		}
	}
	if err != nil {
		p.t.Fatalf("test primary: listen %s: %v", addr, err)
	}
	p.addr = pc.LocalAddr().String()
	p.mu.Lock()
	udpSecrets, tcpSecrets := map[string]string(nil), map[string]string(nil)
	if p.key != "" {
		udpSecrets = map[string]string{p.key: p.secret}
		tcpSecrets = udpSecrets
		if p.tcpSecret != "" {
			tcpSecrets = map[string]string{p.key: p.tcpSecret}
		}
	}
	p.mu.Unlock()
	var started sync.WaitGroup
	started.Add(2)
	us := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(p.serve), TsigSecret: udpSecrets, NotifyStartedFunc: started.Done}
	ts := &dns.Server{Listener: l, Handler: dns.HandlerFunc(p.serve), TsigSecret: tcpSecrets, NotifyStartedFunc: started.Done}
	for _, s := range []*dns.Server{us, ts} {
		go s.ActivateAndServe()
	}
	started.Wait()
	p.servers = []*dns.Server{us, ts}
}

// stop closes the primary's sockets: its address refuses from now on.
func (p *testPrimary) stop() {
	for _, s := range p.servers {
		s.Shutdown()
	}
	p.servers = nil
}

// current returns the current version's records.
func (p *testPrimary) current() []dns.RR {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.versions[len(p.versions)-1]
}

func (p *testPrimary) serve(w dns.ResponseWriter, r *dns.Msg) {
	if len(r.Question) != 1 {
		return
	}
	q := r.Question[0]
	p.mu.Lock()
	cur := p.versions[len(p.versions)-1]
	versions := p.versions
	ixfrMode, axfrRcode, expireOpt := p.ixfrMode, p.axfrRcode, p.expireOpt
	p.mu.Unlock()
	switch q.Qtype {
	case dns.TypeSOA:
		p.soas.Add(1)
		m := p.reply(r)
		m.Answer = []dns.RR{cur[0]}
		if r.IsEdns0() != nil {
			m.SetEdns0(1232, false)
			if expireOpt >= 0 {
				opt := m.IsEdns0()
				opt.Option = append(opt.Option, &dns.EDNS0_EXPIRE{Code: dns.EDNS0EXPIRE, Expire: uint32(expireOpt)})
			}
		}
		p.sign(w, r, m, false)
		w.WriteMsg(m)
	case dns.TypeAXFR:
		p.axfrs.Add(1)
		if axfrRcode != "" {
			m := p.reply(r)
			m.Rcode = dns.StringToRcode[axfrRcode]
			p.sign(w, r, m, false)
			w.WriteMsg(m)
			return
		}
		p.stream(w, r, fullZone(cur))
	case dns.TypeIXFR:
		p.ixfrs.Add(1)
		switch ixfrMode {
		case "":
			have := r.Ns[0].(*dns.SOA).Serial
			for _, v := range versions {
				if v[0].(*dns.SOA).Serial == have {
					p.stream(w, r, ixfrDiff(v, cur))
					return
				}
			}
			p.stream(w, r, fullZone(cur))
		case "full":
			p.stream(w, r, fullZone(cur))
		default:
			m := p.reply(r)
			m.Rcode = dns.StringToRcode[ixfrMode]
			p.sign(w, r, m, false)
			w.WriteMsg(m)
		}
	}
}

func (p *testPrimary) reply(r *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	return m
}

// sign adds a TSIG RR to m when r was signed (the server signs it on
// write), unless the transfer is to go unsigned.
func (p *testPrimary) sign(w dns.ResponseWriter, r, m *dns.Msg, xfr bool) {
	t := r.IsTsig()
	if t == nil {
		return
	}
	p.mu.Lock()
	unsigned := p.unsignedXFR && xfr
	p.mu.Unlock()
	if !unsigned {
		m.SetTsig(t.Hdr.Name, t.Algorithm, 300, time.Now().Unix())
	}
}

// stream sends a transfer answer in messages of p.chunk records, with
// the faults configured.
func (p *testPrimary) stream(w dns.ResponseWriter, r *dns.Msg, rrs []dns.RR) {
	p.mu.Lock()
	chunk, stopAfter, stall := p.chunk, p.stopAfter, p.stall
	p.mu.Unlock()
	for i, n := 0, 0; i < len(rrs); i, n = i+chunk, n+1 {
		if stopAfter > 0 && n == stopAfter {
			w.Close()
			return
		}
		if stall > 0 && n == 1 {
			select {
			case <-time.After(stall):
			case <-p.done:
				return
			}
		}
		m := p.reply(r)
		m.Answer = rrs[i:min(i+chunk, len(rrs))]
		p.sign(w, r, m, true)
		if err := w.WriteMsg(m); err != nil {
			return
		}
		w.TsigTimersOnly(true)
	}
}

// fullZone is a zone as AXFR sends it: SOA, the rest, SOA.
func fullZone(v []dns.RR) []dns.RR {
	out := append([]dns.RR(nil), v...)
	return append(out, v[0])
}

// ixfrDiff is the one-step IXFR answer from version a to b.
func ixfrDiff(a, b []dns.RR) []dns.RR {
	in := func(rr dns.RR, set []dns.RR) bool {
		for _, x := range set {
			if dns.IsDuplicate(x, rr) && x.Header().Ttl == rr.Header().Ttl {
				return true
			}
		}
		return false
	}
	out := []dns.RR{b[0], a[0]}
	for _, rr := range a[1:] {
		if !in(rr, b) {
			out = append(out, rr)
		}
	}
	out = append(out, b[0])
	for _, rr := range b[1:] {
		if !in(rr, a) {
			out = append(out, rr)
		}
	}
	return append(out, b[0])
}

// secZoneLines is a small zone with the given serial and SOA timers;
// extra lines are appended.
func secZoneLines(serial uint32, refresh, retry, expire int, extra ...string) []string {
	return append([]string{
		fmt.Sprintf("@ SOA ns1 hostmaster %d %d %d %d 60", serial, refresh, retry, expire),
		"@ NS ns1",
		"ns1 A 127.0.0.1",
		"www A 127.0.0.10",
	}, extra...)
}

// secondaryNode is a zonekeeper daemon on 127.0.0.2 over a data
// directory that outlives it, so that it can be restarted.
type secondaryNode struct {
	*testDaemon
	stopFn func()
}

// startSecondaryNode starts a daemon on 127.0.0.2:0 over data (a fresh
// directory when empty); tune may change its configuration.
func startSecondaryNode(t testing.TB, data string, tune func(*Config)) *secondaryNode {
	t.Helper()
	return startNode(t, "127.0.0.2", data, nil, tune)
}

// startNode starts a daemon on ip:0 over data (a fresh directory when
// empty) with zonefiles in DATA/zones; tune may change its configuration.
func startNode(t testing.TB, ip, data string, files map[string]string, tune func(*Config)) *secondaryNode {
	t.Helper()
	cfg := DefaultConfig()
	if data == "" {
		data = t.TempDir()
	}
	cfg.Data = data
	cfg.Listen = []string{ip + ":0"}
	if tune != nil {
		tune(&cfg)
	}
	if err := os.MkdirAll(cfg.ZonesDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(cfg.ZonesDir(), name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	logs := &logBuffer{}
	d, err := New(cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("daemon: %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Error("daemon did not stop")
			}
		})
	}
	t.Cleanup(stop)
	select {
	case <-d.Ready():
	case err := <-done:
		t.Fatalf("daemon stopped: %v\n%s", err, logs)
	case <-time.After(60 * time.Second):
		t.Fatal("daemon not ready")
	}
	td := &testDaemon{Daemon: d, addr: d.Server().Addrs()[0].String(), dir: cfg.ZonesDir(), cfg: cfg, logs: logs}
	return &secondaryNode{testDaemon: td, stopFn: stop}
}

// addSecondaryZone registers a secondary zone as `zone add-secondary` does.
func (n *secondaryNode) addSecondaryZone(t testing.TB, zone, key string, primaries ...string) {
	t.Helper()
	err := n.store.Zones().Add(context.Background(), store.Zone{Name: zone, Kind: store.KindSecondary, Primaries: primaries, TSIGKey: key})
	if err != nil {
		t.Fatal(err)
	}
	n.secondaries.added(zone)
}

// addKey stores a TSIG key.
func (n *secondaryNode) addKey(t testing.TB, name, alg, secret string) {
	t.Helper()
	if err := n.store.Keys().Add(context.Background(), store.Key{Name: name, Algorithm: alg, Secret: secret}); err != nil {
		t.Fatal(err)
	}
	n.keys.reload()
}

// ask sends one question over UDP from 127.0.0.9 and returns the answer.
func (n *secondaryNode) ask(t testing.TB, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	return exchangeFrom(t, "127.0.0.9", n.addr, m)
}

// exchangeFrom sends m over UDP from ip to addr and returns the answer.
func exchangeFrom(t testing.TB, ip, addr string, m *dns.Msg) *dns.Msg {
	t.Helper()
	c := &dns.Client{Timeout: 3 * time.Second, Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP(ip)}}}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("query %v to %s: %v", m.Question, addr, err)
	}
	return r
}

// servedSerial is the serial the node answers for zone; -1 when it does
// not answer NOERROR.
func (n *secondaryNode) servedSerial(t testing.TB, zone string) int64 {
	r := n.ask(t, zone, dns.TypeSOA)
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 {
		return -1
	}
	return int64(r.Answer[0].(*dns.SOA).Serial)
}

// zoneFile returns the bytes of a secondary zone's file; nil if absent.
func (n *secondaryNode) zoneFile(t testing.TB, zone string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(n.cfg.Data, "secondary", fileNameOf(zone)))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// events returns the recorded events of a zone of one kind ("" any).
func (n *secondaryNode) events(t testing.TB, zone, kind string) []store.Event {
	t.Helper()
	evs, err := n.store.Events().List(context.Background(), store.EventFilter{Zone: zone, Kind: kind})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// waitEvent waits for an event of a zone of that kind whose detail holds text.
func (n *secondaryNode) waitEvent(t testing.TB, zone, kind, text string, within time.Duration) store.Event {
	t.Helper()
	var found store.Event
	eventually(t, within, fmt.Sprintf("a %s event containing %q", kind, text), func() bool {
		for _, e := range n.events(t, zone, kind) {
			if strings.Contains(e.Detail, text) {
				found = e
				return true
			}
		}
		return false
	}, func() string { return eventDump(n.events(t, zone, "")) })
	return found
}

// eventDump renders events for a failure message.
func eventDump(evs []store.Event) string {
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "  %s %s %s: %s\n", e.Time.Format("15:04:05.000"), e.Kind, e.Outcome, e.Detail)
	}
	return b.String()
}

// eventually polls cond until it holds or within passes; explain adds
// context to the failure.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool, explain func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			msg := ""
			if explain != nil {
				msg = "\n" + explain()
			}
			t.Fatalf("timed out after %s waiting for %s%s", within, what, msg)
		}
		time.Sleep(25 * time.Millisecond)
	}
}
