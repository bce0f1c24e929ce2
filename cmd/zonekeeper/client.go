package main

// What every control-client verb shares: the flags that find the daemon
// (--control, --data, --config) and choose the output (--json), the order
// in which the daemon's socket is looked for, verb groups (`zone list`),
// and how errors end the command.
//
// Exit status of a client verb: 0 done (and --help); 1 the daemon refused
// the operation or could not be reached; 2 the command line is wrong
// (unknown verb or flag, missing or malformed argument), in which case
// nothing was sent.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"zonekeeper/daemon"
	"zonekeeper/daemon/client"
)

// controlEnv names the environment variable that points the client at a
// control socket, after --control and before --data.
const controlEnv = "ZONEKEEPER_CONTROL"

// packagedSocket is where the packaged daemon listens (the packaged
// config's `control`); the client uses it when it exists and nothing
// more specific was given.
const packagedSocket = "/run/zonekeeper/control.sock"

// requestTimeout bounds one request to the daemon (not an event stream):
// generous, since an edit validates and rewrites a whole zone.
const requestTimeout = 2 * time.Minute

// clientFlags are the flags every client verb accepts, before or after
// the verb.
type clientFlags struct {
	json    bool   // print one JSON document (events: one per line)
	control string // the control socket
	data    string // the daemon's data directory: DATA/control.sock
	config  string // a config file whose control or data key is used
}

func (c *clientFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&c.json, "json", false, "print JSON (the control API's types) instead of text")
	fs.StringVar(&c.control, "control", "", "the daemon's control socket (default, first found: $"+controlEnv+", DATA/control.sock of --data or the config file, "+packagedSocket+", ./zonekeeper-data/control.sock)")
	fs.StringVar(&c.data, "data", "", "the daemon's data directory; its control.sock is used")
	fs.StringVar(&c.config, "config", "", "config file whose control (or data) key locates the daemon (default "+daemon.DefaultConfigFile+" when it exists)")
}

// clientGlobals lists the client flags, each with whether it takes a
// value; run and the verb groups accept them before the verb.
var clientGlobals = map[string]bool{"json": false, "control": true, "data": true, "config": true}

// leadingGlobals splits the client flags at the front of args from the
// verb and what follows it, so that `zonekeeper --json zone list` reaches
// `zone list` as `zone list --json` would.
func leadingGlobals(args []string) (globals, rest []string) {
	for len(args) > 0 {
		a := args[0]
		name, ok := strings.CutPrefix(a, "--")
		if !ok {
			name, ok = strings.CutPrefix(a, "-")
		}
		if !ok || name == "" {
			break
		}
		name, _, hasValue := strings.Cut(name, "=")
		takesValue, known := clientGlobals[name]
		if !known {
			break
		}
		n := 1
		if takesValue && !hasValue && len(args) > 1 {
			n = 2
		}
		globals = append(globals, args[:n]...)
		args = args[n:]
	}
	return globals, args
}

// locator finds the daemon's control socket in the order of
// docs/architecture.md ("Control socket lookup").
type locator struct {
	getenv     func(string) string
	configFile string // read when it exists and no --config is given
	runSocket  string // used when it exists
}

// defaultLocator looks at the real environment and the packaged paths.
var defaultLocator = locator{getenv: os.Getenv, configFile: daemon.DefaultConfigFile, runSocket: packagedSocket}

// socket returns the control socket to use: --control, $ZONEKEEPER_CONTROL,
// --data DIR, the config file's control (or data) key, the packaged
// socket when it exists, then the built-in data directory's.
func (l locator) socket(cf *clientFlags) (string, error) {
	if cf.control != "" {
		return cf.control, nil
	}
	if s := l.getenv(controlEnv); s != "" {
		return s, nil
	}
	if cf.data != "" {
		return filepath.Join(cf.data, "control.sock"), nil
	}
	path := cf.config
	if path == "" {
		if _, err := os.Stat(l.configFile); err == nil {
			path = l.configFile
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("config %s: %w; give --control SOCK to skip it", l.configFile, err)
		}
	}
	if path != "" {
		// Only control and data matter here; a zero Config tells which
		// of them the file sets.
		var c daemon.Config
		if err := c.ReadConfigFile(path); err != nil {
			return "", fmt.Errorf("%w; fix the file or give --control SOCK", err)
		}
		if c.Control != "" || c.Data != "" {
			return c.ControlPath(), nil
		}
	}
	if _, err := os.Stat(l.runSocket); err == nil {
		return l.runSocket, nil
	}
	def := daemon.DefaultConfig()
	return def.ControlPath(), nil
}

// verbLine is the parsed command line of one client verb.
type verbLine struct {
	name  string // "zone list", for messages
	flags *flag.FlagSet
	cf    clientFlags
	pos   []string // positional arguments
}

// newVerb returns the flag set of a client verb with the client flags on
// it. synopsis follows "usage: zonekeeper"; about says what the verb does.
func newVerb(name, synopsis, about string, stdout io.Writer) *verbLine {
	v := &verbLine{name: name}
	v.flags = newFlagSet(name, synopsis+"\n\n"+about, stdout)
	v.cf.register(v.flags)
	return v
}

// parse parses args. --help prints the verb's usage on stdout and returns
// flag.ErrHelp (exit 0); a bad flag is a one-line usage error.
func (v *verbLine) parse(args []string) error {
	usage := v.flags.Usage
	v.flags.Usage = func() {}
	v.flags.SetOutput(io.Discard)
	pos, err := parseInterspersed(v.flags, args)
	if errors.Is(err, flag.ErrHelp) {
		usage()
		return flag.ErrHelp
	}
	if err != nil {
		return v.usageErr("%v", err)
	}
	v.pos = pos
	return nil
}

// args checks the number of positional arguments; names lists them for
// the message, e.g. "ZONE NAME TYPE".
func (v *verbLine) args(min, max int, names string) error {
	switch n := len(v.pos); {
	case n < min:
		return v.usageErr("missing arguments: want %s", names)
	case max >= 0 && n > max:
		return v.usageErr("unexpected argument %q: want %s", v.pos[max], names)
	}
	return nil
}

// usageErr is a usage error of this verb (exit 2), with the hint to read
// its help.
// zoneArg parses the command line of a verb whose one argument is a zone
// NAME and returns the name, fully qualified.
func (v *verbLine) zoneArg(args []string) (string, error) {
	if err := v.parse(args); err != nil {
		return "", err
	}
	if err := v.args(1, 1, "NAME"); err != nil {
		return "", err
	}
	name, err := nameArg("zone", v.pos[0])
	if err != nil {
		return "", v.usageErr("%v", err)
	}
	return name, nil
}

func (v *verbLine) usageErr(format string, args ...any) error {
	return fmt.Errorf("%s: %s; see `zonekeeper %s --help`", v.name, fmt.Sprintf(format, args...), v.name)
}

// client returns a client for the daemon that the flags point at.
func (v *verbLine) client() (*client.Client, error) {
	sock, err := defaultLocator.socket(&v.cf)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", v.name, err)
	}
	return client.New(sock), nil
}

// call runs one request against the daemon, bounded by requestTimeout and
// cancelled by SIGINT or SIGTERM, and reports a failure through failed.
func (v *verbLine) call(stderr io.Writer, fn func(context.Context, *client.Client) error) error {
	c, err := v.client()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	if err := fn(ctx, c); err != nil {
		return failed(stderr, c, err)
	}
	return nil
}

// failed prints why the daemon refused or could not be reached, as one
// line, and returns exit status 1.
func failed(stderr io.Writer, c *client.Client, err error) error {
	msg := err.Error()
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		msg = fmt.Sprintf("the daemon at %s did not answer within %v; see its log", c.Socket(), requestTimeout)
	case errors.Is(err, context.Canceled):
		msg = "interrupted; the daemon may still complete the request"
	case errors.Is(err, client.ErrNotRunning):
		msg = fmt.Sprintf("no zonekeeper daemon at %s: is it running? Start it with `zonekeeper serve`, or point at it with --control SOCK or --data DIR", c.Socket())
	}
	fmt.Fprintln(stderr, "zonekeeper: "+oneLine(msg))
	return exitError{1}
}

// oneLine folds a message onto one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// group is a command whose first argument is a verb: `zone list`.
type group struct {
	name  string
	verbs []verb
}

// verb is one verb of a group.
type verb struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

// run dispatches args to the group's verb, keeping client flags given
// before the verb.
func (g group) run(args []string, stdout, stderr io.Writer) error {
	globals, rest := leadingGlobals(args)
	if len(rest) == 0 {
		return fmt.Errorf("%s: give a verb (%s); see `zonekeeper %s --help`", g.name, g.names(), g.name)
	}
	switch rest[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintf(stdout, "usage: zonekeeper %s VERB [ARGS] [--json] [--control SOCK | --data DIR | --config FILE]\n\nverbs:\n", g.name)
		for _, v := range g.verbs {
			fmt.Fprintf(stdout, "  %-14s %s\n", v.name, v.summary)
		}
		fmt.Fprintf(stdout, "\nrun `zonekeeper %s VERB --help` for a verb's arguments and flags\n", g.name)
		return nil
	}
	for _, v := range g.verbs {
		if v.name == rest[0] {
			return v.run(append(globals, rest[1:]...), stdout, stderr)
		}
	}
	return fmt.Errorf("%s: unknown verb %q (want %s); see `zonekeeper %s --help`", g.name, rest[0], g.names(), g.name)
}

func (g group) names() string {
	names := make([]string, len(g.verbs))
	for i, v := range g.verbs {
		names[i] = v.name
	}
	return strings.Join(names, ", ")
}
