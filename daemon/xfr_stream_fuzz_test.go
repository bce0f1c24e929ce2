package daemon

// FuzzXFRStream: a hostile primary's bytes through the whole transfer-in
// path (receive's framing, per-message TSIG and limits, then the AXFR or
// IXFR interpreter and the validation of the transferred zone) over a
// real TCP connection on loopback.

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/store"
	"zonekeeper/zonefile"
)

// The first byte of a fuzz input says how the fake primary sends the
// rest.
const (
	streamSigned  = 1 << iota // the transfer is TSIG-signed; the primary signs each message it can parse
	streamRaw                 // the rest goes out as it is, framing included
	streamCorrupt             // one byte of each signed message is flipped after signing
	streamIXFR                // an IXFR from serial 1 is asked for, not an AXFR
)

// streamLimits are small, so that the fuzzer reaches them.
var streamLimits = xfrLimits{XFRTimeout: time.Second, XFRIdleTimeout: 200 * time.Millisecond, XFRMaxBytes: 32 << 10, XFRMaxRecords: 200}

var streamKey = store.Key{Name: "fuzz.", Algorithm: "hmac-sha256", Secret: "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ=="}

// fakePrimary accepts one connection on ln, reads the transfer request
// and sends what input says.
func fakePrimary(ln net.Listener, input []byte) {
	c, err := ln.Accept()
	if err != nil {
		return
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	var n [2]byte
	if _, err := io.ReadFull(c, n[:]); err != nil {
		return
	}
	req := make([]byte, binary.BigEndian.Uint16(n[:]))
	if _, err := io.ReadFull(c, req); err != nil {
		return
	}
	q := new(dns.Msg)
	if q.Unpack(req) != nil || len(input) == 0 {
		return
	}
	mode, rest := input[0], input[1:]
	if mode&streamRaw != 0 {
		c.Write(rest)
		return
	}
	mac, timersOnly := "", false
	if ts := q.IsTsig(); ts != nil {
		mac = ts.MAC
	}
	// The rest is messages, each behind a two-byte length, as on the
	// wire; each that parses gets the request's ID, and a signature.
	for len(rest) >= 2 {
		l := min(int(binary.BigEndian.Uint16(rest)), len(rest)-2)
		msg := rest[2 : 2+l]
		rest = rest[2+l:]
		m := new(dns.Msg)
		if m.Unpack(msg) == nil {
			m.Id = q.Id
			if mode&streamSigned != 0 {
				m.SetTsig(streamKey.Name, dns.HmacSHA256, tsigFudge, time.Now().Unix())
				// RFC 8945 §5.3.1: the messages after the first are
				// signed over the prior MAC and the timers.
				b, next, err := dns.TsigGenerateWithProvider(m, keyProvider(streamKey), mac, timersOnly)
				if err != nil {
					return
				}
				mac, msg, timersOnly = next, b, true
				if mode&streamCorrupt != 0 && len(b) > 12 {
					msg = append([]byte(nil), b...)
					msg[len(msg)/2] ^= 0x55
				}
			} else if b, err := m.Pack(); err == nil {
				msg = b
			}
		}
		var frame [2]byte
		binary.BigEndian.PutUint16(frame[:], uint16(len(msg)))
		if _, err := c.Write(append(frame[:], msg...)); err != nil {
			return
		}
	}
}

// streamSeed is a valid input: mode, then zone x.test.'s messages.
func streamSeed(t testing.TB, mode byte, answers ...[]dns.RR) []byte {
	out := []byte{mode}
	for _, a := range answers {
		m := new(dns.Msg)
		m.SetQuestion("x.test.", dns.TypeAXFR)
		m.Response, m.Authoritative, m.Answer = true, true, a
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		out = binary.BigEndian.AppendUint16(out, uint16(len(b)))
		out = append(out, b...)
	}
	return out
}

// runStream runs one transfer from a fake primary sending input through
// the path a refresh takes (an AXFR packed as it arrives, an IXFR
// applied to its base); it returns the records of the version it made
// and the transfer's error.
func runStream(t testing.TB, input []byte) (records, messages int, nbytes int64, err error) {
	ln, lerr := net.Listen("tcp", "127.0.0.1:0")
	if lerr != nil {
		t.Fatal(lerr)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() { defer close(done); fakePrimary(ln, input) }()
	defer func() { ln.Close(); <-done }()

	s := &secondaries{xfr: streamLimits, listening: func() []net.Addr { return nil }}
	var key *xfrKey
	var from *dns.SOA
	if len(input) > 0 && input[0]&streamSigned != 0 {
		key = &xfrKey{name: streamKey.Name, algorithm: dns.HmacSHA256, key: streamKey}
	}
	base := fuzzBase(t)
	if len(input) > 0 && input[0]&streamIXFR != 0 {
		from = base.SOA()
	}
	addr := netip.MustParseAddrPort(ln.Addr().String())
	var v *secVersion
	if from == nil {
		v, _, _, messages, nbytes, err = s.axfrPacked(context.Background(), "x.test.", addr, key, nil, nil)
	} else {
		var raw, recs []dns.RR
		raw, messages, nbytes, err = s.receive(context.Background(), "x.test.", addr, key, from, nil)
		if err == nil {
			recs, _, _, err = ixfrRecords("x.test.", base, raw)
		}
		if err == nil {
			v, _, err = s.prepare("x.test.", recs)
		}
	}
	if err != nil {
		return 0, messages, nbytes, err
	}
	if int64(v.records()) > streamLimits.XFRMaxRecords {
		t.Fatalf("%d records served, past the limit of %d", v.records(), streamLimits.XFRMaxRecords)
	}
	return v.records(), messages, nbytes, nil
}

// fuzzBase is the version an IXFR applies to.
func fuzzBase(t testing.TB) *zonefile.Zone {
	z, _, err := zonefile.Parse(strings.NewReader("$ORIGIN x.test.\n$TTL 300\n"+soaLine("1")+"\n@ NS ns\nns A 127.0.0.1\n"), "x.test.", "base")
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func TestXFRStreamSeeds(t *testing.T) {
	zone := func(serial string, extra ...string) []dns.RR {
		return rrs(t, append(append([]string{soaLine(serial), "@ NS ns", "ns A 127.0.0.1"}, extra...), soaLine(serial))...)
	}
	whole := zone("2", "www A 127.0.0.2")
	split := [][]dns.RR{whole[:2], whole[2:]}
	cases := []struct {
		name  string
		input []byte
		want  string // "" for a transfer that must succeed, "*" any error
	}{
		{"unsigned AXFR", streamSeed(t, 0, whole), ""},
		{"signed AXFR in two messages", streamSeed(t, streamSigned, split...), ""},
		{"signed, a message corrupted", streamSeed(t, streamSigned|streamCorrupt, split...), "*"},
		{"unsigned answer to a signed request", streamSeed(t, streamSigned|streamRaw, whole), "TSIG"},
		{"too many records", streamSeed(t, 0, zone("2", manyA(250)...)), "xfr-max-records"},
		{"too many bytes", streamSeed(t, 0, zone("2", manyTXT(150)...)), "xfr-max-bytes"},
		{"IXFR", streamSeed(t, streamIXFR, rrs(t, soaLine("2"), soaLine("1"), soaLine("2"), "www A 127.0.0.2", soaLine("2"))), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, _, err := runStream(t, c.input)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("want a transfer, got %v", err)
			case c.want == "*" && err == nil:
				t.Fatal("want an error, got a transfer")
			case c.want != "" && c.want != "*" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("want an error saying %q, got %v", c.want, err)
			}
		})
	}
}

func manyA(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "h" + strconv.Itoa(i) + " A 127.0.0.3"
	}
	return out
}

func manyTXT(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "t" + strconv.Itoa(i) + ` TXT "` + strings.Repeat("x", 250) + `"`
	}
	return out
}

func FuzzXFRStream(f *testing.F) {
	zone := rrs(&testing.T{}, soaLine("2"), "@ NS ns", "ns A 127.0.0.1", "www A 127.0.0.2", soaLine("2"))
	f.Add(streamSeed(f, 0, zone))
	f.Add(streamSeed(f, streamSigned, zone[:2], zone[2:]))
	f.Add(streamSeed(f, streamSigned|streamCorrupt, zone[:2], zone[2:]))
	f.Add(streamSeed(f, streamIXFR, zone))
	f.Add(append([]byte{streamRaw}, streamSeed(f, 0, zone)[1:]...))
	f.Add([]byte{streamRaw, 0xff, 0xff, 0, 0})
	f.Fuzz(func(t *testing.T, input []byte) {
		began := time.Now()
		_, _, nbytes, err := runStream(t, input)
		if took := time.Since(began); took > streamLimits.XFRTimeout+2*time.Second {
			t.Fatalf("the transfer took %v, past xfr-timeout %v", took, streamLimits.XFRTimeout)
		}
		if nbytes > streamLimits.XFRMaxBytes+dns.MaxMsgSize+2 {
			t.Fatalf("%d bytes read, past xfr-max-bytes %d by more than a message", nbytes, streamLimits.XFRMaxBytes)
		}
		if len(input) > 0 && input[0]&(streamSigned|streamCorrupt|streamRaw) == streamSigned|streamCorrupt && err == nil {
			t.Fatal("a transfer with corrupted signatures was accepted")
		}
	})
}
