package main

// The control socket's capabilities (docs/architecture.md, "Control
// socket"): a user who may connect to the socket only reads; what
// changes something or shows a secret needs root, the daemon's user or
// the control-admin-group.

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// nobody is the unprivileged user the tests connect as.
const nobody = 65534

// runAs runs a client command as uid/gid nobody.
func (d *cliDaemon) runAs(args ...string) cliResult {
	d.t.Helper()
	cmd := d.command(args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	return d.runCmd(cmd, args)
}

// openToNobody lets user nobody reach the binary and the control socket,
// as the socket's group does for a packaged server: the socket's group
// becomes nobody's, the directories on the way searchable.
func (d *cliDaemon) openToNobody() {
	d.t.Helper()
	for dir := d.dir; dir != "/" && dir != os.TempDir(); dir = filepath.Dir(dir) {
		if err := os.Chmod(dir, 0o755); err != nil {
			d.t.Fatal(err)
		}
	}
	if err := os.Chown(d.sock, -1, nobody); err != nil {
		d.t.Fatal(err)
	}
}

func TestControlCapabilities(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run the client as another user")
	}
	d := startCLIDaemon(t)
	d.openToNobody()

	// A reader sees zones, health and the log.
	for _, args := range [][]string{{"status"}, {"zone", "list"}, {"zone", "show", "example.org."}, {"events"}, {"key", "list"}} {
		if r := d.runAs(args...); r.code != 0 {
			t.Errorf("as a reader: %v", r)
		}
	}
	if r := d.runAs("zone", "list"); !strings.Contains(r.stdout, "example.org.") {
		t.Errorf("zone list as a reader does not list example.org.: %v", r)
	}

	// What changes something, or shows a secret, is refused with the
	// reason, and changes nothing.
	d.ok("key", "add", "k1.", "--algorithm", "hmac-sha256")
	d.ok("peer", "add", "sec", "127.0.0.9:5399", "--role", "secondary", "--tsig", "k1.")
	if err := os.WriteFile(filepath.Join(d.data, "scripts", "none.lua"), []byte("-- keeps all\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d.ok("meta", "set", "example.org.", "LUA-AXFR-SCRIPT", "none.lua")
	// A script outside DATA/scripts is refused, by root too, without a
	// word of what the file holds.
	r := d.run("meta", "set", "example.org.", "LUA-AXFR-SCRIPT", "/etc/passwd")
	if r.code == 0 || !strings.Contains(r.stderr, "outside the scripts directory") || strings.Contains(r.stderr, "root:") {
		t.Errorf("a script outside the scripts directory: %v", r)
	}
	for _, args := range [][]string{
		{"export", "bind"},
		{"export", "nsd", "--peer", "sec"},
		{"record", "add", "example.org.", "new", "A", "127.0.0.77"},
		{"meta", "set", "example.org.", "ALSO-NOTIFY", "127.0.0.9"},
		{"key", "add", "k2.", "--algorithm", "hmac-sha256"},
		{"key", "remove", "k1."},
		{"zone", "promote", "example.org."},
	} {
		r := d.runAs(args...)
		if r.code == 0 || !strings.Contains(r.stderr, "needs the admin capability") || !strings.Contains(r.stderr, "control-admin-group") {
			t.Errorf("as a reader, want a refusal naming the admin capability and control-admin-group: %v", r)
		}
	}
	if out := d.ok("key", "list"); !strings.Contains(out, "k1.") || strings.Contains(out, "k2.") {
		t.Errorf("keys changed by a reader:\n%s", out)
	}
	if r := d.runAs("zone", "show", "example.org."); strings.Contains(r.stdout, "none.lua") {
		t.Errorf("a reader sees the script path:\n%s", r.stdout)
	}
	if out := d.ok("zone", "show", "example.org."); !strings.Contains(out, "none.lua") {
		t.Errorf("root does not see the script path:\n%s", out)
	}
	d.ok("record", "add", "example.org.", "new", "A", "127.0.0.77")
}

func TestControlAdminGroup(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run the client as another user")
	}
	d := startCLIDaemon(t, "--control-admin-group", "65534")
	d.openToNobody()
	if r := d.runAs("record", "add", "example.org.", "grp", "A", "127.0.0.78"); r.code != 0 {
		t.Fatalf("a member of the admin group: %v", r)
	}
	if r := d.runAs("export", "bind"); r.code != 0 {
		t.Errorf("a member of the admin group exports: %v", r)
	}
}
