package zonefile

// This file keeps the validator and sorter as they were before they were
// rewritten for speed, as the reference the rewrite is tested against.

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// legacyEntry is the parser's record as the reference validator took it.
type legacyEntry struct {
	rr   dns.RR
	file string
	line int
}

// legacyKey identifies an RRset: lower-case owner name and type.
type legacyKey struct {
	name  string
	rtype uint16
}

// validate applies the zone rules to the parsed entries and returns the
// records to serve, in canonical order.
func legacyValidate(origin, display string, entries []legacyEntry) (*Zone, Findings, error) {
	var fs Findings
	add := func(e legacyEntry, sev Severity, rule, format string, args ...any) {
		fs = append(fs, Finding{File: e.file, Line: e.line, Severity: sev, Rule: rule, Detail: fmt.Sprintf(format, args...)})
	}

	// Pass 1: per-record rules, out-of-zone data, duplicates, RRsets.
	sets := make(map[legacyKey][]legacyEntry)
	var order []legacyKey
	seen := make(map[string]legacyEntry)
	for _, e := range entries {
		h := e.rr.Header()
		name := legacyCanon(h.Name)
		if h.Class != dns.ClassINET {
			add(e, Error, RuleClass, "%s %s has class %s; only IN is served", h.Name, typeName(h.Rrtype), dns.ClassToString[h.Class])
			continue
		}
		if strings.TrimSpace(legacyRdataText(e.rr)) == "" {
			add(e, Error, RuleSyntax, "%s %s has no data", h.Name, typeName(h.Rrtype))
			continue
		}
		if _, err := dns.PackRR(e.rr, make([]byte, maxPacked), 0, nil, false); err != nil {
			// Added with the packed parse (the old code failed later,
			// in the server's compile): data miekg/dns parses but
			// cannot pack, such as a DS digest "0X", cannot be served.
			add(e, Error, RuleSyntax, "%s %s cannot be put in wire form", h.Name, typeName(h.Rrtype))
			continue
		}
		if h.Ttl > maxTTL {
			add(e, Error, RuleTTLRange, "%s %s TTL %d is above 2147483647 (RFC 2181 §8)", h.Name, typeName(h.Rrtype), h.Ttl)
			continue
		}
		if !dns.IsSubDomain(origin, name) {
			add(e, Warning, RuleOutOfZone, "%s %s is outside the zone %s; not served", h.Name, typeName(h.Rrtype), origin)
			continue
		}
		if h.Rrtype == dns.TypeSOA && name != origin {
			add(e, Error, RuleSOANotApex, "SOA at %s, below the apex %s", h.Name, origin)
			continue
		}
		k := legacyKey{name, h.Rrtype}
		id := name + "\x00" + typeName(h.Rrtype) + "\x00" + legacyRdataText(e.rr)
		if prev, dup := seen[id]; dup || legacyHasDuplicate(sets[k], e.rr) {
			if !dup {
				prev = e
			}
			add(e, Warning, RuleDuplicate, "%s %s %s repeats the record at line %d; collapsed", h.Name, typeName(h.Rrtype), legacyRdataText(e.rr), prev.line)
			continue
		}
		seen[id] = e
		if _, ok := sets[k]; !ok {
			order = append(order, k)
		}
		sets[k] = append(sets[k], e)
	}

	// RRsets with one TTL: differing TTLs are a warning; the lowest wins.
	for _, k := range order {
		set := sets[k]
		if k.rtype == dns.TypeRRSIG || len(set) < 2 {
			continue
		}
		low := set[0].rr.Header().Ttl
		differ := false
		for _, e := range set[1:] {
			if t := e.rr.Header().Ttl; t != low {
				differ = true
				low = min(low, t)
			}
		}
		if differ {
			add(set[0], Warning, RuleTTLMismatch, "RRset %s %s has differing TTLs; all set to the lowest, %d (RFC 2181 §5.2)", set[0].rr.Header().Name, typeName(k.rtype), low)
			for _, e := range set {
				e.rr.Header().Ttl = low
			}
		}
	}

	// Names and the types present at each.
	types := make(map[string][]uint16)
	for _, k := range order {
		types[k.name] = append(types[k.name], k.rtype)
	}

	// Apex rules.
	soas := sets[legacyKey{origin, dns.TypeSOA}]
	switch {
	case len(soas) == 0:
		fs = append(fs, Finding{File: display, Severity: Error, Rule: RuleSOAMissing, Detail: "no SOA record at the apex " + origin})
	case len(soas) > 1:
		for _, e := range soas[1:] {
			add(e, Error, RuleSOAMultiple, "second SOA at the apex %s (first at line %d)", origin, soas[0].line)
		}
	}
	if len(sets[legacyKey{origin, dns.TypeNS}]) == 0 {
		line := 0
		if len(soas) > 0 {
			line = soas[0].line
		}
		fs = append(fs, Finding{File: display, Line: line, Severity: Error, Rule: RuleNSMissing, Detail: "no NS record at the apex " + origin})
	}

	// CNAME rules (RFC 1034 §3.6.2; RFC 4035 §2.5 lets DNSSEC types stand beside).
	for _, k := range order {
		if k.rtype != dns.TypeCNAME {
			continue
		}
		set := sets[k]
		for _, e := range set[1:] {
			add(e, Error, RuleCNAMEMultiple, "second CNAME at %s (first at line %d)", e.rr.Header().Name, set[0].line)
		}
		for _, t := range types[k.name] {
			if t == dns.TypeCNAME || t == dns.TypeRRSIG || t == dns.TypeNSEC {
				continue
			}
			other := sets[legacyKey{k.name, t}][0]
			add(other, Error, RuleCNAMEConflict, "%s has a CNAME (line %d) and %s data; a CNAME must stand alone", other.rr.Header().Name, set[0].line, typeName(t))
		}
	}

	// Zone cuts: data below a delegation other than glue is not served.
	cuts := make(map[string]bool)
	for _, k := range order {
		if k.rtype == dns.TypeNS && k.name != origin {
			cuts[k.name] = true
		}
	}
	var served []dns.RR
	for _, k := range order {
		cut, at := legacyEnclosingCut(k.name, origin, cuts)
		occluded := false
		switch {
		case cut == "":
		case at:
			// At the cut: the delegation itself, its DS, glue for an NS
			// named like the cut, and DNSSEC data are the parent's.
			switch k.rtype {
			case dns.TypeNS, dns.TypeDS, dns.TypeRRSIG, dns.TypeNSEC, dns.TypeA, dns.TypeAAAA:
			default:
				occluded = true
			}
		default:
			occluded = k.rtype != dns.TypeA && k.rtype != dns.TypeAAAA
		}
		if occluded {
			e := sets[k][0]
			add(e, Warning, RuleBelowDelegation, "%s %s is below the delegation %s and is not glue; not served", e.rr.Header().Name, typeName(k.rtype), cut)
			continue
		}
		for _, e := range sets[k] {
			served = append(served, e.rr)
		}
	}

	slices.SortStableFunc(fs, func(a, b Finding) int {
		if a.File != b.File {
			return strings.Compare(a.File, b.File)
		}
		return cmp.Compare(a.Line, b.Line)
	})
	if errs := fs.Errors(); len(errs) > 0 {
		return nil, fs, &InvalidError{Errors: errs}
	}
	legacySort(served)
	return &Zone{Origin: origin, Records: served}, fs, nil
}

// legacyEnclosingCut returns the highest zone cut at or above name (below the
// origin), and whether name is the cut itself.
func legacyEnclosingCut(name, origin string, cuts map[string]bool) (string, bool) {
	if len(cuts) == 0 || name == origin {
		return "", false
	}
	found := ""
	for n := name; n != origin && n != "."; {
		if cuts[n] {
			found = n
		}
		i, end := dns.NextLabel(n, 0)
		if end {
			break
		}
		n = n[i:]
	}
	return found, found == name
}

// legacyHasDuplicate reports whether set already holds a record equal to rr
// (RFC 2181 §5: TTL aside). Exact text matches are caught by the caller;
// this catches equal records written differently (name case, escapes).
func legacyHasDuplicate(set []legacyEntry, rr dns.RR) bool {
	if len(set) > 32 {
		return false
	}
	for _, e := range set {
		if dns.IsDuplicate(e.rr, rr) {
			return true
		}
	}
	return false
}

// legacyRdataText returns the presentation form of rr's data, without its header.
func legacyRdataText(rr dns.RR) string {
	if u, ok := rr.(*dns.RFC3597); ok {
		// Unknown types print their header in RFC 3597 form too; keep only
		// the generic data.
		if u.Rdata == "" {
			return `\# 0`
		}
		return fmt.Sprintf(`\# %d %s`, len(u.Rdata)/2, u.Rdata)
	}
	return strings.TrimPrefix(rr.String(), rr.Header().String())
}

// legacySort puts records in the canonical order used by the writer and by
// Zone.Records: names in DNS canonical order (RFC 4034 §6.1, so the apex
// comes first), then SOA before every other type, then by type number,
// then by record data.
func legacySort(rrs []dns.RR) {
	// Sort keys are computed once per record, not once per comparison: a
	// large zone sorts in O(n log n) comparisons of plain strings.
	keyed := make([]legacySortItem, len(rrs))
	for i, rr := range rrs {
		keyed[i] = legacySortItem{name: legacyNameKey(rr.Header().Name), rr: rr}
	}
	slices.SortStableFunc(keyed, func(a, b legacySortItem) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		ta, tb := a.rr.Header().Rrtype, b.rr.Header().Rrtype
		if ta != tb {
			if ta == dns.TypeSOA {
				return -1
			}
			if tb == dns.TypeSOA {
				return 1
			}
			return cmp.Compare(ta, tb)
		}
		return strings.Compare(legacyRdataText(a.rr), legacyRdataText(b.rr))
	})
	for i := range keyed {
		rrs[i] = keyed[i].rr
	}
}

var legacyLabelEscaper = strings.NewReplacer("\x00", "\x01\x01", "\x01", "\x01\x02")

type legacySortItem struct {
	name string
	rr   dns.RR
}

// legacyNameKey maps a name to a string whose byte order is the canonical order
// of names: lower-case labels from the root down, each ended by a zero
// byte, so that a label sorts before any longer label it prefixes.
func legacyNameKey(name string) string {
	var buf [256]byte
	n, err := dns.PackDomainName(dns.Fqdn(name), buf[:], 0, nil, false)
	if err != nil {
		panic(err)
	}
	var labels []string
	for off := 0; buf[off] != 0; off += int(buf[off]) + 1 {
		// A label's own zero byte must not read as its end: the zero
		// and one bytes are escaped as appendLabelKey escapes them,
		// which keeps the canonical order.
		label := legacyLabelEscaper.Replace(string(buf[off+1 : off+1+int(buf[off])]))
		labels = append(labels, strings.ToLower(label))
	}
	_ = n
	var b strings.Builder
	for i := len(labels) - 1; i >= 0; i-- {
		b.WriteString(labels[i])
		b.WriteByte(0)
	}
	return b.String()
}

// legacyCanon returns a name as one spelling of its octets, in lower
// case: names that differ only in how they escape are one name.
func legacyCanon(name string) string {
	var buf [256]byte
	n, err := dns.PackDomainName(dns.Fqdn(name), buf[:], 0, nil, false)
	if err != nil {
		return strings.ToLower(name)
	}
	s, _, err := dns.UnpackDomainName(buf[:n], 0)
	if err != nil {
		return strings.ToLower(name)
	}
	return strings.ToLower(s)
}

// CompareNames orders two domain names canonically (RFC 4034 §6.1):
// label by label from the root, case-insensitively.
func legacyCompareNames(a, b string) int {
	return strings.Compare(legacyNameKey(a), legacyNameKey(b))
}
