//go:build !linux

package listen

import (
	"context"
	"errors"
	"net"
	"syscall"
)

// Elsewhere than Linux the workers of an address share one socket and
// read it a datagram at a time (udp.go): SO_REUSEPORT does not spread
// datagrams over sockets everywhere, and recvmmsg is Linux's.

// reusePortSupported says whether several sockets can share an address
// and port, each receiving its share of the datagrams.
const reusePortSupported = false

// udpBatchSupported says whether serveUDPBatch reads and writes several
// datagrams per system call.
const udpBatchSupported = false

func reusePort(string, string, syscall.RawConn) error { return errors.ErrUnsupported }

// serveUDPBatch is serveUDP here.
func (s *Server) serveUDPBatch(ctx context.Context, u *net.UDPConn) { s.serveUDP(ctx, u) }
