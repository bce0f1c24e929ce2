package tui

import (
	"context"
	"errors"
	"io"
	"os"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"zonekeeper/daemon/client"
	"zonekeeper/tui/common"
	"zonekeeper/tui/keymap"
	"zonekeeper/tui/pages/activity"
	"zonekeeper/tui/pages/cluster"
	"zonekeeper/tui/pages/keys"
	"zonekeeper/tui/pages/zone"
	"zonekeeper/tui/pages/zones"
	"zonekeeper/tui/styles"
)

// Options configure the TUI. Only Client is required.
type Options struct {
	Client *client.Client // the daemon's control API

	Input  io.Reader // default os.Stdin
	Output io.Writer // default os.Stdout

	// Now is the clock that relative times ("3m ago", uptimes) are
	// measured with; default time.Now. Tests fix it.
	Now func() time.Time
	// Location is where event times are shown; default time.Local.
	Location *time.Location
	// NoColor renders no colour and no text attributes; default: when
	// $NO_COLOR is set (https://no-color.org).
	NoColor bool
	// Renderer renders the styles; default one for Output.
	Renderer *lipgloss.Renderer
}

// New returns the root model for the daemon o.Client talks to. ctx ends
// its requests and event stream; so does quitting.
func New(ctx context.Context, o Options) *App {
	if o.Output == nil {
		o.Output = os.Stdout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if os.Getenv("NO_COLOR") != "" {
		o.NoColor = true
	}
	if o.Renderer == nil {
		o.Renderer = lipgloss.NewRenderer(o.Output)
	}
	ctx, cancel := context.WithCancel(ctx)
	c := common.Common{
		Ctx:    ctx,
		Daemon: o.Client,
		Styles: styles.New(o.Renderer, o.NoColor),
		KeyMap: keymap.Default(),
		Now:    o.Now,
		Loc:    o.Location,
		Nav:    &common.Nav{},
	}
	a := &App{c: c, ctx: ctx, cancel: cancel}
	a.pages = []common.Page{
		viewZones:    zones.New(c),
		viewZone:     zone.New(c),
		viewActivity: activity.New(c),
		viewKeys:     keys.New(c),
		viewCluster:  cluster.New(c),
	}
	a.resize(MinWidth, MinHeight)
	return a
}

// Close ends the model's requests and event stream.
func (a *App) Close() { a.cancel() }

// Run runs the TUI full screen until the operator quits or ctx ends.
func Run(ctx context.Context, o Options) error {
	if o.Input == nil {
		o.Input = os.Stdin
	}
	if o.Output == nil {
		o.Output = os.Stdout
	}
	app := New(ctx, o)
	defer app.Close()
	p := tea.NewProgram(app, tea.WithAltScreen(), tea.WithContext(ctx),
		tea.WithInput(o.Input), tea.WithOutput(o.Output))
	_, err := p.Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil
	}
	return err
}
