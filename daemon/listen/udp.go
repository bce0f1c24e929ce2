package listen

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"

	"zonekeeper/daemon/answer"

	"github.com/miekg/dns"
)

// udpBatchMax is the most datagrams a UDP worker reads, and replies it
// sends, per system call (udp_batch_linux.go).
const udpBatchMax = 64

// serveUDP answers datagrams from u, one at a time, until u is closed.
// It is the portable loop: where a worker cannot own a socket
// (udp_batch_other.go) several goroutines read the same socket, each
// with its own responder and buffers.
func (s *Server) serveUDP(ctx context.Context, u *net.UDPConn) {
	r := s.pool.Get().(*answer.Responder)
	defer s.pool.Put(r)
	buf := make([]byte, answer.MaxMsgLen)
	// A socket on a wildcard address answers from each query's destination.
	wildcard := pktinfoSupported && u.LocalAddr().(*net.UDPAddr).AddrPort().Addr().IsUnspecified()
	var oobIn, oobOut []byte
	if wildcard {
		oobIn, oobOut = make([]byte, 256), make([]byte, 0, 64)
	}
	for {
		var (
			n, oobn int
			from    netip.AddrPort
			err     error
		)
		if wildcard {
			n, oobn, _, from, err = u.ReadMsgUDPAddrPort(buf, oobIn)
		} else {
			n, from, err = u.ReadFromUDPAddrPort(buf)
		}
		if err != nil {
			if errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
				return
			}
			s.log.Debug("udp read", "addr", u.LocalAddr().String(), "err", err)
			continue
		}
		out := r.Respond(buf[:n], false)
		if out != nil {
			out = s.rrl.filter(out, from)
		} else if r.Special() {
			var dst netip.Addr
			if wildcard {
				dst, _ = pktinfoDst(oobIn[:oobn])
			}
			out = s.serveSpecialUDP(u, r, buf[:n], from, dst)
		}
		if out == nil {
			continue
		}
		if wildcard {
			oob := oobOut[:0]
			if dst, ok := pktinfoDst(oobIn[:oobn]); ok {
				oob = appendPktinfo(oobOut, dst)
			}
			_, _, err = u.WriteMsgUDPAddrPort(out, oob, from)
		} else {
			_, err = u.WriteToUDPAddrPort(out, from)
		}
		if err != nil && !errors.Is(err, net.ErrClosed) {
			s.log.Debug("udp write", "to", from.String(), "err", err)
		}
	}
}

// serveSpecialUDP hands one message of the slow path to the Special
// handler in a goroutine of its own, so that the socket's readers go on
// answering plain queries meanwhile. It returns a reply to send at once
// (FORMERR for a message that does not unpack), or nil. When
// MaxSpecialUDP messages are already being handled the message is
// dropped: the client will retry.
func (s *Server) serveSpecialUDP(u *net.UDPConn, r *answer.Responder, in []byte, from netip.AddrPort, dst netip.Addr) []byte {
	req := new(dns.Msg)
	if err := req.Unpack(in); err != nil {
		s.log.Debug("special message does not unpack", "from", from.String(), "err", err)
		return r.FormErr()
	}
	select {
	case s.specialUDP <- struct{}{}:
	default:
		s.log.Debug("too many special UDP messages at once: dropped", "from", from.String())
		return nil
	}
	raw := slices.Clone(in)
	s.slow.Go(func() {
		defer func() { <-s.specialUDP }()
		s.cfg.Special.ServeSpecial(&udpWriter{s: s, u: u, to: from, dst: dst}, req, raw, from, false)
	})
	return nil
}

// udpWriter sends the replies of the slow path as datagrams, from the
// address the query was sent to.
type udpWriter struct {
	s   *Server
	u   *net.UDPConn
	to  netip.AddrPort
	dst netip.Addr // the query's destination on a wildcard socket; invalid otherwise
}

// Write implements SpecialWriter.
func (w *udpWriter) Write(msg []byte) error {
	var err error
	if w.dst.IsValid() {
		_, _, err = w.u.WriteMsgUDPAddrPort(msg, appendPktinfo(make([]byte, 0, 64), w.dst), w.to)
	} else {
		_, err = w.u.WriteToUDPAddrPort(msg, w.to)
	}
	if err != nil && !errors.Is(err, net.ErrClosed) {
		w.s.log.Debug("udp write", "to", w.to.String(), "err", err)
	}
	return err
}
