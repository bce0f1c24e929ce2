package zonefile

import (
	"fmt"
	"slices"
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
	p := &parsed{entries: make([]entry, len(records)), rrs: slices.Clone(records)}
	var pk packer
	for i, rr := range records {
		p.entries[i] = pk.entry(rr, 0, 0)
	}
	p.names, p.data = pk.names, pk.data
	served, findings, err := validate(origin, name, []string{name}, p)
	if err != nil {
		return nil, findings, err
	}
	return p.zone(origin, served), findings, nil
}
