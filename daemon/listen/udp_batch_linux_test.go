//go:build linux

package listen

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"zonekeeper/daemon/answer"

	"golang.org/x/net/ipv4"
)

// fakeBatchConn records WriteBatch calls and answers them from a script.
type fakeBatchConn struct {
	script []fakeWrite
	sent   []string // the payloads sent, in order
	calls  int
}

// fakeWrite is how a WriteBatch call ends: limit messages are sent, then
// err, when not nil, is returned with n (as sendmmsg: -1 when the first
// message fails).
type fakeWrite struct {
	limit, n int
	err      error
}

func (f *fakeBatchConn) WriteBatch(ms []ipv4.Message, _ int) (int, error) {
	f.calls++
	w := fakeWrite{limit: len(ms)}
	if len(f.script) > 0 {
		w, f.script = f.script[0], f.script[1:]
	}
	sent := min(w.limit, len(ms))
	for _, m := range ms[:sent] {
		f.sent = append(f.sent, string(m.Buffers[0]))
	}
	if w.err != nil {
		return w.n, w.err
	}
	return sent, nil
}

func TestUDPBatchFlush(t *testing.T) {
	s := NewServer(ServerConfig{}, answer.NewZones())
	to := netip.MustParseAddrPort("127.0.0.1:5300")
	einval := &net.OpError{Op: "write", Err: syscall.EINVAL}
	for _, tc := range []struct {
		name   string
		script []fakeWrite
		want   string
		err    error
	}{
		{name: "all at once", want: "abcde"},
		{name: "partial writes", script: []fakeWrite{{limit: 2}, {limit: 1}}, want: "abcde"},
		{name: "first fails", script: []fakeWrite{{limit: 0, n: -1, err: einval}}, want: "bcde"},
		{name: "middle fails", script: []fakeWrite{{limit: 2}, {limit: 0, n: -1, err: einval}}, want: "abde"},
		{name: "two fail", script: []fakeWrite{{limit: 0, n: -1, err: einval}, {limit: 1}, {limit: 0, n: -1, err: einval}}, want: "bde"},
		{name: "closed", script: []fakeWrite{{limit: 1}, {limit: 0, n: -1, err: net.ErrClosed}}, want: "a", err: net.ErrClosed},
		{name: "stuck", script: []fakeWrite{{limit: 0}}, want: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newUDPBatch(8, 512, false)
			for _, p := range []string{"a", "b", "c", "d", "e"} {
				b.add([]byte(p), to, netip.Addr{})
			}
			f := &fakeBatchConn{script: tc.script}
			err := b.flush(f, s)
			got := ""
			for _, p := range f.sent {
				got += p
			}
			if got != tc.want || !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Errorf("sent %q, error %v; want %q, %v", got, err, tc.want, tc.err)
			}
			if f.calls > 5 {
				t.Errorf("%d WriteBatch calls for 5 replies", f.calls)
			}
			if b.nout != 0 {
				t.Errorf("%d replies still queued", b.nout)
			}
		})
	}
}

// TestUDPBatchBadDestination sends one batch over a real socket in which
// one reply goes to a closed client and one to an address sendmmsg
// refuses (port 0: EINVAL), and checks that the other clients get theirs.
func TestUDPBatchBadDestination(t *testing.T) {
	u, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	var clients []*net.UDPConn
	for range 3 {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients = append(clients, c)
	}
	addr := func(c *net.UDPConn) netip.AddrPort { return c.LocalAddr().(*net.UDPAddr).AddrPort() }
	closed := addr(clients[1])
	clients[1].Close()
	b := newUDPBatch(8, 512, false)
	b.add([]byte("0"), addr(clients[0]), netip.Addr{})
	b.add([]byte("x"), netip.MustParseAddrPort("127.0.0.1:0"), netip.Addr{})
	b.add([]byte("1"), closed, netip.Addr{})
	b.add([]byte("2"), addr(clients[2]), netip.Addr{})
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if err := b.flush(ipv4.NewPacketConn(u), NewServer(ServerConfig{Logger: log}, answer.NewZones())); err != nil {
		t.Fatal(err)
	}
	// The port 0 reply failed, alone.
	if n := strings.Count(logged.String(), "udp write"); n != 1 || !strings.Contains(logged.String(), "127.0.0.1:0") {
		t.Errorf("want one failed write, to 127.0.0.1:0, logged; got:\n%s", logged.String())
	}
	buf := make([]byte, 16)
	for i, c := range []*net.UDPConn{clients[0], clients[2]} {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := c.Read(buf)
		if err != nil || n != 1 || buf[0] != "02"[i] {
			t.Errorf("client %d: %q, %v", i, buf[:max(n, 0)], err)
		}
	}
}

// TestUDPBatchWildcardSource checks that replies of a batch on a wildcard
// socket leave from the address each query was sent to.
func TestUDPBatchWildcardSource(t *testing.T) {
	s, _ := runUDPServer(t, ServerConfig{Listen: []string{"0.0.0.0:0"}, UDPWorkers: 1}, testZones(t))
	_, port, _ := net.SplitHostPort(s.Addrs()[0].String())
	for _, host := range []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"} {
		if err := udpBurstClient(net.JoinHostPort(host, port), 0, 2, 8); err != nil {
			t.Errorf("via %s: %v", host, err)
		}
	}
}

// TestUDPBatchTruncatedDatagram checks that a datagram too large for a
// batch slot is dropped and the worker goes on.
func TestUDPBatchTruncatedDatagram(t *testing.T) {
	s, _ := runUDPServer(t, ServerConfig{UDPWorkers: 1}, testZones(t))
	addr := s.Addrs()[0].String()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(make([]byte, udpBatchSlot+100)); err != nil {
		t.Fatal(err)
	}
	if err := udpBurstClient(addr, 0, 1, 4); err != nil {
		t.Error(err)
	}
}

// TestListenUDPGroupSpreads checks that the kernel spreads the datagrams
// of many clients over the sockets of a group bound on port 0.
func TestListenUDPGroupSpreads(t *testing.T) {
	us, err := listenUDPGroup("udp4", netip.MustParseAddrPort("127.0.0.1:0"), 4)
	if err != nil {
		t.Fatal(err)
	}
	defer closeUDP(us)
	port := us[0].LocalAddr().(*net.UDPAddr).Port
	for _, u := range us[1:] {
		if p := u.LocalAddr().(*net.UDPAddr).Port; p != port {
			t.Fatalf("sockets on ports %d and %d", port, p)
		}
	}
	const clients = 64
	for range clients {
		c, err := net.DialUDP("udp4", nil, us[0].LocalAddr().(*net.UDPAddr))
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("q"))
		c.Close()
	}
	total, busy := 0, 0
	buf := make([]byte, 16)
	for _, u := range us {
		got := 0
		for {
			u.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			if _, _, err := u.ReadFromUDPAddrPort(buf); err != nil {
				break
			}
			got++
		}
		total += got
		if got > 0 {
			busy++
		}
	}
	if total != clients || busy < 2 {
		t.Errorf("%d of %d datagrams received, by %d of %d sockets", total, clients, busy, len(us))
	}
}

// TestMmsgReader checks that one read takes every queued datagram, with
// its length and source address, over IPv4 and IPv6, and allocates
// nothing.
func TestMmsgReader(t *testing.T) {
	for _, network := range []string{"udp4", "udp6"} {
		t.Run(network, func(t *testing.T) {
			loop := netip.MustParseAddr("127.0.0.1")
			if network == "udp6" {
				loop = netip.IPv6Loopback()
			}
			u, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(loop, 0)))
			if err != nil {
				t.Skip(err)
			}
			defer u.Close()
			c, err := net.DialUDP(network, nil, u.LocalAddr().(*net.UDPAddr))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			b := newUDPBatch(8, 512, false)
			rc, err := u.SyscallConn()
			if err != nil {
				t.Fatal(err)
			}
			rd := newMmsgReader(rc, b.inBuf, b.inOOB)
			payload := make([]byte, 16)
			send := func() {
				for i := range 5 {
					c.Write(payload[:10+i])
				}
				time.Sleep(10 * time.Millisecond) // all queued before the read
			}
			send()
			n, err := rd.read()
			if err != nil || n != 5 {
				t.Fatalf("read %d datagrams, %v; want 5", n, err)
			}
			want := c.LocalAddr().(*net.UDPAddr).AddrPort()
			for i := range n {
				from, ok := rd.from(i)
				size, _, trunc := rd.datagram(i)
				if !ok || from != want || size != 10+i || trunc {
					t.Errorf("datagram %d: %d bytes from %v (truncated %v); want %d from %v", i, size, from, trunc, 10+i, want)
				}
			}
			if allocs := testing.AllocsPerRun(5, func() {
				send()
				if n, err := rd.read(); err != nil || n != 5 {
					t.Fatalf("read %d, %v", n, err)
				}
				rd.from(0)
			}); allocs > 0 {
				// send allocates nothing either: Write on a connected socket.
				t.Errorf("%v allocations per batch", allocs)
			}
			u.Close()
			if _, err := rd.read(); !errors.Is(err, net.ErrClosed) {
				t.Errorf("read on a closed socket: %v", err)
			}
		})
	}
}
