package main

// End-to-end tests of the client verbs: the real binary runs `serve` in a
// temp data directory on loopback, and the tests drive it only through
// the binary's client verbs, checking the served data with DNS queries.

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
)

func TestCLIEndToEnd(t *testing.T) {
	d := startCLIDaemon(t)

	t.Run("status", func(t *testing.T) {
		d.t = t
		var st api.Status
		d.json(&st, "status")
		if !slices.Contains(st.Listen, d.dns) || st.Zones != 2 || st.ByKind[api.KindPrimary] != 2 || st.ByState[api.StateServing] != 2 {
			t.Errorf("status: %+v", st)
		}
		out := d.ok("status")
		for _, want := range []string{"version", "uptime", d.dns, d.sock, "primary 2", "serving 2", "last errors"} {
			if !strings.Contains(out, want) {
				t.Errorf("status: no %q in\n%s", want, out)
			}
		}
	})

	// Every way of finding the daemon, in both flag positions.
	t.Run("finding the daemon", func(t *testing.T) {
		d.t = t
		conf := filepath.Join(d.dir, "client.conf")
		os.WriteFile(conf, []byte("data = "+d.data+"\n"), 0o644)
		for _, args := range [][]string{
			{"--data", d.data, "zone", "list"},
			{"zone", "list", "--data", d.data},
			{"zone", "--data=" + d.data, "list"},
			{"--control", d.sock, "--json", "zone", "list"},
			{"--config", conf, "zone", "list", "--json"},
		} {
			cmd := exec.Command(d.bin, args...)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH")} // no $ZONEKEEPER_CONTROL
			r := d.runCmd(cmd, args)
			if r.code != 0 || !strings.Contains(r.stdout, "example.org.") {
				t.Errorf("%v", r)
			}
		}
		// --control beats the environment, which beats --data.
		d.refused(1, "no zonekeeper daemon at "+filepath.Join(d.dir, "nothing.sock"),
			"zone", "list", "--data", d.data, "--control", filepath.Join(d.dir, "nothing.sock"))
		cmd := d.command("zone", "list", "--data", filepath.Join(d.dir, "nowhere"))
		if r := d.runCmd(cmd, cmd.Args[1:]); r.code != 0 {
			t.Errorf("$%s should win over --data: %v", controlEnv, r)
		}
	})

	t.Run("zone list and show", func(t *testing.T) {
		d.t = t
		zs := d.zones()
		org := zs["example.org."]
		if len(zs) != 2 || org.Kind != api.KindPrimary || org.State != api.StateServing || org.Serial != 2026112101 {
			t.Fatalf("zone list: %+v", zs)
		}
		out := d.ok("zone", "list")
		if !regexp.MustCompile(`(?m)^ZONE +KIND +STATE +SERIAL`).MatchString(out) ||
			!regexp.MustCompile(`(?m)^example\.org\. +primary +serving +2026112101 `).MatchString(out) {
			t.Errorf("zone list:\n%s", out)
		}
		z := d.zone("example.org")
		if z.Name != "example.org." || len(z.Records) != 9 {
			t.Errorf("zone show: %+v", z)
		}
		out = d.ok("zone", "show", "example.org.")
		if !regexp.MustCompile(`(?m)^www\.example\.org\. +3600 +AAAA +::1$`).MatchString(out) {
			t.Errorf("zone show:\n%s", out)
		}
	})

	var secret string
	t.Run("keys", func(t *testing.T) {
		d.t = t
		out := d.ok("key", "add", "xfer.key.", "--algorithm", "hmac-sha256")
		m := regexp.MustCompile(`secret "([^"]+)"`).FindStringSubmatch(out)
		if m == nil || !strings.Contains(out, "never shows it again") {
			t.Fatalf("key add without --secret printed no secret to copy:\n%s", out)
		}
		secret = m[1]
		if b, err := base64.StdEncoding.DecodeString(secret); err != nil || len(b) != 32 {
			t.Errorf("generated secret %q: %d bytes, %v; want 32 for hmac-sha256", secret, len(b), err)
		}
		given := base64.StdEncoding.EncodeToString([]byte("a secret of twenty bytes"))
		if out := d.ok("key", "add", "other.key", "--algorithm", "HMAC-SHA1", "--secret", given); strings.Contains(out, given) {
			t.Errorf("key add echoed the given secret:\n%s", out)
		}
		var keys []api.Key
		d.json(&keys, "key", "list")
		want := []api.Key{{Name: "other.key.", Algorithm: "hmac-sha1"}, {Name: "xfer.key.", Algorithm: "hmac-sha256"}}
		if !reflect.DeepEqual(keys, want) {
			t.Errorf("key list: %+v, want %+v", keys, want)
		}
		for _, args := range [][]string{{"key", "list"}, {"key", "list", "--json"}} {
			if out := d.ok(args...); strings.Contains(out, secret) || strings.Contains(out, given) || !strings.Contains(out, "xfer.key.") {
				t.Errorf("%v shows a secret or misses a key:\n%s", args, out)
			}
		}
		d.ok("key", "remove", "other.key.")
		d.json(&keys, "key", "list")
		if len(keys) != 1 || keys[0].Name != "xfer.key." {
			t.Errorf("after key remove: %+v", keys)
		}
	})

	t.Run("meta", func(t *testing.T) {
		d.t = t
		d.ok("meta", "set", "example.org.", "TSIG-ALLOW-AXFR", "xfer.key.")
		d.ok("meta", "set", "example.org", "also-notify", "127.0.0.2", "127.0.0.3:5300")
		z := d.zone("example.org.")
		if !reflect.DeepEqual(z.Meta["TSIG-ALLOW-AXFR"], []string{"xfer.key."}) || len(z.Meta["ALSO-NOTIFY"]) != 2 {
			t.Errorf("meta: %v", z.Meta)
		}
		d.ok("meta", "set", "example.org.", "ALSO-NOTIFY") // no value: removed
		if z := d.zone("example.org."); z.Meta["ALSO-NOTIFY"] != nil || z.Meta["TSIG-ALLOW-AXFR"] == nil {
			t.Errorf("meta after removing ALSO-NOTIFY: %v", z.Meta)
		}
	})

	t.Run("autoprimary", func(t *testing.T) {
		d.t = t
		d.ok("autoprimary", "add", "127.0.0.9", "ns1.example.org.", "lab")
		d.ok("autoprimary", "add", "::1", "ns2.example.org")
		var as []api.Autoprimary
		d.json(&as, "autoprimary", "list")
		want := []api.Autoprimary{{IP: "127.0.0.9", Nameserver: "ns1.example.org.", Account: "lab"}, {IP: "::1", Nameserver: "ns2.example.org."}}
		slices.SortFunc(as, func(a, b api.Autoprimary) int { return strings.Compare(a.IP, b.IP) })
		if !reflect.DeepEqual(as, want) {
			t.Errorf("autoprimary list: %+v, want %+v", as, want)
		}
		if out := d.ok("autoprimary", "list"); !regexp.MustCompile(`(?m)^127\.0\.0\.9 +ns1\.example\.org\. +lab$`).MatchString(out) {
			t.Errorf("autoprimary list:\n%s", out)
		}
		d.ok("autoprimary", "remove", "::1")
		d.json(&as, "autoprimary", "list")
		if len(as) != 1 || as[0].IP != "127.0.0.9" {
			t.Errorf("after autoprimary remove: %+v", as)
		}
	})

	t.Run("zone add-secondary, set, remove", func(t *testing.T) {
		d.t = t
		var z api.Zone
		d.json(&z, "zone", "add-secondary", "sec.example.", "127.0.0.2:5399,127.0.0.3", "--tsig", "xfer.key.")
		if z.Kind != api.KindSecondary || !reflect.DeepEqual(z.Primaries, []string{"127.0.0.2:5399", "127.0.0.3:53"}) || z.TSIGKey != "xfer.key." {
			t.Errorf("add-secondary: %+v", z)
		}
		if got := d.zones()["sec.example."]; got.Kind != api.KindSecondary || got.State != api.StatePending {
			t.Errorf("zone list after add-secondary: %+v", got)
		}
		d.ok("zone", "set", "example.net.", "--kind", "native", "--serial-policy", "unixtime")
		if got := d.zones()["example.net."]; got.Kind != api.KindNative || got.SerialPolicy != api.SerialUnixtime {
			t.Errorf("zone list after set: %+v", got)
		}
		d.ok("zone", "remove", "example.net")
		d.ok("zone", "remove", "sec.example.")
		if zs := d.zones(); len(zs) != 1 || zs["example.org."].Name == "" {
			t.Errorf("zone list after remove: %+v", zs)
		}
		d.eventually("example.net. no longer served", func() bool { return d.serial("example.net.") == 0 })
	})

	var serials []uint32 // the serial after each successful edit
	t.Run("records", func(t *testing.T) {
		d.t = t
		s0 := d.serial("example.org.")
		out := d.ok("record", "add", "example.org.", "www2", "A", "127.0.0.5", "--ttl", "300")
		s1 := d.zone("example.org.").Serial
		want := fmt.Sprintf("added www2.example.org. 300 IN A 127.0.0.5 to example.org.: serial %d -> %d\n", s0, s1)
		if out != want || s1 <= s0 {
			t.Errorf("record add printed %q, want %q", out, want)
		}
		d.eventually("www2 served", func() bool { return slices.Equal(d.answers("www2.example.org.", dns.TypeA), []string{"127.0.0.5"}) })
		if got := d.serial("example.org."); got != s1 {
			t.Errorf("served serial %d after the edit, want %d", got, s1)
		}
		serials = append(serials, s1)

		var res api.EditResult
		d.json(&res, "record", "set", "example.org.", "www", "A", "127.0.0.81", "--if-serial", fmt.Sprint(s1))
		if res.OldSerial != s1 || res.NewSerial <= s1 || len(res.Added) != 1 || len(res.Removed) != 1 || res.Removed[0].Data != "127.0.0.80" {
			t.Errorf("record set: %+v", res)
		}
		serials = append(serials, res.NewSerial)
		d.eventually("www replaced", func() bool { return slices.Equal(d.answers("www.example.org.", dns.TypeA), []string{"127.0.0.81"}) })

		d.ok("record", "add", "example.org.", "@", "TXT", `"two words"`, "and-one")
		d.eventually("TXT served", func() bool {
			return slices.Equal(d.answers("example.org.", dns.TypeTXT), []string{`"two words" "and-one"`})
		})
		serials = append(serials, d.zone("example.org.").Serial)

		out = d.ok("record", "delete", "example.org.", "www2.example.org.", "A", "127.0.0.5")
		if !strings.HasPrefix(out, "deleted www2.example.org. 300 IN A 127.0.0.5 from example.org.: serial") {
			t.Errorf("record delete printed %q", out)
		}
		serials = append(serials, d.zone("example.org.").Serial)
		d.ok("record", "delete", "example.org.", "www", "AAAA") // the whole RRset
		serials = append(serials, d.zone("example.org.").Serial)
		d.eventually("www2 and www AAAA gone", func() bool {
			return d.query("www2.example.org.", dns.TypeA).Rcode == dns.RcodeNameError && len(d.answers("www.example.org.", dns.TypeAAAA)) == 0
		})
		if got := d.serial("example.org."); got != serials[len(serials)-1] || got <= s0+4 {
			t.Errorf("served serial %d after five edits from %d (want %d)", got, s0, serials[len(serials)-1])
		}

		// A stale --if-serial and an edit that would make the zone
		// invalid are refused and leave the file as it was.
		before := d.zonefile("example.org.")
		cur := d.serial("example.org.")
		d.refused(1, fmt.Sprint(cur), "record", "add", "example.org.", "www3", "A", "127.0.0.3", "--if-serial", fmt.Sprint(cur-1))
		d.refused(1, "CNAME", "record", "add", "example.org.", "www", "CNAME", "mail")
		d.refused(1, "CNAME", "record", "set", "example.org.", "mail", "CNAME", "www", "--if-serial", fmt.Sprint(cur))
		if after := d.zonefile("example.org."); !bytes.Equal(before, after) {
			t.Errorf("a refused edit changed the zonefile:\nbefore:\n%s\nafter:\n%s", before, after)
		}
		if got := d.serial("example.org."); got != cur {
			t.Errorf("serial %d after refused edits, want %d", got, cur)
		}
		if d.query("www3.example.org.", dns.TypeA).Rcode != dns.RcodeNameError {
			t.Errorf("www3 served after a refused edit")
		}
	})

	t.Run("events --json", func(t *testing.T) {
		d.t = t
		out := d.ok("events", "--json", "--limit", "1000")
		var evs []api.Event
		sc := bufio.NewScanner(strings.NewReader(out))
		for sc.Scan() {
			var ev api.Event
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Fatalf("events --json line %q: %v", sc.Text(), err)
			}
			evs = append(evs, ev)
		}
		find := func(zone, kind, detail string) {
			t.Helper()
			for _, ev := range evs {
				if ev.Zone == zone && ev.Kind == kind && strings.Contains(ev.Detail, detail) && ev.ID > 0 && !ev.Time.IsZero() {
					return
				}
			}
			t.Errorf("no %s event of zone %q with %q among:\n%s", kind, zone, detail, out)
		}
		find("", "key-add", "xfer.key.")
		find("", "key-add", "other.key.")
		find("", "key-remove", "other.key.")
		find("example.org.", "meta-set", "TSIG-ALLOW-AXFR")
		find("example.org.", "meta-set", "ALSO-NOTIFY")
		find("", "autoprimary-add", "127.0.0.9")
		find("", "autoprimary-remove", "::1")
		find("sec.example.", "zone-add", "127.0.0.2:5399")
		find("example.net.", "zone-set", "native")
		find("example.net.", "zone-remove", "")
		find("sec.example.", "zone-remove", "")
		find("example.org.", "edit-refused", "CNAME")
		for _, s := range serials {
			found := false
			for _, ev := range evs {
				found = found || ev.Zone == "example.org." && ev.Kind == "edit" && ev.Serial == s && ev.Outcome == api.OutcomeOK
			}
			if !found {
				t.Errorf("no edit event with serial %d", s)
			}
		}
		// The human form: a header and one aligned line per event.
		out = d.ok("events", "--zone", "example.org", "--kind", "edit")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if !strings.HasPrefix(lines[0], "TIME ") || len(lines) != len(serials)+1 {
			t.Errorf("events --zone example.org --kind edit: want %d edits:\n%s", len(serials), out)
		}
	})

	t.Run("events --follow", func(t *testing.T) {
		d.t = t
		cmd := d.command("events", "--follow", "--json", "--limit", "1", "--kind", "edit")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr lockedBuffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		lines := make(chan string)
		stop := make(chan struct{})
		go func() {
			sc := bufio.NewScanner(stdout)
		scan:
			for sc.Scan() {
				select {
				case lines <- sc.Text():
				case <-stop:
					break scan
				}
			}
			close(lines)
			done <- cmd.Wait()
		}()
		t.Cleanup(func() {
			close(stop)
			cmd.Process.Kill()
			<-done
		})
		next := func() api.Event {
			t.Helper()
			select {
			case l, ok := <-lines:
				var ev api.Event
				if !ok || json.Unmarshal([]byte(l), &ev) != nil {
					t.Fatalf("events --follow: line %q (stream open: %v); stderr: %s", l, ok, stderr.String())
				}
				return ev
			case <-time.After(cliTimeout):
				t.Fatalf("events --follow: no line within %v; stderr: %s", cliTimeout, stderr.String())
			}
			return api.Event{}
		}
		if ev := next(); ev.Kind != "edit" || ev.Serial != serials[len(serials)-1] {
			t.Errorf("the last past edit: %+v", ev)
		}
		d.ok("record", "add", "example.org.", "followed", "A", "127.0.0.7")
		if ev := next(); ev.Kind != "edit" || !strings.Contains(ev.Detail, "followed.example.org.") {
			t.Errorf("the followed edit: %+v", ev)
		}
		cmd.Process.Signal(syscall.SIGINT)
		for range lines {
		}
		if err := <-done; err != nil {
			t.Errorf("events --follow after SIGINT: %v (want exit 0); stderr: %s", err, stderr.String())
		}
		done <- nil
	})
}

// cliState is what the bad-input test checks is unchanged: the settings
// of every zone (not its timestamps), example.org's records and
// metadata and its file, the keys and the autoprimaries.
type cliState struct {
	Zones         []string
	Records       []api.Record
	Meta          map[string][]string
	Keys          []api.Key
	Autoprimaries []api.Autoprimary
	File          []byte
}

// TestCLIBadInput: every verb given a malformed argument, an unknown
// name or too few arguments exits non-zero with one line saying why, and
// changes nothing. Exit status 2 means the command line was refused
// before anything was sent, 1 that the daemon refused.
func TestCLIBadInput(t *testing.T) {
	d := startCLIDaemon(t)
	d.ok("key", "add", "k1.", "--algorithm", "hmac-sha256")
	d.ok("autoprimary", "add", "127.0.0.9", "ns1.example.org.")
	d.ok("meta", "set", "example.org.", "TSIG-ALLOW-AXFR", "k1.")
	d.ok("zone", "add-secondary", "sec.example.", "127.0.0.2")
	serial := fmt.Sprint(d.serial("example.org."))
	before := d.state()

	for _, tc := range []struct {
		code int
		want string
		args string
	}{
		{2, "unexpected argument", "status now"},
		{2, "--limit", "events --limit -3"},
		{2, "not a domain name", "events --zone exa..mple.org"},

		{2, "unknown verb", "zone rename example.org. example.com."},
		{2, "not a domain name", "zone show exa..mple.org"},
		{1, "not known", "zone show unknown.example."},
		{2, "missing arguments", "zone add-secondary new.example."},
		{2, "not a domain name", "zone add-secondary new..example 127.0.0.2"},
		{2, "not an IP address", "zone add-secondary new.example. 127.0.0.2,127.0.0.300"},
		{1, "does not exist", "zone add-secondary new.example. 127.0.0.2 --tsig missing.key."},
		{1, "example.org.", "zone add-secondary example.org. 127.0.0.2"},
		{2, "not primary or native", "zone set example.org. --kind hidden"},
		{2, "not increment, date or unixtime", "zone set example.org. --serial-policy weekly"},
		{2, "nothing to change", "zone set example.org."},
		{1, "not known", "zone set unknown.example. --kind native"},
		{1, "sec.example.", "zone set sec.example. --kind primary"},
		{2, "missing arguments", "zone remove"},
		{1, "not known", "zone remove unknown.example."},

		{2, "missing arguments", "record add example.org. www A"},
		{2, "not a record type", "record add example.org. www BOGUS 127.0.0.1"},
		{2, "not valid", "record add example.org. www A 127.0.0.300"},
		{2, "not valid", "record add example.org. @ MX mail"},
		{2, "-ttl", "record add example.org. www A 127.0.0.1 --ttl 1h"},
		{2, "-ttl", "record set example.org. www A 127.0.0.1 --ttl -1"},
		{2, "-if-serial", "record add example.org. www A 127.0.0.1 --if-serial last"},
		{2, "not in zone", "record add example.org. www.example.com. A 127.0.0.1"},
		{2, "not a domain name", "record add example.org. bad..name A 127.0.0.1"},
		{1, "not known", "record add unknown.example. www A 127.0.0.1"},
		{1, "already", "record add example.org. www A 127.0.0.80"},
		{1, serial, "record set example.org. www A 127.0.0.1 --if-serial 1"},
		{1, "CNAME", "record add example.org. mail CNAME www"},
		{1, "secondary", "record add sec.example. www A 127.0.0.1"},
		{2, "missing arguments", "record delete example.org. www"},
		{1, "no nothere.example.org. A", "record delete example.org. nothere A"},
		{1, "no www.example.org. A 127.0.0.99", "record delete example.org. www A 127.0.0.99"},

		{2, "missing --algorithm", "key add k2."},
		{2, "not one of hmac-md5", "key add k2. --algorithm hmac-sha3"},
		{2, "not base64", "key add k2. --algorithm hmac-sha256 --secret ***"},
		{2, "not a domain name", "key add k..2 --algorithm hmac-sha256"},
		{1, "already exists", "key add k1. --algorithm hmac-sha512"},
		{2, "unexpected argument", "key list all"},
		{2, "missing arguments", "key remove"},
		{1, "does not exist", "key remove k9."},
		{1, "TSIG-ALLOW-AXFR", "key remove k1."},

		{2, "missing arguments", "meta set example.org."},
		{2, "not letters, digits and dashes", "meta set example.org. ALSO+NOTIFY 127.0.0.2"},
		{1, "unknown metadata kind", "meta set example.org. NO-SUCH-KIND x"},
		{1, "not known", "meta set unknown.example. ALSO-NOTIFY 127.0.0.2"},

		{2, "not an IP address", "autoprimary add 127.0.0.256 ns1.example.org."},
		{2, "not an IP address", "autoprimary add ns1.example.org. 127.0.0.2"},
		{2, "missing arguments", "autoprimary add 127.0.0.10"},
		{2, "not a domain name", "autoprimary add 127.0.0.10 ns..example.org"},
		{1, "already exists", "autoprimary add 127.0.0.9 ns1.example.org."},
		{2, "not an IP address", "autoprimary remove 127.0.0.1.2"},
		{1, "does not exist", "autoprimary remove 127.0.0.10"},
	} {
		t.Run(tc.args, func(t *testing.T) {
			d.t = t
			d.refused(tc.code, tc.want, strings.Fields(tc.args)...)
			if after := d.state(); !reflect.DeepEqual(before, after) {
				t.Errorf("state changed:\nbefore %+v\nafter  %+v", before, after)
			}
		})
	}
}

// TestCLIPermission: the control socket is mode 0660, so a user outside
// its group gets a clear permission error rather than "not running".
func TestCLIPermission(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the test runs the client as user nobody (uid 65534), and only root can switch to it")
	}
	d := startCLIDaemon(t)
	fi, err := os.Stat(d.sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o660 {
		t.Errorf("control socket mode %v, want a socket with 0660", fi.Mode())
	}
	// nobody may reach the binary and the socket's directory; only the
	// socket's own mode keeps it out.
	for _, dir := range []string{filepath.Dir(d.dir), d.dir, d.data} {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	asNobody := func(args ...string) cliResult {
		cmd := exec.Command(d.bin, args...)
		cmd.Dir = d.dir
		cmd.Env = []string{"PATH=/usr/bin:/bin"}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		return d.runCmd(cmd, args)
	}
	if r := asNobody("version"); r.code != 0 {
		t.Fatalf("nobody cannot run the binary: %v", r)
	}
	for _, args := range [][]string{
		{"status", "--control", d.sock},
		{"--data", d.data, "zone", "list"},
		{"record", "add", "example.org.", "nobody", "A", "127.0.0.1", "--control", d.sock},
	} {
		r := asNobody(args...)
		msg := strings.TrimSuffix(r.stderr, "\n")
		if r.code == 0 || !strings.HasPrefix(msg, "zonekeeper: ") || strings.Contains(msg, "\n") ||
			!strings.Contains(msg, "permission denied") || !strings.Contains(msg, d.sock) {
			t.Errorf("as nobody, want one line with the socket and \"permission denied\": %v", r)
		}
	}
	if d.query("nobody.example.org.", dns.TypeA).Rcode != dns.RcodeNameError {
		t.Errorf("nobody's edit was applied")
	}
}
