package daemon

import (
	"context"
	"net/netip"

	"zonekeeper/daemon/api"
)

// STUB: replaced by the replication work (issue 4). The seam is fixed:
// newNotifier, Run, zoneChanged, notifyAll and notifyHost keep these
// signatures.

// notifier sends NOTIFY (RFC 1996) for primary zones whose serial
// increased, retrying with backoff until each target answers.
type notifier struct{ d *Daemon }

func newNotifier(d *Daemon) *notifier { return &notifier{d: d} }

// Run sends queued NOTIFYs until ctx is cancelled.
func (n *notifier) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// zoneChanged queues NOTIFY of zone at serial to all its targets.
func (n *notifier) zoneChanged(zone string, serial uint32) {}

// notifyAll sends NOTIFY to every target of zone now and reports each.
func (n *notifier) notifyAll(ctx context.Context, zone string) (*api.NotifyResult, error) {
	return nil, api.Errorf(api.CodeNotPermitted, "NOTIFY is not implemented yet")
}

// notifyHost sends NOTIFY of zone to one address now.
func (n *notifier) notifyHost(ctx context.Context, zone string, addr netip.AddrPort) (*api.NotifyResult, error) {
	return nil, api.Errorf(api.CodeNotPermitted, "NOTIFY is not implemented yet")
}
