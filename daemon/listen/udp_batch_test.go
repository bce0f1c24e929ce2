package listen

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"zonekeeper/daemon/answer"

	"github.com/miekg/dns"
)

// runUDPServer binds cfg's addresses (127.0.0.1 port 0 by default) and
// runs the server until the returned stop is called or the test ends;
// stop reports how long Run took to return.
func runUDPServer(t *testing.T, cfg ServerConfig, zones *answer.Zones) (*Server, func() time.Duration) {
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
	var once sync.Once
	var took time.Duration
	stop := func() time.Duration {
		once.Do(func() {
			start := time.Now()
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("Run did not return after cancel")
			}
			took = time.Since(start)
		})
		return took
	}
	t.Cleanup(func() { stop() })
	return s, stop
}

// wantUDPSockets is how many UDP sockets a server with workers workers
// binds per address on this platform.
func wantUDPSockets(workers int) int {
	if reusePortSupported {
		return workers
	}
	return 1
}

// udpBurstClient sends rounds of burst queries on one connected socket
// (a reply from any other address than addr is not received), then
// reads the replies, and checks that every ID gets the answer to its own
// question.
func udpBurstClient(addr string, client, rounds, burst int) error {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 2048)
	for round := range rounds {
		want := make(map[uint16]string, burst)
		for i := range burst {
			id := uint16(round*burst + i)
			// Every third name exists; the others get NXDOMAIN.
			name := fmt.Sprintf("c%d-%d.example.org.", client, id)
			if i%3 == 0 {
				name = "www.example.org."
			}
			q := question(name, dns.TypeA)
			q.Id = id
			raw, err := q.Pack()
			if err != nil {
				return err
			}
			if _, err := c.Write(raw); err != nil {
				return err
			}
			want[id] = name
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		for len(want) > 0 {
			n, err := c.Read(buf)
			if err != nil {
				return fmt.Errorf("client %d round %d: %d replies missing: %w", client, round, len(want), err)
			}
			m := new(dns.Msg)
			if err := m.Unpack(buf[:n]); err != nil {
				return err
			}
			name, ok := want[m.Id]
			if !ok {
				return fmt.Errorf("client %d: reply with unexpected or repeated ID %d", client, m.Id)
			}
			delete(want, m.Id)
			if len(m.Question) != 1 || m.Question[0].Name != name {
				return fmt.Errorf("client %d: ID %d asked %s, answered %v", client, m.Id, name, m.Question)
			}
			wantRcode, wantAnswers := dns.RcodeNameError, 0
			if name == "www.example.org." {
				wantRcode, wantAnswers = dns.RcodeSuccess, 1
			}
			if m.Rcode != wantRcode || len(m.Answer) != wantAnswers {
				return fmt.Errorf("client %d: %s: rcode %d with %d answers", client, name, m.Rcode, len(m.Answer))
			}
		}
	}
	return nil
}

func TestUDPWorkersConcurrentQueries(t *testing.T) {
	for _, tc := range []struct {
		name     string
		listen   string
		via      string // the address clients send to, when not the bound one
		workers  int
		udpBatch int
	}{
		{name: "1 worker", listen: "127.0.0.1:0", workers: 1},
		{name: "4 workers", listen: "127.0.0.1:0", workers: 4},
		{name: "4 workers one at a time", listen: "127.0.0.1:0", workers: 4, udpBatch: 1},
		{name: "4 workers wildcard", listen: "0.0.0.0:0", via: "127.0.0.2", workers: 4},
		{name: "2 workers IPv6", listen: "[::1]:0", workers: 2},
		{name: "2 workers IPv6 wildcard", listen: "[::]:0", via: "::1", workers: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Contains(tc.listen, "[") {
				l, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
				if err != nil {
					t.Skip("no IPv6 loopback:", err)
				}
				l.Close()
			}
			s, _ := runUDPServer(t, ServerConfig{Listen: []string{tc.listen}, UDPWorkers: tc.workers, udpBatch: tc.udpBatch}, testZones(t))
			if got, want := s.udpSockets(), wantUDPSockets(tc.workers); got != want {
				t.Errorf("%d UDP sockets, want %d", got, want)
			}
			addr := s.Addrs()[0].String()
			if tc.via != "" {
				_, port, _ := net.SplitHostPort(addr)
				addr = net.JoinHostPort(tc.via, port)
			}
			const clients = 6
			errs := make(chan error, clients)
			var wg sync.WaitGroup
			for c := range clients {
				wg.Go(func() { errs <- udpBurstClient(addr, c, 8, 16) })
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func TestUDPWorkersSocketsPerAddress(t *testing.T) {
	s, _ := runUDPServer(t, ServerConfig{Listen: []string{"127.0.0.1:0", "127.0.0.2:0"}, UDPWorkers: 3}, testZones(t))
	if got, want := s.udpSockets(), 2*wantUDPSockets(3); got != want {
		t.Errorf("%d UDP sockets, want %d", got, want)
	}
	for _, a := range s.Addrs() {
		for _, proto := range []string{"udp", "tcp"} {
			if m := exchange(t, proto, a.String(), question("www.example.org.", dns.TypeA)); len(m.Answer) != 1 {
				t.Errorf("%s %s: %v", proto, a, m)
			}
		}
	}
	// The default is one worker per CPU the process may use.
	d := NewServer(ServerConfig{}, answer.NewZones())
	if d.cfg.UDPWorkers != runtime.GOMAXPROCS(0) || d.cfg.udpBatch != udpBatchMax {
		t.Errorf("defaults: %d workers, batches of %d", d.cfg.UDPWorkers, d.cfg.udpBatch)
	}
}

// TestUDPWorkersBusyPort checks that a port another socket holds without
// SO_REUSEPORT is refused, not shared.
func TestUDPWorkersBusyPort(t *testing.T) {
	busy, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	s := NewServer(ServerConfig{Listen: []string{busy.LocalAddr().String()}, UDPWorkers: 4}, answer.NewZones())
	if err := s.Listen(); err == nil {
		s.closeListeners()
		t.Fatal("Listen on a busy port succeeded")
	}
	if n := s.udpSockets(); n != 0 {
		t.Errorf("failed Listen left %d sockets", n)
	}
}

func TestUDPWorkersShutdownUnderLoad(t *testing.T) {
	for _, workers := range []int{1, 4} {
		t.Run(fmt.Sprint(workers), func(t *testing.T) {
			s, stop := runUDPServer(t, ServerConfig{UDPWorkers: workers}, testZones(t))
			addr := s.Addrs()[0].String()
			raw, err := question("www.example.org.", dns.TypeA).Pack()
			if err != nil {
				t.Fatal(err)
			}
			// Clients that send without waiting for replies, until the
			// server is gone and a little longer.
			quit := make(chan struct{})
			var wg sync.WaitGroup
			for range 3 {
				c, err := net.Dial("udp", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				wg.Go(func() {
					for i := 0; i < 1_000_000; i++ {
						select {
						case <-quit:
							return
						default:
						}
						c.Write(raw) // refused once the server is gone: ignored
					}
				})
			}
			time.Sleep(200 * time.Millisecond)
			if took := stop(); took > 2*time.Second {
				t.Errorf("Run took %v to return", took)
			}
			close(quit)
			wg.Wait()
		})
	}
}
