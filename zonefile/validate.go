package zonefile

import (
	"cmp"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// maxTTL is the largest TTL RFC 2181 §8 allows: 2^31 - 1.
const maxTTL = math.MaxInt32

// validate applies the zone rules to the parsed entries and returns the
// records to serve, in canonical order. files names the files that the
// entries' file indexes stand for.
//
// The records are sorted by owner and type first, so that each rule looks
// at one owner's records side by side instead of keeping a map entry per
// name of the zone; the sort is the canonical order the zone is served
// in, so it is done once.
func validate(origin, display string, files []string, p *parsed) ([]uint32, Findings, error) {
	v := &validator{origin: origin, display: display, files: files, p: p, entries: p.entries}
	v.originWire = make([]byte, 0, len(origin)+1)
	var ok bool
	if v.originWire, ok = appendPlainName(v.originWire, origin); !ok {
		var err error
		if v.originWire, err = (&packer{}).appendName(nil, origin); err != nil {
			return nil, nil, fmt.Errorf("zonefile: bad origin %q: %w", origin, err)
		}
	}
	foldASCII(v.originWire)
	v.skip = dns.CountLabel(origin)

	items := v.perRecord()
	v.trimmed = trimCommonPrefix(items, v.keys)
	items = sortItems(items, v.keys)
	served := v.owners(items)

	if !v.apexSOA {
		v.findings = append(v.findings, keyedFinding{
			Finding: Finding{File: display, Severity: Error, Rule: RuleSOAMissing, Detail: "no SOA record at the apex " + origin},
			order:   [4]int{3},
		})
	}
	if !v.apexNS {
		v.findings = append(v.findings, keyedFinding{
			Finding: Finding{File: display, Line: v.soaLine, Severity: Error, Rule: RuleNSMissing, Detail: "no NS record at the apex " + origin},
			order:   [4]int{4},
		})
	}

	// Findings are listed by place. Where two share a place, order keeps
	// them in the order the rules are applied in: per record in file
	// order, TTLs, apex, CNAMEs, delegations.
	slices.SortFunc(v.findings, func(a, b keyedFinding) int {
		if a.File != b.File {
			return strings.Compare(a.File, b.File)
		}
		if a.Line != b.Line {
			return cmp.Compare(a.Line, b.Line)
		}
		return slices.Compare(a.order[:], b.order[:])
	})
	fs := make(Findings, len(v.findings))
	for i := range v.findings {
		fs[i] = v.findings[i].Finding
	}
	if errs := fs.Errors(); len(errs) > 0 {
		return nil, fs, &InvalidError{Errors: errs}
	}
	if len(fs) == 0 {
		fs = nil
	}
	return served, fs, nil
}

// parallelRecords is the number of records from which the per-record
// rules are applied in parallel. Tests lower it.
var parallelRecords = 1 << 16

// keyedFinding is a finding with the order the rules produced it in.
type keyedFinding struct {
	Finding
	order [4]int // rule phase, then the positions that order its findings
}

// validator holds the state of one validate call.
type validator struct {
	origin, display string
	originWire      []byte // the origin in wire form, lower case
	skip            int    // labels in the origin, left out of owner keys
	files           []string
	p               *parsed
	entries         []entry // p.entries
	keys            []byte  // owner keys (see appendWireKey) of the items
	trimmed         int     // bytes all keys shared, left out of the items' keys
	findings        []keyedFinding

	apexSOA, apexNS bool
	soaLine         int // line of the first apex SOA

	cut     []byte // key of the zone cut the walk is below, if any
	cutName string // its lower-case name

	items []sortItem // a segment's result in perRecord

	members []uint32 // scratch: one RRset's entry indexes
	sets    []rrset  // scratch: one owner's RRsets
	packed  []byte   // scratch: packed records of one RRset
	packOff []int    // scratch: where each record's data starts and ends in packed
	buf     []byte   // scratch: one packed record
}

// rrset is one owner's records of one type, as entry indexes in file
// order, duplicates removed.
type rrset struct {
	rtype   uint16
	members []uint32
}

func (v *validator) add(idx uint32, order [4]int, sev Severity, rule, format string, args ...any) {
	e := &v.entries[idx]
	v.findings = append(v.findings, keyedFinding{
		Finding: Finding{File: v.files[e.file], Line: int(e.line), Severity: sev, Rule: rule, Detail: fmt.Sprintf(format, args...)},
		order:   order,
	})
}

func (v *validator) rr(idx uint32) dns.RR { return v.p.rr(idx) }
func (v *validator) line(idx uint32) int  { return int(v.entries[idx].line) }

// perRecord applies the rules that look at one record alone and returns
// the records that pass, keyed for sorting. Big zones are done in
// parallel segments, each with its own keys and findings, joined after.
func (v *validator) perRecord() []sortItem {
	segs := 1
	if len(v.entries) >= parallelRecords {
		segs = runtime.GOMAXPROCS(0)
	}
	parts := make([]*validator, segs)
	var wg sync.WaitGroup
	for i := range parts {
		part := &validator{origin: v.origin, originWire: v.originWire, skip: v.skip, files: v.files, p: v.p, entries: v.entries}
		parts[i] = part
		lo, hi := len(v.entries)*i/segs, len(v.entries)*(i+1)/segs
		wg.Go(func() { part.items = part.perRecordIn(lo, hi) })
	}
	wg.Wait()
	if segs == 1 {
		v.keys, v.findings = parts[0].keys, parts[0].findings
		return parts[0].items
	}
	n, nk := 0, 0
	for _, p := range parts {
		n, nk = n+len(p.items), nk+len(p.keys)
	}
	items := make([]sortItem, 0, n)
	v.keys = make([]byte, 0, nk)
	for _, p := range parts {
		base := uint32(len(v.keys))
		v.keys = append(v.keys, p.keys...)
		for _, it := range p.items {
			it.off += base
			items = append(items, it)
		}
		v.findings = append(v.findings, p.findings...)
	}
	return items
}

// perRecordIn is perRecord for the entries [lo, hi).
func (v *validator) perRecordIn(lo, hi int) []sortItem {
	items := make([]sortItem, 0, hi-lo)
	v.keys = make([]byte, 0, 8*(hi-lo))
	prevName, prevLen := uint32(0), uint8(0)
	var keyOff, keyLen uint32
	var in, apex bool
	for i := lo; i < hi; i++ {
		idx := uint32(i)
		e := &v.entries[i]
		order := [4]int{1, i}
		if e.class != dns.ClassINET {
			v.add(idx, order, Error, RuleClass, "%s %s has class %s; only IN is served", v.p.owner(idx), typeName(e.rtype), dns.ClassToString[e.class])
			continue
		}
		if e.flags&flagNoData != 0 {
			v.add(idx, order, Error, RuleSyntax, "%s %s has no data", v.p.owner(idx), typeName(e.rtype))
			continue
		}
		if e.flags&flagNoWire != 0 {
			v.add(idx, order, Error, RuleSyntax, "%s %s cannot be put in wire form", v.p.owner(idx), typeName(e.rtype))
			continue
		}
		if e.ttl > maxTTL {
			v.add(idx, order, Error, RuleTTLRange, "%s %s TTL %d is above 2147483647 (RFC 2181 §8)", v.p.owner(idx), typeName(e.rtype), e.ttl)
			continue
		}
		// Zonefiles usually list one owner's records together, and the
		// parse packs them once: its key is built once.
		if len(items) == 0 || e.name != prevName || e.nl != prevLen {
			prevName, prevLen = e.name, e.nl
			keyOff = uint32(len(v.keys))
			v.keys, in, apex = appendWireKey(v.keys, v.p.ownerWire(i), v.originWire, v.skip)
			keyLen = uint32(len(v.keys)) - keyOff
		}
		if !in {
			v.add(idx, order, Warning, RuleOutOfZone, "%s %s is outside the zone %s; not served", v.p.owner(idx), typeName(e.rtype), v.origin)
			continue
		}
		if e.rtype == dns.TypeSOA && !apex {
			v.add(idx, order, Error, RuleSOANotApex, "SOA at %s, below the apex %s", v.p.owner(idx), v.origin)
			continue
		}
		items = append(items, newSortItem(v.keys, keyOff, keyLen, e.rtype, idx))
	}
	return items
}

// owners walks the sorted items one owner at a time, applies the rules
// that look at an owner's RRsets together, and returns the records to
// serve in canonical order.
func (v *validator) owners(items []sortItem) []uint32 {
	served := make([]uint32, 0, len(items))
	for i := 0; i < len(items); {
		j := i + 1
		for j < len(items) && compareOwner(&items[i], &items[j], v.keys) == 0 {
			j++
		}
		served = v.owner(items[i:j], served)
		i = j
	}
	return served
}

// owner applies the rules to one owner's items (sorted by type, then
// file order) and appends its served records to served.
func (v *validator) owner(items []sortItem, served []uint32) []uint32 {
	v.sets = v.sets[:0]
	v.members = v.members[:0]
	for i := 0; i < len(items); {
		j := i + 1
		for j < len(items) && items[j].typ == items[i].typ {
			j++
		}
		start := len(v.members)
		for _, it := range items[i:j] {
			v.members = append(v.members, it.idx)
		}
		kept := v.dedupe(v.members[start:])
		v.members = v.members[:start+len(kept)]
		v.sets = append(v.sets, rrset{rtype: v.entries[kept[0]].rtype, members: kept})
		i = j
	}
	key := v.keys[items[0].off : items[0].off+items[0].n]
	apex := len(key) == 0 && v.trimmed == 0

	for _, s := range v.sets {
		v.checkTTLs(s)
		if !apex {
			continue
		}
		switch s.rtype {
		case dns.TypeSOA:
			v.apexSOA, v.soaLine = true, v.line(s.members[0])
			for _, m := range s.members[1:] {
				v.add(m, [4]int{3, int(m)}, Error, RuleSOAMultiple, "second SOA at the apex %s (first at line %d)", v.origin, v.soaLine)
			}
		case dns.TypeNS:
			v.apexNS = true
		}
	}

	// CNAME rules (RFC 1034 §3.6.2; RFC 4035 §2.5 lets DNSSEC types stand beside).
	for _, c := range v.sets {
		if c.rtype != dns.TypeCNAME {
			continue
		}
		first := int(c.members[0])
		for _, m := range c.members[1:] {
			v.add(m, [4]int{5, first, 0, int(m)}, Error, RuleCNAMEMultiple, "second CNAME at %s (first at line %d)", v.p.owner(m), v.line(c.members[0]))
		}
		for _, s := range v.sets {
			if s.rtype == dns.TypeCNAME || s.rtype == dns.TypeRRSIG || s.rtype == dns.TypeNSEC {
				continue
			}
			other := s.members[0]
			v.add(other, [4]int{5, first, 1, int(other)}, Error, RuleCNAMEConflict, "%s has a CNAME (line %d) and %s data; a CNAME must stand alone", v.p.owner(other), v.line(c.members[0]), typeName(s.rtype))
		}
	}

	// Zone cuts: data below a delegation other than glue is not served.
	// Owners come in canonical order, so everything below a cut follows
	// the cut and shares its key as a prefix; the first cut met is the
	// highest, which is the one that counts.
	at := false
	if v.cut != nil && !(len(key) > len(v.cut) && string(key[:len(v.cut)]) == string(v.cut)) {
		v.cut = nil
	}
	if v.cut == nil && !apex {
		for _, s := range v.sets {
			if s.rtype == dns.TypeNS {
				v.cut, v.cutName, at = key, v.p.canonOwner(s.members[0]), true
				break
			}
		}
	}
	for _, s := range v.sets {
		occluded := false
		switch {
		case v.cut == nil:
		case at:
			// At the cut: the delegation itself, its DS, glue for an NS
			// named like the cut, and DNSSEC data are the parent's.
			switch s.rtype {
			case dns.TypeNS, dns.TypeDS, dns.TypeRRSIG, dns.TypeNSEC, dns.TypeA, dns.TypeAAAA:
			default:
				occluded = true
			}
		default:
			occluded = s.rtype != dns.TypeA && s.rtype != dns.TypeAAAA
		}
		if occluded {
			m := s.members[0]
			v.add(m, [4]int{6, int(m)}, Warning, RuleBelowDelegation, "%s %s is below the delegation %s and is not glue; not served", v.p.owner(m), typeName(s.rtype), v.cutName)
			continue
		}
		start := len(served)
		served = append(served, s.members...)
		if len(s.members) > 1 {
			v.sortByText(served[start:])
		}
	}
	return served
}

// checkTTLs gives an RRset one TTL: differing TTLs are a warning; the
// lowest wins.
func (v *validator) checkTTLs(s rrset) {
	if s.rtype == dns.TypeRRSIG || len(s.members) < 2 {
		return
	}
	low := v.entries[s.members[0]].ttl
	differ := false
	for _, m := range s.members[1:] {
		if t := v.entries[m].ttl; t != low {
			differ = true
			low = min(low, t)
		}
	}
	if !differ {
		return
	}
	first := s.members[0]
	v.add(first, [4]int{2, int(first)}, Warning, RuleTTLMismatch, "RRset %s %s has differing TTLs; all set to the lowest, %d (RFC 2181 §5.2)", v.p.owner(first), typeName(s.rtype), low)
	for _, m := range s.members {
		if v.entries[m].ttl == low {
			continue
		}
		v.entries[m].ttl = low
		if v.p.rrs != nil {
			// A copy: the records may be shared with a version still
			// served (an IXFR applied to the one before, say).
			rr := dns.Copy(v.p.rrs[m])
			rr.Header().Ttl = low
			v.p.rrs[m] = rr
		}
	}
}

// sortByText sorts one RRset's records, indexes, by the presentation
// form of their data, keeping the order of equal ones.
func (v *validator) sortByText(set []uint32) {
	type texted struct {
		text string
		idx  uint32
	}
	ts := make([]texted, len(set))
	for i, idx := range set {
		ts[i] = texted{rdataText(v.rr(idx)), idx}
	}
	slices.SortStableFunc(ts, func(a, b texted) int { return strings.Compare(a.text, b.text) })
	for i := range ts {
		set[i] = ts[i].idx
	}
}

func typeName(t uint16) string { return dns.Type(t).String() }
