package zonefile

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// Builder gathers a zone that arrives record by record (a zone transfer)
// in packed form and validates it as Check does. Each record is put in
// wire form as it is added and not kept as a dns.RR, so a zone of
// millions of records never exists as millions of objects: what a large
// transfer holds in flight is the arenas, some 30 to 50 bytes a record.
type Builder struct {
	pk      packer
	entries []entry
}

// Add packs rr. A record that cannot be put in wire form is kept,
// flagged, for Finish to report, as Check would.
func (b *Builder) Add(rr dns.RR) {
	b.entries = append(b.entries, b.pk.entry(rr, 0, 0))
}

// Len returns the number of records added.
func (b *Builder) Len() int { return len(b.entries) }

// Finish validates the records added by the rules Load applies and
// returns the zone as it would be served, in canonical order, with what
// the rules drop left out. name is shown in findings, which carry no
// line numbers. The Builder is empty afterwards.
func (b *Builder) Finish(origin, name string) (*Packed, Findings, error) {
	origin = strings.ToLower(dns.Fqdn(origin))
	if _, ok := dns.IsDomainName(origin); !ok {
		return nil, nil, fmt.Errorf("zonefile: bad origin %q", origin)
	}
	p := &parsed{entries: b.entries, names: b.pk.names, data: b.pk.data}
	*b = Builder{}
	served, findings, err := validate(origin, name, []string{name}, p)
	if err != nil {
		return nil, findings, err
	}
	return p.packed(origin, served), findings, nil
}

// WritePacked writes p in the canonical form of Write. Records are
// turned into text one at a time: a large zone is written without being
// unpacked whole.
func WritePacked(w io.Writer, p *Packed) error {
	return WriteEach(w, p.Origin, func(yield func(dns.RR) bool) error {
		for i := range p.recs {
			rr, err := p.RR(i)
			if err != nil {
				return fmt.Errorf("zonefile: record %d of %s: %w", i, p.Origin, err)
			}
			if !yield(rr) {
				return nil
			}
		}
		return nil
	})
}

// WriteEach writes the records of zone origin that each yields, which
// must come in canonical order (see Sort), in the canonical form of
// Write, one at a time: a server writes a large zone from its own
// compact form without unpacking it whole.
func WriteEach(w io.Writer, origin string, each func(yield func(dns.RR) bool) error) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "$ORIGIN %s\n", origin)
	if err := each(func(rr dns.RR) bool {
		writeLine(bw, rr, origin)
		return true
	}); err != nil {
		return err
	}
	return bw.Flush()
}

// writeLine writes one record as Write does.
func writeLine(bw *bufio.Writer, rr dns.RR, origin string) {
	h := rr.Header()
	bw.WriteString(RelativeName(h.Name, origin))
	bw.WriteByte('\t')
	bw.WriteString(strconv.FormatUint(uint64(h.Ttl), 10))
	bw.WriteString("\tIN\t")
	bw.WriteString(typeName(h.Rrtype))
	bw.WriteByte('\t')
	bw.WriteString(rdataText(rr))
	bw.WriteByte('\n')
}

// Zone returns p's records as a Zone of dns.RR values, for the callers
// that change a zone record by record (a promote, an IXFR's base).
func (p *Packed) Zone() (*Zone, error) {
	rrs := make([]dns.RR, len(p.recs))
	for i := range p.recs {
		rr, err := p.RR(i)
		if err != nil {
			return nil, fmt.Errorf("zonefile: record %d of %s: %w", i, p.Origin, err)
		}
		rrs[i] = rr
	}
	return &Zone{Origin: p.Origin, Records: rrs, Includes: p.Includes, FileSum: p.FileSum}, nil
}
