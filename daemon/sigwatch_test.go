package daemon

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"zonekeeper/daemon/answer"
	"zonekeeper/daemon/api"
	"zonekeeper/zonefile"
)

// sigwatchSnap compiles a signed zone whose SOA signature expires at soa
// and the DNSKEY RRset's at key (the signatures themselves are not
// checked by the watch, only their times).
func sigwatchSnap(t *testing.T, serial uint32, soa, key time.Time) *answer.Snapshot {
	t.Helper()
	f := func(at time.Time) string { return at.UTC().Format("20060102150405") }
	text := fmt.Sprintf(`$TTL 300
@ IN SOA ns1 hostmaster %d 3600 900 1209600 300
  IN NS ns1
  IN DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==
  IN RRSIG SOA 13 2 300 %s 20261201000000 12345 sig.test. AAAA
  IN RRSIG DNSKEY 13 2 300 %s 20261201000000 12345 sig.test. AAAA
ns1 IN A 127.0.0.1
`, serial, f(soa), f(key))
	z, _, err := zonefile.Parse(strings.NewReader(text), "sig.test.", "sig.test.zone")
	if err != nil {
		t.Fatal(err)
	}
	return mustCompile(t, z)
}

// TestSigWatchThresholds: the watch reports each signature-warn
// threshold once per version, at load and as time passes, then the
// expiry; a new version starts over; an unsigned version is forgotten.
func TestSigWatchThresholds(t *testing.T) {
	zones := answer.NewZones()
	var evs []api.Event
	w := newSigWatch(zones, DefaultConfig().SignatureWarn, func(ev api.Event) { evs = append(evs, ev) })
	now := time.Now()
	kinds := func() string {
		var k []string
		for _, ev := range evs {
			k = append(k, ev.Kind)
		}
		evs = nil
		return strings.Join(k, ",")
	}

	snap := sigwatchSnap(t, 1, now.Add(10*24*time.Hour), now.Add(3*24*time.Hour))
	zones.Set(snap)
	w.observe(snap)
	w.scanPending()
	if got := kinds(); got != "signatures-expiring" {
		t.Errorf("at load, 3 days left: events %q", got)
	}
	s := w.signatures("sig.test.")
	if s == nil || s.Earliest != "sig.test. DNSKEY" || s.RRSIGs != 2 || s.DNSKEYExpires != s.Expires || s.ExpiresIn < 3*86400-5 {
		t.Fatalf("signatures %+v", s)
	}
	w.check(now.Add(time.Hour))
	if got := kinds(); got != "" {
		t.Errorf("an hour later, the 7-day threshold again: %q", got)
	}
	w.check(now.Add(2*24*time.Hour + time.Hour))
	if got := kinds(); got != "signatures-expiring" {
		t.Errorf("within a day: events %q", got)
	}
	w.check(now.Add(3*24*time.Hour + time.Minute))
	if got := kinds(); got != "signatures-expired" {
		t.Errorf("past the expiry: events %q", got)
	}
	w.check(now.Add(4 * 24 * time.Hour))
	if got := kinds(); got != "" {
		t.Errorf("expiry reported twice: %q", got)
	}

	// A re-signed version (new serial) is watched afresh.
	snap = sigwatchSnap(t, 2, now.Add(20*24*time.Hour), now.Add(30*24*time.Hour))
	zones.Set(snap)
	w.observe(snap)
	w.scanPending()
	if got := kinds(); got != "" {
		t.Errorf("20 days left: events %q", got)
	}
	if s := w.signatures("sig.test."); s == nil || s.Serial != 2 || s.Earliest != "sig.test. SOA" {
		t.Errorf("after re-signing: %+v", s)
	}

	// A version that is not signed shows none.
	z, _, err := zonefile.Parse(strings.NewReader("$TTL 300\n@ IN SOA ns1 h 3 1 1 1 1\n IN NS ns1\nns1 IN A 127.0.0.1\n"), "sig.test.", "x")
	if err != nil {
		t.Fatal(err)
	}
	snap = mustCompile(t, z)
	zones.Set(snap)
	w.observe(snap)
	w.scanPending()
	if s := w.signatures("sig.test."); s != nil {
		t.Errorf("unsigned version: %+v", s)
	}
}

// TestSignatureWarnSetting: signature-warn takes days and durations.
func TestSignatureWarnSetting(t *testing.T) {
	c := DefaultConfig()
	if err := c.Set("signature-warn", "36h, 14d"); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(c.SignatureWarn) != "[336h0m0s 36h0m0s]" {
		t.Errorf("signature-warn: %v", c.SignatureWarn)
	}
	if err := c.Set("signature-warn", "0d"); err == nil {
		t.Error("signature-warn 0d accepted")
	}
}

// BenchmarkObserveUnsigned: the commit path's cost for an unsigned
// zone is one look at its apex, whatever its size.
func BenchmarkObserveUnsigned(b *testing.B) {
	snap := mustCompile(b, spBigZone("big.test.", 100_000, 8))
	w := newSigWatch(answer.NewZones(), DefaultConfig().SignatureWarn, func(api.Event) {})
	for b.Loop() {
		w.observe(snap)
	}
	if len(w.pending) != 0 {
		b.Fatal("an unsigned zone queued")
	}
}
