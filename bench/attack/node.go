package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/bench/internal/ports"
)

// attackZone is the zone every daemon serves; its NS names have loopback
// addresses only, so that no NOTIFY leaves the machine.
const attackZone = "attack.test."

const zoneText = `$TTL 300
@    IN SOA ns1 hostmaster 1 3600 900 1209600 300
     IN NS  ns1
ns1  IN A   127.0.0.1
www  IN A   127.0.0.80
`

// probeFrom is the address of the well-behaved client: the attacks come
// from other addresses.
const probeFrom = "127.0.0.99"

// waitTimeout bounds a daemon's start and every wait for it.
const waitTimeout = 20 * time.Second

// daemon is one `zonekeeper serve` under attack.
type daemon struct {
	bin, dir, data string
	dns            string // its DNS address
	extra          []string
	cmd            *exec.Cmd
	exited         chan struct{}
}

// startDaemon runs the binary on ip, in a data directory of dir (made
// when missing), serving attackZone, with the extra flags of serve.
func startDaemon(bin, dir, ip string, extra ...string) (*daemon, error) {
	d := &daemon{bin: bin, dir: dir, data: filepath.Join(dir, "data"), extra: extra}
	if err := os.MkdirAll(filepath.Join(d.data, "zones"), 0o755); err != nil {
		return nil, err
	}
	zf := filepath.Join(d.data, "zones", attackZone+"zone")
	if _, err := os.Stat(zf); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(zf, []byte(zoneText), 0o644); err != nil {
			return nil, err
		}
	}
	port, err := ports.Free(ip)
	if err != nil {
		return nil, err
	}
	dead, err := ports.Free("127.0.0.1")
	if err != nil {
		return nil, err
	}
	d.dns = net.JoinHostPort(ip, strconv.Itoa(port))
	return d, d.launch(dead)
}

// launch starts the process (again).
func (d *daemon) launch(nsPort int) error {
	conf := filepath.Join(d.dir, "empty.conf")
	if err := os.WriteFile(conf, []byte("# flags only\n"), 0o644); err != nil {
		return err
	}
	args := append([]string{"serve", "--config", conf, "--data", d.data, "--listen", d.dns,
		"--ns-port", strconv.Itoa(nsPort), "--log-level", "warn"}, d.extra...)
	d.cmd = exec.Command(d.bin, args...)
	log, err := os.OpenFile(filepath.Join(d.dir, "zonekeeper.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	d.cmd.Stdout, d.cmd.Stderr = log, log
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		log.Close()
		return err
	}
	d.exited = make(chan struct{})
	go func() {
		d.cmd.Wait()
		log.Close()
		close(d.exited)
	}()
	return d.waitReady()
}

// waitReady waits until the zone answers and the control socket too.
func (d *daemon) waitReady() error {
	deadline := time.Now().Add(waitTimeout)
	for {
		if d.probe("udp") == nil {
			if _, err := d.cli("status"); err == nil {
				return nil
			}
		}
		select {
		case <-d.exited:
			return fmt.Errorf("the daemon exited:\n%s", d.log())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the daemon did not answer within %v:\n%s", waitTimeout, d.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (d *daemon) log() string {
	b, _ := os.ReadFile(filepath.Join(d.dir, "zonekeeper.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// alive reports whether the process is still running.
func (d *daemon) alive() bool {
	select {
	case <-d.exited:
		return false
	default:
		return true
	}
}

// stop ends the daemon with SIGTERM, SIGKILL after 10 s.
func (d *daemon) stop() { d.signal(syscall.SIGTERM) }

// signal sends sig and waits for the process to end.
func (d *daemon) signal(sig syscall.Signal) {
	if !d.alive() {
		return
	}
	syscall.Kill(-d.cmd.Process.Pid, sig)
	select {
	case <-d.exited:
	case <-time.After(10 * time.Second):
		syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-d.exited
	}
}

// cli runs a client verb against the daemon.
func (d *daemon) cli(args ...string) (string, error) {
	cmd := exec.Command(d.bin, append([]string{"--data", d.data}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String() + stderr.String(), fmt.Errorf("zonekeeper %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// probeTries is how often a probe asks before it counts as unanswered:
// a resolver (and dig) tries a UDP query three times, since a datagram
// may be dropped by a full socket buffer during a flood.
const probeTries = 3

// probe asks the zone's www A record from probeFrom over proto, as a
// well-behaved client would (up to probeTries times), and fails unless
// it is answered.
func (d *daemon) probe(proto string) error {
	var err error
	for range probeTries {
		if err = d.probeOnce(proto); err == nil {
			return nil
		}
	}
	return err
}

func (d *daemon) probeOnce(proto string) error {
	m := new(dns.Msg)
	m.SetQuestion("www."+attackZone, dns.TypeA)
	laddr := net.Addr(&net.UDPAddr{IP: net.ParseIP(probeFrom)})
	if proto == "tcp" {
		laddr = &net.TCPAddr{IP: net.ParseIP(probeFrom)}
	}
	c := &dns.Client{Net: proto, Timeout: time.Second, Dialer: &net.Dialer{LocalAddr: laddr, Timeout: time.Second}}
	r, _, err := c.Exchange(m, d.dns)
	if err != nil {
		return err
	}
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		return fmt.Errorf("answered %s with %d records", dns.RcodeToString[r.Rcode], len(r.Answer))
	}
	return nil
}

// proc reads a field of /proc/PID/status in kB (VmRSS, VmHWM).
func (d *daemon) proc(field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", d.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// cpu returns the user and system CPU time the process has used.
func (d *daemon) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", d.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ
}

// prober probes the daemon every interval over proto until stop is
// closed, and counts the answers.
type prober struct {
	ok, failed int
	last       error
	done       chan struct{}
}

func (d *daemon) startProber(proto string, every time.Duration, stop <-chan struct{}) *prober {
	p := &prober{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if err := d.probe(proto); err != nil {
					p.failed++
					p.last = err
				} else {
					p.ok++
				}
			}
		}
	}()
	return p
}

func (p *prober) String() string {
	s := fmt.Sprintf("probes %d/%d answered", p.ok, p.ok+p.failed)
	if p.last != nil {
		s += " (last failure: " + p.last.Error() + ")"
	}
	return s
}
