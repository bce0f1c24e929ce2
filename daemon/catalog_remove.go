package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"zonekeeper/daemon/api"
	"zonekeeper/store"
)

// Removal that cannot cascade (docs/architecture.md, "Catalog zones"). A
// zone provisioned from peer P that leaves P's catalog is removed here
// only when
//
//	(a) P is the zone's current primary here: the primary its last
//	    good check followed, else its first configured primary;
//	(b) no node we can see serves the zone as a primary any more: P
//	    serves it no longer at all (a zone demoted on P is still served
//	    there, as a secondary: it moved, it was not removed), and no
//	    other peer of role peer answers for it as a primary (or as a
//	    node too old to say its role);
//	(c) (a) and (b) have held for catalog-hold-down health rounds,
//	    checked again at every read of P's catalog.
//
// Otherwise the zone stays, served and refreshed as before: `zone list`
// and `zone show` say why (leaving.why), and an event names the catalog
// change each time the reason changes. A zone removed on purpose on its
// primary (`zone remove`) still leaves the secondaries, after the
// hold-down; its file moves to DATA/backup.

// leaving is a zone kept here after it left the catalog of the peer it
// was provisioned from.
type leaving struct {
	peer  string    // whose catalog it left
	safe  time.Time // since when (a) and (b) hold; zero while they do not
	why   string    // why it is still here
	event string    // why, as last reported in an event
}

// keptWhy says why zone, which left its peer's catalog, is still
// served here; "" when it did not leave one.
func (c *catalog) keptWhy(zone string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if l := c.leaving[zone]; l != nil {
		return l.why
	}
	return ""
}

// forgetLeaving drops the kept zones of peer name that its catalog lists
// again or that are gone from the store.
func (c *catalog) forgetLeaving(name string, members []string, rows []store.Zone) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for zone, l := range c.leaving {
		if l.peer != name {
			continue
		}
		known := slices.ContainsFunc(rows, func(r store.Zone) bool {
			return r.Name == zone && r.Account == peerAccountPrefix+name
		})
		if !known || slices.Contains(members, zone) {
			delete(c.leaving, zone)
		}
	}
}

// leave decides on row, a zone provisioned from p that p's catalog no
// longer lists: it removes it when (a), (b) and (c) above hold, and
// otherwise records and reports why it stays. down remembers, across
// one reconcile, the peers that could not be asked.
func (c *catalog) leave(ctx context.Context, p peer, row store.Zone, down map[string]error) {
	zone := row.Name
	why, safe := c.removalSafe(ctx, p, row, down)
	now := time.Now()
	c.mu.Lock()
	l := c.leaving[zone]
	if l == nil || l.peer != p.Name {
		l = &leaving{peer: p.Name}
		c.leaving[zone] = l
	}
	switch {
	case !safe:
		l.safe = time.Time{}
	case l.safe.IsZero():
		l.safe = now
	}
	until := l.safe.Add(c.holdDown)
	if safe && now.Before(until) {
		why = fmt.Sprintf("left the catalog of %s; no node serves it as primary: removed at %s (catalog-hold-down) unless it returns",
			p.Name, until.UTC().Format(time.RFC3339))
		if at, ok := c.retryAt[p.Name]; !ok || at.After(until) || at.Before(now) {
			c.retryAt[p.Name] = until
		}
	}
	report := why != "" && why != l.event
	l.why = why
	if report {
		l.event = why
	}
	c.mu.Unlock()
	if safe && !now.Before(until) {
		c.mu.Lock()
		delete(c.leaving, zone)
		c.mu.Unlock()
		c.removeProvisioned(ctx, zone, fmt.Sprintf("no longer in the catalog of peer %s since %s, and no node serves it as primary",
			p.Name, l.safe.UTC().Format(time.RFC3339)))
		return
	}
	if report {
		c.report(slog.LevelWarn, api.Event{Zone: zone, Kind: "catalog-in", Peer: p.Addr.Addr().String(), Outcome: api.OutcomeWarning,
			Detail: fmt.Sprintf("kept: %s (catalog %s of peer %s no longer lists it)", why, c.peerCatalog(p), p.Name)})
	}
}

// removalSafe checks (a) and (b) for row, which left p's catalog: it
// returns "", true when both hold, else why the zone must stay.
func (c *catalog) removalSafe(ctx context.Context, p peer, row store.Zone, down map[string]error) (string, bool) {
	ask := func(q peer) (zoneState, error) {
		if err, ok := down[q.Name]; ok {
			return zoneState{Why: err.Error()}, err
		}
		st, err := c.zoneState(ctx, q, row.Name)
		if err != nil {
			down[q.Name] = err
		}
		return st, err
	}
	zone := row.Name
	left := "left the catalog of " + p.Name + "; "
	// (a) p is its primary here.
	primary, _ := c.secondaries.following(zone)
	if primary == "" && len(row.Primaries) > 0 {
		primary = row.Primaries[0]
	}
	if primary != "" && !strings.EqualFold(primary, p.Name) && primary != p.Addr.String() {
		return left + "its primary here is " + primary + ", not " + p.Name, false
	}
	// (b) p no longer serves it, and no other peer serves it as primary.
	st, err := ask(p)
	switch {
	case err != nil:
		return left + p.Name + " could not be asked whether it still serves it: " + err.Error(), false
	case st.Serves && st.Role == api.KindSecondary:
		return left + "still served by " + p.Name + " as a secondary (demoted there, not removed)", false
	case st.Serves:
		return left + "still served by " + p.Name + roleText(st.Role), false
	}
	for _, q := range c.peers.list() {
		if q.Name == p.Name || q.Role != rolePeer {
			continue
		}
		st, err := ask(q)
		if err != nil || !st.Serves {
			continue // a node we cannot see, or that does not hold it
		}
		switch st.Role {
		case api.KindPrimary:
			return left + "still primary on " + q.Name, false
		case "":
			return left + "still served by " + q.Name + " (a node that does not say its role)", false
		}
	}
	return "", true
}

// roleText renders a peer's role of a zone for a reason.
func roleText(role string) string {
	if role == "" {
		return " (it does not say its role)"
	}
	return " as " + role
}

// removeProvisioned removes a secondary zone provisioned from a peer:
// it stops being served, and its file moves to DATA/backup.
func (c *catalog) removeProvisioned(ctx context.Context, zone, why string) {
	c.secondaries.removed(zone)
	detail := "secondary zone removed: " + why
	src := filepath.Join(c.secondaries.secondaryDir(), fileNameOf(zone))
	if _, err := os.Stat(src); err == nil {
		backup := filepath.Join(c.data, "backup")
		dst := filepath.Join(backup, fileNameOf(zone)+"."+time.Now().UTC().Format("20060102T150405Z"))
		if err := os.MkdirAll(backup, 0o755); err != nil {
			c.log.Error("backup directory: "+err.Error(), "zone", zone)
			return
		}
		if err := os.Rename(src, dst); err != nil {
			c.log.Error("moving a removed zone's file: "+err.Error(), "zone", zone)
			return
		}
		detail += "; its file was moved to " + dst
	}
	if err := c.db.Zones().Delete(ctx, zone); err != nil && !errors.Is(err, store.ErrNotFound) {
		c.log.Error("removing a zone: "+err.Error(), "zone", zone)
	}
	c.emit(api.Event{Zone: zone, Kind: "zone-remove", Outcome: api.OutcomeOK, Detail: detail})
}
