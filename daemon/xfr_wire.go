package daemon

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"zonekeeper/daemon/answer"

	"github.com/miekg/dns"
)

// Whole-zone transfers straight from wire form.
//
// Packing 2.25 million dns.RR values into messages with miekg/dns's
// compression costs seconds of CPU per AXFR. The snapshot already holds
// the served records in wire form (eachRecord), so an unsigned AXFR over
// TCP copies them into messages instead. Names
// are compressed cheaply: an owner name equal to the previous record's
// points at it; any other name of the zone (owners, and the names in the
// RDATA of NS, CNAME, PTR and MX, which RFC 3597 §4 lets us compress) is
// written as its labels below the apex and a pointer to the question
// (the apex, at offset 12). Other names go out in full, which RFC 1035
// §4.1.4 allows a sender. Signed transfers keep the dns.Msg path, whose
// TSIG signatures cover each packed message.

// wireMsgLimit is the size past which a message of a wire transfer is
// sent: well inside a TCP frame (65535), and few enough frames that the
// per-message cost stays small.
const wireMsgLimit = 60 << 10

// wireXFR builds the messages of one transfer from wire-format records.
type wireXFR struct {
	x      *xfrStream
	head   []byte // header and question, ANCOUNT 0
	opt    []byte // our OPT RR, or nil without EDNS
	optExp []byte // the same with the EDNS EXPIRE option, for the first message
	apex   []byte // the zone's apex, lower-case wire format

	msg       []byte
	count     int
	prevOwner []byte // owner of the last record added to msg, as in the data (a copy: callers reuse their buffers)
	prevAt    int    // its offset in msg; 0 when it was not written in full
}

// newWireXFR prepares a wire transfer for x's request.
func newWireXFR(x *xfrStream) (*wireXFR, error) {
	hm := &dns.Msg{MsgHdr: dns.MsgHdr{Id: x.req.Id, Response: true, Authoritative: true, Opcode: dns.OpcodeQuery}}
	hm.Question = x.req.Question
	head, err := hm.Pack()
	if err != nil {
		return nil, err
	}
	apex, err := answer.WireName(x.req.Question[0].Name)
	if err != nil {
		return nil, err
	}
	answer.LowerInPlace(apex)
	w := &wireXFR{x: x, head: head, apex: apex}
	if o := x.req.IsEdns0(); o != nil {
		if w.opt, err = packRR(x.d.opt(o)); err != nil {
			return nil, err
		}
		w.optExp = w.opt
		if x.expire {
			opt := x.d.opt(o)
			opt.Option = append(opt.Option, &dns.EDNS0_EXPIRE{Code: dns.EDNS0EXPIRE, Expire: x.expireSecs})
			if w.optExp, err = packRR(opt); err != nil {
				return nil, err
			}
		}
	}
	w.msg = make([]byte, 0, wireMsgLimit+answer.MaxMsgLen)
	w.reset()
	return w, nil
}

// packRR packs one record, uncompressed.
func packRR(rr dns.RR) ([]byte, error) {
	buf := make([]byte, dns.Len(rr)+16)
	n, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return nil, err
	}
	return buf[:n], nil
}

// reset starts the next message.
func (w *wireXFR) reset() {
	w.msg = append(w.msg[:0], w.head...)
	w.count, w.prevOwner, w.prevAt = 0, w.prevOwner[:0], 0
}

// sendSnapshot streams the zone snap serves in AXFR order (RFC 5936
// §2.2): its SOA, every other record in canonical order, the SOA again.
// The served data leads with the apex SOA, which is kept for the end.
func (w *wireXFR) sendSnapshot(snap *answer.Snapshot) error {
	var soa, rr []byte
	var err error
	snap.EachRecord(func(owner []byte, rtype, class uint16, ttl uint32, rdata []byte) bool {
		rr = answer.AppendWireRR(rr[:0], owner, rtype, class, ttl, rdata)
		if soa == nil {
			if rtype != dns.TypeSOA {
				err = fmt.Errorf("the served data does not start with the SOA")
				return false
			}
			soa = slices.Clone(rr)
		}
		err = w.add(rr)
		return err == nil
	})
	if err != nil {
		return err
	}
	if soa == nil {
		return fmt.Errorf("the zone has no records")
	}
	if err := w.add(soa); err != nil {
		return err
	}
	return w.flush()
}

// add appends one uncompressed wire record, sending the message first
// when the record would take it past wireMsgLimit.
func (w *wireXFR) add(rr []byte) error {
	n := answer.NameLen(rr)
	if n < 0 || len(rr) < n+10 {
		return fmt.Errorf("malformed packed record")
	}
	if w.count > 0 && len(w.msg)+len(rr)+len(w.optExp) > wireMsgLimit {
		if err := w.flush(); err != nil {
			return err
		}
	}
	owner := rr[:n]
	switch {
	case w.prevAt > 0 && bytes.Equal(owner, w.prevOwner):
		w.msg = binary.BigEndian.AppendUint16(w.msg, 0xC000|uint16(w.prevAt))
	default:
		at := len(w.msg)
		w.msg = w.appendName(w.msg, owner)
		// A later record of the same owner points here, unless all that
		// was written is itself a pointer (the apex): then it repeats it.
		w.prevOwner, w.prevAt = append(w.prevOwner[:0], owner...), 0
		if at < 0x4000 && len(w.msg)-at > 2 {
			w.prevAt = at
		}
	}
	switch binary.BigEndian.Uint16(rr[n:]) {
	case dns.TypeNS, dns.TypeCNAME, dns.TypePTR, dns.TypeMX:
		w.appendCompressed(rr[n:])
	default:
		w.msg = append(w.msg, rr[n:]...)
	}
	w.count++
	return nil
}

// appendCompressed appends the part after the owner name of an NS,
// CNAME, PTR or MX record, compressing the name its RDATA ends with.
func (w *wireXFR) appendCompressed(rest []byte) {
	fixed := 0 // RDATA bytes before the name: MX's preference
	if binary.BigEndian.Uint16(rest) == dns.TypeMX {
		fixed = 2
	}
	rdata := rest[10:]
	name := rdata[min(fixed, len(rdata)):]
	if len(rdata) < fixed || answer.NameLen(name) != len(name) {
		w.msg = append(w.msg, rest...) // not the shape expected: as it is
		return
	}
	w.msg = append(w.msg, rest[:8]...)
	lenAt := len(w.msg)
	w.msg = append(w.msg, 0, 0)
	w.msg = append(w.msg, rdata[:fixed]...)
	w.msg = w.appendName(w.msg, name)
	binary.BigEndian.PutUint16(w.msg[lenAt:], uint16(len(w.msg)-lenAt-2))
}

// appendName appends a wire-format name: when it is the apex or below,
// its labels below the apex and a pointer to the question's name (offset
// 12, the apex); otherwise in full.
func (w *wireXFR) appendName(msg, name []byte) []byte {
	for off := 0; off < len(name) && name[off] != 0; off += int(name[off]) + 1 {
		if len(name)-off == len(w.apex) {
			if answer.EqualFold(name[off:], w.apex) {
				msg = append(msg, name[:off]...)
				return append(msg, 0xC0, 12)
			}
			break
		}
	}
	if len(w.apex) == 1 { // the root zone: every name ends with it
		msg = append(msg, name[:len(name)-1]...)
		return append(msg, 0xC0, 12)
	}
	return append(msg, name...)
}

// flush sends the message being filled, if it holds records.
func (w *wireXFR) flush() error {
	x := w.x
	if w.count == 0 {
		return nil
	}
	if x.err != nil {
		return x.err
	}
	if !x.deadline.IsZero() && time.Now().After(x.deadline) {
		x.err = fmt.Errorf("the transfer took longer than xfr-timeout (%s)", x.d.cfg.XFRTimeout)
		return x.err
	}
	binary.BigEndian.PutUint16(w.msg[6:], uint16(w.count))
	if w.opt != nil {
		opt := w.opt
		if x.msgs == 0 {
			opt = w.optExp
		}
		w.msg = append(w.msg, opt...)
		binary.BigEndian.PutUint16(w.msg[10:], 1)
	}
	if err := x.w.Write(w.msg); err != nil {
		x.err = err
		return err
	}
	x.msgs++
	x.rrs += w.count
	x.bytes += int64(len(w.msg))
	w.reset()
	return nil
}
