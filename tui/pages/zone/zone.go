// Package zone is the zone view: one zone's records as a scrollable,
// filterable table under its SOA, serial policy and peers; on a primary
// or native zone, forms to add, edit and delete records, each sent with
// the serial it was based on; on a secondary, retrieve and promote.
package zone

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"zonekeeper/daemon/api"
	"zonekeeper/tui/common"
	"zonekeeper/tui/components/dialog"
	"zonekeeper/tui/components/failover"
	"zonekeeper/tui/components/filter"
	"zonekeeper/tui/components/form"
	"zonekeeper/tui/components/table"
	"zonekeeper/tui/keymap"
)

// settle is how long activity on the open zone must pause before it is
// fetched again.
const settle = 500 * time.Millisecond

// headerLines are the lines above the table: zone, SOA, peers, filter.
const headerLines = 4

// Messages of this view.
type (
	loadedMsg struct {
		seq    int
		detail *api.ZoneDetail
		rows   []table.Row
		err    error
		peers  []api.Peer
		perr   error
	}
	reloadMsg   struct{ seq int }
	editDoneMsg struct {
		what string
		res  *api.EditResult
		err  error
	}
	actionDoneMsg struct {
		what string
		text string
		err  error
	}
)

// Model is the zone view.
type Model struct {
	common.Common
	table  *table.Model
	filter *filter.Model
	keys   keys

	name    string          // the zone shown; "" until one is opened
	detail  *api.ZoneDetail // as last loaded
	peers   []api.Peer      // this node's peers: a promotion NOTIFYs them
	peerErr error
	soa     string
	err     error
	seq     int    // numbers loads: only the latest counts
	loading bool   // a load is scheduled or under way
	again   bool   // activity arrived during the load
	expect  uint32 // the serial our last edit made: its events need no fetch

	form   *recordForm
	demote *form.Model // the demote form: the new primaries
	dialog *dialog.Model
	onYes  func() tea.Cmd // what the dialog does when confirmed
	reset  *serialReset   // the set-serial form, plan and progress (setserial.go)
	resets int            // numbers the serial resets: answers of an old one are ignored
}

type keys struct {
	filter, back, add, edit, del, retrieve, notify, promote, demote, setSerial, refresh key.Binding
}

// New returns the zone view, with no zone open.
func New(c common.Common) *Model {
	k := c.KeyMap
	m := &Model{
		Common: c,
		filter: filter.New(c, "name, type or data"),
		keys: keys{
			filter:    keymap.Describe(k.Filter, "filter the records"),
			back:      keymap.Describe(k.Back, "clear the filter, else back to the zones"),
			add:       keymap.Describe(k.Add, "add a record"),
			edit:      keymap.Describe(k.Edit, "edit the selected record"),
			del:       keymap.Describe(k.Delete, "delete the selected record"),
			retrieve:  k.Retrieve,
			notify:    k.Notify,
			promote:   k.Promote,
			demote:    k.Demote,
			setSerial: k.SetSerial,
			refresh:   keymap.Describe(k.Refresh, "fetch the zone again"),
		},
	}
	m.table = table.New(c, []table.Column{
		{Title: "NAME", Width: 12, Flex: 1},
		{Title: "TTL", Width: 7, Align: table.Right},
		{Title: "TYPE", Width: 6},
		{Title: "DATA", Width: 20, Flex: 3},
	})
	m.table.Empty = "no zone open: pick one in the zones view (1) and press enter"
	return m
}

// Title names the view.
func (m *Model) Title() string { return "Zone" }

// Name is the zone shown.
func (m *Model) Name() string { return m.name }

// Modal reports whether a form, dialog or the filter line has the keyboard.
func (m *Model) Modal() bool {
	return m.form != nil || m.demote != nil || m.dialog != nil || m.reset != nil || m.filter.Typing()
}

// SetSize sets the view's size.
func (m *Model) SetSize(width, height int) {
	m.Common.SetSize(width, height)
	m.table.SetSize(width, height-headerLines)
	if m.demote != nil {
		m.demote.SetSize(min(width, 100), height)
	}
	if m.form != nil {
		m.form.SetSize(min(width, 100), height)
	}
	if m.dialog != nil {
		m.dialog.SetSize(min(width, 90), height)
	}
	if m.reset != nil {
		m.reset.form.SetSize(min(width, 100), height)
	}
}

func (m *Model) editable() bool {
	return m.detail != nil && m.detail.Kind != api.KindSecondary && m.detail.State == api.StateServing
}

// Keys lists the keys of the view as it is now.
func (m *Model) Keys() []key.Binding {
	switch {
	case m.form != nil:
		return m.form.Keys()
	case m.demote != nil:
		return m.demote.Keys()
	case m.dialog != nil:
		return m.dialog.Keys()
	case m.reset != nil:
		return m.resetKeys()
	}
	keys := append(m.table.Keys(), m.keys.filter, m.keys.back, m.keys.refresh)
	if m.detail == nil {
		return keys
	}
	if m.detail.Kind == api.KindSecondary {
		p := m.keys.promote
		if _, ok := m.Daemon.(common.Promoter); !ok {
			p = keymap.Describe(p, "promote to primary ("+common.NotAvailable+")")
		}
		return append(keys, m.keys.retrieve, p)
	}
	d := m.keys.demote
	if _, ok := m.Daemon.(common.Demoter); !ok {
		d = keymap.Describe(d, "demote to secondary ("+common.NotAvailable+")")
	}
	ss := m.keys.setSerial
	if _, ok := m.Daemon.(common.SerialSetter); !ok {
		ss = keymap.Describe(ss, "set the serial ("+common.NotAvailable+")")
	}
	return append(keys, m.keys.add, m.keys.edit, m.keys.del, m.keys.notify, d, ss)
}

// open shows the zone name, loading it.
func (m *Model) open(name string) tea.Cmd {
	if name != m.name {
		m.name = name
		m.detail, m.soa, m.err = nil, "", nil
		m.form, m.demote, m.dialog, m.reset = nil, nil, nil, nil
		m.filter.Clear()
		m.table.SetFilter(nil)
		m.table.SetRows(nil)
		m.table.Empty = "loading " + name + "…"
	}
	return m.load()
}

func (m *Model) load() tea.Cmd {
	if m.name == "" {
		return nil
	}
	m.seq++
	m.loading, m.again = true, false
	seq, name, d := m.seq, m.name, m.Daemon
	return m.Call(func(ctx context.Context) tea.Msg {
		z, err := d.Zone(ctx, name)
		if err != nil {
			return loadedMsg{seq: seq, err: err}
		}
		msg := loadedMsg{seq: seq, detail: z, rows: Rows(z)}
		if pl, ok := d.(common.PeerLister); ok {
			msg.peers, msg.perr = pl.Peers(ctx)
		}
		return msg
	})
}

// Rows makes the table rows of a zone's records. It runs in a command:
// for 100 000 records it is the one costly step, done once per load.
func Rows(z *api.ZoneDetail) []table.Row {
	rows := make([]table.Row, len(z.Records))
	for i, r := range z.Records {
		name := common.RelativeName(r.Name, z.Name)
		rows[i] = table.Row{
			Key:   r.Name + "\x00" + r.Type + "\x00" + r.Data,
			Cells: []string{name, strconv.FormatUint(uint64(r.TTL), 10), r.Type, r.Data},
			Lower: strings.ToLower(name + " " + r.Name + " " + r.Type + " " + r.Data),
		}
	}
	return rows
}

// schedule loads the zone again once activity on it settles.
func (m *Model) schedule() tea.Cmd {
	if m.loading {
		m.again = true
		return nil
	}
	m.loading = true
	seq := m.seq
	return tea.Tick(settle, func(time.Time) tea.Msg { return reloadMsg{seq} })
}

// Update handles a message.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case common.OpenZoneMsg:
		return m.open(msg.Name)
	case common.ConnectedMsg:
		if msg.Again {
			return m.load()
		}
	case reloadMsg:
		if msg.seq == m.seq {
			return m.load()
		}
	case loadedMsg:
		if msg.seq != m.seq {
			return nil
		}
		m.loading = false
		var cmd tea.Cmd
		if msg.err != nil {
			m.err = msg.err
			if m.detail == nil {
				m.table.Empty = "cannot show " + m.name + ": " + msg.err.Error()
			}
			cmd = common.Fail("loading "+m.name, msg.err)
		} else {
			m.peers, m.peerErr = msg.peers, msg.perr
			m.setDetail(msg.detail, msg.rows)
		}
		if m.again {
			return tea.Batch(cmd, m.schedule())
		}
		return cmd
	case serialPlanMsg, serialDoneMsg, spinMsg:
		return m.updateSetSerial(msg)
	case common.EventsMsg:
		if m.reset != nil {
			m.updateSetSerial(msg)
		}
		// Records are fetched again only when the serial moved (or the
		// zone was changed or removed): a 100 000-record zone is not
		// fetched for every refresh check. Its state, error and last
		// check come with the zone list (ZonesMsg).
		if m.name == "" || m.detail == nil {
			return nil
		}
		for _, ev := range msg.Events {
			if !strings.EqualFold(ev.Zone, m.name) {
				continue
			}
			moved := ev.Serial != 0 && ev.Serial != m.detail.Serial && ev.Serial != m.expect
			if moved || ev.Kind == "zone-set" || ev.Kind == "zone-remove" || ev.Kind == "zone-unload" || ev.Kind == "reload-error" {
				return m.schedule()
			}
		}
	case common.ZonesMsg:
		if m.detail == nil || msg.Err != nil {
			return nil
		}
		for _, z := range msg.Zones {
			if !strings.EqualFold(z.Name, m.name) {
				continue
			}
			if z.Serial != m.detail.Serial || z.Kind != m.detail.Kind {
				return m.schedule()
			}
			m.detail.Zone = z
		}
	case editDoneMsg:
		return m.editDone(msg)
	case actionDoneMsg:
		if m.dialog != nil {
			m.dialog = nil
		}
		if lines, ok := failover.Refused(msg.err); ok {
			// The guard's reason is longer than a status line.
			m.dialog = dialog.New(m.Common, "Refused: "+msg.what, lines...)
			m.dialog.Disabled = failover.RefusedNote
			m.dialog.SetSize(min(m.Width, 90), m.Height)
			return tea.Batch(common.Fail(msg.what, errors.New("refused by the guard; nothing changed")), m.load())
		}
		if msg.err != nil {
			return tea.Batch(common.Fail(msg.what, msg.err), m.load())
		}
		return tea.Batch(common.Info(msg.text), m.load())
	case tea.KeyMsg:
		return m.key(msg)
	}
	return nil
}

// setDetail shows a freshly loaded zone.
func (m *Model) setDetail(z *api.ZoneDetail, rows []table.Row) {
	m.err = nil
	m.detail = z
	m.soa = ""
	for _, r := range z.Records {
		if r.Type == "SOA" && strings.EqualFold(r.Name, z.Name) {
			m.soa = soaSummary(r)
			break
		}
	}
	switch {
	case z.Kind == api.KindSecondary && len(z.Records) == 0 && z.Serial != 0:
		m.table.Empty = fmt.Sprintf("%d records at serial %d (not listed by the daemon for a %s secondary)", z.Zone.Records, z.Serial, z.State)
	case z.State != api.StateServing && z.Kind == api.KindSecondary:
		m.table.Empty = "no records: the zone has not been transferred yet (r retrieves it now)"
	case z.State != api.StateServing:
		m.table.Empty = "no records served: the zone is " + z.State
	default:
		m.table.Empty = "no record matches the filter"
	}
	m.table.SetRows(rows)
}

func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	switch {
	case m.form != nil:
		return m.formKey(msg)
	case m.demote != nil:
		return m.demoteKey(msg)
	case m.reset != nil:
		return m.setSerialKey(msg)
	case m.dialog != nil:
		switch m.dialog.Update(msg) {
		case dialog.Cancelled:
			m.dialog = nil
		case dialog.Confirmed:
			m.dialog.Busy = true
			return m.onYes()
		}
		return nil
	case m.filter.Typing():
		if m.filter.Update(msg) {
			m.table.SetFilter(table.MatchText(m.filter.Query()))
		}
		return nil
	}
	if m.table.HandleKey(msg) {
		return nil
	}
	switch {
	case key.Matches(msg, m.keys.filter):
		m.filter.Start()
	case key.Matches(msg, m.keys.back):
		if m.filter.Query() != "" {
			m.filter.Clear()
			m.table.SetFilter(nil)
			return nil
		}
		m.Nav.Go(common.BackMsg{})
	case key.Matches(msg, m.keys.refresh):
		return m.load()
	case m.detail == nil:
		return nil
	case key.Matches(msg, m.keys.add):
		if cmd := m.readOnly(); cmd != nil {
			return cmd
		}
		m.openForm(nil)
	case key.Matches(msg, m.keys.edit):
		if cmd := m.readOnly(); cmd != nil {
			return cmd
		}
		if r := m.selected(); r != nil {
			m.openForm(r)
		}
	case key.Matches(msg, m.keys.del):
		if cmd := m.readOnly(); cmd != nil {
			return cmd
		}
		if r := m.selected(); r != nil {
			return m.confirmDelete(*r)
		}
	case key.Matches(msg, m.keys.retrieve):
		if m.detail.Kind != api.KindSecondary {
			return common.Info(m.name + " is a " + m.detail.Kind + " zone: only secondaries are retrieved")
		}
		return m.retrieve()
	case key.Matches(msg, m.keys.notify):
		if m.detail.Kind == api.KindSecondary {
			return common.Info(m.name + " is a secondary: its primary sends the NOTIFYs")
		}
		return m.notify()
	case key.Matches(msg, m.keys.promote):
		if m.detail.Kind != api.KindSecondary {
			return common.Info(m.name + " is already a " + m.detail.Kind + " zone")
		}
		m.openPromote()
	case key.Matches(msg, m.keys.demote):
		if m.detail.Kind == api.KindSecondary {
			return common.Info(m.name + " is already a secondary")
		}
		m.openDemote()
	case key.Matches(msg, m.keys.setSerial):
		return m.openSetSerial()
	}
	return nil
}
