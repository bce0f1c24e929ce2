package listen

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"syscall"
	"time"

	"zonekeeper/daemon/answer"

	"github.com/miekg/dns"
)

// ServerConfig configures the DNS listeners.
type ServerConfig struct {
	Listen          []string       // IP literal with port: "127.0.0.1:5300", "[::1]:5300"; each gets UDP and TCP; port 0 picks one
	UDPSize         uint16         // our EDNS UDP payload size; default DefaultUDPSize (1232)
	TCPIdleTimeout  time.Duration  // how long a TCP connection may wait for its next query; default 10s
	TCPWriteTimeout time.Duration  // how long writing one TCP reply may take before the client is cut off; default 10s
	MaxTCPConns     int            // concurrent TCP connections over all listeners, the reserved ones included; default 1000
	MaxTCPPerAddr   int            // TCP connections from one client address; default 64; -1: no limit
	MaxTCPPerPrefix int            // TCP connections from one IPv4 /24 or IPv6 /56; default 256; -1: no limit
	FullResponses   bool           // add the zone's NS RRset (and its addresses) to positive answers, as NSD does by default; default false
	FastPath        bool           // answer repeated plain queries from the ready-answer cache (ready.go); default false here, yes in the daemon (fast-path)
	FastPathEntries int            // slots of the ready-answer cache, rounded up to a power of two; default 0: four per name served, 4 Ki to 1 Mi
	Special         SpecialHandler // answers what the fast path hands off (NOTIFY, TSIG, transfers, EDNS EXPIRE); default nil: answered as without keys or transfers
	MaxSpecialUDP   int            // special UDP messages handled at once; past it they are dropped; default 64
	UDPWorkers      int            // UDP readers per listen address, each with a socket of its own where SO_REUSEPORT is supported; default GOMAXPROCS
	udpBatch        int            // datagrams per recvmmsg/sendmmsg call; default udpBatchMax; 1: the portable one-at-a-time loop (to compare)
	Logger          *slog.Logger   // default: discard

	// Reserved tells the addresses of the servers the daemon replicates
	// with (primaries, secondaries, peers): their TCP connections may
	// take the reserved slots, and no per-client limit applies to them.
	// It is called for every new connection, so it must be quick.
	// Default nil: none.
	Reserved func(netip.Addr) bool
	// TCPReservedConns is how many of the MaxTCPConns slots only
	// connections from Reserved addresses may take; default a tenth of
	// MaxTCPConns, at least 8 (or half, when that is fewer); -1: none.
	// Without Reserved there is no reserve.
	TCPReservedConns int
	// TCPPressureIdleTimeout replaces TCPIdleTimeout once more than
	// three quarters of MaxTCPConns are open, for the connections
	// already waiting too, until fewer than half are; default 2s.
	TCPPressureIdleTimeout time.Duration
	// RRL limits identical UDP responses to one client prefix
	// (rrl.go); the zero value is off.
	RRL RRLConfig
}

// SpecialHandler answers the messages the zero-allocation query path
// hands off: opcode NOTIFY, any message carrying a TSIG RR, AXFR over
// TCP, IXFR, and SOA queries with the EDNS EXPIRE option. req is the
// message unpacked; raw is the message as received (the caller's buffer:
// copy what must outlive the call or be modified, e.g. for TSIG
// verification, which rewrites it); from is the client's address. Over TCP the call holds the
// connection: the next query is read once it returns, so replies stay
// in order. ServeSpecial writes its replies, none or several, through
// w.
type SpecialHandler interface {
	ServeSpecial(w SpecialWriter, req *dns.Msg, raw []byte, from netip.AddrPort, tcp bool)
}

// SpecialWriter sends the replies of one special message.
type SpecialWriter interface {
	// Write sends one packed DNS message: a datagram over UDP; over TCP
	// a framed message that must be written within TCPWriteTimeout, or
	// the connection is closed (a client that stops reading in the
	// middle of a transfer is cut off). After an error the connection
	// is gone: do not write again.
	Write(msg []byte) error
}

// Server answers DNS queries over UDP and TCP from the zones of a Zones
// registry.
type Server struct {
	cfg   ServerConfig
	zones *answer.Zones
	log   *slog.Logger
	conns *tcpTable // the open TCP connections and their limits (tcp_limits.go)
	rrl   *rrl      // response rate limiting of UDP answers (rrl.go); nil when off
	pool  sync.Pool // of *answer.Responder with its buffers

	statsMu sync.Mutex                    // guards live and retired
	live    map[*answer.Counters]struct{} // the counters of every responder not yet collected
	retired answer.QueryStats             // the counts of collected responders

	specialUDP chan struct{}  // one token per special UDP message being handled
	slow       sync.WaitGroup // goroutines handling special UDP messages

	mu  sync.Mutex
	udp [][]*net.UDPConn // per listen address: its UDP sockets, all on the same address and port
	tcp []*net.TCPListener
}

// NewServer returns a server for zones, with cfg's zero fields set to
// their defaults. It binds nothing until Listen or Run.
func NewServer(cfg ServerConfig, zones *answer.Zones) *Server {
	if cfg.UDPSize == 0 {
		cfg.UDPSize = answer.DefaultUDPSize
	}
	if cfg.TCPIdleTimeout <= 0 {
		cfg.TCPIdleTimeout = 10 * time.Second
	}
	if cfg.TCPWriteTimeout <= 0 {
		cfg.TCPWriteTimeout = 10 * time.Second
	}
	if cfg.MaxTCPConns <= 0 {
		cfg.MaxTCPConns = 1000
	}
	if cfg.MaxTCPPerAddr == 0 {
		cfg.MaxTCPPerAddr = 64
	}
	if cfg.MaxTCPPerPrefix == 0 {
		cfg.MaxTCPPerPrefix = 256
	}
	if cfg.TCPReservedConns == 0 {
		cfg.TCPReservedConns = max(cfg.MaxTCPConns/10, min(8, cfg.MaxTCPConns/2))
	}
	if cfg.TCPPressureIdleTimeout <= 0 {
		cfg.TCPPressureIdleTimeout = 2 * time.Second
	}
	if cfg.MaxSpecialUDP <= 0 {
		cfg.MaxSpecialUDP = 64
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.UDPWorkers <= 0 {
		// GOMAXPROCS follows the CPU affinity mask: a daemon pinned to
		// one CPU gets one worker.
		cfg.UDPWorkers = max(1, runtime.GOMAXPROCS(0))
	}
	if cfg.udpBatch <= 0 || cfg.udpBatch > udpBatchMax {
		cfg.udpBatch = udpBatchMax
	}
	s := &Server{cfg: cfg, zones: zones, log: cfg.Logger, conns: newTCPTable(&cfg),
		specialUDP: make(chan struct{}, cfg.MaxSpecialUDP), rrl: newRRL(cfg.RRL, cfg.Reserved)}
	s.pool.New = func() any {
		rc := answer.ResponderConfig{UDPSize: cfg.UDPSize, Full: cfg.FullResponses, Handoff: s.cfg.Special != nil}
		if cfg.FastPath {
			rc.Ready = cmp.Or(cfg.FastPathEntries, -1) // -1: sized by the zones
		}
		r := answer.NewResponder(zones, rc)
		s.trackCounters(r)
		return r
	}
	return s
}

// SetSpecial sets the handler of special messages (ServerConfig.Special)
// of a server that does not run yet; the daemon, which is built around
// its server, sets itself.
func (s *Server) SetSpecial(h SpecialHandler) { s.cfg.Special = h }

// Listen binds a UDP socket and a TCP listener on every configured
// address. When the port is 0, TCP binds the port the UDP socket got. On
// failure nothing stays bound and the error names the address.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.udp) > 0 {
		return errors.New("daemon: server already listening")
	}
	if len(s.cfg.Listen) == 0 {
		return errors.New("daemon: no listen address configured")
	}
	for _, a := range s.cfg.Listen {
		u, t, err := listenPair(a, s.udpSocketsPerAddr())
		if err != nil {
			s.closeListeners()
			return err
		}
		s.udp = append(s.udp, u)
		s.tcp = append(s.tcp, t)
	}
	return nil
}

// udpSocketsPerAddr is how many UDP sockets Listen binds on each
// address: one per worker where the kernel can spread the datagrams of
// a port over several sockets (SO_REUSEPORT), so that no two workers
// contend for one socket; else one, which all the workers read.
func (s *Server) udpSocketsPerAddr() int {
	if reusePortSupported {
		return s.cfg.UDPWorkers
	}
	return 1
}

// udpSockets returns the number of bound UDP sockets, over all addresses.
func (s *Server) udpSockets() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, g := range s.udp {
		n += len(g)
	}
	return n
}

// listenPair binds n UDP sockets (n > 1 only with SO_REUSEPORT) and a TCP
// listener on the same address and port.
func listenPair(addr string, n int) ([]*net.UDPConn, *net.TCPListener, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen %s: want an IP address and port such as 127.0.0.1:5300 or [::1]:5300: %w", addr, err)
	}
	// One address family per socket: "[::]:53" must not also take the
	// IPv4 wildcard, which "0.0.0.0:53" may claim beside it.
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	udpNet, tcpNet := "udp6", "tcp6"
	if ap.Addr().Is4() {
		udpNet, tcpNet = "udp4", "tcp4"
	}
	// With port 0 the kernel may give UDP a port already taken for TCP:
	// try again with another.
	for attempt := 0; ; attempt++ {
		us, err := listenUDPGroup(udpNet, ap, n)
		if err != nil {
			return nil, nil, fmt.Errorf("listen udp %s: %w", addr, err)
		}
		port := us[0].LocalAddr().(*net.UDPAddr).Port
		t, err := net.ListenTCP(tcpNet, net.TCPAddrFromAddrPort(netip.AddrPortFrom(ap.Addr(), uint16(port))))
		if err == nil {
			return us, t, nil
		}
		closeUDP(us)
		if ap.Port() != 0 || attempt == 10 || !errors.Is(err, syscall.EADDRINUSE) {
			return nil, nil, fmt.Errorf("listen tcp %s: %w", addr, err)
		}
	}
}

// listenUDPGroup binds n UDP sockets on ap; with port 0 the first one
// picks the port and the others bind the same. On a wildcard address
// each socket reports the destination of its datagrams (pktinfo*.go).
func listenUDPGroup(network string, ap netip.AddrPort, n int) ([]*net.UDPConn, error) {
	us := make([]*net.UDPConn, 0, n)
	for i := range n {
		var lc net.ListenConfig
		// The first socket on port 0 sets SO_REUSEPORT only once bound:
		// when picking a port the kernel counts as free one that another
		// group of SO_REUSEPORT sockets of the same user holds, and we
		// would share it.
		first0 := i == 0 && ap.Port() == 0
		if n > 1 && !first0 {
			lc.Control = reusePort
		}
		pc, err := lc.ListenPacket(context.Background(), network, ap.String())
		if err != nil {
			closeUDP(us)
			return nil, err
		}
		u := pc.(*net.UDPConn)
		us = append(us, u)
		if n > 1 && first0 {
			if err := setReusePort(u); err != nil {
				closeUDP(us)
				return nil, err
			}
		}
		if ap.Addr().IsUnspecified() && pktinfoSupported {
			if err := enablePktinfo(u, network == "udp6"); err != nil {
				closeUDP(us)
				return nil, fmt.Errorf("destination address option: %w", err)
			}
		}
		if ap.Port() == 0 {
			ap = netip.AddrPortFrom(ap.Addr(), uint16(u.LocalAddr().(*net.UDPAddr).Port))
		}
	}
	return us, nil
}

// setReusePort sets SO_REUSEPORT on a bound socket, so that more may
// bind its address and port.
func setReusePort(u *net.UDPConn) error {
	rc, err := u.SyscallConn()
	if err != nil {
		return err
	}
	return reusePort("", "", rc)
}

// closeUDP closes every socket of us.
func closeUDP(us []*net.UDPConn) {
	for _, u := range us {
		u.Close()
	}
}

// Addrs returns the bound UDP addresses, in configuration order; TCP
// listens on the same ones.
func (s *Server) Addrs() []net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]net.Addr, len(s.udp))
	for i, g := range s.udp {
		out[i] = g[0].LocalAddr()
	}
	return out
}

// Run serves until ctx is cancelled, then closes every socket and
// connection and waits for its goroutines. It calls Listen first when
// nothing is bound yet. A Server runs once.
func (s *Server) Run(ctx context.Context) error {
	s.mu.Lock()
	bound := len(s.udp) > 0
	s.mu.Unlock()
	if !bound {
		if err := s.Listen(); err != nil {
			return err
		}
	}
	s.mu.Lock()
	udp, tcp := s.udp, s.tcp
	s.mu.Unlock()

	var wg sync.WaitGroup
	serve := s.serveUDP
	if s.cfg.udpBatch > 1 && udpBatchSupported {
		serve = s.serveUDPBatch
	}
	for _, g := range udp {
		// One reader per socket when each worker has its own; else all
		// the workers read the one socket.
		for _, u := range g {
			for range max(1, s.cfg.UDPWorkers/len(g)) {
				wg.Go(func() { serve(ctx, u) })
			}
		}
	}
	for _, t := range tcp {
		wg.Go(func() { s.serveTCP(ctx, t, &wg) })
	}
	<-ctx.Done()
	s.mu.Lock()
	s.closeListeners()
	s.mu.Unlock()
	wg.Wait()
	s.slow.Wait()
	return nil
}

// Close closes the sockets of a server that will not Run (its owner
// failed to start after Listen); Run closes them itself when it ends.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeListeners()
}

// closeListeners closes every socket; s.mu is held.
func (s *Server) closeListeners() {
	for _, g := range s.udp {
		closeUDP(g)
	}
	for _, t := range s.tcp {
		t.Close()
	}
	s.udp, s.tcp = nil, nil
}

// QueryStats returns the counts since the server was made, summed over
// its responders on demand: serving a query writes only its own
// responder's counters.
func (s *Server) QueryStats() answer.QueryStats {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	st := s.retired
	for c := range s.live {
		c.AddTo(&st)
	}
	return st
}

// TCPStats returns what the TCP connection limits did since the server
// was made, and how many connections are open.
func (s *Server) TCPStats() TCPStats { return s.conns.snapshot() }

// trackCounters registers the counters of r, a responder the pool just
// made. The pool drops idle responders at garbage collection: then their
// counts move to s.retired, so that neither they nor the responders are
// lost or kept forever.
func (s *Server) trackCounters(r *answer.Responder) {
	s.statsMu.Lock()
	if s.live == nil {
		s.live = make(map[*answer.Counters]struct{})
	}
	s.live[r.Counters()] = struct{}{}
	s.statsMu.Unlock()
	runtime.AddCleanup(r, s.retireCounters, r.Counters())
}

// retireCounters folds the counters of a collected responder into
// s.retired. Nothing writes them any more: their responder is gone.
func (s *Server) retireCounters(c *answer.Counters) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if _, ok := s.live[c]; ok {
		c.AddTo(&s.retired)
		delete(s.live, c)
	}
}
