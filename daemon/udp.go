package daemon

import (
	"context"
	"errors"
	"net"
	"net/netip"
)

// serveUDP answers datagrams from u until u is closed. Several goroutines
// read the same socket, each with its own responder and buffers.
func (s *Server) serveUDP(ctx context.Context, u *net.UDPConn) {
	r := s.pool.Get().(*responder)
	defer s.pool.Put(r)
	buf := make([]byte, maxMsgLen)
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
		out := r.respond(buf[:n], false)
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
