package listen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"zonekeeper/daemon/answer"

	"github.com/miekg/dns"
)

// DNS over TCP as RFC 7766 has it: each message is preceded by its
// two-byte length; a client may send several queries without waiting for
// replies (replies go back in order); a connection idle for
// TCPIdleTimeout is closed, and so is one whose client does not read a
// reply within TCPWriteTimeout. At most MaxTCPConns connections are open
// at once; past that new ones are closed at once.

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
		select {
		case s.sem <- struct{}{}:
		default:
			s.log.Debug("tcp connection limit reached", "from", c.RemoteAddr().String())
			c.SetLinger(0)
			c.Close()
			continue
		}
		wg.Go(func() {
			defer func() { <-s.sem }()
			s.serveConn(ctx, c)
		})
	}
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
func (s *Server) serveConn(ctx context.Context, c *net.TCPConn) {
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
		if err := c.SetReadDeadline(time.Now().Add(s.cfg.TCPIdleTimeout)); err != nil {
			return
		}
		if _, err := io.ReadFull(br, lenBuf[:]); err != nil {
			s.connDone(c, "idle or closed", err)
			return
		}
		n := int(lenBuf[0])<<8 | int(lenBuf[1])
		if _, err := io.ReadFull(br, st.in[:n]); err != nil {
			s.connDone(c, "short message", err)
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
