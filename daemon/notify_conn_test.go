package daemon

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/store"
)

// TestNotifyConnLateAnswer: each try of a NOTIFY is signed afresh with
// its own MAC, and an answer to the first try that arrives after the
// second verifies (against the first try's MAC); an answer signed with
// another secret does not.
func TestNotifyConnLateAnswer(t *testing.T) {
	key := store.Key{Name: "late.", Algorithm: "hmac-sha256", Secret: "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg=="}
	target, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	conn, err := net.DialUDP("udp", nil, target.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	nc := &notifyConn{conn: conn, key: &key, provider: keyProvider(key)}
	m := new(dns.Msg)
	m.SetNotify("example.org.")

	var macs []string
	var from *net.UDPAddr
	buf := make([]byte, dns.MaxMsgSize)
	for try := 1; try <= 2; try++ {
		if try == 2 {
			time.Sleep(1100 * time.Millisecond) // another time signed, so another MAC
		}
		if err := nc.write(m); err != nil {
			t.Fatal(err)
		}
		target.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, addr, err := target.ReadFromUDP(buf)
		if err != nil {
			t.Fatal(err)
		}
		from = addr
		if err := dns.TsigVerifyWithProvider(append([]byte(nil), buf[:n]...), keyProvider(key), "", false); err != nil {
			t.Fatalf("try %d: its TSIG does not verify: %v", try, err)
		}
		got := new(dns.Msg)
		if err := got.Unpack(buf[:n]); err != nil {
			t.Fatal(err)
		}
		macs = append(macs, got.IsTsig().MAC)
	}
	if macs[0] == macs[1] {
		t.Fatal("both tries carry the same MAC a second apart: the second was not signed afresh")
	}
	answer := func(secret string, mac string) {
		r := new(dns.Msg)
		r.SetReply(m)
		r.Opcode = dns.OpcodeNotify
		r.SetTsig("late.", dns.HmacSHA256, 300, time.Now().Unix())
		out, _, err := dns.TsigGenerate(r, secret, mac, false)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := target.WriteToUDP(out, from); err != nil {
			t.Fatal(err)
		}
	}
	answer(key.Secret, macs[0]) // the answer to the first try, late
	r, err := nc.await(context.Background(), m.Id, time.Now().Add(2*time.Second))
	if r == nil || err != nil {
		t.Fatalf("late answer to try 1: %v, %v", r, err)
	}
	answer("b3RoZXItb3RoZXItb3RoZXItb3RoZXItb3RoZXItMzI=", macs[1])
	if r, err := nc.await(context.Background(), m.Id, time.Now().Add(2*time.Second)); r == nil || err == nil {
		t.Fatalf("an answer signed with another secret: %v, %v", r, err)
	}
}
