package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
	"zonekeeper/daemon/client"
)

func (td *testDaemon) client() *client.Client {
	return client.New(td.cfg.ControlPath())
}

func ref[T any](v T) *T { return &v }

func apiCode(err error) string {
	var ae *api.Error
	if errors.As(err, &ae) {
		return ae.Code
	}
	return ""
}

func TestControlEdit(t *testing.T) {
	td := startDaemon(t, map[string]string{"example.org.zone": zoneText(1, "")})
	c, ctx := td.client(), context.Background()
	path := filepath.Join(td.dir, "example.org.zone")

	res, err := c.Edit(ctx, "example.org", api.EditRequest{Op: api.EditAdd, Name: "new", Type: "A", Data: []string{"127.0.0.7"}, IfSerial: ref(uint32(1))})
	if err != nil {
		t.Fatal(err)
	}
	if res.OldSerial != 1 || res.NewSerial != 2 {
		t.Fatalf("serial %d -> %d", res.OldSerial, res.NewSerial)
	}
	// Served at once, TTL from the zone's default (the SOA's TTL).
	r := td.query(t, "new.example.org.", dns.TypeA)
	if len(r.Answer) != 1 || r.Answer[0].Header().Ttl != 300 || td.serial(t, "example.org.") != 2 {
		t.Fatalf("edit not served: %v", r)
	}

	// set replaces the RRset; --ttl applies.
	if _, err := c.Edit(ctx, "example.org.", api.EditRequest{Op: api.EditSet, Name: "new.example.org.", Type: "A", Data: []string{"127.0.0.8"}, TTL: ref(uint32(60))}); err != nil {
		t.Fatal(err)
	}
	r = td.query(t, "new.example.org.", dns.TypeA)
	if len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "127.0.0.8" || r.Answer[0].Header().Ttl != 60 {
		t.Fatalf("set not served: %v", r)
	}

	// A stale serial is refused and changes nothing.
	before, _ := os.ReadFile(path)
	_, err = c.Edit(ctx, "example.org.", api.EditRequest{Op: api.EditAdd, Name: "x", Type: "A", Data: []string{"127.0.0.9"}, IfSerial: ref(uint32(1))})
	if apiCode(err) != api.CodeConflict {
		t.Fatalf("stale serial: %v", err)
	}
	// An edit that breaks a rule is refused; the file is byte-for-byte unchanged.
	_, err = c.Edit(ctx, "example.org.", api.EditRequest{Op: api.EditAdd, Name: "www", Type: "CNAME", Data: []string{"ns1"}})
	if apiCode(err) != api.CodeInvalidZone || !strings.Contains(err.Error(), "cname-and-other") || strings.Contains(err.Error(), "line") {
		t.Fatalf("invalid edit: %v", err)
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Fatal("the zonefile changed after refused edits")
	}
	// Bad input.
	for _, req := range []api.EditRequest{
		{Op: api.EditAdd, Name: "x", Type: "BOGUS", Data: []string{"1"}},
		{Op: api.EditAdd, Name: "x", Type: "A", Data: []string{"300.1.1.1"}},
		{Op: api.EditAdd, Name: "x.example.com.", Type: "A", Data: []string{"127.0.0.1"}},
		{Op: "frobnicate", Name: "x", Type: "A", Data: []string{"127.0.0.1"}},
		{Op: api.EditDelete, Name: "nothere", Type: "A"},
		{Op: api.EditAdd, Name: "x", Type: "A", Data: []string{"127.0.0.1"}, TTL: ref(uint32(1 << 31))},
		{Op: api.EditDelete, Name: "@", Type: "SOA"},
	} {
		if _, err := c.Edit(ctx, "example.org.", req); err == nil || apiCode(err) == api.CodeInternal {
			t.Errorf("%+v: %v", req, err)
		}
	}
	if _, err := c.Edit(ctx, "nothere.org.", api.EditRequest{Op: api.EditAdd, Name: "x", Type: "A", Data: []string{"127.0.0.1"}}); apiCode(err) != api.CodeNotFound {
		t.Errorf("unknown zone: %v", err)
	}
	after, _ = os.ReadFile(path)
	if string(before) != string(after) {
		t.Fatal("the zonefile changed after bad input")
	}

	// delete one record, then the RRset.
	if _, err := c.Edit(ctx, "example.org.", api.EditRequest{Op: api.EditDelete, Name: "new", Type: "A", Data: []string{"127.0.0.8"}}); err != nil {
		t.Fatal(err)
	}
	if r := td.query(t, "new.example.org.", dns.TypeA); r.Rcode != dns.RcodeNameError {
		t.Fatalf("deleted record still served: %v", r)
	}
	// The serial policy applies: date.
	if _, err := c.SetZone(ctx, "example.org.", api.ZoneSetRequest{SerialPolicy: api.SerialDate}); err != nil {
		t.Fatal(err)
	}
	res, err = c.Edit(ctx, "example.org.", api.EditRequest{Op: api.EditAdd, Name: "d", Type: "TXT", Data: []string{`"dated"`}})
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Now().UTC().Format("20060102") + "00"; fmt.Sprint(res.NewSerial) != want {
		t.Fatalf("date policy gave %d, want %s", res.NewSerial, want)
	}

	// Each action is in the activity log.
	var kinds []string
	c.Events(ctx, client.EventQuery{Zone: "example.org.", Limit: 100}, func(ev api.Event) error {
		kinds = append(kinds, ev.Kind)
		return nil
	})
	got := strings.Join(kinds, " ")
	for _, want := range []string{"reload", "edit", "edit-refused", "zone-set"} {
		if !strings.Contains(got, want) {
			t.Errorf("no %s event in %s", want, got)
		}
	}
}

func TestControlKeysMetaAutoprimaries(t *testing.T) {
	td := startDaemon(t, map[string]string{"example.org.zone": zoneText(1, "")})
	c, ctx := td.client(), context.Background()

	k, err := c.AddKey(ctx, api.Key{Name: "xfr.example.org", Algorithm: "hmac-sha256"})
	if err != nil {
		t.Fatal(err)
	}
	if k.Name != "xfr.example.org." || len(k.Secret) != 44 { // 32 bytes in base64
		t.Fatalf("generated key: %+v", k)
	}
	if _, err := c.AddKey(ctx, api.Key{Name: "xfr.example.org.", Algorithm: "hmac-sha256"}); apiCode(err) != api.CodeExists {
		t.Fatalf("duplicate key: %v", err)
	}
	for _, bad := range []api.Key{{Name: "k2", Algorithm: "hmac-sha3"}, {Name: "k2", Algorithm: "hmac-sha256", Secret: "not base64!"}, {Algorithm: "hmac-md5"}, {Name: "k3", Algorithm: "hmac-sha1", Secret: "YQ=="}} {
		if _, err := c.AddKey(ctx, bad); apiCode(err) != api.CodeBadRequest {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	keys, _ := c.Keys(ctx)
	if len(keys) != 1 || keys[0].Secret != "" {
		t.Fatalf("key list %+v (secrets must not be listed)", keys)
	}

	if err := c.SetMeta(ctx, "example.org", "TSIG-ALLOW-AXFR", []string{"xfr.example.org"}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetMeta(ctx, "example.org", "ALLOW-AXFR-FROM", []string{"127.0.0.0/8", "127.0.0.5"}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		zone, kind string
		v          []string
	}{
		{"example.org", "NO-SUCH-KIND", []string{"x"}},
		{"example.org", "ALLOW-AXFR-FROM", []string{"not-an-ip"}},
		{"example.org", "TSIG-ALLOW-AXFR", []string{"missing.key."}},
		{"nothere.org", "ALSO-NOTIFY", []string{"127.0.0.2"}},
		{"example.org", "ALSO-NOTIFY", []string{"ns.example.net"}},
	} {
		if err := c.SetMeta(ctx, bad.zone, bad.kind, bad.v); err == nil || apiCode(err) == api.CodeInternal {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	z, err := c.Zone(ctx, "example.org")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(z.Meta["ALLOW-AXFR-FROM"], ",") != "127.0.0.0/8,127.0.0.5" || len(z.Records) != 4 || z.Kind != api.KindPrimary || z.Serial != 1 {
		t.Fatalf("zone show: %+v", z)
	}
	// A key in use cannot be removed.
	if err := c.RemoveKey(ctx, "xfr.example.org"); apiCode(err) != api.CodeNotPermitted {
		t.Fatalf("removing a key in use: %v", err)
	}
	c.SetMeta(ctx, "example.org", "TSIG-ALLOW-AXFR", nil)
	if err := c.RemoveKey(ctx, "xfr.example.org"); err != nil {
		t.Fatal(err)
	}

	if err := c.AddAutoprimary(ctx, api.Autoprimary{IP: "127.0.0.2", Nameserver: "ns1.example.org", Account: "lab"}); err != nil {
		t.Fatal(err)
	}
	if err := c.AddAutoprimary(ctx, api.Autoprimary{IP: "127.0.0.300", Nameserver: "ns1.example.org"}); apiCode(err) != api.CodeBadRequest {
		t.Fatalf("bad IP: %v", err)
	}
	aps, _ := c.Autoprimaries(ctx)
	if len(aps) != 1 || aps[0].Nameserver != "ns1.example.org." || aps[0].Account != "lab" {
		t.Fatalf("autoprimaries %+v", aps)
	}
	if err := c.RemoveAutoprimary(ctx, "127.0.0.2"); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveAutoprimary(ctx, "127.0.0.2"); apiCode(err) != api.CodeNotFound {
		t.Fatalf("removing twice: %v", err)
	}
}

func TestControlZones(t *testing.T) {
	td := startDaemon(t, map[string]string{"example.org.zone": zoneText(1, "")})
	c, ctx := td.client(), context.Background()
	// A zonefile found in DATA/zones is registered in the store as a primary.
	if sz, err := td.store.Zones().Get(ctx, "example.org."); err != nil || sz.Kind != "primary" {
		t.Fatalf("zone not registered: %+v %v", sz, err)
	}
	if _, err := c.AddSecondary(ctx, api.AddSecondaryRequest{Name: "sec.example", Primaries: []string{"127.0.0.2", "127.0.0.3:5300"}}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []api.AddSecondaryRequest{
		{Name: "sec.example", Primaries: []string{"127.0.0.2"}},         // exists
		{Name: "example.org", Primaries: []string{"127.0.0.2"}},         // a primary here
		{Name: "b.example", Primaries: []string{"primary.example.com"}}, // host name
		{Name: "b.example", Primaries: nil},
		{Name: "b..example", Primaries: []string{"127.0.0.2"}},
		{Name: "b.example", Primaries: []string{"127.0.0.2"}, TSIGKey: "nokey"},
	} {
		if _, err := c.AddSecondary(ctx, bad); err == nil || apiCode(err) == api.CodeInternal {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	zs, err := c.Zones(ctx)
	if err != nil || len(zs) != 2 {
		t.Fatalf("%v %+v", err, zs)
	}
	if zs[0].Name != "example.org." || zs[0].State != api.StateServing || zs[1].Kind != api.KindSecondary || zs[1].State != api.StatePending ||
		strings.Join(zs[1].Primaries, " ") != "127.0.0.2:53 127.0.0.3:5300" {
		t.Fatalf("zone list %+v", zs)
	}
	if _, err := c.SetZone(ctx, "example.org", api.ZoneSetRequest{Kind: api.KindNative}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetZone(ctx, "example.org", api.ZoneSetRequest{SerialPolicy: "weekly"}); apiCode(err) != api.CodeBadRequest {
		t.Fatal(err)
	}
	st, err := c.Status(ctx)
	if err != nil || st.Zones != 2 || st.ByKind[api.KindNative] != 1 || len(st.Listen) == 0 {
		t.Fatalf("status %v %+v", err, st)
	}
	// Removing a primary zone stops serving it and keeps its file in backup.
	if err := c.RemoveZone(ctx, "example.org"); err != nil {
		t.Fatal(err)
	}
	if r := td.query(t, "www.example.org.", dns.TypeA); r.Rcode != dns.RcodeRefused {
		t.Fatalf("removed zone still served: %v", r)
	}
	backups, _ := filepath.Glob(filepath.Join(td.cfg.Data, "backup", "example.org.zone.*"))
	if len(backups) != 1 {
		t.Fatalf("backup files: %v", backups)
	}
	if err := c.RemoveZone(ctx, "example.org"); apiCode(err) != api.CodeNotFound {
		t.Fatalf("removing twice: %v", err)
	}
}

func TestControlSocket(t *testing.T) {
	td := startDaemon(t, map[string]string{"example.org.zone": zoneText(1, "")})
	fi, err := os.Stat(td.cfg.ControlPath())
	if err != nil || fi.Mode().Perm() != 0o660 || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("control socket %v %v", fi, err)
	}
	// A second daemon on the same socket is refused.
	cfg := td.cfg
	cfg.Listen = []string{"127.0.0.1:0"}
	if _, err := New(cfg, td.Daemon.log); err == nil || !strings.Contains(err.Error(), "another zonekeeper daemon") {
		t.Fatalf("second daemon: %v", err)
	}
	// Not running: a clear message.
	_, err = client.New(filepath.Join(t.TempDir(), "none.sock")).Status(context.Background())
	if !errors.Is(err, client.ErrNotRunning) || !strings.Contains(err.Error(), "is it running?") {
		t.Fatalf("no daemon: %v", err)
	}
}

func TestEventsFollow(t *testing.T) {
	td := startDaemon(t, map[string]string{"example.org.zone": zoneText(1, "")})
	c := td.client()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := make(chan api.Event, 100)
	go c.Events(ctx, client.EventQuery{Follow: true, Kind: "key-add"}, func(ev api.Event) error {
		got <- ev
		return nil
	})
	// Wait until the follower is subscribed, then act.
	waitFor(t, "follower", func() bool {
		td.events.mu.Lock()
		defer td.events.mu.Unlock()
		return len(td.events.followers) == 1
	})
	c.AddKey(ctx, api.Key{Name: "live.key", Algorithm: "hmac-sha512"})
	select {
	case ev := <-got:
		if ev.Kind != "key-add" || !strings.Contains(ev.Detail, "live.key.") || ev.ID == 0 {
			t.Fatalf("event %+v", ev)
		}
	case <-ctx.Done():
		t.Fatal("followed event not delivered")
	}
}

func TestSlowFollowerIsToldWhatItLost(t *testing.T) {
	td := startDaemon(t, nil)
	f := td.events.subscribe()
	defer td.events.unsubscribe(f)
	// Nobody reads f: past its buffer, events are counted as dropped and
	// the writer does not wait for it.
	for i := range followerBuffer + 50 {
		td.events.EmitWait(context.Background(), api.Event{Kind: "test", Detail: "n" + string(rune('a'+i%26))})
	}
	if n := f.dropped.Load(); n < 50 {
		t.Fatalf("dropped %d, want at least 50", n)
	}
}

// Zone names name files: one with a NUL, a control character or a path
// separator is refused at the API, and nothing is registered or served.
func TestControlRefusesUnsafeZoneNames(t *testing.T) {
	td := startDaemonWith(t, nil, nil, nil)
	c := td.client()
	ctx := context.Background()
	for _, name := range []string{"a\x00b.", "tab\there.", "new\nline.", "a/b.", `back\slash.`, "..", "caf\xc3\xa9."} {
		_, err := c.AddSecondary(ctx, api.AddSecondaryRequest{Name: name, Primaries: []string{"127.0.0.9"}})
		var ae *api.Error
		if !errors.As(err, &ae) || ae.Code != api.CodeBadRequest {
			t.Errorf("add-secondary %q: %v, want a bad request", name, err)
		}
	}
	zs, err := c.Zones(ctx)
	if err != nil || len(zs) != 0 {
		t.Errorf("zones after the refusals: %v %v, want none", zs, err)
	}
}

// A full or read-only disk under an API call is named as such, not as an
// internal error.
func TestStorageErrorsAreNamed(t *testing.T) {
	full := fmt.Errorf("zone x.: writing DATA/zones/x.zone: %w", &fs.PathError{Op: "write", Path: "DATA/zones/.x.zone.tmp-1", Err: syscall.ENOSPC})
	for _, c := range []struct {
		err  error
		code string
		text string
	}{
		{full, api.CodeStorage, "no space left"},
		{errors.New("store: database or disk is full"), api.CodeStorage, "no space left"},
		{&fs.PathError{Op: "open", Path: "DATA/state.db", Err: syscall.EROFS}, api.CodeStorage, "cannot be written"},
		{errors.New("something else"), api.CodeInternal, "internal error"},
	} {
		ae := storageError(c.err)
		if ae.Code != c.code || !strings.Contains(ae.Message, c.text) {
			t.Errorf("%v: %s %q, want %s with %q", c.err, ae.Code, ae.Message, c.code, c.text)
		}
	}
}
