package zone

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"

	"zonekeeper/daemon/api"
	"zonekeeper/tui/common"
	"zonekeeper/tui/keymap"
	"zonekeeper/tui/styles"
)

// testCommon is the shared struct of a view rendered without a daemon.
func testCommon() common.Common {
	return common.Common{
		Styles: styles.New(lipgloss.NewRenderer(nil), true),
		KeyMap: keymap.Default(),
		Now:    func() time.Time { return time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC) },
		Loc:    time.UTC,
		Width:  80, Height: 22,
	}
}

func testZone() *api.ZoneDetail {
	o := "example.org."
	return &api.ZoneDetail{
		Zone: api.Zone{Name: o, Kind: api.KindPrimary, State: api.StateServing, Serial: 2026112101, SerialPolicy: api.SerialIncrement},
		Records: []api.Record{
			{Name: o, TTL: 3600, Type: "SOA", Data: "ns1.example.org. hostmaster.example.org. 2026112101 3600 900 1209600 300"},
			{Name: o, TTL: 3600, Type: "NS", Data: "ns1.example.org."},
			{Name: o, TTL: 3600, Type: "MX", Data: "10 mail.example.org."},
			{Name: "ns1." + o, TTL: 3600, Type: "A", Data: "127.0.0.1"},
			{Name: "www." + o, TTL: 600, Type: "A", Data: "127.0.0.80"},
			{Name: "www." + o, TTL: 600, Type: "A", Data: "127.0.0.81"},
			{Name: "ftp." + o, TTL: 3600, Type: "CNAME", Data: "www.example.org."},
		},
	}
}

// fill opens an add form and sets its fields: "type" first, then the rest.
func fill(t *testing.T, values map[string]string) *recordForm {
	t.Helper()
	f := newRecordForm(testCommon(), testZone(), nil)
	if typ, ok := values["type"]; ok {
		f.Field("type").SetValue(typ)
		f.changed()
	}
	for id, v := range values {
		if id == "type" {
			continue
		}
		fl := f.Field(id)
		if fl == nil {
			t.Fatalf("no field %q for type %s", id, values["type"])
		}
		fl.SetValue(v)
	}
	f.changed()
	return f
}

func TestTUIRecordFormValidation(t *testing.T) {
	tests := []struct {
		name    string
		values  map[string]string
		field   string // the field that must be refused, or ""
		problem string // what the form must say about the record, or ""
		data    string // the data sent, when valid
		ttl     uint32 // the TTL sent, 0 for none
		op      string
	}{
		{name: "A", values: map[string]string{"name": "host", "addr": "192.0.2.10"}, data: "192.0.2.10"},
		{name: "A absolute name", values: map[string]string{"name": "host.example.org.", "addr": "192.0.2.10"}, data: "192.0.2.10"},
		{name: "A bad address", values: map[string]string{"name": "host", "addr": "192.0.2"}, field: "addr"},
		{name: "A given IPv6", values: map[string]string{"name": "host", "addr": "2001:db8::1"}, field: "addr"},
		{name: "A empty", values: map[string]string{"name": "host"}, field: "addr"},
		{name: "name outside the zone", values: map[string]string{"name": "host.example.com.", "addr": "192.0.2.1"}, field: "name"},
		{name: "name with a space", values: map[string]string{"name": "a b", "addr": "192.0.2.1"}, field: "name"},
		{name: "empty name", values: map[string]string{"addr": "192.0.2.1"}, field: "name"},
		{name: "TTL with units", values: map[string]string{"name": "host", "ttl": "1h30m", "addr": "192.0.2.1"}, data: "192.0.2.1", ttl: 5400},
		{name: "TTL too big", values: map[string]string{"name": "host", "ttl": "3000000000", "addr": "192.0.2.1"}, field: "ttl"},
		{name: "TTL not a number", values: map[string]string{"name": "host", "ttl": "soon", "addr": "192.0.2.1"}, field: "ttl"},
		{name: "AAAA", values: map[string]string{"type": "AAAA", "name": "host", "addr": "2001:db8::10"}, data: "2001:db8::10"},
		{name: "AAAA given IPv4", values: map[string]string{"type": "AAAA", "name": "host", "addr": "192.0.2.1"}, field: "addr"},
		{name: "MX", values: map[string]string{"type": "MX", "name": "@", "pref": "20", "target": "mx2"}, data: "20 mx2.example.org."},
		{name: "MX bad preference", values: map[string]string{"type": "MX", "name": "@", "pref": "70000", "target": "mx2"}, field: "pref"},
		{name: "MX duplicate", values: map[string]string{"type": "MX", "name": "@", "pref": "10", "target": "mail"}, problem: "already in the zone"},
		{name: "CNAME", values: map[string]string{"type": "CNAME", "name": "docs", "target": "www"}, data: "www.example.org."},
		{name: "CNAME beside data", values: map[string]string{"type": "CNAME", "name": "www", "target": "ftp"}, problem: "must stand alone"},
		{name: "data beside a CNAME", values: map[string]string{"name": "ftp", "addr": "192.0.2.9"}, problem: "is a CNAME"},
		{name: "CNAME bad target", values: map[string]string{"type": "CNAME", "name": "docs", "target": "a..b"}, field: "target"},
		{name: "NS", values: map[string]string{"type": "NS", "name": "sub", "target": "ns.example.net."}, data: "ns.example.net."},
		{name: "TXT quoted for you", values: map[string]string{"type": "TXT", "name": "@", "text": `say "hi" \o/`}, data: `"say \"hi\" \\o/"`},
		{name: "TXT long", values: map[string]string{"type": "TXT", "name": "@", "text": strings.Repeat("x", 300)}, data: `"` + strings.Repeat("x", 255) + `" "` + strings.Repeat("x", 45) + `"`},
		{name: "SRV", values: map[string]string{"type": "SRV", "name": "_sip._udp", "prio": "10", "weight": "5", "port": "5060", "target": "sip"}, data: "10 5 5060 sip.example.org."},
		{name: "SRV bad port", values: map[string]string{"type": "SRV", "name": "_sip._udp", "prio": "10", "weight": "5", "port": "x", "target": "sip"}, field: "port"},
		{name: "CAA", values: map[string]string{"type": "CAA", "name": "@", "flags": "0", "tag": "issue", "value": "letsencrypt.org"}, data: `0 issue "letsencrypt.org"`},
		{name: "CAA bad tag", values: map[string]string{"type": "CAA", "name": "@", "flags": "0", "tag": "is-sue", "value": "x"}, field: "tag"},
		{name: "other", values: map[string]string{"type": "other", "rtype": "SSHFP", "name": "host", "data": "1 1 dd465c09cfa51fb45020cc83316fff21b9ec74ac"}, data: "1 1 DD465C09CFA51FB45020CC83316FFF21B9EC74AC"},
		{name: "other bad data", values: map[string]string{"type": "other", "rtype": "SSHFP", "name": "host", "data": "one two"}, problem: "does not parse"},
		{name: "other unknown type", values: map[string]string{"type": "other", "rtype": "FOO", "name": "host", "data": "x"}, field: "rtype"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fill(t, tt.values)
			var refused []string
			for _, fl := range f.Fields {
				if fl.Err != "" {
					refused = append(refused, fl.ID+": "+fl.Err)
				}
			}
			switch {
			case tt.field != "":
				if fl := f.Field(tt.field); fl.Err == "" {
					t.Errorf("field %s accepted; refused: %v", tt.field, refused)
				}
				if f.Ready() {
					t.Errorf("the form is ready to send %+v", f.req)
				}
			case tt.problem != "":
				if !strings.Contains(f.problem, tt.problem) {
					t.Errorf("problem %q, want %q (refused: %v)", f.problem, tt.problem, refused)
				}
				if f.Ready() {
					t.Errorf("the form is ready to send %+v", f.req)
				}
			default:
				if !f.Ready() {
					t.Fatalf("not ready: %v; problem %q", refused, f.problem)
				}
				if f.req.Op != api.EditAdd || len(f.req.Data) != 1 || f.req.Data[0] != tt.data {
					t.Errorf("request %+v, want data %q", f.req, tt.data)
				}
				if f.req.IfSerial == nil || *f.req.IfSerial != 2026112101 {
					t.Errorf("IfSerial %v, want 2026112101", f.req.IfSerial)
				}
				if (tt.ttl == 0) != (f.req.TTL == nil) || (f.req.TTL != nil && *f.req.TTL != tt.ttl) {
					t.Errorf("TTL %v, want %d", f.req.TTL, tt.ttl)
				}
				if !strings.Contains(strings.Join(f.Lines, "\n"), "serial 2026112101 → 2026112102") {
					t.Errorf("preview %q does not show the resulting serial", f.Lines)
				}
			}
		})
	}
}

func TestTUIRecordFormEditReplacesOneRecordOfTheSet(t *testing.T) {
	z := testZone()
	orig := z.Records[5] // www A 127.0.0.81
	f := newRecordForm(testCommon(), z, &orig)
	if f.Field("addr").Value() != "127.0.0.81" || f.Field("name").Value() != "www" {
		t.Fatalf("prefilled name %q addr %q", f.Field("name").Value(), f.Field("addr").Value())
	}
	if f.Ready() {
		t.Fatalf("an unchanged record is ready to send: %+v", f.req)
	}
	if !strings.Contains(f.problem, "nothing changed") {
		t.Errorf("problem %q", f.problem)
	}
	f.Field("addr").SetValue("127.0.0.82")
	f.changed()
	if !f.Ready() {
		t.Fatalf("not ready: %q", f.problem)
	}
	if f.req.Op != api.EditSet || strings.Join(f.req.Data, ",") != "127.0.0.80,127.0.0.82" {
		t.Errorf("request %+v", f.req)
	}
	if !f.Field("name").Locked || !f.Field("type").Locked {
		t.Error("name and type are editable in an edit")
	}
}

func TestTUIRecordFormKeepsValuesAcrossTypes(t *testing.T) {
	f := fill(t, map[string]string{"type": "CNAME", "name": "docs", "target": "www"})
	f.Field("type").SetValue("NS")
	f.changed()
	if f.Field("target").Value() != "www" || f.Field("name").Value() != "docs" {
		t.Errorf("values lost: name %q target %q", f.Field("name").Value(), f.Field("target").Value())
	}
}
