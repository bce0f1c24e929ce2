package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"zonekeeper/daemon/answer"

	"github.com/miekg/dns"
	lua "github.com/yuin/gopher-lua"

	"zonekeeper/store"
	"zonekeeper/zonefile"
)

// AXFR filter scripts: a zone's LUA-AXFR-SCRIPT metadata names a Lua
// file whose function
//
//	axfrfilter(remoteip, zone, qname, qtype, ttl, prio, content)
//
// is called for every record of an incoming AXFR, as PowerDNS does. It
// returns pdns.PASS (keep the record), pdns.DROP (drop it) or 0 and a
// list of replacement records, tables whose omitted fields keep the
// incoming record's values. Names are passed fully qualified (trailing
// dot); content is the record data in zonefile presentation format,
// except that MX and SRV carry their priority in prio. A replacement TXT
// content without quotes is one string.
//
// The script runs sandboxed, in a fresh Lua state per transfer: only the
// base, string, table and math libraries, os reduced to date and time, no
// io, no loading of other files, and a time budget for the whole
// transfer. Any failure (missing file, compile or run-time error, budget
// exceeded, a result that is not a zone) aborts the transfer: the zone
// served so far stays.

// Script return codes, as PowerDNS's Lua has them.
const (
	filterPass = -1
	filterDrop = -2
)

// axfrFilterBudget bounds the time one transfer's filter may run,
// loading included; a variable so that tests may shorten it.
var axfrFilterBudget = 10 * time.Second

// maxFilterString bounds the strings string.rep builds, so that a script
// cannot exhaust memory in one call.
const maxFilterString = 1 << 20

// filterScriptOf returns the path of zone's AXFR filter script, "" when
// it has none. The script must lie in the scripts directory
// (scriptPath): a value set before that rule, or a symlink replaced
// since, is refused here too, so that no file outside it is ever run.
func (s *secondaries) filterScriptOf(ctx context.Context, zone string) (string, error) {
	values, err := s.db.Meta().Get(ctx, zone, store.MetaLuaAXFRScript)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("reading the zone's %s: %w", store.MetaLuaAXFRScript, err)
	}
	if len(values) == 0 || strings.TrimSpace(values[0]) == "" {
		return "", nil
	}
	return scriptPath(s.data, values[0])
}

// scriptsDir is where AXFR filter scripts live: DATA/scripts.
func scriptsDir(data string) string { return filepath.Join(data, "scripts") }

// scriptPath resolves a LUA-AXFR-SCRIPT value: relative to the scripts
// directory, or absolute inside it, symlinks followed. Anything that
// resolves outside it, or is not a regular file, is refused; the error
// names the path, never what the file holds.
func scriptPath(data, value string) (string, error) {
	dir := scriptsDir(data)
	path := strings.TrimSpace(value)
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", fmt.Errorf("AXFR filter script %s: the scripts directory %s: %w", path, dir, err)
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", fmt.Errorf("AXFR filter script %s: cannot be read: %v", path, errors.Unwrap(err))
	}
	if rel, err := filepath.Rel(realDir, real); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("AXFR filter script %s resolves to %s, outside the scripts directory %s: scripts must be put there", path, real, dir)
	}
	if fi, err := os.Stat(real); err != nil {
		return "", fmt.Errorf("AXFR filter script %s: cannot be read: %v", path, errors.Unwrap(err))
	} else if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("AXFR filter script %s is not a regular file", path)
	}
	return real, nil
}

// A filter may change the SOA serial: the serial a filtered zone's
// primaries are compared with is then the primary's at the last
// transfer, kept beside the zone's file, not the one served.

// upstreamSerialPath is the file that keeps a filtered zone's primary
// serial.
func (s *secondaries) upstreamSerialPath(zone string) string {
	return s.secondaryPath(zone) + ".upstream-serial"
}

// comparedSerial is the serial to compare zone's primaries' serials with:
// for a zone with a filter script, the primary's serial at the last
// transfer when known, else the serial held (0 when nothing is held).
func (s *secondaries) comparedSerial(ctx context.Context, zone string, held *answer.Snapshot) uint32 {
	if held == nil {
		return 0
	}
	if script, err := s.filterScriptOf(ctx, zone); err != nil || script == "" {
		return held.Serial()
	}
	b, err := os.ReadFile(s.upstreamSerialPath(zone))
	if err != nil {
		return held.Serial()
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
	if err != nil {
		return held.Serial()
	}
	return uint32(v)
}

// recordUpstreamSerial keeps the primary's serial of a transfer just
// installed when the zone is filtered, and forgets it otherwise.
func (s *secondaries) recordUpstreamSerial(zone string, serial uint32, filtered bool) {
	path := s.upstreamSerialPath(zone)
	if !filtered {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.Warn("removing the primary's serial of a zone: "+err.Error(), "zone", zone)
		}
		return
	}
	err := zonefile.ReplaceFile(path, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "%d\n", serial)
		return err
	})
	if err != nil {
		s.log.Warn("keeping the primary's serial of a filtered zone: "+err.Error(), "zone", zone)
	}
}

// filterAXFR runs the script at path over the records of an AXFR of zone
// from remote (SOA first, once) and returns the records to keep, SOA
// first. maxRecords bounds what the filter may produce.
func filterAXFR(ctx context.Context, path string, remote netip.Addr, zone string, recs []dns.RR, maxRecords int64) ([]dns.RR, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("AXFR filter script %s: cannot be read: %v", path, errors.Unwrap(err))
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, axfrFilterBudget)
	defer cancel()
	L := newFilterState()
	defer L.Close()
	L.SetContext(ctx)
	budgetErr := func(err error) error {
		switch {
		case parent.Err() != nil:
			return fmt.Errorf("AXFR filter script %s: abandoned: %v", path, context.Cause(parent))
		case ctx.Err() != nil:
			return fmt.Errorf("AXFR filter script %s: stopped: it ran longer than its budget (%s)", path, axfrFilterBudget)
		}
		return fmt.Errorf("AXFR filter script %s: %s", path, luaErrorText(err))
	}
	chunk, err := L.Load(bytes.NewReader(src), filepath.Base(path))
	if err != nil {
		return nil, fmt.Errorf("AXFR filter script %s: does not compile: %s", path, luaErrorText(err))
	}
	L.Push(chunk)
	if err := L.PCall(0, 0, nil); err != nil {
		return nil, budgetErr(err)
	}
	fn, ok := L.GetGlobal("axfrfilter").(*lua.LFunction)
	if !ok {
		return nil, fmt.Errorf("AXFR filter script %s: defines no function axfrfilter", path)
	}
	var out []dns.RR
	for _, rr := range recs {
		h := rr.Header()
		prio, content := filterContent(rr)
		err := L.CallByParam(lua.P{Fn: fn, NRet: 2, Protect: true},
			lua.LString(remote.String()), lua.LString(zone), lua.LString(h.Name),
			lua.LNumber(h.Rrtype), lua.LNumber(h.Ttl), lua.LNumber(prio), lua.LString(content))
		if err != nil {
			return nil, budgetErr(err)
		}
		code, list := L.Get(-2), L.Get(-1)
		L.Pop(2)
		n, ok := code.(lua.LNumber)
		switch {
		case !ok:
			return nil, fmt.Errorf("AXFR filter script %s: axfrfilter returned %s, not a number, for %s", path, code.Type(), oneLineRR(rr))
		case n == filterPass:
			out = append(out, rr)
		case n == filterDrop:
		case n == 0:
			t, ok := list.(*lua.LTable)
			if !ok {
				return nil, fmt.Errorf("AXFR filter script %s: axfrfilter returned 0 without a table of records for %s", path, oneLineRR(rr))
			}
			var bad error
			t.ForEach(func(_, v lua.LValue) {
				if bad != nil {
					return
				}
				rt, ok := v.(*lua.LTable)
				if !ok {
					bad = fmt.Errorf("a replacement is a %s, not a table", v.Type())
					return
				}
				nrr, err := filterRecord(zone, rr, prio, content, rt)
				if err != nil {
					bad = err
					return
				}
				out = append(out, nrr)
			})
			if bad != nil {
				return nil, fmt.Errorf("AXFR filter script %s: replacing %s: %v", path, oneLineRR(rr), bad)
			}
		default:
			return nil, fmt.Errorf("AXFR filter script %s: axfrfilter returned %v for %s: not pdns.PASS, pdns.DROP or 0", path, n, oneLineRR(rr))
		}
		if int64(len(out)) > maxRecords {
			return nil, fmt.Errorf("AXFR filter script %s: produced more than xfr-max-records (%d) records", path, maxRecords)
		}
	}
	if out, err = soaFirst(zone, out); err != nil {
		return nil, fmt.Errorf("AXFR filter script %s: %v", path, err)
	}
	return out, nil
}

// soaFirst checks that the filtered records keep exactly one SOA of the
// zone and puts it first.
func soaFirst(zone string, recs []dns.RR) ([]dns.RR, error) {
	at := -1
	for i := range recs {
		if _, ok := zoneSOA(zone, recs, i); ok {
			if at >= 0 {
				return nil, errors.New("the filtered zone has more than one SOA record")
			}
			at = i
		}
	}
	if at < 0 {
		return nil, errors.New("the filtered zone has no SOA record")
	}
	recs[0], recs[at] = recs[at], recs[0]
	return recs, nil
}

// filterContent returns what a script sees of a record's data: its
// presentation format, with the priority of MX and SRV apart.
func filterContent(rr dns.RR) (prio int, content string) {
	switch r := rr.(type) {
	case *dns.MX:
		return int(r.Preference), r.Mx
	case *dns.SRV:
		return int(r.Priority), fmt.Sprintf("%d %d %s", r.Weight, r.Port, r.Target)
	}
	return 0, strings.TrimPrefix(rr.String(), rr.Header().String())
}

// filterRecord builds a replacement record from a script's table; the
// fields it omits keep the incoming record's values (content only when
// the type is unchanged).
func filterRecord(zone string, in dns.RR, inPrio int, inContent string, t *lua.LTable) (dns.RR, error) {
	h := in.Header()
	name, rrtype, ttl, prio, content := h.Name, h.Rrtype, h.Ttl, inPrio, inContent
	if v := t.RawGetString("qname"); v != lua.LNil {
		s, ok := v.(lua.LString)
		if !ok || s == "" {
			return nil, fmt.Errorf("qname is %s, not a name", v.Type())
		}
		name = dns.Fqdn(string(s))
	}
	if v := t.RawGetString("qtype"); v != lua.LNil {
		n, ok := v.(lua.LNumber)
		if !ok || n < 1 || n > 65535 || n != lua.LNumber(int(n)) {
			return nil, fmt.Errorf("qtype %s is not a type code (use pdns.A, pdns.TXT …)", v.String())
		}
		if uint16(n) != rrtype {
			content = ""
		}
		rrtype = uint16(n)
	}
	if v := t.RawGetString("ttl"); v != lua.LNil {
		n, ok := v.(lua.LNumber)
		if !ok || n < 0 || n > 2147483647 {
			return nil, fmt.Errorf("ttl %s is not a TTL", v.String())
		}
		ttl = uint32(n)
	}
	if v := t.RawGetString("prio"); v != lua.LNil {
		n, ok := v.(lua.LNumber)
		if !ok || n < 0 || n > 65535 {
			return nil, fmt.Errorf("prio %s is not a priority", v.String())
		}
		prio = int(n)
	}
	if v := t.RawGetString("content"); v != lua.LNil {
		s, ok := v.(lua.LString)
		if !ok {
			if n, isNum := v.(lua.LNumber); isNum {
				s, ok = lua.LString(n.String()), true
			}
		}
		if !ok {
			return nil, fmt.Errorf("content is %s, not a string", v.Type())
		}
		content = string(s)
	}
	if content == "" {
		return nil, fmt.Errorf("no content for the new %s record", typeName(rrtype))
	}
	switch rrtype {
	case dns.TypeTXT, dns.TypeSPF:
		if !strings.HasPrefix(strings.TrimSpace(content), `"`) {
			content = quoteTXT(content)
		}
	case dns.TypeMX, dns.TypeSRV:
		content = strconv.Itoa(prio) + " " + content
	}
	line := fmt.Sprintf("$ORIGIN %s\n%s %d IN %s %s", dns.Fqdn(zone), name, ttl, typeName(rrtype), content)
	rr, err := dns.NewRR(line)
	if err != nil {
		return nil, fmt.Errorf("%s %d %s %s: %v", name, ttl, typeName(rrtype), content, err)
	}
	if rr == nil {
		return nil, fmt.Errorf("%s %d %s %s: no record", name, ttl, typeName(rrtype), content)
	}
	return rr, nil
}

// quoteTXT makes s one quoted character-string in presentation format
// (RFC 1035 §5.1).
func quoteTXT(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < ' ' || c > '~':
			fmt.Fprintf(&b, "\\%03d", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// typeName is a type's mnemonic, TYPEn (RFC 3597) when it has none.
func typeName(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return fmt.Sprintf("TYPE%d", t)
}

// luaErrorText is a Lua error's message without its Go stack trace.
func luaErrorText(err error) string {
	var le *lua.ApiError
	if errors.As(err, &le) {
		return strings.Join(strings.Fields(le.Object.String()), " ")
	}
	return strings.Join(strings.Fields(err.Error()), " ")
}

// newFilterState returns a Lua state with the sandbox filter scripts run
// in and the pdns table.
func newFilterState() *lua.LState {
	L := lua.NewState(lua.Options{SkipOpenLibs: true, CallStackSize: 200, RegistryMaxSize: 1 << 20})
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
		{lua.OsLibName, lua.OpenOs},
	} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	// No loading of files, no output; what is missing says so when used.
	for _, name := range []string{"dofile", "loadfile", "require", "module"} {
		L.SetGlobal(name, L.NewFunction(func(L *lua.LState) int {
			L.RaiseError("%s is not available to AXFR filter scripts", name)
			return 0
		}))
	}
	L.SetGlobal("print", L.NewFunction(func(*lua.LState) int { return 0 }))
	denied := func(lib, also string) *lua.LTable {
		mt := L.NewTable()
		mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
			L.RaiseError("%s.%s is not available to AXFR filter scripts%s", lib, L.CheckAny(2).String(), also)
			return 0
		}))
		return mt
	}
	io := L.NewTable()
	L.SetMetatable(io, denied("io", ""))
	L.SetGlobal("io", io)
	// os: date and time only.
	full := L.GetGlobal(lua.OsLibName).(*lua.LTable)
	osLib := L.NewTable()
	osLib.RawSetString("date", full.RawGetString("date"))
	osLib.RawSetString("time", full.RawGetString("time"))
	L.SetMetatable(osLib, denied("os", " (only os.date and os.time are)"))
	L.SetGlobal(lua.OsLibName, osLib)
	// string.rep bounded.
	str := L.GetGlobal(lua.StringLibName).(*lua.LTable)
	str.RawSetString("rep", L.NewFunction(func(L *lua.LState) int {
		s, n := L.CheckString(1), L.CheckInt(2)
		if n > 0 && int64(len(s))*int64(n) > maxFilterString {
			L.RaiseError("string.rep: the result would be longer than %d bytes", maxFilterString)
		}
		L.Push(lua.LString(strings.Repeat(s, max(n, 0))))
		return 1
	}))

	pdns := L.NewTable()
	for code, name := range dns.TypeToString {
		pdns.RawSetString(name, lua.LNumber(code))
	}
	pdns.RawSetString("PASS", lua.LNumber(filterPass))
	pdns.RawSetString("DROP", lua.LNumber(filterDrop))
	L.SetGlobal("pdns", pdns)
	return L
}
