package main

// Tests of the client verbs that need no daemon: where the control
// socket is looked for, client flags before the verb, help, and the
// command-line checks that refuse bad input before anything is sent.

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"zonekeeper/daemon/api"
)

func TestLocatorOrder(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	withControl := write("control.conf", "# comment\ncontrol = /conf/control.sock\ndata = /conf/data\n")
	withData := write("data.conf", "data = /conf/data\nlisten = 127.0.0.1:5300\n")
	withNeither := write("neither.conf", "log-level = debug\n")
	broken := write("broken.conf", "data /no/equals\n")
	runSocket := write("run.sock", "")
	missing := filepath.Join(dir, "missing")

	for _, tc := range []struct {
		name       string
		flags      clientFlags
		env        string // $ZONEKEEPER_CONTROL
		configFile string // the default config file
		runSocket  string
		want       string // the socket, or with wantErr a part of the error
		wantErr    bool
	}{
		{"--control first", clientFlags{control: "/flag.sock", data: "/d", config: withControl}, "/env.sock", withControl, runSocket, "/flag.sock", false},
		{"then the environment", clientFlags{data: "/d", config: withControl}, "/env.sock", withControl, runSocket, "/env.sock", false},
		{"then --data", clientFlags{data: "/d", config: withControl}, "", withControl, runSocket, "/d/control.sock", false},
		{"then --config's control", clientFlags{config: withControl}, "", withData, runSocket, "/conf/control.sock", false},
		{"--config's data", clientFlags{config: withData}, "", withControl, runSocket, "/conf/data/control.sock", false},
		{"--config without either", clientFlags{config: withNeither}, "", withControl, runSocket, runSocket, false},
		{"the default config file", clientFlags{}, "", withControl, runSocket, "/conf/control.sock", false},
		{"the default config file's data", clientFlags{}, "", withData, runSocket, "/conf/data/control.sock", false},
		{"then the packaged socket", clientFlags{}, "", missing, runSocket, runSocket, false},
		{"then the built-in data directory", clientFlags{}, "", missing, missing, "zonekeeper-data/control.sock", false},
		{"a missing --config", clientFlags{config: missing}, "", withControl, runSocket, "no such file", true},
		{"a broken config file", clientFlags{config: broken}, "", missing, runSocket, "broken.conf:1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := locator{
				getenv: func(k string) string {
					if k == controlEnv {
						return tc.env
					}
					return ""
				},
				configFile: tc.configFile,
				runSocket:  tc.runSocket,
			}
			got, err := l.socket(&tc.flags)
			switch {
			case tc.wantErr && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("socket() = %q, %v; want an error with %q", got, err, tc.want)
			case !tc.wantErr && (err != nil || got != tc.want):
				t.Fatalf("socket() = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestLeadingGlobals(t *testing.T) {
	for _, tc := range []struct {
		args, globals, rest string
	}{
		{"zone list", "", "zone list"},
		{"--json zone list", "--json", "zone list"},
		{"-json --control /s --data=/d --config f zone list --json", "-json --control /s --data=/d --config f", "zone list --json"},
		{"--json=false status", "--json=false", "status"},
		{"--bogus zone list", "", "--bogus zone list"},
		{"--control", "--control", ""},
		{"--json -- zone", "--json", "-- zone"},
	} {
		g, r := leadingGlobals(strings.Fields(tc.args))
		if strings.Join(g, " ") != tc.globals || strings.Join(r, " ") != tc.rest {
			t.Errorf("leadingGlobals(%q) = %q, %q; want %q, %q", tc.args, g, r, tc.globals, tc.rest)
		}
	}
}

// clientVerbs lists every client verb as its words on the command line.
var clientVerbs = [][]string{
	{"status"}, {"events"},
	{"zone", "list"}, {"zone", "show"}, {"zone", "add-secondary"}, {"zone", "set"}, {"zone", "remove"},
	{"record", "add"}, {"record", "set"}, {"record", "delete"},
	{"key", "add"}, {"key", "list"}, {"key", "remove"},
	{"meta", "set"},
	{"autoprimary", "add"}, {"autoprimary", "list"}, {"autoprimary", "remove"},
}

func TestClientHelp(t *testing.T) {
	for _, words := range clientVerbs {
		for _, help := range []string{"--help", "-h"} {
			var stdout, stderr bytes.Buffer
			err := run(append(slices.Clone(words), help), &stdout, &stderr)
			verb := strings.Join(words, " ")
			if !errors.Is(err, flag.ErrHelp) {
				t.Errorf("%s %s: %v, want flag.ErrHelp (exit 0)", verb, help, err)
			}
			out := stdout.String()
			for _, want := range []string{"usage: zonekeeper " + verb, "--json", "--control", "--data", "--config"} {
				if !strings.Contains(out, want) {
					t.Errorf("%s %s: no %q in:\n%s", verb, help, want, out)
				}
			}
			if stderr.Len() > 0 {
				t.Errorf("%s %s: wrote to stderr: %s", verb, help, stderr.String())
			}
		}
	}
	for _, g := range []string{"zone", "record", "key", "meta", "autoprimary"} {
		var stdout bytes.Buffer
		if err := run([]string{g, "--help"}, &stdout, &stdout); err != nil || !strings.Contains(stdout.String(), "verbs:") {
			t.Errorf("%s --help: %v\n%s", g, err, stdout.String())
		}
	}
}

// TestClientUsageErrors: malformed command lines are refused with exit
// status 2 and one line saying what is wrong, before the daemon is
// looked for (the socket here does not exist; reaching for it would be
// exit status 1).
func TestClientUsageErrors(t *testing.T) {
	t.Setenv(controlEnv, filepath.Join(t.TempDir(), "none.sock"))
	for _, tc := range []struct {
		args string
		want string
	}{
		{"status extra", `unexpected argument "extra"`},
		{"status --bogus", "flag provided but not defined"},
		{"events --limit 0", "--limit"},
		{"events --limit many", "--limit"},
		{"events --zone exa..mple.org", "not a domain name"},
		{"zone", "give a verb"},
		{"zone frobnicate", `unknown verb "frobnicate"`},
		{"zone show", "missing arguments"},
		{"zone show exa..mple.org", "not a domain name"},
		{"zone show example.org extra", "unexpected argument"},
		{"zone add-secondary example.net.", "missing arguments"},
		{"zone add-secondary example.net. 127.0.0.300", "not an IP address"},
		{"zone add-secondary example.net. 127.0.0.2,,127.0.0.3", "empty primary"},
		{"zone add-secondary example.net. 127.0.0.2 --tsig bad..key", "not a domain name"},
		{"zone add-secondary example.net. 127.0.0.2 127.0.0.3", "comma-separated"},
		{"zone set example.org.", "nothing to change"},
		{"zone set example.org. --kind secondary", "zone demote"},
		{"zone set example.org. --kind master", "not primary or native"},
		{"zone set example.org. --serial-policy weekly", "not increment, date or unixtime"},
		{"zone remove", "missing arguments"},
		{"record add example.org. www A", "missing arguments"},
		{"record add example.org. www BOGUS 1.2.3.4", "not a record type"},
		{"record add example.org. www ANY 1.2.3.4", "not a record type"},
		{"record add example.org. www A 1.2.3", "not valid"},
		{"record add example.org. www A 1.2.3.4 --ttl -1", "-ttl"},
		{"record add example.org. www A 1.2.3.4 --ttl 2147483648", "-ttl"},
		{"record add example.org. www A 1.2.3.4 --if-serial x", "-if-serial"},
		{"record add example.org. www.example.com. A 1.2.3.4", "not in zone example.org."},
		{"record add exa..mple.org www A 1.2.3.4", "not a domain name"},
		{"record set example.org. www", "missing arguments"},
		{"record delete example.org. www", "missing arguments"},
		{"record delete example.org. www A 1.2.3.4 --ttl 5", "flag provided but not defined: -ttl"},
		{"key add k1.", "missing --algorithm"},
		{"key add k1. --algorithm hmac-sha999", "not one of hmac-md5"},
		{"key add k1. --algorithm hmac-sha256 --secret not!base64", "not base64"},
		{"key add k1. --algorithm hmac-sha256 --secret=", "empty secret"},
		{"key add bad..key --algorithm hmac-sha256", "not a domain name"},
		{"key list extra", "unexpected argument"},
		{"key remove", "missing arguments"},
		{"meta set example.org.", "missing arguments"},
		{"meta set example.org. ALSO_NOTIFY 127.0.0.2", "not letters, digits and dashes"},
		{"autoprimary add 127.0.0.300 ns1.example.org.", "not an IP address"},
		{"autoprimary add 127.0.0.2", "missing arguments"},
		{"autoprimary add 127.0.0.2 bad..ns", "not a domain name"},
		{"autoprimary add 127.0.0.2 ns1.example.org. acct extra", "unexpected argument"},
		{"autoprimary remove ns1.example.org.", "not an IP address"},
	} {
		wantUsageError(t, tc.args, tc.want)
	}
}

// TestClientNoDaemon: with nothing at the socket every verb says so in
// one line and exits 1.
func TestClientNoDaemon(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "control.sock")
	for _, args := range [][]string{
		{"status", "--control", sock},
		{"--control", sock, "zone", "list"},
		{"zone", "--json", "--control", sock, "show", "example.org."},
		{"events", "--follow", "--control", sock},
		{"record", "add", "example.org.", "www", "A", "127.0.0.1", "--control=" + sock},
	} {
		var stdout, stderr bytes.Buffer
		err := run(args, &stdout, &stderr)
		var ee exitError
		msg := stderr.String()
		if !errors.As(err, &ee) || ee.code != 1 {
			t.Errorf("%v: %v, want exit status 1", args, err)
		}
		if !strings.HasPrefix(msg, "zonekeeper: no zonekeeper daemon at "+sock+": is it running?") || strings.Count(msg, "\n") != 1 {
			t.Errorf("%v: stderr %q", args, msg)
		}
	}
}

func TestEditSummary(t *testing.T) {
	rr := func(name, data string) api.Record { return api.Record{Name: name, TTL: 300, Type: "A", Data: data} }
	for _, tc := range []struct {
		op   string
		res  api.EditResult
		want string
	}{
		{api.EditAdd, api.EditResult{Zone: "example.org.", OldSerial: 1, NewSerial: 2, Added: []api.Record{rr("www.example.org.", "127.0.0.5")}},
			"added www.example.org. 300 IN A 127.0.0.5 to example.org.: serial 1 -> 2"},
		{api.EditSet, api.EditResult{Zone: "example.org.", OldSerial: 1, NewSerial: 2, Added: []api.Record{rr("www.example.org.", "127.0.0.5")},
			Removed: []api.Record{rr("www.example.org.", "127.0.0.6"), rr("www.example.org.", "127.0.0.7")}},
			"set www.example.org. 300 IN A 127.0.0.5 in example.org., replacing 2 records (www.example.org. A): serial 1 -> 2"},
		{api.EditDelete, api.EditResult{Zone: "example.org.", OldSerial: 1, NewSerial: 2, Removed: []api.Record{rr("www.example.org.", "127.0.0.6")}},
			"deleted www.example.org. 300 IN A 127.0.0.6 from example.org.: serial 1 -> 2"},
		{api.EditSet, api.EditResult{Zone: "example.org.", OldSerial: 2, NewSerial: 2}, "no change to example.org.: serial 2"},
	} {
		if got := editSummary(tc.op, "www.example.org.", "A", &tc.res); got != tc.want {
			t.Errorf("%s: %q\nwant %q", tc.op, got, tc.want)
		}
	}
}

// wantUsageError runs the command line args and checks that it fails as
// a usage error does: a returned error (exit 2, not an exitError) of one
// line containing want, and nothing printed.
func wantUsageError(t *testing.T, args, want string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(strings.Fields(args), &stdout, &stderr)
	var ee exitError
	switch {
	case err == nil:
		t.Errorf("%s: succeeded", args)
	case errors.As(err, &ee):
		t.Errorf("%s: exit status %d (%s), want a usage error (exit 2)", args, ee.code, stderr.String())
	case !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n"):
		t.Errorf("%s: error %q, want one line with %q", args, err, want)
	}
	if stdout.Len()+stderr.Len() > 0 {
		t.Errorf("%s: printed %q %q; a usage error is only the returned error", args, stdout.String(), stderr.String())
	}
}
