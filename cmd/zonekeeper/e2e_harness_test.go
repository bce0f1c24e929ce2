package main

// The harness of the end-to-end tests (e2e_test.go): a real `serve` in a
// temp data directory on loopback, driven through the binary's client
// verbs, with helpers that check the served data by DNS queries.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
)

// cliTimeout bounds one client command and each wait for the daemon.
const cliTimeout = 20 * time.Second

const exampleOrgZone = `$TTL 3600
@       IN SOA  ns1 hostmaster 2026112101 3600 900 1209600 300
        IN NS   ns1
        IN NS   ns2
        IN MX   10 mail
ns1     IN A    127.0.0.1
ns2     IN A    127.0.0.2
mail    IN A    127.0.0.25
www     IN A    127.0.0.80
        IN AAAA ::1
`

const exampleNetZone = `$TTL 600
@       IN SOA  ns1.example.org. hostmaster.example.org. 7 3600 900 1209600 300
        IN NS   ns1.example.org.
www     IN A    127.0.0.90
`

// cliDaemon is a `zonekeeper serve` started for one test, and the binary
// that drives it.
type cliDaemon struct {
	t    *testing.T
	dir  string // the test's temp dir: binary, config, data
	bin  string
	conf string // an empty config file
	data string
	sock string // DATA/control.sock
	dns  string // the DNS listen address
	proc *peerProcess
}

// startCLIDaemon builds the binary and runs `serve` over example.org and
// example.net in DATA/zones, with the control socket at its default
// place, DATA/control.sock, and the extra flags of serve. It returns once
// both zones answer over DNS and the socket answers `status`.
func startCLIDaemon(t *testing.T, extra ...string) *cliDaemon {
	t.Helper()
	dir := t.TempDir()
	d := &cliDaemon{t: t, dir: dir, bin: buildZonekeeper(t, dir), data: filepath.Join(dir, "data")}
	d.sock = filepath.Join(d.data, "control.sock")
	d.conf = filepath.Join(dir, "empty.conf")
	if err := os.WriteFile(d.conf, []byte("# the test passes flags\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(d.data, "zones"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"example.org.zone": exampleOrgZone, "example.net.zone": exampleNetZone} {
		if err := os.WriteFile(filepath.Join(d.data, "zones", name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d.dns = net.JoinHostPort("127.0.0.1", strconv.Itoa(freeLoopbackPort(t, "127.0.0.1")))
	deadPort := freeLoopbackPort(t, "127.0.0.1") // NOTIFYs go where nothing listens
	d.proc = startPeerProcess(t, "zonekeeper", append([]string{d.bin, "serve", "--config", d.conf, "--data", d.data,
		"--listen", d.dns, "--ns-port", strconv.Itoa(deadPort)}, extra...)...)
	waitForSOA(t, d.proc, d.dns, "example.org.")
	waitForSOA(t, d.proc, d.dns, "example.net.")
	deadline := time.Now().Add(cliTimeout)
	for {
		r := d.run("status")
		if r.code == 0 {
			break
		}
		select {
		case <-d.proc.exited:
			t.Fatalf("the daemon exited: %v\n%s", d.proc.err, d.proc.Output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the control socket did not answer `status` within %v: %s", cliTimeout, r.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return d
}

// cliResult is what one client command did.
type cliResult struct {
	args           []string
	stdout, stderr string
	code           int
}

func (r cliResult) String() string {
	return fmt.Sprintf("zonekeeper %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// command returns the client command args, finding the daemon through
// $ZONEKEEPER_CONTROL and nothing else of the environment.
func (d *cliDaemon) command(args ...string) *exec.Cmd {
	cmd := exec.Command(d.bin, args...)
	cmd.Dir = d.dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, controlEnv+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, controlEnv+"="+d.sock)
	cmd.WaitDelay = cliTimeout
	return cmd
}

// run runs a client command to its end.
func (d *cliDaemon) run(args ...string) cliResult {
	d.t.Helper()
	return d.runCmd(d.command(args...), args)
}

func (d *cliDaemon) runCmd(cmd *exec.Cmd, args []string) cliResult {
	d.t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	timer := time.AfterFunc(cliTimeout, func() { cmd.Process.Kill() })
	err := cmd.Wait()
	timer.Stop()
	r := cliResult{args: args, stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		d.t.Fatalf("zonekeeper %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// ok runs a command that must succeed and returns its output.
func (d *cliDaemon) ok(args ...string) string {
	d.t.Helper()
	r := d.run(args...)
	if r.code != 0 || r.stderr != "" {
		d.t.Fatalf("%v", r)
	}
	return r.stdout
}

// json runs a command with --json that must succeed and decodes its output.
func (d *cliDaemon) json(out any, args ...string) {
	d.t.Helper()
	stdout := d.ok(append(args, "--json")...)
	if err := json.Unmarshal([]byte(stdout), out); err != nil {
		d.t.Fatalf("zonekeeper %s --json: %v\n%s", strings.Join(args, " "), err, stdout)
	}
}

// refused runs a command that must fail with exit status code and one
// line on stderr containing want, and nothing on stdout.
func (d *cliDaemon) refused(code int, want string, args ...string) {
	d.t.Helper()
	r := d.run(args...)
	msg := strings.TrimSuffix(r.stderr, "\n")
	switch {
	case r.code != code:
		d.t.Errorf("want exit status %d: %v", code, r)
	case !strings.HasPrefix(msg, "zonekeeper: ") || strings.Contains(msg, "\n") || !strings.HasSuffix(r.stderr, "\n"):
		d.t.Errorf("want one line `zonekeeper: ...` on stderr: %v", r)
	case !strings.Contains(msg, want):
		d.t.Errorf("want %q on stderr: %v", want, r)
	case r.stdout != "":
		d.t.Errorf("want nothing on stdout: %v", r)
	}
}

// query asks the daemon one question over UDP.
func (d *cliDaemon) query(name string, qtype uint16) *dns.Msg {
	d.t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	var last error
	for range 5 {
		r, _, err := c.Exchange(m, d.dns)
		if err == nil {
			return r
		}
		last = err
	}
	d.t.Fatalf("%s %s: %v", name, dns.TypeToString[qtype], last)
	return nil
}

// answers returns the data of the answer records of name/qtype, sorted.
func (d *cliDaemon) answers(name string, qtype uint16) []string {
	d.t.Helper()
	var out []string
	for _, rr := range d.query(name, qtype).Answer {
		if rr.Header().Rrtype == qtype {
			out = append(out, strings.TrimPrefix(rr.String(), rr.Header().String()))
		}
	}
	slices.Sort(out)
	return out
}

// serial returns the served SOA serial of zone, 0 when not served.
func (d *cliDaemon) serial(zone string) uint32 {
	d.t.Helper()
	r := d.query(zone, dns.TypeSOA)
	if r.Rcode == dns.RcodeSuccess && len(r.Answer) > 0 {
		if soa, ok := r.Answer[0].(*dns.SOA); ok {
			return soa.Serial
		}
	}
	return 0
}

// eventually polls cond until it holds or cliTimeout passes.
func (d *cliDaemon) eventually(what string, cond func() bool) {
	d.t.Helper()
	deadline := time.Now().Add(cliTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			d.t.Fatalf("%s: not within %v", what, cliTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// zonefile returns the bytes of a primary zone's file.
func (d *cliDaemon) zonefile(zone string) []byte {
	d.t.Helper()
	b, err := os.ReadFile(filepath.Join(d.data, "zones", strings.TrimSuffix(zone, ".")+".zone"))
	if err != nil {
		d.t.Fatal(err)
	}
	return b
}

// zone returns `zone show NAME --json`.
func (d *cliDaemon) zone(name string) api.ZoneDetail {
	d.t.Helper()
	var z api.ZoneDetail
	d.json(&z, "zone", "show", name)
	return z
}

// zones returns `zone list --json` by name.
func (d *cliDaemon) zones() map[string]api.Zone {
	d.t.Helper()
	var zs []api.Zone
	d.json(&zs, "zone", "list")
	m := make(map[string]api.Zone)
	for _, z := range zs {
		m[z.Name] = z
	}
	return m
}

func (d *cliDaemon) state() cliState {
	d.t.Helper()
	var s cliState
	var zones []api.Zone
	d.json(&zones, "zone", "list")
	for _, z := range zones {
		s.Zones = append(s.Zones, fmt.Sprint(z.Name, z.Kind, z.Serial, z.Records, z.SerialPolicy, z.Primaries, z.TSIGKey, z.Account))
	}
	z := d.zone("example.org.")
	s.Records, s.Meta = z.Records, z.Meta
	d.json(&s.Keys, "key", "list")
	d.json(&s.Autoprimaries, "autoprimary", "list")
	s.File = d.zonefile("example.org.")
	return s
}
