package daemon

import (
	"github.com/miekg/dns"

	"zonekeeper/zonefile"
)

// STUB: replaced by the replication work (issue 4). The seam is fixed:
// newJournal, record, since and journalDiff keep these signatures.

// journal keeps, per primary zone, a bounded list of the differences
// between its successive versions, persisted under DATA so that IXFR
// survives a restart.
type journal struct{ d *Daemon }

// journalDiff is one version step: the SOA before and after, the records
// removed and added (RFC 1995 §4 order).
type journalDiff struct {
	From, To       *dns.SOA
	Removed, Added []dns.RR
}

func newJournal(d *Daemon) (*journal, error) { return &journal{d: d}, nil }

// record stores the difference between old and cur (old is nil on a
// zone's first load since start: compare with the persisted version).
func (j *journal) record(old, cur *zonefile.Zone) error { return nil }

// since returns the steps from serial to the zone's current version, or
// ok false when the journal does not reach back to serial.
func (j *journal) since(zone string, serial uint32) (diffs []journalDiff, ok bool) { return nil, false }
