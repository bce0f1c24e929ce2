package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"zonekeeper/daemon/answer"
)

func TestConfigFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "zonekeeper.conf")
	os.WriteFile(path, []byte(`# a comment
listen = 0.0.0.0:53, [::]:53
data = /var/lib/zonekeeper   # trailing comment
udp-size = 1400
tcp-idle-timeout = 5s
tcp-max-conns = 5000
tcp-max-conns-per-addr = 0
tcp-max-conns-per-prefix = 1000
xfr-max-bytes = 500MiB
notify-resolve = yes
log-level = debug
`), 0o644)
	cfg := DefaultConfig()
	if err := cfg.ReadConfigFile(path); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg.Listen, []string{"0.0.0.0:53", "[::]:53"}) || cfg.Data != "/var/lib/zonekeeper" ||
		cfg.UDPSize != 1400 || cfg.TCPIdleTimeout != 5*time.Second || cfg.XFRMaxBytes != 500<<20 || !cfg.NotifyResolve ||
		cfg.TCPMaxConns != 5000 || cfg.TCPMaxPerAddr != 0 || cfg.TCPMaxPerPrefix != 1000 {
		t.Fatalf("config not applied: %+v", cfg)
	}
	if cfg.ControlPath() != "/var/lib/zonekeeper/control.sock" {
		t.Errorf("control path %s", cfg.ControlPath())
	}
}

func TestConfigErrorsNameTheLine(t *testing.T) {
	for text, want := range map[string]string{
		"listen = 127.0.0.1:53\nbogus = 1\n":    ":2: unknown setting \"bogus\"",
		"udp-size = 100\n":                      ":1: udp-size: 100 is outside 512..65535",
		"listen = ns1.example.com\n":            "host names are not resolved",
		"just words\n":                          ":1: expected `key = value`",
		"tcp-idle-timeout = soon\n":             "not a positive duration",
		"allow-axfr = 127.0.0.0/8, not-an-ip\n": "neither an IP address nor a prefix",
		"\n\n\nlog-level = loud\n":              ":4: log-level",
		"xfr-max-bytes = lots\n":                "not a size",
		"notify-resolve = maybe\n":              "not yes or no",
		"ns-port = 70000\n":                     "not a port number",
		"tcp-max-conns = 0\n":                   ":1: tcp-max-conns: \"0\" is not a number of connections 1..",
		"tcp-max-conns-per-addr = -1\n":         "tcp-max-conns-per-addr: \"-1\" is not a number of connections 0..",
		"tcp-max-conns-per-prefix = many\n":     "tcp-max-conns-per-prefix: \"many\" is not",
	} {
		path := filepath.Join(t.TempDir(), "z.conf")
		os.WriteFile(path, []byte(text), 0o644)
		cfg := DefaultConfig()
		err := cfg.ReadConfigFile(path)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want it to contain %q", text, err, want)
		}
	}
}

func TestParseAddr(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.2":      "127.0.0.2:53",
		"127.0.0.2:5300": "127.0.0.2:5300",
		"[::1]:5300":     "[::1]:5300",
		"::1":            "[::1]:53",
	} {
		ap, err := ParseAddr(in, 53)
		if err != nil || ap.String() != want {
			t.Errorf("ParseAddr(%q) = %v, %v; want %s", in, ap, err, want)
		}
	}
	if _, err := ParseAddr("localhost", 53); err == nil {
		t.Error("host name accepted")
	}
}

func TestFastPathSettings(t *testing.T) {
	c := DefaultConfig()
	if !c.FastPath || c.FastPathEntries != answer.DefaultFastPathEntries {
		t.Errorf("defaults: fast-path %t, fast-path-entries %d", c.FastPath, c.FastPathEntries)
	}
	if err := c.Set("fast-path", "no"); err != nil || c.FastPath {
		t.Errorf("fast-path no: %v, %t", err, c.FastPath)
	}
	if err := c.Set("fast-path-entries", "1000"); err != nil || c.FastPathEntries != 1000 {
		t.Errorf("fast-path-entries 1000: %v, %d", err, c.FastPathEntries)
	}
	for key, bad := range map[string]string{"fast-path": "maybe", "fast-path-entries": "0"} {
		if err := c.Set(key, bad); err == nil {
			t.Errorf("%s %s: accepted", key, bad)
		}
	}
	if err := c.Set("fast-path-entries", fmt.Sprint(answer.MaxFastPathEntries+1)); err == nil {
		t.Error("fast-path-entries above the maximum: accepted")
	}
}

func TestConfigUDPWorkers(t *testing.T) {
	c := DefaultConfig()
	if c.UDPWorkers != 0 {
		t.Errorf("default udp-workers %d, want 0", c.UDPWorkers)
	}
	if err := c.Set("udp-workers", "4"); err != nil || c.UDPWorkers != 4 {
		t.Errorf("udp-workers 4: %d, %v", c.UDPWorkers, err)
	}
	for _, bad := range []string{"-1", "many", "100000"} {
		if err := c.Set("udp-workers", bad); err == nil {
			t.Errorf("udp-workers %s accepted", bad)
		}
	}
}

func TestConfigCatalogSettings(t *testing.T) {
	c := DefaultConfig()
	if c.CatalogZone != "" || c.CatalogHoldDown != 3 {
		t.Errorf("defaults: catalog-zone %q, catalog-hold-down %d", c.CatalogZone, c.CatalogHoldDown)
	}
	if err := c.Set("catalog-zone", "Cat.Example"); err != nil || c.CatalogZone != "cat.example." {
		t.Errorf("catalog-zone Cat.Example: %q, %v", c.CatalogZone, err)
	}
	for _, bad := range []string{".", "a..b", "bad name"} {
		if err := c.Set("catalog-zone", bad); err == nil || !strings.Contains(err.Error(), "catalog-zone") {
			t.Errorf("catalog-zone %q: %v", bad, err)
		}
	}
	if err := c.Set("catalog-hold-down", "0"); err != nil || c.CatalogHoldDown != 0 {
		t.Errorf("catalog-hold-down 0: %d, %v", c.CatalogHoldDown, err)
	}
	if err := c.Set("catalog-hold-down", "-2"); err == nil {
		t.Error("catalog-hold-down -2 accepted")
	}
}
