package main

// The conformance test: zonekeeper and NSD 4.6 serve the same zonefiles
// on loopback, are asked the same queries, and must give the same
// answers, except where conformancePolicies states why we differ.

import (
	"bufio"
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
)

const (
	conformanceZones   = "../../testdata/conformance/zones"
	conformanceQueries = "../../testdata/conformance/queries.txt"

	nsdIP        = "127.0.0.2" // NSD's listening address
	zonekeeperIP = "127.0.0.1" // zonekeeper's listening address
	clientIP     = "127.0.0.1" // source address of the queries
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

// nameRdataTypes are the types whose presentation rdata holds only
// domain names and numbers, compared case-insensitively (RFC 4343): NSD
// compresses names against the question, so their case may follow it.
var nameRdataTypes = map[uint16]bool{
	dns.TypeNS: true, dns.TypeCNAME: true, dns.TypePTR: true, dns.TypeMX: true,
	dns.TypeSRV: true, dns.TypeSOA: true, dns.TypeDNAME: true,
}

// rrKey is the comparison form of rr: owner, TTL, class, type, rdata.
// The owner is compared case-insensitively, except that an owner equal to
// qname must carry the question's case exactly when exactQname is set:
// servers copy the question's name into the answer, while the case of
// other owners (a CNAME's target) follows each server's name compression.
func rrKey(rr dns.RR, qname string, exactQname bool) string {
	h := rr.Header()
	rdata := strings.TrimPrefix(rr.String(), h.String())
	if nameRdataTypes[h.Rrtype] {
		rdata = strings.ToLower(rdata)
	}
	owner := strings.ToLower(h.Name)
	if exactQname && owner == strings.ToLower(qname) {
		owner = h.Name
	}
	return fmt.Sprintf("%s %d %s %s %s", owner, h.Ttl, dns.Class(h.Class), dns.Type(h.Rrtype), rdata)
}

// rrSet is the comparison form of a section as a set, keyed by rrKey,
// without OPT (whose fields are compared on their own); dups lists the
// records that appear more than once.
func rrSet(rrs []dns.RR, qname string, exactQname bool) (set map[string]dns.RR, dups []string) {
	set = map[string]dns.RR{}
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeOPT {
			continue
		}
		k := rrKey(rr, qname, exactQname)
		if _, ok := set[k]; ok {
			dups = append(dups, k)
			continue
		}
		set[k] = rr
	}
	return set, dups
}

// sortedKeys returns the keys of set in order.
func sortedKeys(set map[string]dns.RR) []string {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// replyKind classifies a reply for the comparison of its authority and
// additional sections.
type replyKind int

const (
	kindPositive replyKind = iota // NOERROR, AA, an answer and no SOA in authority
	kindNegative                  // NXDOMAIN, or NODATA: SOA in authority (RFC 2308)
	kindReferral                  // NOERROR, AA clear, NS in authority (RFC 1034 §4.3.2)
	kindOther                     // errors (REFUSED, SERVFAIL, ...), empty replies
)

func (k replyKind) String() string {
	return [...]string{"positive", "negative", "referral", "other"}[k]
}

func classifyReply(m *dns.Msg) replyKind {
	hasType := func(rrs []dns.RR, t uint16) bool {
		return slices.ContainsFunc(rrs, func(rr dns.RR) bool { return rr.Header().Rrtype == t })
	}
	switch {
	case m.Rcode == dns.RcodeNameError:
		return kindNegative
	case m.Rcode != dns.RcodeSuccess:
		return kindOther
	case hasType(m.Ns, dns.TypeSOA):
		return kindNegative
	case !m.Authoritative && hasType(m.Ns, dns.TypeNS):
		return kindReferral
	case m.Authoritative && len(m.Answer) > 0:
		return kindPositive
	}
	return kindOther
}

// conformanceCase is one query with both replies, as the policies see
// them.
type conformanceCase struct {
	Query  conformanceQuery
	NSD    *dns.Msg
	Ours   *dns.Msg
	Apexes map[string]bool // lower-case origins of the zones both serve
}

// conformancePolicy is a stated difference from NSD, with the RFC that
// allows it. For the cases it covers, records of NSD's reply for which
// MayOmit holds may be missing from ours, and the checks named in Waive
// are not made. Nothing lets ours hold a record NSD does not send.
type conformancePolicy struct {
	Name    string
	Reason  string
	Covers  func(c *conformanceCase) bool
	MayOmit func(c *conformanceCase, section string, rr dns.RR) bool // nil: nothing
	Waive   []string                                                 // of "kind", "ede", "answer", "authority", "additional"
}

// conformancePolicies is where zonekeeper answers differently from NSD
// 4.6 with its default settings, on purpose (daemon/lookup.go and
// daemon/reply.go say so too). Add an entry only with the RFC that
// allows it.
var conformancePolicies = []conformancePolicy{
	{
		Name: "positive answers carry no NS RRset in authority, nor its NS names' addresses in additional",
		Reason: "RFC 1034 §4.3.2 copies NS records to authority for a referral (step 3b); in an " +
			"answer they are optional data that \"may be useful\" (step 6), ranked below the " +
			"answer (RFC 2181 §5.4.1); NSD sends them unless minimal-responses: yes. Addresses " +
			"of MX, SRV and NS answer targets are still sent",
		Covers: func(c *conformanceCase) bool { return classifyReply(c.NSD) == kindPositive },
		MayOmit: func(c *conformanceCase, section string, rr dns.RR) bool {
			switch section {
			case "authority":
				return isApexNS(c, rr)
			case "additional":
				t := rr.Header().Rrtype
				return (t == dns.TypeA || t == dns.TypeAAAA) && omittedNSHosts(c)[strings.ToLower(rr.Header().Name)]
			}
			return false
		},
	},
	{
		Name: "a truncated reply carries no records",
		Reason: "RFC 2181 §9: a client ignores a reply with TC set and asks again over TCP, so a " +
			"partial answer is of no use; every section is emptied (RFC 9471 §3 for glue)",
		Covers:  func(c *conformanceCase) bool { return c.NSD.Truncated && c.Ours.Truncated },
		MayOmit: func(*conformanceCase, string, dns.RR) bool { return true },
		Waive:   []string{"kind"},
	},
	{
		Name: "ANY is answered with one RRset of our choice",
		Reason: "RFC 8482 §4.1: the responder returns a subset of the RRsets, of its choice; " +
			"zonekeeper picks by a fixed type preference, NSD, among types it does not prefer, " +
			"the one listed last in the zonefile; so only rcode, AA and TC are compared",
		Covers: func(c *conformanceCase) bool { return c.Query.Type == dns.TypeANY },
		Waive:  []string{"kind", "answer", "authority", "additional"},
	},
	{
		Name: "CHAOS server-identity queries are refused as an unsupported class (EDE 21)",
		Reason: "zonekeeper serves no CHAOS data (version.bind, id.server), so REFUSED carries " +
			"EDE 21 Not Supported (RFC 8914 §4.22); NSD, which has that data but hides it " +
			"(hide-version), says 18 Prohibited (§4.19) for those names",
		Covers: func(c *conformanceCase) bool {
			switch strings.ToLower(c.Query.Name) {
			case "version.bind.", "version.server.", "id.server.", "hostname.bind.":
				return c.Query.Class == dns.ClassCHAOS
			}
			return false
		},
		Waive: []string{"ede"},
	},
}

// isApexNS reports whether rr is an NS record of a served zone's apex.
func isApexNS(c *conformanceCase, rr dns.RR) bool {
	return rr.Header().Rrtype == dns.TypeNS && c.Apexes[strings.ToLower(rr.Header().Name)]
}

// omittedNSHosts lists the NS names of the apex NS RRsets in NSD's
// authority section that are not also targets of the answer section:
// their addresses go with the NS RRset.
func omittedNSHosts(c *conformanceCase) map[string]bool {
	hosts := map[string]bool{}
	for _, rr := range c.NSD.Ns {
		if ns, ok := rr.(*dns.NS); ok && isApexNS(c, rr) {
			hosts[strings.ToLower(ns.Ns)] = true
		}
	}
	for _, rr := range c.NSD.Answer {
		switch rr := rr.(type) {
		case *dns.NS:
			delete(hosts, strings.ToLower(rr.Ns))
		case *dns.MX:
			delete(hosts, strings.ToLower(rr.Mx))
		case *dns.SRV:
			delete(hosts, strings.ToLower(rr.Target))
		}
	}
	return hosts
}

// compareReplies returns the differences between NSD's and our reply to
// q, one readable line each; applied names the policies that excused one.
func compareReplies(q conformanceQuery, apexes map[string]bool, nsd, ours conformanceReply) (diffs, applied []string) {
	if nsd.Err != nil || ours.Err != nil {
		if nsd.Err == nil || ours.Err == nil {
			diffs = append(diffs, fmt.Sprintf("transport: NSD %v, zonekeeper %v", errString(nsd.Err), errString(ours.Err)))
		}
		return diffs, nil
	}
	c := &conformanceCase{Query: q, NSD: nsd.Msg, Ours: ours.Msg, Apexes: apexes}
	a, b := nsd.Msg, ours.Msg
	var covering []conformancePolicy
	waive := map[string]string{} // check → the policy waiving it
	used := map[string]bool{}
	for _, p := range conformancePolicies {
		if p.Covers(c) {
			covering = append(covering, p)
			for _, w := range p.Waive {
				waive[w] = p.Name
			}
		}
	}
	diff := func(what string, x, y any) {
		if x != y {
			diffs = append(diffs, fmt.Sprintf("%s: NSD %v, zonekeeper %v", what, x, y))
		}
	}
	diff("rcode", rcodeString(a), rcodeString(b))
	diff("AA", a.Authoritative, b.Authoritative)
	diff("TC", a.Truncated, b.Truncated)
	diff("QR", a.Response, b.Response)
	diff("opcode", dns.OpcodeToString[a.Opcode], dns.OpcodeToString[b.Opcode])
	diff("question", fmt.Sprint(a.Question), fmt.Sprint(b.Question))

	// The reply must fit what the client takes (RFC 1035 §4.2.1, RFC
	// 6891 §6.2.5); checked on ours only, NSD is the reference.
	if !q.TCP {
		limit := 512
		if q.EDNS && q.BufSize > 512 {
			limit = int(q.BufSize)
		}
		if ours.Size > limit {
			diffs = append(diffs, fmt.Sprintf("size: zonekeeper sent %d octets over UDP, the client takes %d", ours.Size, limit))
		}
	}

	ednsOf := func(m *dns.Msg) string {
		if opt := m.IsEdns0(); opt != nil {
			return fmt.Sprintf("version %d, DO %t", opt.Version(), opt.Do())
		}
		return "none"
	}
	diff("EDNS", ednsOf(a), ednsOf(b))
	if ea, eb := edeCodes(a), edeCodes(b); ea != eb {
		if p := waive["ede"]; p != "" {
			used[p] = true
		} else {
			diff("EDE", ea, eb)
		}
	}

	if ka, kb := classifyReply(a), classifyReply(b); ka != kb {
		if p := waive["kind"]; p != "" {
			used[p] = true
		} else {
			diffs = append(diffs, fmt.Sprintf("kind of reply: NSD %s, zonekeeper %s", ka, kb))
		}
	}
	section := func(name string, x, y []dns.RR, exactQname bool) {
		setB, dups := rrSet(y, q.Name, exactQname)
		// RFC 2181 §5: an RRset holds no duplicate records. Checked on
		// ours only: NSD repeats a CNAME synthesized by a looping
		// wildcard.
		for _, k := range dups {
			diffs = append(diffs, fmt.Sprintf("%s: zonekeeper repeats: %s", name, k))
		}
		setA, _ := rrSet(x, q.Name, exactQname)
		if p := waive[name]; p != "" {
			if !slices.Equal(sortedKeys(setA), sortedKeys(setB)) {
				used[p] = true
			}
			return
		}
		for _, k := range sortedKeys(setA) {
			if _, ok := setB[k]; ok {
				continue
			}
			if p := omissionPolicy(covering, c, name, setA[k]); p != "" {
				used[p] = true
				continue
			}
			diffs = append(diffs, fmt.Sprintf("%s: only NSD:        %s", name, k))
		}
		for _, k := range sortedKeys(setB) {
			if _, ok := setA[k]; !ok {
				diffs = append(diffs, fmt.Sprintf("%s: only zonekeeper: %s", name, k))
			}
		}
	}
	section("answer", a.Answer, b.Answer, true)
	section("authority", a.Ns, b.Ns, false)
	section("additional", a.Extra, b.Extra, false)
	for _, p := range conformancePolicies {
		if used[p.Name] {
			applied = append(applied, p.Name)
		}
	}
	return diffs, applied
}

// omissionPolicy names the first of policies that lets ours leave out rr
// of NSD's section, or returns "".
func omissionPolicy(policies []conformancePolicy, c *conformanceCase, section string, rr dns.RR) string {
	for _, p := range policies {
		if p.MayOmit != nil && p.MayOmit(c, section, rr) {
			return p.Name
		}
	}
	return ""
}

// edeCodes lists the Extended DNS Error codes of m (RFC 8914); their
// text is free-form and not compared.
func edeCodes(m *dns.Msg) string {
	var codes []string
	if opt := m.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if e, ok := o.(*dns.EDNS0_EDE); ok {
				codes = append(codes, strconv.Itoa(int(e.InfoCode)))
			}
		}
	}
	return "[" + strings.Join(codes, " ") + "]"
}

// rcodeString names m's rcode, extended by its OPT record: 16 is BADVERS
// in a reply with OPT (RFC 6891), BADSIG only in a TSIG record.
func rcodeString(m *dns.Msg) string {
	if m.Rcode == dns.RcodeBadVers && m.IsEdns0() != nil {
		return "BADVERS"
	}
	if s, ok := dns.RcodeToString[m.Rcode]; ok {
		return s
	}
	return strconv.Itoa(m.Rcode)
}

func errString(err error) string {
	if err == nil {
		return "replied"
	}
	return err.Error()
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

// startZonekeeper runs `zonekeeper serve` over copies of zones on ip at a
// free port, and returns its address once it answers every zone's SOA.
// It reads an empty config file, so a host's /etc/zonekeeper does not
// leak in, and reaches NS addresses (NOTIFY, health) on a port where
// nothing listens.
func startZonekeeper(t *testing.T, ip string, zones []peerZone) string {
	t.Helper()
	dir := t.TempDir()
	bin := buildZonekeeper(t, dir)
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
	addr := net.JoinHostPort(ip, strconv.Itoa(port))
	p := startPeerProcess(t, "zonekeeper", bin, "serve",
		"--config", conf,
		"--data", data,
		"--listen", addr,
		"--control", filepath.Join(dir, "control.sock"),
		"--ns-port", strconv.Itoa(deadPort))
	for _, z := range zones {
		waitForSOA(t, p, addr, z.Origin)
	}
	return addr
}

// TestConformanceNSD asks NSD and zonekeeper, serving the same zones, the
// queries of testdata/conformance/queries.txt and fails on any difference
// not stated in conformancePolicies.
func TestConformanceNSD(t *testing.T) {
	queries := parseConformanceQueries(t, conformanceQueries)
	zones := peerZonesFromDir(t, conformanceZones)
	nsdAddr := startNSD(t, nsdIP, zones)
	ourAddr := startZonekeeper(t, zonekeeperIP, zones)
	apexes := map[string]bool{}
	for _, z := range zones {
		apexes[strings.ToLower(z.Origin)] = true
	}

	for _, q := range queries {
		name := fmt.Sprintf("%03d_%s_%s", q.Line, q.Name, dns.Type(q.Type))
		if q.Class != dns.ClassINET {
			name += "_" + dns.Class(q.Class).String()
		}
		t.Run(name, func(t *testing.T) {
			nsd := exchangeConformance(q, nsdAddr)
			ours := exchangeConformance(q, ourAddr)
			if nsd.Err != nil && ours.Err != nil {
				t.Logf("%s: neither server replied: NSD %v; zonekeeper %v", q, nsd.Err, ours.Err)
			}
			diffs, applied := compareReplies(q, apexes, nsd, ours)
			if len(applied) > 0 {
				t.Logf("%s: differs by policy: %s", q, strings.Join(applied, "; "))
			}
			if len(diffs) > 0 {
				t.Errorf("%s\ndifferences:\n  %s\n--- NSD (%s) reply:\n%s--- zonekeeper (%s) reply:\n%s",
					q, strings.Join(diffs, "\n  "), nsdAddr, nsd, ourAddr, ours)
			}
		})
	}
}

// TestConformanceCompare checks compareReplies itself on made-up
// replies, so that a quiet TestConformanceNSD means agreement and not a
// comparison that sees nothing.
func TestConformanceCompare(t *testing.T) {
	rr := func(s string) dns.RR {
		r, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	msg := func(qname string, qtype uint16, rcode int, aa bool, an, ns, ar []string) *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion(qname, qtype)
		m.Response, m.Rcode, m.Authoritative = true, rcode, aa
		for _, s := range an {
			m.Answer = append(m.Answer, rr(s))
		}
		for _, s := range ns {
			m.Ns = append(m.Ns, rr(s))
		}
		for _, s := range ar {
			m.Extra = append(m.Extra, rr(s))
		}
		return m
	}
	const (
		soa  = "example.com. 300 IN SOA ns1.example.com. h.example.com. 1 2 3 4 300"
		apex = "example.com. 3600 IN NS ns1.example.com."
		glue = "ns1.example.com. 3600 IN A 127.0.0.11"
		www  = "www.example.com. 3600 IN A 127.0.0.80"
		cut  = "child.example.com. 3600 IN NS ns1.child.example.com."
		cutA = "ns1.child.example.com. 3600 IN A 127.0.0.13"
	)
	apexes := map[string]bool{"example.com.": true}
	tests := []struct {
		name      string
		nsd, ours *dns.Msg
		wantDiffs int
	}{
		{"same", msg("www.example.com.", dns.TypeA, 0, true, []string{www}, nil, nil),
			msg("www.example.com.", dns.TypeA, 0, true, []string{www}, nil, nil), 0},
		{"answer TTL", msg("www.example.com.", dns.TypeA, 0, true, []string{www}, nil, nil),
			msg("www.example.com.", dns.TypeA, 0, true, []string{"www.example.com. 60 IN A 127.0.0.80"}, nil, nil), 2},
		{"question case not copied", msg("WWW.example.com.", dns.TypeA, 0, true, []string{"WWW.example.com. 3600 IN A 127.0.0.80"}, nil, nil),
			msg("WWW.example.com.", dns.TypeA, 0, true, []string{www}, nil, nil), 2},
		{"case of a CNAME target's owner", msg("alias.example.com.", dns.TypeA, 0, true,
			[]string{"alias.example.com. 3600 IN CNAME www.EXAMPLE.com.", "www.EXAMPLE.com. 3600 IN A 127.0.0.80"}, nil, nil),
			msg("alias.example.com.", dns.TypeA, 0, true, []string{"alias.example.com. 3600 IN CNAME www.example.com.", www}, nil, nil), 0},
		{"minimal positive answer", msg("www.example.com.", dns.TypeA, 0, true, []string{www}, []string{apex}, []string{glue}),
			msg("www.example.com.", dns.TypeA, 0, true, []string{www}, nil, nil), 0},
		{"MX answer without its targets' addresses", msg("example.com.", dns.TypeMX, 0, true,
			[]string{"example.com. 3600 IN MX 10 mail.example.com."}, []string{apex}, []string{"mail.example.com. 3600 IN A 127.0.0.25", glue}),
			msg("example.com.", dns.TypeMX, 0, true, []string{"example.com. 3600 IN MX 10 mail.example.com."}, nil, nil), 1},
		{"extra authority of ours", msg("www.example.com.", dns.TypeA, 0, true, []string{www}, nil, nil),
			msg("www.example.com.", dns.TypeA, 0, true, []string{www}, []string{apex}, nil), 1},
		{"negative TTL", msg("nx.example.com.", dns.TypeA, dns.RcodeNameError, true, nil, []string{soa}, nil),
			msg("nx.example.com.", dns.TypeA, dns.RcodeNameError, true, nil,
				[]string{"example.com. 3600 IN SOA ns1.example.com. h.example.com. 1 2 3 4 300"}, nil), 2},
		{"referral without glue", msg("www.child.example.com.", dns.TypeA, 0, false, nil, []string{cut}, []string{cutA}),
			msg("www.child.example.com.", dns.TypeA, 0, false, nil, []string{cut}, nil), 1},
		{"duplicate record", msg("www.example.com.", dns.TypeA, 0, true, []string{www}, nil, nil),
			msg("www.example.com.", dns.TypeA, 0, true, []string{www, www}, nil, nil), 1},
		{"AA", msg("www.example.com.", dns.TypeA, 0, true, []string{www}, nil, nil),
			msg("www.example.com.", dns.TypeA, 0, false, []string{www}, nil, nil), 2},
	}
	for _, tt := range tests {
		q := conformanceQuery{Name: tt.nsd.Question[0].Name, Type: tt.nsd.Question[0].Qtype, Class: dns.ClassINET, TCP: true}
		diffs, _ := compareReplies(q, apexes, conformanceReply{Msg: tt.nsd}, conformanceReply{Msg: tt.ours})
		if len(diffs) != tt.wantDiffs {
			t.Errorf("%s: %d differences, want %d:\n  %s", tt.name, len(diffs), tt.wantDiffs, strings.Join(diffs, "\n  "))
		}
	}
}
