package main

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// mutatedUDP sends datagrams made from valid queries by flipping,
// cutting and appending random bytes, from 127.0.0.50, while the prober
// asks over UDP.
func mutatedUDP(bin, dir string, sc scale) result {
	d, c, err := udpTarget(bin, dir, "127.0.0.50")
	if err != nil {
		return failed(err)
	}
	defer d.stop()
	defer c.Close()
	stop := make(chan struct{})
	p := d.startProber("udp", 50*time.Millisecond, stop)
	cpu0 := d.cpu()
	r := rand.New(rand.NewPCG(21, 1))
	seeds := seedQueries()
	start := time.Now()
	for i := range sc.datagrams {
		c.Write(mutate(r, seeds[i%len(seeds)]))
		if i%200 == 199 {
			time.Sleep(time.Millisecond) // about 100,000 a second at most
		}
	}
	took := time.Since(start)
	time.Sleep(200 * time.Millisecond)
	close(stop)
	<-p.done
	cpu := d.cpu() - cpu0
	return result{
		held: d.alive() && p.failed == 0 && d.probe("udp") == nil,
		figures: fmt.Sprintf("%d datagrams in %s; %s; CPU %s; RSS %d MB", sc.datagrams, took.Round(time.Millisecond), p,
			cpu.Round(time.Millisecond), d.proc("VmRSS")>>10),
	}
}

// seedQueries are valid messages of several kinds to mutate.
func seedQueries() [][]byte {
	var out [][]byte
	add := func(m *dns.Msg) {
		if b, err := m.Pack(); err == nil {
			out = append(out, b)
		}
	}
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeSOA, dns.TypeAXFR, dns.TypeIXFR, dns.TypeANY, dns.TypeTXT} {
		m := new(dns.Msg)
		m.SetQuestion("www."+attackZone, t)
		add(m)
		m.SetEdns0(1232, true)
		add(m)
	}
	n := new(dns.Msg)
	n.SetNotify(attackZone)
	add(n)
	s := new(dns.Msg)
	s.SetQuestion(attackZone, dns.TypeSOA)
	s.SetTsig("some.key.", dns.HmacSHA256, 300, time.Now().Unix())
	if b, _, err := dns.TsigGenerate(s, "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0", "", false); err == nil {
		out = append(out, b)
	}
	return out
}

// mutate returns a copy of b with a few random changes.
func mutate(r *rand.Rand, b []byte) []byte {
	out := append([]byte(nil), b...)
	for range 1 + r.IntN(4) {
		switch r.IntN(4) {
		case 0:
			if len(out) > 0 {
				out[r.IntN(len(out))] ^= byte(1 << r.IntN(8))
			}
		case 1:
			if len(out) > 0 {
				out[r.IntN(len(out))] = byte(r.IntN(256))
			}
		case 2:
			out = out[:r.IntN(len(out)+1)]
		case 3:
			for range r.IntN(32) {
				out = append(out, byte(r.IntN(256)))
			}
		}
	}
	return out
}

// udpTarget starts a daemon with the extra flags of serve and a UDP
// socket from ip to it whose replies are read and dropped.
func udpTarget(bin, dir, ip string, extra ...string) (*daemon, *net.UDPConn, error) {
	d, err := startDaemon(bin, dir, "127.0.0.2", extra...)
	if err != nil {
		return nil, nil, err
	}
	c, err := dialUDPFrom(ip, d.dns)
	if err != nil {
		d.stop()
		return nil, nil, err
	}
	go drain(c)
	return d, c, nil
}

func dialUDPFrom(ip, addr string) (*net.UDPConn, error) {
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	return net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)}, raddr)
}

// drain reads replies until the connection is closed.
func drain(c net.Conn) {
	buf := make([]byte, 65535)
	for {
		if _, err := c.Read(buf); err != nil && !isTimeout(err) {
			return
		}
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// tcpFraming opens connections from 127.0.0.51 that break the two-byte
// framing every way (zero length, a length past what follows, random
// bytes, a frame cut off, one byte then silence) while the prober asks
// over TCP.
func tcpFraming(bin, dir string, sc scale) result {
	d, err := startDaemon(bin, dir, "127.0.0.2")
	if err != nil {
		return failed(err)
	}
	defer d.stop()
	stop := make(chan struct{})
	p := d.startProber("tcp", 100*time.Millisecond, stop)
	r := rand.New(rand.NewPCG(21, 2))
	q := seedQueries()[0]
	frames := [][]byte{
		{0, 0},
		{0xff, 0xff, 1, 2, 3},
		{0, byte(len(q) + 10)},
		append([]byte{0, byte(len(q))}, q[:len(q)/2]...),
		{0},
	}
	sends := make([][]byte, 400)
	for i := range sends {
		sends[i] = frames[i%len(frames)]
		if i%7 == 6 {
			sends[i] = make([]byte, 2+r.IntN(600))
			for j := range sends[i] {
				sends[i][j] = byte(r.IntN(256))
			}
		}
	}
	var wg sync.WaitGroup
	var opened int
	var mu sync.Mutex
	for _, f := range sends {
		wg.Go(func() {
			c, err := dialTCPFrom("127.0.0.51", d.dns)
			if err != nil {
				return
			}
			defer c.Close()
			mu.Lock()
			opened++
			mu.Unlock()
			c.Write(f)
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			buf := make([]byte, 512)
			c.Read(buf)
		})
	}
	wg.Wait()
	close(stop)
	<-p.done
	return result{
		held:    d.alive() && p.failed == 0 && d.probe("tcp") == nil,
		figures: fmt.Sprintf("%d broken connections; %s; RSS %d MB", opened, p, d.proc("VmRSS")>>10),
	}
}

func dialTCPFrom(ip, addr string) (*net.TCPConn, error) {
	dl := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 2 * time.Second}
	c, err := dl.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return c.(*net.TCPConn), nil
}

// slowloris holds sc.conns connections from 127.0.0.52 open, trickling
// a query on each every few seconds, while the prober asks over TCP
// from another address (RFC 7766 §6.2: one client must not deny TCP to
// the others).
func slowloris(bin, dir string, sc scale) result {
	d, err := startDaemon(bin, dir, "127.0.0.2")
	if err != nil {
		return failed(err)
	}
	defer d.stop()
	var conns []*net.TCPConn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range sc.conns {
		c, err := dialTCPFrom("127.0.0.52", d.dns)
		if err != nil {
			break
		}
		conns = append(conns, c)
	}
	q := seedQueries()[0]
	frame := binary.BigEndian.AppendUint16(nil, uint16(len(q)))
	frame = append(frame, q...)
	stop := make(chan struct{})
	p := d.startProber("tcp", 100*time.Millisecond, stop)
	deadline := time.Now().Add(time.Duration(sc.loadSeconds) * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		// One byte at a time, one connection after the other.
		c := conns[i%len(conns)]
		c.Write(frame[(i/len(conns))%len(frame) : (i/len(conns))%len(frame)+1])
		time.Sleep(time.Duration(int64(time.Second) * 2 / int64(len(conns))))
	}
	close(stop)
	<-p.done
	return result{
		held:    d.alive() && p.failed == 0,
		figures: fmt.Sprintf("%d connections held open, trickled for %ds; %s", len(conns), sc.loadSeconds, p),
	}
}

// notifyFlood sends sc.notifies unsigned NOTIFYs for zones not served
// from 127.0.0.53 to a daemon with events-max 5000: the start event must
// stay in the log and the CPU per NOTIFY stay low.
func notifyFlood(bin, dir string, sc scale) result {
	d, c, err := udpTarget(bin, dir, "127.0.0.53", "--events-max", "5000")
	if err != nil {
		return failed(err)
	}
	defer d.stop()
	defer c.Close()
	stop := make(chan struct{})
	p := d.startProber("udp", 50*time.Millisecond, stop)
	cpu0 := d.cpu()
	for i := range sc.notifies {
		m := new(dns.Msg)
		m.SetNotify(fmt.Sprintf("z%d.flood.test.", i))
		b, _ := m.Pack()
		c.Write(b)
		if i%50 == 49 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	time.Sleep(200 * time.Millisecond)
	close(stop)
	<-p.done
	cpu := d.cpu() - cpu0
	out, err := d.cli("events", "--kind", "start", "--limit", "5")
	kept := err == nil && strings.Contains(out, "start")
	per := cpu / time.Duration(sc.notifies)
	return result{
		held: kept && p.failed == 0 && per < 150*time.Microsecond,
		figures: fmt.Sprintf("%d NOTIFYs; start event kept: %v; CPU %s (%s a NOTIFY); %s", sc.notifies, kept,
			cpu.Round(time.Millisecond), per, p),
	}
}
