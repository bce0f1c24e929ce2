package zonefile

// The operational lint: RFC 2182 and RFC 1912 practice that a zone may
// violate and still be served. It looks only at the zone's own records
// and never sends a packet.

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// Rule names of the operational lint (LintOps). Like the validation
// rules they are stable.
const (
	RuleNSCount        = "ns-count"         // fewer than two (error) or three (warning) apex NS, RFC 2182 §5
	RuleNSDiversity    = "ns-diversity"     // every NS address in one IPv4 /24 or IPv6 /48, RFC 2182 §3.1
	RuleNSAddress      = "ns-address"       // an in-zone NS name without A/AAAA in the zone, RFC 1912 §2.3
	RuleSOARetry       = "soa-retry"        // retry not below refresh, RFC 1912 §2.2
	RuleSOAExpire      = "soa-expire"       // expire not above refresh + retry, RFC 1912 §2.2
	RuleSOAExpireShort = "soa-expire-short" // expire shorter than a week, RFC 1912 §2.2
)

// week is the shortest SOA expire the lint accepts without a warning;
// RFC 1912 §2.2 recommends two to four weeks.
const week = 7 * 24 * 3600

// Locator gives the file and line a record of a zone came from; a zero
// line names the file only.
type Locator func(rr dns.RR) (file string, line int)

// LintOpsFile applies LintOps to z, the zone Load returned for path and
// origin, reading the file again to locate the records it names.
func LintOpsFile(path, origin string, z *Zone) (Findings, error) {
	locate, err := locateFile(path, origin)
	if err != nil {
		return nil, err
	}
	return LintOps(z, locate), nil
}

// LintOps checks z against the operational practice of RFC 2182 and
// RFC 1912: enough name servers, in more than one network, with their
// in-zone addresses present, and SOA timers that let secondaries keep
// the zone. locate places findings (nil: findings carry no place).
func LintOps(z *Zone, locate Locator) Findings {
	var out Findings
	add := func(rr dns.RR, sev Severity, rule, format string, args ...any) {
		f := Finding{Severity: sev, Rule: rule, Detail: fmt.Sprintf(format, args...)}
		if locate != nil && rr != nil {
			f.File, f.Line = locate(rr)
		}
		out = append(out, f)
	}

	var ns []*dns.NS
	addrs := make(map[string][]netip.Addr) // lower-case owner → A/AAAA
	for _, rr := range z.Records {
		name := strings.ToLower(rr.Header().Name)
		switch r := rr.(type) {
		case *dns.NS:
			if name == z.Origin {
				ns = append(ns, r)
			}
		case *dns.A:
			if a, ok := netip.AddrFromSlice(r.A.To4()); ok {
				addrs[name] = append(addrs[name], a)
			}
		case *dns.AAAA:
			if a, ok := netip.AddrFromSlice(r.AAAA.To16()); ok {
				addrs[name] = append(addrs[name], a)
			}
		}
	}

	if len(ns) > 0 {
		first := ns[0]
		switch {
		case len(ns) < 2:
			add(first, Error, RuleNSCount, "%s has one name server; a zone needs at least two, so that it survives the loss of one (RFC 2182 §5)", z.Origin)
		case len(ns) < 3 && !isReverse(z.Origin):
			add(first, Warning, RuleNSCount, "%s has %d name servers; three or more are recommended (RFC 2182 §5)", z.Origin, len(ns))
		}

		prefixes := make(map[netip.Prefix]bool)
		located := 0
		for _, r := range ns {
			target := strings.ToLower(r.Ns)
			list := addrs[target]
			if len(list) > 0 {
				located++
			}
			for _, a := range list {
				bits := 24
				if a.Is6() {
					bits = 48
				}
				p, _ := a.Prefix(bits)
				prefixes[p] = true
			}
			if len(list) == 0 && dns.IsSubDomain(z.Origin, target) {
				add(r, Warning, RuleNSAddress, "name server %s is inside the zone but has no A or AAAA record in it (RFC 1912 §2.3)", r.Ns)
			}
		}
		if located >= 2 && len(prefixes) == 1 {
			var only netip.Prefix
			for p := range prefixes {
				only = p
			}
			add(first, Warning, RuleNSDiversity, "every name server address of %s is in %s; put one in another network (RFC 2182 §3.1)", z.Origin, only)
		}
	}

	if soa := z.SOA(); soa != nil {
		if soa.Retry >= soa.Refresh {
			add(soa, Warning, RuleSOARetry, "SOA retry %d is not below refresh %d (RFC 1912 §2.2)", soa.Retry, soa.Refresh)
		}
		if uint64(soa.Expire) <= uint64(soa.Refresh)+uint64(soa.Retry) {
			add(soa, Error, RuleSOAExpire, "SOA expire %d is not above refresh %d + retry %d: secondaries would stop serving the zone before a retry (RFC 1912 §2.2)", soa.Expire, soa.Refresh, soa.Retry)
		} else if soa.Expire < week {
			add(soa, Warning, RuleSOAExpireShort, "SOA expire %d is shorter than a week; two to four weeks are recommended (RFC 1912 §2.2)", soa.Expire)
		}
	}
	return out
}

// isReverse reports whether origin is a reverse-mapping zone, for which
// RFC 2182's third server is not asked.
func isReverse(origin string) bool {
	return dns.IsSubDomain("in-addr.arpa.", origin) || dns.IsSubDomain("ip6.arpa.", origin)
}

// locateFile parses path again, as Load does, and returns a Locator
// that finds a record by its text: the first place it appears.
func locateFile(path, origin string) (Locator, error) {
	if origin == "" {
		origin = OriginFromPath(path)
	}
	origin = strings.ToLower(dns.Fqdn(origin))
	dir, err := openZoneDir(path)
	if err != nil {
		return nil, fmt.Errorf("zonefile: %w", err)
	}
	defer dir.Close()
	f, _, err := dir.open(dir.base)
	if err != nil {
		return nil, fmt.Errorf("zonefile: %w", err)
	}
	defer f.Close()

	pos := &position{}
	var includes []string
	zp := dns.NewZoneParser(newLineReader(f, dir.base, pos), origin, dir.parserName())
	zp.SetIncludeAllowed(true)
	zp.SetIncludeFS(trackedFS{dir: dir, pos: pos, opened: &includes})
	type place struct {
		file string
		line int
	}
	where := make(map[string]place)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		file, line := pos.file, pos.line
		if !pos.set {
			file, line = pos.lastFile, pos.lastLine
		}
		pos.reset()
		k := recordKey(rr)
		if _, seen := where[k]; !seen {
			where[k] = place{file: dir.display(file), line: line}
		}
	}
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("zonefile: %w", err)
	}
	return func(rr dns.RR) (string, int) {
		if e, ok := where[recordKey(rr)]; ok {
			return e.file, e.line
		}
		return path, 0
	}, nil
}

// recordKey identifies a record by owner, type and data, ignoring TTL
// and case of the owner.
func recordKey(rr dns.RR) string {
	h := rr.Header()
	return strings.ToLower(h.Name) + "\x00" + typeName(h.Rrtype) + "\x00" + rdataText(rr)
}
