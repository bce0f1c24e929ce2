package common

import (
	"context"

	"zonekeeper/daemon/api"
	"zonekeeper/daemon/client"
)

// Daemon is what the TUI asks of the control API; *client.Client is the
// implementation, and tests of a single view may give a fake.
type Daemon interface {
	Status(ctx context.Context) (*api.Status, error)
	Zones(ctx context.Context) ([]api.Zone, error)
	Zone(ctx context.Context, name string) (*api.ZoneDetail, error)
	Edit(ctx context.Context, zone string, req api.EditRequest) (*api.EditResult, error)
	Retrieve(ctx context.Context, zone string) (*api.Zone, error)
	Notify(ctx context.Context, zone, addr string) (*api.NotifyResult, error)
	Keys(ctx context.Context) ([]api.Key, error)
	AddKey(ctx context.Context, k api.Key) (*api.Key, error)
	RemoveKey(ctx context.Context, name string) error
	Events(ctx context.Context, q client.EventQuery, fn func(api.Event) error) error
}

var _ Daemon = (*client.Client)(nil)

// Promoter is the failover API the zone and cluster views use:
// *client.Client implements it. The views look for it on the Daemon with
// a type assertion, so that a fake Daemon of a single view's test may
// leave it out (its promote actions then say "not available").
type Promoter interface {
	Promote(ctx context.Context, zone string) (*api.PromoteResult, error)
	PromoteAll(ctx context.Context, from string) (*api.PromoteResult, error)
}

// Demoter is the counterpart of Promoter for `zone demote`.
type Demoter interface {
	Demote(ctx context.Context, zone string, req api.DemoteRequest) (*api.DemoteResult, error)
}

// PeerLister lists the peers this node replicates with: the servers a
// promotion notifies, and the cluster view's rows.
type PeerLister interface {
	Peers(ctx context.Context) ([]api.Peer, error)
}

// HealthChecker asks every server that should hold a zone for its SOA
// now (`zone health`): the cluster view's zone health pane.
type HealthChecker interface {
	ZoneHealth(ctx context.Context, zone string) (*api.Zone, error)
}

// SerialSetter runs the serial reset procedure of RFC 2182 §7
// (`zone set-serial`): the zone view's set-serial action.
type SerialSetter interface {
	SetSerial(ctx context.Context, zone string, req api.SetSerialRequest) (*api.SetSerialResult, error)
}

var (
	_ Promoter      = (*client.Client)(nil)
	_ Demoter       = (*client.Client)(nil)
	_ PeerLister    = (*client.Client)(nil)
	_ HealthChecker = (*client.Client)(nil)
	_ SerialSetter  = (*client.Client)(nil)
)
