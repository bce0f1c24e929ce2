package listen

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// The TCP connection limits (tcp_limits.go) against real connections on
// loopback: each 127.0.x.y a test dials from stands for a client host.

// needFDs raises the soft limit on open files to n when it is lower, or
// skips the test when the hard limit does not allow it.
func needFDs(t *testing.T, n uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("cannot read the open files limit: %v", err)
	}
	if lim.Cur >= n {
		return
	}
	if lim.Max < n {
		t.Skipf("needs %d open files; the hard limit (ulimit -Hn) is %d", n, lim.Max)
	}
	old := lim.Cur
	lim.Cur = n
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("needs %d open files; raising the soft limit from %d failed: %v", n, old, err)
	}
}

// dialFrom connects to addr from the local address ip. The connection is
// closed when the test ends.
func dialFrom(t *testing.T, ip, addr string) (net.Conn, error) {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c, err := d.Dial("tcp", addr)
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, err
}

// askTCP sends one query on c and reads its reply.
func askTCP(t *testing.T, c net.Conn) error {
	t.Helper()
	return ask(c, frame(t, question("www.example.org.", dns.TypeA)))
}

// ask sends the framed query q on c and reads a reply with one answer.
func ask(c net.Conn, q []byte) error {
	c.SetDeadline(time.Now().Add(5 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write(q); err != nil {
		return err
	}
	m, err := readFrame(c)
	if err == nil && len(m.Answer) != 1 {
		err = fmt.Errorf("reply %v", m)
	}
	return err
}

// askFrom opens a connection from ip and asks one query on it. A dial
// that fails is a refusal too: the server's reset may reach the client
// before its connect returns.
func askFrom(t *testing.T, ip, addr string) error {
	t.Helper()
	c, err := dialFrom(t, ip, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	return askTCP(t, c)
}

// holdIdle opens n connections from ip and sends nothing on them.
func holdIdle(t *testing.T, ip, addr string, n int) {
	t.Helper()
	for range n {
		dialFrom(t, ip, addr)
	}
}

// idleCount returns how many connections wait for a query.
func (t *tcpTable) idleCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for i := range t.idle {
		for c := t.idle[i].head; c != nil; c = c.next {
			n++
		}
	}
	return n
}

// waitAccounted waits until the server has taken or refused n
// connections that the client did not close.
func waitAccounted(t *testing.T, s *Server, n int) {
	t.Helper()
	waitUntil(t, fmt.Sprintf("the server to take or refuse %d connections", n), func() bool {
		st := s.TCPStats()
		return uint64(st.Open)+st.Evicted+st.PressureClosed+st.RefusedFull+st.RefusedPerAddr+st.RefusedPerPrefix == uint64(n)
	})
}

// TestTCPIdleCrowdDoesNotLockOthersOut holds 1,100 idle connections,
// the default limits in place, and asks from another address.
func TestTCPIdleCrowdDoesNotLockOthersOut(t *testing.T) {
	needFDs(t, 4096)
	t.Run("from one address", func(t *testing.T) {
		s := runServer(t, ServerConfig{}, testZones(t))
		addr := s.Addrs()[0].String()
		holdIdle(t, "127.0.0.8", addr, 1100)
		waitAccounted(t, s, 1100)
		if err := askFrom(t, "127.0.0.9", addr); err != nil {
			t.Fatalf("127.0.0.9 beside 1,100 connections of 127.0.0.8: %v (stats %+v)", err, s.TCPStats())
		}
		if st := s.TCPStats(); st.RefusedPerAddr != 1100-64 {
			t.Errorf("stats %+v; want all but 64 of 127.0.0.8 refused", st)
		}
	})
	t.Run("from twenty addresses", func(t *testing.T) {
		s := runServer(t, ServerConfig{}, testZones(t))
		addr := s.Addrs()[0].String()
		for i := range 20 {
			holdIdle(t, fmt.Sprintf("127.0.%d.%d", 1+i/4, 8+i%4), addr, 55)
		}
		waitAccounted(t, s, 1100)
		if err := askFrom(t, "127.0.0.9", addr); err != nil {
			t.Fatalf("127.0.0.9 beside 1,100 connections from 20 others: %v (stats %+v)", err, s.TCPStats())
		}
		if st := s.TCPStats(); st.RefusedFull+st.RefusedPerAddr+st.RefusedPerPrefix != 0 {
			t.Errorf("stats %+v; want none refused: idle ones give way", st)
		}
	})
}

// TestTCPTrickleDoesNotLockOthersOut keeps more connections than the
// limit open from one address, asking one query a second
// on each and reconnecting whenever the server closes one, while
// another address asks.
func TestTCPTrickleDoesNotLockOthersOut(t *testing.T) {
	const conns = 48
	s := runServer(t, ServerConfig{MaxTCPConns: 40, MaxTCPPerAddr: -1, MaxTCPPerPrefix: -1}, testZones(t))
	addr := s.Addrs()[0].String()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(stop)
	q := frame(t, question("www.example.org.", dns.TypeA))
	wg.Go(func() {
		var cs [conns]net.Conn
		for i := range cs {
			cs[i], _ = dialFrom(t, "127.0.0.8", addr)
		}
		tick := time.NewTicker(time.Second / conns)
		defer tick.Stop()
		for i := 0; ; i = (i + 1) % conns {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if cs[i] == nil {
				cs[i], _ = dialFrom(t, "127.0.0.8", addr)
			}
			if cs[i] != nil && ask(cs[i], q) != nil {
				cs[i].Close()
				cs[i] = nil
			}
		}
	})
	waitUntil(t, "the trickle to fill the server", func() bool { return s.TCPStats().Open == 40 })
	for i := range 6 {
		if err := askFrom(t, "127.0.0.9", addr); err != nil {
			t.Fatalf("query %d from 127.0.0.9 during the trickle: %v (stats %+v)", i, err, s.TCPStats())
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// blockingXfr is a special handler: transfers from held addresses wait
// until released; others get a reply of five messages.
type blockingXfr struct {
	held    func(netip.Addr) bool
	waiting chan struct{} // one send per held transfer
	release chan struct{} // closed: held transfers end
}

func (h *blockingXfr) ServeSpecial(w SpecialWriter, req *dns.Msg, raw []byte, from netip.AddrPort, tcp bool) {
	if h.held(from.Addr()) {
		h.waiting <- struct{}{}
		<-h.release
		return
	}
	for i := range 5 {
		m := new(dns.Msg)
		m.SetReply(req)
		rr, _ := dns.NewRR(fmt.Sprintf("%s 300 IN TXT \"part %d\"", req.Question[0].Name, i))
		m.Answer = append(m.Answer, rr)
		b, _ := m.Pack()
		if w.Write(b) != nil {
			return
		}
	}
}

// TestTCPReservedSlots fills the shared slots with transfers that do not
// end, then transfers from the reserved address, on more connections
// than the per-address limit allows others.
func TestTCPReservedSlots(t *testing.T) {
	reserved := netip.MustParseAddr("127.0.0.9")
	h := &blockingXfr{held: func(a netip.Addr) bool { return a != reserved },
		waiting: make(chan struct{}, 100), release: make(chan struct{})}
	s := runServer(t, ServerConfig{MaxTCPConns: 10, TCPReservedConns: 3, MaxTCPPerAddr: 2, MaxTCPPerPrefix: -1,
		Reserved: func(a netip.Addr) bool { return a == reserved }, Special: h}, testZones(t))
	t.Cleanup(func() { close(h.release) }) // before the server stops
	addr := s.Addrs()[0].String()
	axfr := new(dns.Msg)
	axfr.SetAxfr("example.org.")
	req := frame(t, axfr)

	for i := range 7 {
		c, err := dialFrom(t, fmt.Sprintf("127.0.0.%d", 10+i/2), addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Write(req)
		select {
		case <-h.waiting:
		case <-time.After(5 * time.Second):
			t.Fatalf("transfer %d was not taken with %d of 7 shared slots busy", i+1, i)
		}
	}
	// The eighth is refused: a reset, not a transfer that waits.
	if c, err := dialFrom(t, "127.0.0.13", addr); err == nil {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write(req)
		var ne net.Error
		if _, err := readFrame(c); errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("an eighth transfer from others was taken: they hold more than the shared slots")
		}
	}
	if err := askFrom(t, "127.0.0.20", addr); err == nil {
		t.Fatal("a query from an address not reserved was answered with every shared slot busy")
	}
	for i := range 3 {
		c, err := dialFrom(t, reserved.String(), addr)
		if err != nil {
			t.Fatalf("reserved connection %d: %v", i, err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write(req)
		for j := range 5 {
			m, err := readFrame(c)
			if err != nil || len(m.Answer) != 1 {
				t.Fatalf("reserved connection %d, message %d: %v %v", i, j, m, err)
			}
		}
	}
}

// TestTCPPerClientLimits opens connections up to the per-address and
// per-prefix limits, and one more of each.
func TestTCPPerClientLimits(t *testing.T) {
	s := runServer(t, ServerConfig{MaxTCPPerAddr: 3, MaxTCPPerPrefix: 5}, testZones(t))
	addr := s.Addrs()[0].String()
	var first net.Conn
	for i := range 3 {
		c, err := dialFrom(t, "127.0.1.8", addr)
		if err != nil {
			t.Fatal(err)
		}
		if err := askTCP(t, c); err != nil {
			t.Fatalf("connection %d from 127.0.1.8: %v", i+1, err)
		}
		if first == nil {
			first = c
		}
	}
	if err := askFrom(t, "127.0.1.8", addr); err == nil {
		t.Error("a fourth connection from 127.0.1.8 was answered with a per-address limit of 3")
	}
	for i := range 2 {
		if c, err := dialFrom(t, "127.0.1.9", addr); err != nil || askTCP(t, c) != nil {
			t.Fatalf("connection %d from 127.0.1.9 not answered", i+1)
		}
	}
	if err := askFrom(t, "127.0.1.10", addr); err == nil {
		t.Error("a sixth connection from 127.0.1.0/24 was answered with a per-prefix limit of 5")
	}
	if st := s.TCPStats(); st.RefusedPerAddr != 1 || st.RefusedPerPrefix != 1 || st.Open != 5 {
		t.Errorf("stats %+v; want one refusal of each kind and 5 open", st)
	}
	if err := askFrom(t, "127.0.2.9", addr); err != nil {
		t.Errorf("127.0.2.9, of another /24: %v", err)
	}
	first.Close()
	waitUntil(t, "a freed connection slot of 127.0.1.8", func() bool { return askFrom(t, "127.0.1.8", addr) == nil })
}

// TestTCPIdleGivesWay fills the server with idle connections: each new
// one closes the connection idle the longest.
func TestTCPIdleGivesWay(t *testing.T) {
	s := runServer(t, ServerConfig{MaxTCPConns: 3, TCPPressureIdleTimeout: time.Minute, TCPIdleTimeout: time.Minute}, testZones(t))
	addr := s.Addrs()[0].String()
	open := func(ip string) net.Conn {
		t.Helper()
		c, err := dialFrom(t, ip, addr)
		if err != nil {
			t.Fatal(err)
		}
		if err := askTCP(t, c); err != nil {
			t.Fatalf("from %s: %v", ip, err)
		}
		return c
	}
	idle := func(n int) {
		t.Helper()
		waitUntil(t, fmt.Sprintf("%d idle connections", n), func() bool { return s.conns.idleCount() == n })
	}
	a, b, c := open("127.0.0.8"), open("127.0.0.8"), open("127.0.0.8")
	idle(3)
	d := open("127.0.0.9")
	wantClosed(t, a, 5*time.Second)
	if err := askTCP(t, b); err != nil { // b is now the newest idle
		t.Fatal(err)
	}
	idle(3)
	open("127.0.0.10")
	wantClosed(t, c, 5*time.Second)
	for _, x := range []net.Conn{b, d} {
		if err := askTCP(t, x); err != nil {
			t.Errorf("a connection newer in idleness was closed: %v", err)
		}
	}
	if st := s.TCPStats(); st.Evicted != 2 || st.Open != 3 {
		t.Errorf("stats %+v; want 2 evicted, 3 open", st)
	}
}

// TestTCPPressureIdleTimeout shows the shorter idle timeout taking over,
// for the connections already waiting, above three quarters of the
// limit.
func TestTCPPressureIdleTimeout(t *testing.T) {
	s := runServer(t, ServerConfig{MaxTCPConns: 8, MaxTCPPerAddr: -1, TCPPressureIdleTimeout: 300 * time.Millisecond}, testZones(t))
	addr := s.Addrs()[0].String()
	var cs []net.Conn
	for range 3 {
		c, err := dialFrom(t, "127.0.0.8", addr)
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	waitUntil(t, "3 idle connections", func() bool { return s.conns.idleCount() == 3 })
	time.Sleep(600 * time.Millisecond)
	for _, c := range cs {
		if err := askTCP(t, c); err != nil {
			t.Fatalf("closed with 3 of 8 open, before the idle timeout: %v", err)
		}
	}
	for range 4 { // 7 of 8: above three quarters
		c, err := dialFrom(t, "127.0.0.8", addr)
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	for _, c := range cs {
		wantClosed(t, c, 5*time.Second)
	}
	waitUntil(t, "the server to count the closes", func() bool { return s.TCPStats().Open == 0 })
	if st := s.TCPStats(); st.PressureClosed != 7 {
		t.Errorf("stats %+v; want 7 closed by the pressure timeout", st)
	}
	c, err := dialFrom(t, "127.0.0.8", addr)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(600 * time.Millisecond)
	if err := askTCP(t, c); err != nil {
		t.Errorf("the pressure timeout still applies with 1 of 8 open: %v", err)
	}
}

func TestClientPrefix(t *testing.T) {
	for addr, want := range map[string]string{
		"192.0.2.77":        "192.0.2.0/24",
		"2001:db8:0:ff::1":  "2001:db8::/56",
		"2001:db8:0:1ff::1": "2001:db8:0:100::/56",
	} {
		if got := clientPrefix(netip.MustParseAddr(addr)).String(); got != want {
			t.Errorf("clientPrefix(%s) = %s, want %s", addr, got, want)
		}
	}
}
