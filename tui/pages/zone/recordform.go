package zone

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
	"zonekeeper/tui/common"
	"zonekeeper/tui/components/form"
)

// formTypes are the record types with a form of their own; "other"
// takes a type name and its data in zonefile syntax.
var formTypes = []string{"A", "AAAA", "CNAME", "MX", "NS", "PTR", "SRV", "TXT", "CAA", "other"}

// recordForm is the add/edit form of one record, validated as it is
// typed. It holds the edit request the form currently makes, or nil
// while any field is refused.
type recordForm struct {
	*form.Model
	zone     *api.ZoneDetail // the zone as loaded when the form opened
	base     uint32          // the serial the form is based on: sent as IfSerial
	now      func() time.Time
	orig     *api.Record // the record edited; nil when adding
	req      *api.EditRequest
	record   string // the record the form makes, in zonefile syntax
	problem  string // why the assembled record does not parse
	lastType string
}

// newRecordForm opens the form to add a record, or to edit orig.
func newRecordForm(c common.Common, z *api.ZoneDetail, orig *api.Record) *recordForm {
	f := &recordForm{zone: z, base: z.Serial, now: c.Now, orig: orig}
	title := "Add a record to " + z.Name
	if orig != nil {
		title = "Edit a record of " + z.Name
	}
	f.Model = form.New(c, title)
	typ := "A"
	if orig != nil {
		typ = orig.Type
		if !isFormType(typ) {
			typ = "other"
		}
	}
	f.build(typ)
	if orig != nil {
		f.prefill(orig)
	}
	f.FocusID("name")
	if orig != nil {
		f.FocusID(firstDataField(typ))
	}
	f.validate()
	return f
}

func isFormType(t string) bool {
	for _, ft := range formTypes {
		if ft == t && t != "other" {
			return true
		}
	}
	return false
}

func firstDataField(typ string) string {
	switch typ {
	case "A", "AAAA":
		return "addr"
	case "CNAME", "NS", "PTR":
		return "target"
	case "MX":
		return "pref"
	case "SRV":
		return "prio"
	case "TXT":
		return "text"
	case "CAA":
		return "flags"
	}
	return "data"
}

// build lays out the fields of a record type, keeping the values of
// fields that stay (by ID).
func (f *recordForm) build(typ string) {
	keep := map[string]string{}
	for _, fl := range f.Fields {
		keep[fl.ID] = fl.Value()
	}
	name := form.Text("name", "Name", "@ for the apex, or www")
	typeField := form.Choice("type", "Type", formTypes...)
	typeField.SetValue(typ)
	ttl := form.Text("ttl", "TTL", "empty: the RRset's TTL, else the zone's")
	fields := []*form.Field{name, typeField}
	if typ == "other" {
		fields = append(fields, form.Text("rtype", "Record type", "e.g. SSHFP, TLSA, DS, SOA"))
	}
	fields = append(fields, ttl)
	switch typ {
	case "A":
		fields = append(fields, form.Text("addr", "Address", "IPv4, e.g. 192.0.2.10"))
	case "AAAA":
		fields = append(fields, form.Text("addr", "Address", "IPv6, e.g. 2001:db8::10"))
	case "CNAME":
		fields = append(fields, form.Text("target", "Target", "www, or host.example.net."))
	case "NS":
		fields = append(fields, form.Text("target", "Name server", "ns1, or ns1.example.net."))
	case "PTR":
		fields = append(fields, form.Text("target", "Points to", "host.example.org."))
	case "MX":
		fields = append(fields,
			form.Text("pref", "Preference", "10"),
			form.Text("target", "Mail server", "mail, or mx.example.net."))
	case "SRV":
		fields = append(fields,
			form.Text("prio", "Priority", "10"),
			form.Text("weight", "Weight", "5"),
			form.Text("port", "Port", "5060"),
			form.Text("target", "Target", "sip, or sip.example.net."))
	case "TXT":
		fields = append(fields, form.Text("text", "Text", "v=spf1 mx -all (quotes are added)"))
	case "CAA":
		fields = append(fields,
			form.Text("flags", "Flags", "0"),
			form.Text("tag", "Tag", "issue, issuewild or iodef"),
			form.Text("value", "Value", "letsencrypt.org"))
	default:
		fields = append(fields, form.Text("data", "Data", "the record data in zonefile syntax"))
	}
	for _, fl := range fields {
		if v, ok := keep[fl.ID]; ok && fl.ID != "type" {
			fl.SetValue(v)
		}
	}
	f.SetFields(fields)
	f.lastType = typ
	if f.orig != nil {
		f.Field("name").Locked = true
		f.Field("type").Locked = true
		if r := f.Field("rtype"); r != nil {
			r.Locked = true
		}
	}
}

// prefill fills the fields from an existing record.
func (f *recordForm) prefill(r *api.Record) {
	f.Field("name").SetValue(common.RelativeName(r.Name, f.zone.Name))
	f.Field("ttl").SetValue(strconv.FormatUint(uint64(r.TTL), 10))
	if fl := f.Field("rtype"); fl != nil {
		fl.SetValue(r.Type)
	}
	set := func(id, v string) {
		if fl := f.Field(id); fl != nil {
			fl.SetValue(v)
		}
	}
	rr, err := dns.NewRR(fmt.Sprintf("$ORIGIN %s\n%s %d IN %s %s", f.zone.Name, r.Name, r.TTL, r.Type, r.Data))
	if err != nil || rr == nil {
		set("data", r.Data)
		return
	}
	rel := func(n string) string { return common.RelativeName(n, f.zone.Name) }
	switch rr := rr.(type) {
	case *dns.A:
		set("addr", rr.A.String())
	case *dns.AAAA:
		set("addr", rr.AAAA.String())
	case *dns.CNAME:
		set("target", rel(rr.Target))
	case *dns.NS:
		set("target", rel(rr.Ns))
	case *dns.PTR:
		set("target", rr.Ptr)
	case *dns.MX:
		set("pref", strconv.Itoa(int(rr.Preference)))
		set("target", rel(rr.Mx))
	case *dns.SRV:
		set("prio", strconv.Itoa(int(rr.Priority)))
		set("weight", strconv.Itoa(int(rr.Weight)))
		set("port", strconv.Itoa(int(rr.Port)))
		set("target", rel(rr.Target))
	case *dns.TXT:
		set("text", strings.Join(rr.Txt, ""))
	case *dns.CAA:
		set("flags", strconv.Itoa(int(rr.Flag)))
		set("tag", rr.Tag)
		set("value", rr.Value)
	default:
		set("data", r.Data)
	}
}

// changed re-lays the form when the type changed, then validates.
func (f *recordForm) changed() {
	if t := f.Field("type").Value(); t != f.lastType {
		f.build(t)
	}
	f.validate()
}

// rebase makes the form send the zone's current serial.
func (f *recordForm) rebase(z *api.ZoneDetail) {
	f.zone = z
	f.base = z.Serial
	f.validate()
}

// recordType is the type the form makes.
func (f *recordForm) recordType() string {
	t := f.Field("type").Value()
	if t == "other" {
		return strings.ToUpper(strings.TrimSpace(f.Field("rtype").Value()))
	}
	return t
}

// validate checks every field, assembles the record, parses it with
// $ORIGIN set to the zone, and sets the request, the preview and the
// resulting serial.
func (f *recordForm) validate() {
	for _, fl := range f.Fields {
		fl.Err, fl.Hint = "", ""
	}
	f.req, f.record, f.problem = nil, "", ""
	origin := f.zone.Name
	typ := f.recordType()

	owner, err := ownerName(f.Field("name").Value(), origin)
	if err != nil {
		f.Field("name").Err = err.Error()
	} else if rel := f.Field("name").Value(); !strings.HasSuffix(rel, ".") {
		f.Field("name").Hint = "→ " + owner
	}
	if fl := f.Field("rtype"); fl != nil {
		if _, err := typeCode(typ); err != nil {
			fl.Err = err.Error()
		} else if typ == "SOA" {
			fl.Hint = "the serial you give is replaced by the serial policy's"
		}
	}
	ttlText := strings.TrimSpace(f.Field("ttl").Value())
	ttl, ttlGiven, err := parseTTL(ttlText)
	set := f.rrset(owner, typ)
	switch {
	case err != nil:
		f.Field("ttl").Err = err.Error()
	case !ttlGiven && len(set) > 0:
		ttl = set[0].TTL
		f.Field("ttl").Hint = fmt.Sprintf("%d: the RRset's TTL", ttl)
	case !ttlGiven:
		ttl = f.defaultTTL()
		f.Field("ttl").Hint = fmt.Sprintf("%d: the zone's default", ttl)
	default:
		others := 0
		differ := false
		for _, r := range set {
			if f.orig == nil || r != *f.orig {
				others++
				differ = differ || r.TTL != ttl
			}
		}
		if differ {
			f.Field("ttl").Hint = fmt.Sprintf("applies to the whole RRset: its %d other record(s) too (RFC 2181 §5.2)", others)
		}
	}

	rdata := f.rdata(typ)
	if !f.Valid() {
		f.preview()
		return
	}
	text := fmt.Sprintf("$ORIGIN %s\n%s %d IN %s %s", origin, owner, ttl, typ, rdata)
	rr, err := dns.NewRR(text)
	switch {
	case err != nil:
		f.problem = parseProblem(err)
	case rr == nil:
		f.problem = "no record: give the record's data"
	}
	if f.problem != "" {
		f.preview()
		return
	}
	data := strings.TrimPrefix(rr.String(), rr.Header().String())
	f.record = rr.String()
	req := &api.EditRequest{Op: api.EditAdd, Name: owner, Type: typ, Data: []string{data}}
	if ttlGiven {
		req.TTL = &ttl
	}
	base := f.base
	req.IfSerial = &base
	if f.orig != nil {
		// One record of an RRset changes: the RRset is replaced by its
		// other records and the new one, in one edit.
		req.Op = api.EditSet
		var others []string
		same := false
		for _, r := range set {
			if r == *f.orig {
				if f.sameData(r, rr) && (!ttlGiven || ttl == r.TTL) {
					same = true
				}
				continue
			}
			others = append(others, r.Data)
		}
		if same {
			f.problem = "nothing changed"
		}
		req.Data = append(others, data)
	} else {
		for _, r := range set {
			if f.sameData(r, rr) {
				f.problem = "this record is already in the zone"
			}
		}
		if p := f.cnameConflict(owner, typ); p != "" {
			f.problem = p
		}
	}
	if f.problem == "" {
		f.req = req
	}
	f.preview()
}

// preview sets the lines under the fields: the record, what it
// replaces, and the serial that will result.
func (f *recordForm) preview() {
	var lines []string
	switch {
	case f.problem != "":
		lines = append(lines, "✗ "+f.problem)
	case f.record != "":
		lines = append(lines, "record: "+strings.ReplaceAll(f.record, "\t", " "))
	default:
		lines = append(lines, "record: (fix the fields marked ✗)")
	}
	if f.orig != nil {
		lines = append(lines, fmt.Sprintf("replaces: %s %d %s %s", f.orig.Name, f.orig.TTL, f.orig.Type, f.orig.Data))
	}
	next := nextSerial(f.base, f.zone.SerialPolicy, f.now())
	lines = append(lines, fmt.Sprintf("serial %d → %d (%s); refused if the zone is no longer at %d", f.base, next, f.zone.SerialPolicy, f.base))
	f.Lines = lines
}

// Ready reports whether the form makes a request that may be sent.
func (f *recordForm) Ready() bool { return f.req != nil }

// defaultTTL is the zone's default TTL: its SOA's.
func (f *recordForm) defaultTTL() uint32 {
	for _, r := range f.zone.Records {
		if r.Type == "SOA" && strings.EqualFold(r.Name, f.zone.Name) {
			return r.TTL
		}
	}
	return 3600
}

// rrset returns the records of the zone at owner with type typ.
func (f *recordForm) rrset(owner, typ string) []api.Record {
	if owner == "" || typ == "" {
		return nil
	}
	var out []api.Record
	for _, r := range f.zone.Records {
		if r.Type == typ && strings.EqualFold(r.Name, owner) {
			out = append(out, r)
		}
	}
	return out
}

// sameData reports whether record r of the zone has the data of rr.
func (f *recordForm) sameData(r api.Record, rr dns.RR) bool {
	other, err := dns.NewRR(fmt.Sprintf("$ORIGIN %s\n%s %d IN %s %s", f.zone.Name, r.Name, r.TTL, r.Type, r.Data))
	return err == nil && other != nil && dns.IsDuplicate(other, rr)
}

// cnameConflict says why a record cannot be added beside the records at
// owner: a CNAME stands alone (RFC 1034 §3.6.2).
func (f *recordForm) cnameConflict(owner, typ string) string {
	for _, r := range f.zone.Records {
		if !strings.EqualFold(r.Name, owner) {
			continue
		}
		switch {
		case typ == "CNAME" && r.Type == "CNAME":
			return owner + " already has a CNAME; edit it instead"
		case typ == "CNAME" && r.Type != "RRSIG" && r.Type != "NSEC":
			return owner + " has " + r.Type + " data: a CNAME must stand alone"
		case typ != "CNAME" && r.Type == "CNAME":
			return owner + " is a CNAME: it cannot have " + typ + " data too"
		}
	}
	return ""
}

// rdata validates the data fields of typ and returns the record data in
// zonefile syntax.
func (f *recordForm) rdata(typ string) string {
	val := func(id string) string {
		if fl := f.Field(id); fl != nil {
			return strings.TrimSpace(fl.Value())
		}
		return ""
	}
	fail := func(id, format string, args ...any) {
		if fl := f.Field(id); fl != nil && fl.Err == "" {
			fl.Err = fmt.Sprintf(format, args...)
		}
	}
	target := func(id string) string {
		v := val(id)
		abs, err := targetName(v, f.zone.Name)
		if err != nil {
			fail(id, "%v", err)
			return ""
		}
		switch {
		case strings.HasSuffix(v, ".") || v == "@":
		case strings.Contains(v, "."):
			f.Field(id).Hint = "→ " + abs + " (relative to the zone; end it with a dot for " + v + ".)"
		default:
			f.Field(id).Hint = "→ " + abs
		}
		return abs
	}
	number := func(id, what string, maxv uint64) string {
		v := val(id)
		if v == "" {
			fail(id, "give the %s (0 to %d)", what, maxv)
			return ""
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n > maxv {
			fail(id, "%q is not a %s: a number from 0 to %d", v, what, maxv)
			return ""
		}
		return strconv.FormatUint(n, 10)
	}
	switch f.Field("type").Value() {
	case "A":
		v := val("addr")
		a, err := netip.ParseAddr(v)
		switch {
		case v == "":
			fail("addr", "give an IPv4 address, e.g. 192.0.2.10")
		case err != nil || !a.Is4():
			if err == nil && a.Is6() {
				fail("addr", "%s is an IPv6 address: choose type AAAA", v)
			} else {
				fail("addr", "%q is not an IPv4 address (four numbers 0-255, e.g. 192.0.2.10)", v)
			}
		default:
			return a.String()
		}
	case "AAAA":
		v := val("addr")
		a, err := netip.ParseAddr(v)
		switch {
		case v == "":
			fail("addr", "give an IPv6 address, e.g. 2001:db8::10")
		case err == nil && a.Is4():
			fail("addr", "%s is an IPv4 address: choose type A", v)
		case err != nil || a.Zone() != "":
			fail("addr", "%q is not an IPv6 address (e.g. 2001:db8::10)", v)
		default:
			return a.String()
		}
	case "CNAME", "NS", "PTR":
		return target("target")
	case "MX":
		p := number("pref", "preference", 65535)
		t := target("target")
		return p + " " + t
	case "SRV":
		p := number("prio", "priority", 65535)
		w := number("weight", "weight", 65535)
		port := number("port", "port", 65535)
		t := target("target")
		return p + " " + w + " " + port + " " + t
	case "TXT":
		v := f.Field("text").Value()
		if strings.HasPrefix(strings.TrimSpace(v), `"`) {
			f.Field("text").Hint = "starts with a quote: taken as zonefile syntax"
			return strings.TrimSpace(v)
		}
		chunks := txtStrings(v)
		if len(chunks) > 1 {
			f.Field("text").Hint = fmt.Sprintf("%d bytes: sent as %d strings of up to 255 bytes", len(v), len(chunks))
		}
		return strings.Join(chunks, " ")
	case "CAA":
		fl := number("flags", "flag byte", 255)
		tag := val("tag")
		if !caaTagRE.MatchString(tag) {
			fail("tag", "the tag is letters and digits: issue, issuewild or iodef")
		}
		v := val("value")
		if v == "" {
			fail("value", "give the value, e.g. letsencrypt.org")
		}
		return fl + " " + tag + " " + quote(v)
	default:
		v := val("data")
		if v == "" {
			fail("data", "give the record data in zonefile syntax")
		}
		return v
	}
	return ""
}

var caaTagRE = regexp.MustCompile(`^[A-Za-z0-9]+$`)

// txtStrings quotes text as TXT character-strings of at most 255 bytes.
func txtStrings(s string) []string {
	var out []string
	b := []byte(s)
	for len(b) > 255 {
		out = append(out, quote(string(b[:255])))
		b = b[255:]
	}
	return append(out, quote(string(b)))
}

// quote makes s one zonefile character-string.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

// ownerName resolves the Name field: "@", relative to the zone, or
// absolute; it must be in the zone.
func ownerName(in, origin string) (string, error) {
	in = strings.TrimSpace(in)
	if in == "" {
		return "", fmt.Errorf("give a name: @ for the apex, or a name such as www")
	}
	abs, err := targetName(in, origin)
	if err != nil {
		return "", err
	}
	if !dns.IsSubDomain(origin, abs) {
		return "", fmt.Errorf("%s is not in zone %s", abs, origin)
	}
	return abs, nil
}

// targetName resolves a domain name typed in a field.
func targetName(in, origin string) (string, error) {
	in = strings.TrimSpace(in)
	var abs string
	switch {
	case in == "":
		return "", fmt.Errorf("give a domain name")
	case in == "@":
		abs = origin
	case strings.HasSuffix(in, ".") && !strings.HasSuffix(in, `\.`):
		abs = in
	default:
		abs = in + "." + origin
	}
	if strings.ContainsAny(in, " \t\"();") {
		return "", fmt.Errorf("%q is not a domain name: no spaces, quotes, parentheses or semicolons", in)
	}
	if _, ok := dns.IsDomainName(abs); !ok || strings.Contains(abs, "..") {
		return "", fmt.Errorf("%q is not a valid domain name", in)
	}
	return abs, nil
}

// typeCode checks a record type name.
func typeCode(t string) (uint16, error) {
	if t == "" {
		return 0, fmt.Errorf("give the record type, e.g. SSHFP")
	}
	if c, ok := dns.StringToType[t]; ok {
		return c, nil
	}
	if n, err := strconv.ParseUint(strings.TrimPrefix(t, "TYPE"), 10, 16); err == nil && strings.HasPrefix(t, "TYPE") {
		return uint16(n), nil
	}
	return 0, fmt.Errorf("%q is not a record type zonekeeper knows", t)
}

// parseTTL reads a TTL: seconds, or units as in zonefiles (1h30m, 2d).
func parseTTL(s string) (ttl uint32, given bool, err error) {
	if s == "" {
		return 0, false, nil
	}
	var total, cur uint64
	digits := false
	for _, c := range strings.ToLower(s) {
		switch {
		case c >= '0' && c <= '9':
			cur = cur*10 + uint64(c-'0')
			digits = true
		case digits && strings.ContainsRune("smhdw", c):
			total += cur * map[rune]uint64{'s': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800}[c]
			cur, digits = 0, false
		default:
			return 0, true, fmt.Errorf("%q is not a TTL: seconds, or units such as 1h30m", s)
		}
		if total+cur > 1<<31-1 {
			return 0, true, fmt.Errorf("%s is above 2147483647 seconds (RFC 2181 §8)", s)
		}
	}
	return uint32(total + cur), true, nil
}

// atLine matches the position miekg/dns adds to its parse errors; it
// points into the assembled text, not at anything the operator typed.
var atLine = regexp.MustCompile(`\s*at line: \d+:\d+`)

// parseProblem turns a parse error into a message.
func parseProblem(err error) string {
	msg := atLine.ReplaceAllString(err.Error(), "")
	msg = strings.TrimPrefix(msg, "dns: ")
	return "the record does not parse: " + msg
}
