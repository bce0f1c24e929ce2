package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
)

const sigwatchZone = `$TTL 300
@       IN SOA  ns1 hostmaster 2026120801 3600 900 1209600 300
        IN NS   ns1
ns1     IN A    127.0.0.1
www     IN A    127.0.0.80
`

// TestSignatureWatchE2E: a zone signed with a 2-day validity shows when
// its signatures expire in `zone show --json`, `zone list` and
// `status`, and raises the 7-day event as it loads; an unsigned zone
// shows none. Record edits on the signed zone are refused.
func TestSignedZoneE2E(t *testing.T) {
	sz := newSignedZone(t, "signed.test.", false)
	signed := sz.sign(sigwatchZone, "now-3600", "now+172800")
	d := startCLIDaemon(t)
	loaded := time.Now()
	if err := os.WriteFile(filepath.Join(d.data, "zones", "signed.test.zone"), []byte(signed), 0o644); err != nil {
		t.Fatal(err)
	}
	d.eventually("signed.test. served", func() bool { return d.serial("signed.test.") == 2026120801 })

	z := d.zone("signed.test.")
	s := z.Signatures
	if s == nil {
		t.Fatalf("zone show --json: no signatures for a signed zone: %+v", z.Zone)
	}
	want := loaded.Add(48 * time.Hour)
	if s.Expires.Before(want.Add(-time.Minute)) || s.Expires.After(want.Add(time.Minute)) || s.DNSKEYExpires.IsZero() {
		t.Errorf("signatures expire at %v (DNSKEY %v), want about %v", s.Expires, s.DNSKEYExpires, want)
	}
	if s.ExpiresIn < 47*3600 || s.ExpiresIn > 48*3600 || s.Serial != 2026120801 || s.RRSIGs < 5 {
		t.Errorf("signatures: %+v", s)
	}
	if u := d.zone("example.org.").Signatures; u != nil {
		t.Errorf("unsigned example.org. shows signatures: %+v", u)
	}

	out := d.ok("events", "--json", "--zone", "signed.test.", "--limit", "100")
	var found bool
	for sc := bufio.NewScanner(strings.NewReader(out)); sc.Scan(); {
		var ev api.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("events line %q: %v", sc.Text(), err)
		}
		if ev.Kind == "signatures-expiring" {
			if found {
				t.Errorf("a second signatures-expiring event for one version: %s", sc.Text())
			}
			found = true
			if ev.Outcome != api.OutcomeWarning || ev.Serial != 2026120801 || !strings.Contains(ev.Detail, "within 168h0m0s") {
				t.Errorf("signatures-expiring event: %+v", ev)
			}
		}
	}
	if !found {
		t.Errorf("no signatures-expiring event at load among:\n%s", out)
	}

	list := d.ok("zone", "list")
	var cells []string
	for _, line := range strings.Split(list, "\n") {
		if strings.HasPrefix(line, "signed.test. ") || strings.HasPrefix(line, "example.org. ") || strings.HasPrefix(line, "ZONE ") {
			cells = append(cells, strings.Fields(line)[6])
		}
	}
	if strings.Join(cells, " ") != "SIGS - 1d" && strings.Join(cells, " ") != "SIGS 1d -" {
		t.Errorf("zone list SIGS column %q:\n%s", cells, list)
	}
	if st := d.ok("status"); !strings.Contains(st, "signed zones") || !strings.Contains(st, "signed.test. signatures:") {
		t.Errorf("status shows no signed zone alert:\n%s", st)
	}
	if show := d.ok("zone", "show", "signed.test."); !strings.Contains(show, "dnskey signatures") {
		t.Errorf("zone show:\n%s", show)
	}

	// The signer owns a signed zone: record edits and set-serial are
	// refused, and neither the file nor the served version changes.
	path := filepath.Join(d.data, "zones", "signed.test.zone")
	for _, args := range [][]string{
		{"record", "add", "signed.test.", "www2", "A", "127.0.0.5"},
		{"record", "set", "signed.test.", "www", "A", "127.0.0.81"},
		{"record", "delete", "signed.test.", "www", "A", "127.0.0.80"},
	} {
		d.refused(1, "zone signed.test. is signed (DNSKEY at its apex, RRSIGs): its signer owns its records", args...)
	}
	// set-serial prints its plan before the daemon refuses it.
	if r := d.run("zone", "set-serial", "signed.test.", "2026120900"); r.code != 1 || !strings.Contains(r.stderr, "is signed") {
		t.Errorf("set-serial of a signed zone: %v", r)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != signed {
		t.Errorf("a refused edit changed %s (%v)", path, err)
	}
	if got := d.serial("signed.test."); got != 2026120801 {
		t.Errorf("serial %d after refused edits", got)
	}
	if got := d.answers("www.signed.test.", dns.TypeA); strings.Join(got, " ") != "127.0.0.80" {
		t.Errorf("www after refused edits: %v", got)
	}
}
