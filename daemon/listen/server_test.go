package listen

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"zonekeeper/daemon/answer"

	"github.com/miekg/dns"
)

// startServer runs a server for zones on 127.0.0.1 port 0 until the test
// ends, and returns its address.
func startServer(t *testing.T, cfg ServerConfig, zones *answer.Zones) string {
	t.Helper()
	return runServer(t, cfg, zones).Addrs()[0].String()
}

// runServer runs a server for zones, on 127.0.0.1 port 0 unless cfg
// says otherwise, until the test ends.
func runServer(t *testing.T, cfg ServerConfig, zones *answer.Zones) *Server {
	t.Helper()
	if cfg.Listen == nil {
		cfg.Listen = []string{"127.0.0.1:0"}
	}
	s := NewServer(cfg, zones)
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return s
}

func exchange(t *testing.T, proto, addr string, q *dns.Msg) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: proto, Timeout: 5 * time.Second}
	m, _, err := c.Exchange(q, addr)
	if err != nil {
		t.Fatalf("%s exchange %v: %v", proto, q.Question, err)
	}
	return m
}

func TestServerUDPAndTCP(t *testing.T) {
	addr := startServer(t, ServerConfig{}, testZones(t))
	for _, proto := range []string{"udp", "tcp"} {
		m := exchange(t, proto, addr, question("WWW.Example.org.", dns.TypeA))
		if m.Rcode != dns.RcodeSuccess || !m.Authoritative || len(m.Answer) != 1 || m.Answer[0].Header().Name != "WWW.Example.org." {
			t.Errorf("%s: %v", proto, m)
		}
		m = exchange(t, proto, addr, question("www.example.com.", dns.TypeA))
		if m.Rcode != dns.RcodeRefused || m.Authoritative || m.RecursionAvailable || len(m.Answer) != 0 {
			t.Errorf("%s unknown zone: %v", proto, m)
		}
		q := question("www.example.org.", dns.TypeA)
		q.Opcode = 3
		m = exchange(t, proto, addr, q)
		if m.Rcode != dns.RcodeNotImplemented {
			t.Errorf("%s opcode 3: %v", proto, m)
		}
	}
}

func TestServerEDNS(t *testing.T) {
	addr := startServer(t, ServerConfig{UDPSize: 1400}, testZones(t))
	q := question("www.example.org.", dns.TypeA)
	q.SetEdns0(4096, true)
	m := exchange(t, "udp", addr, q)
	if opt := m.IsEdns0(); opt == nil || opt.UDPSize() != 1400 || !opt.Do() {
		t.Errorf("reply OPT %v", opt)
	}
	q.IsEdns0().SetVersion(1)
	m = exchange(t, "udp", addr, q)
	if m.Rcode != dns.RcodeBadVers || m.IsEdns0() == nil {
		t.Errorf("EDNS version 1: %v", m)
	}
}

// rawUDP sends b and returns the reply, or nil after a short wait.
func rawUDP(t *testing.T, addr string, b []byte, wait time.Duration) []byte {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		return nil
	}
	return buf[:n]
}

func TestServerMalformed(t *testing.T) {
	addr := startServer(t, ServerConfig{}, testZones(t))
	opt := "00002904d0000000000000"
	cases := []struct{ in, want string }{
		{"123401000001000000000002" + wwwQuestion + opt + opt, "123481010000000000000000"}, // two OPT RRs
		{"12340100000100000000000003777777", "123481010000000000000000"},                   // cut short
		{"123420000001000000000000" + wwwQuestion, "1234a0040000000000000000"},             // NOTIFY
	}
	for _, c := range cases {
		b, _ := hex.DecodeString(c.in)
		if got := hex.EncodeToString(rawUDP(t, addr, b, 5*time.Second)); got != c.want {
			t.Errorf("%s: reply %s, want %s", c.in, got, c.want)
		}
	}
	// A response is never answered.
	b, _ := hex.DecodeString("123481000001000000000000" + wwwQuestion)
	if got := rawUDP(t, addr, b, 300*time.Millisecond); got != nil {
		t.Errorf("reply to a response: %x", got)
	}
}

func TestServerTCFallback(t *testing.T) {
	addr := startServer(t, ServerConfig{}, testZones(t))
	q := question("big.example.org.", dns.TypeTXT)
	m := exchange(t, "udp", addr, q)
	if !m.Truncated || len(m.Answer) != 0 {
		t.Errorf("UDP: %v; want TC and no answer", m)
	}
	m = exchange(t, "tcp", addr, q)
	if m.Truncated || len(m.Answer) != 3 {
		t.Errorf("TCP: %v; want the three TXT records", m)
	}
}

// frame prefixes a message with its two-byte length.
func frame(t *testing.T, m *dns.Msg) []byte {
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...)
}

func readFrame(r io.Reader) (*dns.Msg, error) {
	var l [2]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	m := new(dns.Msg)
	return m, m.Unpack(b)
}

func TestServerTCPPipelining(t *testing.T) {
	addr := startServer(t, ServerConfig{}, testZones(t))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	names := []string{"www.example.org.", "mail.example.org.", "nothere.example.org.", "ns1.example.org.", "www.example.net."}
	var all []byte
	for i, n := range names {
		q := question(n, dns.TypeA)
		q.Id = uint16(100 + i)
		all = append(all, frame(t, q)...)
	}
	if _, err := c.Write(all); err != nil { // every query before any reply
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for i, n := range names {
		m, err := readFrame(c)
		if err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		if m.Id != uint16(100+i) || m.Question[0].Name != n {
			t.Errorf("reply %d: id %d for %v, want id %d for %s", i, m.Id, m.Question, 100+i, n)
		}
	}
}

// wantClosed reads from c until the server closes it.
func wantClosed(t *testing.T, c net.Conn, within time.Duration) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(within))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after %v", within)
	}
}

func TestServerTCPIdleTimeout(t *testing.T) {
	addr := startServer(t, ServerConfig{TCPIdleTimeout: 300 * time.Millisecond}, testZones(t))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(frame(t, question("www.example.org.", dns.TypeA))); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := readFrame(c); err != nil {
		t.Fatal(err)
	}
	wantClosed(t, c, 10*time.Second)
}

// syncBuffer is a log sink the test reads while the server writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) contains(s string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Contains(b.buf.String(), s)
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestServerTCPSlowReaderCutOff(t *testing.T) {
	// One RRset of about 60 kB: a TCP reply close to the maximum.
	lines := []string{"@ SOA ns host 1 1 1 1 1", "@ NS ns", "ns A 192.0.2.1"}
	for i := range 240 {
		lines = append(lines, "huge TXT "+strings.Repeat("x", 200)+hex.EncodeToString([]byte{byte(i)}))
	}
	zs := answer.NewZones()
	zs.Set(mustCompile(t, testZone(t, "slow.test.", lines...)))
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	addr := startServer(t, ServerConfig{TCPWriteTimeout: 300 * time.Millisecond, Logger: log}, zs)

	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.(*net.TCPConn).SetReadBuffer(4096)
	q := frame(t, question("huge.slow.test.", dns.TypeTXT))
	var all []byte
	for range 1000 { // 60 MB of replies: more than any socket buffers
		all = append(all, q...)
	}
	go c.Write(all) // never read: the server must give up on us
	waitUntil(t, "the server to cut off a client that does not read", func() bool {
		return logs.contains("why=write")
	})
	wantClosed(t, c, 20*time.Second)
}

func TestServerListenErrors(t *testing.T) {
	busy, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, addr := range []string{busy.LocalAddr().String(), "localhost:53", "127.0.0.1"} {
		s := NewServer(ServerConfig{Listen: []string{"127.0.0.1:0", addr}}, answer.NewZones())
		err := s.Listen()
		if err == nil || !strings.Contains(err.Error(), addr) {
			t.Errorf("Listen %s: error %v; want one naming the address", addr, err)
		}
		if len(s.Addrs()) != 0 {
			t.Errorf("Listen %s failed but left %v bound", addr, s.Addrs())
		}
	}
}

func TestServerSamePortForTCP(t *testing.T) {
	s := NewServer(ServerConfig{Listen: []string{"127.0.0.1:0", "127.0.0.1:0"}}, testZones(t))
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	for _, a := range s.Addrs() {
		exchange(t, "tcp", a.String(), question("www.example.org.", dns.TypeA))
	}
	// An open, idle connection must not hold up shutdown.
	c, err := net.Dial("tcp", s.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return with a connection open")
	}
}

func TestServerIPv6(t *testing.T) {
	if _, err := os.Stat("/proc/net/if_inet6"); err != nil {
		t.Skip("no IPv6")
	}
	l, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skip("no IPv6 loopback:", err)
	}
	l.Close()
	addr := startServer(t, ServerConfig{Listen: []string{"[::1]:0"}}, testZones(t))
	for _, proto := range []string{"udp", "tcp"} {
		if m := exchange(t, proto, addr, question("www.example.org.", dns.TypeA)); len(m.Answer) != 1 {
			t.Errorf("%s over IPv6: %v", proto, m)
		}
	}
}

// TestServerWildcardAddress checks that a socket bound to 0.0.0.0 answers
// from the address each query was sent to (a connected client drops a
// reply from any other), and that [::] on the same port binds beside it.
func TestServerWildcardAddress(t *testing.T) {
	addr := startServer(t, ServerConfig{Listen: []string{"0.0.0.0:0"}}, testZones(t))
	_, port, _ := net.SplitHostPort(addr)
	for _, host := range []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"} {
		m := exchange(t, "udp", net.JoinHostPort(host, port), question("www.example.org.", dns.TypeA))
		if len(m.Answer) != 1 {
			t.Errorf("via %s: %v", host, m)
		}
	}
	if l, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback}); err != nil {
		t.Log("no IPv6: skipping [::]")
		return
	} else {
		l.Close()
	}
	addr6 := startServer(t, ServerConfig{Listen: []string{"[::]:" + port}}, testZones(t))
	if m := exchange(t, "udp", addr6, question("www.example.org.", dns.TypeA)); len(m.Answer) != 1 {
		t.Errorf("via [::]: %v", m)
	}
}
