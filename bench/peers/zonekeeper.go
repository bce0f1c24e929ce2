package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"zonekeeper/bench/internal/ports"

	"zonekeeper/bench/peers/load"
)

// serialTimeout bounds every wait for a serial to be served.
const serialTimeout = time.Minute

// editTimeout bounds `record add` on the big zone: the daemon rewrites
// the whole zonefile.
const editTimeout = 3 * time.Minute

// zonekeeperRound starts zonekeeper on a fresh copy of the big zone and
// measures an IXFR of a one-record change, the reload of an edited
// zonefile under load, and a restart on the same data directory. A step
// that fails is reported in zr.Errs and leaves its fields unmeasured
// (negative).
func (b *bench) zonekeeperRound(round int) (*zkRun, error) {
	dir := filepath.Join(b.work, fmt.Sprintf("zonekeeper-round-%d", round+1))
	defer b.cleanup(dir)
	p, addr, _, err := b.start(zonekeeperKind, dir, b.big)
	if err != nil {
		return nil, err
	}
	defer p.Stop()
	zr := newZKRun()
	fail := func(what string, err error) {
		fmt.Fprintf(os.Stderr, "  %s: %v\n", what, err)
		zr.Errs = append(zr.Errs, what+": "+firstLine(err.Error()))
	}
	if err := b.editAndIXFR(addr, dir, zr); err != nil {
		fail("IXFR of a one-record change", err)
	}
	if err := b.reloadUnderLoad(p, addr, dir, zr); err != nil {
		fail("reload under load", err)
	}
	// A second start on the same data directory: from the compiled
	// cache once zonekeeper keeps one; measured either way.
	p.Stop()
	zr.CacheFiles = cacheFiles(dir)
	if err := b.restart(addr, dir, zr); err != nil {
		fail("restart", err)
	}
	return zr, nil
}

// cacheFiles lists the files under a stopped daemon's data directory
// whose names say cache or compiled: how the benchmark notices a
// compiled cache that `serve --help` does not mention.
func cacheFiles(dir string) []string {
	var found []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		name := strings.ToLower(d.Name())
		if strings.Contains(name, "cache") || strings.Contains(name, "compiled") {
			rel, _ := filepath.Rel(dir, path)
			found = append(found, rel)
			if d.IsDir() {
				return fs.SkipDir
			}
		}
		return nil
	})
	return found
}

// editAndIXFR adds one record with `record add`, waits until its serial
// is served, and transfers the change with IXFR from the serial before.
func (b *bench) editAndIXFR(addr netip.AddrPort, dir string, zr *zkRun) error {
	sock := filepath.Join(dir, "ctl.sock")
	serial0, err := querySerial(addr.String(), benchOrigin)
	if err != nil {
		return err
	}
	start := time.Now()
	out, err := zkCLITimeout(editTimeout, b.bin, sock, "record", "add", benchOrigin, "ixfr-probe", "A", "127.0.0.78", "--json")
	if err != nil {
		return err
	}
	serial1, err := newSerial(out)
	if err != nil {
		return err
	}
	if err := waitSerial(addr.String(), benchOrigin, serial1, serialTimeout); err != nil {
		return err
	}
	zr.EditToServed = time.Since(start)
	x, err := ixfr(addr.String(), benchOrigin, serial0, 10*time.Second)
	if err != nil {
		return err
	}
	zr.IXFRWall, zr.IXFRBytes = x.Wall, x.Bytes
	fmt.Fprintf(os.Stderr, "  record add → served %v; IXFR from serial %d: %d records, %d bytes, %v\n",
		zr.EditToServed.Round(time.Millisecond), serial0, x.Records, x.Bytes, x.Wall.Round(time.Microsecond))
	return nil
}

// restart starts zonekeeper again on dir and times it to serving.
func (b *bench) restart(addr netip.AddrPort, dir string, zr *zkRun) error {
	dead, err := ports.Free(serverIP)
	if err != nil {
		return err
	}
	argv, err := zonekeeperArgv(&serverSetup{Dir: dir, Port: int(addr.Port()), Origin: benchOrigin,
		Bin: b.bin, DeadPort: dead, ZKFlags: b.zkFlags})
	if err != nil {
		return err
	}
	p, err := startProcess("zonekeeper (restart)", b.cpu, filepath.Join(dir, "restart.log"), argv)
	if err != nil {
		return err
	}
	defer p.Stop()
	if zr.Restart, err = waitServing(p, addr.String(), b.big.Probe, startTimeout); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "  restart on the same data → serving %v\n", zr.Restart.Round(time.Millisecond))
	return nil
}

// reloadUnderLoad renames an edited copy of the big zonefile over the
// served one while the load generator runs, and records how long until
// the new serial is served and how many queries failed meanwhile.
func (b *bench) reloadUnderLoad(p *process, addr netip.AddrPort, dir string, zr *zkRun) error {
	zones := filepath.Join(dir, "zones")
	// A dot file without the .zone suffix: the watcher ignores it until
	// the rename gives it the zone's name.
	tmp := filepath.Join(zones, ".bench-edited.tmp")
	if err := copyFile(b.edited, tmp); err != nil {
		return err
	}
	// The load runs in back-to-back one-second runs until a second after
	// the new serial is served, however long the reload takes (a load
	// cut short would count its queries in flight as lost).
	const lead, chunk = 500 * time.Millisecond, time.Second
	// The big zone's own query set (the same mix, reloadQueries long):
	// the queries ask the zone being reloaded.
	cfg := b.loadConfig(addr, b.big.Queries, chunk, 0)
	stop := make(chan struct{})
	type outcome struct {
		r      load.Result
		chunks int
		err    error
	}
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		for {
			r, err := load.Run(context.Background(), cfg)
			o.chunks++
			o.r.Sent += r.Sent
			o.r.Lost += r.Lost
			o.r.Mismatches += r.Mismatches
			o.r.SendErrors += r.SendErrors
			o.r.Answered += r.Answered
			o.r.Examples = append(o.r.Examples, r.Examples...)
			if err != nil {
				o.err = err
				break
			}
			select {
			case <-stop:
				done <- o
				return
			default:
			}
		}
		done <- o
	}()
	drops := udpRcvbufErrors()
	time.Sleep(lead)
	renamed := time.Now()
	if err := os.Rename(tmp, filepath.Join(zones, strings.TrimSuffix(benchOrigin, ".")+".zone")); err != nil {
		close(stop)
		<-done
		return err
	}
	werr := waitSerial(addr.String(), benchOrigin, 1000, startTimeout)
	took := time.Since(renamed)
	time.Sleep(chunk)
	close(stop)
	o := <-done
	zr.ReloadDrops = udpRcvbufErrors() - drops
	if werr != nil {
		return fmt.Errorf("reload: %v", werr)
	}
	if o.err != nil {
		return fmt.Errorf("load during the reload: %v", o.err)
	}
	zr.ReloadTime = took
	zr.ReloadFailed = int64(o.r.Lost + o.r.Mismatches + o.r.SendErrors)
	zr.ReloadSent = int64(o.r.Sent)
	fmt.Fprintf(os.Stderr, "  reload under load: new serial served after %v; %d one-second loads: sent %d answered %d lost %d wrong %d send errors %d; socket drops %d\n",
		zr.ReloadTime.Round(time.Millisecond), o.chunks, o.r.Sent, o.r.Answered, o.r.Lost, o.r.Mismatches, o.r.SendErrors, zr.ReloadDrops)
	for _, e := range o.r.Examples[:min(5, len(o.r.Examples))] {
		fmt.Fprintf(os.Stderr, "  mismatch: %s\n", e)
	}
	return p.Exited()
}

// zkCLI runs a zonekeeper client verb against the daemon at sock.
func zkCLI(bin, sock string, args ...string) (string, error) {
	return zkCLITimeout(30*time.Second, bin, sock, args...)
}

// zkCLITimeout is zkCLI with its own time limit.
func zkCLITimeout(timeout time.Duration, bin, sock string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--control", sock}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stderr.String(), fmt.Errorf("zonekeeper %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// newSerial reads new_serial from `record add --json`.
func newSerial(out string) (uint32, error) {
	var res struct {
		NewSerial uint32 `json:"new_serial"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.NewSerial == 0 {
		return 0, fmt.Errorf("record add --json: no new_serial (%v): %s", err, out)
	}
	return res.NewSerial, nil
}

// waitSerial polls addr every millisecond until it answers zone's SOA at
// serial or later (RFC 1982).
func waitSerial(addr, zone string, serial uint32, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		s, err := querySerial(addr, zone)
		if err == nil && int32(s-serial) >= 0 {
			return nil
		}
		if err != nil {
			last = err.Error()
		} else {
			last = "serial " + strconv.FormatUint(uint64(s), 10)
		}
		time.Sleep(time.Millisecond)
	}
	return fmt.Errorf("%s at %s: serial %d not served within %v (last: %s)", zone, addr, serial, timeout, last)
}

// zkCounters reads the query-path counters from `status --json`: the
// numbers under "queries" (fast, full, special), nil when absent.
func zkCounters(bin, sock string) map[string]int64 {
	out, err := zkCLI(bin, sock, "status", "--json")
	if err != nil {
		return nil
	}
	var st map[string]json.RawMessage
	if json.Unmarshal([]byte(out), &st) != nil {
		return nil
	}
	var q map[string]any
	if json.Unmarshal(st["queries"], &q) != nil || len(q) == 0 {
		return nil
	}
	c := map[string]int64{}
	for k, v := range q {
		if n, ok := v.(float64); ok {
			c[k] = int64(n)
		}
	}
	if len(c) == 0 {
		return nil
	}
	return c
}

// counterDelta is after − before per counter; nil when either is.
func counterDelta(before, after map[string]int64) map[string]int64 {
	if before == nil || after == nil {
		return nil
	}
	d := map[string]int64{}
	for k, v := range after {
		d[k] = v - before[k]
	}
	return d
}

// propNames gives the propagation zone about 10 000 records.
const propNames = 4440

// propagation starts a primary on 127.0.0.1 and its secondary on
// 127.0.0.2, both zonekeeper, replicating a 10 000-record zone as peers
// with a TSIG key, and returns for each of b.o.Edits edits the time from
// the start of `record add` on the primary until the secondary answers
// the new serial.
func (b *bench) propagation() ([]time.Duration, int, error) {
	spec := zoneSpec{Origin: propOrigin, Names: propNames, Serial: 1}
	port, err := ports.Free("127.0.0.1", "127.0.0.2")
	if err != nil {
		return nil, 0, err
	}
	dead, err := ports.Free("127.0.0.1", "127.0.0.2")
	if err != nil {
		return nil, 0, err
	}
	base := filepath.Join(b.work, "propagation")
	zf := filepath.Join(base, "prop.test.zone")
	if err := os.MkdirAll(base, 0o755); err != nil {
		return nil, 0, err
	}
	if err := writeZone(zf, spec); err != nil {
		return nil, 0, err
	}
	type node struct {
		name, ip, addr, sock string
	}
	nodes := []*node{{name: "primary", ip: "127.0.0.1"}, {name: "secondary", ip: "127.0.0.2"}}
	for i, n := range nodes {
		dir := filepath.Join(base, n.name)
		n.addr = netip.AddrPortFrom(netip.MustParseAddr(n.ip), uint16(port)).String()
		n.sock = filepath.Join(dir, "ctl.sock")
		s := &serverSetup{Dir: dir, IP: n.ip, Port: port, Origin: propOrigin, Bin: b.bin, DeadPort: dead, ZKFlags: b.zkFlags}
		if i == 0 {
			s.ZoneFile = zf
		}
		argv, err := zonekeeperArgv(s)
		if err != nil {
			return nil, 0, err
		}
		// Both nodes float over every CPU: nothing else runs now.
		p, err := startProcess("zonekeeper "+n.name, allCPUs(), filepath.Join(dir, "server.log"), argv)
		if err != nil {
			return nil, 0, err
		}
		defer p.Stop()
		if err := waitControl(b.bin, n.sock, p); err != nil {
			return nil, 0, err
		}
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	const key = "bench-peers.key."
	for _, n := range nodes {
		if _, err := zkCLI(b.bin, n.sock, "key", "add", key, "--algorithm", "hmac-sha256", "--secret", base64.StdEncoding.EncodeToString(secret)); err != nil {
			return nil, 0, err
		}
	}
	for _, n := range nodes {
		for _, o := range nodes {
			if o != n {
				if _, err := zkCLI(b.bin, n.sock, "peer", "add", o.name, o.addr, "--tsig", key, "--role", "peer"); err != nil {
					return nil, 0, err
				}
			}
		}
	}
	primary, secondary := nodes[0], nodes[1]
	if err := waitSerial(secondary.addr, propOrigin, 1, serialTimeout); err != nil {
		return nil, 0, fmt.Errorf("the secondary never served the zone: %v", err)
	}
	var lat []time.Duration
	for i := range b.o.Edits {
		start := time.Now()
		out, err := zkCLI(b.bin, primary.sock, "record", "add", propOrigin, "e"+strconv.Itoa(i), "A", "127.0.0.99", "--json")
		if err != nil {
			return lat, spec.records(), err
		}
		serial, err := newSerial(out)
		if err != nil {
			return lat, spec.records(), err
		}
		if err := waitSerial(secondary.addr, propOrigin, serial, serialTimeout); err != nil {
			return lat, spec.records(), err
		}
		lat = append(lat, time.Since(start))
	}
	return lat, spec.records(), nil
}

// waitControl waits until the daemon's control socket answers status.
func waitControl(bin, sock string, p *process) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := zkCLI(bin, sock, "status"); err == nil {
			return nil
		}
		if err := p.Exited(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return errors.New(p.Name + ": no control socket within 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
