// Command failover measures zonekeeper's failover on loopback (issue 5):
// it starts three real zonekeeper daemons on 127.0.0.1 (a), 127.0.0.2 (b)
// and 127.0.0.3 (c) in a temporary directory, makes a the primary of one
// zone and b and c its secondaries (with `peer add`, or with
// add-secondary and ALSO-NOTIFY when the binary has no `peer` verb), and
// prints:
//
//   - edit-to-all-secondaries: from the start of `record add` on a until
//     both b and c answer the new serial, p50/p95/max over --edits edits;
//   - promote-to-serving: a killed with SIGKILL, from the start of
//     `zone promote` on b until b answers the zone as a primary;
//   - edit-to-c after the promotion: `record add` on b until c answers
//     the new serial, p50/p95/max over --edits edits.
//
// Run by `make bench-failover` (and `make bench`):
//
//	go run ./bench/failover --bin bin/zonekeeper
package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"zonekeeper/bench/internal/ports"

	"github.com/miekg/dns"
)

// benchZone is the zone replicated; every NS name has a loopback address.
const benchZone = "failover.bench."

const zoneText = `$TTL 300
@    IN SOA ns1 hostmaster 1 3600 900 1209600 300
     IN NS  ns1
     IN NS  ns2
     IN NS  ns3
ns1  IN A   127.0.0.1
ns2  IN A   127.0.0.2
ns3  IN A   127.0.0.3
www  IN A   127.0.0.80
`

const keyName = "cluster.bench."

// waitTimeout bounds every wait: a daemon starting, a serial arriving.
const waitTimeout = 20 * time.Second

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "failover bench: "+err.Error())
		os.Exit(1)
	}
}

// node is one zonekeeper daemon of the benchmark.
type node struct {
	name, ip, dns, data string
	bin                 string
	cmd                 *exec.Cmd
	exited              chan struct{}
}

func run() error {
	bin := flag.String("bin", "bin/zonekeeper", "the zonekeeper binary")
	edits := flag.Int("edits", 100, "edits measured on each side of the failover")
	flag.Parse()
	if _, err := os.Stat(*bin); err != nil {
		return fmt.Errorf("%v: build it first (make build)", err)
	}
	dir, err := os.MkdirTemp("", "zonekeeper-failover-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	conf := filepath.Join(dir, "empty.conf")
	if err := os.WriteFile(conf, []byte("# the benchmark passes flags\n"), 0o644); err != nil {
		return err
	}
	port, err := ports.Free("127.0.0.1", "127.0.0.2", "127.0.0.3")
	if err != nil {
		return err
	}
	deadPort, err := ports.Free("127.0.0.1", "127.0.0.2", "127.0.0.3")
	if err != nil {
		return err
	}
	var (
		mu    sync.Mutex
		nodes []*node
	)
	stopAll := func() {
		mu.Lock()
		defer mu.Unlock()
		for _, n := range nodes {
			n.signal(syscall.SIGTERM)
		}
	}
	defer stopAll()
	// Interrupted, the daemons go too; a closed stdout (| head) makes
	// writes fail instead of killing the benchmark before it cleans up.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGPIPE)
	go func() {
		for sig := range sigs {
			if sig != syscall.SIGPIPE {
				stopAll()
				os.RemoveAll(dir)
				os.Exit(1)
			}
		}
	}()
	for i, name := range []string{"a", "b", "c"} {
		ip := "127.0.0." + strconv.Itoa(i+1)
		n := &node{name: name, ip: ip, dns: net.JoinHostPort(ip, strconv.Itoa(port)),
			data: filepath.Join(dir, name), bin: *bin}
		if err := os.MkdirAll(filepath.Join(n.data, "zones"), 0o755); err != nil {
			return err
		}
		if name == "a" {
			if err := os.WriteFile(filepath.Join(n.data, "zones", strings.TrimSuffix(benchZone, ".")+".zone"), []byte(zoneText), 0o644); err != nil {
				return err
			}
		}
		mu.Lock()
		err := n.launch(conf, deadPort)
		if err == nil {
			nodes = append(nodes, n)
		}
		mu.Unlock()
		if err != nil {
			return err
		}
		if err := n.waitReady(); err != nil {
			return err
		}
	}
	a, b, c := nodes[0], nodes[1], nodes[2]

	secret := make([]byte, 32)
	rand.Read(secret)
	for _, n := range nodes {
		if _, err := n.cli("key", "add", keyName, "--algorithm", "hmac-sha256", "--secret", base64.StdEncoding.EncodeToString(secret)); err != nil {
			return err
		}
	}
	how, err := configure(nodes)
	if err != nil {
		return err
	}
	configured := time.Now()
	for _, n := range []*node{b, c} {
		if _, err := waitSerial(n.dns, 1); err != nil {
			return fmt.Errorf("node %s: %v", n.name, err)
		}
	}
	fmt.Printf("zonekeeper failover benchmark: 3 nodes on 127.0.0.1/.2/.3 port %d, %s\n", port, how)
	fmt.Printf("last configuration command → b and c serve the zone: %v\n", time.Since(configured).Round(100*time.Microsecond))

	lat, err := measureEdits(a, []*node{b, c}, *edits)
	if err != nil {
		return err
	}
	report(fmt.Sprintf("edit on a → served by b and c (%d edits)", *edits), lat)

	a.signal(syscall.SIGKILL)
	start := time.Now()
	if out, err := b.cli("zone", "promote", benchZone); err != nil {
		if strings.Contains(out, "unknown verb") {
			fmt.Println("promote-to-serving: not measured: this zonekeeper has no `zone promote`")
			return nil
		}
		return err
	}
	returned := time.Since(start)
	if err := waitPrimary(b); err != nil {
		return err
	}
	fmt.Printf("promote on b (a killed) → b serving as primary: %v (the command returned after %v)\n",
		time.Since(start).Round(100*time.Microsecond), returned.Round(100*time.Microsecond))

	lat, err = measureEdits(b, []*node{c}, *edits)
	if err != nil {
		return err
	}
	report(fmt.Sprintf("edit on b after promotion → served by c (%d edits)", *edits), lat)
	return nil
}

// configure sets up replication a → b, c: with peers when the binary has
// them, else per zone. It says which.
func configure(nodes []*node) (string, error) {
	a, b, c := nodes[0], nodes[1], nodes[2]
	if out, err := a.cli("peer", "list"); err == nil {
		for _, n := range nodes {
			for _, p := range nodes {
				if p == n {
					continue
				}
				if _, err := n.cli("peer", "add", p.name, p.dns, "--tsig", keyName, "--role", "peer"); err != nil {
					return "", err
				}
			}
		}
		return "configured with peer add", nil
	} else if !strings.Contains(out, "unknown command") {
		return "", err
	}
	if _, err := a.cli("meta", "set", benchZone, "TSIG-ALLOW-AXFR", keyName); err != nil {
		return "", err
	}
	if _, err := a.cli("meta", "set", benchZone, "ALSO-NOTIFY", b.dns, c.dns); err != nil {
		return "", err
	}
	for _, n := range []*node{b, c} {
		if _, err := n.cli("zone", "add-secondary", benchZone, a.dns, "--tsig", keyName); err != nil {
			return "", err
		}
	}
	return "configured with add-secondary and ALSO-NOTIFY (no `peer` verb in this binary)", nil
}

// measureEdits adds count records on primary, one at a time, and returns
// for each the time from the start of `record add` until every one of
// secondaries answers the new serial.
func measureEdits(primary *node, secondaries []*node, count int) ([]time.Duration, error) {
	var lat []time.Duration
	for i := range count {
		start := time.Now()
		out, err := primary.cli("record", "add", benchZone, fmt.Sprintf("e%d-%s", i, primary.name), "A", "127.0.0.99", "--json")
		if err != nil {
			return nil, err
		}
		var res struct {
			NewSerial uint32 `json:"new_serial"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			return nil, fmt.Errorf("record add --json: %v: %s", err, out)
		}
		for _, s := range secondaries {
			if _, err := waitSerial(s.dns, res.NewSerial); err != nil {
				return nil, fmt.Errorf("node %s: %v", s.name, err)
			}
		}
		lat = append(lat, time.Since(start))
	}
	return lat, nil
}

// report prints p50, p95 and max of lat.
func report(what string, lat []time.Duration) {
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		i := int(p*float64(len(lat))+0.5) - 1
		return lat[max(0, min(i, len(lat)-1))].Round(100 * time.Microsecond)
	}
	fmt.Printf("%s: p50 %v, p95 %v, max %v\n", what, pct(0.50), pct(0.95), lat[len(lat)-1].Round(100*time.Microsecond))
}

// launch starts `zonekeeper serve` for n.
func (n *node) launch(conf string, nsPort int) error {
	n.cmd = exec.Command(n.bin, "serve", "--config", conf, "--data", n.data, "--listen", n.dns,
		"--ns-port", strconv.Itoa(nsPort), "--health-interval", "1s", "--log-level", "warn")
	log, err := os.Create(filepath.Join(n.data, "zonekeeper.log"))
	if err != nil {
		return err
	}
	n.cmd.Stdout, n.cmd.Stderr = log, log
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := n.cmd.Start(); err != nil {
		return err
	}
	n.exited = make(chan struct{})
	go func() {
		n.cmd.Wait()
		log.Close()
		close(n.exited)
	}()
	return nil
}

// waitReady waits until n's control socket answers `status`.
func (n *node) waitReady() error {
	deadline := time.Now().Add(waitTimeout)
	for {
		if _, err := n.cli("status"); err == nil {
			return nil
		}
		select {
		case <-n.exited:
			b, _ := os.ReadFile(filepath.Join(n.data, "zonekeeper.log"))
			return fmt.Errorf("node %s exited:\n%s", n.name, b)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("node %s: no control socket within %v", n.name, waitTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// signal sends sig to n's process group and waits for it to end.
func (n *node) signal(sig syscall.Signal) {
	select {
	case <-n.exited:
		return
	default:
	}
	syscall.Kill(-n.cmd.Process.Pid, sig)
	select {
	case <-n.exited:
	case <-time.After(10 * time.Second):
		syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
		<-n.exited
	}
}

// cli runs a client verb against n; on failure the error carries stderr,
// and the output returned is stderr.
func (n *node) cli(args ...string) (string, error) {
	cmd := exec.Command(n.bin, append([]string{"--data", n.data}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stderr.String(), fmt.Errorf("node %s: zonekeeper %s: %v: %s", n.name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// waitSerial polls addr (every millisecond) until it answers the SOA of
// the zone at serial or later (RFC 1982), authoritatively.
func waitSerial(addr string, serial uint32) (time.Duration, error) {
	start := time.Now()
	c := &dns.Client{Net: "udp", Timeout: 200 * time.Millisecond}
	m := new(dns.Msg)
	m.SetQuestion(benchZone, dns.TypeSOA)
	m.RecursionDesired = false
	var last string
	for time.Since(start) < waitTimeout {
		r, _, err := c.Exchange(m, addr)
		switch {
		case err != nil:
			last = err.Error()
		case r.Rcode != dns.RcodeSuccess || !r.Authoritative || len(r.Answer) == 0:
			last = dns.RcodeToString[r.Rcode]
		default:
			if soa, ok := r.Answer[0].(*dns.SOA); ok && int32(soa.Serial-serial) >= 0 {
				return time.Since(start), nil
			}
			last = r.Answer[0].String()
		}
		time.Sleep(time.Millisecond)
	}
	return 0, fmt.Errorf("%s at %s: serial %d not served within %v (last: %s)", benchZone, addr, serial, waitTimeout, last)
}

// waitPrimary waits until n lists the zone as a primary and answers it.
func waitPrimary(n *node) error {
	deadline := time.Now().Add(waitTimeout)
	for time.Now().Before(deadline) {
		out, err := n.cli("zone", "show", benchZone, "--json")
		var z struct {
			Kind string `json:"kind"`
		}
		if err == nil && json.Unmarshal([]byte(out), &z) == nil && z.Kind == "primary" {
			_, err := waitSerial(n.dns, 1)
			return err
		}
		time.Sleep(time.Millisecond)
	}
	return errors.New("node " + n.name + ": the zone is not primary within " + waitTimeout.String())
}
