package main

import (
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestServeDefaults(t *testing.T) {
	t.Chdir(t.TempDir()) // no config file is read from here; /etc is checked below
	if _, err := os.Stat("/etc/zonekeeper/zonekeeper.conf"); err == nil {
		t.Skip("this machine has /etc/zonekeeper/zonekeeper.conf; defaults are not in force")
	}
	cfg, err := serveConfig(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Listen) != 1 || cfg.Listen[0] != "127.0.0.1:5300" || cfg.Data != "./zonekeeper-data" ||
		cfg.ControlPath() != "zonekeeper-data/control.sock" || cfg.UDPSize != 1232 {
		t.Fatalf("built-in defaults: %+v", cfg)
	}
}

func TestServeFlagsOverrideFile(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "z.conf")
	os.WriteFile(conf, []byte("listen = 127.0.0.9:53\nudp-size = 1400\ndata = /from/file\n"), 0o644)
	cfg, err := serveConfig([]string{"--config", conf, "--listen", "127.0.0.2:5301", "--listen", "127.0.0.3:5302,[::1]:5303", "--udp-size", "4096"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(cfg.Listen, " ") != "127.0.0.2:5301 127.0.0.3:5302 [::1]:5303" || cfg.UDPSize != 4096 || cfg.Data != "/from/file" {
		t.Fatalf("%+v", cfg)
	}
}

func TestServeBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--listen", "localhost:53"}, "host names are not resolved"},
		{[]string{"--udp-size", "12"}, "--udp-size"},
		{[]string{"--bogus"}, "flag provided but not defined"},
		{[]string{"--config", "/nonexistent/zonekeeper.conf"}, "no such file"},
		{[]string{"extra"}, "unexpected argument"},
	} {
		var stderr bytes.Buffer
		_, err := serveConfig(tc.args, &stderr)
		if err == nil || !strings.Contains(err.Error()+stderr.String(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
}

// TestServeBinary runs the real binary: a port already in use is a clear
// error, SIGHUP reloads, SIGTERM stops it cleanly.
func TestServeBinary(t *testing.T) {
	dir := t.TempDir()
	bin := buildZonekeeper(t, dir)
	conf := filepath.Join(dir, "empty.conf")
	os.WriteFile(conf, nil, 0o644)
	data := filepath.Join(dir, "data")
	os.MkdirAll(filepath.Join(data, "zones"), 0o755)
	zone, _ := os.ReadFile("../../testdata/demo/example.com.zone")
	os.WriteFile(filepath.Join(data, "zones", "example.com.zone"), zone, 0o644)

	// A busy port: the error names the address and the exit code is not 0.
	busy, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	out, err := exec.Command(bin, "serve", "--config", conf, "--data", data, "--listen", busy.LocalAddr().String()).CombinedOutput()
	if err == nil || !strings.Contains(string(out), busy.LocalAddr().String()) {
		t.Fatalf("busy port: err=%v output:\n%s", err, out)
	}

	addr := net.JoinHostPort("127.0.0.1", freePortString(t))
	var logs lockedBuffer
	cmd := exec.Command(bin, "serve", "--config", conf, "--data", data, "--listen", addr)
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	waitLog := func(what string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(logs.String(), what) {
			if time.Now().After(deadline) {
				t.Fatalf("no %q in the log:\n%s", what, logs.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitLog("zone loaded")
	cmd.Process.Signal(syscall.SIGHUP)
	waitLog("reloading every zone")
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		done <- err
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not stop on SIGTERM")
	}
}

func freePortString(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}
