package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckFixtures runs `zonekeeper check` on every fixture of
// testdata/check, one per validation rule, and compares the exit status
// and the reported file:line: rule with the fixture's expectation.
func TestCheckFixtures(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/check/*.zone")
	if len(files) < 15 {
		t.Fatalf("only %d fixtures found", len(files))
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want := expectation(t, path)
			var stdout, stderr bytes.Buffer
			err := run([]string{"check", path}, &stdout, &stderr)
			code := exitCode(err)
			out := stdout.String()
			fields := strings.Fields(want)
			if fields[0] == "ok" {
				if code != 0 || strings.Contains(out, "warning:") {
					t.Fatalf("want a clean pass, got exit %d\n%s%s", code, out, stderr.String())
				}
				return
			}
			sev, rule, line := fields[0], fields[1], fields[2]
			loc := path + ":" + line
			if line == "0" {
				loc = path
			}
			prefix := ""
			if sev == "warning" {
				prefix = "warning: "
			}
			wantLine := prefix + loc + ": " + rule + ": "
			if !strings.Contains(out, wantLine) {
				t.Errorf("output lacks %q:\n%s", wantLine, out)
			}
			wantCode := 0
			if sev == "error" {
				wantCode = 1
			}
			if code != wantCode {
				t.Errorf("exit %d, want %d\n%s%s", code, wantCode, out, stderr.String())
			}
		})
	}
}

// expectation reads the "; expect: ..." first line of a fixture.
func expectation(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan()
	want, ok := strings.CutPrefix(sc.Text(), "; expect: ")
	if !ok {
		t.Fatalf("%s: first line is not `; expect: ...`", path)
	}
	return want
}

func exitCode(err error) int {
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	}
	return 2
}

func TestCheckListsEveryError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "example.org.zone")
	text := "$TTL 60\n@ IN SOA ns1 h 1 1 1 1 1\n@ IN NS ns1\nns1 IN A 127.0.0.1\n" +
		"a IN CNAME ns1\na IN A 127.0.0.2\nb 4294967295 IN A 127.0.0.3\n"
	os.WriteFile(path, []byte(text), 0o644)
	var stdout, stderr bytes.Buffer
	err := run([]string{"check", path}, &stdout, &stderr)
	if exitCode(err) != 1 {
		t.Fatalf("exit %d", exitCode(err))
	}
	for _, want := range []string{path + ":6: cname-and-other", path + ":7: ttl-range"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("missing %q in\n%s", want, stdout.String())
		}
	}
}

func TestCheckOriginFlag(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "db.example")
	os.WriteFile(path, []byte("$TTL 60\n@ IN SOA ns1 h 1 1 1 1 1\n@ IN NS ns1\nns1 IN A 127.0.0.1\nwww.example.org. IN A 127.0.0.2\n"), 0o644)
	for _, args := range [][]string{
		{"check", path, "--origin", "example.org"},
		{"check", "--origin", "example.org.", path},
	} {
		var stdout, stderr bytes.Buffer
		if err := run(args, &stdout, &stderr); err != nil {
			t.Fatalf("%v: %v\n%s%s", args, err, stdout.String(), stderr.String())
		}
		if !strings.Contains(stdout.String(), "zone example.org. serial 1") || strings.Contains(stdout.String(), "out-of-zone") {
			t.Errorf("%v: origin not applied:\n%s", args, stdout.String())
		}
	}
}

func TestCheckBadArguments(t *testing.T) {
	for _, args := range [][]string{{"check"}, {"check", "a", "b"}, {"check", "--bogus", "x"}, {"check", "/nonexistent/x.zone"}} {
		var stdout, stderr bytes.Buffer
		err := run(args, &stdout, &stderr)
		if err == nil {
			t.Errorf("%v: no error", args)
		}
		_ = fmt.Sprint(err)
	}
}
