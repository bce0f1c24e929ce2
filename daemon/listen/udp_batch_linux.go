//go:build linux

package listen

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"unsafe"

	"zonekeeper/daemon/answer"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// On Linux each UDP worker owns a socket of its own, bound with
// SO_REUSEPORT beside its siblings so that the kernel spreads the
// datagrams of the port over them (by a hash of the client's address
// and port), and reads and writes up to udpBatchMax datagrams per system
// call with recvmmsg and sendmmsg. Under load this divides the system
// calls per query by the batch size; when idle a worker blocks in
// recvmmsg until one datagram comes, so nothing polls. Replies go out
// with x/net's WriteBatch; reading calls recvmmsg itself (mmsgReader)
// because x/net's ReadBatch allocates each datagram's source address,
// and this path allocates nothing per query.

// reusePortSupported says whether several sockets can share an address
// and port, each receiving its share of the datagrams.
const reusePortSupported = true

// udpBatchSupported says whether serveUDPBatch reads and writes several
// datagrams per system call.
const udpBatchSupported = true

// udpBatchSlot is the size of each datagram buffer of a batch. A DNS
// query is a few hundred bytes at most (a question, OPT, perhaps TSIG);
// a larger datagram arrives truncated (MSG_TRUNC) and is dropped, which
// keeps a worker's buffers at udpBatchMax × 4 KiB rather than × 64 KiB.
const udpBatchSlot = 4096

// reusePort sets SO_REUSEPORT on c's socket: as a net.ListenConfig
// Control function before bind, or on a bound socket (setReusePort).
func reusePort(_, _ string, c syscall.RawConn) error {
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	}); err != nil {
		return err
	}
	return serr
}

// batchWriter writes several datagrams per system call. Both
// ipv4.PacketConn and ipv6.PacketConn are one (their Message types are
// the same type); tests use a fake.
type batchWriter interface {
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// udpBatch holds the buffers of one worker, all allocated once: the
// datagrams of a batch and the replies to them. A reply is copied out of
// the responder, whose buffer the next query reuses, into the slot of
// its position among the batch's replies.
type udpBatch struct {
	inBuf    [][]byte       // datagram i of a batch
	inOOB    [][]byte       // on a wildcard socket: its control messages
	out      []ipv4.Message // the replies of the batch: out[:nout]
	outBuf   [][]byte       // reply j is in outBuf[j]; each grows past udpSize only if a reply ever does
	outOOB   [][]byte       // on a wildcard socket: the source address of reply j
	outAddr  []net.UDPAddr  // the destination of reply j, its IP in outIP[j]
	outIP    [][16]byte
	nout     int
	wildcard bool
}

// newUDPBatch returns the buffers for batches of n datagrams, replies of
// up to replySize bytes, and, on a wildcard socket, the control messages
// carrying each datagram's destination.
func newUDPBatch(n, replySize int, wildcard bool) *udpBatch {
	b := &udpBatch{
		inBuf: make([][]byte, n), inOOB: make([][]byte, n),
		out: make([]ipv4.Message, n), outBuf: make([][]byte, n), outOOB: make([][]byte, n),
		outAddr: make([]net.UDPAddr, n), outIP: make([][16]byte, n),
		wildcard: wildcard,
	}
	in := make([]byte, n*udpBatchSlot)
	out := make([]byte, n*replySize)
	for i := range n {
		b.inBuf[i] = in[i*udpBatchSlot : (i+1)*udpBatchSlot : (i+1)*udpBatchSlot]
		b.outBuf[i] = out[i*replySize : i*replySize : (i+1)*replySize]
		if wildcard {
			b.inOOB[i] = make([]byte, 128)
			b.outOOB[i] = make([]byte, 0, 64)
		}
	}
	return b
}

// add queues reply to the client to, sent from src when the socket is a
// wildcard one and src is valid. The destination is written into the
// reply's own net.UDPAddr, so that queueing allocates nothing.
func (b *udpBatch) add(reply []byte, to netip.AddrPort, src netip.Addr) {
	j := b.nout
	b.nout++
	b.outBuf[j] = append(b.outBuf[j][:0], reply...)
	a := &b.outAddr[j]
	ip := to.Addr()
	if ip.Is4() {
		a4 := ip.As4()
		a.IP = append(b.outIP[j][:0], a4[:]...)
	} else {
		a16 := ip.As16()
		a.IP = append(b.outIP[j][:0], a16[:]...)
	}
	a.Port, a.Zone = int(to.Port()), ip.Zone()
	m := &b.out[j]
	m.Buffers = b.outBuf[j : j+1]
	m.Addr = a
	m.OOB = nil
	if b.wildcard && src.IsValid() {
		b.outOOB[j] = appendPktinfo(b.outOOB[j], src)
		m.OOB = b.outOOB[j]
	}
}

// flush sends the queued replies, as few system calls as the kernel
// allows. sendmmsg stops at the first datagram it cannot send and
// reports only that one's error (or the count sent before it): that
// reply is dropped, and the rest go on in the next call, so one bad
// destination costs its own reply only. It returns net.ErrClosed once
// the socket is closed, else nil.
func (b *udpBatch) flush(c batchWriter, s *Server) error {
	ms := b.out[:b.nout]
	b.nout = 0
	for len(ms) > 0 {
		n, err := c.WriteBatch(ms, 0)
		n = min(max(n, 0), len(ms))
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return net.ErrClosed
			}
			if n < len(ms) {
				s.log.Debug("udp write", "to", ms[n].Addr, "err", err)
				n++
			}
		} else if n == 0 {
			// Nothing sent and no error: do not spin on it.
			s.log.Debug("udp write: sendmmsg sent nothing", "replies", len(ms))
			return nil
		}
		ms = ms[n:]
	}
	return nil
}

// serveUDPBatch answers datagrams from u, a batch at a time, until u is
// closed. It is the only reader of u; the slow path may write on u
// meanwhile.
func (s *Server) serveUDPBatch(ctx context.Context, u *net.UDPConn) {
	r := s.pool.Get().(*answer.Responder)
	defer s.pool.Put(r)
	local := u.LocalAddr().(*net.UDPAddr).AddrPort().Addr()
	var c batchWriter = ipv4.NewPacketConn(u)
	if !local.Is4() {
		c = ipv6.NewPacketConn(u)
	}
	// A socket on a wildcard address answers from each query's
	// destination, which its control messages tell (pktinfo_linux.go).
	b := newUDPBatch(s.cfg.udpBatch, int(r.UDPSize()), local.IsUnspecified())
	rc, err := u.SyscallConn()
	if err != nil {
		s.log.Error("udp socket", "addr", u.LocalAddr(), "err", err)
		return
	}
	rd := newMmsgReader(rc, b.inBuf, b.inOOB)
	for {
		n, err := rd.read()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
				return
			}
			s.log.Debug("udp read", "addr", u.LocalAddr(), "err", err)
			continue
		}
		s.answerBatch(u, r, b, rd, n)
		if b.flush(c, s) != nil {
			return
		}
	}
}

// answerBatch answers the first n datagrams of b, queueing the replies.
func (s *Server) answerBatch(u *net.UDPConn, r *answer.Responder, b *udpBatch, rd *mmsgReader, n int) {
	for i := range n {
		from, ok := rd.from(i)
		if !ok {
			continue
		}
		size, oobn, trunc := rd.datagram(i)
		if trunc {
			s.log.Debug("udp datagram too large for a query: dropped", "from", from, "max", udpBatchSlot)
			continue
		}
		in := b.inBuf[i][:size]
		var dst netip.Addr
		if b.wildcard {
			dst, _ = pktinfoDst(b.inOOB[i][:oobn])
		}
		out := r.Respond(in, false)
		if out != nil {
			out = s.rrl.filter(out, from)
		} else if r.Special() {
			out = s.serveSpecialUDP(u, r, in, from, dst)
		}
		if out != nil {
			b.add(out, from, dst)
		}
	}
}

// mmsghdr is the struct mmsghdr of recvmmsg(2): a msghdr and the length
// received. Go pads it at the end as C does.
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
}

// mmsgReader reads a batch of datagrams with recvmmsg(2) into fixed
// buffers, and parses their source addresses without allocating: x/net's
// ReadBatch allocates a *net.UDPAddr per datagram (two allocations,
// 52 bytes), where the one-at-a-time loop allocates nothing.
type mmsgReader struct {
	rc    syscall.RawConn
	hs    []mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet6 // large enough for an IPv4 address too
	oob   [][]byte
	n     int           // the result of the last recvmmsg
	errno syscall.Errno // its error
	recv  func(fd uintptr) bool
}

// newMmsgReader returns a reader of rc's datagrams into bufs, with
// their control messages into oob when its slices are not empty. The
// reader holds on to both: they must not move or be reused meanwhile.
func newMmsgReader(rc syscall.RawConn, bufs, oob [][]byte) *mmsgReader {
	n := len(bufs)
	r := &mmsgReader{rc: rc, hs: make([]mmsghdr, n), iovs: make([]unix.Iovec, n),
		names: make([]unix.RawSockaddrInet6, n), oob: oob}
	for i := range n {
		r.iovs[i].Base = &bufs[i][0]
		r.iovs[i].SetLen(len(bufs[i]))
	}
	// A method value made once: RawConn.Read gets the same func on
	// every call, which allocates nothing.
	r.recv = r.recvmmsg
	return r
}

// read waits for at least one datagram and reads as many as are queued,
// up to the number of buffers. It returns an error wrapping
// net.ErrClosed once the socket is closed.
func (r *mmsgReader) read() (int, error) {
	for i := range r.hs {
		// The kernel rewrites the lengths and flags: set them again.
		h := &r.hs[i].hdr
		h.Name = (*byte)(unsafe.Pointer(&r.names[i]))
		h.Namelen = uint32(unsafe.Sizeof(r.names[i]))
		h.Iov = &r.iovs[i]
		h.SetIovlen(1)
		h.Control, h.Controllen = nil, 0
		if len(r.oob[i]) > 0 {
			h.Control = &r.oob[i][0]
			h.SetControllen(len(r.oob[i]))
		}
		h.Flags = 0
		r.hs[i].len = 0
	}
	r.n, r.errno = 0, 0
	if err := r.rc.Read(r.recv); err != nil {
		return 0, err
	}
	if r.errno != 0 {
		return 0, os.NewSyscallError("recvmmsg", r.errno)
	}
	return r.n, nil
}

// recvmmsg is the RawConn.Read callback: false asks to wait until the
// socket is readable.
func (r *mmsgReader) recvmmsg(fd uintptr) bool {
	for {
		n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hs[0])), uintptr(len(r.hs)), unix.MSG_DONTWAIT, 0, 0)
		switch e {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		case 0:
			r.n = int(n)
		default:
			r.errno = e
		}
		return true
	}
}

// datagram returns the length of datagram i of the last batch, the
// length of its control messages, and whether it was cut to fit its
// buffer.
func (r *mmsgReader) datagram(i int) (n, oobn int, trunc bool) {
	h := &r.hs[i]
	return int(h.len), int(h.hdr.Controllen), h.hdr.Flags&unix.MSG_TRUNC != 0
}

// from returns the source address of datagram i of the last batch. A
// link-local IPv6 source keeps its interface as a numeric zone, which
// the reply needs (and which allocates: such clients are rare).
func (r *mmsgReader) from(i int) (netip.AddrPort, bool) {
	sa := &r.names[i]
	switch sa.Family {
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), netPort(sa4.Port)), true
	case unix.AF_INET6:
		a := netip.AddrFrom16(sa.Addr)
		if sa.Scope_id != 0 {
			a = a.WithZone(strconv.FormatUint(uint64(sa.Scope_id), 10))
		}
		return netip.AddrPortFrom(a, netPort(sa.Port)), true
	}
	return netip.AddrPort{}, false
}

// netPort reads a port stored in network byte order.
func netPort(p uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(&p))
	return uint16(b[0])<<8 | uint16(b[1])
}
