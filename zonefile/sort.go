package zonefile

import (
	"cmp"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// Sort puts records in the canonical order used by the writer and by
// Zone.Records: names in DNS canonical order (RFC 4034 §6.1, so the apex
// comes first), then SOA before every other type, then by type number,
// then by record data.
func Sort(rrs []dns.RR) {
	// Sort keys are computed once per record, not once per comparison: a
	// large zone sorts in O(n log n) comparisons of plain strings.
	keyed := make([]sortItem, len(rrs))
	for i, rr := range rrs {
		keyed[i] = sortItem{name: nameKey(rr.Header().Name), rr: rr}
	}
	slices.SortStableFunc(keyed, func(a, b sortItem) int {
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
		return strings.Compare(rdataText(a.rr), rdataText(b.rr))
	})
	for i := range keyed {
		rrs[i] = keyed[i].rr
	}
}

type sortItem struct {
	name string
	rr   dns.RR
}

// nameKey maps a name to a string whose byte order is the canonical order
// of names: lower-case labels from the root down, each ended by a zero
// byte, so that a label sorts before any longer label it prefixes.
func nameKey(name string) string {
	labels := dns.SplitDomainName(name)
	var b strings.Builder
	for i := len(labels) - 1; i >= 0; i-- {
		b.WriteString(strings.ToLower(labels[i]))
		b.WriteByte(0)
	}
	return b.String()
}

// CompareNames orders two domain names canonically (RFC 4034 §6.1):
// label by label from the root, case-insensitively.
func CompareNames(a, b string) int {
	return strings.Compare(nameKey(a), nameKey(b))
}
