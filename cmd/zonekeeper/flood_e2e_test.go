package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
)

// TestNotifyFloodKeepsLog floods the real daemon, run with events-max
// 5000, with 20,000 unsigned NOTIFYs for zones it does not serve from
// one address, paced: the start event stays in the log, the flood's own
// events keep to their tenth of it and are folded, NOTIFYs past the
// per-source rate are answered without a look at the zone, and the CPU
// the daemon spends stays bounded (issue 21, point 3).
func TestNotifyFloodKeepsLog(t *testing.T) {
	if testing.Short() {
		t.Skip("a 20,000-NOTIFY flood")
	}
	d := startCLIDaemon(t, "--events-max", "5000")
	cpu0 := procCPU(t, d.proc.pid)

	laddr := &net.UDPAddr{IP: net.ParseIP("127.0.0.12")}
	raddr, err := net.ResolveUDPAddr("udp", d.dns)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialUDP("udp", laddr, raddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rcodes := make(chan map[int]int)
	go func() {
		got := map[int]int{}
		buf := make([]byte, 1500)
		for {
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			n, err := c.Read(buf)
			if err != nil {
				rcodes <- got
				return
			}
			var m dns.Msg
			if m.Unpack(buf[:n]) == nil {
				got[m.Rcode]++
			}
		}
	}()
	const flood = 20_000
	start := time.Now()
	for i := range flood {
		m := new(dns.Msg)
		m.SetNotify(fmt.Sprintf("z%d.flood.test.", i))
		m.Id = uint16(i)
		wire, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write(wire); err != nil {
			t.Fatal(err)
		}
		if i%50 == 49 {
			time.Sleep(5 * time.Millisecond) // paced: about 10,000 a second
		}
	}
	took := time.Since(start)
	got := <-rcodes
	cpu := procCPU(t, d.proc.pid) - cpu0
	t.Logf("%d NOTIFYs in %s: answers %v; daemon CPU %s (%.1f µs a NOTIFY)", flood, took.Round(time.Millisecond),
		rcodesText(got), cpu.Round(time.Millisecond), float64(cpu.Microseconds())/flood)
	if got[dns.RcodeRefused] == 0 || got[dns.RcodeNotAuth] == 0 {
		t.Errorf("answers %v: want NOTAUTH within the per-source allowance and REFUSED past it", rcodesText(got))
	}
	// Messages with a TSIG of a key nobody has: errors of the traffic
	// kind, not the operator's last errors.
	for i := range 50 {
		m := new(dns.Msg)
		m.SetQuestion("example.org.", dns.TypeSOA)
		m.SetTsig("nosuch.key.", dns.HmacSHA256, 300, time.Now().Unix())
		cl := &dns.Client{Timeout: time.Second, TsigSecret: map[string]string{"nosuch.key.": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}}
		m.Id = uint16(i)
		cl.Exchange(m, d.dns)
	}
	var st api.Status
	d.json(&st, "status")
	for _, e := range st.LastErrors {
		if e.Traffic {
			t.Errorf("status names traffic as a last error: %s %s", e.Kind, e.Detail)
		}
	}

	// Before the limit, each NOTIFY cost about 129 µs, most of it the
	// event written; the bound leaves room for a slow or busy machine.
	if perNotify := cpu / flood; perNotify > 100*time.Microsecond {
		t.Errorf("%s of daemon CPU a NOTIFY: the flood is not cheap", perNotify)
	}

	evs := d.eventList()
	var traffic, folded int
	for _, ev := range evs {
		if ev.Traffic {
			traffic++
			if strings.Contains(ev.Detail, "not recorded in the last") && strings.Contains(ev.Detail, "from 127.0.0.0/24") {
				folded++
			}
		}
	}
	if !hasEventKind(evs, "start") {
		t.Errorf("the start event is gone from the log (%d events, %d traffic)", len(evs), traffic)
	}
	if traffic == 0 || traffic > 500 {
		t.Errorf("%d traffic events in the log, want 1..500 (a tenth of events-max)", traffic)
	}
	t.Logf("the log: %d events, %d of them traffic, %d folded so far", len(evs), traffic, folded)
}

// eventList returns the whole activity log.
func (d *cliDaemon) eventList() []api.Event {
	d.t.Helper()
	out := d.ok("events", "--limit", "100000", "--json")
	var evs []api.Event
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev api.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			d.t.Fatalf("events --json: %v: %q", err, sc.Text())
		}
		evs = append(evs, ev)
	}
	return evs
}

func hasEventKind(evs []api.Event, kind string) bool {
	for _, ev := range evs {
		if ev.Kind == kind {
			return true
		}
	}
	return false
}

func rcodesText(got map[int]int) string {
	var parts []string
	for rc, n := range got {
		parts = append(parts, fmt.Sprintf("%s %d", dns.RcodeToString[rc], n))
	}
	return strings.Join(parts, ", ")
}

// procCPU returns the user and system CPU time process pid has used.
func procCPU(t *testing.T, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// The fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const hz = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / hz
}

// TestLongTokenCut writes a zonefile that is one 10 MB token: the
// refusal names the file and line with the token cut, in `zone list`,
// `status` and the log, and `events` reads the log back (issue 21,
// point 6).
func TestLongTokenCut(t *testing.T) {
	d := startCLIDaemon(t)
	path := d.data + "/zones/long.test.zone"
	if err := os.WriteFile(path, []byte(strings.Repeat("x", 10<<20)+" IN A 127.0.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var line string
	d.eventually("the long zonefile refused", func() bool {
		out := d.ok("zone", "list")
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "long.test.") {
				line = l
			}
		}
		return strings.Contains(line, "long.test.zone:1")
	})
	for what, text := range map[string]string{"zone list": line, "zone list --json": d.ok("zone", "list", "--json"),
		"status": d.ok("status"), "events": d.ok("events"), "the log": d.proc.Output()} {
		if len(text) > 64<<10 {
			t.Errorf("%s: %d bytes, the token is not cut", what, len(text))
		}
		if !strings.Contains(text, "bytes cut]") {
			t.Errorf("%s does not say the token was cut: %.300s", what, text)
		}
	}
}

// TestRRLSetting runs the daemon with rrl-responses-per-second 5: a
// burst of identical queries from one address gets at most a few full
// answers, the rest dropped or truncated, and `status` counts them.
func TestRRLSetting(t *testing.T) {
	d := startCLIDaemon(t, "--rrl-responses-per-second", "5", "--rrl-slip", "2")
	raddr, err := net.ResolveUDPAddr("udp", d.dns)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP("127.0.0.20")}, raddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m := new(dns.Msg)
	m.SetQuestion("www.example.org.", dns.TypeA)
	q, _ := m.Pack()
	for range 60 {
		c.Write(q)
	}
	full, tc := 0, 0
	buf := make([]byte, 1500)
	for {
		c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		n, err := c.Read(buf)
		if err != nil {
			break
		}
		var r dns.Msg
		if r.Unpack(buf[:n]) == nil {
			if r.Truncated {
				tc++
			} else {
				full++
			}
		}
	}
	if full > 12 || tc == 0 {
		t.Errorf("60 identical queries: %d full answers, %d truncated", full, tc)
	}
	if out := d.ok("status"); !strings.Contains(out, "rate-limited:") {
		t.Errorf("status does not count the rate-limited responses:\n%s", out)
	}
}
