package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/zonefile"
)

// Transfers in (RFC 5936 AXFR, RFC 1995 IXFR) with miekg/dns's Transfer,
// which verifies the TSIG of every message when a secret is set. Around
// it we enforce the limits a hostile or broken primary must not exceed
// (xfr-timeout, xfr-idle-timeout, xfr-max-records, xfr-max-bytes) and
// turn the stream into the zone's complete new record set. Nothing here
// touches the served zone or its file: secondary_data.go applies.

// xfrError is a transfer that failed. fallback is set when an IXFR
// failed in a way an AXFR may cure (RFC 1995 §4: the primary refused
// or does not implement IXFR, or its answer could not be applied).
type xfrError struct {
	why      string
	fallback bool
}

func (e *xfrError) Error() string { return e.why }

// receive runs one transfer of zone from primary and returns every
// record of the stream (receiveInto).
func (s *secondaries) receive(ctx context.Context, zone string, primary netip.AddrPort, key *xfrKey, ixfrFrom *dns.SOA, res *xfrReservation) (recs []dns.RR, messages int, bytes int64, err error) {
	messages, bytes, err = s.receiveInto(ctx, zone, primary, key, ixfrFrom, res, func(rrs []dns.RR) error {
		recs = append(recs, rrs...)
		return nil
	})
	if err != nil {
		return nil, messages, bytes, err
	}
	return recs, messages, bytes, nil
}

// receiveInto runs one transfer of zone from primary and hands the
// records of each message to take as it arrives; an error from take
// (an *xfrError) ends the transfer with it. ixfrFrom is our SOA for an
// IXFR, nil for an AXFR. The stream is cut off when it breaks any limit,
// the memory budget of the transfers under way included: res is the
// caller's share of it, held until the version is served; nil takes a
// share for the transfer alone.
func (s *secondaries) receiveInto(ctx context.Context, zone string, primary netip.AddrPort, key *xfrKey, ixfrFrom *dns.SOA, res *xfrReservation, take func([]dns.RR) error) (messages int, bytes int64, err error) {
	cfg := s.xfr
	if res == nil {
		res = s.budget.reserve()
		defer res.release()
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.XFRTimeout)
	defer cancel()

	dialTimeout := min(cfg.XFRIdleTimeout, 10*time.Second)
	raw, err := s.dialer("tcp", primary.Addr(), dialTimeout).DialContext(ctx, "tcp", primary.String())
	if err != nil {
		return 0, 0, &xfrError{why: "cannot connect: " + xfrNetReason(err)}
	}
	conn := &countingConn{Conn: raw, max: cfg.XFRMaxBytes}
	// The total time limit closes the connection under the reader.
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()
	defer raw.Close()

	m := new(dns.Msg)
	if ixfrFrom != nil {
		m.SetIxfr(zone, ixfrFrom.Serial, ixfrFrom.Ns, ixfrFrom.Mbox)
	} else {
		m.SetAxfr(zone)
	}
	// RFC 7314 §3: ask a primary that is itself a secondary how long its
	// copy stays valid.
	m.SetEdns0(dns.DefaultMsgSize, false)
	opt := m.IsEdns0()
	opt.Option = append(opt.Option, &dns.EDNS0_EXPIRE{Code: dns.EDNS0EXPIRE, Empty: true})
	t := &dns.Transfer{
		Conn:         &dns.Conn{Conn: conn},
		ReadTimeout:  cfg.XFRIdleTimeout,
		WriteTimeout: cfg.XFRIdleTimeout,
	}
	if key != nil {
		m.SetTsig(key.name, key.algorithm, tsigFudge, time.Now().Unix())
		t.TsigProvider = key.provider()
	}
	raw.SetWriteDeadline(time.Now().Add(cfg.XFRIdleTimeout))
	var counted int64 // wire bytes counted against the budget
	var records int64
	ch, err := t.In(m, primary.String())
	if err != nil {
		return 0, conn.n.Load(), &xfrError{why: "sending the request: " + xfrNetReason(err)}
	}
	for env := range ch {
		if env.Error != nil {
			err = env.Error
			break
		}
		messages++
		if records += int64(len(env.RR)); records > cfg.XFRMaxRecords {
			err = errTooManyRecords
			break
		}
		n := conn.n.Load()
		if !res.grow(n - counted) {
			err = errOverBudget
			break
		}
		counted = n
		if err = take(env.RR); err != nil {
			break
		}
	}
	if err != nil {
		// Unblock the reader goroutine and let it finish.
		raw.Close()
		for range ch {
		}
	}
	bytes = conn.n.Load()
	var xe *xfrError
	switch {
	case err == nil:
		return messages, bytes, nil
	case errors.As(err, &xe):
		return messages, bytes, xe
	case conn.over.Load():
		return messages, bytes, &xfrError{why: fmt.Sprintf("cut off after %d bytes: more than xfr-max-bytes (%d)", bytes, cfg.XFRMaxBytes)}
	case errors.Is(err, errOverBudget):
		return messages, bytes, s.budget.errOverBudget(bytes)
	case errors.Is(err, errTooManyRecords):
		return messages, bytes, &xfrError{why: fmt.Sprintf("cut off: more than xfr-max-records (%d) records", cfg.XFRMaxRecords)}
	case ctx.Err() != nil && errors.Is(context.Cause(ctx), context.DeadlineExceeded):
		return messages, bytes, &xfrError{why: fmt.Sprintf("cut off after %d messages: the transfer took longer than xfr-timeout (%s)", messages, cfg.XFRTimeout)}
	case ctx.Err() != nil:
		return messages, bytes, &xfrError{why: "abandoned: " + context.Cause(ctx).Error()}
	case errors.Is(err, dns.ErrAuth) && messages == 0:
		return messages, bytes, &xfrError{why: notAuthReason(conn.firstMessage())}
	}
	return messages, bytes, describeXFRError(err, messages, cfg.XFRIdleTimeout, ixfrFrom != nil)
}

var (
	errTooManyRecords = errors.New("too many records")
	errOverBudget     = errors.New("over the transfer memory budget")
)

// notAuthReason says why a primary answered NOTAUTH to a signed request,
// from the TSIG error of its answer r (RFC 8945 §5.3.2), when it has one.
func notAuthReason(r *dns.Msg) string {
	why := "the primary answered NOTAUTH: it does not accept our TSIG"
	if r == nil || r.IsTsig() == nil {
		return why + " (wrong secret, key name or algorithm?)"
	}
	switch r.IsTsig().Error {
	case dns.RcodeBadSig:
		return why + " (BADSIG: wrong secret?)"
	case dns.RcodeBadKey:
		return why + " (BADKEY: it does not know the key " + r.IsTsig().Hdr.Name + " or its algorithm)"
	case dns.RcodeBadTime:
		return why + " (BADTIME: clocks differ?)"
	}
	return why
}

// describeXFRError says in words what went wrong in a transfer stream.
func describeXFRError(err error, messages int, idle time.Duration, ixfr bool) *xfrError {
	var ne net.Error
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return &xfrError{why: fmt.Sprintf("cut off after %d messages: nothing received for xfr-idle-timeout (%s)", messages, idle)}
	case errors.Is(err, dns.ErrNoSig):
		return &xfrError{why: fmt.Sprintf("message %d is not TSIG-signed although the request was", messages+1)}
	case errors.Is(err, dns.ErrAuth):
		return &xfrError{why: notAuthReason(nil)}
	case errors.Is(err, dns.ErrSig):
		return &xfrError{why: fmt.Sprintf("TSIG of message %d does not verify (BADSIG: wrong secret?)", messages+1)}
	case errors.Is(err, dns.ErrSecret), errors.Is(err, dns.ErrKeyAlg):
		return &xfrError{why: fmt.Sprintf("message %d is signed with a key or algorithm that is not the zone's", messages+1)}
	case errors.Is(err, dns.ErrTime):
		return &xfrError{why: fmt.Sprintf("TSIG time of message %d is outside the fudge (BADTIME: clocks differ?)", messages+1)}
	case errors.Is(err, dns.ErrSoa):
		return &xfrError{why: "the answer does not begin with the zone's SOA", fallback: ixfr}
	case errors.Is(err, dns.ErrId):
		return &xfrError{why: fmt.Sprintf("message %d carries another query's ID", messages+1)}
	}
	var rcode int
	if _, serr := fmt.Sscanf(err.Error(), "dns: bad xfr rcode: %d", &rcode); serr == nil {
		why := "refused: the primary answered " + dns.RcodeToString[rcode]
		fallback := ixfr && (rcode == dns.RcodeNotImplemented || rcode == dns.RcodeFormatError || rcode == dns.RcodeRefused)
		return &xfrError{why: why, fallback: fallback}
	}
	if messages > 0 {
		return &xfrError{why: fmt.Sprintf("incomplete: the stream broke after %d messages (%s)", messages, xfrNetReason(err))}
	}
	return &xfrError{why: xfrNetReason(err)}
}

// xfrNetReason shortens a network error to its cause.
func xfrNetReason(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		err = oe.Err
	}
	msg := err.Error()
	if errors.Is(err, os.ErrDeadlineExceeded) {
		msg = "timed out"
	}
	return strings.TrimPrefix(msg, "dns: ")
}

// countingConn counts the bytes read from a connection and fails the
// read that goes past max, which cuts the transfer off.
type countingConn struct {
	net.Conn
	max  int64
	n    atomic.Int64
	over atomic.Bool

	mu   sync.Mutex
	head []byte // the first headLen bytes read: the first message, to say why it was refused
}

// headLen is how much of a transfer's start countingConn keeps: a
// refusal (NOTAUTH with a TSIG error) fits.
const headLen = 4096

// firstMessage returns the first message read, when it was kept whole.
func (c *countingConn) firstMessage() *dns.Msg {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.head) < 2 {
		return nil
	}
	n := int(c.head[0])<<8 | int(c.head[1])
	if len(c.head) < 2+n {
		return nil
	}
	m := new(dns.Msg)
	if m.Unpack(c.head[2:2+n]) != nil {
		return nil
	}
	return m
}

func (c *countingConn) Read(p []byte) (int, error) {
	// miekg/dns ignores an error that comes with data: fail with none.
	if c.over.Load() {
		return 0, errTooManyBytes
	}
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	if room := headLen - len(c.head); room > 0 {
		c.head = append(c.head, p[:min(n, room)]...)
	}
	c.mu.Unlock()
	if c.n.Add(int64(n)) > c.max {
		c.over.Store(true)
		return 0, errTooManyBytes
	}
	return n, err
}

var errTooManyBytes = errors.New("xfr-max-bytes exceeded")

// axfrRecords checks an AXFR stream (RFC 5936 §2.2: SOA, the zone, the
// same SOA again) and returns the zone's records with its SOA once.
func axfrRecords(zone string, recs []dns.RR) ([]dns.RR, uint32, error) {
	first, ok := zoneSOA(zone, recs, 0)
	if !ok {
		return nil, 0, &xfrError{why: "the answer does not begin with the zone's SOA"}
	}
	last, ok := zoneSOA(zone, recs, len(recs)-1)
	if len(recs) < 2 || !ok {
		return nil, 0, &xfrError{why: "incomplete: the answer does not end with the zone's SOA"}
	}
	if last.Serial != first.Serial {
		return nil, 0, &xfrError{why: fmt.Sprintf("the closing SOA has serial %d, the opening one %d", last.Serial, first.Serial)}
	}
	body := recs[:len(recs)-1]
	for _, rr := range body[1:] {
		if rr.Header().Rrtype == dns.TypeSOA {
			return nil, 0, &xfrError{why: "an SOA record in the middle of the zone"}
		}
	}
	return body, first.Serial, nil
}

// axfrStream checks an AXFR stream as it arrives (RFC 5936 §2.2: SOA,
// the zone, the same SOA again) and packs the zone's records, its SOA
// once, into a Builder: no record is kept as a dns.RR.
type axfrStream struct {
	zone    string
	b       zonefile.Builder
	first   *dns.SOA // the opening SOA
	closing *dns.SOA // the zone's SOA again: the end
	large   func()   // called once the zone reaches largeVersion records; may be nil
}

// take is receiveInto's take for an AXFR.
func (a *axfrStream) take(rrs []dns.RR) error {
	for i, rr := range rrs {
		if a.closing != nil {
			return &xfrError{why: "an SOA record in the middle of the zone"}
		}
		soa, ok := zoneSOA(a.zone, rrs, i)
		switch {
		case a.first == nil && !ok:
			return &xfrError{why: "the answer does not begin with the zone's SOA"}
		case a.first == nil:
			a.first = soa
		case ok:
			a.closing = soa
			continue
		case rr.Header().Rrtype == dns.TypeSOA:
			return &xfrError{why: "an SOA record in the middle of the zone"}
		}
		a.b.Add(rr)
		if a.b.Len() == largeVersion && a.large != nil {
			a.large()
		}
	}
	return nil
}

// finish checks that the stream ended with the opening SOA and returns
// the zone's serial.
func (a *axfrStream) finish() (uint32, error) {
	switch {
	case a.first == nil:
		return 0, &xfrError{why: "the answer does not begin with the zone's SOA"}
	case a.closing == nil:
		return 0, &xfrError{why: "incomplete: the answer does not end with the zone's SOA"}
	case a.closing.Serial != a.first.Serial:
		return 0, &xfrError{why: fmt.Sprintf("the closing SOA has serial %d, the opening one %d", a.closing.Serial, a.first.Serial)}
	}
	return a.first.Serial, nil
}

// ixfrRecords applies an IXFR stream (RFC 1995 §4) to a copy of base and
// returns the new zone's records. An answer that is the full zone (the
// primary could not send differences) is taken as an AXFR: its closing
// SOA is dropped, never added twice. A single SOA, a difference that does
// not start at the serial we hold, or one that removes what we do not
// have, fails with fallback set: the primary's zone and ours disagree,
// and an AXFR settles it.
func ixfrRecords(zone string, base *zonefile.Zone, recs []dns.RR) (out []dns.RR, serial uint32, full bool, err error) {
	newest, ok := zoneSOA(zone, recs, 0)
	if !ok {
		return nil, 0, false, &xfrError{why: "the IXFR answer does not begin with the zone's SOA", fallback: true}
	}
	if len(recs) == 1 {
		return nil, 0, false, &xfrError{why: fmt.Sprintf("the IXFR answer is the SOA alone (serial %d): no differences to apply", newest.Serial), fallback: true}
	}
	if recs[1].Header().Rrtype != dns.TypeSOA {
		out, serial, err := axfrRecords(zone, recs)
		if err != nil {
			err.(*xfrError).fallback = true
		}
		return out, serial, true, err
	}
	if last, ok := zoneSOA(zone, recs, len(recs)-1); !ok || last.Serial != newest.Serial {
		return nil, 0, false, &xfrError{why: "incomplete: the IXFR answer does not end with the new SOA", fallback: true}
	}

	cur := newRRIndex(base.Records)
	have := base.Serial()
	i := 1
	for i < len(recs)-1 {
		from, ok := zoneSOA(zone, recs, i)
		if !ok {
			return nil, 0, false, &xfrError{why: "malformed IXFR: a difference does not begin with an SOA", fallback: true}
		}
		if from.Serial != have {
			return nil, 0, false, &xfrError{why: fmt.Sprintf("IXFR difference starts at serial %d, we hold %d", from.Serial, have), fallback: true}
		}
		i++
		for ; i < len(recs) && recs[i].Header().Rrtype != dns.TypeSOA; i++ {
			if !cur.remove(recs[i]) {
				return nil, 0, false, &xfrError{why: "IXFR removes a record we do not hold: " + oneLineRR(recs[i]), fallback: true}
			}
		}
		to, ok := zoneSOA(zone, recs, i)
		if !ok || i == len(recs)-1 {
			return nil, 0, false, &xfrError{why: "malformed IXFR: a difference has no new SOA", fallback: true}
		}
		cur.setSOA(to)
		i++
		for ; i < len(recs) && recs[i].Header().Rrtype != dns.TypeSOA; i++ {
			if !cur.add(recs[i]) {
				return nil, 0, false, &xfrError{why: "IXFR adds a record we already hold: " + oneLineRR(recs[i]), fallback: true}
			}
		}
		have = to.Serial
	}
	if have != newest.Serial {
		return nil, 0, false, &xfrError{why: fmt.Sprintf("IXFR differences end at serial %d, not %d", have, newest.Serial), fallback: true}
	}
	return cur.records(), newest.Serial, false, nil
}

// zoneSOA returns recs[i] when it is the zone's SOA.
func zoneSOA(zone string, recs []dns.RR, i int) (*dns.SOA, bool) {
	if i < 0 || i >= len(recs) {
		return nil, false
	}
	soa, ok := recs[i].(*dns.SOA)
	if !ok || !strings.EqualFold(dns.Fqdn(soa.Hdr.Name), zone) {
		return nil, false
	}
	return soa, true
}

// oneLineRR renders a record on one line with single spaces.
func oneLineRR(rr dns.RR) string { return strings.Join(strings.Fields(rr.String()), " ") }

// rrIndex is a zone's records being changed by IXFR differences, grouped
// by RRset. A set that a difference touches gets an index of its records
// by rdata on its first change, so applying N changes costs N lookups
// however large the RRset (a set grown by 100k records by one IXFR).
type rrIndex struct {
	sets  map[rrIndexKey]*rrIndexSet
	order []rrIndexKey // first-seen order; Write sorts anyway
}

type rrIndexKey struct {
	name   string // lower case
	rrtype uint16
	class  uint16
}

// rrIndexSet is one RRset: its records in order, removed ones nil, and
// once changed, where each is by its rdata key.
type rrIndexSet struct {
	rrs   []dns.RR
	index map[string][]int // rdataKey -> positions in rrs; nil until the set changes
}

func rrIndexKeyOf(rr dns.RR) rrIndexKey {
	h := rr.Header()
	return rrIndexKey{strings.ToLower(h.Name), h.Rrtype, h.Class}
}

// rdataKey is the text of rr's rdata in lower case: equal for records
// that dns.IsDuplicate finds equal (names in rdata compare without case),
// and rarely equal otherwise, which IsDuplicate then tells apart.
func rdataKey(rr dns.RR) string {
	return strings.ToLower(strings.TrimPrefix(rr.String(), rr.Header().String()))
}

func newRRIndex(recs []dns.RR) *rrIndex {
	ix := &rrIndex{sets: make(map[rrIndexKey]*rrIndexSet, len(recs))}
	for _, rr := range recs {
		set := ix.set(rrIndexKeyOf(rr))
		set.rrs = append(set.rrs, rr)
	}
	return ix
}

// set returns the RRset of key k, made empty when there is none.
func (ix *rrIndex) set(k rrIndexKey) *rrIndexSet {
	set := ix.sets[k]
	if set == nil {
		set = &rrIndexSet{}
		ix.sets[k] = set
		ix.order = append(ix.order, k)
	}
	return set
}

// indexed returns set with its index built. The slices of the index are
// the set's own: newRRIndex built them, base's records stay as they were.
func (set *rrIndexSet) indexed() *rrIndexSet {
	if set.index == nil {
		set.index = make(map[string][]int, len(set.rrs))
		for i, rr := range set.rrs {
			if rr != nil {
				k := rdataKey(rr)
				set.index[k] = append(set.index[k], i)
			}
		}
	}
	return set
}

// find returns the position of the record equal to rr (TTL aside), or -1,
// and rr's rdata key.
func (set *rrIndexSet) find(rr dns.RR) (int, string) {
	k := rdataKey(rr)
	for _, i := range set.index[k] {
		if dns.IsDuplicate(set.rrs[i], rr) {
			return i, k
		}
	}
	return -1, k
}

// remove deletes the record equal to rr (TTL aside), reporting whether
// there was one.
func (ix *rrIndex) remove(rr dns.RR) bool {
	set := ix.sets[rrIndexKeyOf(rr)]
	if set == nil {
		return false
	}
	i, k := set.indexed().find(rr)
	if i < 0 {
		return false
	}
	set.rrs[i] = nil
	pos := set.index[k]
	for j, p := range pos {
		if p == i {
			set.index[k] = append(pos[:j], pos[j+1:]...)
			break
		}
	}
	return true
}

// add inserts rr unless an equal record is there.
func (ix *rrIndex) add(rr dns.RR) bool {
	set := ix.set(rrIndexKeyOf(rr)).indexed()
	i, k := set.find(rr)
	if i >= 0 {
		return false
	}
	set.index[k] = append(set.index[k], len(set.rrs))
	set.rrs = append(set.rrs, rr)
	return true
}

// setSOA replaces the zone's SOA, whatever it was.
func (ix *rrIndex) setSOA(soa *dns.SOA) {
	set := ix.set(rrIndexKeyOf(soa))
	set.rrs, set.index = []dns.RR{soa}, nil
}

// records returns the current records.
func (ix *rrIndex) records() []dns.RR {
	var out []dns.RR
	for _, k := range ix.order {
		for _, rr := range ix.sets[k].rrs {
			if rr != nil {
				out = append(out, rr)
			}
		}
	}
	return out
}
