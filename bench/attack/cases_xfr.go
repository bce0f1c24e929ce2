package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/bench/internal/ports"
)

// bigZone is the zone the hostile primary sends.
const bigZone = "big.attack.test."

// fakePrimary serves bigZone from 127.0.0.60: its SOA over UDP and TCP,
// and an AXFR of records records made on the fly, paced by delay per
// message.
type fakePrimary struct {
	addr    string
	records int
	delay   time.Duration
	udp     *dns.Server
	tcp     *dns.Server
}

func startFakePrimary(records int, delay time.Duration) (*fakePrimary, error) {
	port, err := ports.Free("127.0.0.60")
	if err != nil {
		return nil, err
	}
	f := &fakePrimary{addr: net.JoinHostPort("127.0.0.60", strconv.Itoa(port)), records: records, delay: delay}
	mux := dns.NewServeMux()
	mux.HandleFunc(bigZone, f.serve)
	f.udp = &dns.Server{Addr: f.addr, Net: "udp", Handler: mux}
	f.tcp = &dns.Server{Addr: f.addr, Net: "tcp", Handler: mux}
	for _, s := range []*dns.Server{f.udp, f.tcp} {
		started := make(chan struct{})
		s.NotifyStartedFunc = func() { close(started) }
		go s.ListenAndServe()
		select {
		case <-started:
		case <-time.After(5 * time.Second):
			return nil, errors.New("the fake primary did not start")
		}
	}
	return f, nil
}

func (f *fakePrimary) stop() {
	f.udp.Shutdown()
	f.tcp.Shutdown()
}

func (f *fakePrimary) soa() *dns.SOA {
	return &dns.SOA{Hdr: dns.RR_Header{Name: bigZone, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 300},
		Ns: "ns1." + bigZone, Mbox: "hostmaster." + bigZone, Serial: 1, Refresh: 3600, Retry: 600, Expire: 86400, Minttl: 300}
}

func (f *fakePrimary) serve(w dns.ResponseWriter, r *dns.Msg) {
	if len(r.Question) != 1 || r.Question[0].Qtype != dns.TypeAXFR {
		m := new(dns.Msg)
		m.SetReply(r)
		m.Authoritative = true
		m.Answer = []dns.RR{f.soa()}
		w.WriteMsg(m)
		return
	}
	ch := make(chan *dns.Envelope)
	tr := new(dns.Transfer)
	done := make(chan error, 1)
	go func() { done <- tr.Out(w, r, ch) }()
	batch := []dns.RR{f.soa(),
		&dns.NS{Hdr: dns.RR_Header{Name: bigZone, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 300}, Ns: "ns1." + bigZone},
		&dns.A{Hdr: dns.RR_Header{Name: "ns1." + bigZone, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300}, A: net.IPv4(127, 0, 0, 60)}}
	defer w.Close()
	// send hands a batch to the writer; false when the writer has given
	// up (the daemon was killed mid-transfer), so the rest is not made.
	send := func(rrs []dns.RR) bool {
		select {
		case ch <- &dns.Envelope{RR: rrs}:
			return true
		case <-done:
			return false
		}
	}
	for i := range f.records {
		batch = append(batch, &dns.A{Hdr: dns.RR_Header{Name: "h" + strconv.Itoa(i) + "." + bigZone, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300},
			A: net.IPv4(10, byte(i>>16), byte(i>>8), byte(i))})
		if len(batch) == 400 {
			if !send(batch) {
				return
			}
			batch = nil
			if f.delay > 0 {
				time.Sleep(f.delay)
			}
		}
	}
	if !send(append(batch, f.soa())) {
		return
	}
	close(ch)
	<-done
}

// hostilePrimary lets a primary send sc.xfrRecords records to a daemon
// with the default limits and measures the memory the transfer takes.
// The bound (README, secondary zones) is on what the transfer
// holds in flight beyond the version it ends with, per record: the peak
// resident size less the size once the version is served and the rest
// given back (target: at most 150 bytes). The served version's own size
// and the whole peak are shown beside it.
func hostilePrimary(bin, dir string, sc scale) result {
	f, d, err := secondaryTarget(bin, dir, sc.xfrRecords, 0)
	if err != nil {
		return failed(err)
	}
	defer f.stop()
	defer d.stop()
	before := d.proc("VmRSS")
	start := time.Now()
	if _, err := d.cli("zone", "add-secondary", bigZone, f.addr); err != nil {
		return failed(err)
	}
	served := waitServed(d, bigZone, 10*time.Minute)
	took := time.Since(start)
	// The version answers before its journal is written and the memory
	// of the transfer is given back: the figures are read once the
	// resident size has stopped falling (bounded).
	after := settledRSS(d, 30*time.Second)
	peak := d.proc("VmHWM")
	perRecord := func(kb int64) float64 { return float64(kb) * 1024 / float64(sc.xfrRecords) }
	inFlight := perRecord(peak - after)
	return result{
		held: served && inFlight <= 150 && d.probe("udp") == nil,
		figures: fmt.Sprintf("%d records: served %v after %s; RSS %d MB before, peak %d MB, %d MB after: %.0f bytes a record in flight beyond the version served (target ≤ 150), the version %.0f, the whole peak %.0f",
			sc.xfrRecords, served, took.Round(100*time.Millisecond), before>>10, peak>>10, after>>10, inFlight, perRecord(after-before), perRecord(peak-before)),
	}
}

// settledRSS waits until the daemon's resident size has not fallen for
// two seconds, at most wait, and returns it.
func settledRSS(d *daemon, wait time.Duration) int64 {
	low := d.proc("VmRSS")
	for deadline, calm := time.Now().Add(wait), 0; time.Now().Before(deadline) && calm < 4; {
		time.Sleep(500 * time.Millisecond)
		if rss := d.proc("VmRSS"); rss < low-1024 {
			low, calm = rss, 0
		} else {
			calm++
		}
	}
	return d.proc("VmRSS")
}

// secondaryTarget starts a fake primary of records records and a
// daemon on 127.0.0.3 that is to follow it.
func secondaryTarget(bin, dir string, records int, delay time.Duration) (*fakePrimary, *daemon, error) {
	f, err := startFakePrimary(records, delay)
	if err != nil {
		return nil, nil, err
	}
	d, err := startDaemon(bin, dir, "127.0.0.3")
	if err != nil {
		f.stop()
		return nil, nil, err
	}
	return f, d, nil
}

// waitServed waits until the daemon answers the zone's SOA.
func waitServed(d *daemon, zone string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	m := new(dns.Msg)
	m.SetQuestion(zone, dns.TypeSOA)
	c := &dns.Client{Timeout: time.Second}
	for time.Now().Before(deadline) && d.alive() {
		if r, _, err := c.Exchange(m, d.dns); err == nil && r.Rcode == dns.RcodeSuccess && len(r.Answer) == 1 {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// killMidTransfer kills the secondary with SIGKILL at random moments of
// a paced transfer and its write, sc.kills times, then lets it finish:
// no temporary file may stay behind and the zone must be served.
func killMidTransfer(bin, dir string, sc scale) result {
	f, d, err := secondaryTarget(bin, dir, sc.xfrRecords/4, 2*time.Millisecond)
	if err != nil {
		return failed(err)
	}
	defer f.stop()
	defer d.stop()
	if _, err := d.cli("zone", "add-secondary", bigZone, f.addr); err != nil {
		return failed(err)
	}
	r := rand.New(rand.NewPCG(21, 3))
	dead, _ := ports.Free("127.0.0.1")
	for range sc.kills {
		time.Sleep(time.Duration(200+r.IntN(1500)) * time.Millisecond)
		d.signal(syscall.SIGKILL)
		if err := d.launch(dead); err != nil {
			return failed(err)
		}
		if _, err := d.cli("zone", "retrieve", bigZone); err != nil && !strings.Contains(err.Error(), "under way") {
			// A retrieve refused while the start-up check runs is fine.
			_ = err
		}
	}
	served := waitServed(d, bigZone, 5*time.Minute)
	temps, _ := filepath.Glob(filepath.Join(d.data, "secondary", ".*tmp-*"))
	return result{
		held:    served && len(temps) == 0 && d.probe("udp") == nil,
		figures: fmt.Sprintf("%d kill -9 during transfers of %d records; served after: %v; temporary files left: %d", sc.kills, sc.xfrRecords/4, served, len(temps)),
	}
}

// fullDisk runs the daemon on a 16 MB tmpfs, fills it, and edits: the
// edit must fail saying the disk is full, the zone keep serving its
// version, no temporary file stay, and an edit succeed once there is
// room again.
func fullDisk(bin, dir string, sc scale) result {
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return failed(err)
	}
	if err := syscall.Mount("tmpfs", data, "tmpfs", 0, "size=16m"); err != nil {
		return result{skipped: "cannot mount a tmpfs here (" + err.Error() + "): needs root"}
	}
	defer syscall.Unmount(data, syscall.MNT_DETACH)
	d, err := startDaemon(bin, dir, "127.0.0.2")
	if err != nil {
		return failed(err)
	}
	defer d.stop()
	filler := filepath.Join(data, "filler")
	fill, err := os.Create(filler)
	if err != nil {
		return failed(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := fill.Write(chunk); err != nil {
			break
		}
	}
	fill.Close()
	out, err := d.cli("record", "add", attackZone, "full", "A", "127.0.0.9")
	clear := err != nil && strings.Contains(out, "no space left")
	serving := d.probe("udp") == nil
	temps, _ := filepath.Glob(filepath.Join(data, "zones", ".*tmp-*"))
	os.Remove(filler)
	_, errAfter := d.cli("record", "add", attackZone, "room", "A", "127.0.0.10")
	return result{
		held: clear && serving && len(temps) == 0 && errAfter == nil,
		figures: fmt.Sprintf("edit on a full disk: %q; still serving: %v; temporary files: %d; edit with room again: %v",
			strings.TrimSpace(out), serving, len(temps), errAfter == nil),
	}
}
