package daemon

import (
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"zonekeeper/daemon/api"
)

// The control API of replication: retrieve, notify, zone health and
// export (secondary.go, notify_out.go, health.go, export.go hold the
// procedures).

func (d *Daemon) handleRetrieve(r *http.Request) (any, error) {
	name, err := zoneName(r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	z, _, err := d.zoneByName(r.Context(), name)
	if err != nil {
		return nil, err
	}
	if z.Kind != api.KindSecondary {
		return nil, api.Errorf(api.CodeNotPermitted, "zone %s is a %s zone: only secondaries are retrieved from primaries", name, z.Kind)
	}
	if err := d.secondaries.retrieve(r.Context(), name); err != nil {
		return nil, err
	}
	z, _, err = d.zoneByName(r.Context(), name)
	return z, err
}

func (d *Daemon) handleNotify(r *http.Request) (any, error) {
	name, err := zoneName(r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	var req api.NotifyRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	z, _, err := d.zoneByName(r.Context(), name)
	if err != nil {
		return nil, err
	}
	switch z.State {
	case api.StateServing, api.StateFresh, api.StateChecking, api.StateStale, api.StateExpiring:
	default:
		return nil, api.Errorf(api.CodeNotPermitted, "zone %s is not being served (%s): nothing to announce", name, z.State)
	}
	if req.Addr == "" {
		return d.notifier.notifyAll(r.Context(), name)
	}
	ap, err := ParseAddr(req.Addr, 53)
	if pe, ok := d.peers.byName(req.Addr); err != nil && ok {
		ap, err = pe.Addr, nil
	}
	if err != nil {
		return nil, api.Errorf(api.CodeBadRequest, "notify-host: %v, nor the name of a peer", err)
	}
	return d.notifier.notifyHost(r.Context(), name, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
}

func (d *Daemon) handleZoneHealth(r *http.Request) (any, error) {
	name, err := zoneName(r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	if _, _, err := d.zoneByName(r.Context(), name); err != nil {
		return nil, err
	}
	d.health.checkZone(r.Context(), name)
	z, _, err := d.zoneByName(r.Context(), name)
	return z, err
}

// handleExport serves GET /v1/export?format=bind|knot|nsd&role=...&peer=NAME&zones=a,b.
func (d *Daemon) handleExport(r *http.Request) (any, error) {
	q := r.URL.Query()
	format, role := q.Get("format"), q.Get("role")
	if role == "" {
		role = api.ExportRoleSecondary
	}
	render, ok := exportRenderers[format]
	if !ok {
		return nil, api.Errorf(api.CodeBadRequest, "export format %q: use bind, knot or nsd", format)
	}
	if role != api.ExportRoleSecondary && role != api.ExportRolePrimary {
		return nil, api.Errorf(api.CodeBadRequest, "export role %q: use secondary or primary", role)
	}
	var target *peer
	if name := q.Get("peer"); name != "" {
		p, ok := d.peers.byName(name)
		if !ok {
			return nil, api.Errorf(api.CodeNotFound, "peer %q is not known here (see `zonekeeper peer list`)", name)
		}
		target = &p
	}
	all, err := d.allZones(r.Context())
	if err != nil {
		return nil, err
	}
	known := make(map[string]bool, len(all))
	var names []string
	for _, z := range all {
		known[z.Name] = true
		names = append(names, z.Name)
	}
	if list := q.Get("zones"); list != "" {
		names = nil
		for _, s := range strings.Split(list, ",") {
			name, err := zoneName(strings.TrimSpace(s))
			if err != nil {
				return nil, err
			}
			if !known[name] {
				return nil, api.Errorf(api.CodeNotFound, "zone %s is not known here (see `zonekeeper zone list`)", name)
			}
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	plan := d.exportPlan(r.Context(), format, role, names, target)
	res := api.ExportResult{Format: format, Role: role, Peer: plan.Peer, Zones: names, Config: render(plan)}
	if res.Zones == nil {
		res.Zones = []string{}
	}
	keys := make([]string, 0, len(plan.Keys))
	for _, k := range plan.Keys {
		keys = append(keys, k.Name)
	}
	detail := fmt.Sprintf("%s %s fragment for %d zone(s)", format, role, len(names))
	if plan.Peer != "" {
		detail += " for peer " + plan.Peer
	}
	if len(keys) > 0 {
		detail += ", with the secrets of " + strings.Join(keys, ", ")
	}
	d.events.Emit(api.Event{Kind: "export", Outcome: api.OutcomeOK, Detail: detail})
	return res, nil
}
