package daemon

import (
	"context"
	"net/netip"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
)

// STUB: replaced by the replication work (issue 4). The seam is fixed:
// newSecondaries, Run, notify, expireRemaining, retrieve, added and
// removed keep these signatures.

// secondaries runs the secondary zones: SOA refresh, retry and expire
// timers, transfers in, NOTIFY in.
type secondaries struct{ d *Daemon }

func newSecondaries(d *Daemon) *secondaries { return &secondaries{d: d} }

// Run serves the secondary zones until ctx is cancelled.
func (s *secondaries) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// notify handles a NOTIFY for zone from an address, signed with key ("" when
// unsigned), and returns the rcode to answer with.
func (s *secondaries) notify(zone string, from netip.AddrPort, key string) int {
	return dns.RcodeRefused
}

// expireRemaining returns the seconds left before a secondary zone
// expires (RFC 7314), and false for a zone that is not a secondary.
func (s *secondaries) expireRemaining(zone string) (uint32, bool) { return 0, false }

// retrieve transfers a secondary zone now, whatever the serial.
func (s *secondaries) retrieve(ctx context.Context, zone string) error {
	return api.Errorf(api.CodeNotPermitted, "transfers are not implemented yet")
}

// added starts serving a secondary zone registered by the control API.
func (s *secondaries) added(zone string) {}

// removed stops a secondary zone the control API removed.
func (s *secondaries) removed(zone string) {}
