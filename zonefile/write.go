package zonefile

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/miekg/dns"
)

// Write writes z in canonical form: an $ORIGIN line, then one record per
// line in canonical order, owner names relative to the origin ("@" for
// the apex), each with its TTL and class. Parsing the output with the
// same origin gives back the same records.
func Write(w io.Writer, z *Zone) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "$ORIGIN %s\n", z.Origin)
	rrs := append([]dns.RR(nil), z.Records...)
	Sort(rrs)
	for _, rr := range rrs {
		writeLine(bw, rr, z.Origin)
	}
	return bw.Flush()
}

// RelativeName returns name relative to origin: "@" for the origin
// itself, the leading labels for a name below it, and the absolute name
// (with its trailing dot) otherwise.
func RelativeName(name, origin string) string {
	if strings.EqualFold(name, origin) {
		return "@"
	}
	if len(name) > len(origin) && dns.IsSubDomain(origin, name) {
		rel := name[:len(name)-len(origin)]
		if strings.HasSuffix(rel, ".") && !strings.HasSuffix(rel, `\.`) {
			return rel[:len(rel)-1]
		}
	}
	return name
}
