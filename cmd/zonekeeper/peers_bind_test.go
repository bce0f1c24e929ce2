package main

// BIND 9 as a peer of the replication tests: named started on loopback
// with its own configuration, files and control channel under a temp
// dir, as a primary (zonefile edits + rndc reload, IXFR from
// differences, NOTIFY only to explicit targets) or a secondary, with TSIG
// (docs/architecture.md, "Tests and peers").

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

// bindIP is the only address a test's BIND can listen on: named listens
// on the addresses of the host's interfaces, and lo carries 127.0.0.1
// alone (127.0.0.2 and up reach lo by its /8 route, but named does not
// bind them). The other servers of a test take other 127.0.0.x.
const bindIP = "127.0.0.1"

// bindZone is a zone of a test's BIND. A primary zone has File, which the
// test edits before calling reload; a secondary has Primaries, and lets
// 127.0.0.1 (the test) transfer it unsigned, to compare copies.
type bindZone struct {
	Origin string // with the trailing dot

	File       string   // primary: the zonefile
	AlsoNotify []string // primary: NOTIFY targets, "ip:port"; NS records are not notified

	Primaries []string // secondary: where to transfer from, "ip:port", in order

	// Key is the TSIG key name that a primary zone requires of transfers
	// and signs its NOTIFYs with, and that a secondary zone signs its
	// requests with; "" for none.
	Key string
}

// bindOptions configures a test's BIND.
type bindOptions struct {
	Port  int // 0: a free one
	Keys  []tsigKey
	Zones []bindZone
	// Debug is named's -d level; 3 is what makes a secondary log whether
	// a transfer in was incremental ("got incremental response").
	Debug int
	// Options is more text for named's options block (catalog-zones).
	Options string
}

// bindServer is a running named.
type bindServer struct {
	t        testing.TB
	Addr     string // ip:port of its DNS service
	dir      string
	rndcConf string
	proc     *peerProcess
}

// startBIND runs named with opts until the end of the test. It returns
// once named is running and answers the SOA of each primary zone.
func startBIND(t testing.TB, opts bindOptions) *bindServer {
	t.Helper()
	named := peerBinary(t, "named", "bind9")
	b := &bindServer{t: t, dir: t.TempDir()}
	port := opts.Port
	if port == 0 {
		port = freeLoopbackPort(t, bindIP)
	}
	ctlPort := freeLoopbackPort(t, bindIP)
	b.Addr = net.JoinHostPort(bindIP, strconv.Itoa(port))
	rndcKey := newTSIGKey(t, "rndc-key", "hmac-sha256")

	var c strings.Builder
	fmt.Fprintf(&c, `options {
	directory %q;
	pid-file %q;
	session-keyfile %q;
	managed-keys-directory %q;
	listen-on port %d { %s; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	notify explicit;
	notify-delay 0;
	allow-transfer { none; };
	querylog no;
%s};
`, b.dir, filepath.Join(b.dir, "named.pid"), filepath.Join(b.dir, "session.key"), b.dir, port, bindIP, opts.Options)
	for _, k := range append([]tsigKey{rndcKey}, opts.Keys...) {
		fmt.Fprintf(&c, "key %q { algorithm %s; secret %q; };\n", k.Name, k.Algorithm, k.Secret)
	}
	fmt.Fprintf(&c, "controls { inet %s port %d allow { %s; } keys { %q; }; };\n", bindIP, ctlPort, bindIP, rndcKey.Name)
	keyClause := func(key string) string {
		if key == "" {
			return ""
		}
		return fmt.Sprintf(" key %q", key)
	}
	for _, z := range opts.Zones {
		fmt.Fprintf(&c, "zone %q {\n", z.Origin)
		if len(z.Primaries) > 0 {
			fmt.Fprintf(&c, "\ttype secondary;\n\tfile %q;\n\tmasterfile-format text;\n\tallow-transfer { %s; };\n\tprimaries {", filepath.Join(b.dir, strings.TrimSuffix(z.Origin, ".")+".bk"), bindIP)
			for _, p := range z.Primaries {
				fmt.Fprintf(&c, " %s;", bindRemote(t, p)+keyClause(z.Key))
			}
			c.WriteString(" };\n")
		} else {
			fmt.Fprintf(&c, "\ttype primary;\n\tfile %q;\n\tixfr-from-differences yes;\n", z.File)
			if z.Key != "" {
				fmt.Fprintf(&c, "\tallow-transfer { key %q; };\n", z.Key)
			}
			if len(z.AlsoNotify) > 0 {
				c.WriteString("\talso-notify {")
				for _, a := range z.AlsoNotify {
					fmt.Fprintf(&c, " %s;", bindRemote(t, a)+keyClause(z.Key))
				}
				c.WriteString(" };\n")
			}
		}
		c.WriteString("};\n")
	}
	conf := filepath.Join(b.dir, "named.conf")
	writeTestFile(t, conf, c.String())
	if out, err := exec.Command(peerBinary(t, "named-checkconf", "bind9"), conf).CombinedOutput(); err != nil {
		t.Fatalf("named-checkconf %s: %v\n%s\nconfig:\n%s", conf, err, out, c.String())
	}
	b.rndcConf = filepath.Join(b.dir, "rndc.conf")
	writeTestFile(t, b.rndcConf, fmt.Sprintf("key %q { algorithm %s; secret %q; };\noptions { default-key %q; default-server %s; default-port %d; };\n",
		rndcKey.Name, rndcKey.Algorithm, rndcKey.Secret, rndcKey.Name, bindIP, ctlPort))

	// -g: foreground, log to stderr (captured); no -u: named keeps the
	// test's user, which owns the temp dir.
	argv := []string{named, "-g", "-c", conf}
	if opts.Debug > 0 {
		argv = append(argv, "-d", strconv.Itoa(opts.Debug))
	}
	b.proc = startPeerProcess(t, "named", argv...)
	b.waitLog(0, regexp.MustCompile(`(?m) running$`), peerStartTimeout)
	for _, z := range opts.Zones {
		if len(z.Primaries) == 0 {
			waitForSOA(t, b.proc, b.Addr, z.Origin)
		}
	}
	return b
}

// bindRemote turns "ip:port" into named's "ip port N".
func bindRemote(t testing.TB, addr string) string {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("remote %q: %v", addr, err)
	}
	return host + " port " + port
}

// Log returns what named printed so far (-g: its whole log).
func (b *bindServer) Log() string { return b.proc.Output() }

// waitLog waits until the log from byte offset from on matches re, and
// returns the match; it fails the test after timeout or if named exited.
func (b *bindServer) waitLog(from int, re *regexp.Regexp, timeout time.Duration) string {
	b.t.Helper()
	return waitPeerLog(b.t, b.proc, from, re, timeout)
}

// rndc runs an rndc command against this named and returns its output.
func (b *bindServer) rndc(args ...string) string {
	b.t.Helper()
	return peerControl(b.t, "rndc", "bind9", b.rndcConf, args...)
}

// reload makes named read a primary zone's edited file again; with
// ixfr-from-differences it journals the difference and NOTIFYs.
func (b *bindServer) reload(zone string) {
	b.t.Helper()
	b.rndc("reload", strings.TrimSuffix(zone, "."))
}

// bindXfrIn matches the line of a -d 3 log that says how a transfer of
// zone in from addr was answered: "got incremental response" (IXFR) or
// "got nonincremental response" (a whole zone).
func bindXfrIn(zone, from string) *regexp.Regexp {
	host, port, _ := net.SplitHostPort(from)
	return regexp.MustCompile(`transfer of '` + regexp.QuoteMeta(strings.TrimSuffix(zone, ".")) + `/IN' from ` +
		regexp.QuoteMeta(host+"#"+port) + `: got (non)?incremental response`)
}
