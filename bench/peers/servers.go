package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// serverIP is where every server under test listens: named binds only
// the addresses of the host's interfaces, and lo carries 127.0.0.1 alone.
const serverIP = "127.0.0.1"

// serverCPU and loadCPU are the cores the server and the load generator
// are pinned to, so that the server's core is the one saturated.
const (
	serverCPU = "0"
	loadCPU   = "1"
)

// serverKind knows how to configure and start one DNS server
// implementation with one worker, serving one primary zone on loopback
// with transfers allowed from 127.0.0.0/8.
type serverKind struct {
	Name    string
	Package string // Debian package, for the version when the binary does not say
	Binary  string
	// argv writes the server's configuration into dir and returns the
	// command line that runs it in the foreground.
	argv func(s *serverSetup) ([]string, error)
	// versionArgs make Binary print its version.
	versionArgs []string
	// Zonekeeper marks a build of zonekeeper: the one under test, or a
	// baseline commit's (--baseline). Both are configured alike and
	// their query-path counters are read.
	Zonekeeper bool
	// QueryOnly: the kind runs under the query zone's load only, not
	// with the big zone (the baseline, to keep the run in its budget).
	QueryOnly bool
	// Flags are extra `serve` flags for a zonekeeper build, from what
	// its `serve --help` offers.
	Flags []string
}

// serverSetup is what a server kind needs to write its configuration.
type serverSetup struct {
	Dir      string // its own empty directory
	IP       string // where it listens; serverIP when empty
	Port     int
	Origin   string // with the trailing dot
	ZoneFile string // absolute path of the zonefile to serve
	Bin      string // the binary (resolved path)
	// DeadPort is a port nothing listens on: where zonekeeper sends the
	// NOTIFYs that follow from NS records (ns-port).
	DeadPort int
	// ZKFlags are extra `serve` flags for zonekeeper.
	ZKFlags []string
}

// peerKinds are the reference servers, in table order after zonekeeper.
var peerKinds = []serverKind{
	{Name: "NSD", Package: "nsd", Binary: "nsd", argv: nsdArgv, versionArgs: []string{"-v"}},
	{Name: "Knot", Package: "knot", Binary: "knotd", argv: knotArgv, versionArgs: []string{"--version"}},
	{Name: "BIND", Package: "bind9", Binary: "named", argv: bindArgv, versionArgs: []string{"-v"}},
	{Name: "PowerDNS", Package: "pdns-server", Binary: "pdns_server", argv: pdnsArgv, versionArgs: []string{"--version"}},
}

// zonekeeperKind is the server under test; Binary is set from --bin.
var zonekeeperKind = serverKind{Name: "zonekeeper", argv: zonekeeperArgv, versionArgs: []string{"version"}, Zonekeeper: true}

// lookBinary finds a server binary in PATH or the sbin directories, which
// are not in every PATH.
func lookBinary(name string) (string, error) {
	if path, err := exec.LookPath(name); err == nil {
		return path, nil
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("%s not found: install it (make bench-peers installs the Debian packages)", name)
}

var versionRE = regexp.MustCompile(`\d+\.\d+(\.\d+)?[^\s,()]*`)

// version returns "4.6.1" from the binary's own version output, else the
// Debian package's version, else "?".
func (k serverKind) version(bin string) string {
	out, _ := exec.Command(bin, k.versionArgs...).CombinedOutput()
	if k.Zonekeeper {
		// "zonekeeper dev", "zonekeeper v1.2.3-4-gabcdef", "zonekeeper b9b80a9".
		if v := strings.TrimPrefix(strings.TrimSpace(firstLine(string(out))), "zonekeeper "); v != "" {
			return v
		}
	}
	for _, line := range strings.Split(string(out), "\n") {
		// PowerDNS prefixes its lines with a date; the product line is
		// the one that names the server.
		if k.Name == "PowerDNS" && !strings.Contains(line, "PowerDNS Authoritative") {
			continue
		}
		if v := versionRE.FindString(line); v != "" {
			return v
		}
	}
	if k.Package != "" {
		if out, err := exec.Command("dpkg-query", "-W", "-f=${Version}", k.Package).Output(); err == nil && len(out) > 0 {
			return string(out)
		}
	}
	return "?"
}

func writeFile(path, text string) error {
	return os.WriteFile(path, []byte(text), 0o644)
}

// nsdArgv: NSD with one server process, no rate limiting (Debian's
// default answers a source 200 times a second), no privilege drop, no
// compiled database (the zonefile is read at start), no NOTIFY.
func nsdArgv(s *serverSetup) ([]string, error) {
	d := s.Dir
	conf := fmt.Sprintf(`server:
	ip-address: %s@%d
	port: %d
	do-ip4: yes
	do-ip6: no
	username: ""
	chroot: ""
	zonesdir: %q
	pidfile: %q
	database: ""
	zonelistfile: %q
	xfrdfile: %q
	xfrdir: %q
	logfile: %q
	server-count: 1
	rrl-ratelimit: 0
	verbosity: 1
remote-control:
	control-enable: no
zone:
	name: %q
	zonefile: %q
	provide-xfr: 127.0.0.0/8 NOKEY
`, serverIP, s.Port, s.Port, d, filepath.Join(d, "nsd.pid"), filepath.Join(d, "zone.list"),
		filepath.Join(d, "xfrd.state"), d, filepath.Join(d, "nsd.log"), s.Origin, s.ZoneFile)
	path := filepath.Join(d, "nsd.conf")
	if err := writeFile(path, conf); err != nil {
		return nil, err
	}
	return []string{s.Bin, "-d", "-c", path}, nil
}

// knotArgv: knotd with one UDP, one TCP and one background worker; the
// zonefile is loaded whole, never written back, and no journal is kept.
func knotArgv(s *serverSetup) ([]string, error) {
	d := s.Dir
	conf := fmt.Sprintf(`server:
    rundir: %q
    listen: %s@%d
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: notice
database:
    storage: %q
control:
    listen: %q
acl:
  - id: xfr
    address: 127.0.0.0/8
    action: transfer
template:
  - id: default
    storage: %q
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
zone:
  - domain: %s
    file: %q
    acl: [xfr]
`, d, serverIP, s.Port, d, filepath.Join(d, "knot.sock"), d, s.Origin, s.ZoneFile)
	path := filepath.Join(d, "knot.conf")
	if err := writeFile(path, conf); err != nil {
		return nil, err
	}
	return []string{s.Bin, "-c", path}, nil
}

// bindArgv: named in the foreground with one worker thread (-n 1) and
// one UDP listener (-U 1), no recursion, no NOTIFY, no control channel.
func bindArgv(s *serverSetup) ([]string, error) {
	d := s.Dir
	conf := fmt.Sprintf(`options {
	directory %q;
	pid-file %q;
	session-keyfile %q;
	managed-keys-directory %q;
	listen-on port %d { %s; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	notify no;
	allow-transfer { 127.0.0.0/8; };
	querylog no;
};
controls { };
zone %q {
	type primary;
	file %q;
};
`, d, filepath.Join(d, "named.pid"), filepath.Join(d, "session.key"), d, s.Port, serverIP, s.Origin, s.ZoneFile)
	path := filepath.Join(d, "named.conf")
	if err := writeFile(path, conf); err != nil {
		return nil, err
	}
	return []string{s.Bin, "-g", "-n", "1", "-U", "1", "-c", path}, nil
}

// pdnsArgv: pdns_server with the bind backend (a named.conf-style zone
// list), one receiver and one distributor thread, the packet cache at its
// default (on), no guardian, no daemon, no syslog.
func pdnsArgv(s *serverSetup) ([]string, error) {
	d := s.Dir
	named := filepath.Join(d, "named.conf")
	if err := writeFile(named, fmt.Sprintf("zone %q {\n\ttype master;\n\tfile %q;\n};\n", strings.TrimSuffix(s.Origin, "."), s.ZoneFile)); err != nil {
		return nil, err
	}
	conf := fmt.Sprintf(`launch=bind
bind-config=%s
bind-check-interval=0
local-address=%s
local-port=%d
daemon=no
guardian=no
disable-syslog=yes
socket-dir=%s
receiver-threads=1
distributor-threads=1
disable-axfr=no
allow-axfr-ips=127.0.0.0/8
primary=no
webserver=no
api=no
loglevel=4
`, named, serverIP, s.Port, d)
	if err := writeFile(filepath.Join(d, "pdns.conf"), conf); err != nil {
		return nil, err
	}
	return []string{s.Bin, "--config-dir=" + d}, nil
}

// zonekeeperArgv: `zonekeeper serve` with its data directory in dir, the
// zonefile copied into DATA/zones (zonekeeper rewrites it on edits),
// transfers allowed from loopback and NOTIFY sent to a dead port.
func zonekeeperArgv(s *serverSetup) ([]string, error) {
	d := s.Dir
	zones := filepath.Join(d, "zones")
	if err := os.MkdirAll(zones, 0o755); err != nil {
		return nil, err
	}
	if s.ZoneFile != "" {
		dst := filepath.Join(zones, strings.TrimSuffix(s.Origin, ".")+".zone")
		if err := copyFile(s.ZoneFile, dst); err != nil {
			return nil, err
		}
	}
	conf := filepath.Join(d, "empty.conf")
	if err := writeFile(conf, "# the benchmark passes flags\n"); err != nil {
		return nil, err
	}
	ip := s.IP
	if ip == "" {
		ip = serverIP
	}
	argv := []string{s.Bin, "serve", "--config", conf, "--data", d,
		"--listen", fmt.Sprintf("%s:%d", ip, s.Port), "--control", filepath.Join(d, "ctl.sock"),
		"--allow-axfr", "127.0.0.0/8", "--ns-port", strconv.Itoa(s.DeadPort), "--log-level", "warn"}
	return append(argv, s.ZKFlags...), nil
}

// copyFile copies src to dst (a fresh file).
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := out.ReadFrom(in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// process is a server started in a process group of its own (NSD forks
// a server and an xfrd process, which must be measured and stopped with
// it), pinned to one CPU with taskset.
type process struct {
	Name    string
	Pid     int
	Started time.Time
	log     string
	cmd     *exec.Cmd
	exited  chan struct{} // closed once the leader has been waited for
	err     error         // Wait's result, set before exited is closed
}

// running tracks every started process so that an interrupted run can
// stop them all.
var running struct {
	sync.Mutex
	procs map[*process]bool
}

// startProcess runs argv pinned to cpu, its output in logPath.
func startProcess(name, cpu, logPath string, argv []string) (*process, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	full := append([]string{"taskset", "-c", cpu}, argv...)
	cmd := exec.Command(full[0], full[1:]...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := &process{Name: name, log: logPath, cmd: cmd, exited: make(chan struct{})}
	running.Lock()
	defer running.Unlock()
	p.Started = time.Now()
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("starting %s: %v", name, err)
	}
	// taskset execs the server: the pid is the server's, and the leader
	// of its group.
	p.Pid = cmd.Process.Pid
	if running.procs == nil {
		running.procs = map[*process]bool{}
	}
	running.procs[p] = true
	go func() {
		p.err = cmd.Wait()
		log.Close()
		close(p.exited)
	}()
	return p, nil
}

// Exited reports whether the process has ended, with its log's tail.
func (p *process) Exited() error {
	select {
	case <-p.exited:
		return fmt.Errorf("%s exited (%v):\n%s", p.Name, p.err, p.LogTail(2000))
	default:
		return nil
	}
}

// LogTail returns the last n bytes of the process's output.
func (p *process) LogTail(n int) string {
	b, _ := os.ReadFile(p.log)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// Stop ends the process group: SIGTERM, then SIGKILL after a grace
// period, and SIGKILL for children left behind by the leader.
func (p *process) Stop() {
	running.Lock()
	delete(running.procs, p)
	running.Unlock()
	syscall.Kill(-p.Pid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		syscall.Kill(-p.Pid, syscall.SIGKILL)
		<-p.exited
	}
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		fmt.Fprintf(os.Stderr, "killing %s's process group %d: %v\n", p.Name, p.Pid, err)
	}
}

// stopAll stops every process still running (on exit or interrupt).
func stopAll() {
	running.Lock()
	var ps []*process
	for p := range running.procs {
		ps = append(ps, p)
	}
	running.Unlock()
	for _, p := range ps {
		p.Stop()
	}
}
