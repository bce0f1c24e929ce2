package tui

// A real zonekeeper daemon for the tests of this package: the binary is
// built once from zonekeeper/cmd/zonekeeper and run as `serve` in a temp
// directory on loopback, with an empty config file.

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"zonekeeper/daemon/api"
	"zonekeeper/daemon/client"
)

// testTimeout bounds each wait on the daemon or the TUI: generous, for
// the race detector on two cores.
const testTimeout = 30 * time.Second

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// zonekeeperBinary builds the zonekeeper binary once per test run.
func zonekeeperBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "zonekeeper-tui-test-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "zonekeeper")
		cmd := exec.Command("go", "build", "-o", binPath, "zonekeeper/cmd/zonekeeper")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build zonekeeper/cmd/zonekeeper: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// syncBuffer collects a child's output.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testDaemon is `zonekeeper serve` run by one test.
type testDaemon struct {
	t      *testing.T
	dir    string // working directory; the data directory is dir/data
	sock   string
	dns    string // DNS listen address
	dead   string // 127.0.0.1:PORT where nothing listens
	args   []string
	client *client.Client

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	out  syncBuffer
}

// freePort returns a port free for UDP and TCP on 127.0.0.1.
func freePort(t testing.TB) int {
	t.Helper()
	for range 50 {
		u, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		u.Close()
		if err != nil {
			continue
		}
		l.Close()
		return port
	}
	t.Fatal("no port free for UDP and TCP on 127.0.0.1")
	return 0
}

// startDaemon runs the daemon over an empty zones directory. The data
// directory is given relative to the working directory, so that the
// paths in its events are the same in every run.
func startDaemon(t *testing.T) *testDaemon {
	t.Helper()
	bin := zonekeeperBinary(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "data", "zones"), 0o755); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "empty.conf")
	if err := os.WriteFile(conf, []byte("# the test passes flags\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := &testDaemon{
		t:    t,
		dir:  dir,
		sock: filepath.Join(dir, "data", "control.sock"),
		dns:  net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t))),
		dead: net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t))),
	}
	_, deadPort, _ := net.SplitHostPort(d.dead)
	d.args = []string{bin, "serve", "--config", conf, "--data", "data", "--listen", d.dns, "--ns-port", deadPort}
	d.client = client.New(d.sock)
	d.start()
	t.Cleanup(func() {
		d.stop()
		if t.Failed() {
			t.Logf("daemon output:\n%s", d.out.String())
		}
	})
	return d
}

// start runs the daemon and waits for its control socket.
func (d *testDaemon) start() {
	d.t.Helper()
	d.mu.Lock()
	cmd := exec.Command(d.args[0], d.args[1:]...)
	cmd.Dir = d.dir
	cmd.Stdout, cmd.Stderr = &d.out, &d.out
	cmd.SysProcAttr = groupAttr()
	if err := cmd.Start(); err != nil {
		d.mu.Unlock()
		d.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	d.cmd, d.done = cmd, done
	d.mu.Unlock()
	d.eventually("the control socket answers", func() bool {
		select {
		case <-done:
			d.t.Fatalf("the daemon exited:\n%s", d.out.String())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := d.client.Status(ctx)
		return err == nil
	})
}

// stop stops the daemon: SIGTERM, then SIGKILL to its group.
func (d *testDaemon) stop() {
	d.mu.Lock()
	cmd, done := d.cmd, d.done
	d.cmd = nil
	d.mu.Unlock()
	if cmd == nil {
		return
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// eventually polls cond until it holds, failing after testTimeout.
func (d *testDaemon) eventually(what string, cond func() bool) {
	d.t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			d.t.Fatalf("%s: not within %v", what, testTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (d *testDaemon) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	d.t.Cleanup(cancel)
	return ctx
}

// addZone writes a zonefile and waits until the daemon serves it, so
// that zones added one after another load, and log, in that order.
func (d *testDaemon) addZone(name, text string) {
	d.t.Helper()
	path := filepath.Join(d.dir, "data", "zones", strings.TrimSuffix(name, ".")+".zone")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		d.t.Fatal(err)
	}
	d.eventually("zone "+name+" is served", func() bool {
		z, err := d.client.Zone(d.ctx(), name)
		return err == nil && z.State == api.StateServing
	})
}

// zone returns a zone as the daemon shows it.
func (d *testDaemon) zone(name string) *api.ZoneDetail {
	d.t.Helper()
	z, err := d.client.Zone(d.ctx(), name)
	if err != nil {
		d.t.Fatal(err)
	}
	return z
}

// events returns the last events of the log.
func (d *testDaemon) events(limit int) []api.Event {
	d.t.Helper()
	var evs []api.Event
	err := d.client.Events(d.ctx(), client.EventQuery{Limit: limit}, func(ev api.Event) error {
		evs = append(evs, ev)
		return nil
	})
	if err != nil {
		d.t.Fatal(err)
	}
	return evs
}

// lastEventID is the id of the newest event.
func (d *testDaemon) lastEventID() int64 {
	evs := d.events(1)
	if len(evs) == 0 {
		return 0
	}
	return evs[len(evs)-1].ID
}

// Zones of the tests. Their one name server is the SOA MNAME, which is
// never notified, so the daemon has no NOTIFY target for them: nothing
// leaves the machine and no NOTIFY attempts show up in the activity log.
const exampleOrg = `$TTL 3600
@         IN SOA  ns1.zonekeeper.invalid. hostmaster 2026112101 3600 900 1209600 300
          IN NS   ns1.zonekeeper.invalid.
          IN MX   10 mail
          IN TXT  "v=spf1 mx -all"
mail      IN A    127.0.0.25
www       IN A    127.0.0.80
          IN AAAA ::1
_sip._udp IN SRV  10 5 5060 sip
sip       IN A    127.0.0.50
`

const exampleNet = `$TTL 600
@   IN SOA ns1.zonekeeper.invalid. hostmaster.example.net. 2026112100 3600 900 1209600 300
    IN NS  ns1.zonekeeper.invalid.
www IN A   127.0.0.90
`

const labTest = `$TTL 300
@    IN SOA ns1.zonekeeper.invalid. hostmaster.lab.test. 7 3600 900 1209600 300
     IN NS  ns1.zonekeeper.invalid.
node IN A   127.0.0.70
`
