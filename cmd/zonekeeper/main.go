// Command zonekeeper is the one zonekeeper binary: the authoritative DNS
// daemon (serve), the offline zonefile checker (check), the control
// client verbs (status, events, zone, record, key, meta, autoprimary,
// peer) and the terminal UI (tui). main only parses the command line and
// wires packages together.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// command is one subcommand of the binary.
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

// version is set at build time from git describe (see the Makefile).
var version = "dev"

var commands = []command{
	{"serve", "run the authoritative DNS server", runServe},
	{"check", "validate a zonefile offline", runCheck},
	{"status", "show the running daemon at a glance", runStatus},
	{"events", "show the activity log; --follow tails it", runEvents},
	{"zone", "list, show, add, change and remove zones", zoneCommand.run},
	{"record", "add, replace and delete records of a primary zone", recordCommand.run},
	{"key", "add, list and remove TSIG keys", keyCommand.run},
	{"meta", "set per-zone metadata", metaCommand.run},
	{"autoprimary", "add, list and remove autoprimaries", autoprimaryCommand.run},
	{"peer", "add, list and remove peers (cluster nodes and secondaries)", peerCommand.run},
	{"export", "print a BIND, Knot or NSD configuration fragment for these zones", runExport},
	{"tui", "the interactive terminal UI (also plain `zonekeeper` on a terminal)", runTUI},
	{"version", "print the version", func(_ []string, stdout, _ io.Writer) error {
		fmt.Fprintln(stdout, "zonekeeper", version)
		return nil
	}},
}

// exitError carries a specific exit status; its message, when any, has
// already been printed.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	var ee exitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		os.Exit(ee.code)
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	default:
		fmt.Fprintln(os.Stderr, "zonekeeper: "+err.Error())
		os.Exit(2)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	// Client flags may come before the command: they are handed to it.
	globals, args := leadingGlobals(args)
	if len(args) == 0 && terminal(stdout) {
		return runTUI(globals, stdout, stderr)
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return nil
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(append(globals, args[1:]...), stdout, stderr)
		}
	}
	return fmt.Errorf("unknown command %q; run `zonekeeper help` for the list", args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: zonekeeper COMMAND [ARGS]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "run `zonekeeper COMMAND --help` for a command's flags")
	fmt.Fprintln(w, "client commands take --json, --control SOCK, --data DIR and --config FILE, before or after the command")
}

// parseInterspersed parses flags that may come before, between or after
// positional arguments, and returns the positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// listFlag is a repeatable flag whose values may also be comma-separated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// newFlagSet returns a flag set that reports errors instead of exiting
// and prints its usage to stderr.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: zonekeeper %s\n\nflags:\n", synopsis)
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		sort.Strings(names)
		for _, n := range names {
			f := fs.Lookup(n)
			fmt.Fprintf(stderr, "  --%-18s %s", n, f.Usage)
			if f.DefValue != "" && f.DefValue != "false" {
				fmt.Fprintf(stderr, " (default %s)", f.DefValue)
			}
			fmt.Fprintln(stderr)
		}
	}
	return fs
}
