package daemon

// Fixtures of the NOTIFY-out tests: a daemon started with a config of
// the test's choosing, and NOTIFY listeners on 127.0.0.x that record what
// they receive and answer as the test says.

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
	"zonekeeper/store"
)

// startDaemonWith starts a daemon on 127.0.0.1 port 0 over a fresh data
// directory holding files in DATA/zones, with the config changed by configure and
// the daemon prepared by prep between New and Run (both may be nil).
func startDaemonWith(t testing.TB, files map[string]string, configure func(*Config), prep func(*Daemon)) *testDaemon {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Data = t.TempDir()
	cfg.Listen = []string{"127.0.0.1:0"}
	if configure != nil {
		configure(&cfg)
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
	if prep != nil {
		prep(d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("daemon: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("daemon did not stop")
		}
	})
	select {
	case <-d.Ready():
	case err := <-done:
		t.Fatalf("daemon stopped: %v\n%s", err, logs)
	case <-time.After(10 * time.Second):
		t.Fatal("daemon not ready")
	}
	return &testDaemon{Daemon: d, addr: d.Server().Addrs()[0].String(), dir: cfg.ZonesDir(), cfg: cfg, logs: logs}
}

// receivedNotify is one NOTIFY a test listener got.
type receivedNotify struct {
	msg     *dns.Msg
	from    netip.AddrPort
	at      time.Time
	tsigErr error // from verifying its TSIG, when the listener has a key
	served  int64 // the serial the daemon served when it arrived (-1: not asked)
}

// notifyListener is a secondary's NOTIFY port for a test: it records every
// NOTIFY, ignores the first few, and answers the others.
type notifyListener struct {
	conn *net.UDPConn
	addr netip.AddrPort

	mu       sync.Mutex
	got      []receivedNotify
	ignore   int              // NOTIFYs left to ignore
	ignoreOf string           // when set, only NOTIFYs of this zone count against ignore
	silent   bool             // never answer
	rcode    int              // rcode of the answers
	key      *store.Key       // verifies and signs with this key
	provider dns.TsigProvider // for key; miekg/dns's own HMACs when nil
	daemon   string           // when set, the daemon's address: ask its served serial on each NOTIFY
	done     chan struct{}    // closed when the listener goroutine ends
}

// listenNotify binds one listener per ip, all on one port (NOTIFYs to NS
// addresses share ns-port), and returns them with the port.
func listenNotify(t *testing.T, ips ...string) ([]*notifyListener, int) {
	t.Helper()
	for range 50 {
		first, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(ips[0]+":0")))
		if err != nil {
			t.Fatal(err)
		}
		port := first.LocalAddr().(*net.UDPAddr).Port
		conns := []*net.UDPConn{first}
		for _, ip := range ips[1:] {
			c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(fmt.Sprintf("%s:%d", ip, port))))
			if err != nil {
				break
			}
			conns = append(conns, c)
		}
		if len(conns) < len(ips) {
			for _, c := range conns {
				c.Close()
			}
			continue
		}
		var ls []*notifyListener
		for _, c := range conns {
			ls = append(ls, startNotifyListener(t, c))
		}
		return ls, port
	}
	t.Fatalf("no UDP port free on all of %v", ips)
	return nil, 0
}

func startNotifyListener(t *testing.T, c *net.UDPConn) *notifyListener {
	l := &notifyListener{conn: c, addr: c.LocalAddr().(*net.UDPAddr).AddrPort(), done: make(chan struct{})}
	go l.serve()
	t.Cleanup(func() {
		c.Close()
		<-l.done
	})
	return l
}

func (l *notifyListener) serve() {
	defer close(l.done)
	buf := make([]byte, 65535)
	for {
		n, from, err := l.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		raw := append([]byte(nil), buf[:n]...)
		m := new(dns.Msg)
		if m.Unpack(raw) != nil || m.Opcode != dns.OpcodeNotify {
			continue
		}
		l.mu.Lock()
		key, provider, daemon := l.key, l.provider, l.daemon
		l.mu.Unlock()
		rec := receivedNotify{msg: m, from: from, at: time.Now(), served: -1}
		t := m.IsTsig()
		if key != nil && t != nil {
			if provider != nil {
				rec.tsigErr = dns.TsigVerifyWithProvider(raw, provider, "", false)
			} else {
				rec.tsigErr = dns.TsigVerify(raw, key.Secret, "", false)
			}
		}
		if daemon != "" {
			rec.served = daemonSerial(daemon, m.Question[0].Name)
		}
		l.mu.Lock()
		l.got = append(l.got, rec)
		counts := l.ignoreOf == "" || strings.EqualFold(m.Question[0].Name, l.ignoreOf)
		answer := !l.silent && (l.ignore == 0 || !counts)
		if l.ignore > 0 && counts {
			l.ignore--
		}
		rcode := l.rcode
		l.mu.Unlock()
		if !answer {
			continue
		}
		r := new(dns.Msg)
		r.SetReply(m)
		r.Authoritative = true
		r.Rcode = rcode
		var out []byte
		switch {
		case key != nil && t != nil && rec.tsigErr != nil:
			// RFC 8945 §5.2: NOTAUTH, the TSIG error, unsigned.
			r.Rcode = dns.RcodeNotAuth
			r.SetTsig(t.Hdr.Name, t.Algorithm, 300, time.Now().Unix())
			r.Extra[0].(*dns.TSIG).Error = dns.RcodeBadSig
			out, err = r.Pack()
		case key != nil && t != nil:
			r.SetTsig(t.Hdr.Name, t.Algorithm, 300, time.Now().Unix())
			if provider != nil {
				out, _, err = dns.TsigGenerateWithProvider(r, provider, t.MAC, false)
			} else {
				out, _, err = dns.TsigGenerate(r, key.Secret, t.MAC, false)
			}
		default:
			out, err = r.Pack()
		}
		if err == nil {
			l.conn.WriteToUDPAddrPort(out, from)
		}
	}
}

// daemonSerial asks the daemon at addr for zone's SOA serial; -1 on failure.
func daemonSerial(addr, zone string) int64 {
	m := new(dns.Msg)
	m.SetQuestion(zone, dns.TypeSOA)
	c := &dns.Client{Timeout: 2 * time.Second}
	r, _, err := c.Exchange(m, addr)
	if err != nil || len(r.Answer) == 0 {
		return -1
	}
	if soa, ok := r.Answer[0].(*dns.SOA); ok {
		return int64(soa.Serial)
	}
	return -1
}

func (l *notifyListener) set(fn func(l *notifyListener)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fn(l)
}

// received returns the NOTIFYs of serial (all when serial is 0).
func (l *notifyListener) received(serial uint32) []receivedNotify {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []receivedNotify
	for _, r := range l.got {
		if serial == 0 || notifySerial(r.msg) == serial {
			out = append(out, r)
		}
	}
	return out
}

// notifySerial is the serial of the SOA a NOTIFY carries, 0 when none.
func notifySerial(m *dns.Msg) uint32 {
	if len(m.Answer) == 1 {
		if soa, ok := m.Answer[0].(*dns.SOA); ok {
			return soa.Serial
		}
	}
	return 0
}

// notifyEvents returns the daemon's notify-out events of zone, oldest first.
func (td *testDaemon) notifyEvents(t *testing.T, zone string) []api.Event {
	t.Helper()
	evs, err := td.store.Events().List(context.Background(), store.EventFilter{Kind: "notify-out", Zone: zone})
	if err != nil {
		t.Fatal(err)
	}
	var out []api.Event
	for _, e := range evs {
		out = append(out, fromStoreEvent(e))
	}
	return out
}

// hasEvent reports whether an event's detail contains every part.
func hasEvent(evs []api.Event, outcome string, parts ...string) bool {
	return slices.ContainsFunc(evs, func(e api.Event) bool {
		if e.Outcome != outcome {
			return false
		}
		for _, p := range parts {
			if !strings.Contains(e.Detail, p) {
				return false
			}
		}
		return true
	})
}

// notifyZone is example.org with ns1 (the MNAME) and ns2 on 127.0.0.2.
func notifyZone(serial uint32, extra string) string {
	return fmt.Sprintf(`$TTL 300
@ IN SOA ns1 hostmaster %d 3600 900 604800 60
@ IN NS ns1
@ IN NS ns2
ns1 IN A 127.0.0.1
ns2 IN A 127.0.0.2
%s`, serial, extra)
}
