package daemon

import (
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

	"github.com/miekg/dns"
)

// ServerConfig configures the DNS listeners.
type ServerConfig struct {
	Listen          []string       // IP literal with port: "127.0.0.1:5300", "[::1]:5300"; each gets UDP and TCP; port 0 picks one
	UDPSize         uint16         // our EDNS UDP payload size; default DefaultUDPSize (1232)
	TCPIdleTimeout  time.Duration  // how long a TCP connection may wait for its next query; default 10s
	TCPWriteTimeout time.Duration  // how long writing one TCP reply may take before the client is cut off; default 10s
	MaxTCPConns     int            // concurrent TCP connections over all listeners; default 1000
	FullResponses   bool           // add the zone's NS RRset (and its addresses) to positive answers, as NSD does by default; default false
	Special         SpecialHandler // answers what the fast path hands off (NOTIFY, TSIG, transfers, EDNS EXPIRE); default nil: answered as without keys or transfers
	MaxSpecialUDP   int            // special UDP messages handled at once; past it they are dropped; default 64
	Logger          *slog.Logger   // default: discard
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
	zones *Zones
	log   *slog.Logger
	sem   chan struct{} // one token per open TCP connection
	pool  sync.Pool     // of *responder with its buffers

	specialUDP chan struct{}  // one token per special UDP message being handled
	slow       sync.WaitGroup // goroutines handling special UDP messages

	mu  sync.Mutex
	udp []*net.UDPConn
	tcp []*net.TCPListener
}

// NewServer returns a server for zones, with cfg's zero fields set to
// their defaults. It binds nothing until Listen or Run.
func NewServer(cfg ServerConfig, zones *Zones) *Server {
	if cfg.UDPSize == 0 {
		cfg.UDPSize = DefaultUDPSize
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
	if cfg.MaxSpecialUDP <= 0 {
		cfg.MaxSpecialUDP = 64
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, zones: zones, log: cfg.Logger, sem: make(chan struct{}, cfg.MaxTCPConns),
		specialUDP: make(chan struct{}, cfg.MaxSpecialUDP)}
	s.pool.New = func() any {
		r := newResponder(zones, cfg.UDPSize, cfg.FullResponses)
		r.handoff = s.cfg.Special != nil
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
		u, t, err := listenPair(a)
		if err != nil {
			s.closeListeners()
			return err
		}
		s.udp = append(s.udp, u)
		s.tcp = append(s.tcp, t)
	}
	return nil
}

// listenPair binds UDP and TCP on the same address and port.
func listenPair(addr string) (*net.UDPConn, *net.TCPListener, error) {
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
		u, err := net.ListenUDP(udpNet, net.UDPAddrFromAddrPort(ap))
		if err != nil {
			return nil, nil, fmt.Errorf("listen udp %s: %w", addr, err)
		}
		if ap.Addr().IsUnspecified() && pktinfoSupported {
			if err := enablePktinfo(u, udpNet == "udp6"); err != nil {
				u.Close()
				return nil, nil, fmt.Errorf("listen udp %s: destination address option: %w", addr, err)
			}
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		t, err := net.ListenTCP(tcpNet, net.TCPAddrFromAddrPort(netip.AddrPortFrom(ap.Addr(), uint16(port))))
		if err == nil {
			return u, t, nil
		}
		u.Close()
		if ap.Port() != 0 || attempt == 10 || !errors.Is(err, syscall.EADDRINUSE) {
			return nil, nil, fmt.Errorf("listen tcp %s: %w", addr, err)
		}
	}
}

// Addrs returns the bound UDP addresses, in configuration order; TCP
// listens on the same ones.
func (s *Server) Addrs() []net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]net.Addr, len(s.udp))
	for i, u := range s.udp {
		out[i] = u.LocalAddr()
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
	workers := max(1, runtime.GOMAXPROCS(0))
	for _, u := range udp {
		for range workers {
			wg.Go(func() { s.serveUDP(ctx, u) })
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

// closeListeners closes every socket; s.mu is held.
func (s *Server) closeListeners() {
	for _, u := range s.udp {
		u.Close()
	}
	for _, t := range s.tcp {
		t.Close()
	}
	s.udp, s.tcp = nil, nil
}
