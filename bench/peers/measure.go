package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// clockTick is the unit of utime and stime in /proc/PID/stat: USER_HZ,
// 100 on every Linux this runs on.
const clockTick = 10 * time.Millisecond

// procStat is what the benchmark reads of one process in /proc.
type procStat struct {
	Pid, Pgrp int
	CPU       time.Duration // user + system
}

// readStat parses /proc/PID/stat; the command name may hold spaces and
// parentheses, so the fields are counted from the last ')'.
func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	// Fields after ")": state(3) ppid(4) pgrp(5) ... utime(14) stime(15).
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	pgrp, _ := strconv.Atoi(f[2])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return procStat{Pid: pid, Pgrp: pgrp, CPU: time.Duration(ut+st) * clockTick}, nil
}

// groupStats returns every live process of process group pgid.
func groupStats(pgid int) ([]procStat, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var out []procStat
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readStat(pid)
		if err != nil || st.Pgrp != pgid {
			continue
		}
		out = append(out, st)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("process group %d: no process", pgid)
	}
	return out, nil
}

// groupCPU is the CPU time used so far by the live processes of group
// pgid (a server and its forked workers). It sums the nanosecond run
// time of every live thread (/proc/PID/task/TID/schedstat) rather than
// stat's 10 ms ticks, since an AXFR out of a fast server takes a few
// ticks; but a thread that has ended (PowerDNS runs a transfer in a
// thread of its own) is only in the process's stat, so when stat says
// more, stat it is: 10 ms resolution then, instead of losing the
// thread's time.
func groupCPU(pgid int) (time.Duration, error) {
	sts, err := groupStats(pgid)
	if err != nil {
		return 0, err
	}
	var sum time.Duration
	for _, st := range sts {
		ns, ok := threadsRunTime(st.Pid)
		if !ok || ns < st.CPU {
			ns = st.CPU
		}
		sum += ns
	}
	return sum, nil
}

// threadsRunTime sums the run time of pid's live threads from schedstat.
func threadsRunTime(pid int) (time.Duration, bool) {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, false
	}
	var sum time.Duration
	for _, e := range ents {
		b, err := os.ReadFile(dir + "/" + e.Name() + "/schedstat")
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue // the thread ended meanwhile
			}
			return 0, false
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			return 0, false
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, false
		}
		sum += time.Duration(ns)
	}
	return sum, true
}

// groupRSS returns the largest peak (VmHWM) and current (VmRSS) resident
// set of group pgid's processes, in KiB. The largest, not the sum: NSD's
// forked server shares the zone's pages with its parent, and a sum would
// count them twice.
func groupRSS(pgid int) (peakKB, curKB int64, err error) {
	sts, err := groupStats(pgid)
	if err != nil {
		return 0, 0, err
	}
	for _, st := range sts {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(st.Pid) + "/status")
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok || (k != "VmHWM" && k != "VmRSS") {
				continue
			}
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if k == "VmHWM" {
				peakKB = max(peakKB, n)
			} else {
				curKB = max(curKB, n)
			}
		}
	}
	return peakKB, curKB, nil
}

// cpuBusy is how long CPU cpu (a number, "0") has been busy since boot,
// all processes and interrupts, from /proc/stat; false when cpu is a
// list or range (the servers are not pinned).
func cpuBusy(cpu string) (time.Duration, bool) {
	if _, err := strconv.Atoi(cpu); err != nil {
		return 0, false
	}
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 || f[0] != "cpu"+cpu {
			continue
		}
		// user nice system idle iowait irq softirq steal ...
		var busy int64
		for i, v := range f[1:] {
			if i == 3 || i == 4 || i >= 8 { // idle, iowait; guest is in user already
				continue
			}
			n, _ := strconv.ParseInt(v, 10, 64)
			busy += n
		}
		return time.Duration(busy) * clockTick, true
	}
	return 0, false
}

// udpRcvbufErrors is the kernel's count of UDP datagrams dropped because
// a socket's receive buffer was full (/proc/net/snmp, system-wide): the
// usual reason a server under a saturating load loses queries.
func udpRcvbufErrors() int64 {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return 0
	}
	var head []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if head == nil {
			head = f
			continue
		}
		for i, name := range head {
			if name == "RcvbufErrors" && i < len(f) {
				n, _ := strconv.ParseInt(f[i], 10, 64)
				return n
			}
		}
	}
	return 0
}

// waitServing polls addr over UDP every 10 ms until it answers qname
// authoritatively with NOERROR and an answer, and returns the time since
// p started. It gives up when p exits or after timeout.
func waitServing(p *process, addr, qname string, timeout time.Duration) (time.Duration, error) {
	c := &dns.Client{Net: "udp", Timeout: 100 * time.Millisecond}
	m := new(dns.Msg)
	m.SetQuestion(qname, dns.TypeA)
	m.RecursionDesired = false
	deadline := time.Now().Add(timeout)
	var last string
	for {
		r, _, err := c.Exchange(m, addr)
		switch {
		case err != nil:
			last = err.Error()
		case r.Rcode == dns.RcodeSuccess && r.Authoritative && len(r.Answer) > 0:
			return time.Since(p.Started), nil
		default:
			last = dns.RcodeToString[r.Rcode] + fmt.Sprintf(" aa=%v answers=%d", r.Authoritative, len(r.Answer))
		}
		if err := p.Exited(); err != nil {
			return 0, err
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%s did not answer %s on %s within %v (last: %s)\n%s", p.Name, qname, addr, timeout, last, p.LogTail(2000))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// querySerial asks addr for zone's SOA over UDP and returns its serial.
func querySerial(addr, zone string) (uint32, error) {
	c := &dns.Client{Net: "udp", Timeout: 500 * time.Millisecond}
	m := new(dns.Msg)
	m.SetQuestion(zone, dns.TypeSOA)
	m.RecursionDesired = false
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		return 0, err
	}
	if len(r.Answer) == 0 {
		return 0, fmt.Errorf("SOA %s at %s: %s, no answer", zone, addr, dns.RcodeToString[r.Rcode])
	}
	soa, ok := r.Answer[0].(*dns.SOA)
	if !ok {
		return 0, fmt.Errorf("SOA %s at %s: answered %s", zone, addr, r.Answer[0])
	}
	return soa.Serial, nil
}

// xfrResult is what a transfer out took.
type xfrResult struct {
	Wall     time.Duration
	Messages int
	Records  int
	Bytes    int64 // DNS message bytes (without the TCP length prefixes)
}

// axfr transfers zone from addr over TCP and counts messages, records and
// bytes without building or formatting any record: it walks each record's
// owner name and fixed fields only to find the closing SOA.
func axfr(addr, zone string, timeout time.Duration) (xfrResult, error) {
	m := new(dns.Msg)
	m.SetAxfr(zone)
	var res xfrResult
	start := time.Now()
	err := transfer(addr, m, timeout, func(msg []byte) (bool, error) {
		res.Messages++
		res.Bytes += int64(len(msg))
		n, soas, err := scanAnswers(msg)
		if err != nil {
			return false, err
		}
		res.Records += n
		// The transfer opens and closes with the SOA; a one-message AXFR
		// holds both.
		if soas > 0 && (res.Records > 1) && (res.Messages > 1 || soas > 1) {
			return true, nil
		}
		return false, nil
	})
	res.Wall = time.Since(start)
	return res, err
}

// ixfr asks addr for the changes to zone since serial and returns what
// the answer took. The answer is small, so it is unpacked in full and
// followed as RFC 1995 lays it out: the new SOA; then either the whole
// zone closed by the new SOA again (AXFR-style), or sequences of an old
// SOA, deletions, a newer SOA and additions, until the SOA that would
// open a sequence is the new one.
func ixfr(addr, zone string, serial uint32, timeout time.Duration) (xfrResult, error) {
	m := new(dns.Msg)
	m.SetIxfr(zone, serial, "ns1."+zone, "hostmaster."+zone)
	const (
		first     = iota // the new SOA
		second           // an old SOA (incremental), or a record (AXFR-style)
		axfrStyle        // records until the new SOA
		deletions        // until the SOA that opens the additions
		additions        // until the SOA that opens the next sequence or ends
	)
	var (
		res    xfrResult
		newSer uint32
		state  = first
	)
	start := time.Now()
	err := transfer(addr, m, timeout, func(msg []byte) (bool, error) {
		res.Messages++
		res.Bytes += int64(len(msg))
		r := new(dns.Msg)
		if err := r.Unpack(msg); err != nil {
			return false, err
		}
		for _, rr := range r.Answer {
			res.Records++
			soa, isSOA := rr.(*dns.SOA)
			switch state {
			case first:
				if !isSOA {
					return false, errors.New("IXFR answer does not open with an SOA")
				}
				newSer = soa.Serial
				state = second
			case second:
				switch {
				case isSOA && soa.Serial == newSer:
					return true, nil // up to date: the SOA alone
				case isSOA:
					state = deletions
				default:
					state = axfrStyle
				}
			case axfrStyle:
				if isSOA {
					return true, nil
				}
			case deletions:
				if isSOA {
					state = additions
				}
			case additions:
				if isSOA && soa.Serial == newSer {
					return true, nil
				} else if isSOA {
					state = deletions
				}
			}
		}
		// A lone SOA in the first message: up to date (RFC 1995 §4).
		return state == second && len(r.Answer) == 1, nil
	})
	res.Wall = time.Since(start)
	return res, err
}

// transfer sends q to addr over TCP and hands each answer message to
// next until next says the transfer is complete.
func transfer(addr string, q *dns.Msg, timeout time.Duration, next func(msg []byte) (bool, error)) error {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(timeout))
	wire, err := q.Pack()
	if err != nil {
		return err
	}
	out := binary.BigEndian.AppendUint16(nil, uint16(len(wire)))
	if _, err := conn.Write(append(out, wire...)); err != nil {
		return err
	}
	r := bufio.NewReaderSize(conn, 256<<10)
	buf := make([]byte, 65535)
	var lenBuf [2]byte
	for {
		if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
			return fmt.Errorf("transfer from %s: %w", addr, err)
		}
		msg := buf[:binary.BigEndian.Uint16(lenBuf[:])]
		if _, err := io.ReadFull(r, msg); err != nil {
			return fmt.Errorf("transfer from %s: %w", addr, err)
		}
		if len(msg) < 12 {
			return fmt.Errorf("transfer from %s: short message", addr)
		}
		if rc := msg[3] & 0xf; rc != dns.RcodeSuccess {
			return fmt.Errorf("transfer from %s: %s", addr, dns.RcodeToString[int(rc)])
		}
		done, err := next(msg)
		if err != nil || done {
			return err
		}
	}
}

// scanAnswers walks msg's question and answer sections and returns how
// many answer records it holds and how many of them are SOAs.
func scanAnswers(msg []byte) (n, soas int, err error) {
	qd := int(binary.BigEndian.Uint16(msg[4:]))
	an := int(binary.BigEndian.Uint16(msg[6:]))
	off := 12
	for range qd {
		if off = skipName(msg, off); off < 0 || off+4 > len(msg) {
			return 0, 0, errBadMsg
		}
		off += 4
	}
	for range an {
		if off = skipName(msg, off); off < 0 || off+10 > len(msg) {
			return 0, 0, errBadMsg
		}
		if binary.BigEndian.Uint16(msg[off:]) == dns.TypeSOA {
			soas++
		}
		off += 10 + int(binary.BigEndian.Uint16(msg[off+8:]))
		if off > len(msg) {
			return 0, 0, errBadMsg
		}
	}
	return an, soas, nil
}

var errBadMsg = errors.New("malformed transfer message")

// skipName returns the offset after the name at off, or -1.
func skipName(msg []byte, off int) int {
	for off < len(msg) {
		l := int(msg[off])
		switch {
		case l == 0:
			return off + 1
		case l&0xc0 == 0xc0:
			return off + 2
		default:
			off += 1 + l
		}
	}
	return -1
}
