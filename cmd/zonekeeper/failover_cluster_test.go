package main

// The three-node cluster of the failover tests (issue 5): real zonekeeper
// processes on 127.0.0.1 (node a, the first primary), 127.0.0.2 (b) and
// 127.0.0.3 (c), each with its own data directory, a short health
// interval and NOTIFYs derived from NS records sent to a port where
// nothing listens, so that only what the cluster configuration says
// reaches the other nodes. A node can be killed with SIGKILL and started
// again on its old state.

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// failoverHealthInterval is the nodes' --health-interval: short, so that
// split-brain and peer health show within a test.
const failoverHealthInterval = time.Second

// failoverKeyName is the cluster TSIG key every node holds.
const failoverKeyName = "cluster.failover.test."

// foNode is one zonekeeper of a failover cluster.
type foNode struct {
	*zkNode
	Name string     // its peer name on the other nodes: a, b or c
	pgid int        // process group of the running serve, 0 when not running
	root *testing.T // the test that owns the node: it stops every start of it
}

// foCluster is three nodes sharing one TSIG key.
type foCluster struct {
	t       *testing.T
	key     tsigKey
	a, b, c *foNode
}

// startFailoverCluster builds the binary and starts a (serving zones from
// DATA/zones), b and c (empty), each holding the cluster key. Nothing is
// replicated yet: see peerMesh and staticReplication.
func startFailoverCluster(t *testing.T, zones map[string]string) *foCluster {
	t.Helper()
	bin := buildZonekeeper(t, t.TempDir())
	c := &foCluster{t: t, key: newTSIGKey(t, failoverKeyName, "hmac-sha256")}
	c.a = startFoNode(t, bin, "a", "127.0.0.1", zones)
	c.b = startFoNode(t, bin, "b", "127.0.0.2", nil)
	c.c = startFoNode(t, bin, "c", "127.0.0.3", nil)
	for _, n := range c.nodes() {
		n.addKey(c.key)
	}
	return c
}

// nodes returns a, b and c.
func (c *foCluster) nodes() []*foNode { return []*foNode{c.a, c.b, c.c} }

// setT points every node's helpers at t (a subtest).
func (c *foCluster) setT(t *testing.T) {
	c.t = t
	for _, n := range c.nodes() {
		n.t = t
	}
}

// startFoNode is startZKNode with a process the test can SIGKILL.
func startFoNode(t *testing.T, bin, name, ip string, zones map[string]string) *foNode {
	t.Helper()
	dir := t.TempDir()
	d := &cliDaemon{t: t, dir: dir, bin: bin, data: filepath.Join(dir, "data")}
	d.sock = filepath.Join(d.data, "control.sock")
	d.conf = filepath.Join(dir, "empty.conf")
	writeTestFile(t, d.conf, "# the test passes flags\n")
	if err := os.MkdirAll(filepath.Join(d.data, "zones"), 0o755); err != nil {
		t.Fatal(err)
	}
	origins := make([]string, 0, len(zones))
	for origin, text := range zones {
		writeTestFile(t, filepath.Join(d.data, "zones", strings.TrimSuffix(origin, ".")+".zone"), text)
		origins = append(origins, origin)
	}
	d.dns = net.JoinHostPort(ip, strconv.Itoa(freeLoopbackPort(t, ip)))
	deadPort := freeLoopbackPort(t, ip)
	n := &foNode{zkNode: &zkNode{cliDaemon: d, IP: ip}, Name: name, root: t}
	n.argv = []string{bin, "serve", "--config", d.conf, "--data", d.data, "--listen", d.dns,
		"--ns-port", strconv.Itoa(deadPort), "--health-interval", failoverHealthInterval.String()}
	n.start(origins...)
	return n
}

// start runs the serve process (again after kill, on the same data and
// flags) and waits until it answers the SOA of origins and `status`.
func (n *foNode) start(origins ...string) {
	n.t.Helper()
	p := &peerProcess{Name: "zonekeeper@" + n.IP, exited: make(chan struct{})}
	cmd := exec.Command(n.argv[0], n.argv[1:]...)
	cmd.Stdout, cmd.Stderr = &p.out, &p.out
	cmd.SysProcAttr = groupAttr()
	if err := cmd.Start(); err != nil {
		n.t.Fatalf("starting %s: %v", strings.Join(n.argv, " "), err)
	}
	pgid := cmd.Process.Pid
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	n.proc, n.pgid = p, pgid
	n.stop = func() { n.signal(n.t, p, pgid, syscall.SIGTERM) }
	t := n.root
	t.Cleanup(func() {
		n.signal(t, p, pgid, syscall.SIGTERM)
		if t.Failed() {
			t.Logf("%s (%s) output:\n%s", p.Name, strings.Join(n.argv, " "), p.Output())
		}
	})
	for _, origin := range origins {
		waitForSOA(n.t, p, n.dns, origin)
	}
	deadline := time.Now().Add(cliTimeout)
	for n.run("status").code != 0 {
		select {
		case <-p.exited:
			n.t.Fatalf("zonekeeper@%s exited: %v\n%s", n.IP, p.err, p.Output())
		default:
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("zonekeeper@%s: the control socket did not answer `status` within %v", n.IP, cliTimeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// signal sends sig to the process group of p and waits for p to end
// (SIGKILL after 10 s); it does nothing when p has ended.
func (n *foNode) signal(t testing.TB, p *peerProcess, pgid int, sig syscall.Signal) {
	select {
	case <-p.exited:
		return
	default:
	}
	if err := syscall.Kill(-pgid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		t.Logf("signalling %s: %v", p.Name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	select {
	case <-p.exited:
	case <-ctx.Done():
		t.Errorf("%s did not stop within 10s of %v; killing it", p.Name, sig)
		syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.exited
	}
}

// kill ends the node with SIGKILL, as a power loss would.
func (n *foNode) kill() {
	n.t.Helper()
	n.signal(n.t, n.proc, n.pgid, syscall.SIGKILL)
}

// foMissingVerb reports whether r failed because this binary does not
// have the verb at all (a feature not built yet), as opposed to a verb
// that exists and failed.
func foMissingVerb(r cliResult) bool {
	return r.code != 0 && (strings.Contains(r.stderr, "unknown command") || strings.Contains(r.stderr, "unknown verb"))
}

// need runs a client command that must succeed; the test is skipped
// when the binary lacks the verb, and fails when the verb failed.
func (n *foNode) need(args ...string) string {
	n.t.Helper()
	r := n.run(args...)
	if foMissingVerb(r) {
		n.t.Skipf("not implemented yet: `zonekeeper %s`: %s", strings.Join(args, " "), strings.TrimSpace(r.stderr))
	}
	if r.code != 0 {
		n.t.Fatalf("zonekeeper@%s: %v", n.IP, r)
	}
	return r.stdout
}

// peerMesh configures the cluster with `peer add` alone, a first (so its
// first NOTIFYs reach nodes that do not know it yet), then b, then c;
// each node lists the two others as peers signing with the cluster key.
// It returns when the last `peer add` returned.
func (c *foCluster) peerMesh() time.Time {
	c.t.Helper()
	for _, n := range c.nodes() {
		for _, p := range c.nodes() {
			if p != n {
				n.need("peer", "add", p.Name, p.dns, "--tsig", c.key.Name, "--role", "peer")
			}
		}
	}
	return time.Now()
}

// staticReplication is the per-zone configuration that works without
// peers: a allows the cluster key to transfer zones and NOTIFYs b and c
// explicitly; b and c are secondaries of a, signing with the key.
func (c *foCluster) staticReplication(zones ...string) {
	c.t.Helper()
	for _, z := range zones {
		c.a.ok("meta", "set", z, "TSIG-ALLOW-AXFR", c.key.Name)
		c.a.ok("meta", "set", z, "ALSO-NOTIFY", c.b.dns, c.c.dns)
		for _, n := range []*foNode{c.b, c.c} {
			n.ok("zone", "add-secondary", z, c.a.dns, "--tsig", c.key.Name)
		}
	}
}

// diag returns a function that shows every running node's events of
// zone and log tail, for failure messages.
func (c *foCluster) diag(zone string) func() string {
	return func() string {
		var b strings.Builder
		for _, n := range c.nodes() {
			b.WriteString("\n--- node " + n.Name + " (" + n.dns + ") events of " + zone + ":\n")
			select {
			case <-n.proc.exited:
				b.WriteString("(not running)\n")
			default:
				b.WriteString(n.eventsText(zone))
			}
			out := n.proc.Output()
			if len(out) > 4000 {
				out = "…" + out[len(out)-4000:]
			}
			b.WriteString("--- node " + n.Name + " log:\n" + out)
		}
		return b.String()
	}
}

// foAuthoritative asks addr for the SOA of zone and returns its serial
// when the answer is NOERROR with the AA bit and an SOA, else an error.
func foAuthoritative(addr, zone string) (uint32, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(zone), dns.TypeSOA)
	m.RecursionDesired = false
	c := &dns.Client{Net: "udp", Timeout: time.Second}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		return 0, err
	}
	if r.Rcode != dns.RcodeSuccess || !r.Authoritative || len(r.Answer) == 0 {
		return 0, errors.New("SOA " + zone + ": " + dns.RcodeToString[r.Rcode] + ", aa=" + strconv.FormatBool(r.Authoritative))
	}
	soa, ok := r.Answer[0].(*dns.SOA)
	if !ok {
		return 0, errors.New("SOA " + zone + ": answered " + r.Answer[0].String())
	}
	return soa.Serial, nil
}

// foWaitFor polls cond every 100 ms until it returns "" (done) or timeout
// passes, then fails with its last word and diag.
func foWaitFor(t *testing.T, timeout time.Duration, what string, diag func() string, cond func() string) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		why := cond()
		if why == "" {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			extra := ""
			if diag != nil {
				extra = diag()
			}
			t.Fatalf("%s: not within %v: %s%s", what, timeout, why, extra)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// zoneJSON returns `zone show NAME --json` as a generic document, so the
// test reads fields (the expire countdown) whatever their Go type.
func (n *foNode) zoneJSON(zone string) map[string]any {
	n.t.Helper()
	var m map[string]any
	n.json(&m, "zone", "show", zone)
	return m
}

// foExpireFields returns the fields of a `zone show --json` document whose
// name speaks of expiry, with their values, searching nested objects.
func foExpireFields(doc map[string]any) map[string]any {
	out := map[string]any{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			if k == "records" {
				continue
			}
			if sub, ok := v.(map[string]any); ok {
				walk(prefix+k+".", sub)
				continue
			}
			if strings.Contains(strings.ToLower(k), "expire") {
				out[prefix+k] = v
			}
		}
	}
	walk("", doc)
	return out
}

// backups lists the files of DATA/backup whose name starts with the
// zone's name (without the trailing dot).
func (n *foNode) backups(zone string) []string {
	entries, _ := os.ReadDir(filepath.Join(n.data, "backup"))
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), strings.TrimSuffix(zone, ".")+".") {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out
}

// kindOf returns the kind `zone list --json` gives zone, "" when absent.
func (n *foNode) kindOf(zone string) string {
	n.t.Helper()
	return n.zones()[zone].Kind
}

// statusJSON returns `status --json` as a generic document.
func (n *foNode) statusJSON() map[string]any {
	n.t.Helper()
	var m map[string]any
	n.json(&m, "status")
	return m
}

// foCompact renders v as one line of JSON for messages.
func foCompact(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
