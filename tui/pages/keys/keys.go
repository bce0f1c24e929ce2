// Package keys is the TSIG keys view: the keys the daemon holds (their
// secrets are never listed), generating one (its secret is shown once),
// adding one with a given secret, and removing one.
package keys

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
	"zonekeeper/tui/common"
	"zonekeeper/tui/components/dialog"
	"zonekeeper/tui/components/filter"
	"zonekeeper/tui/components/form"
	"zonekeeper/tui/components/table"
	"zonekeeper/tui/keymap"
)

// Algorithms are the TSIG algorithms the daemon accepts (RFC 8945),
// the recommended one first.
var Algorithms = []string{"hmac-sha256", "hmac-sha384", "hmac-sha512", "hmac-sha224", "hmac-sha1", "hmac-md5"}

// minSecretBytes is the shortest secret the daemon accepts.
const minSecretBytes = 16

// Messages of this view.
type (
	listMsg struct {
		keys []api.Key
		err  error
	}
	addDoneMsg struct {
		key       *api.Key
		err       error
		generated bool
	}
	removeDoneMsg struct {
		name string
		err  error
	}
)

// Model is the keys view.
type Model struct {
	common.Common
	table  *table.Model
	filter *filter.Model
	keys   keys

	list     []api.Key
	loaded   bool
	form     *form.Model
	generate bool // the form generates the secret
	dialog   *dialog.Model
	secret   *api.Key // a generated key, shown once
}

type keys struct {
	generate, add, remove, filter, back, refresh, top key.Binding
}

// New returns the keys view.
func New(c common.Common) *Model {
	k := c.KeyMap
	m := &Model{
		Common: c,
		filter: filter.New(c, "name or algorithm"),
		keys: keys{
			generate: keymap.Describe(k.Generate, "generate a key (its secret is shown once)"),
			add:      keymap.Describe(k.Add, "add a key with a secret you give"),
			remove:   keymap.Describe(k.Delete, "remove the selected key"),
			filter:   keymap.Describe(k.Filter, "filter by name or algorithm"),
			back:     keymap.Describe(k.Back, "clear the filter"),
			refresh:  keymap.Describe(k.Refresh, "fetch the keys again"),
			top:      keymap.Only(keymap.Describe(k.Top, "first row"), "home"),
		},
	}
	m.table = table.New(c, []table.Column{
		{Title: "NAME", Width: 20, Flex: 2},
		{Title: "ALGORITHM", Width: 12},
		{Title: "SECRET", Width: 20, Flex: 1},
	})
	m.table.Empty = "loading keys…"
	return m
}

// Title names the view.
func (m *Model) Title() string { return "Keys" }

// Modal reports whether a form, dialog, secret or filter has the keyboard.
func (m *Model) Modal() bool {
	return m.form != nil || m.dialog != nil || m.secret != nil || m.filter.Typing()
}

// SetSize sets the view's size.
func (m *Model) SetSize(width, height int) {
	m.Common.SetSize(width, height)
	m.table.SetSize(width, height-2)
	if m.form != nil {
		m.form.SetSize(min(width, 90), height)
	}
	if m.dialog != nil {
		m.dialog.SetSize(min(width, 90), height)
	}
}

// Keys lists the keys of the view as it is now.
func (m *Model) Keys() []key.Binding {
	switch {
	case m.form != nil:
		return m.form.Keys()
	case m.dialog != nil:
		return m.dialog.Keys()
	case m.secret != nil:
		return []key.Binding{keymap.Describe(m.KeyMap.Back, "close (the secret cannot be shown again)")}
	}
	k := m.table.Keys()
	k[4] = m.keys.top
	return append(k, m.keys.generate, m.keys.add, m.keys.remove, m.keys.filter, m.keys.back, m.keys.refresh)
}

func (m *Model) fetch() tea.Cmd {
	d := m.Daemon
	return m.Call(func(ctx context.Context) tea.Msg {
		ks, err := d.Keys(ctx)
		return listMsg{keys: ks, err: err}
	})
}

// Update handles a message.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case common.ConnectedMsg:
		return m.fetch()
	case common.EventsMsg:
		for _, ev := range msg.Events {
			if strings.HasPrefix(ev.Kind, "key-") {
				return m.fetch()
			}
		}
	case listMsg:
		if msg.err != nil {
			if !m.loaded {
				m.table.Empty = "cannot list the keys: " + msg.err.Error()
			}
			return common.Fail("listing the keys", msg.err)
		}
		m.loaded = true
		m.list = msg.keys
		m.table.Empty = "no TSIG keys: g generates one, a adds one you have"
		rows := make([]table.Row, len(msg.keys))
		for i, k := range msg.keys {
			rows[i] = table.Row{Key: k.Name, Cells: []string{k.Name, k.Algorithm, "hidden (shown once, when generated)"}}
		}
		m.table.SetRows(rows)
	case addDoneMsg:
		if msg.err != nil {
			if m.form != nil {
				m.form.Busy = false
				m.form.Message, m.form.Failed = msg.err.Error(), true
			}
			return common.Fail("adding a key", msg.err)
		}
		m.form = nil
		if msg.generated {
			m.secret = msg.key
		}
		return tea.Batch(m.fetch(), common.Info(fmt.Sprintf("added TSIG key %s (%s)", msg.key.Name, msg.key.Algorithm)))
	case removeDoneMsg:
		m.dialog = nil
		if msg.err != nil {
			return common.Fail("removing key "+msg.name, msg.err)
		}
		return tea.Batch(m.fetch(), common.Info("removed TSIG key "+msg.name))
	case tea.KeyMsg:
		return m.key(msg)
	}
	return nil
}

func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	switch {
	case m.secret != nil:
		if key.Matches(msg, m.KeyMap.Back, m.KeyMap.Open, m.KeyMap.Quit) {
			m.secret = nil
		}
		return nil
	case m.form != nil:
		return m.formKey(msg)
	case m.dialog != nil:
		switch m.dialog.Update(msg) {
		case dialog.Cancelled:
			m.dialog = nil
		case dialog.Confirmed:
			m.dialog.Busy = true
			r, _ := m.table.Selected()
			if r == nil {
				m.dialog = nil
				return nil
			}
			name, d := r.Key, m.Daemon
			return m.Call(func(ctx context.Context) tea.Msg {
				return removeDoneMsg{name: name, err: d.RemoveKey(ctx, name)}
			})
		}
		return nil
	case m.filter.Typing():
		if m.filter.Update(msg) {
			m.table.SetFilter(table.MatchText(m.filter.Query()))
		}
		return nil
	}
	if key.Matches(msg, m.keys.top) {
		m.table.Top()
		return nil
	}
	if !key.Matches(msg, m.KeyMap.Top) && m.table.HandleKey(msg) {
		return nil
	}
	switch {
	case key.Matches(msg, m.keys.generate):
		m.openForm(true)
	case key.Matches(msg, m.keys.add):
		m.openForm(false)
	case key.Matches(msg, m.keys.remove):
		if r, _ := m.table.Selected(); r != nil {
			m.dialog = dialog.New(m.Common, "Remove TSIG key "+r.Key+"?",
				"Transfers and NOTIFYs signed with this key will be refused from then on.",
				"The daemon refuses if a zone still names the key (its AXFR-MASTER-TSIG, TSIG-ALLOW-AXFR or --tsig).")
			m.dialog.Danger = true
			m.dialog.SetSize(min(m.Width, 90), m.Height)
		}
	case key.Matches(msg, m.keys.filter):
		m.filter.Start()
	case key.Matches(msg, m.keys.back):
		m.filter.Clear()
		m.table.SetFilter(nil)
	case key.Matches(msg, m.keys.refresh):
		return m.fetch()
	}
	return nil
}

func (m *Model) openForm(generate bool) {
	m.generate = generate
	fields := []*form.Field{
		form.Text("name", "Name", "e.g. transfer.example.org."),
		form.Choice("alg", "Algorithm", Algorithms...),
	}
	title := "Generate a TSIG key"
	if !generate {
		title = "Add a TSIG key"
		fields = append(fields, form.Secret("secret", "Secret", "base64, e.g. from the other server's config"))
	}
	m.form = form.New(m.Common, title, fields...)
	m.form.SetSize(min(m.Width, 90), m.Height)
	m.validate()
}

// validate checks the form's fields as they are typed.
func (m *Model) validate() {
	f := m.form
	for _, fl := range f.Fields {
		fl.Err, fl.Hint = "", ""
	}
	name := strings.TrimSpace(f.Field("name").Value())
	fq := strings.ToLower(dns.Fqdn(name))
	switch _, ok := dns.IsDomainName(fq); {
	case name == "":
		f.Field("name").Err = "give the key a name, e.g. transfer.example.org. (both sides must use the same)"
	case !ok || strings.Contains(fq, "..") || strings.ContainsAny(name, " \t\"();"):
		f.Field("name").Err = fmt.Sprintf("%q is not a domain name", name)
	default:
		for _, k := range m.list {
			if k.Name == fq {
				f.Field("name").Err = fq + " already exists: remove it first, or choose another name"
			}
		}
		if f.Field("name").Err == "" && name != fq {
			f.Field("name").Hint = "→ " + fq
		}
	}
	if s := f.Field("secret"); s != nil {
		v := strings.TrimSpace(s.Value())
		b, err := base64.StdEncoding.DecodeString(v)
		switch {
		case v == "":
			s.Err = "give the secret, in base64"
		case err != nil:
			s.Err = "not valid base64"
		case len(b) < minSecretBytes:
			s.Err = fmt.Sprintf("%d bytes: use at least %d (RFC 8945 §6)", len(b), minSecretBytes)
		default:
			s.Hint = fmt.Sprintf("%d bytes", len(b))
		}
	}
	if m.generate {
		f.Lines = []string{"The daemon generates a random secret as long as the algorithm's digest and shows it here once."}
	}
}

func (m *Model) formKey(msg tea.KeyMsg) tea.Cmd {
	act, cmd := m.form.Update(msg)
	switch act {
	case form.Cancel:
		m.form = nil
	case form.Changed:
		m.form.Message = ""
		m.validate()
	case form.Submit:
		if !m.form.Valid() {
			m.form.Message, m.form.Failed = "not sent: fix what is marked ✗ first", true
			return cmd
		}
		k := api.Key{Name: strings.TrimSpace(m.form.Field("name").Value()), Algorithm: m.form.Field("alg").Value()}
		if s := m.form.Field("secret"); s != nil {
			k.Secret = strings.TrimSpace(s.Value())
		}
		m.form.Busy = true
		m.form.Message, m.form.Failed = "sending…", false
		d, generated := m.Daemon, m.generate
		return tea.Batch(cmd, m.Call(func(ctx context.Context) tea.Msg {
			out, err := d.AddKey(ctx, k)
			if err == nil && out.Secret == "" && generated {
				err = fmt.Errorf("the daemon returned no secret for %s", out.Name)
			}
			return addDoneMsg{key: out, err: err, generated: generated}
		}))
	}
	return cmd
}

// SecretLines renders a generated key for the operator to copy: the
// secret alone on a line, then the same key as configuration for the
// other side, each short enough for an 80-column terminal.
func SecretLines(k *api.Key) []string {
	return []string{
		fmt.Sprintf("TSIG key %s (%s) was generated. Its secret is shown only now:", k.Name, k.Algorithm),
		"",
		k.Secret,
		"",
		"For the other side (BIND, Knot and PowerDNS read this form):",
		"",
		fmt.Sprintf(`key "%s" {`, k.Name),
		fmt.Sprintf("    algorithm %s;", k.Algorithm),
		fmt.Sprintf(`    secret "%s";`, k.Secret),
		"};",
		"",
		"For another zonekeeper:",
		"",
		fmt.Sprintf("zonekeeper key add %s --algorithm %s \\", k.Name, k.Algorithm),
		"    --secret " + k.Secret,
	}
}

// View renders the view.
func (m *Model) View() string {
	st := m.Styles
	w := m.Width
	switch {
	case m.form != nil:
		return m.form.View()
	case m.secret != nil:
		// Copyable lines are printed bare: no box border on their line,
		// so that a terminal selection takes nothing else.
		var b strings.Builder
		b.WriteString(st.Header.Render("Generated key") + "\n\n")
		for _, l := range SecretLines(m.secret) {
			if len(l) <= w {
				b.WriteString(l + "\n")
				continue
			}
			for _, part := range form.Wrap(l, w) {
				b.WriteString(part + "\n")
			}
		}
		b.WriteString("\n" + st.Dim.Render("esc/enter close · the daemon keeps the secret but never shows it again"))
		return b.String()
	}
	l1 := fmt.Sprintf("%d TSIG keys · secrets are never listed: a generated secret is shown once", len(m.list))
	if !m.loaded {
		l1 = "TSIG keys: loading…"
	}
	l2 := m.filter.View(w)
	if l2 == "" {
		l2 = st.Dim.Render(table.Fit("g generate · a add · d remove · / filter", w, table.Left))
	} else if !m.filter.Typing() {
		l2 = table.Fit(fmt.Sprintf("filter: %s · %d of %d · esc clears", m.filter.Query(), m.table.Len(), m.table.Total()), w, table.Left)
	}
	body := m.table.View()
	if m.dialog != nil {
		body = m.dialog.View()
	}
	return st.Header.Render(table.Fit(l1, w, table.Left)) + "\n" + l2 + "\n" + body
}
