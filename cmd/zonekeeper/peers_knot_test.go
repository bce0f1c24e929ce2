package main

// Knot DNS as a peer of the replication tests: knotd started on loopback
// with its own configuration, database and control socket under a temp
// dir, as a primary (zonefile edits + knotc zone-reload, IXFR from the
// differences, NOTIFY only to listed remotes) or a secondary, with TSIG
// (docs/architecture.md, "Tests and peers"). The syntax is Knot 3.2's.

import (
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// knotZone is a zone of a test's Knot. A primary zone has File, which the
// test edits before calling reload; a secondary has Primaries, and lets
// 127.0.0.1 (the test) transfer it unsigned, to compare copies.
type knotZone struct {
	Origin string // with the trailing dot

	File   string   // primary: the zonefile
	Notify []string // primary: NOTIFY targets, "ip:port"; NS records are not notified

	Primaries []string // secondary: where to transfer from, "ip:port", in order

	// Key is the TSIG key that a primary zone requires of transfers and
	// signs its NOTIFYs with, and that a secondary zone signs its
	// requests with; "" for none.
	Key string

	// Catalog makes a primary zone a member of that generated catalog
	// (catalog-role: member); Generate makes the zone a catalog Knot
	// generates from its members (catalog-role: generate, no File).
	Catalog  string
	Generate bool
}

// knotOptions configures a test's Knot.
type knotOptions struct {
	IP    string // its 127.0.0.x: it listens there and sends from there (via)
	Port  int    // 0: a free one
	Keys  []tsigKey
	Zones []knotZone
}

// knotServer is a running knotd.
type knotServer struct {
	t    testing.TB
	Addr string // ip:port of its DNS service
	dir  string
	conf string
	proc *peerProcess
}

// startKnot runs knotd with opts until the end of the test. It returns
// once the server has started and answers the SOA of each primary zone.
func startKnot(t testing.TB, opts knotOptions) *knotServer {
	t.Helper()
	knotd := peerBinary(t, "knotd", "knot")
	k := &knotServer{t: t, dir: t.TempDir()}
	port := opts.Port
	if port == 0 {
		port = freeLoopbackPort(t, opts.IP)
	}
	k.Addr = net.JoinHostPort(opts.IP, strconv.Itoa(port))

	var c strings.Builder
	// No user: knotd keeps the test's user, which owns the temp dir.
	fmt.Fprintf(&c, `server:
    rundir: %q
    listen: %s@%d
log:
  - target: stderr
    any: info
database:
    storage: %q
control:
    listen: %q
template:
  - id: default
    storage: %q
`, k.dir, opts.IP, port, k.dir, filepath.Join(k.dir, "knot.sock"), k.dir)
	if len(opts.Keys) > 0 {
		c.WriteString("key:\n")
		for _, key := range opts.Keys {
			fmt.Fprintf(&c, "  - id: %s\n    algorithm: %s\n    secret: %s\n", key.Name, key.Algorithm, key.Secret)
		}
	}

	// A remote per (address, key), sending from our own address.
	var remotes, acls, zones strings.Builder
	remoteIDs := map[string]string{}
	remote := func(addr, key string) string {
		if id, ok := remoteIDs[addr+" "+key]; ok {
			return id
		}
		host, p, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatalf("remote %q: %v", addr, err)
		}
		id := fmt.Sprintf("r%d", len(remoteIDs))
		remoteIDs[addr+" "+key] = id
		fmt.Fprintf(&remotes, "  - id: %s\n    address: %s@%s\n    via: %s\n", id, host, p, opts.IP)
		if key != "" {
			fmt.Fprintf(&remotes, "    key: %s\n", key)
		}
		return id
	}
	acl := func(id, addr, key, action string) string {
		fmt.Fprintf(&acls, "  - id: %s\n    address: %s\n    action: %s\n", id, addr, action)
		if key != "" {
			fmt.Fprintf(&acls, "    key: %s\n", key)
		}
		return id
	}
	for i, z := range opts.Zones {
		fmt.Fprintf(&zones, "  - domain: %s\n", z.Origin)
		var ids []string
		if len(z.Primaries) > 0 {
			fmt.Fprintf(&zones, "    file: %q\n", filepath.Join(k.dir, strings.TrimSuffix(z.Origin, ".")+".zone"))
			for _, p := range z.Primaries {
				ids = append(ids, remote(p, z.Key))
			}
			fmt.Fprintf(&zones, "    master: [%s]\n", strings.Join(ids, ", "))
			// NOTIFY from the primaries' addresses, signed or not.
			var hosts []string
			for _, p := range z.Primaries {
				host, _, _ := net.SplitHostPort(p)
				hosts = append(hosts, host)
			}
			addrs := "[" + strings.Join(hosts, ", ") + "]"
			zacls := []string{acl(fmt.Sprintf("z%d_notify", i), addrs, "", "notify")}
			if z.Key != "" {
				zacls = append(zacls, acl(fmt.Sprintf("z%d_notify_signed", i), addrs, z.Key, "notify"))
			}
			// The test itself may transfer the copy, to compare it.
			zacls = append(zacls, acl(fmt.Sprintf("z%d_test_transfer", i), "127.0.0.1", "", "transfer"))
			fmt.Fprintf(&zones, "    acl: [%s]\n", strings.Join(zacls, ", "))
			continue
		}
		switch {
		case z.Generate:
			zones.WriteString("    catalog-role: generate\n")
		case z.Catalog != "":
			fmt.Fprintf(&zones, "    catalog-role: member\n    catalog-zone: %s\n", z.Catalog)
		}
		if !z.Generate {
			fmt.Fprintf(&zones, "    file: %q\n    zonefile-load: difference\n    journal-content: changes\n", z.File)
		}
		for _, n := range z.Notify {
			ids = append(ids, remote(n, z.Key))
		}
		if len(ids) > 0 {
			fmt.Fprintf(&zones, "    notify: [%s]\n", strings.Join(ids, ", "))
		}
		fmt.Fprintf(&zones, "    acl: [%s]\n", acl(fmt.Sprintf("z%d_transfer", i), "127.0.0.0/8", z.Key, "transfer"))
	}
	if remotes.Len() > 0 {
		c.WriteString("remote:\n" + remotes.String())
	}
	if acls.Len() > 0 {
		c.WriteString("acl:\n" + acls.String())
	}
	if zones.Len() > 0 {
		c.WriteString("zone:\n" + zones.String())
	}
	k.conf = filepath.Join(k.dir, "knot.conf")
	writeTestFile(t, k.conf, c.String())
	if out, err := exec.Command(peerBinary(t, "knotc", "knot"), "-c", k.conf, "conf-check").CombinedOutput(); err != nil {
		t.Fatalf("knotc -c %s conf-check: %v\n%s\nconfig:\n%s", k.conf, err, out, c.String())
	}

	k.proc = startPeerProcess(t, "knotd", knotd, "-c", k.conf)
	waitPeerLog(t, k.proc, 0, regexp.MustCompile(`server started`), peerStartTimeout)
	for _, z := range opts.Zones {
		// A generated catalog answers transfers only: Knot refuses queries.
		if len(z.Primaries) == 0 && !z.Generate {
			waitForSOA(t, k.proc, k.Addr, z.Origin)
		}
	}
	return k
}

// Log returns what knotd printed so far (its whole log, on stderr).
func (k *knotServer) Log() string { return k.proc.Output() }

// waitLog waits until the log from byte offset from on matches re, and
// returns the match; it fails the test after timeout or if knotd exited.
func (k *knotServer) waitLog(from int, re *regexp.Regexp, timeout time.Duration) string {
	k.t.Helper()
	return waitPeerLog(k.t, k.proc, from, re, timeout)
}

// knotc runs a knotc command against this knotd and returns its output.
func (k *knotServer) knotc(args ...string) string {
	k.t.Helper()
	return peerControl(k.t, "knotc", "knot", k.conf, args...)
}

// reload makes knotd read a primary zone's edited file again; with
// zonefile-load: difference it journals the difference and NOTIFYs.
func (k *knotServer) reload(zone string) {
	k.t.Helper()
	k.knotc("zone-reload", zone)
}

// knotXfr matches Knot's log line of a finished transfer of zone with a
// peer at host: kind is "AXFR" or "IXFR", dir "incoming" or "outgoing".
func knotXfr(zone, kind, dir, host string) *regexp.Regexp {
	return regexp.MustCompile(`\[` + regexp.QuoteMeta(zone) + `\] ` + kind + `, ` + dir + `, remote ` +
		regexp.QuoteMeta(host) + `@\d+, finished`)
}
