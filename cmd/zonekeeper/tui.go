package main

// The tui verb: the interactive terminal UI over the control socket.
// Plain `zonekeeper` with no command opens it too when stdin and stdout
// are a terminal.

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/mattn/go-isatty"

	"zonekeeper/daemon/client"
	"zonekeeper/tui"
)

func runTUI(args []string, stdout, stderr io.Writer) error {
	v := newVerb("tui", "tui [--control SOCK | --data DIR | --config FILE]",
		"Open the terminal UI: zones, records, activity, TSIG keys and the cluster,\nover the daemon's control socket. It reconnects by itself when the daemon\nrestarts. Press ? in any view for its keys.", stdout)
	if err := v.parse(args); err != nil {
		return err
	}
	if err := v.args(0, 0, ""); err != nil {
		return err
	}
	if v.cf.json {
		return v.usageErr("--json does not apply to the terminal UI")
	}
	sock, err := defaultLocator.socket(&v.cf)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	out := stdout
	if f, ok := stdout.(*os.File); !ok || !isatty.IsTerminal(f.Fd()) {
		return v.usageErr("the terminal UI needs a terminal on stdout; use the other verbs (`zonekeeper help`) in scripts")
	}
	return tui.Run(ctx, tui.Options{Client: client.New(sock), Input: os.Stdin, Output: out})
}

// terminal reports whether stdin and stdout are a terminal: then plain
// `zonekeeper` opens the terminal UI instead of printing the usage.
func terminal(stdout io.Writer) bool {
	f, ok := stdout.(*os.File)
	return ok && isatty.IsTerminal(f.Fd()) && isatty.IsTerminal(os.Stdin.Fd())
}
