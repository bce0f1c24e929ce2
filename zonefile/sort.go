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
	slices.SortStableFunc(rrs, compareRR)
}

func compareRR(a, b dns.RR) int {
	ha, hb := a.Header(), b.Header()
	if c := CompareNames(ha.Name, hb.Name); c != 0 {
		return c
	}
	if ha.Rrtype != hb.Rrtype {
		if ha.Rrtype == dns.TypeSOA {
			return -1
		}
		if hb.Rrtype == dns.TypeSOA {
			return 1
		}
		return cmp.Compare(ha.Rrtype, hb.Rrtype)
	}
	return strings.Compare(rdataText(a), rdataText(b))
}

// CompareNames orders two domain names canonically (RFC 4034 §6.1):
// label by label from the root, case-insensitively.
func CompareNames(a, b string) int {
	la, lb := dns.SplitDomainName(a), dns.SplitDomainName(b)
	for i, j := len(la)-1, len(lb)-1; i >= 0 && j >= 0; i, j = i-1, j-1 {
		if c := strings.Compare(strings.ToLower(la[i]), strings.ToLower(lb[j])); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(la), len(lb))
}
