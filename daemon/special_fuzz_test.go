package daemon

import (
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"zonekeeper/daemon/answer"
	"zonekeeper/store"
)

// spCollect is a SpecialWriter that keeps every message.
type spCollect struct{ msgs [][]byte }

func (w *spCollect) Write(b []byte) error {
	w.msgs = append(w.msgs, append([]byte(nil), b...))
	return nil
}

// FuzzServeSpecial feeds arbitrary messages through the fast path's
// hand-off into the slow path: nothing panics, and every reply parses,
// carries the query's ID and fits its transport.
func FuzzServeSpecial(f *testing.F) {
	td := spStartExample(f)
	k := spAddTestKey(f, td, "fuzz.example.", "hmac-sha256")
	spSetTestMeta(f, td, "example.org.", store.MetaTSIGAllowAXFR, k.Name)
	seeds := []*dns.Msg{spNotify("example.org."), spXfrRequest("example.org.", dns.TypeAXFR, 0), spXfrRequest("example.org.", dns.TypeIXFR, 3)}
	signed := spXfrRequest("example.org.", dns.TypeAXFR, 0)
	expire := new(dns.Msg)
	expire.SetQuestion("example.org.", dns.TypeSOA)
	expire.SetEdns0(1232, false)
	expire.IsEdns0().Option = append(expire.IsEdns0().Option, &dns.EDNS0_EXPIRE{Code: dns.EDNS0EXPIRE, Empty: true})
	for _, m := range append(seeds, expire) {
		b, _ := m.Pack()
		f.Add(b, true)
		f.Add(b, false)
	}
	b, _ := spSignRequest(f, signed, &k, 0)
	f.Add(b, true)
	from := netip.MustParseAddrPort("127.0.0.3:5353")
	f.Fuzz(func(t *testing.T, in []byte, tcp bool) {
		r := answer.NewResponder(td.zones, answer.ResponderConfig{UDPSize: 1232, Handoff: true})
		if out := r.Respond(in, tcp); out != nil || !r.Special() {
			return
		}
		req := new(dns.Msg)
		if req.Unpack(in) != nil {
			return
		}
		var w spCollect
		td.ServeSpecial(&w, req, in, from, tcp)
		for _, b := range w.msgs {
			m := new(dns.Msg)
			if err := m.Unpack(b); err != nil {
				t.Fatalf("reply to %x does not parse: %v", in, err)
			}
			if m.Id != req.Id {
				t.Fatalf("reply ID %d for query %d", m.Id, req.Id)
			}
			if !tcp && len(b) > td.udpLimitOf(req) {
				t.Fatalf("UDP reply of %d bytes for a limit of %d", len(b), td.udpLimitOf(req))
			}
		}
	})
}
