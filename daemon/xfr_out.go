package daemon

import (
	"fmt"
	"iter"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"zonekeeper/daemon/listen"

	"zonekeeper/daemon/answer"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
	"zonekeeper/zonefile"
)

// Outgoing transfers: AXFR (RFC 5936) and IXFR (RFC 1995) from the
// served snapshots and the journal.
//
//   - The zone must be served here, as its apex: otherwise NOTAUTH, as
//     BIND answers ("non-authoritative zone"). A secondary zone not
//     transferred yet, or expired, gets SERVFAIL, as BIND does (it has
//     no database to send).
//   - Access (access.go) is checked before anything is sent: REFUSED
//     with EDE 18 (RFC 8914, "Prohibited") when EDNS, as NSD does.
//   - AXFR needs TCP: over UDP it gets NOTIMP, as NSD answers.
//   - A TCP transfer is a stream of messages of about xfrMsgBudget bytes
//     of records before compression, each with the question, our OPT RR
//     when the request had EDNS (the EXPIRE option in the first one only,
//     as BIND does), and a TSIG RR when the request was signed (every
//     message, RFC 8945 §5.3.1). The whole transfer must end within
//     xfr-timeout; each message is written within the server's TCP
//     write timeout or the connection is closed.
//   - IXFR: a client serial equal to or newer than ours gets the single
//     current SOA; a serial the journal reaches gets the differences
//     (RFC 1995 §4); any other the whole zone in AXFR format. Over UDP
//     the differences go out when they fit one reply; anything else is
//     the single current SOA, which tells the client to ask over TCP
//     (RFC 1995 §2).

// xfrMsgBudget is the uncompressed size of the records put in one
// transfer message: compressed, a message is then some 12 to 20 KiB, and
// never near the 64 KiB limit of a TCP frame.
const xfrMsgBudget = 32 << 10

// serveXFR answers an AXFR or IXFR request whose TSIG RR, if any, was
// verified (sig is then its signer).
func (d *Daemon) serveXFR(w listen.SpecialWriter, req *dns.Msg, from netip.AddrPort, tcp bool, sig *signer) {
	q := req.Question[0]
	ixfr := q.Qtype == dns.TypeIXFR
	zone := strings.ToLower(dns.Fqdn(q.Name))
	peer := from.Addr().Unmap()
	what := "AXFR"
	if ixfr {
		what = "IXFR"
	}
	keyText := ""
	if sig != nil {
		keyText = ", key " + sig.keyName()
	}
	fail := func(rcode int, ede uint16, outcome, why string) {
		m := d.reply(req, rcode)
		if ede != answer.EDEAbsent {
			addEDE(m, ede)
		}
		d.send(w, req, m, sig, tcp)
		detail := fmt.Sprintf("%s of %s from %s%s: %s: %s", what, zone, peer, keyText, dns.RcodeToString[rcode], why)
		d.reportMessage(sig, peer, "refused transfer requests", slog.LevelInfo, api.Event{Kind: "xfr-refused", Zone: zone, Peer: peer.String(), Outcome: outcome, Detail: detail})
	}
	switch {
	case q.Qclass != dns.ClassINET:
		m := d.reply(req, dns.RcodeRefused)
		addEDE(m, answer.EDENotSupported)
		d.send(w, req, m, sig, tcp)
		return
	case !ixfr && !tcp:
		d.send(w, req, d.reply(req, dns.RcodeNotImplemented), sig, tcp)
		return
	}
	snap := d.zones.Get(zone)
	if snap == nil {
		if row, ok := d.zoneRecord(zone); ok && string(row.Kind) == api.KindSecondary {
			fail(dns.RcodeServerFailure, answer.EDEAbsent, api.OutcomeWarning, "secondary zone not transferred yet")
			return
		}
		fail(dns.RcodeNotAuth, answer.EDEAbsent, api.OutcomeWarning, "zone not served here")
		return
	}
	g := d.mayTransfer(zone, peer, sig.keyName())
	if !g.ok {
		fail(dns.RcodeRefused, answer.EDEProhibited, api.OutcomeWarning, g.why)
		return
	}
	keyText += " (" + g.why + ")"

	if snap.Expired() {
		fail(dns.RcodeServerFailure, answer.EDEAbsent, api.OutcomeWarning, "the zone expired: it is not served until a transfer succeeds")
		return
	}
	expire, wantExpire := uint32(0), wantsExpire(req)
	if wantExpire {
		expire = d.expireOf(snap)
	}
	x := &xfrStream{d: d, w: w, req: req, sig: sig, tcp: tcp, peer: peer.String(), expire: wantExpire, expireSecs: expire}
	if d.cfg.XFRTimeout > 0 {
		x.deadline = time.Now().Add(d.cfg.XFRTimeout)
	}
	x.start()

	cur := snap.SOA()
	var (
		records iter.Seq[dns.RR]
		style   string
		whole   bool // records is the whole zone
	)
	if ixfr {
		client, ok := ixfrClientSOA(req, zone)
		if !ok {
			fail(dns.RcodeFormatError, answer.EDEAbsent, api.OutcomeError, "no SOA of the zone in the authority section")
			return
		}
		if !zonefile.SerialGreater(cur.Serial, client.Serial) {
			x.single(cur)
			d.xfrDone(x, zone, "ixfr-out", fmt.Sprintf("IXFR of %s from %s%s: serial %d is current (ours %d): one SOA", zone, peer, keyText, client.Serial, cur.Serial), cur.Serial)
			return
		}
		if diffs, ok := d.journal.since(zone, client.Serial, snap); ok && journalReaches(diffs, client.Serial, cur.Serial) {
			records, style = ixfrSequence(cur, diffs), fmt.Sprintf("incremental, serial %d to %d in %d steps", client.Serial, cur.Serial, len(diffs))
			if !tcp {
				if !x.whole(records) {
					x.single(cur)
					style += ", too large for UDP: one SOA"
				}
				d.xfrDone(x, zone, "ixfr-out", fmt.Sprintf("IXFR of %s from %s%s over UDP: %s", zone, peer, keyText, style), cur.Serial)
				return
			}
		} else {
			style = fmt.Sprintf("serial %d not in the journal: whole zone", client.Serial)
			if !tcp {
				x.single(cur)
				d.xfrDone(x, zone, "ixfr-out", fmt.Sprintf("IXFR of %s from %s%s over UDP: %s, one SOA to ask for TCP", zone, peer, keyText, style), cur.Serial)
				return
			}
			records, whole = axfrSequence(snap), true
		}
	} else {
		records, style, whole = axfrSequence(snap), "whole zone", true
	}
	if whole && sig == nil && tcp {
		// Unsigned: the served wire data goes out without building
		// dns.Msg values (xfr_wire.go).
		if err := x.sendWire(snap); err != nil && x.err == nil {
			x.err = err
		}
		d.xfrDone(x, zone, kindOf(ixfr), fmt.Sprintf("%s of %s serial %d to %s%s: %s", what, zone, cur.Serial, peer, keyText, style), cur.Serial)
		return
	}
	for rr := range records {
		if x.add(rr) != nil {
			break
		}
	}
	if x.err == nil {
		x.flush()
	}
	d.xfrDone(x, zone, kindOf(ixfr), fmt.Sprintf("%s of %s serial %d to %s%s: %s", what, zone, cur.Serial, peer, keyText, style), cur.Serial)
}

// kindOf is the event kind of an outgoing transfer.
func kindOf(ixfr bool) string {
	if ixfr {
		return "ixfr-out"
	}
	return "axfr-out"
}

// sendWire sends the whole zone served by snap from its wire data.
func (x *xfrStream) sendWire(snap *answer.Snapshot) error {
	w, err := newWireXFR(x)
	if err != nil {
		return err
	}
	return w.sendSnapshot(snap)
}

// xfrDone logs the end of a transfer as an event.
func (d *Daemon) xfrDone(x *xfrStream, zone, kind, detail string, serial uint32) {
	stats := fmt.Sprintf("; %d records in %d messages, %d bytes, %s", x.rrs, x.msgs, x.bytes, time.Since(x.started).Round(time.Millisecond))
	ev := api.Event{Kind: kind, Zone: zone, Peer: x.peer, Serial: serial, Outcome: api.OutcomeOK, Detail: detail + stats}
	if x.err != nil {
		ev.Outcome = api.OutcomeError
		ev.Detail = detail + ": cut off: " + x.err.Error() + stats
	}
	if from, err := netip.ParseAddr(x.peer); err == nil && !x.tcp && x.sig == nil {
		// An unsigned IXFR over UDP may come from a spoofed address.
		d.traffic.report(from, "unsigned IXFRs over UDP", slog.LevelInfo, ev)
		return
	}
	if x.err != nil {
		d.log.Warn("transfer cut off", "zone", zone, "peer", ev.Peer, "err", x.err)
	} else {
		d.log.Info("transfer", "zone", zone, "peer", ev.Peer, "kind", kind, "records", x.rrs, "messages", x.msgs)
	}
	d.events.Emit(ev)
}

// ixfrClientSOA returns the SOA of an IXFR request (RFC 1995 §3): the
// version the client holds.
func ixfrClientSOA(req *dns.Msg, zone string) (*dns.SOA, bool) {
	if len(req.Ns) != 1 {
		return nil, false
	}
	soa, ok := req.Ns[0].(*dns.SOA)
	if !ok || !strings.EqualFold(dns.Fqdn(soa.Hdr.Name), zone) {
		return nil, false
	}
	return soa, true
}

// journalReaches reports whether diffs step from serial from to serial
// to without a gap: anything else is answered with the whole zone.
func journalReaches(diffs []journalDiff, from, to uint32) bool {
	if len(diffs) == 0 {
		return false
	}
	at := from
	for _, df := range diffs {
		if df.From == nil || df.To == nil || df.From.Serial != at {
			return false
		}
		at = df.To.Serial
	}
	return at == to
}

// axfrSequence yields a zone in AXFR order (RFC 5936 §2.2): the SOA,
// every other record, the SOA again. The served data leads with the
// apex SOA (eachRecord), so only the closing one is added.
func axfrSequence(s *answer.Snapshot) iter.Seq[dns.RR] {
	return func(yield func(dns.RR) bool) {
		more := true
		err := s.EachRR(func(rr dns.RR) bool {
			more = yield(rr)
			return more
		})
		if err == nil && more {
			yield(s.SOA())
		}
	}
}

// ixfrSequence yields an incremental transfer (RFC 1995 §4): the current
// SOA; for each step the old SOA, the records removed, the new SOA, the
// records added; the current SOA again.
func ixfrSequence(cur *dns.SOA, diffs []journalDiff) iter.Seq[dns.RR] {
	return func(yield func(dns.RR) bool) {
		if !yield(cur) {
			return
		}
		for _, df := range diffs {
			if !yield(df.From) {
				return
			}
			for _, rr := range df.Removed {
				if !yield(rr) {
					return
				}
			}
			if !yield(df.To) {
				return
			}
			for _, rr := range df.Added {
				if !yield(rr) {
					return
				}
			}
		}
		yield(cur)
	}
}

// xfrStream packs the records of one transfer into messages and writes
// them, signing each when the request was signed.
type xfrStream struct {
	d          *Daemon
	w          listen.SpecialWriter
	req        *dns.Msg
	sig        *signer
	tcp        bool
	peer       string    // the client's address, for events
	expire     bool      // the request carried the EDNS EXPIRE option
	expireSecs uint32    // its value, for the first message
	deadline   time.Time // xfr-timeout after the start; zero: none

	m       *dns.Msg // the message being filled
	size    int      // uncompressed size of its records
	started time.Time
	msgs    int
	rrs     int
	bytes   int64
	err     error // the first error: the transfer is over
}

// start prepares the first message.
func (x *xfrStream) start() {
	x.started = time.Now()
	x.m = &dns.Msg{MsgHdr: dns.MsgHdr{Id: x.req.Id, Response: true, Authoritative: true, Opcode: dns.OpcodeQuery}, Compress: true}
	x.m.Question = x.req.Question
}

// add queues rr, writing the message first when rr would not fit.
func (x *xfrStream) add(rr dns.RR) error {
	n := dns.Len(rr)
	if len(x.m.Answer) > 0 && x.size+n > xfrMsgBudget {
		if err := x.flush(); err != nil {
			return err
		}
	}
	x.m.Answer = append(x.m.Answer, rr)
	x.size += n
	return nil
}

// flush writes the message being filled and starts the next one.
func (x *xfrStream) flush() error {
	if x.err != nil {
		return x.err
	}
	if x.tcp && !x.deadline.IsZero() && time.Now().After(x.deadline) {
		x.err = fmt.Errorf("the transfer took longer than xfr-timeout (%s)", x.d.cfg.XFRTimeout)
		return x.err
	}
	x.m.Extra = x.m.Extra[:0]
	if o := x.req.IsEdns0(); o != nil {
		opt := x.d.opt(o)
		if x.expire && x.msgs == 0 {
			opt.Option = append(opt.Option, &dns.EDNS0_EXPIRE{Code: dns.EDNS0EXPIRE, Expire: x.expireSecs})
		}
		x.m.Extra = append(x.m.Extra, opt)
	}
	b, err := x.sig.sign(x.m)
	if err != nil {
		x.err = err
		return err
	}
	if err := x.w.Write(b); err != nil {
		x.err = err
		return err
	}
	x.sig.advance()
	x.msgs++
	x.rrs += len(x.m.Answer)
	x.bytes += int64(len(b))
	clear(x.m.Answer)
	x.m.Answer = x.m.Answer[:0]
	x.size = 0
	return nil
}

// single writes a reply holding the current SOA only: an up-to-date
// IXFR client, or one asked to come back over TCP.
func (x *xfrStream) single(soa *dns.SOA) {
	x.m.Answer = append(x.m.Answer[:0], soa)
	x.flush()
}

// whole writes records as one UDP reply when they fit the client's UDP
// size, and reports whether they did.
func (x *xfrStream) whole(records iter.Seq[dns.RR]) bool {
	size := 0
	for rr := range records {
		size += dns.Len(rr)
		if size > answer.MaxMsgLen {
			return false
		}
		x.m.Answer = append(x.m.Answer, rr)
	}
	x.m.Extra = x.m.Extra[:0]
	if o := x.req.IsEdns0(); o != nil {
		opt := x.d.opt(o)
		if x.expire {
			opt.Option = append(opt.Option, &dns.EDNS0_EXPIRE{Code: dns.EDNS0EXPIRE, Expire: x.expireSecs})
		}
		x.m.Extra = append(x.m.Extra, opt)
	}
	b, err := x.sig.sign(x.m)
	if err != nil || len(b) > x.d.udpLimitOf(x.req) {
		x.m.Answer = x.m.Answer[:0]
		return false
	}
	if err := x.w.Write(b); err != nil {
		x.err = err
	}
	x.msgs, x.rrs, x.bytes = 1, len(x.m.Answer), int64(len(b))
	return true
}
