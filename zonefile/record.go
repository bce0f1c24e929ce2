package zonefile

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/miekg/dns"
)

// ParseRecord parses one record in zonefile syntax ("name ttl IN type
// data") with $ORIGIN set to origin, as the record-editing verbs take it.
// Directives and several records are refused.
func ParseRecord(origin, text string) (dns.RR, error) {
	if strings.ContainsAny(text, "\n\r") {
		return nil, fmt.Errorf("a record must be on one line")
	}
	if strings.HasPrefix(strings.TrimSpace(text), "$") {
		return nil, fmt.Errorf("directives are not records: %q", text)
	}
	zp := dns.NewZoneParser(strings.NewReader(text+"\n"), dns.Fqdn(origin), "")
	rr, ok := zp.Next()
	if err := zp.Err(); err != nil {
		return nil, cleanParseError(err)
	}
	if !ok || rr == nil {
		return nil, fmt.Errorf("no record in %q", text)
	}
	if ownerless(rr) {
		return nil, fmt.Errorf("no owner name in %q", text)
	}
	if _, more := zp.Next(); more {
		return nil, fmt.Errorf("more than one record in %q", text)
	}
	if strings.TrimSpace(rdataText(rr)) == "" {
		return nil, fmt.Errorf("%s %s has no data", rr.Header().Name, typeName(rr.Header().Rrtype))
	}
	return rr, nil
}

// RecordData returns the presentation form of a record's data (the text
// after the type), as the writer prints it.
func RecordData(rr dns.RR) string { return rdataText(rr) }

// cleanParseError strips the parser's position (the text is one line).
func cleanParseError(err error) error {
	if m := oneLineErrRE.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Errorf("%s", m[1])
	}
	return err
}

var oneLineErrRE = regexp.MustCompile(`^(?:.*?: )?dns: (.*) at line: \d+:\d+$`)
