package main

// The conformance test: zonekeeper and NSD 4.6 serve the same zonefiles
// on loopback, are asked the same queries, and must give the same
// answers, except where conformancePolicies states why we differ.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

const (
	conformanceZones   = "../../testdata/conformance/zones"
	conformanceQueries = "../../testdata/conformance/queries.txt"

	nsdIP        = "127.0.0.2" // NSD's listening address
	zonekeeperIP = "127.0.0.1" // zonekeeper's listening address
	clientIP     = "127.0.0.1" // source address of the queries
)

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
			// With DO, their signatures go with them.
			t := rr.Header().Rrtype
			if sig, ok := rr.(*dns.RRSIG); ok {
				t = sig.TypeCovered
			}
			switch section {
			case "authority":
				return t == dns.TypeNS && c.Apexes[strings.ToLower(rr.Header().Name)]
			case "additional":
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
		Name: "a class ANY reply carries no denial records",
		Reason: "an answer for class ANY is not authoritative (RFC 1034 §6.2.4): like NSD, zonekeeper " +
			"sends the answer section only, and with DO leaves out the NSEC, NSEC3 and RRSIG records " +
			"NSD keeps in authority without the SOA they go with, which a validator cannot use " +
			"(RFC 4035 §5.4)",
		Covers: func(c *conformanceCase) bool { return c.Query.Class == dns.ClassANY },
		MayOmit: func(c *conformanceCase, section string, rr dns.RR) bool {
			switch rr.Header().Rrtype {
			case dns.TypeNSEC, dns.TypeNSEC3, dns.TypeRRSIG:
				return section == "authority"
			}
			return false
		},
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

// TestConformanceNSD asks NSD and zonekeeper, serving the same zones, the
// queries of testdata/conformance/queries.txt and fails on any difference
// not stated in conformancePolicies. It runs with zonekeeper's fast path
// (the ready-answer cache) on and off. With it on, every query is asked
// twice, the second time with its name in mixed case as a resolver doing
// 0x20 randomisation asks: a plain query's repeat is answered from the
// cache, which the daemon's query counts must show, and must still match
// NSD, letter case included.
func TestConformanceNSD(t *testing.T) {
	queries := parseConformanceQueries(t, conformanceQueries)
	zones := peerZonesFromDir(t, conformanceZones)
	nsdAddr := startNSD(t, nsdIP, zones)
	bin := buildZonekeeper(t, t.TempDir())
	apexes := map[string]bool{}
	for _, z := range zones {
		apexes[strings.ToLower(z.Origin)] = true
	}

	for _, fast := range []bool{true, false} {
		setting := map[bool]string{true: "yes", false: "no"}[fast]
		t.Run("fast-path="+setting, func(t *testing.T) {
			zk := startZonekeeper(t, bin, zonekeeperIP, zones, "--fast-path", setting)
			before := zk.queries(t)
			var wantHits uint64
			for _, q := range queries {
				name := fmt.Sprintf("%03d_%s_%s", q.Line, q.Name, dns.Type(q.Type))
				if q.Class != dns.ClassINET {
					name += "_" + dns.Class(q.Class).String()
				}
				t.Run(name, func(t *testing.T) {
					ours := askBoth(t, q, apexes, nsdAddr, zk.addr)
					if !fast {
						return
					}
					again := q
					again.Name = mixedCase(q.Name)
					was := zk.counts(t)
					askBoth(t, again, apexes, nsdAddr, zk.addr)
					hit := zk.counts(t).Fast - was.Fast
					want := uint64(0)
					if readyCacheable(q, ours) {
						want = 1
					}
					if hit != want {
						t.Errorf("%s: the repeat was answered from the cache %d times, want %d", q, hit, want)
					}
					wantHits += want
				})
			}
			after := zk.queries(t)
			hits := after.Fast - before.Fast
			t.Logf("fast path %s: %d queries from the cache, %d looked up, %d for the slow path", setting,
				hits, after.Full-before.Full, after.Special-before.Special)
			// A first ask may hit too, after an earlier query with
			// the same key (the same question over TCP, say).
			if hits < wantHits || (!fast && hits != 0) {
				t.Errorf("fast path %s: %d replies came from the cache, want at least %d", setting, hits, wantHits)
			}
			if fast && wantHits == 0 {
				t.Error("no query was expected to be answered from the cache")
			}
		})
	}
}

// askBoth asks NSD and zonekeeper q, reports the differences not stated
// in conformancePolicies, and returns our reply.
func askBoth(t *testing.T, q conformanceQuery, apexes map[string]bool, nsdAddr, ourAddr string) conformanceReply {
	t.Helper()
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
		t.Errorf("%s (name asked: %s)\ndifferences:\n  %s\n--- NSD (%s) reply:\n%s--- zonekeeper (%s) reply:\n%s",
			q, q.Name, strings.Join(diffs, "\n  "), nsdAddr, nsd, ourAddr, ours)
	}
	return ours
}

// mixedCase returns name with every other letter in upper case.
func mixedCase(name string) string {
	b := []byte(strings.ToLower(name))
	up := true
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			if up {
				b[i] = c - 'a' + 'A'
			}
			up = !up
		}
	}
	return string(b)
}

// readyCacheable reports whether the daemon keeps its reply to q in the
// ready-answer cache (daemon/ready.go): a query of class IN or ANY, EDNS
// version 0 or no EDNS, not a transfer, answered NOERROR or NXDOMAIN.
func readyCacheable(q conformanceQuery, ours conformanceReply) bool {
	if ours.Err != nil || (q.Class != dns.ClassINET && q.Class != dns.ClassANY) || q.Version != 0 {
		return false
	}
	if q.Type == dns.TypeAXFR || q.Type == dns.TypeIXFR {
		return false
	}
	return ours.Msg.Rcode == dns.RcodeSuccess || ours.Msg.Rcode == dns.RcodeNameError
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
