package daemon

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/answer"
	"zonekeeper/store"
	"zonekeeper/zonefile"
)

// Helpers shared by the tests of the slow path: TSIG, access, transfers
// out, NOTIFY in, EDNS EXPIRE.

// startSpecialDaemon is startDaemon with a config edit and a hook that
// runs after New and before Run (to set server fields no setting
// reaches, such as the TCP write timeout).
func startSpecialDaemon(t testing.TB, files map[string]string, edit func(*Config), before func(*Daemon)) *testDaemon {
	t.Helper()
	return startDaemonWith(t, files, edit, before)
}

// spExampleZoneText is a small zone whose NS has a loopback address.
const spExampleZoneText = `$TTL 300
@ IN SOA ns1 hostmaster 7 3600 900 604800 60
@ IN NS ns1
ns1 IN A 127.0.0.1
www IN A 127.0.0.2
mail IN MX 10 www
txt IN TXT "hello"
`

// spAddTestKey stores a TSIG key with a random secret and returns it.
func spAddTestKey(t testing.TB, td *testDaemon, name, alg string) store.Key {
	t.Helper()
	b := make([]byte, 32)
	rand.Read(b)
	k := store.Key{Name: canonicalKeyName(name), Algorithm: alg, Secret: base64.StdEncoding.EncodeToString(b)}
	if err := td.store.Keys().Add(context.Background(), k); err != nil {
		t.Fatal(err)
	}
	td.keys.reload()
	return k
}

// spSetTestMeta sets zone metadata, registering the zone first if needed.
func spSetTestMeta(t testing.TB, td *testDaemon, zone, kind string, values ...string) {
	t.Helper()
	ctx := context.Background()
	if _, err := td.store.Zones().Get(ctx, zone); errors.Is(err, store.ErrNotFound) {
		if err := td.store.Zones().Put(ctx, store.Zone{Name: zone, Kind: store.KindPrimary}); err != nil {
			t.Fatal(err)
		}
	}
	if err := td.store.Meta().Set(ctx, zone, kind, values); err != nil {
		t.Fatal(err)
	}
}

// spDialFrom opens a TCP connection to addr from the local address ip, so
// that ACLs see a distinct host.
func spDialFrom(t testing.TB, ip, addr string) *net.TCPConn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

// spSignRequest packs m signed with key (nil: unsigned) and returns the
// wire form and the request MAC.
func spSignRequest(t testing.TB, m *dns.Msg, key *store.Key, timeSigned int64) ([]byte, string) {
	t.Helper()
	if key == nil {
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		return b, ""
	}
	m.SetTsig(key.Name, tsigWireAlgorithm(key.Algorithm), 300, timeSigned)
	b, mac, err := dns.TsigGenerateWithProvider(m, keyProvider(*key), "", false)
	if err != nil {
		t.Fatal(err)
	}
	return b, mac
}

// spWriteFrame sends one DNS message over TCP.
func spWriteFrame(t testing.TB, c net.Conn, b []byte) {
	t.Helper()
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(append([]byte{byte(len(b) >> 8), byte(len(b))}, b...)); err != nil {
		t.Fatal(err)
	}
}

// spReadFrame reads one DNS message from TCP.
func spReadFrame(c net.Conn, timeout time.Duration) ([]byte, error) {
	c.SetReadDeadline(time.Now().Add(timeout))
	var l [2]byte
	if _, err := io.ReadFull(c, l[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint16(l[:]))
	_, err := io.ReadFull(c, b)
	return b, err
}

// spXfrResult is what a transfer brought back.
type spXfrResult struct {
	msgs    []*dns.Msg
	records []dns.RR // every answer record of every message
	signed  int      // messages whose TSIG verified
	bytes   int      // wire size of the messages
}

// spReadTransfer reads the messages of an AXFR-format reply to a request
// with mac on c until the closing SOA, verifying the TSIG chain of every
// message when key is not nil (RFC 8945 §5.3.1).
func spReadTransfer(t testing.TB, c net.Conn, key *store.Key, mac string) spXfrResult {
	t.Helper()
	var res spXfrResult
	timersOnly := false
	for i := 0; ; i++ {
		b, err := spReadFrame(c, 20*time.Second)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		m := new(dns.Msg)
		if err := m.Unpack(b); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		res.msgs = append(res.msgs, m)
		res.bytes += len(b)
		if key != nil {
			ts := m.IsTsig()
			if ts == nil {
				t.Fatalf("message %d is not signed", i)
			}
			if err := dns.TsigVerifyWithProvider(b, keyProvider(*key), mac, timersOnly); err != nil {
				t.Fatalf("message %d: TSIG: %v", i, err)
			}
			mac, timersOnly = ts.MAC, true
			res.signed++
		}
		if m.Rcode != dns.RcodeSuccess {
			return res
		}
		res.records = append(res.records, m.Answer...)
		if len(res.records) == 0 || res.records[0].Header().Rrtype != dns.TypeSOA {
			t.Fatalf("transfer does not start with an SOA: %v", m)
		}
		// The end: the first SOA again closing a message, or an IXFR
		// answered with that SOA alone.
		first := res.records[0].(*dns.SOA)
		last, ok := res.records[len(res.records)-1].(*dns.SOA)
		if len(res.records) == 1 && m.Question[0].Qtype == dns.TypeIXFR || len(res.records) > 1 && ok && last.Serial == first.Serial {
			return res
		}
	}
}

// spXfrRequest builds an AXFR or IXFR request for zone.
func spXfrRequest(zone string, qtype uint16, serial uint32) *dns.Msg {
	m := new(dns.Msg)
	if qtype == dns.TypeIXFR {
		m.SetIxfr(zone, serial, "ns.", "host.")
	} else {
		m.SetAxfr(zone)
	}
	return m
}

// spTransfer runs one transfer from the local address ip.
func spTransfer(t testing.TB, td *testDaemon, ip string, req *dns.Msg, key *store.Key) spXfrResult {
	t.Helper()
	c := spDialFrom(t, ip, td.addr)
	b, mac := spSignRequest(t, req, key, 0)
	spWriteFrame(t, c, b)
	return spReadTransfer(t, c, key, mac)
}

// spExchangeUDP sends a packed message over UDP from 127.0.0.1 and
// returns the raw reply.
func spExchangeUDP(t testing.TB, addr string, b []byte) []byte {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n]
}

// spUnpack unpacks a reply or fails the test.
func spUnpack(t testing.TB, b []byte) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		t.Fatal(err)
	}
	return m
}

// spFindEvent waits for an event of kind whose detail contains text.
func spFindEvent(t testing.TB, td *testDaemon, kind, text string) store.Event {
	t.Helper()
	var found store.Event
	waitFor(t, "event "+kind+" "+text, func() bool {
		evs, err := td.store.Events().List(context.Background(), store.EventFilter{Kind: kind})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if strings.Contains(e.Detail, text) {
				found = e
				return true
			}
		}
		return false
	})
	return found
}

// spCompileTestZone compiles zonefile text for origin.
func spCompileTestZone(t testing.TB, origin, text string) *answer.Snapshot {
	t.Helper()
	z, _, err := zonefile.Parse(strings.NewReader(text), origin, "")
	if err != nil {
		t.Fatal(err)
	}
	return mustCompile(t, z)
}

// spSplitHostPort splits a listen address for command-line tools.
func spSplitHostPort(t testing.TB, addr string) (string, string) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return host, port
}

// spRunTool runs dig or kdig with a deadline and returns its output.
func spRunTool(t testing.TB, tool string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if tool == "kdig" {
		args = append([]string{"+timeout=5", "+retry=0"}, args...)
	} else {
		args = append([]string{"+time=5", "+tries=1"}, args...)
	}
	out, _ := exec.CommandContext(ctx, tool, args...).CombinedOutput()
	return string(out)
}

// spBase64Of encodes s, for secrets in tests.
func spBase64Of(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// spNotify builds a NOTIFY for zone.
func spNotify(zone string) *dns.Msg {
	m := new(dns.Msg)
	m.SetNotify(zone)
	return m
}

// TestNotifyIn: NOTIFY for a zone not served is NOTAUTH, for a primary
// zone acknowledged; a malformed one FORMERR; a signed one with an
// unknown key BADKEY. Each reply keeps the ID, the opcode and the
// question; each NOTIFY is logged.
func TestNotifyIn(t *testing.T) {
	td := spStartExample(t)
	k := spAddTestKey(t, td, "notify.example.", "hmac-sha256")
	unknown := k
	unknown.Name = "nobody.example."
	cases := []struct {
		name   string
		msg    *dns.Msg
		key    *store.Key
		rcode  int
		aa     bool
		tsig   uint16
		tcp    bool
		logged string
	}{
		{"unknown zone", spNotify("example.com."), nil, dns.RcodeNotAuth, false, 0, false, "zone not served here"},
		{"unknown zone over TCP", spNotify("example.net."), nil, dns.RcodeNotAuth, false, 0, true, "zone not served here"},
		{"primary zone", spNotify("example.org."), nil, dns.RcodeSuccess, true, 0, false, "is a primary zone here"},
		{"signed, primary zone", spNotify("example.org."), &k, dns.RcodeSuccess, true, 0, false, "key notify.example."},
		{"signed with an unknown key", spNotify("example.org."), &unknown, dns.RcodeNotAuth, false, dns.RcodeBadKey, false, ""},
		{"not an SOA", func() *dns.Msg { m := spNotify("example.org."); m.Question[0].Qtype = dns.TypeA; return m }(), nil, dns.RcodeFormatError, false, 0, false, "not one SOA"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, mac := spSignRequest(t, c.msg, c.key, 0)
			var reply []byte
			if c.tcp {
				conn := spDialFrom(t, "127.0.0.2", td.addr)
				spWriteFrame(t, conn, b)
				var err error
				if reply, err = spReadFrame(conn, 5*time.Second); err != nil {
					t.Fatal(err)
				}
			} else {
				reply = spExchangeUDP(t, td.addr, b)
			}
			m := spUnpack(t, reply)
			if m.Id != c.msg.Id || m.Opcode != dns.OpcodeNotify || !m.Response || m.Rcode != c.rcode || m.Authoritative != c.aa ||
				len(m.Question) != 1 || m.Question[0] != c.msg.Question[0] {
				t.Fatalf("reply %v", m)
			}
			ts := m.IsTsig()
			switch {
			case c.tsig != 0:
				if ts == nil || ts.Error != c.tsig {
					t.Fatalf("TSIG %v; want error %s", ts, dns.RcodeToString[int(c.tsig)])
				}
			case c.key != nil:
				if err := dns.TsigVerifyWithProvider(reply, keyProvider(*c.key), mac, false); err != nil {
					t.Fatalf("reply does not verify: %v", err)
				}
			case ts != nil:
				t.Fatalf("unsigned NOTIFY answered signed")
			}
			if c.logged != "" {
				spFindEvent(t, td, "notify-in", c.logged)
			}
		})
	}
}

// spStartExample starts a daemon serving example.org.
func spStartExample(t testing.TB) *testDaemon {
	return startSpecialDaemon(t, map[string]string{"example.org.zone": spExampleZoneText}, nil, nil)
}

// TestExpiredSnapshot: a zone marked expired answers SERVFAIL without AA
// to every query, and answers again once unmarked.
func TestExpiredSnapshot(t *testing.T) {
	td := spStartExample(t)
	snap := td.zones.Get("example.org.")
	td.zones.Set(snap.WithExpired(true))
	if !td.zones.Get("example.org.").Expired() || snap.Expired() {
		t.Fatal("WithExpired changed the original or did not mark the copy")
	}
	for _, q := range []struct {
		name  string
		qtype uint16
	}{{"example.org.", dns.TypeSOA}, {"www.example.org.", dns.TypeA}, {"nothere.example.org.", dns.TypeA}} {
		m := td.query(t, q.name, q.qtype)
		if m.Rcode != dns.RcodeServerFailure || m.Authoritative || len(m.Answer) != 0 || len(m.Ns) != 0 {
			t.Errorf("%s %s in an expired zone: %v", q.name, dns.TypeToString[q.qtype], m)
		}
	}
	td.zones.Set(snap)
	if m := td.query(t, "www.example.org.", dns.TypeA); m.Rcode != dns.RcodeSuccess || !m.Authoritative {
		t.Errorf("after the zone is back: %v", m)
	}
}

// TestExpireOption: an SOA query with the EDNS EXPIRE option gets it
// back with the SOA EXPIRE of a primary zone; without the option, or
// for another type, no option comes back.
func TestExpireOption(t *testing.T) {
	td := spStartExample(t)
	k := spAddTestKey(t, td, "exp.example.", "hmac-sha512")
	for _, c := range []struct {
		name   string
		qname  string
		qtype  uint16
		option bool
		key    *store.Key
		want   bool
	}{
		{"SOA with EXPIRE", "example.org.", dns.TypeSOA, true, nil, true},
		{"signed SOA with EXPIRE", "example.org.", dns.TypeSOA, true, &k, true},
		{"SOA without EXPIRE", "example.org.", dns.TypeSOA, false, nil, false},
		{"A with EXPIRE", "www.example.org.", dns.TypeA, true, nil, false},
		{"SOA below the apex with EXPIRE", "www.example.org.", dns.TypeSOA, true, nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := new(dns.Msg)
			req.SetQuestion(c.qname, c.qtype)
			req.SetEdns0(1232, true)
			if c.option {
				o := req.IsEdns0()
				o.Option = append(o.Option, &dns.EDNS0_EXPIRE{Code: dns.EDNS0EXPIRE, Empty: true})
			}
			b, _ := spSignRequest(t, req, c.key, 0)
			m := spUnpack(t, spExchangeUDP(t, td.addr, b))
			secs, ok := spExpireOf(m)
			if m.Rcode != dns.RcodeSuccess || !m.Authoritative || ok != c.want || (ok && secs != 604800) || !m.IsEdns0().Do() {
				t.Fatalf("reply %v; EXPIRE %d %v, want %v", m, secs, ok, c.want)
			}
			if c.key != nil && m.IsTsig() == nil {
				t.Fatal("signed query answered unsigned")
			}
		})
	}
}

// TestSpecialWithoutHandler: a Server with no Special handler answers
// what it would hand off as before: NOTIFY NOTIMP, TSIG NOTAUTH, IXFR
// REFUSED, and ignores EXPIRE.
func TestSpecialWithoutHandler(t *testing.T) {
	zs := testZones(t)
	r := answer.NewResponder(zs, answer.ResponderConfig{UDPSize: 1232})
	for _, c := range []struct {
		name  string
		msg   *dns.Msg
		rcode int
	}{
		{"NOTIFY", spNotify("example.org."), dns.RcodeNotImplemented},
		{"IXFR", spXfrRequest("example.org.", dns.TypeIXFR, 1), dns.RcodeRefused},
		{"SOA with EXPIRE", func() *dns.Msg {
			m := new(dns.Msg)
			m.SetQuestion("example.org.", dns.TypeSOA)
			m.SetEdns0(1232, false)
			m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_EXPIRE{Code: dns.EDNS0EXPIRE, Empty: true})
			return m
		}(), dns.RcodeSuccess},
	} {
		b, _ := c.msg.Pack()
		out := r.Respond(b, true)
		if out == nil || r.Special() {
			t.Fatalf("%s: handed off without a handler", c.name)
		}
		if m := spUnpack(t, out); m.Rcode != c.rcode {
			t.Errorf("%s: %v", c.name, m)
		}
	}
	// With a handler the same messages are handed off.
	r = answer.NewResponder(zs, answer.ResponderConfig{UDPSize: 1232, Handoff: true})
	for _, m := range []*dns.Msg{spNotify("example.org."), spXfrRequest("example.org.", dns.TypeIXFR, 1)} {
		b, _ := m.Pack()
		if out := r.Respond(b, false); out != nil || !r.Special() {
			t.Errorf("%v not handed off", m.Question[0])
		}
	}
}
