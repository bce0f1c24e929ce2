package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"zonekeeper/daemon/listen"

	"zonekeeper/daemon/answer"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
)

// The slow path: what the zero-allocation query path hands off
// (handler.go) is unpacked with miekg/dns and answered here.
//
//   - Any message with a TSIG RR is verified first (tsig.go); one that
//     does not verify gets NOTAUTH with BADKEY, BADSIG or BADTIME in the
//     TSIG RR of the reply, and nothing else happens. Every reply to a
//     verified request is signed with its key.
//   - NOTIFY (RFC 1996) goes to the secondary side for secondary zones;
//     the rest as BIND answers it (see serveNotify).
//   - AXFR and IXFR go to xfr_out.go.
//   - Any other query, signed or carrying the EDNS EXPIRE option, is
//     answered by the fast path's responder from a copy without the TSIG
//     RR and the option; the reply then gets the EXPIRE option (SOA at a
//     zone apex only, RFC 7314) and its signature.

// ServeSpecial implements SpecialHandler for the daemon's server.
func (d *Daemon) ServeSpecial(w listen.SpecialWriter, req *dns.Msg, raw []byte, from netip.AddrPort, tcp bool) {
	sig, fail := d.verifyTSIG(req, raw, from)
	if fail != nil {
		d.send(w, req, d.reply(req, dns.RcodeNotAuth), sig, tcp)
		return
	}
	if o := req.IsEdns0(); o != nil && o.Version() != 0 {
		// RFC 6891 §6.1.3: we speak version 0 only; signed when the
		// request was (RFC 8945 §5.3).
		d.send(w, req, d.reply(req, dns.RcodeBadVers), sig, tcp)
		return
	}
	switch req.Opcode {
	case dns.OpcodeNotify:
		d.serveNotify(w, req, from, tcp, sig)
	case dns.OpcodeQuery:
		if len(req.Question) == 1 {
			switch req.Question[0].Qtype {
			case dns.TypeAXFR, dns.TypeIXFR:
				d.serveXFR(w, req, from, tcp, sig)
				return
			}
		}
		d.serveQuery(w, req, from, tcp, sig)
	default:
		d.send(w, req, d.reply(req, dns.RcodeNotImplemented), sig, tcp)
	}
}

// reply starts the reply to req: same ID and opcode, QR set, RD copied
// (for a query, as the fast path does), the question copied, and our OPT
// RR when req has one.
func (d *Daemon) reply(req *dns.Msg, rcode int) *dns.Msg {
	m := &dns.Msg{MsgHdr: dns.MsgHdr{Id: req.Id, Response: true, Opcode: req.Opcode, Rcode: rcode}, Compress: true}
	if req.Opcode == dns.OpcodeQuery {
		m.RecursionDesired = req.RecursionDesired
	}
	m.Question = slices.Clone(req.Question)
	if o := req.IsEdns0(); o != nil {
		m.Extra = append(m.Extra, d.opt(o))
	}
	return m
}

// opt returns our OPT RR for a reply to a query with OPT RR o: our UDP
// payload size, the DO bit copied, version 0.
func (d *Daemon) opt(o *dns.OPT) *dns.OPT {
	r := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT, Class: uint16(max(d.cfg.UDPSize, answer.MinUDPSize))}}
	if o.Do() {
		r.SetDo()
	}
	return r
}

// addEDE adds an Extended DNS Error (RFC 8914) to m when it has an OPT RR.
func addEDE(m *dns.Msg, code uint16) {
	if o := m.IsEdns0(); o != nil {
		o.Option = append(o.Option, &dns.EDNS0_EDE{InfoCode: code})
	}
}

// addExpire adds the EDNS EXPIRE option (RFC 7314) to m when it has an
// OPT RR.
func addExpire(m *dns.Msg, secs uint32) {
	if o := m.IsEdns0(); o != nil {
		o.Option = append(o.Option, &dns.EDNS0_EXPIRE{Code: dns.EDNS0EXPIRE, Expire: secs})
	}
}

// wantsExpire reports whether req carries the EDNS EXPIRE option.
func wantsExpire(req *dns.Msg) bool {
	if o := req.IsEdns0(); o != nil {
		for _, e := range o.Option {
			if e.Option() == dns.EDNS0EXPIRE {
				return true
			}
		}
	}
	return false
}

// expireOf returns the EXPIRE value of a served zone (RFC 7314): the
// seconds a secondary has left, the SOA EXPIRE of any other zone (§3).
func (d *Daemon) expireOf(s *answer.Snapshot) uint32 {
	if secs, ok := d.secondaries.expireRemaining(s.Origin()); ok {
		return secs
	}
	return s.SOA().Expire
}

// udpLimitOf returns the largest UDP reply req may receive.
func (d *Daemon) udpLimitOf(req *dns.Msg) int {
	o := req.IsEdns0()
	if o == nil {
		return answer.MinUDPSize
	}
	return max(answer.MinUDPSize, min(int(o.UDPSize()), d.cfg.UDPSize))
}

// send packs m, the one reply to req, signs it when sig says so and
// writes it. A UDP reply that does not fit the client's size goes out
// truncated: TC set, no records but the OPT and TSIG RRs.
func (d *Daemon) send(w listen.SpecialWriter, req, m *dns.Msg, sig *signer, tcp bool) {
	b, err := sig.sign(m)
	if err == nil && !tcp && len(b) > d.udpLimitOf(req) {
		m.Truncated = true
		m.Answer, m.Ns = nil, nil
		m.Extra = slices.DeleteFunc(m.Extra, func(rr dns.RR) bool { return rr.Header().Rrtype != dns.TypeOPT })
		b, err = sig.sign(m)
	}
	if err != nil {
		d.log.Error("packing a reply: "+err.Error(), "id", m.Id)
		return
	}
	w.Write(b)
}

// slowResponders are fast-path responders for the slow path, which
// answers the plain part of special queries with them.
var slowResponders sync.Pool // of *answer.Responder

// serveQuery answers a plain query that was signed or carried the EDNS
// EXPIRE option or the zone state option (zone_state.go), which only a
// peer's SOA query gets answered.
func (d *Daemon) serveQuery(w listen.SpecialWriter, req *dns.Msg, from netip.AddrPort, tcp bool, sig *signer) {
	plain := req.Copy()
	plain.Extra = slices.DeleteFunc(plain.Extra, func(rr dns.RR) bool { return rr.Header().Rrtype == dns.TypeTSIG })
	expire, state := false, false
	if o := plain.IsEdns0(); o != nil {
		o.Option = slices.DeleteFunc(o.Option, func(e dns.EDNS0) bool {
			switch e.Option() {
			case dns.EDNS0EXPIRE:
				expire = true
				return true
			case answer.OptionZoneState:
				state = true
				return true
			}
			return false
		})
		if sig != nil && !tcp {
			// Leave room for the TSIG RR.
			o.SetUDPSize(max(answer.MinUDPSize, o.UDPSize()-uint16(min(int(o.UDPSize()), tsigReserve(sig)))))
		}
	}
	in, err := plain.Pack()
	if err != nil {
		d.send(w, req, d.reply(req, dns.RcodeFormatError), sig, tcp)
		return
	}
	r, _ := slowResponders.Get().(*answer.Responder)
	if r == nil || !r.Answers(d.zones) {
		r = answer.NewResponder(d.zones, answer.ResponderConfig{UDPSize: uint16(d.cfg.UDPSize)})
	}
	out := r.Respond(in, tcp)
	m := new(dns.Msg)
	if out != nil {
		err = m.Unpack(out)
	}
	slowResponders.Put(r)
	if out == nil || err != nil {
		d.log.Error("slow path: the responder's reply does not unpack", "err", err)
		return
	}
	m.Compress = true
	if (expire || state) && len(req.Question) == 1 && req.Question[0].Qtype == dns.TypeSOA && m.Rcode == dns.RcodeSuccess {
		if s := d.zones.Get(req.Question[0].Name); s != nil && !s.Expired() {
			if expire {
				addExpire(m, d.expireOf(s))
			}
			if _, ok := d.peers.trusted(from.Addr(), sig.keyName()); state && ok && m.Authoritative && strings.EqualFold(s.Origin(), dns.Fqdn(req.Question[0].Name)) {
				d.addZoneState(m, s)
			}
		}
	}
	d.send(w, req, m, sig, tcp)
}

// tsigReserve is the room a TSIG RR of sig's key takes in a reply.
func tsigReserve(sig *signer) int {
	return 10 + len(sig.name) + 1 + len(sig.alg) + 1 + 16 + 64 + 2
}

// serveNotify answers a NOTIFY (RFC 1996) as BIND does: the question
// must be one SOA of class IN (FORMERR otherwise); a secondary zone's
// NOTIFY goes to the secondary side, which says how to answer; a primary
// or native zone's is acknowledged and otherwise ignored; a zone that is
// not ours gets NOTAUTH, unless the sender is registered as an
// autoprimary, which may provision it (the secondary side decides). AA
// is set when the answer is NOERROR. Each one is logged as a notify-in
// event: here, or by the secondary side for what it decides.
func (d *Daemon) serveNotify(w listen.SpecialWriter, req *dns.Msg, from netip.AddrPort, tcp bool, sig *signer) {
	peer := from.Addr().Unmap()
	ev := api.Event{Kind: "notify-in", Peer: peer.String()}
	keyText := ""
	if sig != nil {
		keyText = ", key " + sig.keyName()
	}
	// what names the kind of NOTIFY for the traffic limit (traffic.go)
	// when unsigned.
	what := "NOTIFYs"
	answer := func(rcode int, outcome, detail string) {
		m := d.reply(req, rcode)
		m.Authoritative = rcode == dns.RcodeSuccess
		if detail != "" {
			ev.Outcome, ev.Detail = outcome, fmt.Sprintf("NOTIFY from %s%s: %s", peer, keyText, detail)
			d.reportMessage(sig, peer, what, slog.LevelInfo, ev)
		}
		d.send(w, req, m, sig, tcp)
	}
	if sig == nil && !d.traffic.notifyAllowed(peer) {
		// A flood: refused before any lookup, and counted.
		what = "NOTIFYs over the rate limit"
		answer(dns.RcodeRefused, api.OutcomeWarning, fmt.Sprintf("refused unread: more than %d unsigned NOTIFYs a second from %s", notifyRate, sourcePrefix(peer)))
		return
	}
	if len(req.Question) != 1 || req.Question[0].Qtype != dns.TypeSOA || req.Question[0].Qclass != dns.ClassINET {
		what = "malformed NOTIFYs"
		answer(dns.RcodeFormatError, api.OutcomeError, "the question is not one SOA of class IN")
		return
	}
	zone := strings.ToLower(dns.Fqdn(req.Question[0].Name))
	ev.Zone = zone
	soa, _ := notifiedSOA(req, zone)
	if soa != nil {
		ev.Serial = soa.Serial
	}
	row, known := d.zoneRecord(zone)
	served := d.zones.Get(zone) != nil
	fromP, fromPeer := d.peers.trusted(peer, sig.keyName())
	fromPeer = fromPeer && fromP.Role == rolePeer
	switch {
	case zone == catalogZone && fromPeer:
		// A peer's catalog changed (catalog.go): read it.
		what = "NOTIFYs of a peer's catalog"
		d.catalog.peerNotified(fromP)
		answer(dns.RcodeSuccess, api.OutcomeOK, fmt.Sprintf("catalog of peer %s changed: reading it", fromP.Name))
	case !known && !served && fromPeer && d.catalog.provisionNotified(fromP, zone):
		// A peer is trusted for every zone: a NOTIFY from it (signed
		// with its key when it has one) provisions the zone here.
		what = "NOTIFYs provisioning zones"
		answer(dns.RcodeSuccess, api.OutcomeOK, fmt.Sprintf("%s provisioned as a secondary of peer %s", zone, fromP.Name))
	case known && string(row.Kind) == api.KindSecondary:
		// The secondary side logs its decision.
		answer(d.secondaries.notifySOA(zone, from, sig.keyName(), soa), "", "")
	case known || served:
		kind := api.KindPrimary // a zonefile the store has not registered yet
		if known {
			kind = string(row.Kind)
		}
		what = "NOTIFYs for zones that are not secondary here"
		answer(dns.RcodeSuccess, api.OutcomeWarning, fmt.Sprintf("%s is a %s zone here: nothing to fetch", zone, kind))
	case d.isAutoprimary(peer):
		// An autoprimary may provision the zone (autoprimary.go).
		what = "NOTIFYs from an autoprimary"
		answer(d.autoprimaryNotify(zone, from, sig.keyName()))
	default:
		what = "NOTIFYs for zones not served here"
		answer(dns.RcodeNotAuth, api.OutcomeWarning, "zone not served here: NOTAUTH (no autoprimary provisioning: condition (b) failed: "+peer.String()+" is not in the autoprimary table)")
	}
}

// notifiedSOA returns the SOA a NOTIFY may carry in its answer section
// (RFC 1996 §3.7), a hint of the new serial.
func notifiedSOA(req *dns.Msg, zone string) (*dns.SOA, bool) {
	for _, rr := range req.Answer {
		if soa, ok := rr.(*dns.SOA); ok && strings.EqualFold(dns.Fqdn(soa.Hdr.Name), zone) {
			return soa, true
		}
	}
	return nil, false
}

// isAutoprimary reports whether addr is registered as an autoprimary.
func (d *Daemon) isAutoprimary(addr netip.Addr) bool {
	aps, err := d.store.Autoprimaries().Lookup(context.Background(), addr.String())
	return err == nil && len(aps) > 0
}
