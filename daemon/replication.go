package daemon

import (
	"context"
	"strings"

	"zonekeeper/daemon/api"
	"zonekeeper/store"
)

// Replication is split along these seams, one part per file:
//
//	tsig.go        keyring: the store's TSIG keys, for verifying and signing
//	access.go      who may transfer a zone (docs/architecture.md, "Peers, keys and access")
//	xfr_out.go     AXFR and IXFR out, from snapshots and the journal
//	journal.go     per-zone differences between versions, persisted, for IXFR
//	notify_out.go  NOTIFY to a zone's secondaries when its serial increases
//	secondary.go   secondary zones: refresh, retry, expire, NOTIFY in
//	xfr_in.go      AXFR and IXFR in, applied only when complete and valid
//
// Every new version of a zone, primary or secondary, reaches the journal
// and the notifier through the commit path (commit.go). This file holds
// what the control API asks of replication.

// zoneKind returns a zone's kind from the store; a zone the store does
// not know is a primary (its file is in DATA/zones).
func (d *Daemon) zoneKind(origin string) string {
	z, err := d.store.Zones().Get(context.Background(), origin)
	if err != nil {
		return api.KindPrimary
	}
	return string(z.Kind)
}

// zoneRecord returns the store's row for a zone, if any.
func (d *Daemon) zoneRecord(origin string) (store.Zone, bool) {
	z, err := d.store.Zones().Get(context.Background(), strings.ToLower(origin))
	return z, err == nil
}
