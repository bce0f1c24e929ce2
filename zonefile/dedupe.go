package zonefile

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// The duplicate rule (RFC 2181 §5: records equal but for their TTL are
// one record) has two parts, kept as they have always been: a record
// whose data reads the same as an earlier one's repeats that record; and
// in RRsets of up to 32 records, one that dns.IsDuplicate finds equal to
// an earlier one (names differing in case, say) repeats too. Formatting
// every record as text to find the rare repeat is what made loading
// slow, so records are first compared by their packed data with ASCII
// case folded, which is equal whenever either test could succeed; only
// records that match there are compared as text or with IsDuplicate.

// foldable lists the types whose IsDuplicate compares nothing but exact
// fields, names without regard to ASCII case and addresses: for them,
// folded packed data that differs proves two records are not repeats.
var foldable = map[uint16]bool{
	dns.TypeA: true, dns.TypeAAAA: true, dns.TypeNS: true, dns.TypeCNAME: true,
	dns.TypePTR: true, dns.TypeMX: true, dns.TypeTXT: true, dns.TypeSRV: true,
	dns.TypeSOA: true, dns.TypeCAA: true, dns.TypeDS: true, dns.TypeDNSKEY: true,
	dns.TypeRRSIG: true, dns.TypeNSEC: true, dns.TypeNSEC3: true,
}

// maxDupCompare is the size of RRset above which dns.IsDuplicate is no
// longer tried (only same-text repeats are caught), as it always was.
const maxDupCompare = 32

// dedupe removes the repeats from one RRset's entry indexes (in file
// order), reporting each, and returns the ones kept; it reuses members.
func (v *validator) dedupe(members []uint32) []uint32 {
	if len(members) < 2 {
		return members
	}
	if !foldable[v.entries[members[0]].rtype] {
		return v.dedupeByText(members)
	}
	v.pack(members)
	var byData map[string][]int // big RRsets: indexes in kept by folded data
	if len(members) > 64 {
		byData = make(map[string][]int)
	}
	kept := members[:0]
	var keptAt []int // position in members of each kept record
	var cands []int
	for i, m := range members {
		if byData != nil {
			cands = byData[string(v.data(i))]
		} else {
			cands = cands[:0]
			for k, at := range keptAt {
				if bytes.Equal(v.data(at), v.data(i)) {
					cands = append(cands, k)
				}
			}
		}
		if prev, ok := v.repeats(kept, cands, m); ok {
			v.addDuplicate(m, prev)
			continue
		}
		if byData != nil {
			k := string(v.data(i))
			byData[k] = append(byData[k], len(kept))
		}
		kept = append(kept, m)
		keptAt = append(keptAt, i)
	}
	return kept
}

// repeats reports whether m repeats one of the kept records whose
// indexes in kept are cands, and the line to name as the one repeated.
func (v *validator) repeats(kept []uint32, cands []int, m uint32) (int, bool) {
	if len(cands) == 0 {
		return 0, false
	}
	text := rdataText(v.rr(m))
	for _, k := range cands {
		if rdataText(v.rr(kept[k])) == text {
			return v.line(kept[k]), true
		}
	}
	if len(kept) <= maxDupCompare {
		for _, k := range cands {
			if dns.IsDuplicate(v.rr(kept[k]), v.rr(m)) {
				return v.line(m), true
			}
		}
	}
	return 0, false
}

// dedupeByText is dedupe for types whose data cannot be compared packed.
func (v *validator) dedupeByText(members []uint32) []uint32 {
	seen := make(map[string]uint32, len(members))
	kept := members[:0]
	for _, m := range members {
		text := rdataText(v.rr(m))
		if prev, ok := seen[text]; ok {
			v.addDuplicate(m, v.line(prev))
			continue
		}
		dup := false
		if len(kept) <= maxDupCompare {
			for _, k := range kept {
				if dns.IsDuplicate(v.rr(k), v.rr(m)) {
					dup = true
					break
				}
			}
		}
		if dup {
			v.addDuplicate(m, v.line(m))
			continue
		}
		seen[text] = m
		kept = append(kept, m)
	}
	return kept
}

func (v *validator) addDuplicate(m uint32, prevLine int) {
	h := v.rr(m).Header()
	v.add(m, [4]int{1, int(m)}, Warning, RuleDuplicate, "%s %s %s repeats the record at line %d; collapsed", h.Name, typeName(h.Rrtype), rdataText(v.rr(m)), prevLine)
}

// pack gathers the data of members into v.packed, ASCII case folded.
func (v *validator) pack(members []uint32) {
	v.packOff = v.packOff[:0]
	v.packed = v.packed[:0]
	for _, m := range members {
		v.packOff = append(v.packOff, len(v.packed))
		at := len(v.packed)
		v.packed = append(v.packed, v.p.rdata(m)...)
		foldASCII(v.packed[at:])
	}
	v.packOff = append(v.packOff, len(v.packed))
}

// data returns the folded packed data of the i-th packed record.
func (v *validator) data(i int) []byte { return v.packed[v.packOff[i]:v.packOff[i+1]] }

// hasNoData reports whether a record's data reads as nothing, as a
// record written without data does (the parser accepts that for
// dynamic updates). The common types are answered without formatting.
func hasNoData(rr dns.RR) bool {
	switch r := rr.(type) {
	case *dns.A:
		return r.A == nil
	case *dns.AAAA:
		return r.AAAA == nil
	case *dns.TXT:
		return len(r.Txt) == 0
	case *dns.NS:
		if plainName(r.Ns) {
			return r.Ns == ""
		}
	case *dns.CNAME:
		if plainName(r.Target) {
			return r.Target == ""
		}
	case *dns.PTR:
		if plainName(r.Ptr) {
			return r.Ptr == ""
		}
	case *dns.MX, *dns.SOA, *dns.SRV, *dns.DS, *dns.DNSKEY, *dns.RRSIG, *dns.NSEC3, *dns.CAA, *dns.SVCB, *dns.HTTPS:
		// Their text always starts with a number or a type name.
		return false
	}
	return strings.TrimSpace(rdataText(rr)) == ""
}

// plainName reports whether a name prints as itself: no escapes, no
// blanks or control characters.
func plainName(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == '\\' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// rdataText returns the presentation form of rr's data, without its header.
func rdataText(rr dns.RR) string {
	if u, ok := rr.(*dns.RFC3597); ok {
		// Unknown types print their header in RFC 3597 form too; keep only
		// the generic data.
		if u.Rdata == "" {
			return `\# 0`
		}
		return fmt.Sprintf(`\# %d %s`, len(u.Rdata)/2, u.Rdata)
	}
	// rr.String() is the header, "owner\tTTL\tclass\ttype\t", then the
	// data. No header field holds a raw tab (names escape it as \009),
	// so the data starts after the fourth: formatting the header a
	// second time to trim it cost as much as the data.
	s := rr.String()
	for range 4 {
		i := strings.IndexByte(s, '\t')
		if i < 0 {
			return strings.TrimPrefix(rr.String(), rr.Header().String())
		}
		s = s[i+1:]
	}
	return s
}
