package answer

import (
	"github.com/miekg/dns"
)

// Protocol handling, matched against NSD 4.6.1 reply by reply:
//
//   - Messages shorter than a header and responses (QR set) get no reply.
//     An opcode other than QUERY and NOTIFY gets NOTIMP with a bare header
//     (UPDATE included). A malformed query gets FORMERR with a
//     bare header, over TCP too, where NSD resets the connection instead.
//     With QDCOUNT > 1 every flag is cleared, as NSD does.
//   - Classes: IN; ANY (answered as IN, AA clear, answer section or
//     referral only); CH gets REFUSED; any other class REFUSED without
//     the question, as NSD does. REFUSED carries an Extended DNS Error
//     (RFC 8914) when the query has EDNS: 20 for a zone not served, 21 for
//     a class, 18 for a transfer.
//   - AXFR over UDP gets NOTIMP, unless signed (a signed request gets a
//     signed answer, from the slow path).
//   - An expired secondary zone answers SERVFAIL (lookup.go).
//   - Messages that need more than a lookup go to the slow path
//     (ResponderConfig.Handoff; the daemon's special.go): NOTIFY, any message with a
//     TSIG RR, AXFR over TCP, IXFR, and an SOA query carrying the EDNS
//     EXPIRE option. A responder without Handoff answers them as
//     NSD does without transfers or keys: NOTIFY gets NOTIMP, a TSIG RR
//     NOTAUTH, AXFR over TCP and IXFR REFUSED, and EXPIRE is ignored.
//   - Truncation drops whole additional RRsets (NSD drops records), so no
//     partial RRset is ever sent without TC.
//   - With the fast path on (ServerConfig.FastPath), a plain query asked
//     before is answered with the bytes the full path made for it then,
//     patched for this query's ID, RD bit and name case (ready.go): the
//     same reply, only cheaper.

// Responder turns one query message into one reply message. Each serving
// goroutine owns one and reuses its buffers, so answering allocates
// nothing.
type Responder struct {
	zones   *Zones
	udpSize uint16    // ours, at least 512
	full    bool      // NS RRset in the authority section of positive answers
	handoff bool      // special messages go to the slow path instead of being answered here
	ready   int       // slots of the ready-answer cache (ready.go); -1: sized by the zones; 0: the fast path is off
	special bool      // set by respond: the message is for the slow path
	stats   *Counters // this responder's counts
	q       query
	res     result
	p       packer
}

// ResponderConfig says how a Responder answers.
type ResponderConfig struct {
	UDPSize uint16 // our EDNS payload size; at least 512 is used
	Full    bool   // the NS RRset in the authority section of positive answers
	// Handoff leaves the special messages (NOTIFY, TSIG, transfers,
	// EXPIRE) to the caller's slow path: Respond returns nil and Special
	// reports true. Without it they are answered as a server without
	// keys or transfers would (see above).
	Handoff bool
	// Ready is the number of ready-answer cache slots (ready.go): -1
	// sizes the cache by the zones, 0 turns the fast path off.
	Ready int
}

// NewResponder returns a responder answering from zones.
func NewResponder(zones *Zones, cfg ResponderConfig) *Responder {
	return &Responder{zones: zones, udpSize: max(cfg.UDPSize, MinUDPSize), full: cfg.Full, handoff: cfg.Handoff, ready: cfg.Ready, stats: new(Counters)}
}

// newResponder is NewResponder without handoff or fast path, as the tests
// of the full path use it.
func newResponder(zones *Zones, udpSize uint16, full bool) *Responder {
	return NewResponder(zones, ResponderConfig{UDPSize: udpSize, Full: full})
}

// Special reports whether the message of the last Respond that returned
// nil is for the slow path.
func (r *Responder) Special() bool { return r.special }

// Counters returns this responder's counts, which only its goroutine
// writes and anyone may read.
func (r *Responder) Counters() *Counters { return r.stats }

// Respond returns the reply to the message in, or nil when none is due.
// The reply is valid until the next call. tcp says which transport the
// query came over: it sets the size limit and allows zone transfers.
// When it returns nil with r.special set, the message is for the slow
// path. With the fast path on, a plain query is first looked up in the
// ready-answer cache of the current zone table, and a reply the full path
// makes for it is stored there.
func (r *Responder) Respond(in []byte, tcp bool) []byte {
	q := &r.q
	r.special = false
	switch q.parse(in) {
	case verdictDrop:
		return nil
	case verdictFormErr:
		r.countFull()
		return r.p.bare(q, dns.RcodeFormatError)
	case verdictNotImp:
		r.countFull()
		return r.p.bare(q, dns.RcodeNotImplemented)
	case verdictNotify:
		if r.handoff {
			r.special = true
			r.countSpecial()
			return nil
		}
		r.countFull()
		return r.p.bare(q, dns.RcodeNotImplemented)
	}
	limit := MaxMsgLen
	if !tcp {
		limit = udpLimit(q, r.udpSize)
	}
	// One table for the lookup and the cache: a reply is stored only in
	// the generation it was resolved from.
	t := r.zones.cur.Load()
	var (
		c   *readyCache
		h   uint64
		sig uint32
	)
	if r.ready != 0 && q.cacheable(in) {
		c, sig = t.readyCache(r.ready), r.readySig()
		h = c.hash(q, sig)
		if out := c.get(&r.p, q, h, sig, limit); out != nil {
			if r.stats != nil {
				r.stats.fast.Add(1)
			}
			return out
		}
	}
	out := r.answer(t, tcp, limit)
	if out == nil {
		r.countSpecial()
		return nil
	}
	r.countFull()
	if c != nil && (r.res.rcode == dns.RcodeSuccess || r.res.rcode == dns.RcodeNameError) {
		c.put(q, h, sig, out, limit, r.p.cut)
	}
	return out
}

// countFull counts a reply made without the cache.
func (r *Responder) countFull() {
	if r.stats != nil {
		r.stats.full.Add(1)
	}
}

// countSpecial counts a message handed to the slow path.
func (r *Responder) countSpecial() {
	if r.stats != nil {
		r.stats.special.Add(1)
	}
}

// answer is the full path for the well-formed query r.q of opcode QUERY:
// resolve it in t and pack the reply for at most limit octets. It returns
// nil with r.special set when the query is for the slow path.
func (r *Responder) answer(t *zoneTable, tcp bool, limit int) []byte {
	q := &r.q
	o := replyOpts{question: true, udpSize: r.udpSize, ede: EDEAbsent, limit: limit}
	res := &r.res
	res.reset()
	switch {
	case q.edns && q.version > 0 && !(r.handoff && q.tsig):
		// RFC 6891 §6.1.3: we speak version 0 only. A signed query gets
		// its BADVERS from the slow path, signed (RFC 8945 §5.3).
		res.rcode = dns.RcodeBadVers
	case r.handoff && q.special(tcp):
		r.special = true
		return nil
	case q.tsig:
		// Without the slow path no TSIG key is known: RFC 8945 §5.2.2
		// wants BADKEY; here the request is simply not authorised.
		res.rcode = dns.RcodeNotAuth
	case q.qclass == dns.ClassCHAOS:
		res.rcode, res.ede = dns.RcodeRefused, EDENotSupported
	case q.qclass != dns.ClassINET && q.qclass != dns.ClassANY:
		// NSD drops the question from this reply; so do we.
		res.rcode, res.ede = dns.RcodeRefused, EDENotSupported
		o.question = false
	case q.qtype == dns.TypeAXFR && !tcp:
		// A transfer needs TCP; NSD says NOTIMP over UDP.
		res.rcode = dns.RcodeNotImplemented
	case q.qtype == dns.TypeAXFR || q.qtype == dns.TypeIXFR:
		// Transfers are served by the slow path only.
		res.rcode, res.ede = dns.RcodeRefused, EDEProhibited
	default:
		res.do = q.do
		res.resolve(t, q.qname, q.lname, q.qtype, r.full)
		if q.qclass == dns.ClassANY {
			// An answer for class ANY is never authoritative (RFC 1034
			// §6.2.4 has the resolver ask again for a specific class). Like
			// NSD we send the answer section only, or a referral.
			res.aa = false
			if !res.referral {
				res.authority = res.authority[:0]
				res.additional = res.additional[:0]
			}
		}
	}
	o.rcode, o.aa = res.rcode, res.aa
	if q.edns {
		o.ede = res.ede
	}
	return r.p.reply(q, res, o)
}

// special reports whether the query q, well-formed and of opcode QUERY,
// is for the slow path: it is signed, or of class IN and asks for a
// transfer that tcp allows or an SOA with the EDNS EXPIRE option or the
// zone state option (zonestate.go). AXFR
// over UDP stays here and gets NOTIMP, unless signed: a signed request
// gets a signed answer.
func (q *query) special(tcp bool) bool {
	switch {
	case q.tsig:
		return true
	case q.qclass != dns.ClassINET:
		return false
	case q.qtype == dns.TypeAXFR:
		return tcp
	case q.qtype == dns.TypeIXFR:
		return true
	}
	return (q.expire || q.state) && q.qtype == dns.TypeSOA
}

// FormErr returns a bare FORMERR reply to the message of the last Respond
// (a special message that then failed to unpack). It is valid until the
// next call.
func (r *Responder) FormErr() []byte { return r.p.bare(&r.q, dns.RcodeFormatError) }

// ReadySlots returns the ready-answer cache size the responder asks for
// (ResponderConfig.Ready).
func (r *Responder) ReadySlots() int { return r.ready }

// Answers reports whether the responder answers from zones.
func (r *Responder) Answers(zones *Zones) bool { return r.zones == zones }

// UDPSize returns the EDNS payload size the responder offers.
func (r *Responder) UDPSize() uint16 { return r.udpSize }
