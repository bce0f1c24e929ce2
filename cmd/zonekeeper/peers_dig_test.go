package main

// DNS clients of the replication and interoperability tests: SOA polls
// that wait for a serial to arrive, zone transfers through miekg/dns,
// and the real dig, whose printed output is part of what is tested.

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// propagationTimeout bounds how long a change may take to reach a
// secondary by NOTIFY and transfer: "within a few seconds", made generous
// for -race on two cores. The measured time is logged.
const propagationTimeout = 15 * time.Second

// soaSerial asks addr for the SOA of zone over UDP.
func soaSerial(addr, zone string) (uint32, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(zone), dns.TypeSOA)
	m.RecursionDesired = false
	c := &dns.Client{Net: "udp", Timeout: time.Second}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		return 0, err
	}
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 {
		return 0, fmt.Errorf("%s SOA: %s with %d answers", zone, dns.RcodeToString[r.Rcode], len(r.Answer))
	}
	soa, ok := r.Answer[0].(*dns.SOA)
	if !ok {
		return 0, fmt.Errorf("%s SOA: answered %s", zone, r.Answer[0])
	}
	return soa.Serial, nil
}

// waitSerial polls addr until it serves zone at serial, and returns how
// long that took; it fails the test after timeout, showing diag() (a
// server's log, events) to say why.
func waitSerial(t testing.TB, addr, zone string, serial uint32, timeout time.Duration, diag func() string) time.Duration {
	t.Helper()
	return waitSerialUnless(t, addr, zone, serial, timeout, diag, nil)
}

// waitSerialUnless is waitSerial that also gives up as soon as
// hopeless() (checked about twice a second) says why the serial cannot
// arrive, such as a refused NOTIFY.
func waitSerialUnless(t testing.TB, addr, zone string, serial uint32, timeout time.Duration, diag, hopeless func() string) time.Duration {
	t.Helper()
	start := time.Now()
	var last string
	for i := 0; ; i++ {
		got, err := soaSerial(addr, zone)
		if err == nil && got == serial {
			return time.Since(start)
		}
		if err != nil {
			last = err.Error()
		} else {
			last = fmt.Sprintf("serial %d", got)
		}
		why := ""
		if hopeless != nil && i%10 == 9 {
			why = hopeless()
		}
		if why != "" || time.Since(start) > timeout {
			if why == "" {
				why = fmt.Sprintf("not within %v", timeout)
			}
			extra := ""
			if diag != nil {
				extra = "\n" + diag()
			}
			t.Fatalf("%s at %s: serial %d not served: %s (last: %s)%s", zone, addr, serial, why, last, extra)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lookupA returns the A records' addresses of name at addr, sorted.
func lookupA(t testing.TB, addr, name string) []string {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	m.RecursionDesired = false
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	var r *dns.Msg
	var err error
	for range 3 {
		if r, _, err = c.Exchange(m, addr); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("%s A at %s: %v", name, addr, err)
	}
	var out []string
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	slices.Sort(out)
	return out
}

// xfrResult is what a transfer through miekg/dns brought.
type xfrResult struct {
	Records  []dns.RR // the answer records of every message, in order
	Messages int
}

// transferFrom runs an AXFR (serial 0) or IXFR=serial of zone from addr over
// TCP, from the source address src (127.0.0.x, so that the server's ACL
// sees that host), signed with key when not nil. The error is the first
// one the transfer met (a refusal, a TSIG failure, a timeout).
func transferFrom(addr, zone string, serial uint32, key *tsigKey, src string) (xfrResult, error) {
	m := new(dns.Msg)
	if serial == 0 {
		m.SetAxfr(dns.Fqdn(zone))
	} else {
		m.SetIxfr(dns.Fqdn(zone), serial, ".", ".")
	}
	tr := &dns.Transfer{DialTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 5 * time.Second}
	if key != nil {
		tr.TsigSecret = map[string]string{key.Name: key.Secret}
		if key.Algorithm == "hmac-md5" {
			tr.TsigProvider = hmacMD5Provider(*key)
		}
		m.SetTsig(key.Name, key.miekgAlgorithm(), 300, time.Now().Unix())
	}
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return xfrResult{}, err
	}
	defer conn.Close()
	tr.Conn = &dns.Conn{Conn: conn}
	ch, err := tr.In(m, addr)
	if err != nil {
		return xfrResult{}, err
	}
	var res xfrResult
	var first error
	for env := range ch {
		if env.Error != nil {
			if first == nil {
				first = env.Error
			}
			continue
		}
		res.Messages++
		res.Records = append(res.Records, env.RR...)
	}
	return res, first
}

// hmacMD5Provider signs and verifies with HMAC-MD5, which miekg/dns no
// longer does by itself, for the test's own transfers with such a key.
type hmacMD5Provider tsigKey

func (k hmacMD5Provider) Generate(msg []byte, t *dns.TSIG) ([]byte, error) {
	if !strings.EqualFold(t.Hdr.Name, k.Name) || !strings.EqualFold(t.Algorithm, dns.HmacMD5) {
		return nil, dns.ErrKey
	}
	secret, err := base64.StdEncoding.DecodeString(k.Secret)
	if err != nil {
		return nil, err
	}
	h := hmac.New(md5.New, secret)
	h.Write(msg)
	return h.Sum(nil), nil
}

func (k hmacMD5Provider) Verify(msg []byte, t *dns.TSIG) error {
	want, err := k.Generate(msg, t)
	if err != nil {
		return err
	}
	got, err := hex.DecodeString(t.MAC)
	if err != nil || !hmac.Equal(got, want) {
		return dns.ErrSig
	}
	return nil
}

// canonicalRecords returns the records in a comparable text form (owner
// lower-cased, TTL and data as miekg/dns prints them), sorted.
func canonicalRecords(rrs []dns.RR) []string {
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		h := rr.Header()
		s := rr.String()
		out = append(out, strings.ToLower(h.Name)+s[len(h.Name):])
	}
	slices.Sort(out)
	return out
}

// axfrBody checks that rrs is a whole zone as AXFR sends it (SOA first
// and last, the same SOA) and returns it without the closing SOA.
func axfrBody(rrs []dns.RR) ([]dns.RR, error) {
	if len(rrs) < 2 {
		return nil, fmt.Errorf("AXFR of %d records", len(rrs))
	}
	first, ok1 := rrs[0].(*dns.SOA)
	last, ok2 := rrs[len(rrs)-1].(*dns.SOA)
	if !ok1 || !ok2 || first.String() != last.String() {
		return nil, fmt.Errorf("AXFR from %s to %s: not one SOA first and last", rrs[0], rrs[len(rrs)-1])
	}
	for _, rr := range rrs[1 : len(rrs)-1] {
		if rr.Header().Rrtype == dns.TypeSOA {
			return nil, fmt.Errorf("AXFR with an SOA inside: %s", rr)
		}
	}
	return rrs[:len(rrs)-1], nil
}

// digResult is one run of dig: its whole output, the records it printed
// (TSIG excepted) and its TSIG lines.
type digResult struct {
	Args    []string
	Out     string
	Records []dns.RR
	TSIG    []string
}

func (r digResult) String() string {
	return "dig " + strings.Join(r.Args, " ") + "\n" + r.Out
}

// runDig runs dig with args, bounded in time; its exit status is not
// checked (dig 9.18 exits 0 after a failed transfer): callers check what
// it printed.
func runDig(t testing.TB, args ...string) digResult {
	t.Helper()
	dig := peerBinary(t, "dig", "bind9-dnsutils")
	args = append([]string{"+time=5", "+tries=1"}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, dig, args...).CombinedOutput()
	res := digResult{Args: args, Out: string(out)}
	if ctx.Err() != nil {
		t.Fatalf("%v: %v", res, ctx.Err())
	}
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("%v: %v", res, err)
	}
	sc := bufio.NewScanner(strings.NewReader(res.Out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, ";") {
			continue
		}
		if f := strings.Fields(line); len(f) > 3 && f[3] == "TSIG" {
			res.TSIG = append(res.TSIG, line)
			continue
		}
		rr, err := dns.NewRR(line)
		if err != nil {
			t.Fatalf("%v\ncannot parse the line %q: %v", res, line, err)
		}
		res.Records = append(res.Records, rr)
	}
	return res
}

// soaSerials returns the serials of the SOA records among rrs, in order.
func soaSerials(rrs []dns.RR) []uint32 {
	var out []uint32
	for _, rr := range rrs {
		if soa, ok := rr.(*dns.SOA); ok {
			out = append(out, soa.Serial)
		}
	}
	return out
}

// compareZones fails the test unless the AXFRs of zone from primary and
// from secondary (from 127.0.0.1, signed with pkey and skey when not nil)
// hold the same records.
func compareZones(t *testing.T, zone, primary string, pkey *tsigKey, secondary string, skey *tsigKey) {
	t.Helper()
	var sets [2][]string
	for i, addr := range []string{primary, secondary} {
		key := pkey
		if i == 1 {
			key = skey
		}
		res, err := transferFrom(addr, zone, 0, key, "127.0.0.1")
		if err != nil {
			t.Fatalf("AXFR %s from %s: %v", zone, addr, err)
		}
		body, err := axfrBody(res.Records)
		if err != nil {
			t.Fatalf("AXFR %s from %s: %v", zone, addr, err)
		}
		sets[i] = canonicalRecords(body)
	}
	if !slices.Equal(sets[0], sets[1]) {
		t.Errorf("%s: the secondary's copy (%s) differs from the primary's zone (%s):\nprimary:\n%s\nsecondary:\n%s",
			zone, secondary, primary, strings.Join(sets[0], "\n"), strings.Join(sets[1], "\n"))
	}
}

// portOf returns the port of "ip:port".
func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}
