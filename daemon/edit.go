package daemon

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
	"zonekeeper/zonefile"
)

// edit applies one record edit to a primary zone: it reads the zonefile,
// applies the change, raises the serial by policy, validates the result
// exactly as a reload would, writes the file atomically in canonical form
// and swaps the new version in. Edits and reloads are serialised by l.mu;
// an edit based on a stale serial (IfSerial) is refused.
func (l *loader) edit(origin string, req api.EditRequest, policy string, now time.Time) (*api.EditResult, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	name := fileNameOf(origin)
	path := filepath.Join(l.dir, name)
	if st := l.files[name]; st == nil || !st.served {
		return nil, api.Errorf(api.CodeNotFound, "zone %s is not a primary zone served from %s", origin, l.dir)
	}
	z, _, err := l.parse.Load(path, origin)
	if err != nil {
		return nil, api.Errorf(api.CodeNotPermitted, "zone %s: its file does not load (%v); fix %s first", origin, firstError(err), path)
	}
	if len(z.Includes) > 0 {
		return nil, api.Errorf(api.CodeNotPermitted, "zone %s reads files with $INCLUDE (%s); edit them directly: rewriting would flatten them", origin, strings.Join(z.Includes, ", "))
	}
	if z.Signed() {
		return nil, errSignedZone(origin, path, "edit")
	}
	old := z.Serial()
	if req.IfSerial != nil && *req.IfSerial != old {
		return nil, api.Errorf(api.CodeConflict, "zone %s is at serial %d, not %d: it changed since you read it; look again and retry", origin, old, *req.IfSerial)
	}

	records, added, removed, err := applyEdit(z, req)
	if err != nil {
		return nil, err
	}
	if max := l.parse.MaxRecords; max > 0 && len(records) > max {
		return nil, api.Errorf(api.CodeNotPermitted, "zone %s would have %d records, more than zone-max-records (%d); nothing was changed", origin, len(records), max)
	}
	next := nextSerial(old, policy, now)
	for i, rr := range records {
		if soa, ok := rr.(*dns.SOA); ok && strings.EqualFold(soa.Hdr.Name, origin) {
			c := dns.Copy(soa).(*dns.SOA)
			c.Serial = next
			records[i] = c
		}
	}

	// Validate the result by the rules the reloader applies, before
	// touching the file (zonefile.Check finds what parsing the written
	// text would).
	parsed, findings, err := zonefile.Check(origin, path, records)
	if err != nil {
		var inv *zonefile.InvalidError
		if errors.As(err, &inv) {
			var why []string
			for _, f := range inv.Errors {
				// Records checked in memory have no line numbers.
				why = append(why, f.Rule+": "+lineRefRE.ReplaceAllString(f.Detail, ""))
			}
			return nil, api.Errorf(api.CodeInvalidZone, "the edit would make zone %s invalid: %s; nothing was changed", origin, strings.Join(why, "; "))
		}
		return nil, err
	}
	packed, err := zonefile.PackZone(parsed)
	if err != nil {
		return nil, fmt.Errorf("zone %s: %w", origin, err)
	}
	var text bytes.Buffer
	if err := zonefile.Write(&text, &zonefile.Zone{Origin: z.Origin, Records: records}); err != nil {
		return nil, err
	}
	var writeErr error
	write := func() error {
		writeErr = zonefile.ReplaceFile(path, func(w io.Writer) error {
			_, err := w.Write(text.Bytes())
			return err
		})
		if writeErr != nil {
			writeErr = fmt.Errorf("zone %s: writing %s: %w", origin, path, writeErr)
		}
		return writeErr
	}
	// What was just validated is what the file will hold: the commit
	// writes it, then serves it without reading the file a third time.
	snap := l.install(name, packed, findings, write)
	if writeErr != nil {
		return nil, writeErr
	}
	if snap == nil {
		return nil, api.Errorf(api.CodeInternal, "zone %s: the edited version could not be served; nothing was changed", origin)
	}
	if st := l.files[name]; st != nil && st.served && st.serial == next {
		st.written = stampOf(path)
		l.cacheWritten(name, snap, st.written, text.Bytes())
	}
	return &api.EditResult{Zone: origin, OldSerial: old, NewSerial: next, Added: added, Removed: removed}, nil
}

// errSignedZone refuses to change a signed zone's records (what: "edit",
// "set its serial"): the signer that made its RRSIGs and NSEC/NSEC3 owns
// them, and a change here would serve records their signatures no longer
// match (docs/architecture.md, "Signed zones").
func errSignedZone(origin, path, what string) error {
	return api.Errorf(api.CodeNotPermitted, "zone %s is signed (DNSKEY at its apex, RRSIGs): its signer owns its records, and to %s here would break its signatures; "+
		"change it at the signer, re-sign it, and replace %s (it reloads) or let it transfer in; nothing was changed", origin, what, path)
}

// lineRefRE matches the line references in finding details.
var lineRefRE = regexp.MustCompile(` \((?:first at )?line \d+\)| at line \d+`)

// applyEdit returns the zone's records with the edit applied, and the
// records it added and removed.
func applyEdit(z *zonefile.Zone, req api.EditRequest) (records []dns.RR, added, removed []api.Record, err error) {
	origin := z.Origin
	rtype, ok := dns.StringToType[strings.ToUpper(req.Type)]
	if !ok {
		if n, perr := strconv.ParseUint(strings.TrimPrefix(strings.ToUpper(req.Type), "TYPE"), 10, 16); perr == nil && strings.HasPrefix(strings.ToUpper(req.Type), "TYPE") {
			rtype = uint16(n)
		} else {
			return nil, nil, nil, api.Errorf(api.CodeBadRequest, "unknown record type %q", req.Type)
		}
	}
	owner, err := absoluteName(req.Name, origin)
	if err != nil {
		return nil, nil, nil, err
	}
	switch {
	case rtype == dns.TypeSOA && req.Op != api.EditSet:
		return nil, nil, nil, api.Errorf(api.CodeNotPermitted, "a zone has exactly one SOA: use `record set` to change it")
	case rtype == dns.TypeSOA && owner != origin:
		return nil, nil, nil, api.Errorf(api.CodeBadRequest, "an SOA belongs at the apex %s, not %s", origin, owner)
	case req.Op == api.EditSet && len(req.Data) == 0:
		return nil, nil, nil, api.Errorf(api.CodeBadRequest, "set needs record data")
	case (req.Op == api.EditAdd) && len(req.Data) != 1:
		return nil, nil, nil, api.Errorf(api.CodeBadRequest, "add takes the data of exactly one record")
	case req.Op == api.EditDelete && len(req.Data) > 1:
		return nil, nil, nil, api.Errorf(api.CodeBadRequest, "delete takes the data of at most one record")
	case req.Op != api.EditAdd && req.Op != api.EditSet && req.Op != api.EditDelete:
		return nil, nil, nil, api.Errorf(api.CodeBadRequest, "unknown edit %q: use add, set or delete", req.Op)
	}
	if req.TTL != nil && *req.TTL > 1<<31-1 {
		return nil, nil, nil, api.Errorf(api.CodeBadRequest, "TTL %d is above 2147483647 (RFC 2181 §8)", *req.TTL)
	}

	// The RRset's TTL, else the zone's default (the SOA's TTL), unless given.
	inSet := func(rr dns.RR) bool {
		h := rr.Header()
		return h.Rrtype == rtype && strings.EqualFold(h.Name, owner)
	}
	var ttl uint32
	if soa := z.SOA(); soa != nil {
		ttl = soa.Hdr.Ttl
	}
	for _, rr := range z.Records {
		if inSet(rr) {
			ttl = rr.Header().Ttl
			break
		}
	}
	if req.TTL != nil {
		ttl = *req.TTL
	}
	var given []dns.RR
	for _, data := range req.Data {
		rr, err := zonefile.ParseRecord(origin, fmt.Sprintf("%s %d IN %s %s", owner, ttl, dns.Type(rtype), data))
		if err != nil {
			return nil, nil, nil, api.Errorf(api.CodeBadRequest, "bad %s data %q: %v", dns.Type(rtype), data, err)
		}
		given = append(given, rr)
	}

	toAPI := func(rr dns.RR) api.Record { return recordOf(rr) }
	switch req.Op {
	case api.EditAdd:
		for _, rr := range z.Records {
			if dns.IsDuplicate(rr, given[0]) {
				return nil, nil, nil, api.Errorf(api.CodeExists, "%s is already in zone %s", strings.TrimSpace(rr.String()), origin)
			}
		}
		for _, rr := range z.Records {
			if inSet(rr) && rr.Header().Ttl != ttl {
				// One TTL per RRset (RFC 2181 §5.2): --ttl applies to all of it.
				rr = dns.Copy(rr)
				rr.Header().Ttl = ttl
			}
			records = append(records, rr)
		}
		records = append(records, given[0])
		added = append(added, toAPI(given[0]))
	case api.EditSet:
		for _, rr := range z.Records {
			if inSet(rr) {
				removed = append(removed, toAPI(rr))
				continue
			}
			records = append(records, rr)
		}
		for _, rr := range given {
			records = append(records, rr)
			added = append(added, toAPI(rr))
		}
	case api.EditDelete:
		for _, rr := range z.Records {
			if inSet(rr) && (len(given) == 0 || dns.IsDuplicate(rr, given[0])) {
				removed = append(removed, toAPI(rr))
				continue
			}
			records = append(records, rr)
		}
		if len(removed) == 0 {
			what := owner + " " + dns.Type(rtype).String()
			if len(given) > 0 {
				what += " " + req.Data[0]
			}
			return nil, nil, nil, api.Errorf(api.CodeNotFound, "no %s in zone %s", what, origin)
		}
	}
	return records, added, removed, nil
}

// absoluteName resolves NAME of the record verbs: absolute with a trailing
// dot, "@" for the apex, else relative to origin; it must be in the zone.
func absoluteName(name, origin string) (string, error) {
	if name == "" {
		return "", api.Errorf(api.CodeBadRequest, "empty record name")
	}
	var abs string
	switch {
	case name == "@":
		abs = origin
	case strings.HasSuffix(name, ".") && !strings.HasSuffix(name, `\.`):
		abs = name
	default:
		abs = name + "." + origin
	}
	if _, ok := dns.IsDomainName(abs); !ok {
		return "", api.Errorf(api.CodeBadRequest, "%q is not a valid domain name", name)
	}
	if !dns.IsSubDomain(origin, abs) {
		return "", api.Errorf(api.CodeBadRequest, "%s is not in zone %s", abs, origin)
	}
	return abs, nil
}

// nextSerial raises a serial by policy, always an RFC 1982 increase.
func nextSerial(old uint32, policy string, now time.Time) uint32 {
	next := old + 1
	var candidate uint32
	switch policy {
	case api.SerialDate:
		y, m, d := now.UTC().Date()
		candidate = uint32(y*1000000 + int(m)*10000 + d*100)
	case api.SerialUnixtime:
		candidate = uint32(now.Unix())
	}
	if candidate != 0 && zonefile.SerialGreater(candidate, old) {
		next = candidate
	}
	return next
}

// recordOf converts a record to its API form.
func recordOf(rr dns.RR) api.Record {
	h := rr.Header()
	return api.Record{Name: h.Name, TTL: h.Ttl, Type: dns.Type(h.Rrtype).String(), Data: zonefile.RecordData(rr)}
}

// fileNameOf is the zonefile name of an origin: "example.org.zone".
func fileNameOf(origin string) string {
	return strings.TrimSuffix(strings.ToLower(origin), ".") + zoneFileExt
}

// firstError returns the first finding of an invalid zone, or err.
func firstError(err error) string {
	var inv *zonefile.InvalidError
	if errors.As(err, &inv) && len(inv.Errors) > 0 {
		return inv.Errors[0].String()
	}
	return err.Error()
}
