package daemon

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
)

// logBuffer is a goroutine-safe log sink that tests can search.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// testDaemon is a daemon started on 127.0.0.1 port 0 over a fresh data
// directory, stopped when the test ends.
type testDaemon struct {
	*Daemon
	addr string
	dir  string // DATA/zones
	cfg  Config
	logs *logBuffer
}

func startDaemon(t testing.TB, files map[string]string) *testDaemon {
	t.Helper()
	return startDaemonWith(t, files, nil, nil)
}

func zoneText(serial uint32, extra string) string {
	return fmt.Sprintf(`$TTL 300
@ IN SOA ns1 hostmaster %d 3600 900 604800 60
@ IN NS ns1
ns1 IN A 127.0.0.1
www IN A 127.0.0.2
%s`, serial, extra)
}

// query asks the daemon one question over UDP.
func (td *testDaemon) query(t testing.TB, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	c := &dns.Client{Timeout: 2 * time.Second, Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}}}
	r, _, err := c.Exchange(m, td.addr)
	if err != nil {
		t.Fatalf("query %s %s: %v", name, dns.TypeToString[qtype], err)
	}
	return r
}

// serial returns the served SOA serial of zone, or -1 when not served.
func (td *testDaemon) serial(t testing.TB, zone string) int64 {
	r := td.query(t, zone, dns.TypeSOA)
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 {
		return -1
	}
	return int64(r.Answer[0].(*dns.SOA).Serial)
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestReloadEditPatterns(t *testing.T) {
	td := startDaemon(t, map[string]string{"example.org.zone": zoneText(1, "")})
	path := filepath.Join(td.dir, "example.org.zone")
	if s := td.serial(t, "example.org."); s != 1 {
		t.Fatalf("initial serial %d", s)
	}
	patterns := []struct {
		name string
		edit func(text string) error
	}{
		{"in place", func(text string) error {
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			if _, err := f.WriteAt([]byte(text), 0); err != nil {
				return err
			}
			return f.Truncate(int64(len(text)))
		}},
		{"rename over", func(text string) error {
			tmp := filepath.Join(td.dir, "example.org.zone.swp")
			if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
				return err
			}
			return os.Rename(tmp, path)
		}},
		{"truncate then write", func(text string) error {
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			f.Sync()
			time.Sleep(30 * time.Millisecond)
			_, err = f.Write([]byte(text))
			return err
		}},
		{"cp over", func(text string) error {
			src := filepath.Join(t.TempDir(), "new.zone")
			if err := os.WriteFile(src, []byte(text), 0o644); err != nil {
				return err
			}
			return exec.Command("cp", src, path).Run()
		}},
	}
	for i, p := range patterns {
		serial := int64(10 + i)
		extra := fmt.Sprintf("edit%d IN A 127.0.0.%d\n", i, 10+i)
		if err := p.edit(zoneText(uint32(serial), extra)); err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		waitFor(t, p.name+" edit served", func() bool { return td.serial(t, "example.org.") == serial })
		r := td.query(t, fmt.Sprintf("edit%d.example.org.", i), dns.TypeA)
		if len(r.Answer) != 1 {
			t.Errorf("%s: new record not served: %v", p.name, r)
		}
	}
	if strings.Contains(td.logs.String(), "level=ERROR") {
		t.Logf("errors logged during edits (allowed for transient states):\n%s", td.logs)
	}
}

func TestIdleServerDoesNotReload(t *testing.T) {
	td := startDaemon(t, map[string]string{"example.org.zone": zoneText(1, "")})
	before := td.loader.loads.Load()
	// Queries and the passing of time are not changes.
	for range 20 {
		td.query(t, "www.example.org.", dns.TypeA)
	}
	time.Sleep(2 * time.Second)
	if after := td.loader.loads.Load(); after != before {
		t.Fatalf("idle server parsed zonefiles %d times", after-before)
	}
	// A touch (mtime only) is seen but does not swap the zone.
	now := time.Now()
	os.Chtimes(filepath.Join(td.dir, "example.org.zone"), now, now)
	waitFor(t, "touch seen", func() bool { return td.loader.loads.Load() > before })
	if strings.Contains(td.logs.String(), "zone reloaded") {
		t.Fatalf("unchanged content was reloaded:\n%s", td.logs)
	}
}

func TestBrokenFileKeepsServing(t *testing.T) {
	td := startDaemon(t, map[string]string{"example.org.zone": zoneText(1, "")})
	path := filepath.Join(td.dir, "example.org.zone")
	// Line 6 is broken; the serial was raised so that serving it would show.
	if err := os.WriteFile(path, []byte(zoneText(2, "bad IN A 300.1.2.3\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "error logged", func() bool { return strings.Contains(td.logs.String(), path+":6: syntax") })
	if s := td.serial(t, "example.org."); s != 1 {
		t.Fatalf("serial %d served after a broken edit; want the previous 1", s)
	}
	if !strings.Contains(td.logs.String(), "keeps serving its previous version") {
		t.Errorf("no notice that the old version is kept:\n%s", td.logs)
	}
	// A rule violation is reported the same way, with file:line and rule.
	os.WriteFile(path, []byte(zoneText(3, "www IN CNAME ns1\n")), 0o644)
	waitFor(t, "rule error logged", func() bool { return strings.Contains(td.logs.String(), "cname-and-other") })
	if s := td.serial(t, "example.org."); s != 1 {
		t.Fatalf("serial %d served after an invalid edit", s)
	}
	// Fixing the file serves it.
	os.WriteFile(path, []byte(zoneText(4, "")), 0o644)
	waitFor(t, "fixed zone served", func() bool { return td.serial(t, "example.org.") == 4 })
}

func TestDeletedFileIsRefused(t *testing.T) {
	td := startDaemon(t, map[string]string{
		"example.org.zone": zoneText(1, ""),
		"example.net.zone": strings.ReplaceAll(zoneText(1, ""), "ns1 IN A", "ns1 IN A"),
	})
	if err := os.Remove(filepath.Join(td.dir, "example.org.zone")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "REFUSED after delete", func() bool {
		return td.query(t, "www.example.org.", dns.TypeA).Rcode == dns.RcodeRefused
	})
	if s := td.serial(t, "example.net."); s != 1 {
		t.Fatalf("the other zone stopped being served: %d", s)
	}
	// A new file appears and is served.
	os.WriteFile(filepath.Join(td.dir, "example.com.zone"), []byte(zoneText(7, "")), 0o644)
	waitFor(t, "new zone served", func() bool { return td.serial(t, "example.com.") == 7 })
}

func TestSerialNotIncreasedWarns(t *testing.T) {
	td := startDaemon(t, map[string]string{"example.org.zone": zoneText(5, "")})
	os.WriteFile(filepath.Join(td.dir, "example.org.zone"), []byte(zoneText(5, "new IN A 127.0.0.9\n")), 0o644)
	waitFor(t, "warning", func() bool { return strings.Contains(td.logs.String(), "serial did not increase") })
	// The warning is given as the version is checked, just before it
	// is served.
	waitFor(t, "changed content with the same serial served", func() bool {
		return len(td.query(t, "new.example.org.", dns.TypeA).Answer) == 1
	})
}

func TestIncludeChangeReloads(t *testing.T) {
	td := startDaemon(t, map[string]string{
		"example.org.zone": zoneText(1, "$INCLUDE hosts.inc\n"),
		"hosts.inc":        "h1 IN A 127.0.0.20\n",
	})
	if r := td.query(t, "h1.example.org.", dns.TypeA); len(r.Answer) != 1 {
		t.Fatalf("included record not served: %v", r)
	}
	os.WriteFile(filepath.Join(td.dir, "hosts.inc"), []byte("h2 IN A 127.0.0.21\n"), 0o644)
	waitFor(t, "included change served", func() bool {
		return len(td.query(t, "h2.example.org.", dns.TypeA).Answer) == 1
	})
}

func TestNextSerial(t *testing.T) {
	day := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		old    uint32
		policy string
		want   uint32
	}{
		{1, api.SerialIncrement, 2},
		{4294967295, api.SerialIncrement, 0}, // RFC 1982 wraps: 0 follows 2^32-1
		{5, api.SerialDate, 2026112100},
		{2026112100, api.SerialDate, 2026112101},
		{2026112299, api.SerialDate, 2026112300}, // already ahead of today: just +1
		{5, api.SerialUnixtime, uint32(day.Unix())},
		{uint32(day.Unix()) + 10, api.SerialUnixtime, uint32(day.Unix()) + 11},
	} {
		if got := nextSerial(tc.old, tc.policy, day); got != tc.want {
			t.Errorf("nextSerial(%d, %s) = %d, want %d", tc.old, tc.policy, got, tc.want)
		}
	}
}

// TestEditIsNotReadBack: the watcher's event for the file an edit wrote
// costs no parse (the edit installed that version), while the operator's
// next write of the file is read as usual.
func TestEditIsNotReadBack(t *testing.T) {
	td := startDaemon(t, map[string]string{"example.org.zone": zoneText(1, "")})
	c, ctx := td.client(), context.Background()
	before := td.loader.loads.Load()
	if _, err := c.Edit(ctx, "example.org.", api.EditRequest{Op: api.EditAdd, Name: "new", Type: "A", Data: []string{"127.0.0.7"}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // well past the watcher's debounce
	if after := td.loader.loads.Load(); after != before {
		t.Fatalf("the edited file was parsed again %d times", after-before)
	}
	if err := os.WriteFile(filepath.Join(td.dir, "example.org.zone"), []byte(zoneText(7, "later A 127.0.0.8\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "operator's write served", func() bool { return td.serial(t, "example.org.") == 7 })
}

// TestZoneMaxRecords checks that a small file of $GENERATE lines cannot
// load more records than zone-max-records: the reload is refused with
// the file and the line of the directive, the version before it goes on
// being served, and an edit past the limit is refused too.
func TestZoneMaxRecords(t *testing.T) {
	td := startDaemonWith(t, map[string]string{"example.org.zone": zoneText(1, "")},
		func(c *Config) { c.ZoneMaxRecords = 1000 }, nil)
	path := filepath.Join(td.dir, "example.org.zone")
	os.WriteFile(path, []byte(zoneText(2, "$GENERATE 0-899 h$ A 127.0.0.1\n$GENERATE 0-65534 g$ A 127.0.0.2\n")), 0o644)
	waitFor(t, "the limit refused", func() bool {
		return strings.Contains(td.logs.String(), "more than 1000 records (zone-max-records)")
	})
	if logs := td.logs.String(); !strings.Contains(logs, "example.org.zone:7") {
		t.Errorf("the refusal does not name the $GENERATE line (example.org.zone:7):\n%s", logs)
	}
	if s := td.serial(t, "example.org."); s != 1 {
		t.Fatalf("serial %d served after a refused reload, want 1", s)
	}
	// Within the limit the file loads: 4 records and 996.
	os.WriteFile(path, []byte(zoneText(3, "$GENERATE 0-995 h$ A 127.0.0.1\n")), 0o644)
	waitFor(t, "serial 3 served", func() bool { return td.serial(t, "example.org.") == 3 })
	if _, err := td.loader.edit("example.org.", api.EditRequest{Op: "add", Name: "one", Type: "A", Data: []string{"127.0.1.1"}}, "increment", time.Now()); err == nil ||
		!strings.Contains(err.Error(), "zone-max-records (1000)") {
		t.Errorf("an edit past the limit: %v", err)
	}
}
