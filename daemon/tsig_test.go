package daemon

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/answer"
	"zonekeeper/store"
)

var spTestAlgorithms = []string{"hmac-md5", "hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512"}

// TestSignedAXFREachAlgorithm transfers a zone signed with a key of each
// algorithm, from an address no ACL allows: the key alone grants access,
// and every message of the reply is signed.
func TestSignedAXFREachAlgorithm(t *testing.T) {
	td := startSpecialDaemon(t, map[string]string{"example.org.zone": spExampleZoneText}, nil, nil)
	var keys []store.Key
	var names []string
	for _, alg := range spTestAlgorithms {
		k := spAddTestKey(t, td, "xfr-"+alg+".example.", alg)
		keys = append(keys, k)
		names = append(names, k.Name)
	}
	spSetTestMeta(t, td, "example.org.", store.MetaTSIGAllowAXFR, names...)
	for _, k := range keys {
		t.Run(k.Algorithm, func(t *testing.T) {
			res := spTransfer(t, td, "127.0.0.3", spXfrRequest("example.org.", dns.TypeAXFR, 0), &k)
			if len(res.records) != 7 || res.signed != len(res.msgs) {
				t.Fatalf("%d records in %d messages, %d signed; want 7 records, all signed", len(res.records), len(res.msgs), res.signed)
			}
		})
	}
	t.Run("key name in another case", func(t *testing.T) {
		k := keys[3]
		k.Name = strings.ToUpper(k.Name)
		res := spTransfer(t, td, "127.0.0.3", spXfrRequest("example.org.", dns.TypeAXFR, 0), &k)
		if len(res.records) != 7 {
			t.Fatalf("%d records; want 7", len(res.records))
		}
	})
}

// TestDigSignedAXFR is the interoperability check with BIND's dig and
// Knot's kdig: `dig -y ALG:NAME:SECRET ... AXFR` for every algorithm.
func TestDigSignedAXFR(t *testing.T) {
	td := startSpecialDaemon(t, map[string]string{"example.org.zone": spExampleZoneText}, nil, nil)
	host, port := spSplitHostPort(t, td.addr)
	var keys []store.Key
	var names []string
	for _, alg := range spTestAlgorithms {
		k := spAddTestKey(t, td, "dig-"+alg+".example.", alg)
		keys = append(keys, k)
		names = append(names, k.Name)
	}
	spSetTestMeta(t, td, "example.org.", store.MetaTSIGAllowAXFR, names...)
	for _, tool := range []string{"dig", "kdig"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Logf("%s not installed: skipped", tool)
			continue
		}
		for _, k := range keys {
			t.Run(tool+"/"+k.Algorithm, func(t *testing.T) {
				out := spRunTool(t, tool, "-b", "127.0.0.3", "-p", port, "-y", k.Algorithm+":"+k.Name+":"+k.Secret, "@"+host, "example.org.", "AXFR")
				if strings.Contains(out, "failed") || strings.Contains(out, "error") || strings.Count(out, "\tSOA\t") != 2 || !strings.Contains(out, "www.example.org.") {
					t.Fatalf("%s output:\n%s", tool, out)
				}
			})
		}
		t.Run(tool+"/wrong secret", func(t *testing.T) {
			out := spRunTool(t, tool, "-b", "127.0.0.3", "-p", port, "-y", "hmac-sha256:"+keys[3].Name+":"+spBase64Of("not the secret at all"), "@"+host, "example.org.", "AXFR")
			if !strings.Contains(strings.ToUpper(out), "BADSIG") && !strings.Contains(out, "NOTAUTH") {
				t.Fatalf("%s output with a wrong secret:\n%s", tool, out)
			}
		})
		t.Run(tool+"/unsigned", func(t *testing.T) {
			out := spRunTool(t, tool, "-b", "127.0.0.3", "-p", port, "@"+host, "example.org.", "AXFR")
			if !strings.Contains(out, "REFUSED") && !strings.Contains(out, "Transfer failed") {
				t.Fatalf("%s output unsigned:\n%s", tool, out)
			}
		})
	}
}

// TestTSIGErrors checks the three verification failures: each is NOTAUTH
// with the error in the TSIG RR of the reply, and an event that does not
// give the secret away.
func TestTSIGErrors(t *testing.T) {
	td := startSpecialDaemon(t, map[string]string{"example.org.zone": spExampleZoneText}, nil, nil)
	good := spAddTestKey(t, td, "good.example.", "hmac-sha256")
	spSetTestMeta(t, td, "example.org.", store.MetaTSIGAllowAXFR, good.Name)
	wrongSecret := good
	wrongSecret.Secret = spBase64Of("this is not the secret of good.example")
	unknown := good
	unknown.Name = "unknown.example."
	wrongAlg := good
	wrongAlg.Algorithm = "hmac-sha512"
	cases := []struct {
		name      string
		key       store.Key
		at        int64
		want      uint16
		signedErr bool // the error reply is signed (BADTIME)
	}{
		{"wrong secret", wrongSecret, 0, dns.RcodeBadSig, false},
		{"unknown key", unknown, 0, dns.RcodeBadKey, false},
		{"wrong algorithm", wrongAlg, 0, dns.RcodeBadKey, false},
		{"stale time", good, time.Now().Unix() - 1000, dns.RcodeBadTime, true},
		{"future time", good, time.Now().Unix() + 1000, dns.RcodeBadTime, true},
	}
	for _, c := range cases {
		for _, qtype := range []uint16{dns.TypeSOA, dns.TypeAXFR} {
			t.Run(c.name+"/"+dns.TypeToString[qtype], func(t *testing.T) {
				req := new(dns.Msg)
				req.SetQuestion("example.org.", qtype)
				b, mac := spSignRequest(t, req, &c.key, c.at)
				var reply []byte
				if qtype == dns.TypeAXFR {
					conn := spDialFrom(t, "127.0.0.3", td.addr)
					spWriteFrame(t, conn, b)
					var err error
					if reply, err = spReadFrame(conn, 5*time.Second); err != nil {
						t.Fatal(err)
					}
				} else {
					reply = spExchangeUDP(t, td.addr, b)
				}
				m := spUnpack(t, reply)
				ts := m.IsTsig()
				if m.Rcode != dns.RcodeNotAuth || ts == nil || ts.Error != c.want || len(m.Answer) != 0 {
					t.Fatalf("reply %v; want NOTAUTH with TSIG error %s", m, dns.RcodeToString[int(c.want)])
				}
				if !c.signedErr {
					if ts.MACSize != 0 {
						t.Errorf("%s reply carries a MAC", dns.RcodeToString[int(c.want)])
					}
					return
				}
				if ts.OtherLen != 6 || ts.TimeSigned != uint64(c.at) {
					t.Errorf("BADTIME: time signed %d, other data %q; want the request's time and ours", ts.TimeSigned, ts.OtherData)
				}
				// The reply is signed with the request's time, which the
				// client's clock judges; its MAC must verify.
				if err := spVerifyErrorMAC(reply, good, mac); err != nil {
					t.Errorf("BADTIME reply does not verify: %v", err)
				}
			})
		}
		ev := spFindEvent(t, td, "tsig-error", dns.RcodeToString[int(c.want)])
		if strings.Contains(ev.Detail, good.Secret) || strings.Contains(td.logs.String(), good.Secret) {
			t.Errorf("a secret leaked into the event or the log: %q", ev.Detail)
		}
		if ev.Peer != "127.0.0.1" && ev.Peer != "127.0.0.3" {
			t.Errorf("event peer %q", ev.Peer)
		}
	}
}

// TestSignedQuery asks plain questions signed: the reply is the fast
// path's, signed; one too big for UDP is truncated and still signed.
func TestSignedQuery(t *testing.T) {
	big := ""
	for i := range 10 {
		big += fmt.Sprintf("big IN TXT \"%s %d\"\n", strings.Repeat("x", 60), i)
	}
	td := startSpecialDaemon(t, map[string]string{"example.org.zone": spExampleZoneText + big}, nil, nil)
	k := spAddTestKey(t, td, "query.example.", "hmac-sha1")
	for _, c := range []struct {
		name     string
		qtype    uint16
		edns     bool
		wantTC   bool
		wantRRs  int
		wantCode int
		version  uint8 // EDNS version of the query
	}{
		{"www", dns.TypeA, true, false, 1, dns.RcodeSuccess, 0},
		{"big", dns.TypeTXT, false, true, 0, dns.RcodeSuccess, 0},
		{"big", dns.TypeTXT, true, false, 10, dns.RcodeSuccess, 0},
		{"nothere", dns.TypeA, false, false, 0, dns.RcodeNameError, 0},
		// RFC 6891 §6.1.3: BADVERS, signed as the request was (RFC 8945 §5.3).
		{"www", dns.TypeA, true, false, 0, dns.RcodeBadVers, 1},
	} {
		req := new(dns.Msg)
		req.SetQuestion(c.name+".example.org.", c.qtype)
		if c.edns {
			req.SetEdns0(4096, false)
			req.IsEdns0().SetVersion(c.version)
		}
		b, mac := spSignRequest(t, req, &k, 0)
		reply := spExchangeUDP(t, td.addr, b)
		m := spUnpack(t, reply)
		if m.Rcode != c.wantCode || m.Truncated != c.wantTC || len(m.Answer) != c.wantRRs || m.Authoritative != (c.wantCode != dns.RcodeBadVers) {
			t.Errorf("%s %s edns=%v: %v", c.name, dns.TypeToString[c.qtype], c.edns, m)
		}
		if err := dns.TsigVerifyWithProvider(reply, keyProvider(k), mac, false); err != nil {
			t.Errorf("%s: reply does not verify: %v", c.name, err)
		}
		if c.wantTC && len(reply) > 512 {
			t.Errorf("truncated reply of %d bytes", len(reply))
		}
	}
}

// TestKeyringReload shows that keys added and removed through the store
// take effect on reload, with names in any case.
func TestKeyringReload(t *testing.T) {
	td := startSpecialDaemon(t, nil, nil, nil)
	if _, ok := td.keys.lookup("late.example."); ok {
		t.Fatal("key known before it exists")
	}
	k := spAddTestKey(t, td, "Late.Example", "hmac-sha384")
	got, ok := td.keys.lookup("LATE.example")
	if !ok || got.Secret != k.Secret || td.keys.secrets()["late.example."] != k.Secret {
		t.Fatalf("lookup after reload: %v %v", got, ok)
	}
	if err := td.store.Keys().Delete(t.Context(), "late.example."); err != nil {
		t.Fatal(err)
	}
	td.keys.reload()
	if _, ok := td.keys.lookup("late.example."); ok {
		t.Fatal("key still known after removal")
	}
}

// spVerifyErrorMAC checks the MAC of a signed error reply (BADTIME), which
// miekg/dns refuses to verify because its RCODE is NOTAUTH: the digest of
// RFC 8945 §4.3.3 (request MAC, message without its TSIG RR and with its
// original ID, TSIG variables) is computed here independently.
func spVerifyErrorMAC(reply []byte, key store.Key, requestMAC string) error {
	m := new(dns.Msg)
	if err := m.Unpack(reply); err != nil {
		return err
	}
	ts := m.IsTsig()
	if ts == nil {
		return errors.New("no TSIG RR")
	}
	msg := append([]byte(nil), reply[:len(reply)-dns.Len(ts)]...)
	binary.BigEndian.PutUint16(msg[0:], ts.OrigId)
	binary.BigEndian.PutUint16(msg[10:], binary.BigEndian.Uint16(msg[10:])-1)
	reqMAC, err := hex.DecodeString(requestMAC)
	if err != nil {
		return err
	}
	buf := binary.BigEndian.AppendUint16(nil, uint16(len(reqMAC)))
	buf = append(buf, reqMAC...)
	buf = append(buf, msg...)
	name, _ := answer.WireName(strings.ToLower(ts.Hdr.Name))
	alg, _ := answer.WireName(strings.ToLower(ts.Algorithm))
	buf = append(buf, name...)
	buf = binary.BigEndian.AppendUint16(buf, dns.ClassANY)
	buf = binary.BigEndian.AppendUint32(buf, 0)
	buf = append(buf, alg...)
	buf = append(buf, byte(ts.TimeSigned>>40), byte(ts.TimeSigned>>32), byte(ts.TimeSigned>>24), byte(ts.TimeSigned>>16), byte(ts.TimeSigned>>8), byte(ts.TimeSigned))
	buf = binary.BigEndian.AppendUint16(buf, ts.Fudge)
	buf = binary.BigEndian.AppendUint16(buf, ts.Error)
	other, _ := hex.DecodeString(ts.OtherData)
	buf = binary.BigEndian.AppendUint16(buf, uint16(len(other)))
	buf = append(buf, other...)
	return keyProvider(key).Verify(buf, ts)
}
