package listen

import (
	"net/netip"
	"sync/atomic"
	"time"
)

// Response rate limiting (RRL) for UDP answers, as BIND, Knot and NSD
// have it: a spoofed source cannot turn the server into an amplifier
// aimed at its victim. Identical responses to one client prefix (IPv4
// /24, IPv6 /56) are counted per second: past RRLConfig.PerSecond, a
// response is dropped, except every Slip-th, which goes out as an empty
// truncated reply (TC=1) so that a real client behind the prefix retries
// over TCP, where no limit applies. "Identical" is the same question name
// and type with the same kind of answer; all NXDOMAINs to a prefix share
// one count, and all errors another, so that random names cannot spread
// a flood over many counts. Addresses the daemon replicates with
// (ServerConfig.Reserved) are exempt. Off unless PerSecond is set.
//
// The table is a fixed array of counts indexed by a hash of the key:
// each is one word updated by compare-and-swap, so the query path takes
// no lock and allocates nothing. Two keys that share a slot take it from
// each other, which only ever lets more through.

// RRLConfig sets response rate limiting; the zero value is off.
type RRLConfig struct {
	PerSecond int // identical responses to one prefix a second; 0: off
	Slip      int // every Slip-th limited response is sent truncated; 0: none, 1: all
}

// rrlSlots is the size of the table of counts (a power of two).
const rrlSlots = 1 << 16

// rrl is the limiter; nil when off.
type rrl struct {
	perSecond uint64
	slip      uint64
	reserved  func(netip.Addr) bool
	now       func() time.Time
	slots     [rrlSlots]atomic.Uint64 // key hash (32) | second (16) | count (16)

	dropped, slipped atomic.Int64
}

func newRRL(cfg RRLConfig, reserved func(netip.Addr) bool) *rrl {
	if cfg.PerSecond <= 0 {
		return nil
	}
	return &rrl{perSecond: uint64(min(cfg.PerSecond, 0xfffe)), slip: uint64(max(cfg.Slip, 0)), reserved: reserved, now: time.Now}
}

// RRLStats counts what response rate limiting did.
type RRLStats struct {
	Dropped int64 // responses not sent
	Slipped int64 // responses sent truncated instead
}

// RRLStats returns the counts of response rate limiting (zero when off).
func (s *Server) RRLStats() RRLStats {
	if s.rrl == nil {
		return RRLStats{}
	}
	return RRLStats{Dropped: s.rrl.dropped.Load(), Slipped: s.rrl.slipped.Load()}
}

// filter returns the reply to send to a UDP client for out: out itself,
// out cut to an empty truncated reply, or nil (drop).
func (l *rrl) filter(out []byte, to netip.AddrPort) []byte {
	if l == nil || len(out) < 12 {
		return out
	}
	addr := to.Addr().Unmap()
	if l.reserved != nil && l.reserved(addr) {
		return out
	}
	key, qend := responseKey(out, addr)
	sec := uint64(l.now().Unix()) & 0xffff
	slot := &l.slots[key&(rrlSlots-1)]
	var count uint64
	for {
		old := slot.Load()
		next := uint64(key)<<32 | sec<<16 | 1
		if old>>32 == uint64(key) && (old>>16)&0xffff == sec {
			c := old & 0xffff
			if c == 0xffff {
				count = c
				break
			}
			next = old + 1
		}
		if slot.CompareAndSwap(old, next) {
			count = next & 0xffff
			break
		}
	}
	if count <= l.perSecond {
		return out
	}
	if l.slip > 0 && (count-l.perSecond)%l.slip == 0 && qend > 0 {
		l.slipped.Add(1)
		return truncatedReply(out, qend)
	}
	l.dropped.Add(1)
	return nil
}

// responseKey hashes what makes two responses to a client "identical":
// the client's prefix, the kind of answer and, for a positive answer or
// a NODATA, the question's name (case-folded) and type. It also returns
// where the question ends in out (0 when it cannot be read).
func responseKey(out []byte, addr netip.Addr) (uint32, int) {
	h := uint32(2166136261) // FNV-1a
	mix := func(b byte) { h = (h ^ uint32(b)) * 16777619 }
	if p := clientPrefix(addr).Addr(); p.Is4() {
		for _, b := range p.As4() {
			mix(b)
		}
	} else {
		for _, b := range p.As16() {
			mix(b)
		}
	}
	rcode := out[3] & 0x0f
	qend := questionEnd(out)
	switch {
	case rcode == 3: // NXDOMAIN: one count per prefix
		mix(0xf3)
	case rcode != 0: // errors: another
		mix(0xf0)
	case qend > 0:
		for _, b := range out[12:qend] {
			if 'A' <= b && b <= 'Z' {
				b += 'a' - 'A'
			}
			mix(b)
		}
	}
	return h, qend
}

// questionEnd returns the offset after the one question of a reply, or
// 0 when there is none or it does not parse.
func questionEnd(out []byte) int {
	if len(out) < 12 || out[4] != 0 || out[5] != 1 {
		return 0
	}
	i := 12
	for i < len(out) {
		l := int(out[i])
		if l == 0 {
			i++
			if i+4 > len(out) {
				return 0
			}
			return i + 4
		}
		if l&0xc0 != 0 {
			return 0 // a question is never compressed
		}
		i += 1 + l
	}
	return 0
}

// truncatedReply cuts out, a reply whose question ends at qend, to its
// header and question with TC set: the client retries over TCP.
func truncatedReply(out []byte, qend int) []byte {
	out[2] |= 0x02 // TC
	for i := 6; i < 12; i++ {
		out[i] = 0 // no answer, authority or additional records
	}
	return out[:qend]
}
