// Package zonefile reads, validates and writes BIND-format zonefiles.
//
// It parses with miekg/dns's ZoneParser (no lexer of our own), checks the
// rules an authoritative server must enforce before serving a zone, writes
// zones back in a canonical form, replaces files atomically and implements
// RFC 1982 serial number arithmetic. It imports nothing of the project.
package zonefile

import (
	"strings"

	"github.com/miekg/dns"
)

// Zone is a parsed and validated zone: the records that will be served.
//
// Records never holds data outside the origin or occluded below a zone
// cut (those are reported as warnings and dropped), never holds duplicate
// records, and every RRset in it has one TTL.
type Zone struct {
	Origin  string   // fully qualified, lower case
	Records []dns.RR // in canonical order (see Sort)

	// Includes names the files read through $INCLUDE, relative to the
	// zonefile's directory, so that a watcher can reload the zone when
	// one of them changes.
	Includes []string

	// FileSum is the SHA-256 of the zonefile's bytes exactly as Load read
	// and parsed them (included files aside); zero from Parse and Check.
	FileSum [32]byte
}

// SOA returns the zone's SOA record, or nil when it has none.
func (z *Zone) SOA() *dns.SOA {
	for _, rr := range z.Records {
		if soa, ok := rr.(*dns.SOA); ok && strings.EqualFold(soa.Hdr.Name, z.Origin) {
			return soa
		}
	}
	return nil
}

// Serial returns the serial of the zone's SOA, or 0 when it has none.
func (z *Zone) Serial() uint32 {
	if soa := z.SOA(); soa != nil {
		return soa.Serial
	}
	return 0
}

// Signed reports whether the zone is DNSSEC-signed: a DNSKEY RRset at its
// apex and at least one RRSIG (docs/architecture.md, "Signed zones").
// Its signer owns its records: an edit here would leave them unsigned.
func (z *Zone) Signed() bool {
	key, sig := false, false
	for _, rr := range z.Records {
		switch rr.Header().Rrtype {
		case dns.TypeDNSKEY:
			key = key || strings.EqualFold(rr.Header().Name, z.Origin)
		case dns.TypeRRSIG:
			sig = true
		}
		if key && sig {
			return true
		}
	}
	return false
}
