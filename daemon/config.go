package daemon

import (
	"bufio"
	"cmp"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"zonekeeper/daemon/answer"
)

// DefaultConfigFile is read by serve when it exists and no --config is given.
const DefaultConfigFile = "/etc/zonekeeper/zonekeeper.conf"

// Config holds every setting of a running daemon. Its zero value is not
// useful; start from DefaultConfig. Each field is a key of the config
// file and a flag of `zonekeeper serve` with the same name.
type Config struct {
	Listen  []string // listen: 127.0.0.1:5300
	Data    string   // data: ./zonekeeper-data
	Control string   // control: DATA/control.sock
	// ControlAdminGroup is control-admin-group: members of this group
	// may change things over the control socket; others of its group
	// may only read. Default none: root and the daemon's user only.
	ControlAdminGroup string
	HealthInterval    time.Duration // health-interval: 30s
	NSPort            int           // ns-port: 53, the port for addresses derived from NS records
	NotifyResolve     bool          // notify-resolve: no
	AllowAXFR         []string      // allow-axfr: empty
	AlsoNotify        []string      // also-notify: empty
	XFRTimeout        time.Duration // xfr-timeout: 10m
	XFRIdleTimeout    time.Duration // xfr-idle-timeout: 30s
	XFRMaxRecords     int64         // xfr-max-records: 10000000, less on a small machine (memoryDefaults)
	XFRMaxBytes       int64         // xfr-max-bytes: 2GiB, less on a small machine
	XFRMemory         int64         // xfr-memory: half the machine's memory; 0 no budget
	ZoneMaxRecords    int64         // zone-max-records: 0, as many as xfr-max-records
	UDPSize           int           // udp-size: 1232
	UDPWorkers        int           // udp-workers: 0, one UDP socket and reader per CPU the process may use (GOMAXPROCS)
	TCPIdleTimeout    time.Duration // tcp-idle-timeout: 10s
	// tcpWriteTimeout bounds one TCP reply write; 0 is the listeners'
	// default. Tests shorten it.
	tcpWriteTimeout time.Duration
	TCPMaxConns     int           // tcp-max-conns: 1000, TCP connections open at once, a tenth of them kept for the servers replicated with
	TCPMaxPerAddr   int           // tcp-max-conns-per-addr: 64, TCP connections from one client address; 0: no limit
	TCPMaxPerPrefix int           // tcp-max-conns-per-prefix: 256, TCP connections from one IPv4 /24 or IPv6 /56; 0: no limit
	RRLRate         int           // rrl-responses-per-second: 0 (off), identical UDP responses to one client /24 or /56 a second
	RRLSlip         int           // rrl-slip: 2, every n-th limited response is sent truncated (TC=1); 0: none
	EventsMax       int           // events-max: 100000
	ShutdownTimeout time.Duration // shutdown-timeout: 10s, after SIGTERM the process exits by then whatever is under way
	LogLevel        slog.Level    // log-level: info

	FastPath        bool // fast-path: yes, answer repeated plain queries from a cache of ready replies
	FastPathEntries int  // fast-path-entries: auto (0), slots of that cache: four per name served, 4 Ki to 1 Mi
	ZoneCache       bool // zone-cache: yes, keep each primary zone compiled in DATA/cache so that a restart need not parse it

	// CatalogZone is catalog-zone: the name this node serves its catalog
	// under (catalog.go). "" (the default) is
	// <node-id>.catalog.zonekeeper.invalid., the node id being made once
	// and kept in DATA/node-id; New resolves it.
	CatalogZone string
	// CatalogHoldDown is catalog-hold-down: how many health rounds a
	// zone must stay out of its primary's catalog before it is removed
	// here (catalog_remove.go). Default 3.
	CatalogHoldDown int

	// SignatureWarn is signature-warn: how long before a signed zone's
	// earliest RRSIG expires it is reported (sigwatch.go). Default
	// 7d,1d; an expired signature is always reported.
	SignatureWarn []time.Duration

	Version string // the running binary's version, for status; not a setting
}

// DefaultConfig returns the built-in defaults: a safe local run that
// needs no root and no config file.
func DefaultConfig() Config {
	maxRecords, maxBytes, budget := memoryDefaults(machineMemory())
	return Config{
		Listen:          []string{"127.0.0.1:5300"},
		Data:            "./zonekeeper-data",
		HealthInterval:  30 * time.Second,
		NSPort:          53,
		XFRTimeout:      10 * time.Minute,
		XFRIdleTimeout:  30 * time.Second,
		XFRMaxRecords:   maxRecords,
		XFRMaxBytes:     maxBytes,
		XFRMemory:       budget,
		UDPSize:         1232,
		TCPIdleTimeout:  10 * time.Second,
		EventsMax:       100_000,
		ShutdownTimeout: 10 * time.Second,
		LogLevel:        slog.LevelInfo,

		TCPMaxConns:     1000,
		TCPMaxPerAddr:   64,
		TCPMaxPerPrefix: 256,
		RRLSlip:         2,

		FastPath:        true,
		FastPathEntries: answer.DefaultFastPathEntries,
		ZoneCache:       true,
		CatalogHoldDown: 3,
		SignatureWarn:   []time.Duration{7 * 24 * time.Hour, 24 * time.Hour},
	}
}

// ControlPath returns the control socket path: Control, else DATA/control.sock.
func (c *Config) ControlPath() string {
	if c.Control != "" {
		return c.Control
	}
	return filepath.Join(c.Data, "control.sock")
}

// ZonesDir is where primary zonefiles live: DATA/zones.
func (c *Config) ZonesDir() string { return filepath.Join(c.Data, "zones") }

// ZoneRecordLimit returns the most records one zonefile may produce:
// zone-max-records, or xfr-max-records when it is not set.
func (c *Config) ZoneRecordLimit() int64 {
	if c.ZoneMaxRecords > 0 {
		return c.ZoneMaxRecords
	}
	return c.XFRMaxRecords
}

// CacheDir is where the compiled caches of primary zones live: DATA/cache.
func (c *Config) CacheDir() string { return filepath.Join(c.Data, "cache") }

// ConfigKeys lists every key Set accepts, in the order of
// docs/architecture.md ("Configuration keys").
var ConfigKeys = []string{
	"listen", "data", "control", "control-admin-group", "health-interval", "ns-port", "notify-resolve",
	"allow-axfr", "also-notify", "xfr-timeout", "xfr-idle-timeout", "xfr-max-records",
	"xfr-max-bytes", "xfr-memory", "zone-max-records", "udp-size", "tcp-idle-timeout", "tcp-max-conns", "tcp-max-conns-per-addr",
	"tcp-max-conns-per-prefix", "rrl-responses-per-second", "rrl-slip", "events-max", "shutdown-timeout", "log-level",
	"fast-path", "fast-path-entries", "zone-cache",
	"udp-workers", "catalog-zone", "catalog-hold-down",
	"signature-warn",
}

// Set sets one key from its text form, as found in the config file or on
// the command line. Lists are comma-separated.
func (c *Config) Set(key, value string) error {
	value = strings.TrimSpace(value)
	var err error
	switch key {
	case "listen":
		c.Listen, err = addrList(value, true)
	case "data":
		if value == "" {
			return fmt.Errorf("data: empty directory")
		}
		c.Data = value
	case "control":
		c.Control = value
	case "control-admin-group":
		c.ControlAdminGroup = value
	case "health-interval":
		c.HealthInterval, err = positiveDuration(value)
	case "signature-warn":
		c.SignatureWarn, err = durationList(value)
	case "ns-port":
		c.NSPort, err = port(value)
	case "notify-resolve":
		c.NotifyResolve, err = yesNo(value)
	case "allow-axfr":
		c.AllowAXFR, err = prefixList(value)
	case "also-notify":
		c.AlsoNotify, err = addrList(value, false)
	case "xfr-timeout":
		c.XFRTimeout, err = positiveDuration(value)
	case "xfr-idle-timeout":
		c.XFRIdleTimeout, err = positiveDuration(value)
	case "xfr-max-records":
		c.XFRMaxRecords, err = positiveInt(value)
	case "zone-max-records":
		c.ZoneMaxRecords, err = positiveInt(value)
	case "xfr-max-bytes":
		c.XFRMaxBytes, err = byteSize(value)
	case "xfr-memory":
		if value == "off" || value == "0" {
			c.XFRMemory = 0
		} else {
			c.XFRMemory, err = byteSize(value)
		}
	case "udp-size":
		var n int64
		n, err = positiveInt(value)
		if err == nil && (n < 512 || n > 65535) {
			err = fmt.Errorf("%d is outside 512..65535", n)
		}
		c.UDPSize = int(n)
	case "udp-workers":
		c.UDPWorkers, err = strconv.Atoi(value)
		if err != nil || c.UDPWorkers < 0 || c.UDPWorkers > 1024 {
			c.UDPWorkers, err = 0, fmt.Errorf("%q is not a number of workers 0..1024 (0: one per CPU)", value)
		}
	case "fast-path":
		c.FastPath, err = yesNo(value)
	case "fast-path-entries":
		if value == "auto" {
			c.FastPathEntries = 0
			break
		}
		var n int64
		n, err = positiveInt(value)
		if err == nil && n > answer.MaxFastPathEntries {
			err = fmt.Errorf("%d is above %d", n, answer.MaxFastPathEntries)
		}
		c.FastPathEntries = int(n)
	case "zone-cache":
		c.ZoneCache, err = yesNo(value)
	case "catalog-zone":
		c.CatalogZone, err = catalogZoneSetting(value)
	case "catalog-hold-down":
		c.CatalogHoldDown, err = smallCount(value, 1000)
	case "shutdown-timeout":
		c.ShutdownTimeout, err = positiveDuration(value)
	case "tcp-idle-timeout":
		c.TCPIdleTimeout, err = positiveDuration(value)
	case "tcp-max-conns":
		c.TCPMaxConns, err = connCount(value, 1)
	case "tcp-max-conns-per-addr":
		c.TCPMaxPerAddr, err = connCount(value, 0)
	case "tcp-max-conns-per-prefix":
		c.TCPMaxPerPrefix, err = connCount(value, 0)
	case "rrl-responses-per-second":
		c.RRLRate, err = smallCount(value, 65534)
	case "rrl-slip":
		c.RRLSlip, err = smallCount(value, 10)
	case "events-max":
		var n int64
		n, err = positiveInt(value)
		c.EventsMax = int(n)
	case "log-level":
		err = c.LogLevel.UnmarshalText([]byte(value))
		if err != nil {
			err = fmt.Errorf("%q is not one of debug, info, warn, error", value)
		}
	default:
		return fmt.Errorf("unknown setting %q (known: %s)", key, strings.Join(ConfigKeys, ", "))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	return nil
}

// ReadConfigFile applies a config file: one `key = value` per line,
// `#` comments, blank lines ignored. Errors name file:line.
func (c *Config) ReadConfigFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return fmt.Errorf("%s:%d: expected `key = value`, got %q", path, n, line)
		}
		if err := c.Set(strings.TrimSpace(key), value); err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("config: %s: %w", path, err)
	}
	return nil
}

func list(value string) []string {
	var out []string
	for _, item := range strings.Split(value, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// ParseAddr parses an ADDR (docs/architecture.md, "ADDR syntax"): an IP
// literal with an optional port (53 when absent). Host names are not
// resolved.
func ParseAddr(s string, defaultPort uint16) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap, nil
	}
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return netip.AddrPortFrom(a, defaultPort), nil
	}
	return netip.AddrPort{}, fmt.Errorf("%q is not an IP address with an optional port (such as 127.0.0.2, 127.0.0.2:5300 or [::1]:5300); host names are not resolved", s)
}

func addrList(value string, nonEmpty bool) ([]string, error) {
	items := list(value)
	if nonEmpty && len(items) == 0 {
		return nil, fmt.Errorf("no address given")
	}
	out := make([]string, 0, len(items))
	for _, item := range items {
		ap, err := ParseAddr(item, 53)
		if err != nil {
			return nil, err
		}
		out = append(out, ap.String())
	}
	return out, nil
}

func prefixList(value string) ([]string, error) {
	items := list(value)
	for _, item := range items {
		if _, err := netip.ParsePrefix(item); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(item); err != nil {
			return nil, fmt.Errorf("%q is neither an IP address nor a prefix", item)
		}
	}
	return items, nil
}

func positiveDuration(value string) (time.Duration, error) {
	d, err := time.ParseDuration(value)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration such as 30s or 10m", value)
	}
	return d, nil
}

// durationList parses comma-separated positive durations, each in Go's
// form (36h) or in whole days (7d), longest first.
func durationList(value string) ([]time.Duration, error) {
	var ds []time.Duration
	for item := range strings.SplitSeq(value, ",") {
		item = strings.TrimSpace(item)
		if days, ok := strings.CutSuffix(item, "d"); ok {
			if n, err := strconv.Atoi(days); err == nil && n > 0 {
				ds = append(ds, time.Duration(n)*24*time.Hour)
				continue
			}
		}
		d, err := time.ParseDuration(item)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%q is not a positive duration such as 7d or 36h", item)
		}
		ds = append(ds, d)
	}
	slices.SortFunc(ds, func(a, b time.Duration) int { return cmp.Compare(b, a) })
	return slices.Compact(ds), nil
}

func positiveInt(value string) (int64, error) {
	n, err := strconv.ParseInt(value, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a positive integer", value)
	}
	return n, nil
}

// maxConnCount bounds the TCP connection settings: each connection
// holds a file descriptor and buffers.
const maxConnCount = 1 << 20

// connCount parses a number of connections, least..maxConnCount.
func connCount(value string, least int) (int, error) {
	n, err := strconv.Atoi(value)
	if err != nil || n < least || n > maxConnCount {
		return 0, fmt.Errorf("%q is not a number of connections %d..%d", value, least, maxConnCount)
	}
	return n, nil
}

// smallCount reads a count 0..most.
func smallCount(value string, most int) (int, error) {
	n, err := strconv.Atoi(value)
	if err != nil || n < 0 || n > most {
		return 0, fmt.Errorf("%q is not a number 0..%d", value, most)
	}
	return n, nil
}

func port(value string) (int, error) {
	n, err := strconv.Atoi(value)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("%q is not a port number 1..65535", value)
	}
	return n, nil
}

func yesNo(value string) (bool, error) {
	switch strings.ToLower(value) {
	case "yes", "true", "on", "1":
		return true, nil
	case "no", "false", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not yes or no", value)
}

// byteSize parses a size with an optional KiB/MiB/GiB suffix.
func byteSize(value string) (int64, error) {
	mult := int64(1)
	v := value
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30} {
		if strings.HasSuffix(v, suffix) && len(v) > len(suffix) {
			if _, err := strconv.ParseInt(strings.TrimSuffix(v, suffix), 10, 64); err == nil {
				v, mult = strings.TrimSuffix(v, suffix), m
				break
			}
		}
	}
	n, err := positiveInt(v)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size such as 2GiB or 500MiB", value)
	}
	return n * mult, nil
}
