package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
	"zonekeeper/store"
)

// zoneName validates and normalises a zone name from a request.
func zoneName(s string) (string, error) {
	if s == "" {
		return "", api.Errorf(api.CodeBadRequest, "empty zone name")
	}
	// A zone name names files (DATA/zones/NAME.zone, its journal): only
	// printable ASCII, no escapes, no path separators, no empty labels.
	for _, c := range []byte(s) {
		if c <= ' ' || c >= 0x7f {
			return "", api.Errorf(api.CodeBadRequest, "%q is not a valid zone name: it holds the byte 0x%02x; use printable ASCII only", s, c)
		}
	}
	name := strings.ToLower(dns.Fqdn(s))
	if _, ok := dns.IsDomainName(name); !ok || strings.Contains(name, "..") || strings.ContainsAny(name, "/\\") || (len(name) > 1 && name[0] == '.') {
		return "", api.Errorf(api.CodeBadRequest, "%q is not a valid zone name", s)
	}
	return name, nil
}

// zoneView merges what the store, the loader and the registry know of
// one zone into its API form.
func (d *Daemon) zoneView(sz *store.Zone, fz *fileZone) api.Zone {
	var z api.Zone
	if sz != nil {
		z = api.Zone{
			Name: sz.Name, Kind: string(sz.Kind), Primaries: sz.Primaries, TSIGKey: sz.TSIGKey,
			SerialPolicy: string(sz.SerialPolicy), Account: sz.Account, LastCheck: sz.LastCheck,
			LastSerial: sz.LastSerial, NotifiedSerial: sz.NotifiedSerial, Created: sz.Created, Updated: sz.Updated,
		}
	}
	if fz != nil {
		z.Name = fz.origin
		z.File = fz.path
		z.Error = fz.lastErr
		if z.Kind == "" {
			z.Kind = api.KindPrimary
		}
	}
	if z.SerialPolicy == "" {
		z.SerialPolicy = api.SerialIncrement
	}
	snap := d.zones.Get(z.Name)
	z.Catalog = d.catalog.keptWhy(z.Name)
	if v, ok := d.secondaries.view(z.Name); ok && z.Kind == api.KindSecondary {
		z.State, z.Serial, z.Records, z.File = v.state, v.serial, v.records, v.file
		if z.Error == "" {
			z.Error = v.detail
		}
		return d.sigs.decorate(d.health.decorate(z))
	}
	switch {
	case snap != nil:
		z.State = api.StateServing
		z.Serial = snap.Serial()
		if fz != nil && fz.loaded {
			z.Records = fz.records
		}
	case z.Kind == api.KindSecondary:
		z.State = api.StatePending
	case fz != nil && fz.lastErr != "":
		z.State = api.StateBroken
	default:
		z.State = api.StateNotFound
	}
	return d.sigs.decorate(d.health.decorate(z))
}

// allZones lists every zone: those in the store and those with a file.
func (d *Daemon) allZones(ctx context.Context) ([]api.Zone, error) {
	stored, err := d.store.Zones().List(ctx)
	if err != nil {
		return nil, err
	}
	files := make(map[string]fileZone)
	for _, fz := range d.loader.list() {
		files[fz.origin] = fz
	}
	var out []api.Zone
	for i := range stored {
		var fz *fileZone
		if f, ok := files[stored[i].Name]; ok {
			fz = &f
			delete(files, stored[i].Name)
		}
		out = append(out, d.zoneView(&stored[i], fz))
	}
	for _, f := range files {
		out = append(out, d.zoneView(nil, &f))
	}
	slices.SortFunc(out, func(a, b api.Zone) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// zoneByName returns the API view of one zone, or a not-found error.
func (d *Daemon) zoneByName(ctx context.Context, name string) (api.Zone, *store.Zone, error) {
	sz, err := d.store.Zones().Get(ctx, name)
	var szp *store.Zone
	if err == nil {
		szp = &sz
	} else if !errors.Is(err, store.ErrNotFound) {
		return api.Zone{}, nil, err
	}
	fz, ok := d.loader.get(name)
	if szp == nil && !ok {
		return api.Zone{}, nil, api.Errorf(api.CodeNotFound, "zone %s is not known here (see `zonekeeper zone list`)", name)
	}
	var fzp *fileZone
	if ok {
		fzp = &fz
	}
	return d.zoneView(szp, fzp), szp, nil
}

func (d *Daemon) handleZoneList(r *http.Request) (any, error) {
	zs, err := d.allZones(r.Context())
	if zs == nil {
		zs = []api.Zone{}
	}
	return zs, err
}

func (d *Daemon) handleZoneShow(r *http.Request) (any, error) {
	name, err := zoneName(r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	z, _, err := d.zoneByName(r.Context(), name)
	if err != nil {
		return nil, err
	}
	detail := api.ZoneDetail{Zone: z, Records: []api.Record{}}
	// The records served now, whatever the zone's kind: a secondary's
	// come from its last transfer.
	if snap := d.zones.Get(name); snap != nil {
		if err := snap.EachRR(func(rr dns.RR) bool {
			detail.Records = append(detail.Records, recordOf(rr))
			return true
		}); err != nil {
			return nil, err
		}
	}
	if meta, err := d.store.Meta().List(r.Context(), name); err == nil && len(meta) > 0 {
		detail.Meta = d.visibleMeta(r, meta)
	}
	return detail, nil
}

func (d *Daemon) handleAddSecondary(r *http.Request) (any, error) {
	var req api.AddSecondaryRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	name, err := zoneName(req.Name)
	if err != nil {
		return nil, err
	}
	if len(req.Primaries) == 0 {
		return nil, api.Errorf(api.CodeBadRequest, "zone %s: give at least one primary address", name)
	}
	var primaries []string
	for _, p := range req.Primaries {
		ap, err := ParseAddr(strings.TrimSpace(p), 53)
		if pe, ok := d.peers.byName(strings.TrimSpace(p)); err != nil && ok {
			primaries = append(primaries, pe.Name) // a peer's name follows the peer (primaries.go)
			continue
		}
		if err != nil {
			return nil, api.Errorf(api.CodeBadRequest, "primary %v, nor the name of a peer", err)
		}
		primaries = append(primaries, ap.String())
	}
	if req.TSIGKey != "" {
		if req.TSIGKey, err = d.existingKey(r, req.TSIGKey); err != nil {
			return nil, err
		}
	}
	if _, ok := d.loader.get(name); ok {
		return nil, api.Errorf(api.CodeExists, "zone %s is a primary zone here (%s); remove it first", name, filepath.Join(d.cfg.ZonesDir(), fileNameOf(name)))
	}
	sz := store.Zone{Name: name, Kind: store.ZoneKind(api.KindSecondary), Primaries: primaries, TSIGKey: req.TSIGKey}
	if err := storeError(d.store.Zones().Add(r.Context(), sz), "zone "+name); err != nil {
		return nil, err
	}
	detail := "primaries " + strings.Join(primaries, ", ")
	if req.TSIGKey != "" {
		detail += ", signed with " + req.TSIGKey
	}
	d.secondaries.added(name)
	d.events.EmitWait(r.Context(), api.Event{Zone: name, Kind: "zone-add", Outcome: api.OutcomeOK, Detail: "secondary zone added: " + detail})
	z, _, err := d.zoneByName(r.Context(), name)
	return z, err
}

func (d *Daemon) handleZoneSet(r *http.Request) (any, error) {
	name, err := zoneName(r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	var req api.ZoneSetRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if req.Kind == "" && req.SerialPolicy == "" {
		return nil, api.Errorf(api.CodeBadRequest, "nothing to change: give --kind or --serial-policy")
	}
	switch req.Kind {
	case "", api.KindPrimary, api.KindNative:
	case api.KindSecondary:
		return nil, api.Errorf(api.CodeBadRequest, "a zone becomes a secondary with `zone demote`, not `zone set`")
	default:
		return nil, api.Errorf(api.CodeBadRequest, "unknown zone kind %q: use primary or native", req.Kind)
	}
	switch req.SerialPolicy {
	case "", api.SerialIncrement, api.SerialDate, api.SerialUnixtime:
	default:
		return nil, api.Errorf(api.CodeBadRequest, "unknown serial policy %q: use increment, date or unixtime", req.SerialPolicy)
	}
	z, sz, err := d.zoneByName(r.Context(), name)
	if err != nil {
		return nil, err
	}
	if req.Kind != "" && z.Kind == api.KindSecondary {
		return nil, api.Errorf(api.CodeNotPermitted, "zone %s is a secondary: make it primary with `zone promote`", name)
	}
	if sz == nil {
		if err := d.store.Zones().Put(r.Context(), store.Zone{Name: name, Kind: store.ZoneKind(z.Kind)}); err != nil {
			return nil, err
		}
	}
	var changes []string
	err = d.store.Zones().Update(r.Context(), name, func(s *store.Zone) error {
		if req.Kind != "" {
			s.Kind = store.ZoneKind(req.Kind)
			changes = append(changes, "kind "+req.Kind)
		}
		if req.SerialPolicy != "" {
			s.SerialPolicy = store.SerialPolicy(req.SerialPolicy)
			changes = append(changes, "serial policy "+req.SerialPolicy)
		}
		return nil
	})
	if err := storeError(err, "zone "+name); err != nil {
		return nil, err
	}
	d.events.EmitWait(r.Context(), api.Event{Zone: name, Kind: "zone-set", Outcome: api.OutcomeOK, Detail: strings.Join(changes, ", ")})
	z, _, err = d.zoneByName(r.Context(), name)
	return z, err
}

func (d *Daemon) handleZoneRemove(r *http.Request) (any, error) {
	name, err := zoneName(r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	z, sz, err := d.zoneByName(r.Context(), name)
	if err != nil {
		return nil, err
	}
	// Stop a secondary's timers and transfers first, so that none writes
	// its file after it has moved.
	if z.Kind == api.KindSecondary {
		d.secondaries.removed(name)
	}
	// Zone data is never deleted: the file moves to DATA/backup.
	var moved []string
	for _, path := range []string{
		filepath.Join(d.cfg.ZonesDir(), fileNameOf(name)),
		filepath.Join(d.cfg.Data, "secondary", fileNameOf(name)),
	} {
		if _, err := os.Stat(path); err != nil {
			continue
		}
		backup := filepath.Join(d.cfg.Data, "backup")
		if err := os.MkdirAll(backup, 0o755); err != nil {
			return nil, err
		}
		dst := filepath.Join(backup, fileNameOf(name)+"."+time.Now().UTC().Format("20060102T150405Z"))
		if err := os.Rename(path, dst); err != nil {
			return nil, fmt.Errorf("moving %s to %s: %w", path, dst, err)
		}
		moved = append(moved, dst)
	}
	d.loader.changed([]string{fileNameOf(name)})
	d.commits.retire(name, "", true)
	if sz != nil {
		if err := storeError(d.store.Zones().Delete(r.Context(), name), "zone "+name); err != nil {
			return nil, err
		}
	}
	detail := z.Kind + " zone removed"
	if len(moved) > 0 {
		detail += "; its file was moved to " + strings.Join(moved, ", ")
	}
	d.events.EmitWait(r.Context(), api.Event{Zone: name, Kind: "zone-remove", Outcome: api.OutcomeOK, Serial: z.Serial, Detail: detail})
	return nil, nil
}

func (d *Daemon) handleEdit(r *http.Request) (any, error) {
	name, err := zoneName(r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	var req api.EditRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	z, _, err := d.zoneByName(r.Context(), name)
	if err != nil {
		return nil, err
	}
	if z.Kind == api.KindSecondary {
		return nil, api.Errorf(api.CodeNotPermitted, "zone %s is a secondary: its data comes from its primaries; edit it there or promote it", name)
	}
	res, err := d.loader.edit(name, req, z.SerialPolicy, time.Now())
	if err != nil {
		var ae *api.Error
		if errors.As(err, &ae) && ae.Code != api.CodeInternal {
			d.events.Emit(api.Event{Zone: name, Kind: "edit-refused", Outcome: api.OutcomeWarning, Serial: z.Serial,
				Detail: fmt.Sprintf("%s %s %s: %s", req.Op, req.Name, req.Type, ae.Message)})
		}
		return nil, err
	}
	var what []string
	for _, rec := range res.Removed {
		what = append(what, "-"+rec.Name+" "+rec.Type+" "+rec.Data)
	}
	for _, rec := range res.Added {
		what = append(what, "+"+rec.Name+" "+rec.Type+" "+rec.Data)
	}
	d.events.EmitWait(r.Context(), api.Event{Zone: name, Kind: "edit", Outcome: api.OutcomeOK, Serial: res.NewSerial,
		Detail: fmt.Sprintf("%s (serial %d -> %d)", strings.Join(what, ", "), res.OldSerial, res.NewSerial)})
	return res, nil
}
