//go:build !linux

package listen

import (
	"errors"
	"net"
	"net/netip"
)

// pktinfoSupported says whether this platform can choose the source
// address of each UDP reply: not here, so wildcard addresses answer from
// whatever address the route picks.
const pktinfoSupported = false

func enablePktinfo(*net.UDPConn, bool) error { return errors.ErrUnsupported }

func pktinfoDst([]byte) (netip.Addr, bool) { return netip.Addr{}, false }

func appendPktinfo(b []byte, _ netip.Addr) []byte { return b[:0] }
