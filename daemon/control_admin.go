package daemon

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
	"zonekeeper/store"
)

// tsigAlgorithms maps the accepted algorithm names to their digest size,
// which is the size of a generated secret (RFC 8945 §6: at least as long
// as the hash output).
var tsigAlgorithms = map[string]int{
	"hmac-md5": 16, "hmac-sha1": 20, "hmac-sha224": 28,
	"hmac-sha256": 32, "hmac-sha384": 48, "hmac-sha512": 64,
}

// minSecretBytes is the shortest TSIG secret accepted: the output size of
// the weakest algorithm, hmac-md5.
const minSecretBytes = 16

func (d *Daemon) handleStatus(r *http.Request) (any, error) {
	zs, err := d.allZones(r.Context())
	if err != nil {
		return nil, err
	}
	st := api.Status{
		Version: d.cfg.Version, Started: d.started, Uptime: time.Since(d.started).Round(time.Second).String(),
		Control: d.cfg.ControlPath(), Data: d.cfg.Data, Catalog: d.cfg.CatalogZone, Zones: len(zs),
		ByKind: map[string]int{}, ByState: map[string]int{},
	}
	for _, a := range d.server.Addrs() {
		st.Listen = append(st.Listen, a.String())
	}
	qs := d.server.QueryStats()
	rs := d.server.RRLStats()
	st.Queries = api.QueryCounts{Fast: qs.Fast, Full: qs.Full, Special: qs.Special, RRLDropped: rs.Dropped, RRLSlipped: rs.Slipped}
	ts := d.server.TCPStats()
	st.TCP = api.TCPCounts{Open: ts.Open, RefusedFull: ts.RefusedFull, RefusedPerAddr: ts.RefusedPerAddr,
		RefusedPerPrefix: ts.RefusedPerPrefix, Evicted: ts.Evicted, PressureClosed: ts.PressureClosed}
	for _, z := range zs {
		st.ByKind[z.Kind]++
		st.ByState[z.State]++
		if z.State == api.StateSplitBrain || z.State == api.StateDiverged {
			st.Alerts = append(st.Alerts, api.ZoneAlert{Zone: z.Name, State: z.State, Detail: z.Error})
		}
		if z.Signatures != nil {
			st.Signed++
		}
		if d.sigs.alerting(z.Signatures) {
			st.Alerts = append(st.Alerts, api.ZoneAlert{Zone: z.Name, State: api.AlertSignatures, Detail: sigAlert(z.Signatures)})
		}
	}
	errs, err := d.store.Events().List(r.Context(), store.EventFilter{Outcome: store.Outcome(api.OutcomeError), Trusted: true, Limit: 5, Newest: true})
	if err != nil {
		return nil, err
	}
	// An attacker's bad TSIGs are not the operator's last errors.
	for _, e := range errs {
		st.LastErrors = append(st.LastErrors, fromStoreEvent(e))
	}
	return st, nil
}

// existingKey normalises a key name and checks that the key exists.
func (d *Daemon) existingKey(r *http.Request, name string) (string, error) {
	n := strings.ToLower(dns.Fqdn(name))
	if _, err := d.store.Keys().Get(r.Context(), n); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return "", api.Errorf(api.CodeNotFound, "TSIG key %s does not exist; add it with `zonekeeper key add`", n)
		}
		return "", err
	}
	return n, nil
}

func (d *Daemon) handleKeyList(r *http.Request) (any, error) {
	keys, err := d.store.Keys().List(r.Context())
	if err != nil {
		return nil, err
	}
	out := []api.Key{}
	for _, k := range keys {
		out = append(out, api.Key{Name: k.Name, Algorithm: k.Algorithm})
	}
	return out, nil
}

func (d *Daemon) handleKeyAdd(r *http.Request) (any, error) {
	var req api.Key
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if req.Name == "" {
		return nil, api.Errorf(api.CodeBadRequest, "a key needs a name")
	}
	name := strings.ToLower(dns.Fqdn(req.Name))
	if _, ok := dns.IsDomainName(name); !ok || strings.Contains(name, "..") {
		return nil, api.Errorf(api.CodeBadRequest, "%q is not a valid key name (a domain name such as transfer.example.org)", req.Name)
	}
	alg := strings.ToLower(strings.TrimSuffix(req.Algorithm, "."))
	size, ok := tsigAlgorithms[alg]
	if !ok {
		return nil, api.Errorf(api.CodeBadRequest, "unknown TSIG algorithm %q: use hmac-md5, hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384 or hmac-sha512", req.Algorithm)
	}
	secret, generated := req.Secret, false
	if secret == "" {
		b := make([]byte, size)
		rand.Read(b)
		secret, generated = base64.StdEncoding.EncodeToString(b), true
	} else if b, err := base64.StdEncoding.DecodeString(secret); err != nil || len(b) == 0 {
		return nil, api.Errorf(api.CodeBadRequest, "the secret of key %s is not valid base64", name)
	} else if len(b) < minSecretBytes {
		return nil, api.Errorf(api.CodeBadRequest, "the secret of key %s is %d bytes; use at least %d (RFC 8945 §6), or leave --secret out to have one generated", name, len(b), minSecretBytes)
	}
	if err := storeError(d.store.Keys().Add(r.Context(), store.Key{Name: name, Algorithm: alg, Secret: secret}), "TSIG key "+name); err != nil {
		return nil, err
	}
	detail := alg
	if generated {
		detail += ", secret generated"
	}
	d.keys.reload()
	d.events.EmitWait(r.Context(), api.Event{Kind: "key-add", Outcome: api.OutcomeOK, Detail: "TSIG key " + name + " (" + detail + ")"})
	out := api.Key{Name: name, Algorithm: alg}
	if generated {
		out.Secret = secret
	}
	return out, nil
}

func (d *Daemon) handleKeyRemove(r *http.Request) (any, error) {
	name := strings.ToLower(dns.Fqdn(r.PathValue("name")))
	if _, err := d.existingKey(r, name); err != nil {
		return nil, err
	}
	for _, p := range d.peers.list() {
		if p.Key == name {
			return nil, api.Errorf(api.CodeNotPermitted, "TSIG key %s signs all traffic with peer %s; remove that peer first", name, p.Name)
		}
	}
	// A key still named by a zone cannot go: transfers would fail.
	zones, err := d.store.Zones().List(r.Context())
	if err != nil {
		return nil, err
	}
	for _, z := range zones {
		if z.TSIGKey == name {
			return nil, api.Errorf(api.CodeNotPermitted, "TSIG key %s signs transfers of zone %s; change that zone first", name, z.Name)
		}
		meta, err := d.store.Meta().List(r.Context(), z.Name)
		if err != nil {
			return nil, err
		}
		for kind, values := range meta {
			if (kind == "TSIG-ALLOW-AXFR" || kind == "AXFR-MASTER-TSIG") && containsFold(values, name) {
				return nil, api.Errorf(api.CodeNotPermitted, "TSIG key %s is named in %s of zone %s; change that first", name, kind, z.Name)
			}
		}
	}
	if err := storeError(d.store.Keys().Delete(r.Context(), name), "TSIG key "+name); err != nil {
		return nil, err
	}
	d.keys.reload()
	d.events.EmitWait(r.Context(), api.Event{Kind: "key-remove", Outcome: api.OutcomeOK, Detail: "TSIG key " + name})
	return nil, nil
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(strings.TrimSuffix(v, "."), strings.TrimSuffix(s, ".")) {
			return true
		}
	}
	return false
}

// metaKinds lists the metadata kinds zonekeeper understands, each with
// the check its values must pass.
var metaKinds = map[string]func(d *Daemon, r *http.Request, values []string) ([]string, error){
	"TSIG-ALLOW-AXFR":  metaKeys,
	"AXFR-MASTER-TSIG": metaOneKey,
	"ALSO-NOTIFY":      metaAddrs,
	"ALLOW-AXFR-FROM":  metaPrefixes,
	"LUA-AXFR-SCRIPT":  metaScript,
	"SOA-EDIT":         metaOne,
	"ACCOUNT":          metaOne,
}

func metaKeys(d *Daemon, r *http.Request, values []string) ([]string, error) {
	var out []string
	for _, v := range values {
		k, err := d.existingKey(r, v)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

func metaOneKey(d *Daemon, r *http.Request, values []string) ([]string, error) {
	if len(values) > 1 {
		return nil, api.Errorf(api.CodeBadRequest, "AXFR-MASTER-TSIG takes one key, got %d", len(values))
	}
	return metaKeys(d, r, values)
}

func metaAddrs(_ *Daemon, _ *http.Request, values []string) ([]string, error) {
	var out []string
	for _, v := range values {
		ap, err := ParseAddr(v, 53)
		if err != nil {
			return nil, api.Errorf(api.CodeBadRequest, "ALSO-NOTIFY: %v", err)
		}
		out = append(out, ap.String())
	}
	return out, nil
}

func metaPrefixes(_ *Daemon, _ *http.Request, values []string) ([]string, error) {
	var out []string
	for _, v := range values {
		if p, err := netip.ParsePrefix(v); err == nil {
			out = append(out, p.Masked().String())
			continue
		}
		a, err := netip.ParseAddr(v)
		if err != nil {
			return nil, api.Errorf(api.CodeBadRequest, "ALLOW-AXFR-FROM: %q is neither an IP address nor a prefix such as 127.0.0.0/8", v)
		}
		out = append(out, a.String())
	}
	return out, nil
}

func metaOne(_ *Daemon, _ *http.Request, values []string) ([]string, error) {
	if len(values) > 1 {
		return nil, api.Errorf(api.CodeBadRequest, "this kind takes one value, got %d", len(values))
	}
	return values, nil
}

// metaScript checks a LUA-AXFR-SCRIPT value: one path, inside the
// scripts directory (axfr_filter.go).
func metaScript(d *Daemon, r *http.Request, values []string) ([]string, error) {
	if _, err := metaOne(d, r, values); err != nil || len(values) == 0 {
		return values, err
	}
	if _, err := scriptPath(d.cfg.Data, values[0]); err != nil {
		return nil, api.Errorf(api.CodeBadRequest, "%v", err)
	}
	return values, nil
}

func (d *Daemon) handleMetaSet(r *http.Request) (any, error) {
	name, err := zoneName(r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	kind := strings.ToUpper(r.PathValue("kind"))
	check, ok := metaKinds[kind]
	if !ok {
		var known []string
		for k := range metaKinds {
			known = append(known, k)
		}
		return nil, api.Errorf(api.CodeBadRequest, "unknown metadata kind %q (known: %s)", kind, strings.Join(sortedStrings(known), ", "))
	}
	var req api.MetaRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	z, sz, err := d.zoneByName(r.Context(), name)
	if err != nil {
		return nil, err
	}
	values, err := check(d, r, req.Values)
	if err != nil {
		return nil, err
	}
	if sz == nil {
		// A zone known only by its file is registered on first use.
		if err := d.store.Zones().Put(r.Context(), store.Zone{Name: name, Kind: store.ZoneKind(z.Kind)}); err != nil {
			return nil, err
		}
	}
	if err := storeError(d.store.Meta().Set(r.Context(), name, kind, values), "zone "+name); err != nil {
		return nil, err
	}
	detail := kind + " = " + strings.Join(values, " ")
	if len(values) == 0 {
		detail = kind + " removed"
	}
	d.events.EmitWait(r.Context(), api.Event{Zone: name, Kind: "meta-set", Outcome: api.OutcomeOK, Detail: detail})
	return nil, nil
}

func (d *Daemon) handleAutoprimaryList(r *http.Request) (any, error) {
	list, err := d.store.Autoprimaries().List(r.Context())
	if err != nil {
		return nil, err
	}
	out := []api.Autoprimary{}
	for _, a := range list {
		out = append(out, api.Autoprimary{IP: a.IP, Nameserver: a.Nameserver, Account: a.Account})
	}
	return out, nil
}

func (d *Daemon) handleAutoprimaryAdd(r *http.Request) (any, error) {
	var req api.Autoprimary
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	ip, err := netip.ParseAddr(req.IP)
	if err != nil {
		return nil, api.Errorf(api.CodeBadRequest, "autoprimary: %q is not an IP address", req.IP)
	}
	ns := strings.ToLower(dns.Fqdn(req.Nameserver))
	if _, ok := dns.IsDomainName(ns); !ok || req.Nameserver == "" || strings.Contains(ns, "..") {
		return nil, api.Errorf(api.CodeBadRequest, "autoprimary: %q is not a name server name", req.Nameserver)
	}
	a := store.Autoprimary{IP: ip.String(), Nameserver: ns, Account: req.Account}
	if err := storeError(d.store.Autoprimaries().Add(r.Context(), a), "autoprimary "+a.IP+" "+ns); err != nil {
		return nil, err
	}
	d.events.EmitWait(r.Context(), api.Event{Kind: "autoprimary-add", Peer: a.IP, Outcome: api.OutcomeOK,
		Detail: fmt.Sprintf("autoprimary %s %s account %q", a.IP, ns, a.Account)})
	return api.Autoprimary{IP: a.IP, Nameserver: ns, Account: a.Account}, nil
}

func (d *Daemon) handleAutoprimaryRemove(r *http.Request) (any, error) {
	ip, err := netip.ParseAddr(r.PathValue("ip"))
	if err != nil {
		return nil, api.Errorf(api.CodeBadRequest, "autoprimary: %q is not an IP address", r.PathValue("ip"))
	}
	if err := storeError(d.store.Autoprimaries().Delete(r.Context(), ip.String()), "autoprimary "+ip.String()); err != nil {
		return nil, err
	}
	d.events.EmitWait(r.Context(), api.Event{Kind: "autoprimary-remove", Peer: ip.String(), Outcome: api.OutcomeOK, Detail: "autoprimary " + ip.String()})
	return nil, nil
}

// handleEvents streams events as JSON lines: the past ones the query
// selects, then, with follow=1, new ones as they happen. A follower that
// reads too slowly loses events and is told how many.
func (d *Daemon) handleEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var f store.EventFilter
	var err error
	if s := q.Get("since"); s != "" {
		if f.AfterID, err = strconv.ParseInt(s, 10, 64); err != nil {
			writeError(w, api.Errorf(api.CodeBadRequest, "since: %q is not an event id", s))
			return
		}
	}
	limit := 50
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 {
			writeError(w, api.Errorf(api.CodeBadRequest, "limit: %q is not a positive number", s))
			return
		}
	}
	if z := q.Get("zone"); z != "" {
		if f.Zone, err = zoneName(z); err != nil {
			writeError(w, err.(*api.Error))
			return
		}
	}
	f.Kind = q.Get("kind")
	follow := q.Get("follow") == "1" || q.Get("follow") == "true"

	var fl *follower
	if follow {
		// Subscribe before reading the past so that nothing falls between.
		fl = d.events.subscribe()
		defer d.events.unsubscribe(fl)
	}
	f.Limit, f.Newest = limit, true
	past, err := d.store.Events().List(r.Context(), f)
	if err != nil {
		writeError(w, api.Errorf(api.CodeInternal, "reading the activity log: %v", err))
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	flusher, _ := w.(http.Flusher)
	last := f.AfterID
	for i := len(past) - 1; i >= 0; i-- {
		ev := fromStoreEvent(past[i])
		enc.Encode(ev)
		last = max(last, ev.ID)
	}
	if flusher != nil {
		flusher.Flush()
	}
	if !follow {
		return
	}
	reported := int64(0)
	for {
		select {
		case <-r.Context().Done():
			return
		case ev := <-fl.ch:
			if n := fl.dropped.Load(); n > reported {
				enc.Encode(api.Event{Time: time.Now().UTC(), Kind: api.EventKindDropped, Outcome: api.OutcomeWarning,
					Dropped: n - reported, Detail: fmt.Sprintf("%d events lost: this follower read too slowly; `zonekeeper events` shows them", n-reported)})
				reported = n
			}
			if ev.ID != 0 && ev.ID <= last {
				continue
			}
			if (f.Zone != "" && ev.Zone != f.Zone) || (f.Kind != "" && ev.Kind != f.Kind) {
				continue
			}
			if err := enc.Encode(ev); err != nil {
				return
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
	}
}

func sortedStrings(s []string) []string {
	slices.Sort(s)
	return s
}
