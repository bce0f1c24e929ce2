package zonefile

// The structure of a signed zone (docs/architecture.md, "Signed zones"):
// warnings, never errors, for what a signer upstream got wrong; the zone
// is served as signed either way, and a validating resolver is the
// judge of its signatures. Where DNSSEC records may stand (RRSIG and
// NSEC beside a CNAME, DS, NSEC and RRSIG at a delegation, RFC 4035
// §2.5 and §2.4) is the loader's rule set (validate.go).

import (
	"encoding/base32"
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// Rules of LintDNSSEC.
const (
	RuleDNSSECUnsigned  = "dnssec-unsigned"   // an authoritative RRset of a signed zone without an RRSIG (RFC 4035 §2.2)
	RuleNSECChain       = "nsec-chain"        // NSEC next names that do not form one loop over the authoritative names (RFC 4034 §4.1.1)
	RuleNSEC3Params     = "nsec3-params"      // an NSEC3 whose hash parameters differ from NSEC3PARAM's (RFC 5155 §7.1)
	RuleNSEC3Owner      = "nsec3-owner"       // an NSEC3 owner that is not one base32hex label under the apex (RFC 5155 §3)
	RuleNSEC3PARAMPlace = "nsec3param-placed" // NSEC3PARAM other than at the apex (RFC 5155 §4)
)

// b32hex is the NSEC3 owner label's encoding (RFC 4648 §7), unpadded.
var b32hex = base32.HexEncoding.WithPadding(base32.NoPadding)

// LintDNSSECFile is LintDNSSEC with findings placed at their line of
// path.
func LintDNSSECFile(path, origin string, z *Zone) (Findings, error) {
	if !z.Signed() {
		return nil, nil
	}
	locate, err := locateFile(path, origin)
	if err != nil {
		return nil, err
	}
	return LintDNSSEC(z, locate), nil
}

// LintDNSSEC checks a signed zone's structure: every authoritative
// RRset signed, the NSEC chain one loop over the authoritative names,
// NSEC3 owners and parameters matching NSEC3PARAM. It finds nothing in
// a zone that is not signed (Zone.Signed). locate places findings (nil:
// findings carry no place).
func LintDNSSEC(z *Zone, locate Locator) Findings {
	if !z.Signed() {
		return nil
	}
	var out Findings
	add := func(rr dns.RR, rule, format string, args ...any) {
		f := Finding{Severity: Warning, Rule: rule, Detail: fmt.Sprintf(format, args...)}
		if locate != nil && rr != nil {
			f.File, f.Line = locate(rr)
		}
		out = append(out, f)
	}

	origin := z.Origin
	type setKey struct {
		name  string
		rtype uint16
	}
	first := map[setKey]dns.RR{} // each RRset's first record
	var order []setKey
	signed := map[setKey]bool{}
	delegations := map[string]bool{} // names with NS below the apex, lower case
	firstAt := map[string]dns.RR{}   // each name's first record
	var nsecs []*dns.NSEC
	var nsec3s []*dns.NSEC3
	var param *dns.NSEC3PARAM
	for _, rr := range z.Records {
		h := rr.Header()
		name := strings.ToLower(h.Name)
		switch r := rr.(type) {
		case *dns.RRSIG:
			signed[setKey{name, r.TypeCovered}] = true
			continue
		case *dns.NSEC:
			nsecs = append(nsecs, r)
		case *dns.NSEC3:
			nsec3s = append(nsec3s, r)
		case *dns.NSEC3PARAM:
			if name != origin {
				add(rr, RuleNSEC3PARAMPlace, "NSEC3PARAM at %s: it belongs at the apex %s only", h.Name, origin)
			} else if param == nil {
				param = r
			}
		case *dns.NS:
			delegations[name] = name != origin
		}
		if _, ok := firstAt[name]; !ok {
			firstAt[name] = rr
		}
		k := setKey{name, h.Rrtype}
		if _, ok := first[k]; !ok {
			first[k] = rr
			order = append(order, k)
		}
	}
	// Names come in canonical order: what is below a delegation follows
	// it, before any name that is not.
	cut := ""
	below := func(name string) (in, at bool) {
		if cut != "" && name != cut && dns.IsSubDomain(cut, name) {
			return true, false
		}
		cut = ""
		if delegations[name] {
			cut = name
			return true, true
		}
		return false, false
	}

	// Every authoritative RRset is signed: at a delegation only its DS
	// and NSEC are the parent's; glue and the delegation's NS are not
	// signed (RFC 4035 §2.2).
	var names []string // authoritative names, in canonical order
	for _, k := range order {
		in, at := below(k.name)
		switch {
		case in && !at:
			continue // glue
		case at && k.rtype != dns.TypeDS && k.rtype != dns.TypeNSEC:
			if len(names) == 0 || names[len(names)-1] != k.name {
				names = append(names, k.name)
			}
			continue
		}
		if k.rtype != dns.TypeNSEC3 && (len(names) == 0 || names[len(names)-1] != k.name) {
			names = append(names, k.name)
		}
		if !signed[k] {
			rr := first[k]
			add(rr, RuleDNSSECUnsigned, "%s %s has no RRSIG in a signed zone: validating resolvers answer SERVFAIL for it; re-sign the zone",
				rr.Header().Name, dns.TypeToString[k.rtype])
		}
	}

	if len(nsecs) > 0 {
		lintNSECChain(nsecs, names, firstAt, add)
	}
	for _, r := range nsec3s {
		label, parent, ok := strings.Cut(strings.ToLower(r.Hdr.Name), ".")
		if origin == "." {
			parent += "."
		}
		if raw, err := b32hex.DecodeString(strings.ToUpper(label)); !ok || parent != origin || err != nil || len(raw) == 0 {
			add(r, RuleNSEC3Owner, "NSEC3 owner %s is not one base32hex hash label directly under %s", r.Hdr.Name, origin)
		}
		if param != nil && (r.Hash != param.Hash || r.Iterations != param.Iterations || !strings.EqualFold(r.Salt, param.Salt)) {
			add(r, RuleNSEC3Params, "NSEC3 %s has hash %d, %d iterations, salt %s; NSEC3PARAM says hash %d, %d iterations, salt %s",
				r.Hdr.Name, r.Hash, r.Iterations, orDashSalt(r.Salt), param.Hash, param.Iterations, orDashSalt(param.Salt))
		}
	}
	return out
}

// lintNSECChain checks that the NSEC records form one loop, in canonical
// order, over exactly the authoritative names (RFC 4034 §4.1.1).
func lintNSECChain(nsecs []*dns.NSEC, names []string, firstAt map[string]dns.RR, add func(dns.RR, string, string, ...any)) {
	have := map[string]*dns.NSEC{}
	for _, r := range nsecs {
		have[strings.ToLower(r.Hdr.Name)] = r
	}
	for _, n := range names {
		if have[n] == nil {
			add(firstAt[n], RuleNSECChain, "%s has no NSEC: the chain skips it, so its denials cannot be proven", n)
		}
	}
	owners := make([]string, 0, len(have))
	for n := range have {
		owners = append(owners, n)
	}
	slices.SortFunc(owners, CompareNames)
	for i, n := range owners {
		want := owners[(i+1)%len(owners)]
		if r := have[n]; !strings.EqualFold(r.NextDomain, want) {
			add(r, RuleNSECChain, "NSEC at %s points to %s, but the next name in the chain is %s: the chain is broken; re-sign the zone",
				r.Hdr.Name, r.NextDomain, want)
		}
	}
}

// orDashSalt is an NSEC3 salt in presentation form: "-" when empty.
func orDashSalt(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
