package load

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// batchConn is what ipv4.PacketConn and ipv6.PacketConn share (their
// Message types are both aliases of the same type).
type batchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// slot tracks the query sent with one 16-bit ID. The sender fills idx and
// then sent; whoever swaps sent back to 0 first (the receiver on an
// answer, the sender on a timeout) owns the outcome.
type slot struct {
	sent atomic.Int64  // send time (runClock), 0 = free
	idx  atomic.Uint32 // index of the query in Config.Queries
}

// pending is one send in order, so that timeouts are found by looking at
// the oldest sends only.
type pending struct {
	sent int64
	id   uint16
}

// fifoSize bounds the sends waiting to be resolved; when full (a lost
// query holds the head while the rest keep flowing) the sender waits.
const fifoSize = 1 << 18

// Socket buffer sizes asked for; the kernel caps them at rmem_max/wmem_max.
const sockBuf = 4 << 20

// exampleSearch is how many mismatches per socket are described at most.
const exampleSearch = 1000

// recvBufSize holds any UDP answer to a 1232-byte EDNS query and more.
const recvBufSize = 4096

// flow is one connected socket with its sender and receiver goroutines.
type flow struct {
	cfg   *Config
	ps    []prepared
	clock runClock
	conn  *net.UDPConn
	bc    batchConn
	slots []slot // 65536, indexed by ID

	inflight atomic.Int64
	wake     chan struct{} // receiver → sender: window space freed

	// Owned by the sender.
	fifo       []pending
	head, tail uint64
	next       int    // next query index
	nextID     uint16 // next ID to try
	issued     uint64 // all sends, for the rate limit
	sent, lost uint64
	sendErrors uint64
	rate       float64 // queries per ns per socket; 0 = unlimited

	// Owned by the receiver until it returns.
	rs recvStats
}

// recvStats is what a receiver counts.
type recvStats struct {
	answered, truncated, mismatches, unexpected uint64
	examples                                    []string
	hist                                        *histogram
}

func newFlow(cfg *Config, ps []prepared, clock runClock, i int) (*flow, error) {
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(cfg.Target))
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	// Best effort: a small buffer only costs drops, which show as loss.
	_ = conn.SetReadBuffer(sockBuf)
	_ = conn.SetWriteBuffer(sockBuf)
	f := &flow{
		cfg:    cfg,
		ps:     ps,
		clock:  clock,
		conn:   conn,
		slots:  make([]slot, 1<<16),
		wake:   make(chan struct{}, 1),
		fifo:   make([]pending, fifoSize),
		next:   i * len(ps) / cfg.Sockets,
		nextID: uint16(i * 7919), // distinct IDs per socket ease reading captures
		rs:     recvStats{hist: newHistogram()},
	}
	if cfg.Target.Addr().Unmap().Is4() {
		f.bc = ipv4.NewPacketConn(conn)
	} else {
		f.bc = ipv6.NewPacketConn(conn)
	}
	if cfg.QPS > 0 {
		f.rate = float64(cfg.QPS) / float64(cfg.Sockets) / 1e9
	}
	return f, nil
}

// run drives the flow until the measured period ends and the last answers
// are in or timed out, then closes the socket.
func (f *flow) run(ctx context.Context) error {
	recvDone := make(chan error, 1)
	go func() { recvDone <- f.receive() }()
	sendErr := f.send(ctx)
	f.conn.Close()
	recvErr := <-recvDone
	// Whatever is still out now is lost: the drain waited a full timeout
	// unless ctx ended it early.
	f.reap(1 << 62)
	return errors.Join(sendErr, recvErr)
}

// send writes batches while the window has room, then drains.
func (f *flow) send(ctx context.Context) error {
	b := f.cfg.Batch
	msgs := make([]ipv4.Message, b)
	bufs := make([][]byte, b)
	for i := range msgs {
		bufs[i] = make([]byte, 512)
		msgs[i].Buffers = [][]byte{nil}
	}
	ids := make([]uint16, b)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	window := int64(f.cfg.Window)
	minSend := min(int64(b), max(1, window/4))
	timeout := int64(f.cfg.Timeout)
	for {
		if ctx.Err() != nil {
			return nil
		}
		now := f.clock.now()
		f.reap(now - timeout)
		if now >= f.clock.to {
			// Drain: wait for the window to empty or the last sends to time out.
			if f.inflight.Load() == 0 || now >= f.clock.to+timeout {
				return nil
			}
			f.wait(ctx, timer, time.Millisecond)
			continue
		}
		room := window - f.inflight.Load()
		room = min(room, int64(fifoSize)-int64(f.tail-f.head))
		var pause time.Duration = 2 * time.Millisecond
		if f.rate > 0 {
			allowed := int64(float64(now)*f.rate) - int64(f.issued)
			if allowed < room {
				room = allowed
				pause = time.Duration(float64(1-allowed) / f.rate)
			}
		}
		// While queries are out, send at least a quarter window at a time
		// so that each sendmmsg carries several queries rather than one
		// per freed slot.
		if room <= 0 || room < minSend && f.inflight.Load() > 0 {
			f.wait(ctx, timer, max(pause, 10*time.Microsecond))
			continue
		}
		n := int(min(room, int64(b)))
		for i := range n {
			id := f.freeID()
			p := &f.ps[f.next]
			f.slots[id].idx.Store(uint32(f.next))
			if f.next++; f.next == len(f.ps) {
				f.next = 0
			}
			buf := bufs[i][:len(p.wire)]
			copy(buf, p.wire)
			buf[0], buf[1] = byte(id>>8), byte(id)
			msgs[i].Buffers[0] = buf
			ids[i] = id
		}
		t := f.clock.now()
		f.inflight.Add(int64(n))
		for _, id := range ids[:n] {
			f.slots[id].sent.Store(t)
			f.fifo[f.tail%fifoSize] = pending{sent: t, id: id}
			f.tail++
		}
		f.issued += uint64(n)
		measured := t >= f.clock.from
		if measured {
			f.sent += uint64(n)
		}
		for off := 0; off < n; {
			k, err := f.bc.WriteBatch(msgs[off:n], 0)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return nil
				}
				// Give the failed message's slot back; try the rest.
				if f.slots[ids[off]].sent.CompareAndSwap(t, 0) {
					f.inflight.Add(-1)
					if measured {
						f.sendErrors++
					}
				}
				off++
				continue
			}
			off += k
		}
	}
}

// freeID returns the next ID not in flight; the window keeps at most
// 60000 IDs busy, so the scan ends quickly.
func (f *flow) freeID() uint16 {
	for {
		id := f.nextID
		f.nextID++
		if f.slots[id].sent.Load() == 0 {
			return id
		}
	}
}

// reap resolves the oldest sends: answered ones are dropped from the
// FIFO, ones sent at or before deadline are counted lost.
func (f *flow) reap(deadline int64) {
	for f.head != f.tail {
		e := f.fifo[f.head%fifoSize]
		s := &f.slots[e.id]
		if s.sent.Load() == e.sent {
			if e.sent > deadline {
				return
			}
			if s.sent.CompareAndSwap(e.sent, 0) {
				f.inflight.Add(-1)
				if e.sent >= f.clock.from {
					f.lost++
				}
			}
		}
		f.head++
	}
}

// wait blocks until the receiver frees window space, d passes or ctx ends.
func (f *flow) wait(ctx context.Context, timer *time.Timer, d time.Duration) {
	if f.cfg.Spin {
		// Let the receivers run; the caller loops and looks again.
		runtime.Gosched()
		return
	}
	timer.Reset(d)
	select {
	case <-f.wake:
	case <-timer.C:
	case <-ctx.Done():
	}
}

// receive reads answers in batches until the socket is closed.
func (f *flow) receive() error {
	b := f.cfg.Batch
	msgs := make([]ipv4.Message, b)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{make([]byte, recvBufSize)}
	}
	scratch := make([]byte, 0, 512)
	st := &f.rs
	flags := 0
	if f.cfg.Spin {
		// Poll instead of sleeping in the kernel: neither side then pays
		// for waking the other up.
		flags = syscall.MSG_DONTWAIT
	}
	for {
		n, err := f.bc.ReadBatch(msgs, flags)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			if errors.Is(err, syscall.EAGAIN) {
				runtime.Gosched()
				continue
			}
			if errors.Is(err, syscall.ECONNREFUSED) {
				// An ICMP port unreachable for an earlier send; the
				// queries concerned will time out and count as lost.
				continue
			}
			return fmt.Errorf("load: receive: %w", err)
		}
		now := f.clock.now()
		freed := int64(0)
		for i := range n {
			m := msgs[i].Buffers[0][:msgs[i].N]
			if len(m) < headerLen {
				if now >= f.clock.from {
					st.unexpected++
				}
				continue
			}
			s := &f.slots[int(m[0])<<8|int(m[1])]
			t := s.sent.Load()
			if t == 0 {
				if now >= f.clock.from {
					st.unexpected++
				}
				continue
			}
			qi := s.idx.Load()
			if !s.sent.CompareAndSwap(t, 0) {
				if now >= f.clock.from {
					st.unexpected++
				}
				continue
			}
			freed++
			if t < f.clock.from {
				continue
			}
			st.answered++
			st.hist.add(now - t)
			if m[2]&0x02 != 0 {
				st.truncated++
				continue
			}
			var v verdict
			if v, scratch = check(m, &f.ps[qi], scratch); v != pass {
				st.mismatches++
				// Distinct examples, looked for among the first mismatches
				// only, so that a wrong server does not slow the generator.
				if len(st.examples) < f.cfg.Examples && st.mismatches <= exampleSearch {
					if d := describe(m, f.cfg.Queries[qi], v); !slices.Contains(st.examples, d) {
						st.examples = append(st.examples, d)
					}
				}
			}
		}
		if freed > 0 {
			f.inflight.Add(-freed)
			select {
			case f.wake <- struct{}{}:
			default:
			}
		}
	}
}
