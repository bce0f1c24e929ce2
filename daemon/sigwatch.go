package daemon

// Signature watch (docs/architecture.md, "Signed zones"): for every
// signed version the commit path serves (one with DNSKEY at its apex and
// RRSIGs) the earliest RRSIG expiration and the apex DNSKEY RRset's are
// read once, apart from the commit path, in one pass over the compact
// records that looks only at the RRSIGs' expiration fields, and shown in the zone's API view (`zone
// show`, `zone list`, `status`, the TUI). As the earliest expiration
// comes within each signature-warn threshold (7 and 1 days by default),
// and once it has passed, an event says so: at load for a version that
// is already that close, and later by a timer; once per threshold per
// version. A zonekeeper secondary does not sign: the fix is upstream,
// where the signer stalled.

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/answer"
	"zonekeeper/daemon/api"
)

// sigwatchTick is how often the signature-warn thresholds are looked at.
const sigwatchTick = time.Second

// sigTimes is what the signature watch read from one signed version.
type sigTimes struct {
	serial   uint32
	rrsigs   int
	earliest time.Time // the earliest RRSIG expiration
	of       string    // the RRset it signs: "www.example.com. A"
	dnskey   time.Time // the earliest expiration of the apex DNSKEY RRset's RRSIGs; zero when none
}

// sigMark is the most severe threshold reported for a version: the
// number of thresholds passed, one more once expired.
type sigMark struct {
	serial uint32
	level  int
}

// sigWatch keeps the signature times of the signed zones served.
type sigWatch struct {
	zones *answer.Zones
	warn  []time.Duration // signature-warn, longest first
	emit  func(api.Event)

	mu      sync.Mutex
	times   map[string]sigTimes         // zone -> its served version's signature times
	marks   map[string]sigMark          // zone -> the threshold last reported
	pending map[string]*answer.Snapshot // zone -> the newest version whose signatures are to be read
	wake    chan struct{}
}

// newSigWatch returns the signature watch of zones, reporting to emit.
func newSigWatch(zones *answer.Zones, warn []time.Duration, emit func(api.Event)) *sigWatch {
	return &sigWatch{zones: zones, warn: warn, emit: emit, times: make(map[string]sigTimes), marks: make(map[string]sigMark),
		pending: make(map[string]*answer.Snapshot), wake: make(chan struct{}, 1)}
}

// observe takes a committed version: one without DNSKEY at its apex is
// not signed and forgets the zone's times at once; the signatures of
// one with DNSKEY are read by Run, apart from the commit path (a large
// zone takes a while), the newest version of each zone only. It never
// blocks: the commit path calls it once the version answers.
func (w *sigWatch) observe(snap *answer.Snapshot) {
	zone := snap.Origin()
	w.mu.Lock()
	if !snap.ApexHas(dns.TypeDNSKEY) {
		delete(w.times, zone)
		delete(w.marks, zone)
		delete(w.pending, zone)
		w.mu.Unlock()
		return
	}
	w.pending[zone] = snap
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// scanPending reads the signatures of the versions observe took and
// reports the thresholds they are already past.
func (w *sigWatch) scanPending() {
	for {
		w.mu.Lock()
		var snap *answer.Snapshot
		for zone, s := range w.pending {
			snap = s
			delete(w.pending, zone)
			break
		}
		w.mu.Unlock()
		if snap == nil {
			return
		}
		now := time.Now()
		st, signed := scanSignatures(snap, now)
		zone := snap.Origin()
		w.mu.Lock()
		switch {
		case w.pending[zone] != nil:
			// A newer version came meanwhile: its scan decides.
		case signed:
			w.times[zone] = st
		default:
			delete(w.times, zone)
			delete(w.marks, zone)
		}
		w.mu.Unlock()
		if signed {
			w.check(now)
		}
	}
}

// scanSignatures returns the signature times of snap's version, and
// whether it is signed: DNSKEY at the apex and at least one RRSIG.
func scanSignatures(snap *answer.Snapshot, now time.Time) (sigTimes, bool) {
	st := sigTimes{serial: snap.Serial()}
	apex := false
	var apexWire []byte
	isApex := func(owner []byte) bool {
		if apexWire == nil {
			apexWire = make([]byte, 256)
			n, err := dns.PackDomainName(snap.Origin(), apexWire, 0, nil, false)
			if err != nil {
				return false
			}
			apexWire = apexWire[:n]
		}
		return strings.EqualFold(string(owner), string(apexWire))
	}
	snap.EachRecord(func(owner []byte, rtype, _ uint16, _ uint32, rdata []byte) bool {
		if !apex && !isApex(owner) {
			// The apex comes first: past it without a DNSKEY, the zone
			// is not signed, and the rest need not be read.
			return false
		}
		switch {
		case rtype == dns.TypeDNSKEY:
			apex = true
		case rtype == dns.TypeRRSIG && len(rdata) >= 18:
			// RFC 4034 §3.1: type covered, algorithm, labels, original
			// TTL, then the expiration, in serial arithmetic (§3.1.5).
			covered := binary.BigEndian.Uint16(rdata[0:2])
			exp := sigTime(binary.BigEndian.Uint32(rdata[8:12]), now)
			st.rrsigs++
			if st.rrsigs == 1 || exp.Before(st.earliest) {
				st.earliest = exp
				st.of = ownerText(owner) + " " + dns.TypeToString[covered]
			}
			if covered == dns.TypeDNSKEY && (st.dnskey.IsZero() || exp.Before(st.dnskey)) && isApex(owner) {
				st.dnskey = exp
			}
		}
		return true
	})
	return st, apex && st.rrsigs > 0
}

// sigTime is an RRSIG time field as the time nearest now it can stand
// for (RFC 4034 §3.1.5: serial arithmetic over 32-bit seconds).
func sigTime(field uint32, now time.Time) time.Time {
	delta := int32(field - uint32(now.Unix()))
	return time.Unix(now.Unix()+int64(delta), 0).UTC()
}

// ownerText is a wire-format owner name in presentation form.
func ownerText(owner []byte) string {
	name, _, err := dns.UnpackDomainName(owner, 0)
	if err != nil {
		return "?"
	}
	return name
}

// Run reads the signatures of the versions observed, and looks at the
// thresholds every sigwatchTick, until ctx is cancelled.
func (w *sigWatch) Run(ctx context.Context) error {
	tick := time.NewTicker(sigwatchTick)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-w.wake:
			w.scanPending()
		case now := <-tick.C:
			w.check(now)
		}
	}
}

// level is how many thresholds a version with left to go has passed;
// one more than there are thresholds once it expired.
func (w *sigWatch) level(left time.Duration) int {
	if left <= 0 {
		return len(w.warn) + 1
	}
	n := 0
	for _, t := range w.warn {
		if left <= t {
			n++
		}
	}
	return n
}

// check reports each signed zone whose earliest signature has passed a
// threshold not yet reported for its version. A zone no longer served,
// or served at another version than the one read, is forgotten.
func (w *sigWatch) check(now time.Time) {
	var events []api.Event
	w.mu.Lock()
	for zone, st := range w.times {
		if s := w.zones.Get(zone); s == nil || s.Serial() != st.serial {
			delete(w.times, zone)
			delete(w.marks, zone)
			continue
		}
		left := st.earliest.Sub(now)
		lv := w.level(left)
		mark := w.marks[zone]
		if mark.serial != st.serial {
			mark = sigMark{serial: st.serial}
		}
		if lv > mark.level {
			mark.level = lv
			events = append(events, w.event(zone, st, left, lv))
		}
		w.marks[zone] = mark
	}
	w.mu.Unlock()
	for _, ev := range events {
		w.emit(ev)
	}
}

// event is the report of zone passing threshold level lv.
func (w *sigWatch) event(zone string, st sigTimes, left time.Duration, lv int) api.Event {
	fix := fmt.Sprintf("re-sign the zone at its signer and reload it here (or let it transfer in): `zonekeeper zone show %s` shows the signatures", zone)
	key := ""
	if !st.dnskey.IsZero() {
		key = fmt.Sprintf("; the DNSKEY RRset's expires at %s", st.dnskey.Format(time.RFC3339))
	}
	if lv > len(w.warn) {
		return api.Event{Zone: zone, Kind: "signatures-expired", Outcome: api.OutcomeError, Serial: st.serial,
			Detail: fmt.Sprintf("the signature of %s in serial %d expired at %s%s: validating resolvers answer SERVFAIL for the zone; %s",
				st.of, st.serial, st.earliest.Format(time.RFC3339), key, fix)}
	}
	return api.Event{Zone: zone, Kind: "signatures-expiring", Outcome: api.OutcomeWarning, Serial: st.serial,
		Detail: fmt.Sprintf("signatures expire within %s: the earliest, of %s in serial %d, in %s at %s%s; then validating resolvers answer SERVFAIL for the zone; %s",
			secDur(w.warn[lv-1]), st.of, st.serial, secDur(left), st.earliest.Format(time.RFC3339), key, fix)}
}

// signatures returns the API view of zone's signature times; nil when
// its served version is not signed.
func (w *sigWatch) signatures(zone string) *api.Signatures {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	st, ok := w.times[strings.ToLower(dns.Fqdn(zone))]
	w.mu.Unlock()
	if !ok {
		return nil
	}
	now := time.Now()
	sig := &api.Signatures{Serial: st.serial, RRSIGs: st.rrsigs, Expires: st.earliest,
		ExpiresIn: int64(st.earliest.Sub(now) / time.Second), Earliest: st.of}
	if !st.dnskey.IsZero() {
		sig.DNSKEYExpires, sig.DNSKEYExpiresIn = st.dnskey, int64(st.dnskey.Sub(now)/time.Second)
	}
	return sig
}

// decorate adds the signature times to a zone's API view.
func (w *sigWatch) decorate(z api.Zone) api.Zone {
	z.Signatures = w.signatures(z.Name)
	return z
}

// alerting reports whether a zone's signatures are past the first
// signature-warn threshold or expired (`status` lists it).
func (w *sigWatch) alerting(sig *api.Signatures) bool {
	return w != nil && sig != nil && w.level(time.Duration(sig.ExpiresIn)*time.Second) > 0
}

// sigAlert is a `status` alert's text for a zone's signatures.
func sigAlert(sig *api.Signatures) string {
	if sig.ExpiresIn <= 0 {
		return fmt.Sprintf("the signature of %s (serial %d) expired at %s: re-sign it upstream", sig.Earliest, sig.Serial, sig.Expires.Format(time.RFC3339))
	}
	return fmt.Sprintf("the signature of %s (serial %d) expires in %s, at %s: re-sign it upstream",
		sig.Earliest, sig.Serial, time.Duration(sig.ExpiresIn)*time.Second, sig.Expires.Format(time.RFC3339))
}
