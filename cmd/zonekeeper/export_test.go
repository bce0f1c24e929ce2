package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// TestExportBadArguments checks that `export` refuses a missing or
// unknown format, an unknown role and a bad zone name before it asks the
// daemon anything.
func TestExportBadArguments(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"export"}, "bind|knot|nsd"},
		{[]string{"export", "powerdns"}, "use bind, knot or nsd"},
		{[]string{"export", "bind", "--role", "tertiary"}, "use secondary or primary"},
		{[]string{"export", "nsd", "--zones", "a b"}, "not a domain name"},
		{[]string{"export", "knot", "nsd"}, ""},
	} {
		var stdout, stderr bytes.Buffer
		err := run(append(tc.args, "--control", "/nonexistent/control.sock"), &stdout, &stderr)
		if exitCode(err) != 2 {
			t.Errorf("%v: exit %d, want 2 (usage)\n%s", tc.args, exitCode(err), stderr.String())
		}
		if msg := stderr.String() + fmt.Sprint(err); !strings.Contains(msg, tc.want) {
			t.Errorf("%v: %q lacks %q", tc.args, msg, tc.want)
		}
	}
}
