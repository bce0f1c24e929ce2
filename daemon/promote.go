package daemon

// Failover without a restart (issue 5): promote turns a secondary zone
// into a primary on this node, demote turns a primary zone into a
// secondary of other primaries. Zone data is never lost on the way: the
// file a zone leaves behind moves to DATA/backup/<zone>.<serial>.<time>.zone.
//
// Promote: the secondary's timers stop and it hands over the version it
// serves (still served meanwhile), which is written atomically to
// DATA/zones; the store says primary and keeps the former primaries in
// the FORMER-PRIMARIES metadata; the loader serves the file as a primary
// (edits accepted) and every NOTIFY target is told, although the serial
// did not change.
//
// Demote: the zonefile is first copied to DATA/backup, then the zone is
// transferred in full (AXFR, whatever its serial) from the new primaries
// while the old version is still served; only a complete, valid transfer
// replaces it: the zonefile leaves DATA/zones and the zone is served as a
// secondary from DATA/secondary. A failed transfer changes nothing.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"zonekeeper/daemon/api"
	"zonekeeper/store"
	"zonekeeper/zonefile"
)

// MetaFormerPrimaries is the metadata kind where a promoted zone keeps
// the primaries it was a secondary of.
const MetaFormerPrimaries = "FORMER-PRIMARIES"

// handOver stops a secondary zone's checks and timers and returns the
// version it holds, which stays served until the caller replaces it. It
// fails for a zone that is not a secondary here or holds no version yet.
func (s *secondaries) handOver(zone string) (*zonefile.Zone, error) {
	s.mu.Lock()
	z := s.zones[zone]
	switch {
	case z == nil:
		s.mu.Unlock()
		return nil, api.Errorf(api.CodeNotFound, "zone %s is not a secondary zone here", zone)
	case z.snap == nil:
		s.mu.Unlock()
		return nil, api.Errorf(api.CodeNotPermitted, "zone %s holds no version yet (never transferred): nothing to promote", zone)
	}
	delete(s.zones, zone)
	s.mu.Unlock()
	z.cancel()
	// Wait (bounded) for a check under way to stop: a transfer that ends
	// now finds the zone gone and installs nothing.
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case z.busy <- struct{}{}:
		<-z.busy
	case <-t.C:
		s.log.Warn("secondary zone handed over while its check was still stopping", "zone", zone)
	}
	s.mu.RLock()
	held := z.snap
	s.mu.RUnlock()
	s.poke()
	return heldRecords(held)
}

// backupPath returns a free path DATA/backup/<zone>.<serial>.<time>.zone.
func (d *Daemon) backupPath(zone string, serial uint32) (string, error) {
	dir := filepath.Join(d.cfg.Data, "backup")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("backup directory: %w", err)
	}
	base := strings.TrimSuffix(fileNameOf(zone), zoneFileExt) + fmt.Sprintf(".%d.", serial) + time.Now().UTC().Format("20060102T150405Z")
	for i := 0; ; i++ {
		name := base + zoneFileExt
		if i > 0 {
			name = fmt.Sprintf("%s-%d%s", base, i, zoneFileExt)
		}
		p := filepath.Join(dir, name)
		if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
			return p, nil
		}
	}
}

// copyToBackup copies a zone's file byte for byte into DATA/backup,
// written atomically and synced, and returns where.
func (d *Daemon) copyToBackup(src, zone string, serial uint32) (string, error) {
	b, err := os.ReadFile(src)
	if err != nil {
		return "", fmt.Errorf("reading %s for its backup: %w", src, err)
	}
	dst, err := d.backupPath(zone, serial)
	if err != nil {
		return "", err
	}
	if err := zonefile.ReplaceFile(dst, func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
		return "", fmt.Errorf("backup of %s: %w", src, err)
	}
	return dst, nil
}

// promote turns secondary zone name into a primary served from DATA/zones,
// unless the guard refuses (guard.go) and force is not set.
// run is shared by the zones of one request.
func (d *Daemon) promote(ctx context.Context, run *guardRun, name string, force bool) (api.Promoted, error) {
	began := time.Now()
	res := api.Promoted{Zone: name}
	row, err := d.store.Zones().Get(ctx, name)
	if err != nil {
		return res, storeError(err, "zone "+name)
	}
	if row.Kind != store.KindSecondary {
		return res, api.Errorf(api.CodeNotPermitted, "zone %s is a %s zone here: only a secondary is promoted", name, row.Kind)
	}
	path := filepath.Join(d.cfg.ZonesDir(), fileNameOf(name))
	if _, err := os.Lstat(path); err == nil {
		return res, api.Errorf(api.CodeExists, "zone %s: %s already exists; move it away, then promote again", name, path)
	}
	if ps, err := d.secondaries.primariesOf(ctx, name); err == nil {
		if why := d.promoteCheck(ctx, run, name, ps); why != "" {
			if !force {
				return res, refusal("promoted", name, why)
			}
			res.Overrode = why
		}
	} else if !force {
		return res, refusal("promoted", name, "its primaries cannot be asked: "+err.Error())
	} else {
		res.Overrode = "its primaries cannot be asked: " + err.Error()
	}
	data, err := d.secondaries.handOver(name)
	if err != nil {
		return res, err
	}
	undo := func(cause error) (api.Promoted, error) {
		d.secondaries.register(row, false)
		return res, fmt.Errorf("promoting zone %s: %w (it stays a secondary)", name, cause)
	}
	if err := zonefile.ReplaceFile(path, func(w io.Writer) error { return zonefile.Write(w, data) }); err != nil {
		return undo(err)
	}
	err = d.store.Zones().Update(ctx, name, func(z *store.Zone) error {
		z.Kind, z.Primaries = store.KindPrimary, nil
		return nil
	})
	if err == nil && len(row.Primaries) > 0 {
		err = d.store.Meta().Set(ctx, name, MetaFormerPrimaries, row.Primaries)
	}
	if err != nil {
		os.Remove(path)
		d.store.Zones().Update(ctx, name, func(z *store.Zone) error {
			z.Kind, z.Primaries = store.KindSecondary, row.Primaries
			return nil
		})
		return undo(err)
	}
	// The loader compiles the file and swaps it in for the secondary's
	// snapshot: the zone is answered throughout.
	d.loader.changed([]string{fileNameOf(name)})
	fz, ok := d.loader.get(name)
	if !ok || !fz.loaded {
		why := "not loaded"
		if ok {
			why = fz.lastErr
		}
		return res, api.Errorf(api.CodeInternal, "zone %s: promoted, but %s does not load: %s", name, path, why)
	}
	res.Millis = float64(time.Since(began).Microseconds()) / 1000
	res.Serial, res.File, res.FormerPrimaries = fz.serial, path, row.Primaries
	// The loader's commit of the zone's first version as a primary told
	// its targets, although the serial did not change.
	d.health.forget(name)

	sec := d.secondaries.secondaryPath(name)
	if _, err := os.Stat(sec); err == nil {
		if dst, err := d.backupPath(name, res.Serial); err != nil {
			d.log.Warn("promote: "+err.Error(), "zone", name)
		} else if err := os.Rename(sec, dst); err != nil {
			d.log.Warn("promote: moving the transferred file: "+err.Error(), "zone", name)
		} else {
			res.Backup = dst
		}
	}
	detail := fmt.Sprintf("secondary zone promoted to primary at serial %d in %.1f ms: served from %s, edits accepted, NOTIFY sent to its targets; former primaries %s",
		res.Serial, res.Millis, path, secOrNone(strings.Join(row.Primaries, ", ")))
	if res.Backup != "" {
		detail += "; the transferred file moved to " + res.Backup
	}
	outcome := api.OutcomeOK
	if res.Overrode != "" {
		detail += "; --force overrode the guard: " + res.Overrode
		outcome = api.OutcomeWarning
	}
	d.events.EmitWait(ctx, api.Event{Zone: name, Kind: "promote", Outcome: outcome, Serial: res.Serial, Detail: detail})
	return res, nil
}

// primaryMatcher returns a test of whether a stored primary is from: an
// IP (any port), IP:port, or a peer's name (its address).
func (d *Daemon) primaryMatcher(from string) (func(string) bool, error) {
	from = strings.TrimSpace(from)
	resolve := func(p string) (netip.AddrPort, bool) {
		if ap, err := ParseAddr(p, 53); err == nil {
			return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), true
		}
		if pe, ok := d.peers.byName(p); ok {
			return pe.Addr, true
		}
		return netip.AddrPort{}, false
	}
	if ip, err := netip.ParseAddr(from); err == nil {
		return func(p string) bool { ap, ok := resolve(p); return ok && ap.Addr() == ip.Unmap() }, nil
	}
	want, ok := resolve(from)
	if !ok {
		return nil, api.Errorf(api.CodeBadRequest, "--from %q is neither an IP address with an optional port nor a peer's name (zonekeeper peer list)", from)
	}
	return func(p string) bool {
		if strings.EqualFold(p, from) {
			return true
		}
		ap, ok := resolve(p)
		return ok && ap == want
	}, nil
}

// promoteAll promotes every secondary zone, or those whose primaries
// include from, each guarded like promote; each zone's outcome is
// reported, failures and refusals included.
func (d *Daemon) promoteAll(ctx context.Context, from string, force bool) (*api.PromoteResult, error) {
	match := func(string) bool { return true }
	if from != "" {
		var err error
		if match, err = d.primaryMatcher(from); err != nil {
			return nil, err
		}
	}
	rows, err := d.store.Zones().List(ctx)
	if err != nil {
		return nil, err
	}
	out := &api.PromoteResult{Zones: []api.Promoted{}}
	run := &guardRun{}
	for _, row := range rows {
		if row.Kind != store.KindSecondary {
			continue
		}
		hit := from == ""
		for _, p := range row.Primaries {
			hit = hit || match(p)
		}
		if !hit {
			continue
		}
		res, err := d.promote(ctx, run, row.Name, force)
		if err != nil {
			res.Error = err.Error()
			d.events.Emit(api.Event{Zone: row.Name, Kind: "promote", Outcome: api.OutcomeError, Detail: "not promoted: " + err.Error()})
		}
		out.Zones = append(out.Zones, res)
	}
	return out, nil
}

// demote turns primary zone name into a secondary of primaries (IP[:port]
// or peer names), its requests signed with key, else with the peer's key,
// unless the guard refuses (guard.go) and force is not set.
func (d *Daemon) demote(ctx context.Context, name string, primaries []string, key string, force bool) (*api.DemoteResult, error) {
	row, err := d.store.Zones().Get(ctx, name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if err == nil && row.Kind == store.KindSecondary {
		return nil, api.Errorf(api.CodeNotPermitted, "zone %s is already a secondary (of %s); change its primaries with `zone remove` and `zone add-secondary`", name, strings.Join(row.Primaries, ", "))
	}
	fz, ok := d.loader.get(name)
	if !ok || !fz.loaded {
		return nil, api.Errorf(api.CodeNotFound, "zone %s is not a primary zone served here", name)
	}
	var ps primarySet
	var stored []string
	peerKey := ""
	for _, p := range primaries {
		p = strings.TrimSpace(p)
		ap, err := ParseAddr(p, 53)
		if err != nil {
			pe, ok := d.peers.byName(p)
			if !ok {
				return nil, api.Errorf(api.CodeBadRequest, "primary %q is neither an IP address with an optional port nor a peer's name", p)
			}
			ap = pe.Addr
			if peerKey == "" {
				peerKey = pe.Key
			}
		} else if pe, ok := d.peers.byAddr(ap.Addr()); ok && peerKey == "" {
			peerKey = pe.Key
		}
		ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		if d.notifier.isSelf(ap) {
			return nil, api.Errorf(api.CodeBadRequest, "primary %s is this server: name the node that is primary now", ap)
		}
		ps.addrs = append(ps.addrs, ap)
		stored = append(stored, ap.String())
	}
	if key == "" {
		key = peerKey
	}
	if key != "" {
		if ps.key, err = d.secondaries.keyNamed(ctx, key); err != nil {
			return nil, api.Errorf(api.CodeBadRequest, "%v", err)
		}
	}

	// 0. The new primaries serve the zone as primaries: no zone is left
	// without one, and no chain loops.
	overrode := d.demoteCheck(ctx, name, ps)
	if overrode != "" && !force {
		return nil, refusal("demoted", name, overrode)
	}
	// 1. Nothing is lost: the zonefile as it is now goes to DATA/backup.
	oldSerial := fz.serial
	backup, err := d.copyToBackup(fz.path, name, oldSerial)
	if err != nil {
		return nil, err
	}
	// 2. The new primary's version, complete and valid, while the old one
	// is still served.
	v, from, err := d.fetchFull(ctx, name, ps)
	if err != nil {
		d.events.Emit(api.Event{Zone: name, Kind: "demote", Outcome: api.OutcomeError, Serial: oldSerial,
			Detail: fmt.Sprintf("not demoted: %v; the zone stays primary at serial %d (a copy of its file is in %s)", err, oldSerial, backup)})
		return nil, api.Errorf(api.CodeUpstream, "zone %s not demoted: %v; it stays primary at serial %d (a copy of its file is in %s)", name, err, oldSerial, backup)
	}
	newSerial := v.snap.Serial()
	// 3. Switch: the transferred version's file, the store, then serving.
	sec := d.secondaries.secondaryPath(name)
	if _, err := os.Stat(sec); err == nil {
		if dst, err := d.backupPath(name, 0); err == nil {
			os.Rename(sec, dst)
		}
	}
	if err := os.MkdirAll(d.secondaries.secondaryDir(), 0o755); err != nil {
		return nil, err
	}
	if err := d.secondaries.writeFile(name, v); err != nil {
		return nil, fmt.Errorf("zone %s not demoted: writing %s: %w", name, sec, err)
	}
	sz := store.Zone{Name: name, Kind: store.KindSecondary, Primaries: stored, TSIGKey: key, SerialPolicy: row.SerialPolicy, Account: row.Account}
	if err := d.store.Zones().Put(ctx, sz); err != nil {
		return nil, err
	}
	// The key of the new primaries replaces any left from an earlier
	// life as a secondary; none removes it.
	var keys []string
	if key != "" {
		keys = []string{key}
	}
	if err := d.store.Meta().Set(ctx, name, store.MetaAXFRMasterTSIG, keys); err != nil {
		return nil, err
	}
	if err := d.store.Zones().RecordCheck(ctx, name, time.Now(), newSerial); err != nil {
		return nil, err
	}
	// The secondary serves the transferred version in place of the
	// primary's (the zone is answered throughout); then the zonefile
	// goes, and the loader, no longer the zone's owner, forgets it.
	d.secondaries.added(name)
	if err := os.Remove(fz.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("zone %s: removing %s: %w (its copy is in %s)", name, fz.path, err, backup)
	}
	d.loader.changed([]string{fileNameOf(name)})
	d.health.forget(name)
	detail := fmt.Sprintf("primary zone demoted to a secondary of %s: serial %d -> %d transferred in full from %s; the old zonefile (serial %d) is kept in %s",
		strings.Join(stored, ", "), oldSerial, newSerial, from, oldSerial, backup)
	outcome := api.OutcomeOK
	if overrode != "" {
		detail += "; --force overrode the guard: " + overrode
		outcome = api.OutcomeWarning
	}
	d.events.EmitWait(ctx, api.Event{Zone: name, Kind: "demote", Outcome: outcome, Serial: newSerial, Peer: from.String(), Detail: detail})
	z, _, err := d.zoneByName(ctx, name)
	if err != nil {
		return nil, err
	}
	return &api.DemoteResult{Zone: z, OldSerial: oldSerial, Backup: backup, From: from.String(), Overrode: overrode}, nil
}

// fetchFull transfers zone by AXFR from the first of ps that gives a
// complete, valid version.
func (d *Daemon) fetchFull(ctx context.Context, zone string, ps primarySet) (*secVersion, netip.AddrPort, error) {
	s := d.secondaries
	var why []string
	for _, p := range ps.addrs {
		v, _, _, _, _, err := s.axfrPacked(ctx, zone, p, ps.key, nil, nil)
		if err != nil {
			why = append(why, fmt.Sprintf("%s: AXFR: %v", p, err))
			continue
		}
		return v, p, nil
	}
	return nil, netip.AddrPort{}, errors.New(strings.Join(why, "; "))
}
