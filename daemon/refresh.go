package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"strings"
	"time"

	"zonekeeper/daemon/answer"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
	"zonekeeper/zonefile"
)

// One check of a secondary zone's primaries (RFC 1034 §4.3.5): ask each
// in turn, starting with the one that answered last, for the zone's SOA;
// when its serial is higher than ours (RFC 1982), transfer the zone from
// it, by IXFR when we hold a version, else by AXFR; apply the result
// only when it is complete and valid. The SOA timers that drive the
// checks come from the zone's own SOA.

// soaQueryTimeout bounds one SOA query to a primary.
const soaQueryTimeout = 5 * time.Second

// Timer bounds: SOA values are clamped so that a zone can neither be
// checked in a busy loop nor go unchecked for months.
const (
	minSOATimer = time.Second
	maxSOATimer = 28 * 24 * time.Hour
)

// startupSpread spreads the start-up checks of zones whose refresh is
// overdue, so that a restart does not send them all at once.
const startupSpread = 5 * time.Second

// soaTimers are a zone's refresh, retry and expire (RFC 1035 §3.3.13).
type soaTimers struct{ refresh, retry, expire time.Duration }

// timersOf returns a zone's SOA timers, clamped; a zone not transferred
// yet (nil) uses placeholders: its retries follow pendingRetry and it
// never expires, having nothing to serve.
func timersOf(soa *dns.SOA) soaTimers {
	if soa == nil {
		return soaTimers{refresh: time.Hour, retry: pendingRetry(1), expire: maxSOATimer}
	}
	clamp := func(secs uint32) time.Duration {
		return min(max(time.Duration(secs)*time.Second, minSOATimer), maxSOATimer)
	}
	return soaTimers{refresh: clamp(soa.Refresh), retry: clamp(soa.Retry), expire: clamp(soa.Expire)}
}

// pendingRetry is the wait before the next attempt to transfer a zone
// we hold nothing of, after n failures: 5 s doubling up to 5 minutes.
func pendingRetry(n int) time.Duration {
	d := 5 * time.Second
	for i := 1; i < n && d < 5*time.Minute; i++ {
		d *= 2
	}
	return min(d, 5*time.Minute)
}

// firstCheck schedules a zone's first check after a start: at a random
// point of what is left of its refresh since the last successful check,
// or within startupSpread when the refresh is overdue.
func firstCheck(now, lastOK time.Time, refresh time.Duration) time.Time {
	left := refresh - now.Sub(lastOK)
	if lastOK.IsZero() || left <= 0 {
		left = min(refresh, startupSpread)
	}
	return now.Add(rand.N(left))
}

// refreshJitter shortens a refresh interval by up to a tenth, so that
// zones loaded together drift apart.
func refreshJitter(refresh time.Duration) time.Duration {
	if refresh < 10*time.Millisecond {
		return refresh
	}
	return refresh - rand.N(refresh/10)
}

// checkResult is the outcome of one check of a zone's primaries.
type checkResult struct {
	ok          bool          // a primary answered, and what it had newer was applied
	primary     int           // which primary answered, when ok
	serial      uint32        // its serial
	upstream    time.Duration // its EXPIRE option (RFC 7314), when hasUpstream
	hasUpstream bool
	transfer    bool   // a transfer was tried and failed
	why         string // what failed, primary by primary, when not ok
	aborted     bool   // the zone was removed or the daemon is stopping
	nothingNew  bool   // ok, and the primary had no newer version
}

// check asks z's primaries for the zone's SOA and transfers a newer
// version. With force (zone retrieve) it transfers by AXFR whatever the
// serial.
func (s *secondaries) check(ctx context.Context, z *secZone, force bool) checkResult {
	ps, err := s.primariesOf(ctx, z.name)
	if err != nil {
		if ctx.Err() != nil {
			return checkResult{aborted: true}
		}
		return checkResult{why: err.Error()}
	}
	s.mu.Lock()
	z.primaries, z.primariesAt = ps, time.Now()
	held, start := z.snap, z.lastGood
	if i := ps.indexOf(z.notifier); i >= 0 {
		start = i // a peer that NOTIFYed is asked first
	}
	z.notifier = netip.Addr{}
	s.mu.Unlock()

	var (
		why         []string
		transferred bool
		lower       *checkResult
	)
	n := len(ps.addrs)
	for k := range n {
		i := (start + k) % n
		p := ps.addrs[i]
		ans, err := s.querySOA(ctx, p, z.name, ps.keyAt(i))
		if ctx.Err() != nil {
			return checkResult{aborted: true}
		}
		if err != nil && !force {
			why = append(why, fmt.Sprintf("%s: SOA query: %v", p, err))
			continue
		}
		res := checkResult{ok: true, primary: i, serial: ans.serial, upstream: ans.expire, hasUpstream: ans.hasExpire}
		whole := force // AXFR whatever the serial
		if held != nil && !force {
			have := s.comparedSerial(ctx, z.name, held)
			switch {
			case ans.serial == have && s.retransferDue(ctx, z, held, ans):
				// Same serial, other content (zone_state.go): the primary's
				// version is the one to hold, and only a full transfer
				// brings it; an IXFR would find nothing to send.
				s.report(slog.LevelWarn, api.Event{Zone: z.name, Kind: "refresh", Outcome: api.OutcomeWarning, Peer: p.String(), Serial: have,
					Detail: fmt.Sprintf("serial %d at %s is ours, but its content differs: digests %s here vs %s there: re-transferring in full (AXFR)",
						have, p, digestHex(held.ContentDigest()), digestHex(ans.state.Digest))})
				whole = true
			case ans.serial == have:
				s.report(slog.LevelDebug, api.Event{Zone: z.name, Kind: "refresh", Outcome: api.OutcomeOK, Peer: p.String(), Serial: have,
					Detail: fmt.Sprintf("serial %d at %s: up to date", ans.serial, p)})
				res.nothingNew = true
				return res
			case !zonefile.SerialGreater(ans.serial, have):
				why = append(why, fmt.Sprintf("%s: serial %d is lower than ours (%d)", p, ans.serial, have))
				if lower == nil {
					res.nothingNew = true
					lower = &res
				}
				continue
			default:
				s.report(slog.LevelInfo, api.Event{Zone: z.name, Kind: "refresh", Outcome: api.OutcomeOK, Peer: p.String(), Serial: ans.serial,
					Detail: fmt.Sprintf("serial %d at %s is newer than ours (%d): transferring", ans.serial, p, have)})
			}
		} else if err == nil && !force {
			s.report(slog.LevelInfo, api.Event{Zone: z.name, Kind: "refresh", Outcome: api.OutcomeOK, Peer: p.String(), Serial: ans.serial,
				Detail: fmt.Sprintf("serial %d at %s; we hold no version: transferring", ans.serial, p)})
		}
		serial, err := s.transfer(ctx, z, p, ps.keyAt(i), held, whole, ans.serial)
		if ctx.Err() != nil {
			return checkResult{aborted: true}
		}
		if err != nil {
			transferred = true
			why = append(why, fmt.Sprintf("%s: %v", p, err))
			continue
		}
		res.serial = serial
		return res
	}
	if lower != nil {
		// A primary answered: the zone is as current as the primaries
		// say it can be. RFC 1982 forbids fetching a lower serial.
		s.report(slog.LevelWarn, api.Event{Zone: z.name, Kind: "refresh", Outcome: api.OutcomeWarning, Serial: held.Serial(),
			Detail: strings.Join(why, "; ") + ": not fetched (a serial never goes back: see RFC 2182 §7 to reset one)"})
		return *lower
	}
	return checkResult{why: strings.Join(why, "; "), transfer: transferred}
}

// transfer fetches the zone from primary p, whose SOA said serial
// announced, and applies it. An IXFR is asked when we hold a version,
// falling back to AXFR from the same primary when the answer cannot be
// used as differences. It returns the serial now served.
func (s *secondaries) transfer(ctx context.Context, z *secZone, p netip.AddrPort, key *xfrKey, held *answer.Snapshot, force bool, announced uint32) (uint32, error) {
	began := time.Now()
	kind, note := "axfr-in", ""
	// The transfer's memory counts until its version is served.
	res := s.budget.reserve()
	defer res.release()
	// A large version is built, checked, compiled and written with the
	// collector at startGCPercent (gc_target.go), until it is served.
	loosen := func() {}
	defer func() { loosen() }()
	large := func() {
		loosen()
		loosen = tightGC()
	}
	var (
		v        *secVersion // the new version, once checked and compiled
		warnings []string
		serial   uint32
		messages int
		nbytes   int64
		full     = true
		upstream uint32 // the primary's serial, before any filter
	)
	// miekg/dns's IXFR reader compares serials as plain integers and
	// takes an answer whose serial wrapped around 2^32 (RFC 1982) for
	// "up to date" after its first message: across the wrap, ask AXFR.
	wrapped := held != nil && announced < s.comparedSerial(ctx, z.name, held)
	if wrapped && !force {
		note = "; AXFR, not IXFR: the serial wrapped around"
	}
	// A zone with an AXFR filter script (axfr_filter.go) is always
	// fetched whole, so that the script sees every record.
	script, err := s.filterScriptOf(ctx, z.name)
	if err != nil {
		return 0, err
	}
	if script != "" && held != nil && !force && !wrapped {
		note = "; AXFR, not IXFR: the zone has an AXFR filter script"
	}
	ixfrWhy := "" // why an IXFR could not be used, when it fell back to AXFR
	if held != nil && !force && !wrapped && script == "" {
		kind = "ixfr-in"
		raw, msgs, nb, err := s.receive(ctx, z.name, p, key, held.SOA(), res)
		var recs []dns.RR
		if err == nil {
			var base *zonefile.Zone
			if z.records >= largeVersion {
				large()
			}
			if base, err = heldRecords(held); err == nil {
				recs, serial, full, err = ixfrRecords(z.name, base, raw)
			}
		}
		if err == nil {
			if v, warnings, err = s.prepare(z.name, recs); err != nil {
				return 0, err
			}
		}
		var xe *xfrError
		if err != nil && (!errors.As(err, &xe) || !xe.fallback || ctx.Err() != nil) {
			return 0, fmt.Errorf("IXFR: %w", err)
		}
		if err != nil {
			ixfrWhy = err.Error()
			note = "; IXFR unusable (" + err.Error() + "), fell back to AXFR"
			s.log.Info("IXFR unusable, trying AXFR", "zone", z.name, "primary", p.String(), "reason", err.Error())
			kind = "axfr-in"
		} else {
			messages, nbytes = msgs, nb
			note = "; incremental"
			if full {
				note = "; the primary answered with the full zone"
			}
		}
	}
	if v == nil {
		// After an unusable IXFR, a failed AXFR says why it was tried.
		what := "AXFR"
		if ixfrWhy != "" {
			what = "IXFR unusable (" + ixfrWhy + "); the AXFR it fell back to"
		}
		var err error
		if script != "" {
			v, warnings, serial, upstream, messages, nbytes, err = s.axfrFiltered(ctx, z.name, p, key, res, script, large)
			note += "; filtered by " + script
		} else {
			v, warnings, serial, messages, nbytes, err = s.axfrPacked(ctx, z.name, p, key, res, large)
			upstream = serial
		}
		if err != nil {
			return 0, fmt.Errorf("%s: %w", what, err)
		}
	}
	if script == "" {
		upstream = serial
	}
	if have := s.comparedSerial(ctx, z.name, held); held != nil && !force && !zonefile.SerialGreater(upstream, have) {
		return 0, fmt.Errorf("the transferred zone has serial %d, not newer than ours (%d): kept ours", upstream, have)
	}
	from := "none"
	if held != nil {
		from = fmt.Sprint(held.Serial())
	}
	detail := fmt.Sprintf("serial %s -> %d from %s: %d records, %d bytes in %d messages, %s%s",
		from, serial, p, v.records(), nbytes, messages, secDur(time.Since(began)), note)
	if len(warnings) > 0 {
		detail += "; dropped: " + strings.Join(warnings, "; ")
	}
	s.log.Info(kind+": "+detail, "zone", z.name)
	ev := api.Event{Zone: z.name, Kind: kind, Outcome: api.OutcomeOK, Peer: p.String(), Serial: serial, Detail: detail}
	if err := s.install(z, v, ev); err != nil {
		return 0, err
	}
	s.recordUpstreamSerial(z.name, upstream, script != "")
	return serial, nil
}

// axfrPacked fetches the zone whole from p, packing each message's
// records as it arrives, and checks and compiles it: the records are
// never all held as dns.RR values. large, when set, is called once the
// stream reaches largeVersion records.
func (s *secondaries) axfrPacked(ctx context.Context, zone string, p netip.AddrPort, key *xfrKey, res *xfrReservation, large func()) (v *secVersion, warnings []string, serial uint32, messages int, nbytes int64, err error) {
	st := &axfrStream{zone: zone, large: large}
	messages, nbytes, err = s.receiveInto(ctx, zone, p, key, nil, res, st.take)
	if err == nil {
		serial, err = st.finish()
	}
	if err != nil {
		return nil, nil, 0, messages, nbytes, err
	}
	v, warnings, err = s.preparePacked(zone, &st.b)
	return v, warnings, serial, messages, nbytes, err
}

// axfrFiltered fetches the zone whole from p and runs its AXFR filter
// script over the records (axfr_filter.go), which needs them all as
// dns.RR values; upstream is the primary's serial, serial the filtered
// zone's.
func (s *secondaries) axfrFiltered(ctx context.Context, zone string, p netip.AddrPort, key *xfrKey, res *xfrReservation, script string, large func()) (v *secVersion, warnings []string, serial, upstream uint32, messages int, nbytes int64, err error) {
	raw, messages, nbytes, err := s.receive(ctx, zone, p, key, nil, res)
	if len(raw) >= largeVersion {
		large()
	}
	var recs []dns.RR
	if err == nil {
		recs, upstream, err = axfrRecords(zone, raw)
	}
	if err == nil {
		recs, err = filterAXFR(ctx, script, p.Addr(), zone, recs, s.xfr.XFRMaxRecords)
	}
	if err != nil {
		return nil, nil, 0, 0, messages, nbytes, err
	}
	serial = recs[0].(*dns.SOA).Serial
	v, warnings, err = s.prepare(zone, recs)
	return v, warnings, serial, upstream, messages, nbytes, err
}

// install commits a new version, written to the zone's file first,
// unless the zone was removed meanwhile; ev is the transfer's event. The
// version is journaled and NOTIFYed to the zone's own downstream targets
// like any other (commit.go). The zone's expire clock restarts: the
// version is as fresh as the primary's.
func (s *secondaries) install(z *secZone, v *secVersion, ev api.Event) error {
	var wasExpired bool
	replaced := 0 // records of the version replaced
	served := func() {
		now := time.Now()
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.zones[z.name] != z {
			return
		}
		wasExpired = z.expired
		if z.snap != nil {
			replaced = z.records
		}
		z.snap, z.records, z.expired = v.snap, v.records(), false
		z.lastOK, z.expireAt = now, now.Add(timersOf(v.snap.SOA()).expire)
	}
	err := s.commits.commit(change{snap: v.snap, owner: ownerSecondary, valid: s.stillServing(z), event: ev, served: served,
		write: func() error {
			if err := s.writeFile(z.name, v); err != nil {
				return fmt.Errorf("writing the zone's file: %w", err)
			}
			return nil
		}})
	if err != nil {
		return err
	}
	// What a large transfer built on its way (the stream's records, the
	// checks) and the version it replaced are garbage now.
	s.memory.returnMemory(max(replaced, v.records()))
	if wasExpired {
		s.report(slog.LevelInfo, api.Event{Zone: z.name, Kind: "expire", Outcome: api.OutcomeOK, Serial: v.snap.Serial(),
			Detail: "answering again: a new version was transferred"})
	}
	return nil
}

// contentDiffers reports whether a primary that answered ans, a
// zonekeeper peer, serves the serial of held with another content
// digest (both known).
func contentDiffers(held *answer.Snapshot, ans soaAnswer) bool {
	if ans.state == nil || ans.state.Serial != held.Serial() {
		return false
	}
	mine, theirs := held.ContentDigest(), ans.state.Digest
	return mine != nil && theirs != nil && !bytes.Equal(mine, theirs)
}

// retransferDue reports whether a zone that holds held must be
// transferred in full from a primary that answered ans: same serial,
// other content. Once per serial and digest of the primary, so that a
// version the secondary cannot hold as the primary has it (records it
// drops) is not fetched again and again; never for a zone with an AXFR
// filter, whose content is meant to differ.
func (s *secondaries) retransferDue(ctx context.Context, z *secZone, held *answer.Snapshot, ans soaAnswer) bool {
	if !contentDiffers(held, ans) {
		return false
	}
	if script, err := s.filterScriptOf(ctx, z.name); err != nil || script != "" {
		return false
	}
	key := fmt.Sprintf("%d/%x", ans.serial, ans.state.Digest)
	s.mu.Lock()
	defer s.mu.Unlock()
	if z.retransferred == key {
		return false
	}
	z.retransferred = key
	return true
}

// soaAnswer is what a primary said of the zone's SOA.
type soaAnswer struct {
	serial    uint32
	expire    time.Duration // its EXPIRE option, when hasExpire
	hasExpire bool
	state     *answer.ZoneState // its zone state option (zone_state.go): a zonekeeper peer's
}

// querySOA asks primary p for the zone's SOA over UDP, again over TCP
// when the answer is truncated, with an empty EXPIRE option (RFC 7314)
// and, when p is a peer, the zone state option (zone_state.go).
func (s *secondaries) querySOA(ctx context.Context, p netip.AddrPort, zone string, key *xfrKey) (soaAnswer, error) {
	_, isPeer := s.peers.byAddr(p.Addr())
	r, err := s.exchangeSOAOpts(ctx, "udp", p, zone, key, isPeer)
	if err == nil && r.Truncated {
		r, err = s.exchangeSOAOpts(ctx, "tcp", p, zone, key, isPeer)
	}
	if err != nil {
		return soaAnswer{}, err
	}
	if r.Rcode != dns.RcodeSuccess {
		if ts := r.IsTsig(); ts != nil && ts.Error != dns.RcodeSuccess {
			return soaAnswer{}, fmt.Errorf("answered %s, TSIG error %s", dns.RcodeToString[r.Rcode], dns.RcodeToString[int(ts.Error)])
		}
		return soaAnswer{}, fmt.Errorf("answered %s", dns.RcodeToString[r.Rcode])
	}
	if !r.Authoritative {
		return soaAnswer{}, errors.New("the answer is not authoritative: the primary does not serve the zone")
	}
	var ans soaAnswer
	found := false
	for _, rr := range r.Answer {
		if soa, ok := rr.(*dns.SOA); ok && strings.EqualFold(dns.Fqdn(soa.Hdr.Name), zone) {
			ans.serial, found = soa.Serial, true
			break
		}
	}
	if !found {
		return soaAnswer{}, errors.New("the answer holds no SOA of the zone")
	}
	if opt := r.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if e, ok := o.(*dns.EDNS0_EXPIRE); ok && !e.Empty {
				ans.expire, ans.hasExpire = time.Duration(e.Expire)*time.Second, true
			}
		}
	}
	if zs, ok := zoneStateOption(r); ok && isPeer {
		ans.state = &zs
	}
	return ans, nil
}

// exchangeSOA sends one SOA query over network and checks that the
// answer is signed when the query was.
func (s *secondaries) exchangeSOA(ctx context.Context, network string, p netip.AddrPort, zone string, key *xfrKey) (*dns.Msg, error) {
	return s.exchangeSOAOpts(ctx, network, p, zone, key, false)
}

// exchangeSOAOpts is exchangeSOA, with the empty zone state option
// (zone_state.go) when state is set: for peers only.
func (s *secondaries) exchangeSOAOpts(ctx context.Context, network string, p netip.AddrPort, zone string, key *xfrKey, state bool) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(zone, dns.TypeSOA)
	m.RecursionDesired = false
	m.SetEdns0(answer.DefaultUDPSize, false)
	opt := m.IsEdns0()
	opt.Option = append(opt.Option, &dns.EDNS0_EXPIRE{Code: dns.EDNS0EXPIRE, Empty: true})
	if state {
		opt.Option = append(opt.Option, &dns.EDNS0_LOCAL{Code: answer.OptionZoneState})
	}
	c := &dns.Client{Net: network, Timeout: soaQueryTimeout, Dialer: s.dialer(network, p.Addr(), soaQueryTimeout), UDPSize: answer.DefaultUDPSize}
	if key != nil {
		m.SetTsig(key.name, key.algorithm, tsigFudge, time.Now().Unix())
		c.TsigProvider = key.provider()
	}
	r, _, err := c.ExchangeContext(ctx, m, p.String())
	if err != nil {
		switch {
		case errors.Is(err, dns.ErrAuth):
			return nil, errors.New(notAuthReason(r))
		case errors.Is(err, dns.ErrSig):
			return nil, errors.New("the answer's TSIG does not verify (BADSIG: wrong secret?)")
		case errors.Is(err, dns.ErrSecret), errors.Is(err, dns.ErrKeyAlg):
			return nil, errors.New("the answer is signed with a key or algorithm that is not the zone's")
		case errors.Is(err, dns.ErrTime):
			return nil, errors.New("the answer's TSIG time is outside the fudge (BADTIME: clocks differ?)")
		}
		return nil, errors.New(xfrNetReason(err))
	}
	if key != nil && r.IsTsig() == nil {
		return nil, errors.New("the answer is not TSIG-signed although the query was")
	}
	return r, nil
}
