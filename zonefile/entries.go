package zonefile

import (
	"github.com/miekg/dns"
	"strings"
)

// entry is one parsed record in compact form, with the place it came
// from. Its data lives in the arenas of the parsed it belongs to.
type entry struct {
	rec
	file int32 // index in the parse's file names; 0 is the main file
	line int32
}

// Flags of a rec while it is validated.
const (
	flagNoData = 1 << iota // written without data
	flagNoWire             // could not be put in wire form
)

// parsed is a parse's records in file order: compact entries and their
// arenas, and, when the caller wants the zone back as dns.RR values
// (Load, Parse, Check), the records themselves. A server's load
// (LoadPacked) keeps none: the garbage collector then never traces a
// per-record object, and each record's dns.RR is garbage as soon as it
// is packed.
type parsed struct {
	entries     []entry
	rrs         []dns.RR // nil when not kept
	names, data []byte
}

// rr returns the i-th record as a dns.RR: the parsed one when it was
// kept, else unpacked (the rules only need that for the rare records
// they report or compare as text).
func (p *parsed) rr(i uint32) dns.RR {
	if p.rrs != nil {
		return p.rrs[i]
	}
	rr, err := unpackRec(p.names, p.data, &p.entries[i].rec)
	if err != nil {
		// Only a record that did not pack (flagNoWire) has no wire
		// form to read back; it is reported, never served.
		return &dns.ANY{Hdr: dns.RR_Header{Name: "?", Rrtype: p.entries[i].rtype, Class: p.entries[i].class, Ttl: p.entries[i].ttl}}
	}
	return rr
}

// owner returns the i-th record's owner as written.
func (p *parsed) owner(i uint32) string {
	if p.rrs != nil {
		return p.rrs[i].Header().Name
	}
	e := &p.entries[i]
	name, _, err := dns.UnpackDomainName(p.names[e.name:e.name+uint32(e.nl)], 0)
	if err != nil {
		return "?"
	}
	return name
}

// canonOwner returns the i-th record's owner in lower case, escaped
// only where it must be: one spelling per name.
func (p *parsed) canonOwner(i uint32) string {
	name, _, err := dns.UnpackDomainName(p.ownerWire(int(i)), 0)
	if err != nil {
		return "?"
	}
	return strings.ToLower(name)
}

// ownerWire returns the i-th record's owner in wire form.
func (p *parsed) ownerWire(i int) []byte {
	e := &p.entries[i]
	return p.names[e.name : e.name+uint32(e.nl)]
}

// rdata returns the i-th record's data in wire form.
func (p *parsed) rdata(i uint32) []byte {
	e := &p.entries[i]
	return p.data[e.data : e.data+uint32(e.dl)]
}

// entry packs rr into the packer's arenas and returns its entry. A
// record that does not pack is kept, flagged, for the rules to report.
func (pk *packer) entry(rr dns.RR, file, line int32) entry {
	r, err := pk.add(rr)
	if err != nil {
		// Reported by the rules, which name the owner when it packed.
		h := rr.Header()
		r = rec{name: r.name, nl: r.nl, rtype: h.Rrtype, class: h.Class, ttl: h.Ttl, flags: flagNoWire}
	}
	if hasNoData(rr) {
		r.flags |= flagNoData
	}
	return entry{rec: r, file: file, line: line}
}

// zone returns the served records, indexes into p in canonical order,
// as a Zone. p holds the records.
func (p *parsed) zone(origin string, served []uint32) *Zone {
	rrs := make([]dns.RR, len(served))
	for i, idx := range served {
		rrs[i] = p.rrs[idx]
	}
	return &Zone{Origin: origin, Records: rrs}
}

// packed returns the served records, indexes into p in canonical
// order, as a Packed zone sharing p's arenas.
func (p *parsed) packed(origin string, served []uint32) *Packed {
	recs := make([]rec, len(served))
	for i, idx := range served {
		recs[i] = p.entries[idx].rec
		recs[i].flags = 0
	}
	return &Packed{Origin: origin, names: p.names, data: p.data, recs: recs}
}
