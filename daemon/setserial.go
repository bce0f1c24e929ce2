package daemon

// The serial reset procedure (RFC 2182 §7, RFC 1982): `zonekeeper zone
// set-serial`. A serial can only go up in sequence space; going down is
// done by the fewest increments of less than 2^31 that reach the target,
// and each step must have reached every server of the zone before the
// next, or a server that missed one would see the next as a decrease.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
	"zonekeeper/zonefile"
)

// setSerialDefaultTimeout bounds the wait for the servers to follow one
// step when the request does not say.
const setSerialDefaultTimeout = 60 * time.Second

// setSerialPoll is the pause between two rounds of SOA queries.
const setSerialPoll = 250 * time.Millisecond

// setSerialQueryTimeout bounds one SOA query to a server.
const setSerialQueryTimeout = 2 * time.Second

// maxSerialStep is the largest RFC 1982 increment: 2^31 - 1.
const maxSerialStep = 1<<31 - 1

// serialPlan returns the serials of the fewest RFC 1982 increments that
// lead from cur to target, target last: nothing when equal, target alone
// when it is greater, else cur + (2^31 - 1) until target is reachable.
func serialPlan(cur, target uint32) []uint32 {
	var plan []uint32
	for cur != target {
		if zonefile.SerialGreater(target, cur) {
			return append(plan, target)
		}
		cur += maxSerialStep
		plan = append(plan, cur)
	}
	return plan
}

// setSerial rewrites the SOA serial of a primary zone's file: validated
// as a reload would, written atomically, then served (and so NOTIFYed)
// as any edit. It returns the serial the file had.
func (l *loader) setSerial(origin string, serial uint32) (uint32, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	name := fileNameOf(origin)
	path := filepath.Join(l.dir, name)
	if st := l.files[name]; st == nil || !st.served {
		return 0, api.Errorf(api.CodeNotFound, "zone %s is not a primary zone served from %s", origin, l.dir)
	}
	z, _, err := l.parse.Load(path, origin)
	if err != nil {
		return 0, api.Errorf(api.CodeNotPermitted, "zone %s: its file does not load (%v); fix %s first", origin, firstError(err), path)
	}
	if len(z.Includes) > 0 {
		return 0, api.Errorf(api.CodeNotPermitted, "zone %s reads files with $INCLUDE (%s); set the serial in its file directly", origin, strings.Join(z.Includes, ", "))
	}
	if z.Signed() {
		return 0, errSignedZone(origin, path, "set its serial")
	}
	old := z.Serial()
	if !zonefile.SerialGreater(serial, old) {
		return old, api.Errorf(api.CodeConflict, "zone %s is at serial %d: %d is not an RFC 1982 increase of it", origin, old, serial)
	}
	records := make([]dns.RR, len(z.Records))
	copy(records, z.Records)
	for i, rr := range records {
		if soa, ok := rr.(*dns.SOA); ok && strings.EqualFold(soa.Hdr.Name, origin) {
			c := dns.Copy(soa).(*dns.SOA)
			c.Serial = serial
			records[i] = c
		}
	}
	var text bytes.Buffer
	if err := zonefile.Write(&text, &zonefile.Zone{Origin: z.Origin, Records: records}); err != nil {
		return old, err
	}
	if _, _, err := zonefile.Parse(bytes.NewReader(text.Bytes()), origin, path); err != nil {
		return old, api.Errorf(api.CodeInvalidZone, "zone %s with serial %d would not load (%v); nothing was changed", origin, serial, firstError(err))
	}
	if err := zonefile.ReplaceFile(path, func(w io.Writer) error {
		_, err := w.Write(text.Bytes())
		return err
	}); err != nil {
		return old, fmt.Errorf("zone %s: writing %s: %w", origin, path, err)
	}
	l.reloadFile(name)
	return old, nil
}

// setSerial plans the steps from a zone's serial to target (RFC 1982)
// and, unless dryRun, carries them out, waiting after each step of a
// decrease, for at most timeout, for every NOTIFY target of the zone to
// serve it.
func (d *Daemon) setSerial(ctx context.Context, name string, target uint32, dryRun bool, timeout time.Duration) (*api.SetSerialResult, error) {
	snap := d.zones.Get(name)
	if snap == nil || snap.SOA() == nil {
		return nil, api.Errorf(api.CodeNotPermitted, "zone %s is not being served: fix its zonefile first", name)
	}
	cur := snap.Serial()
	res := &api.SetSerialResult{Zone: name, OldSerial: cur, Serial: cur, Plan: serialPlan(cur, target), DryRun: dryRun, Log: []string{}}
	if res.Plan == nil {
		res.Plan = []uint32{}
	}
	logf := func(format string, args ...any) {
		res.Log = append(res.Log, fmt.Sprintf(format, args...))
	}
	switch {
	case len(res.Plan) == 0:
		logf("zone %s is at serial %d already: nothing to do", name, cur)
		return res, nil
	case !serialDecrease(cur, target):
		logf("plan: %d -> %d, an increase: one step", cur, target)
	default:
		logf("plan: %s (%d steps, RFC 1982)", planText(cur, res.Plan), len(res.Plan))
	}
	if dryRun {
		logf("dry run: nothing changed")
		return res, nil
	}
	wait := serialDecrease(cur, target)
	for i, step := range res.Plan {
		if _, err := d.loader.setSerial(name, step); err != nil {
			d.events.Emit(api.Event{Zone: name, Kind: "set-serial", Outcome: api.OutcomeError, Serial: res.Serial,
				Detail: fmt.Sprintf("step %d of %d (%d -> %d): %v", i+1, len(res.Plan), res.Serial, step, err)})
			return nil, err
		}
		prev := res.Serial
		res.Serial = step
		logf("step %d/%d: serial %d -> %d", i+1, len(res.Plan), prev, step)
		d.events.Emit(api.Event{Zone: name, Kind: "set-serial", Outcome: api.OutcomeOK, Serial: step,
			Detail: fmt.Sprintf("step %d of %d: serial %d -> %d", i+1, len(res.Plan), prev, step)})
		if !wait {
			continue
		}
		if err := d.awaitSerial(ctx, name, step, timeout, logf); err != nil {
			msg := fmt.Sprintf("%v; zone %s is left at serial %d (step %d of %d); run set-serial again once it follows", err, name, step, i+1, len(res.Plan))
			d.events.Emit(api.Event{Zone: name, Kind: "set-serial", Outcome: api.OutcomeError, Serial: step, Detail: msg})
			return nil, api.Errorf(api.CodeUpstream, "%s", msg)
		}
	}
	logf("zone %s is at serial %d", name, res.Serial)
	return res, nil
}

// serialDecrease reports whether target is not an RFC 1982 increase of cur.
func serialDecrease(cur, target uint32) bool {
	return cur != target && !zonefile.SerialGreater(target, cur)
}

// planText shows a plan as "1000 -> 2147484647 -> 11".
func planText(cur uint32, plan []uint32) string {
	parts := []string{fmt.Sprint(cur)}
	for _, s := range plan {
		parts = append(parts, fmt.Sprint(s))
	}
	return strings.Join(parts, " -> ")
}

// awaitSerial polls the SOA of every NOTIFY target of zone until each
// serves serial, for at most timeout; the error names the first server
// that does not.
func (d *Daemon) awaitSerial(ctx context.Context, zone string, serial uint32, timeout time.Duration, logf func(string, ...any)) error {
	snap := d.zones.Get(zone)
	if snap == nil {
		return fmt.Errorf("zone %s is no longer served", zone)
	}
	targets, problems := d.notifier.targets(ctx, zone, snap)
	for _, p := range problems {
		logf("  warning: %s", p)
	}
	if len(targets) == 0 {
		logf("  no other servers hold the zone: nothing to wait for")
		return nil
	}
	deadline := time.Now().Add(timeout)
	synced := make([]bool, len(targets))
	last := make([]string, len(targets))
	for {
		all := true
		for i, t := range targets {
			if synced[i] {
				continue
			}
			got, err := d.askSerial(ctx, zone, t)
			switch {
			case err != nil:
				last[i] = err.Error()
			case got == serial:
				synced[i] = true
				logf("  %s (%s) serves %d", t.addr, t.source, serial)
				continue
			default:
				last[i] = fmt.Sprintf("serves serial %d", got)
			}
			all = false
		}
		if all {
			return nil
		}
		if time.Now().After(deadline) {
			for i, t := range targets {
				if !synced[i] {
					logf("  %s (%s) stuck: %s", t.addr, t.source, last[i])
					return fmt.Errorf("server %s (%s) did not reach serial %d within %s: %s", t.addr, t.source, serial, timeout, last[i])
				}
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(setSerialPoll):
		}
	}
}

// askSerial queries one server for zone's SOA, signed with the target's
// key when it has one, and returns the serial it serves.
func (d *Daemon) askSerial(ctx context.Context, zone string, t notifyTarget) (uint32, error) {
	ctx, cancel := context.WithTimeout(ctx, setSerialQueryTimeout)
	defer cancel()
	var key *xfrKey
	if t.key != nil {
		key = &xfrKey{name: canonicalKeyName(t.key.Name), algorithm: tsigWireAlgorithm(t.key.Algorithm), key: *t.key}
	}
	s := d.secondaries
	r, err := s.exchangeSOA(ctx, "udp", t.addr, zone, key)
	if err == nil && r.Truncated {
		r, err = s.exchangeSOA(ctx, "tcp", t.addr, zone, key)
	}
	if err != nil {
		return 0, err
	}
	if r.Rcode != dns.RcodeSuccess {
		return 0, fmt.Errorf("answered %s", dns.RcodeToString[r.Rcode])
	}
	if !r.Authoritative {
		return 0, fmt.Errorf("does not answer authoritatively")
	}
	for _, rr := range r.Answer {
		if soa, ok := rr.(*dns.SOA); ok && strings.EqualFold(dns.Fqdn(soa.Hdr.Name), zone) {
			return soa.Serial, nil
		}
	}
	return 0, fmt.Errorf("the answer holds no SOA")
}
