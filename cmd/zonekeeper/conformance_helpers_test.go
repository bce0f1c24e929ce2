package main

// Helpers of the conformance test (conformance_test.go): the query list,
// one exchange, and a zonekeeper process to ask.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
	"zonekeeper/daemon/client"
)

// conformanceQuery is one line of queries.txt:
//
//	NAME TYPE [+tcp] [+noedns] [+do] [+bufsize=N] [+ednsver=N] [+class=C]  # what it checks
//
// By default a query goes over UDP with EDNS (buffer 1232, DO clear), RD
// clear and class IN, as a resolver asks an authoritative server.
type conformanceQuery struct {
	Line    int
	Text    string // the line without its comment
	Comment string // what the query checks

	Name    string
	Type    uint16
	Class   uint16
	TCP     bool
	EDNS    bool
	DO      bool
	BufSize uint16
	Version uint8
}

func (q conformanceQuery) String() string {
	return fmt.Sprintf("queries.txt:%d: %s  # %s", q.Line, q.Text, q.Comment)
}

// parseConformanceQueries reads the query list of path.
func parseConformanceQueries(t *testing.T, path string) []conformanceQuery {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var qs []conformanceQuery
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		text, comment, ok := strings.Cut(line, "#")
		comment = strings.TrimSpace(comment)
		if !ok || comment == "" {
			t.Fatalf("%s:%d: every query needs a comment saying what it checks", path, n)
		}
		q := conformanceQuery{Line: n, Text: strings.TrimSpace(text), Comment: comment, EDNS: true, BufSize: 1232, Class: dns.ClassINET}
		fields := strings.Fields(text)
		if len(fields) < 2 {
			t.Fatalf("%s:%d: want NAME TYPE [options]", path, n)
		}
		if !strings.HasSuffix(fields[0], ".") {
			t.Fatalf("%s:%d: %s: names are absolute (trailing dot)", path, n, fields[0])
		}
		if _, ok := dns.IsDomainName(fields[0]); !ok {
			t.Fatalf("%s:%d: %s: not a domain name", path, n, fields[0])
		}
		q.Name = fields[0]
		if q.Type, err = parseConformanceType(fields[1]); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		for _, opt := range fields[2:] {
			key, val, _ := strings.Cut(opt, "=")
			switch key {
			case "+tcp":
				q.TCP = true
			case "+noedns":
				q.EDNS = false
			case "+do":
				q.DO = true
			case "+class":
				c, ok := dns.StringToClass[strings.ToUpper(val)]
				if !ok {
					t.Fatalf("%s:%d: unknown class in %s", path, n, opt)
				}
				q.Class = c
			case "+bufsize", "+ednsver":
				v, err := strconv.ParseUint(val, 10, 16)
				if err != nil || (key == "+ednsver" && v > 255) {
					t.Fatalf("%s:%d: bad %s", path, n, opt)
				}
				if key == "+bufsize" {
					q.BufSize = uint16(v)
				} else {
					q.Version = uint8(v)
				}
			default:
				t.Fatalf("%s:%d: unknown option %q", path, n, opt)
			}
		}
		if !q.EDNS && (q.DO || q.Version != 0) {
			t.Fatalf("%s:%d: +do and +ednsver need EDNS", path, n)
		}
		qs = append(qs, q)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return qs
}

// parseConformanceType accepts a mnemonic (MX) or RFC 3597's TYPEnnn.
func parseConformanceType(s string) (uint16, error) {
	if t, ok := dns.StringToType[strings.ToUpper(s)]; ok {
		return t, nil
	}
	if n, ok := strings.CutPrefix(strings.ToUpper(s), "TYPE"); ok {
		if v, err := strconv.ParseUint(n, 10, 16); err == nil {
			return uint16(v), nil
		}
	}
	return 0, fmt.Errorf("unknown type %q", s)
}

// conformanceReply is a server's reply to one query.
type conformanceReply struct {
	Msg  *dns.Msg
	Size int // octets on the wire
	Err  error
}

func (r conformanceReply) String() string {
	if r.Err != nil {
		return "error: " + r.Err.Error()
	}
	return fmt.Sprintf("%s;; %d octets\n", r.Msg.String(), r.Size)
}

// exchangeConformance asks addr the query from clientIP. It reads with a
// 64 KiB buffer whatever the query advertised, so that an over-long UDP
// reply is seen (and reported) rather than cut short by the client.
func exchangeConformance(q conformanceQuery, addr string) conformanceReply {
	m := new(dns.Msg)
	m.SetQuestion(q.Name, q.Type)
	m.Question[0].Qclass = q.Class
	m.RecursionDesired = false
	if q.EDNS {
		m.SetEdns0(q.BufSize, q.DO)
		m.IsEdns0().SetVersion(q.Version)
	}
	c := &dns.Client{Net: "udp", Timeout: 3 * time.Second}
	c.Dialer = &net.Dialer{Timeout: 3 * time.Second, LocalAddr: &net.UDPAddr{IP: net.ParseIP(clientIP)}}
	if q.TCP {
		c.Net = "tcp"
		c.Dialer.LocalAddr = &net.TCPAddr{IP: net.ParseIP(clientIP)}
	}
	co, err := c.Dial(addr)
	if err != nil {
		return conformanceReply{Err: err}
	}
	defer co.Close()
	co.UDPSize = dns.MaxMsgSize
	co.SetDeadline(time.Now().Add(3 * time.Second))
	if err := co.WriteMsg(m); err != nil {
		return conformanceReply{Err: err}
	}
	for {
		raw, err := co.ReadMsgHeader(nil)
		if err != nil {
			return conformanceReply{Err: err}
		}
		r := new(dns.Msg)
		if err := r.Unpack(raw); err != nil {
			return conformanceReply{Err: fmt.Errorf("unpacking %d octets: %w", len(raw), err), Size: len(raw)}
		}
		if r.Id == m.Id {
			return conformanceReply{Msg: r, Size: len(raw)}
		}
	}
}

// buildZonekeeper builds the binary of this package into dir.
func buildZonekeeper(t *testing.T, dir string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is needed to build zonekeeper: %v", err)
	}
	bin := filepath.Join(dir, "zonekeeper")
	cmd := exec.Command(goTool, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -o %s .: %v\n%s", bin, err, out)
	}
	return bin
}

// zkServer is a zonekeeper process started by startZonekeeper.
type zkServer struct {
	bin     string // the binary, for client verbs
	addr    string // where it answers DNS
	control string // its control socket
}

// startZonekeeper runs bin (see buildZonekeeper) as `zonekeeper serve`
// over copies of zones on ip at a free port, with the extra serve flags,
// and returns it once it answers every zone's SOA. It reads an empty
// config file, so a host's /etc/zonekeeper does not leak in, and reaches
// NS addresses (NOTIFY, health) on a port where nothing listens.
func startZonekeeper(t *testing.T, bin, ip string, zones []peerZone, extra ...string) *zkServer {
	t.Helper()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(filepath.Join(data, "zones"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, z := range zones {
		b, err := os.ReadFile(z.File)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(z.Origin, ".") + ".zone"
		if err := os.WriteFile(filepath.Join(data, "zones", name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	conf := filepath.Join(dir, "zonekeeper.conf")
	if err := os.WriteFile(conf, []byte("# empty: the conformance test passes flags\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freeLoopbackPort(t, ip)
	deadPort := freeLoopbackPort(t, ip)
	zk := &zkServer{bin: bin, addr: net.JoinHostPort(ip, strconv.Itoa(port)), control: filepath.Join(dir, "control.sock")}
	argv := append([]string{bin, "serve",
		"--config", conf,
		"--data", data,
		"--listen", zk.addr,
		"--control", zk.control,
		"--ns-port", strconv.Itoa(deadPort)}, extra...)
	p := startPeerProcess(t, "zonekeeper", argv...)
	for _, z := range zones {
		waitForSOA(t, p, zk.addr, z.Origin)
	}
	return zk
}

// queries returns the daemon's query counts, as `zonekeeper status
// --json` reports them.
func (zk *zkServer) queries(t *testing.T) api.QueryCounts {
	t.Helper()
	cmd := exec.Command(zk.bin, "status", "--json", "--control", zk.control)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("zonekeeper status --json: %v\n%s", err, out)
	}
	var st api.Status
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatalf("zonekeeper status --json: %v\n%s", err, out)
	}
	return st.Queries
}

// counts returns the daemon's query counts through the control client:
// quicker than the CLI, for a check after each query.
func (zk *zkServer) counts(t *testing.T) api.QueryCounts {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := client.New(zk.control).Status(ctx)
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	return st.Queries
}
