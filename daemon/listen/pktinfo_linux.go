//go:build linux

package listen

import (
	"net"
	"net/netip"
	"syscall"
	"unsafe"
)

// A UDP socket bound to a wildcard address (0.0.0.0, ::) must answer
// from the address each query was sent to, or a multi-homed host replies
// from whichever address the route picks and the client drops the reply.
// On Linux IP_PKTINFO / IPV6_RECVPKTINFO tell the destination of each
// datagram, and the same control message on the reply sets its source.

// pktinfoSupported says whether this platform can choose the source
// address of each UDP reply.
const pktinfoSupported = true

// enablePktinfo asks the kernel for each datagram's destination address.
func enablePktinfo(c *net.UDPConn, v6 bool) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		if v6 {
			serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IPV6, syscall.IPV6_RECVPKTINFO, 1)
		} else {
			serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_PKTINFO, 1)
		}
	})
	if err != nil {
		return err
	}
	return serr
}

// cmsgAlign rounds n up to the alignment of control messages.
func cmsgAlign(n int) int {
	const a = int(unsafe.Sizeof(uintptr(0)))
	return (n + a - 1) &^ (a - 1)
}

// pktinfoDst returns the destination address found in the control
// messages oob.
func pktinfoDst(oob []byte) (netip.Addr, bool) {
	hdr := cmsgAlign(syscall.SizeofCmsghdr)
	for len(oob) >= hdr {
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < hdr || l > len(oob) {
			break
		}
		data := oob[hdr:l]
		switch {
		case h.Level == syscall.IPPROTO_IP && h.Type == syscall.IP_PKTINFO && len(data) >= syscall.SizeofInet4Pktinfo:
			p := (*syscall.Inet4Pktinfo)(unsafe.Pointer(&data[0]))
			return netip.AddrFrom4(p.Addr), true
		case h.Level == syscall.IPPROTO_IPV6 && h.Type == syscall.IPV6_PKTINFO && len(data) >= syscall.SizeofInet6Pktinfo:
			p := (*syscall.Inet6Pktinfo)(unsafe.Pointer(&data[0]))
			return netip.AddrFrom16(p.Addr), true
		}
		oob = oob[min(cmsgAlign(l), len(oob)):]
	}
	return netip.Addr{}, false
}

// appendPktinfo appends to b[:0] the control message that sends a
// datagram from src.
func appendPktinfo(b []byte, src netip.Addr) []byte {
	hdr := cmsgAlign(syscall.SizeofCmsghdr)
	size := syscall.SizeofInet6Pktinfo
	if src.Is4() {
		size = syscall.SizeofInet4Pktinfo
	}
	n := syscall.CmsgSpace(size)
	if cap(b) < n {
		b = make([]byte, n)
	}
	b = b[:n]
	clear(b)
	h := (*syscall.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.SetLen(syscall.CmsgLen(size))
	if src.Is4() {
		h.Level, h.Type = syscall.IPPROTO_IP, syscall.IP_PKTINFO
		p := (*syscall.Inet4Pktinfo)(unsafe.Pointer(&b[hdr]))
		p.Spec_dst = src.As4()
	} else {
		h.Level, h.Type = syscall.IPPROTO_IPV6, syscall.IPV6_PKTINFO
		p := (*syscall.Inet6Pktinfo)(unsafe.Pointer(&b[hdr]))
		p.Addr = src.As16()
	}
	return b
}
