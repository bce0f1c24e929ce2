package zone

// The actions of the zone view that reach the daemon: record edits,
// deletes, retrieve, notify and promote, and the record form.

import (
	"context"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"zonekeeper/daemon/api"
	"zonekeeper/tui/common"
	"zonekeeper/tui/components/dialog"
	"zonekeeper/tui/components/failover"
	"zonekeeper/tui/components/form"
)

// readOnly explains why the zone cannot be edited, or returns nil.
func (m *Model) readOnly() tea.Cmd {
	switch {
	case m.detail.Kind == api.KindSecondary:
		return common.Info(m.name + " is a secondary zone: read-only here; edit it on its primary, or promote it (p)")
	case m.detail.State != api.StateServing:
		return common.Info(m.name + " is " + m.detail.State + ": fix its zonefile first")
	}
	return nil
}

// selected returns the record under the cursor.
func (m *Model) selected() *api.Record {
	_, i := m.table.Selected()
	if i < 0 || m.detail == nil || i >= len(m.detail.Records) {
		return nil
	}
	return &m.detail.Records[i]
}

func (m *Model) openForm(orig *api.Record) {
	m.form = newRecordForm(m.Common, m.detail, orig)
	m.form.Extra = []key.Binding{m.KeyMap.Rebase}
	m.form.SetSize(min(m.Width, 100), m.Height)
}

func (m *Model) formKey(msg tea.KeyMsg) tea.Cmd {
	if key.Matches(msg, m.KeyMap.Rebase) {
		if m.detail != nil {
			m.form.rebase(m.detail)
			m.form.Message, m.form.Failed = fmt.Sprintf("based on serial %d now: review and send again", m.detail.Serial), false
		}
		return nil
	}
	act, cmd := m.form.Update(msg)
	switch act {
	case form.Cancel:
		m.form = nil
	case form.Changed:
		m.form.Message = ""
		m.form.changed()
	case form.Submit:
		if !m.form.Ready() {
			m.form.Message, m.form.Failed = "not sent: fix what is marked ✗ first", true
			return cmd
		}
		m.form.Busy = true
		m.form.Message, m.form.Failed = "sending…", false
		return tea.Batch(cmd, m.send(m.form.req, describe(m.form.req)))
	}
	return cmd
}

// describe says what an edit request does, for the status line.
func describe(req *api.EditRequest) string {
	switch req.Op {
	case api.EditAdd:
		return fmt.Sprintf("added %s %s %s", req.Name, req.Type, strings.Join(req.Data, " "))
	case api.EditSet:
		return fmt.Sprintf("changed %s %s", req.Name, req.Type)
	}
	return fmt.Sprintf("deleted %s %s %s", req.Name, req.Type, strings.Join(req.Data, " "))
}

// send sends one edit.
func (m *Model) send(req *api.EditRequest, what string) tea.Cmd {
	d, zone, r := m.Daemon, m.name, *req
	return m.Call(func(ctx context.Context) tea.Msg {
		res, err := d.Edit(ctx, zone, r)
		return editDoneMsg{what: what, res: res, err: err}
	})
}

func (m *Model) editDone(msg editDoneMsg) tea.Cmd {
	if msg.err != nil {
		text := msg.err.Error()
		if common.ErrorCode(msg.err) == api.CodeConflict {
			text = "conflict, nothing was overwritten: " + text + ". The zone is being reloaded; ctrl+r bases the form on its current serial."
		}
		switch {
		case m.form != nil:
			m.form.Busy = false
			m.form.Message, m.form.Failed = text, true
		case m.dialog != nil:
			m.dialog = nil
		}
		return tea.Batch(common.Fail("edit of "+m.name, msg.err), m.load())
	}
	m.form, m.dialog = nil, nil
	m.expect = msg.res.NewSerial
	info := fmt.Sprintf("%s · serial %d → %d", msg.what, msg.res.OldSerial, msg.res.NewSerial)
	return tea.Batch(common.Info(info), m.load())
}

func (m *Model) confirmDelete(r api.Record) tea.Cmd {
	if r.Type == "SOA" {
		return common.Info("a zone keeps its one SOA: edit it (e) instead")
	}
	next := nextSerial(m.detail.Serial, m.detail.SerialPolicy, m.Now())
	m.dialog = dialog.New(m.Common, "Delete this record from "+m.name+"?",
		fmt.Sprintf("%s %d %s %s", r.Name, r.TTL, r.Type, r.Data),
		fmt.Sprintf("serial %d → %d (policy %s); refused if the zone changed meanwhile", m.detail.Serial, next, m.detail.SerialPolicy),
	)
	m.dialog.Danger = true
	m.dialog.SetSize(min(m.Width, 90), m.Height)
	base := m.detail.Serial
	req := &api.EditRequest{Op: api.EditDelete, Name: r.Name, Type: r.Type, Data: []string{r.Data}, IfSerial: &base}
	m.onYes = func() tea.Cmd { return m.send(req, describe(req)) }
	return nil
}

func (m *Model) retrieve() tea.Cmd {
	d, zone := m.Daemon, m.name
	return m.Call(func(ctx context.Context) tea.Msg {
		z, err := d.Retrieve(ctx, zone)
		if err != nil {
			return actionDoneMsg{what: "retrieving " + zone, err: err}
		}
		return actionDoneMsg{text: fmt.Sprintf("retrieved %s: serial %d", zone, z.Serial)}
	})
}

func (m *Model) notify() tea.Cmd {
	d, zone := m.Daemon, m.name
	return m.Call(func(ctx context.Context) tea.Msg {
		r, err := d.Notify(ctx, zone, "")
		if err != nil {
			return actionDoneMsg{what: "NOTIFY of " + zone, err: err}
		}
		answered := 0
		for _, t := range r.Targets {
			if t.Error == "" {
				answered++
			}
		}
		return actionDoneMsg{text: fmt.Sprintf("NOTIFY %s serial %d: %d of %d targets answered", zone, r.Serial, answered, len(r.Targets))}
	})
}

func (m *Model) openPromote() {
	plan := failover.PromotePlan{Zones: []api.Zone{m.detail.Zone}, Peers: m.peers, PeersErr: m.peerErr}
	m.dialog = dialog.New(m.Common, plan.Title(), plan.Lines()...)
	m.dialog.Danger = true
	m.dialog.SetSize(min(m.Width, 90), m.Height)
	p, ok := m.Daemon.(common.Promoter)
	if !ok {
		m.dialog.Disabled = failover.Unavailable
		return
	}
	zone := m.name
	m.onYes = func() tea.Cmd {
		return m.Call(func(ctx context.Context) tea.Msg {
			r, err := p.Promote(ctx, zone)
			if err != nil {
				return actionDoneMsg{what: "promoting " + zone, err: err}
			}
			text, err := failover.PromoteOutcome(r)
			if err != nil {
				return actionDoneMsg{what: "promoting " + zone, err: err}
			}
			return actionDoneMsg{text: text}
		})
	}
}
