package tui

// A harness that runs the TUI as a real Bubble Tea program against a
// test daemon, sends it keys, and reads what it shows.

import (
	"context"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// snapshotMsg asks the running program for its screen.
type snapshotMsg struct{ ch chan string }

// probe wraps the root model: it answers snapshotMsg from the program's
// own goroutine, so that the test never reads the model concurrently.
type probe struct{ app *App }

func (p probe) Init() tea.Cmd { return p.app.Init() }

func (p probe) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if s, ok := msg.(snapshotMsg); ok {
		s.ch <- p.app.View()
		return p, nil
	}
	_, cmd := p.app.Update(msg)
	return p, cmd
}

func (p probe) View() string { return p.app.View() }

// tuiRun is one TUI program under test.
type tuiRun struct {
	t    *testing.T
	d    *testDaemon
	p    *tea.Program
	done chan struct{}
}

// fixedClock is the clock of the TUI under test: three days after the
// daemon started, so that uptimes and ages read the same in every run
// ("3d", "2d23h ago") however long the test took to get there.
func fixedClock(t *testing.T, d *testDaemon) func() time.Time {
	st, err := d.client.Status(d.ctx())
	if err != nil {
		t.Fatal(err)
	}
	now := st.Started.Add(72 * time.Hour)
	return func() time.Time { return now }
}

// runTUI starts the TUI against d at width × height, without colour.
func runTUI(t *testing.T, d *testDaemon, width, height int) *tuiRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	app := New(ctx, Options{
		Client:   d.client,
		Output:   io.Discard,
		Now:      fixedClock(t, d),
		Location: time.UTC,
		NoColor:  true,
		Renderer: lipgloss.NewRenderer(io.Discard),
	})
	p := tea.NewProgram(probe{app}, tea.WithInput(nil), tea.WithOutput(io.Discard),
		tea.WithoutRenderer(), tea.WithoutSignalHandler(), tea.WithContext(ctx))
	r := &tuiRun{t: t, d: d, p: p, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		p.Run()
	}()
	t.Cleanup(func() {
		app.Close()
		cancel()
		p.Quit()
		select {
		case <-r.done:
		case <-time.After(testTimeout):
			t.Error("the TUI program did not end")
		}
	})
	p.Send(tea.WindowSizeMsg{Width: width, Height: height})
	return r
}

// screen returns what the TUI shows now, without escape codes.
func (r *tuiRun) screen() string {
	r.t.Helper()
	ch := make(chan string, 1)
	go r.p.Send(snapshotMsg{ch})
	select {
	case s := <-ch:
		return ansi.Strip(s)
	case <-r.done:
		r.t.Fatal("the TUI program ended")
	case <-time.After(testTimeout):
		r.t.Fatal("the TUI did not render within the deadline")
	}
	return ""
}

// waitFor waits until the screen contains every one of want, and
// returns it.
func (r *tuiRun) waitFor(want ...string) string {
	r.t.Helper()
	deadline := time.Now().Add(testTimeout)
	for {
		s := r.screen()
		missing := ""
		for _, w := range want {
			if !strings.Contains(s, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return s
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("the screen does not show %q within %v:\n%s", missing, testTimeout, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// keys sends keys: each string is one key by its tea name ("enter",
// "esc", "tab", "ctrl+r", "up"), or else runes typed one by one; "wait:X"
// waits until the screen shows X.
func (r *tuiRun) keys(keys ...string) {
	r.t.Helper()
	for _, k := range keys {
		if w, ok := strings.CutPrefix(k, "wait:"); ok {
			r.waitFor(w)
			continue
		}
		if msg, ok := namedKeys[k]; ok {
			r.p.Send(msg)
			continue
		}
		for _, c := range k {
			r.p.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{c}})
		}
	}
}

var namedKeys = map[string]tea.KeyMsg{
	"enter":     {Type: tea.KeyEnter},
	"esc":       {Type: tea.KeyEsc},
	"tab":       {Type: tea.KeyTab},
	"shift+tab": {Type: tea.KeyShiftTab},
	"up":        {Type: tea.KeyUp},
	"down":      {Type: tea.KeyDown},
	"left":      {Type: tea.KeyLeft},
	"right":     {Type: tea.KeyRight},
	"ctrl+r":    {Type: tea.KeyCtrlR},
	"ctrl+c":    {Type: tea.KeyCtrlC},
	"ctrl+u":    {Type: tea.KeyCtrlU},
	"home":      {Type: tea.KeyHome},
	"space":     {Type: tea.KeySpace, Runes: []rune{' '}},
}

// masks make a screen the same in every run: the times of day the
// daemon stamped its events with, and the ports the test picked. Each
// replacement keeps the width, so the columns stay where they are.
var masks = []*regexp.Regexp{
	regexp.MustCompile(`\b\d{2}:\d{2}:\d{2}\b`),
	regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}\b`),
	regexp.MustCompile(`127\.0\.0\.1:\d+`),
}

// counts masks numbers that grow with time: the activity log gets the
// secondary's refresh attempts. What follows them on their line is
// fixed text, so the width need not be kept.
var counts = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`\d+ events held`), "N events held"},
	{regexp.MustCompile(`of \d+ · esc shows all`), "of N · esc shows all"},
	// When the daemon last saw a server in sync, against the fixed
	// clock three days after it started: a second either way of the
	// start reads "3d" or "2d23h". Nine cells either way, as the
	// column is wide.
	{regexp.MustCompile(`(3d ago   |2d23h ago)`), "~3d ago  "},
}

// normalize masks a screen and trims the ends of its lines.
func normalize(s string) string {
	for _, c := range counts {
		s = c.re.ReplaceAllString(s, c.repl)
	}
	for _, re := range masks {
		s = re.ReplaceAllStringFunc(s, func(m string) string {
			if strings.HasPrefix(m, "127.") {
				return "127.0.0.1:" + strings.Repeat("#", len(m)-len("127.0.0.1:"))
			}
			return regexp.MustCompile(`\d`).ReplaceAllString(m, "#")
		})
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n") + "\n"
}
