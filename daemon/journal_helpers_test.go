package daemon

// Test helpers of the journal: recording a zone the tests build, served
// or not.

import (
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"zonekeeper/daemon/answer"
	"zonekeeper/zonefile"
)

// record is recordServed for the zone cur, as the commit path records it:
// packed from the snapshot zones serves when it serves cur's serial, else
// from cur's records (a version not served).
func (j *journal) record(zones *answer.Zones, cur *zonefile.Zone) error {
	if cur == nil || cur.SOA() == nil {
		return nil
	}
	origin := strings.ToLower(dns.Fqdn(cur.Origin))
	if snap := zones.Get(origin); snap != nil && snap.Serial() == cur.Serial() {
		return j.recordServed(snap)
	}
	packed, err := packZone(cur)
	if err != nil {
		return fmt.Errorf("zone %s: %w", origin, err)
	}
	return j.recordPacked(origin, packed, nil)
}

// packZone packs z's records.
func packZone(z *zonefile.Zone) (*packedZone, error) {
	p := &packedZone{offs: make([]int, 0, len(z.Records)+1), serial: z.Serial()}
	scratch := make([]byte, dns.MaxMsgSize+answer.MaxNameLen+16)
	for _, rr := range z.Records {
		n, err := dns.PackRR(rr, scratch, 0, nil, false)
		if err != nil {
			return nil, fmt.Errorf("journal: packing %s %s: %w", rr.Header().Name, dns.Type(rr.Header().Rrtype), err)
		}
		p.offs = append(p.offs, len(p.buf))
		p.buf = append(p.buf, scratch[:n]...)
	}
	p.offs = append(p.offs, len(p.buf))
	p.digest = sha256.Sum256(p.buf)
	return p, nil
}
