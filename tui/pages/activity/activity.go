// Package activity is the activity view: the daemon's live event stream
// (NOTIFY, transfers, reloads, edits, …) coloured by outcome, filterable
// by zone and kind, pausable, and scrollable back through the history the
// daemon keeps.
package activity

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"zonekeeper/daemon/api"
	"zonekeeper/daemon/client"
	"zonekeeper/tui/common"
	"zonekeeper/tui/components/filter"
	"zonekeeper/tui/components/table"
	"zonekeeper/tui/keymap"
	"zonekeeper/tui/styles"
)

// MaxEvents bounds the events held in memory; older ones fall off.
const MaxEvents = 5000

// olderPage is how many events one "load older" asks for.
const olderPage = 500

// Columns, in order.
const (
	colTime = iota
	colOutcome
	colZone
	colKind
	colSerial
	colPeer
	colDetail
)

// olderMsg carries events older than the oldest held.
type olderMsg struct {
	events []api.Event
	err    error
}

// Model is the activity view.
type Model struct {
	common.Common
	table  *table.Model
	filter *filter.Model
	keys   keys

	events  []api.Event // oldest first; parallel to rows; those from base on are held
	rows    []table.Row
	base    int // events before base fell off: they wait for the next compaction
	paused  bool
	pending []api.Event // arrived while paused
	missed  int         // fell off pending while paused
	zone    string      // only this zone, when set
	kind    string      // only this kind, when set
	older   bool        // a load of older events is under way
	note    string      // what the last load of older events found
	seen    int64       // the highest event id held
	noticeN int         // numbers notices without an id
}

type keys struct {
	pause, zone, kind, older, open, filter, back, bottom key.Binding
}

// New returns the activity view.
func New(c common.Common) *Model {
	k := c.KeyMap
	m := &Model{
		Common: c,
		filter: filter.New(c, "text; zone:NAME kind:KIND narrow it"),
		keys: keys{
			pause:  k.Pause,
			zone:   k.ZoneFilter,
			kind:   k.KindFilter,
			older:  keymap.Describe(k.Older, fmt.Sprintf("load %d older events from the daemon's log", olderPage)),
			open:   keymap.Describe(k.Open, "open the event's zone"),
			filter: keymap.Describe(k.Filter, "filter: text, zone:NAME, kind:KIND"),
			back:   keymap.Describe(k.Back, "clear the filters"),
			bottom: keymap.Describe(k.Bottom, "newest event; follow new ones"),
		},
	}
	m.table = table.New(c, []table.Column{
		colTime:    {Title: "TIME", Width: 8},
		colOutcome: {Title: "OUT", Width: 4, Colored: true},
		colZone:    {Title: "ZONE", Width: 14, Flex: 1},
		colKind:    {Title: "KIND", Width: 14, Colored: true},
		colSerial:  {Title: "SERIAL", Width: 10, Align: table.Right, MinTable: 110},
		colPeer:    {Title: "PEER", Width: 21, MinTable: 140},
		colDetail:  {Title: "DETAIL", Width: 20, Flex: 3},
	})
	m.table.Empty = "no events yet"
	return m
}

// Title names the view.
func (m *Model) Title() string { return "Activity" }

// Modal reports whether the filter line has the keyboard.
func (m *Model) Modal() bool { return m.filter.Typing() }

// SetSize sets the view's size: two lines above the table, two below.
func (m *Model) SetSize(width, height int) {
	m.Common.SetSize(width, height)
	m.table.SetSize(width, height-4)
}

// Keys lists the keys of the view.
func (m *Model) Keys() []key.Binding {
	k := m.table.Keys()
	k[len(k)-1] = m.keys.bottom
	return append(k, m.keys.pause, m.keys.filter, m.keys.zone, m.keys.kind, m.keys.back, m.keys.older, m.keys.open)
}

// Held returns the number of events held.
func (m *Model) Held() int { return len(m.events) - m.base }

// Paused reports whether the view is paused.
func (m *Model) Paused() bool { return m.paused }

// Update handles a message.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case common.EventsMsg:
		if m.paused {
			m.pending = append(m.pending, msg.Events...)
			if over := len(m.pending) - MaxEvents; over > 0 {
				m.pending = append(m.pending[:0:0], m.pending[over:]...)
				m.missed += over
			}
			return nil
		}
		m.add(msg.Events)
	case olderMsg:
		m.older = false
		if msg.err != nil {
			return common.Fail("loading older events", msg.err)
		}
		m.prepend(msg.events)
	case tea.KeyMsg:
		return m.key(msg)
	}
	return nil
}

// row makes the table row of an event.
func (m *Model) row(ev api.Event) table.Row {
	zone := ev.Zone
	if zone == "" {
		zone = common.None
	}
	serial := ""
	if ev.Serial != 0 {
		serial = strconv.FormatUint(uint64(ev.Serial), 10)
	}
	peer := ev.Peer
	out := map[string]string{api.OutcomeOK: "ok", api.OutcomeWarning: "warn", api.OutcomeError: "ERR"}[ev.Outcome]
	if out == "" {
		out = ev.Outcome
	}
	k := strconv.FormatInt(ev.ID, 10)
	if ev.ID == 0 {
		m.noticeN++
		k = "n" + strconv.Itoa(m.noticeN)
	}
	cells := []string{ev.Time.In(m.Loc).Format("15:04:05"), out, zone, ev.Kind, serial, peer, ev.Detail}
	return table.Row{
		Key:      k,
		Cells:    cells,
		Lower:    strings.ToLower(strings.Join(cells, " ")),
		Severity: common.OutcomeSeverity(ev.Outcome),
	}
}

// add appends events, dropping the oldest beyond MaxEvents; the cursor
// follows the newest event when it was on the newest already.
func (m *Model) add(evs []api.Event) {
	if len(evs) == 0 {
		return
	}
	follow := m.table.AtEnd()
	for _, ev := range evs {
		if ev.ID != 0 {
			if ev.ID <= m.seen {
				continue // already held: a reconnection replays from where we were
			}
			m.seen = ev.ID
		}
		m.events = append(m.events, ev)
		m.rows = append(m.rows, m.row(ev))
	}
	m.trim()
	if follow {
		m.table.End()
	}
}

// trim drops the events beyond MaxEvents from the view. The slices are
// compacted only when twice as long, so that at 1 000 events a second a
// frame costs no copy of the whole feed.
func (m *Model) trim() {
	if len(m.events) >= 2*MaxEvents {
		n := copy(m.events, m.events[len(m.events)-MaxEvents:])
		copy(m.rows, m.rows[len(m.rows)-MaxEvents:])
		clear(m.events[n:])
		clear(m.rows[n:])
		m.events, m.rows = m.events[:n], m.rows[:n]
	}
	m.base = max(0, len(m.events)-MaxEvents)
	m.table.SetRows(m.rows[m.base:])
}

// held returns the events held, parallel to the table's rows.
func (m *Model) held() []api.Event { return m.events[m.base:] }

// prepend puts older events before the held ones, as many as fit.
func (m *Model) prepend(evs []api.Event) {
	m.events, m.rows = append([]api.Event(nil), m.held()...), append([]table.Row(nil), m.rows[m.base:]...)
	m.base = 0
	oldest := m.oldestID()
	var older []api.Event
	for _, ev := range evs {
		if ev.ID != 0 && (oldest == 0 || ev.ID < oldest) {
			older = append(older, ev)
		}
	}
	room := MaxEvents - len(m.events)
	switch {
	case len(older) == 0:
		m.note = "no older events in the daemon's log"
		return
	case room <= 0:
		m.note = fmt.Sprintf("%d events held, the most this view keeps; `zonekeeper events --json` shows the whole log", MaxEvents)
		return
	case len(older) > room:
		older = older[len(older)-room:]
	}
	m.note = fmt.Sprintf("loaded %d older events", len(older))
	evs2 := append(older, m.events...)
	rows := make([]table.Row, 0, len(evs2))
	for _, ev := range older {
		rows = append(rows, m.row(ev))
		if ev.ID > m.seen {
			m.seen = ev.ID
		}
	}
	m.events = evs2
	m.rows = append(rows, m.rows...)
	m.table.SetRows(m.rows)
}

func (m *Model) oldestID() int64 {
	for _, ev := range m.held() {
		if ev.ID != 0 {
			return ev.ID
		}
	}
	return 0
}

// loadOlder asks the daemon for older events. The control API can only
// return the newest N events (it has no "before id"), so this asks for
// as many as are held plus a page and keeps those older than the oldest
// held.
func (m *Model) loadOlder() tea.Cmd {
	if m.older {
		return nil
	}
	if m.Held() >= MaxEvents {
		m.note = fmt.Sprintf("%d events held, the most this view keeps; `zonekeeper events --json` shows the whole log", MaxEvents)
		return nil
	}
	m.older = true
	m.note = "loading older events…"
	limit := m.Held() + olderPage
	d := m.Daemon
	return m.Call(func(ctx context.Context) tea.Msg {
		var evs []api.Event
		err := d.Events(ctx, client.EventQuery{Limit: limit}, func(ev api.Event) error {
			evs = append(evs, ev)
			return nil
		})
		return olderMsg{events: evs, err: err}
	})
}

func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	if m.filter.Typing() {
		if m.filter.Update(msg) {
			m.refilter()
		}
		return nil
	}
	if m.table.HandleKey(msg) {
		return nil
	}
	switch {
	case key.Matches(msg, m.keys.pause):
		m.paused = !m.paused
		if !m.paused {
			pending, missed := m.pending, m.missed
			m.pending, m.missed = nil, 0
			m.add(pending)
			if missed > 0 {
				return common.Info(fmt.Sprintf("resumed; %d events arrived while paused beyond the %d kept: `zonekeeper events` has them", missed, MaxEvents))
			}
		}
	case key.Matches(msg, m.keys.filter):
		m.filter.Start()
	case key.Matches(msg, m.keys.zone):
		if m.zone != "" {
			m.zone = ""
		} else if r, _ := m.table.Selected(); r != nil && r.Cells[colZone] != common.None {
			m.zone = r.Cells[colZone]
		}
		m.refilter()
	case key.Matches(msg, m.keys.kind):
		if m.kind != "" {
			m.kind = ""
		} else if r, _ := m.table.Selected(); r != nil {
			m.kind = r.Cells[colKind]
		}
		m.refilter()
	case key.Matches(msg, m.keys.back):
		m.zone, m.kind = "", ""
		m.filter.Clear()
		m.refilter()
	case key.Matches(msg, m.keys.older):
		return m.loadOlder()
	case key.Matches(msg, m.keys.open):
		if r, _ := m.table.Selected(); r != nil && r.Cells[colZone] != common.None {
			m.Nav.Go(common.OpenZoneMsg{Name: r.Cells[colZone]})
		}
	}
	return nil
}

// refilter applies the zone and kind filters and the filter text, in
// which zone:NAME and kind:KIND narrow by field.
func (m *Model) refilter() {
	if m.table.AtEnd() {
		defer m.table.End()
	}
	zone, kind := m.zone, m.kind
	var text []string
	for _, t := range strings.Fields(m.filter.Query()) {
		switch {
		case strings.HasPrefix(t, "zone:"):
			zone = strings.TrimPrefix(t, "zone:")
		case strings.HasPrefix(t, "kind:"):
			kind = strings.TrimPrefix(t, "kind:")
		default:
			text = append(text, t)
		}
	}
	if zone != "" && !strings.HasSuffix(zone, ".") {
		zone += "."
	}
	words := table.MatchText(strings.Join(text, " "))
	if zone == "" && kind == "" && words == nil {
		m.table.SetFilter(nil)
		return
	}
	m.table.SetFilter(func(r *table.Row) bool {
		return (zone == "" || strings.EqualFold(r.Cells[colZone], zone)) &&
			(kind == "" || strings.EqualFold(r.Cells[colKind], kind)) &&
			(words == nil || words(r))
	})
}

// View renders the view.
func (m *Model) View() string {
	st := m.Styles
	w := m.Width
	state := "following"
	switch {
	case m.paused:
		state = fmt.Sprintf("PAUSED · %d new (space resumes)", len(m.pending)+m.missed)
	case !m.table.AtEnd():
		state = "scrolled back (G follows)"
	}
	l1 := fmt.Sprintf("activity · %d events held · %s", m.Held(), state)
	var l2 string
	var narrow []string
	if m.zone != "" {
		narrow = append(narrow, "zone "+m.zone)
	}
	if m.kind != "" {
		narrow = append(narrow, "kind "+m.kind)
	}
	if q := m.filter.Query(); q != "" && !m.filter.Typing() {
		narrow = append(narrow, "“"+q+"”")
	}
	switch {
	case m.filter.Typing():
		l2 = m.filter.View(w)
	case len(narrow) > 0:
		l2 = table.Fit(fmt.Sprintf("only %s · %d of %d · esc shows all", strings.Join(narrow, ", "), m.table.Len(), m.table.Total()), w, table.Left)
	case m.note != "":
		l2 = st.Dim.Render(table.Fit(m.note, w, table.Left))
	default:
		l2 = st.Dim.Render(table.Fit("space pause · / filter · z zone · t kind · o older · enter open zone", w, table.Left))
	}
	head := st.Header.Render(table.Fit(l1, w, table.Left))
	if m.paused {
		head = st.Severity(styles.Warning).Render(table.Fit(l1, w, table.Left))
	}
	return head + "\n" + l2 + "\n" + m.table.View() + "\n" + m.detail()
}

// detail renders the selected event in full, on two lines.
func (m *Model) detail() string {
	w := m.Width
	r, i := m.table.Selected()
	held := m.held()
	if r == nil || i < 0 || i >= len(held) {
		return "\n"
	}
	ev := held[i]
	parts := []string{ev.Time.In(m.Loc).Format("2006-01-02 15:04:05 MST"), ev.Kind, ev.Outcome}
	if ev.Zone != "" {
		parts = append(parts, ev.Zone)
	}
	if ev.Serial != 0 {
		parts = append(parts, "serial "+strconv.FormatUint(uint64(ev.Serial), 10))
	}
	if ev.Peer != "" {
		parts = append(parts, "peer "+ev.Peer)
	}
	l1 := m.Styles.Dim.Render(table.Fit(strings.Join(parts, " · "), w, table.Left))
	return l1 + "\n" + table.Fit(ev.Detail, w, table.Left)
}
