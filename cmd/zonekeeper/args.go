package main

// Checks of the client verbs' arguments that are cheap to do before
// anything is sent. The daemon checks everything again; these only give
// the error sooner, with the argument's name, and change nothing.

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"zonekeeper/daemon"
)

// nameArg checks a domain name argument (a zone, a key, a name server)
// and returns it absolute and lower case, as the daemon stores names.
func nameArg(what, s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("%s: empty name", what)
	}
	for _, r := range s {
		if r <= ' ' || r >= 0x7f {
			return "", fmt.Errorf("%s %q is not a domain name: it contains %q", what, s, r)
		}
	}
	if _, ok := dns.IsDomainName(s); !ok || s == "@" {
		return "", fmt.Errorf("%s %q is not a domain name", what, s)
	}
	return dns.CanonicalName(s), nil
}

// ipArg checks an IP literal without port.
func ipArg(what, s string) (string, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return "", fmt.Errorf("%s %q is not an IP address such as 127.0.0.2 or ::1", what, s)
	}
	return a.String(), nil
}

// looksNumeric matches what, with a digit in it, can only be meant as an
// address: hex digits, dots, colons and brackets, no letter beyond a-f.
var looksNumeric = regexp.MustCompile(`^[0-9a-fA-F.:\[\]]*[.:][0-9a-fA-F.:\[\]]*$`)

// primaryArg checks one PRIMARY of add-secondary: an IP literal with an
// optional port, or a peer name (docs/architecture.md, "ADDR syntax").
// Host names are not resolved, so something that looks like an address
// must be one.
func primaryArg(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("empty primary in the list; separate primaries with single commas")
	}
	if _, err := daemon.ParseAddr(s, 53); err == nil {
		return s, nil
	} else if looksNumeric.MatchString(s) && strings.ContainsAny(s, "0123456789") {
		return "", fmt.Errorf("primary: %v", err)
	}
	if _, err := nameArg("primary", s); err != nil {
		return "", fmt.Errorf("primary %q is neither an IP address with an optional port (127.0.0.2, 127.0.0.2:5300, [::1]:5300) nor a peer name", s)
	}
	return s, nil
}

// tsigAlgorithms are the HMAC algorithms of RFC 8945 zonekeeper signs with.
var tsigAlgorithms = []string{"hmac-md5", "hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512"}

// algorithmArg checks a TSIG algorithm name and returns its short, lower
// case form (hmac-sha256); the RFC's absolute forms are accepted too.
func algorithmArg(s string) (string, error) {
	a := strings.TrimSuffix(strings.ToLower(s), ".")
	if a == "hmac-md5.sig-alg.reg.int" {
		a = "hmac-md5"
	}
	for _, known := range tsigAlgorithms {
		if a == known {
			return a, nil
		}
	}
	return "", fmt.Errorf("TSIG algorithm %q is not one of %s", s, strings.Join(tsigAlgorithms, ", "))
}

// secretArg checks a base64 TSIG secret.
func secretArg(s string) error {
	b, err := base64.StdEncoding.DecodeString(s)
	switch {
	case err != nil:
		return fmt.Errorf("secret is not base64 (%v); omit --secret to have the daemon generate one", err)
	case len(b) == 0:
		return fmt.Errorf("empty secret; omit --secret to have the daemon generate one")
	}
	return nil
}

// metaKind matches a metadata kind: TSIG-ALLOW-AXFR, ALSO-NOTIFY, X-MINE.
var metaKind = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]*$`)

// typeArg checks a record TYPE and returns it upper case. Query-only and
// meta types are not record types.
func typeArg(s string) (string, error) {
	t := strings.ToUpper(s)
	code, ok := dns.StringToType[t]
	if !ok {
		if n, err := strconv.ParseUint(strings.TrimPrefix(t, "TYPE"), 10, 16); err == nil && strings.HasPrefix(t, "TYPE") {
			code, ok = uint16(n), true
		}
	}
	if !ok {
		return "", fmt.Errorf("%q is not a record type (such as A, AAAA, CNAME, MX, NS, TXT, SRV, PTR, CAA)", s)
	}
	switch code {
	case dns.TypeNone, dns.TypeReserved, dns.TypeANY, dns.TypeAXFR, dns.TypeIXFR, dns.TypeOPT,
		dns.TypeTSIG, dns.TypeTKEY, dns.TypeMAILA, dns.TypeMAILB:
		return "", fmt.Errorf("%s is a query or meta type, not a record type", t)
	}
	return t, nil
}

// uint32Flag is a flag holding an unsigned 32-bit number that remembers
// whether it was given.
type uint32Flag struct {
	v   *uint32
	max uint64
}

func (f *uint32Flag) String() string {
	if f.v == nil {
		return ""
	}
	return strconv.FormatUint(uint64(*f.v), 10)
}

func (f *uint32Flag) Set(s string) error {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n > f.max {
		return fmt.Errorf("not a number 0..%d", f.max)
	}
	v := uint32(n)
	f.v = &v
	return nil
}
