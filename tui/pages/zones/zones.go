// Package zones is the home view: one row per zone with its kind,
// serial, state, primaries, last check, peers in sync and days left on
// a signed zone's signatures; sortable and
// filtered with `/`.
package zones

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"zonekeeper/daemon/api"
	"zonekeeper/tui/common"
	"zonekeeper/tui/components/filter"
	"zonekeeper/tui/components/table"
	"zonekeeper/tui/keymap"
)

// pollInterval is how often the list is fetched again without activity:
// secondaries' states and countdowns move with time, not only events.
const pollInterval = 10 * time.Second

// settle is how long activity must pause before the list is fetched
// again, so that a burst of events costs one fetch.
const settle = 500 * time.Millisecond

// The sort orders `s` cycles through, with their column.
type sortKey int

const (
	byName sortKey = iota
	byKind
	bySerial
	byState
	byChecked
	sortKeys
)

var sortNames = [...]string{"name", "kind", "serial", "state", "last check"}

// Columns, in order.
const (
	colName = iota
	colKind
	colSerial
	colState
	colPrimaries
	colChecked
	colSync
	colSigs
	colAccount
)

// sortColumn maps a sort order to the column showing it.
var sortColumn = [...]int{colName, colKind, colSerial, colState, colChecked}

type (
	fetchMsg struct{ gen int } // time to fetch the list again
	pollMsg  struct{}
)

// Model is the zones view.
type Model struct {
	common.Common
	table  *table.Model
	filter *filter.Model
	keys   keys

	zones    []api.Zone
	counts   string // the summary line, made with the rows
	loaded   bool
	err      error
	sortBy   sortKey
	desc     bool
	fetching bool // a fetch is scheduled or under way
	again    bool // activity arrived during the fetch: fetch once more
	gen      int
	polling  bool
}

type keys struct {
	open, filter, sort, reverse, refresh, back key.Binding
}

// New returns the zones view.
func New(c common.Common) *Model {
	k := c.KeyMap
	m := &Model{
		Common: c,
		filter: filter.New(c, "name, kind, state or primary"),
		keys: keys{
			open:    keymap.Describe(k.Open, "open the zone"),
			filter:  keymap.Describe(k.Filter, "filter by name, kind, state, primary"),
			sort:    keymap.Describe(k.Sort, "sort: name, kind, serial, state, last check"),
			reverse: k.Reverse,
			refresh: keymap.Describe(k.Refresh, "fetch the list again"),
			back:    keymap.Describe(k.Back, "clear the filter"),
		},
	}
	m.table = table.New(c, []table.Column{
		colName:      {Title: "ZONE", Width: 16, Flex: 2},
		colKind:      {Title: "KIND", Width: 9},
		colSerial:    {Title: "SERIAL", Width: 10, Align: table.Right},
		colState:     {Title: "STATE", Width: 17, Colored: true},
		colPrimaries: {Title: "PRIMARIES", Width: 15, Flex: 1, MinTable: 100},
		colChecked:   {Title: "CHECKED", Width: 9},
		colSync:      {Title: "IN SYNC", Width: 7},
		colSigs:      {Title: "SIGS", Width: 7, MinTable: 100},
		colAccount:   {Title: "ACCOUNT", Width: 10, Flex: 1, MinTable: 110},
	})
	m.table.Empty = "loading zones…"
	m.table.SortCol = colName
	return m
}

// Title names the view.
func (m *Model) Title() string { return "Zones" }

// Modal reports whether the filter line has the keyboard.
func (m *Model) Modal() bool { return m.filter.Typing() }

// SetSize sets the view's size.
func (m *Model) SetSize(width, height int) {
	m.Common.SetSize(width, height)
	m.table.SetSize(width, height-2)
}

// Keys lists the keys of the view.
func (m *Model) Keys() []key.Binding {
	return append(m.table.Keys(), m.keys.open, m.keys.filter, m.keys.back, m.keys.sort, m.keys.reverse, m.keys.refresh)
}

// Zones returns the last list fetched.
func (m *Model) Zones() []api.Zone { return m.zones }

func (m *Model) fetch() tea.Cmd {
	m.fetching, m.again = true, false
	d := m.Daemon
	return m.Call(func(ctx context.Context) tea.Msg {
		zs, err := d.Zones(ctx)
		return common.ZonesMsg{Zones: zs, Err: err}
	})
}

// schedule fetches the list after activity settles, once.
func (m *Model) schedule() tea.Cmd {
	if m.fetching {
		m.again = true
		return nil
	}
	m.fetching = true
	m.gen++
	gen := m.gen
	return tea.Tick(settle, func(time.Time) tea.Msg { return fetchMsg{gen} })
}

// Update handles a message.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case common.ConnectedMsg:
		cmds := []tea.Cmd{m.fetch()}
		if !m.polling {
			m.polling = true
			cmds = append(cmds, tea.Tick(pollInterval, func(time.Time) tea.Msg { return pollMsg{} }))
		}
		return tea.Batch(cmds...)
	case pollMsg:
		next := tea.Tick(pollInterval, func(time.Time) tea.Msg { return pollMsg{} })
		if m.fetching {
			return next
		}
		return tea.Batch(m.fetch(), next)
	case fetchMsg:
		if msg.gen != m.gen {
			return nil
		}
		return m.fetch()
	case common.EventsMsg:
		for _, ev := range msg.Events {
			if ev.Zone != "" || ev.Kind == "reload-all" || ev.Kind == "start" {
				return m.schedule()
			}
		}
		return nil
	case common.ZonesMsg:
		m.fetching = false
		var cmd tea.Cmd
		if msg.Err != nil {
			m.err = msg.Err
			if !m.loaded {
				m.table.Empty = "cannot list the zones: " + msg.Err.Error()
			}
			cmd = common.Fail("listing the zones", msg.Err)
		} else {
			m.err = nil
			m.loaded = true
			m.zones = msg.Zones
			m.table.Empty = "no zones: put zonefiles in DATA/zones, or add a secondary with `zonekeeper zone add-secondary`"
			m.rebuild()
		}
		if m.again {
			return tea.Batch(cmd, m.schedule())
		}
		return cmd
	case tea.KeyMsg:
		return m.key(msg)
	}
	return nil
}

func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	if m.filter.Typing() {
		if m.filter.Update(msg) {
			m.table.SetFilter(table.MatchText(m.filter.Query()))
		}
		return nil
	}
	if m.table.HandleKey(msg) {
		return nil
	}
	switch {
	case key.Matches(msg, m.keys.open):
		if r, _ := m.table.Selected(); r != nil {
			m.Nav.Go(common.OpenZoneMsg{Name: r.Key})
		}
	case key.Matches(msg, m.keys.filter):
		m.filter.Start()
	case key.Matches(msg, m.keys.back):
		if m.filter.Query() != "" {
			m.filter.Clear()
			m.table.SetFilter(nil)
		}
	case key.Matches(msg, m.keys.sort):
		m.sortBy = (m.sortBy + 1) % sortKeys
		m.rebuild()
	case key.Matches(msg, m.keys.reverse):
		m.desc = !m.desc
		m.rebuild()
	case key.Matches(msg, m.keys.refresh):
		if !m.fetching {
			return m.fetch()
		}
	}
	return nil
}

// less orders two zones by the chosen column, then by name.
func (m *Model) less(a, b *api.Zone) bool {
	switch m.sortBy {
	case byKind:
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
	case bySerial:
		if a.Serial != b.Serial {
			return a.Serial < b.Serial
		}
	case byState:
		sa, sb := common.StateSeverity(a.State), common.StateSeverity(b.State)
		if sa != sb {
			return sa > sb // worst first
		}
		if a.State != b.State {
			return a.State < b.State
		}
	case byChecked:
		if !a.LastCheck.Equal(b.LastCheck) {
			return a.LastCheck.Before(b.LastCheck) // oldest first
		}
	}
	return a.Name < b.Name
}

// rebuild sorts the zones and makes the rows.
func (m *Model) rebuild() {
	zs := make([]*api.Zone, len(m.zones))
	for i := range m.zones {
		zs[i] = &m.zones[i]
	}
	sort.SliceStable(zs, func(i, j int) bool {
		if m.desc {
			return m.less(zs[j], zs[i])
		}
		return m.less(zs[i], zs[j])
	})
	now := m.Now()
	rows := make([]table.Row, len(zs))
	for i, z := range zs {
		serial := common.None
		if z.Serial != 0 || z.State == api.StateServing {
			serial = strconv.FormatUint(uint64(z.Serial), 10)
		}
		prim := common.None
		if len(z.Primaries) > 0 {
			prim = strings.Join(z.Primaries, ",")
		}
		checked := common.None
		if z.Kind == api.KindSecondary {
			checked = common.Ago(now, z.LastCheck)
		}
		sync := common.None
		if z.PeersInSync != "" {
			sync = z.PeersInSync
		}
		account := common.None
		if z.Account != "" {
			account = z.Account
		}
		rows[i] = table.Row{
			Key:      z.Name,
			Cells:    []string{z.Name, z.Kind, serial, common.StateText(z.State, z.Error), prim, checked, sync, common.SigsCell(z.Signatures), account},
			Severity: common.StateSeverity(z.State),
		}
	}
	m.table.SortCol, m.table.SortDesc = sortColumn[m.sortBy], m.desc
	m.table.SetRows(rows)
	m.counts = m.summary()
}

// summary counts the zones by kind and by state.
func (m *Model) summary() string {
	kinds := map[string]int{}
	states := map[string]int{}
	for _, z := range m.zones {
		kinds[z.Kind]++
		states[z.State]++
	}
	var parts []string
	for _, k := range []string{api.KindPrimary, api.KindSecondary, api.KindNative} {
		if kinds[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", kinds[k], k))
		}
	}
	names := make([]string, 0, len(states))
	for s := range states {
		names = append(names, s)
	}
	sort.Strings(names)
	var st []string
	for _, s := range names {
		st = append(st, fmt.Sprintf("%d %s", states[s], s))
	}
	s := fmt.Sprintf("%d zones", len(m.zones))
	if len(m.zones) == 1 {
		s = "1 zone"
	}
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, ", ")
	}
	if len(st) > 0 {
		s += " · " + strings.Join(st, ", ")
	}
	return s
}

// View renders the view.
func (m *Model) View() string {
	st := m.Styles
	line1 := m.counts
	if !m.loaded {
		line1 = "zones: loading…"
	}
	if m.err != nil && m.loaded {
		line1 += " · list may be stale"
	}
	line2 := m.filter.View(m.Width)
	if line2 == "" {
		dir := "▲"
		if m.desc {
			dir = "▼"
		}
		line2 = st.Dim.Render(table.Fit(fmt.Sprintf("sorted by %s %s · %d shown · / filter · s sort · enter open",
			sortNames[m.sortBy], dir, m.table.Len()), m.Width, table.Left))
	} else if !m.filter.Typing() {
		line2 = table.Fit(fmt.Sprintf("filter: %s · %d of %d · esc clears", m.filter.Query(), m.table.Len(), m.table.Total()), m.Width, table.Left)
	}
	return st.Header.Render(table.Fit(line1, m.Width, table.Left)) + "\n" + line2 + "\n" + m.table.View()
}
