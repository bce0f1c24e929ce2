package tui

import (
	"context"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"zonekeeper/tui/common"
	"zonekeeper/tui/components/table"
	"zonekeeper/tui/pages/activity"
	"zonekeeper/tui/pages/cluster"
	"zonekeeper/tui/pages/keys"
	"zonekeeper/tui/pages/zone"
	"zonekeeper/tui/pages/zones"
)

// The views, in tab order.
const (
	viewZones = iota
	viewZone
	viewActivity
	viewKeys
	viewCluster
)

// MinWidth and MinHeight are the smallest terminal the layout is made
// for; smaller ones get a best effort.
const (
	MinWidth  = 80
	MinHeight = 24
)

// App is the root model: the tab bar, the active view, the status line,
// the help screen and the connection to the daemon.
type App struct {
	c      common.Common
	ctx    context.Context
	cancel context.CancelFunc

	pages  []common.Page
	active int
	prev   int // the view esc returns to from the zone view

	width, height int
	help          bool

	conn conn
	feed feed

	message string // the status line's message; cleared by the next key
	failed  bool   // message is an error
}

// Init starts connecting.
func (a *App) Init() tea.Cmd {
	return a.check()
}

// broadcast hands msg to every view.
func (a *App) broadcast(msg tea.Msg) tea.Cmd {
	cmds := make([]tea.Cmd, 0, len(a.pages))
	for _, p := range a.pages {
		cmds = append(cmds, p.Update(msg))
	}
	return tea.Batch(cmds...)
}

// Update handles a message.
func (a *App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		a.resize(msg.Width, msg.Height)
		return a, nil
	case tea.KeyMsg:
		if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 {
			return a, a.runes(msg)
		}
		return a, a.key(msg)
	case statusResultMsg:
		return a, a.statusResult(msg)
	case checkMsg:
		if msg.gen != a.conn.gen {
			return a, nil
		}
		return a, a.check()
	case batchMsg:
		return a, a.batch(msg)
	case streamEndedMsg:
		return a, a.streamEnded(msg)
	case restartFeedMsg:
		return a, a.restartFeed(msg)
	case common.StatusMsg:
		a.message, a.failed = msg.Text, msg.Err != nil
		if msg.Err != nil {
			a.message = strings.TrimSpace(msg.Text + ": " + msg.Err.Error())
			if common.IsConnError(msg.Err) && a.conn.state == connected {
				return a, a.check()
			}
		}
		return a, nil
	case common.OpenZoneMsg:
		if a.active != viewZone {
			a.prev = a.active
		}
		return a, tea.Batch(a.broadcast(msg), a.activate(viewZone))
	case common.BackMsg:
		back := a.prev
		if back == viewZone {
			back = viewZones
		}
		return a, a.activate(back)
	}
	return a, a.broadcast(msg)
}

func (a *App) resize(w, h int) {
	a.width, a.height = w, h
	for _, p := range a.pages {
		p.SetSize(w, max(1, h-2))
	}
}

// key handles a key: the root's own keys, unless a view's form, dialog
// or filter line has the keyboard.
func (a *App) key(msg tea.KeyMsg) tea.Cmd {
	k := a.c.KeyMap
	a.message, a.failed = "", false
	if key.Matches(msg, k.ForceQuit) {
		return a.quit()
	}
	if a.help {
		if key.Matches(msg, k.Help, k.Back, k.Quit) {
			a.help = false
		}
		return nil
	}
	page := a.pages[a.active]
	if page.Modal() {
		return a.navigate(page.Update(msg))
	}
	switch {
	case key.Matches(msg, k.Quit):
		return a.quit()
	case key.Matches(msg, k.Help):
		a.help = true
		return nil
	case key.Matches(msg, k.NextView):
		return a.switchTo((a.active + 1) % len(a.pages))
	case key.Matches(msg, k.PrevView):
		return a.switchTo((a.active + len(a.pages) - 1) % len(a.pages))
	}
	for i, b := range k.Views {
		if key.Matches(msg, b) {
			return a.switchTo(i)
		}
	}
	return a.navigate(page.Update(msg))
}

// navigate carries out the view changes a view asked for while it
// handled a key, before the next key is read.
func (a *App) navigate(cmd tea.Cmd) tea.Cmd {
	cmds := []tea.Cmd{cmd}
	for _, msg := range a.c.Nav.Take() {
		_, c := a.Update(msg)
		cmds = append(cmds, c)
	}
	return tea.Batch(cmds...)
}

// runes handles several runes read at once. Typed fast (or sent by
// tmux), they are keys, one after the other: "/example" opens the filter
// and types into it. Pasted, they go whole to a text field, and nowhere
// else: pasted text must not run commands.
func (a *App) runes(msg tea.KeyMsg) tea.Cmd {
	if msg.Paste {
		if a.help || !a.pages[a.active].Modal() {
			return nil
		}
		return a.key(msg)
	}
	var cmds []tea.Cmd
	for _, r := range msg.Runes {
		cmds = append(cmds, a.key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt}))
	}
	return tea.Batch(cmds...)
}

func (a *App) switchTo(i int) tea.Cmd {
	if i == viewZone && a.active != viewZone {
		a.prev = a.active
	}
	return a.activate(i)
}

// activate makes view i the active one and tells the views that care
// (common.Activator) that they were left or entered.
func (a *App) activate(i int) tea.Cmd {
	if i == a.active {
		return nil
	}
	var cmds []tea.Cmd
	if p, ok := a.pages[a.active].(common.Activator); ok {
		cmds = append(cmds, p.SetActive(false))
	}
	a.active = i
	if p, ok := a.pages[i].(common.Activator); ok {
		cmds = append(cmds, p.SetActive(true))
	}
	return tea.Batch(cmds...)
}

func (a *App) quit() tea.Cmd {
	a.feed.stop()
	a.cancel()
	return tea.Quit
}

// View renders the whole screen, exactly width × height.
func (a *App) View() string {
	w, h := a.width, a.height
	if w <= 0 || h <= 0 {
		return ""
	}
	if w < 40 || h < 8 {
		return fmt.Sprintf("terminal %dx%d: zonekeeper needs %dx%d; q quits", w, h, MinWidth, MinHeight)
	}
	body := ""
	if a.help {
		body = a.helpView()
	} else {
		body = a.pages[a.active].View()
	}
	lines := make([]string, 0, h)
	lines = append(lines, a.tabs())
	bl := strings.Split(body, "\n")
	for i := 0; i < h-2; i++ {
		l := ""
		if i < len(bl) {
			l = bl[i]
		}
		lines = append(lines, l)
	}
	lines = append(lines, a.statusLine())
	for i, l := range lines {
		if ansi.StringWidth(l) > w {
			lines[i] = ansi.Truncate(l, w, "")
		}
	}
	return strings.Join(lines, "\n")
}

// tabs renders the tab bar: the views and the connection state.
func (a *App) tabs() string {
	st := a.c.Styles
	var b strings.Builder
	b.WriteString(st.App.Render(" zonekeeper "))
	plain := " zonekeeper "
	for i, p := range a.pages {
		label := fmt.Sprintf("%d %s", i+1, p.Title())
		if i == a.active {
			label = "[" + label + "]"
			b.WriteString(" " + st.ActiveTab.Render(label))
		} else {
			label = " " + label + " "
			b.WriteString(" " + st.Tab.Render(label))
		}
		plain += " " + label
	}
	right, style := a.connLabel()
	gap := a.width - ansi.StringWidth(plain) - ansi.StringWidth(right) - 1
	if gap < 1 {
		gap = 1
	}
	return b.String() + strings.Repeat(" ", gap) + style.Render(right)
}

// connLabel says how the daemon is reached.
func (a *App) connLabel() (string, lipgloss.Style) {
	st := a.c.Styles
	switch a.conn.state {
	case connected:
		return "● connected", st.Connected
	case reconnecting:
		return fmt.Sprintf("○ reconnecting (%d)", a.conn.attempts), st.Offline
	}
	if a.conn.attempts > 0 {
		return fmt.Sprintf("○ connecting (%d)", a.conn.attempts), st.Offline
	}
	return "○ connecting…", st.Dim
}

// statusLine is the last line: the last outcome or error, else why the
// daemon is not reached, else the keys everyone needs.
func (a *App) statusLine() string {
	st := a.c.Styles
	w := a.width
	switch {
	case a.message != "" && a.failed:
		return st.StatusError.Render(table.Fit("✗ "+oneLine(a.message), w, table.Left))
	case a.message != "":
		return st.StatusInfo.Render(table.Fit("✓ "+oneLine(a.message), w, table.Left))
	case a.conn.state != connected && a.conn.err != nil:
		return st.StatusError.Render(table.Fit("✗ "+oneLine(a.conn.err.Error())+" · retrying", w, table.Left))
	case a.pages[a.active].Modal():
		return st.Dim.Render(table.Fit("esc closes · ctrl+c quits", w, table.Left))
	}
	return st.Dim.Render(table.Fit("? help · q quit · tab/1-5 views · ↑↓ move · enter open · esc back · / filter", w, table.Left))
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// helpView lists every key of the active view, then the global keys.
func (a *App) helpView() string {
	st := a.c.Styles
	k := a.c.KeyMap
	page := a.pages[a.active]
	w := a.width
	var lines []string
	lines = append(lines, st.Header.Render(table.Fit("Keys of the "+page.Title()+" view", w, table.Left)))
	move := map[string]bool{}
	for _, b := range []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom} {
		move[b.Help().Key] = true
	}
	var moves []string
	entry := func(keys, desc string) string {
		return "  " + st.HelpKey.Render(table.Fit(keys, 14, table.Left)) + " " + st.HelpDesc.Render(table.Fit(desc, max(10, w-18), table.Left))
	}
	for _, b := range page.Keys() {
		h := b.Help()
		if move[h.Key] {
			moves = append(moves, h.Key)
			continue
		}
		lines = append(lines, entry(h.Key, h.Desc))
	}
	if len(moves) > 0 {
		lines = append(lines[:1], append([]string{entry("move", strings.Join(moves, "  "))}, lines[1:]...)...)
	}
	lines = append(lines, "", st.Header.Render("Everywhere"))
	views := make([]string, len(a.pages))
	for i, p := range a.pages {
		views[i] = fmt.Sprintf("%d %s", i+1, strings.ToLower(p.Title()))
	}
	lines = append(lines,
		entry("tab/shift+tab", "next / previous view"),
		entry("1-5", strings.Join(views, " · ")),
		entry("?", "this help; ? or esc closes it"),
		entry("q", "quit; in a dialog, q closes the dialog"),
		entry("ctrl+c", "quit now, even from a form"),
	)
	return strings.Join(lines, "\n")
}

var (
	_ common.Page = (*zones.Model)(nil)
	_ common.Page = (*zone.Model)(nil)
	_ common.Page = (*activity.Model)(nil)
	_ common.Page = (*keys.Model)(nil)
	_ common.Page = (*cluster.Model)(nil)
)
