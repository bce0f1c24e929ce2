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

// Promoter is the failover call the TUI will use once the control API
// has it (the failover work adds it to the client). The zone view and
// the cluster view look for it on the Daemon with a type assertion: until
// the client implements it, their promote actions say "not available
// yet". If the client's signature differs, adapt it here, in one place.
type Promoter interface {
	Promote(ctx context.Context, zone string) (*api.Zone, error)
}

// Demoter is the counterpart of Promoter for `zone demote`.
type Demoter interface {
	Demote(ctx context.Context, zone string, primaries []string, tsigKey string) (*api.Zone, error)
}
