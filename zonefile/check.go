package zonefile

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// Check validates records that did not come from a zonefile (a zone
// transfer, say) by the rules Load applies, and returns the zone as it
// would be served, sorted, with what the rules drop left out. name is
// shown in findings, which carry no line numbers. The records are not
// modified (a record whose TTL the rules change is copied); the zone
// shares the others.
func Check(origin, name string, records []dns.RR) (*Zone, Findings, error) {
	origin = strings.ToLower(dns.Fqdn(origin))
	if _, ok := dns.IsDomainName(origin); !ok {
		return nil, nil, fmt.Errorf("zonefile: bad origin %q", origin)
	}
	entries := make([]entry, len(records))
	for i, rr := range records {
		entries[i] = entry{rr: rr}
	}
	return validate(origin, name, []string{name}, entries)
}
