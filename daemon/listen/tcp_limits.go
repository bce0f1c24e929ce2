package listen

import (
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"
)

// The TCP connection table: who may open a connection, and which idle
// one gives way when the server is full (RFC 7766 §6.2).
//
//   - A client address may hold MaxTCPPerAddr connections, and its /24
//     (IPv4) or /56 (IPv6) MaxTCPPerPrefix; past that the new one is
//     refused, whatever else is free.
//   - TCPReservedConns of the MaxTCPConns slots are kept for the addresses
//     of the Reserved predicate (the servers the daemon replicates with),
//     which no per-client limit applies to either: a flood from elsewhere
//     cannot stop a transfer.
//   - When the slots a new connection may use are taken, the connection
//     idle the longest gives way (one waiting for its next query, with no
//     query being answered), so an idle crowd cannot lock others out.
//     Only when none is idle is the new one refused.
//   - Above three quarters of MaxTCPConns the idle timeout drops to
//     TCPPressureIdleTimeout, for the waiting connections too, until fewer
//     than half are open.

// Prefix lengths of the per-prefix limit: a customer's IPv4 /24 or its
// IPv6 /56 allocation.
const (
	prefixBits4 = 24
	prefixBits6 = 56
)

// TCPStats counts what the TCP connection limits did since the server
// was made.
type TCPStats struct {
	Open             int    // connections open now
	RefusedFull      uint64 // new connections refused: every slot they may use was busy, none idle
	RefusedPerAddr   uint64 // refused: their address held MaxTCPPerAddr connections
	RefusedPerPrefix uint64 // refused: their /24 or /56 held MaxTCPPerPrefix connections
	Evicted          uint64 // idle connections closed to make room for a new one
	PressureClosed   uint64 // idle connections closed by TCPPressureIdleTimeout
}

// tcpConn is one connection the table counts.
type tcpConn struct {
	c        *net.TCPConn
	addr     netip.Addr   // the client's address, IPv4 unmapped
	prefix   netip.Prefix // its /24 or /56
	reserved bool         // Reserved(addr): no per-client limit, may take a reserved slot

	// Guarded by the table's mutex.
	idle       bool      // waiting for its next query, on an idle list
	idleSince  time.Time // when it began to wait
	short      bool      // its read deadline is the pressure timeout
	gone       bool      // no longer counted: closed, or chosen to make room
	prev, next *tcpConn  // neighbours on its idle list
}

// idleList holds idle connections, the one idle the longest first.
type idleList struct{ head, tail *tcpConn }

func (l *idleList) push(c *tcpConn) {
	c.prev, c.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = c
	} else {
		l.head = c
	}
	l.tail = c
}

func (l *idleList) remove(c *tcpConn) {
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		l.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		l.tail = c.prev
	}
	c.prev, c.next = nil, nil
}

// tcpTable counts the open connections and applies the limits.
type tcpTable struct {
	max, reserve       int // every slot; of them, those only reserved connections take
	perAddr, perPrefix int // 0: no limit
	idleTimeout        time.Duration
	pressureTimeout    time.Duration
	log                *slog.Logger

	mu       sync.Mutex
	open     int // every counted connection
	others   int // of them, the not reserved
	byAddr   map[netip.Addr]int
	byPrefix map[netip.Prefix]int
	idle     [2]idleList // idle connections: [0] not reserved, [1] reserved
	pressure bool        // the short idle timeout applies
	stats    TCPStats
	lastLog  time.Time // of the last refusal or eviction logged
	unlogged int       // refusals and evictions since, not logged
}

func newTCPTable(cfg *ServerConfig) *tcpTable {
	t := &tcpTable{
		max: cfg.MaxTCPConns, reserve: max(0, cfg.TCPReservedConns),
		perAddr: max(0, cfg.MaxTCPPerAddr), perPrefix: max(0, cfg.MaxTCPPerPrefix),
		idleTimeout: cfg.TCPIdleTimeout, pressureTimeout: min(cfg.TCPPressureIdleTimeout, cfg.TCPIdleTimeout),
		log:    cfg.Logger,
		byAddr: make(map[netip.Addr]int), byPrefix: make(map[netip.Prefix]int),
	}
	if cfg.Reserved == nil {
		t.reserve = 0
	}
	t.reserve = min(t.reserve, t.max)
	return t
}

// clientPrefix returns the prefix a's per-prefix limit counts in.
func clientPrefix(a netip.Addr) netip.Prefix {
	bits := prefixBits6
	if a.Is4() {
		bits = prefixBits4
	}
	p, _ := a.Prefix(bits)
	return p
}

// admit counts a new connection from addr, or refuses it and says why.
// victim, when not nil, is an idle connection no longer counted, which
// the caller closes to make the room.
func (t *tcpTable) admit(c *net.TCPConn, addr netip.Addr, reserved bool) (tc, victim *tcpConn, why string) {
	tc = &tcpConn{c: c, addr: addr, prefix: clientPrefix(addr), reserved: reserved}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !reserved {
		if t.perAddr > 0 && t.byAddr[addr] >= t.perAddr {
			t.stats.RefusedPerAddr++
			return nil, nil, "per-address limit"
		}
		if t.perPrefix > 0 && t.byPrefix[tc.prefix] >= t.perPrefix {
			t.stats.RefusedPerPrefix++
			return nil, nil, "per-prefix limit"
		}
	}
	if !t.room(reserved) {
		victim = t.victim(reserved)
		if victim == nil {
			t.stats.RefusedFull++
			return nil, nil, "every slot busy"
		}
		t.release(victim)
		t.stats.Evicted++
	}
	t.open++
	if !reserved {
		t.others++
		t.byAddr[addr]++
		t.byPrefix[tc.prefix]++
	}
	if !t.pressure && t.open*4 > t.max*3 {
		t.pressure = true
		t.shortenIdle()
	}
	return tc, victim, ""
}

// room reports whether a new connection fits in the slots its kind may
// use; t.mu is held.
func (t *tcpTable) room(reserved bool) bool {
	return t.open < t.max && (reserved || t.others < t.max-t.reserve)
}

// victim returns the idle connection that gives way to a new one, or
// nil; t.mu is held. Idle connections of others go first, the one idle
// the longest first; a reserved one gives way only when the reserved
// connections spill over the reserve into the shared slots, or to
// another reserved one.
func (t *tcpTable) victim(reserved bool) *tcpConn {
	if c := t.idle[0].head; c != nil {
		return c
	}
	if reserved || t.others < t.max-t.reserve {
		return t.idle[1].head
	}
	return nil
}

// shortenIdle gives every waiting connection the pressure timeout,
// counted from when it began to wait; t.mu is held.
func (t *tcpTable) shortenIdle() {
	for i := range t.idle {
		for c := t.idle[i].head; c != nil; c = c.next {
			c.short = true
			c.c.SetReadDeadline(c.idleSince.Add(t.pressureTimeout))
		}
	}
}

// release stops counting tc; t.mu is held. Releasing twice is harmless.
func (t *tcpTable) release(tc *tcpConn) {
	if tc.gone {
		return
	}
	tc.gone = true
	if tc.idle {
		t.idle[kind(tc)].remove(tc)
		tc.idle = false
	}
	t.open--
	if !tc.reserved {
		t.others--
		decrement(t.byAddr, tc.addr)
		decrement(t.byPrefix, tc.prefix)
	}
	if t.pressure && t.open*2 < t.max {
		t.pressure = false
	}
}

// kind indexes tcpTable.idle.
func kind(tc *tcpConn) int {
	if tc.reserved {
		return 1
	}
	return 0
}

func decrement[K comparable](m map[K]int, k K) {
	if m[k] <= 1 {
		delete(m, k)
		return
	}
	m[k]--
}

// done stops counting a connection whose goroutine ends.
func (t *tcpTable) done(tc *tcpConn) {
	t.mu.Lock()
	t.release(tc)
	t.mu.Unlock()
}

// waitIdle marks tc as waiting for its next query and sets the read
// deadline that ends the wait. It reports false when tc gave way to a
// new connection and must end.
func (t *tcpTable) waitIdle(tc *tcpConn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tc.gone {
		return false
	}
	now := time.Now()
	tc.idle, tc.idleSince, tc.short = true, now, t.pressure
	t.idle[kind(tc)].push(tc)
	timeout := t.idleTimeout
	if t.pressure {
		timeout = t.pressureTimeout
	}
	return tc.c.SetReadDeadline(now.Add(timeout)) == nil
}

// busy marks tc as answering a query: it no longer gives way. It reports
// false when tc already gave way and must end.
func (t *tcpTable) busy(tc *tcpConn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tc.gone {
		return false
	}
	if tc.idle {
		t.idle[kind(tc)].remove(tc)
		tc.idle = false
	}
	return true
}

// timedOut counts a connection that waited past its idle timeout, and
// reports whether that was the pressure timeout.
func (t *tcpTable) timedOut(tc *tcpConn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tc.short && !tc.gone {
		t.stats.PressureClosed++
		return true
	}
	return false
}

// snapshot returns the counts.
func (t *tcpTable) snapshot() TCPStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.stats
	st.Open = t.open
	return st
}

// note logs a refusal or an eviction at debug level, at most once a
// second: a flood of connections must not become a flood of log lines.
// The counts in TCPStats are exact.
func (t *tcpTable) note(msg string, from netip.Addr, why string) {
	t.mu.Lock()
	now := time.Now()
	if now.Sub(t.lastLog) < time.Second {
		t.unlogged++
		t.mu.Unlock()
		return
	}
	skipped, open := t.unlogged, t.open
	t.lastLog, t.unlogged = now, 0
	t.mu.Unlock()
	t.log.Debug(msg, "from", from.String(), "why", why, "open", open, "not_logged_before", skipped)
}
