package listen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"zonekeeper/daemon/answer"

	"github.com/miekg/dns"
)

// DNS over TCP as RFC 7766 has it: each message is preceded by its
// two-byte length; a client may send several queries without waiting for
// replies (replies go back in order); a connection idle for
// TCPIdleTimeout is closed, and so is one whose client does not read a
// reply within TCPWriteTimeout. Who may open a connection, and which
// idle one gives way to a new one, is the connection table's
// (tcp_limits.go).

// serveTCP accepts connections on l until it is closed. Connection
// goroutines join wg so that Run waits for them.
func (s *Server) serveTCP(ctx context.Context, l *net.TCPListener, wg *sync.WaitGroup) {
	for {
		c, err := l.AcceptTCP()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
				return
			}
			// Out of file descriptors and the like: let the moment pass.
			s.log.Warn("tcp accept", "addr", l.Addr().String(), "err", err)
			t := time.NewTimer(50 * time.Millisecond)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			continue
		}
		s.admit(ctx, c, wg)
	}
}

// admit counts a new connection and serves it, or refuses it with a
// reset.
func (s *Server) admit(ctx context.Context, c *net.TCPConn, wg *sync.WaitGroup) {
	var addr netip.Addr
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		addr = ta.AddrPort().Addr().Unmap()
	}
	reserved := s.cfg.Reserved != nil && s.cfg.Reserved(addr)
	tc, victim, why := s.conns.admit(c, addr, reserved)
	if victim != nil {
		victim.c.Close()
		s.conns.note("tcp idle connection closed to make room", victim.addr, "a connection from "+addr.String())
	}
	if tc == nil {
		s.conns.note("tcp connection refused", addr, why)
		c.SetLinger(0)
		c.Close()
		return
	}
	wg.Go(func() {
		defer s.conns.done(tc)
		s.serveConn(ctx, tc)
	})
}

// tcpConnState is what one connection reuses from query to query.
type tcpConnState struct {
	in  []byte
	out []byte
}

var tcpBufs = sync.Pool{New: func() any {
	return &tcpConnState{in: make([]byte, answer.MaxMsgLen), out: make([]byte, 0, answer.MaxMsgLen+2)}
}}

// serveConn answers the queries of one connection, in order.
func (s *Server) serveConn(ctx context.Context, tc *tcpConn) {
	c := tc.c
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	defer c.Close()
	r := s.pool.Get().(*answer.Responder)
	defer s.pool.Put(r)
	st := tcpBufs.Get().(*tcpConnState)
	defer tcpBufs.Put(st)

	br := bufio.NewReaderSize(c, 4096)
	var lenBuf [2]byte
	for {
		// A connection with a whole query already read is not waiting
		// for one: it does not give way to new connections.
		if !queued(br) && !s.conns.waitIdle(tc) {
			return
		}
		if _, err := io.ReadFull(br, lenBuf[:]); err != nil {
			s.readFailed(tc, "idle or closed", err)
			return
		}
		n := int(lenBuf[0])<<8 | int(lenBuf[1])
		if _, err := io.ReadFull(br, st.in[:n]); err != nil {
			s.readFailed(tc, "short message", err)
			return
		}
		if !s.conns.busy(tc) {
			return
		}
		out := r.Respond(st.in[:n], true)
		if out == nil {
			if r.Special() && !s.serveSpecialTCP(c, r, st.in[:n]) {
				return
			}
			continue
		}
		st.out = append(st.out[:0], byte(len(out)>>8), byte(len(out)))
		st.out = append(st.out, out...)
		if err := c.SetWriteDeadline(time.Now().Add(s.cfg.TCPWriteTimeout)); err != nil {
			return
		}
		if _, err := c.Write(st.out); err != nil {
			s.connDone(c, "write", err)
			return
		}
	}
}

// queued reports whether br holds a whole message already, as when the
// client pipelines queries.
func queued(br *bufio.Reader) bool {
	if br.Buffered() < 2 {
		return false
	}
	b, _ := br.Peek(2)
	return br.Buffered() >= 2+(int(b[0])<<8|int(b[1]))
}

// readFailed logs why reading a query failed, except for the closes of
// the pressure timeout: TCPStats counts those, and under a flood they
// come by the hundred.
func (s *Server) readFailed(tc *tcpConn, what string, err error) {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() && s.conns.timedOut(tc) {
		return
	}
	s.connDone(tc.c, what, err)
}

// connDone logs why a connection ends, unless it simply closed.
func (s *Server) connDone(c net.Conn, what string, err error) {
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		return
	}
	s.log.Debug("tcp connection closed", "from", c.RemoteAddr().String(), "why", what, "err", err)
}

// serveSpecialTCP hands one message of the slow path to the Special
// handler and reports whether the connection is still usable.
func (s *Server) serveSpecialTCP(c *net.TCPConn, r *answer.Responder, in []byte) bool {
	w := &tcpWriter{c: c, timeout: s.cfg.TCPWriteTimeout}
	req := new(dns.Msg)
	if err := req.Unpack(in); err != nil {
		s.log.Debug("special message does not unpack", "from", c.RemoteAddr().String(), "err", err)
		w.Write(r.FormErr())
		return w.err == nil
	}
	s.cfg.Special.ServeSpecial(w, req, in, c.RemoteAddr().(*net.TCPAddr).AddrPort(), true)
	if w.err != nil {
		s.connDone(c, "special reply", w.err)
		return false
	}
	return true
}

// tcpWriter frames the replies of the slow path on one connection and
// applies the write deadline to each of them: miekg/dns's server does
// not, and a client that stops reading in the middle of a transfer would
// hold the goroutine and its zone snapshot forever.
type tcpWriter struct {
	c       *net.TCPConn
	timeout time.Duration
	buf     []byte
	err     error // the first write error; the connection is then closed
}

// Write implements SpecialWriter.
func (w *tcpWriter) Write(msg []byte) error {
	if w.err != nil {
		return w.err
	}
	if len(msg) > answer.MaxMsgLen {
		w.err = fmt.Errorf("daemon: reply of %d bytes does not fit a TCP frame", len(msg))
		return w.err
	}
	w.buf = append(w.buf[:0], byte(len(msg)>>8), byte(len(msg)))
	w.buf = append(w.buf, msg...)
	if w.err = w.c.SetWriteDeadline(time.Now().Add(w.timeout)); w.err != nil {
		return w.err
	}
	_, w.err = w.c.Write(w.buf)
	return w.err
}
