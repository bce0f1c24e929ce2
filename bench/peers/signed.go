package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// The signed copy of the query zone (issue 17, point 5): the DO=1 query
// mix runs on it. NSEC3 as RFC 9276 recommends (SHA-1, no extra
// iterations, no salt, no opt-out), so that every NXDOMAIN costs a
// server the hashing and the closest-encloser proof of three NSEC3
// records; ECDSA P-256 keys (a KSK and a ZSK), whose 64-byte signatures
// keep every answer of the mix under the 1232-byte EDNS0 size, so none
// is truncated.
const (
	signAlgorithm = "ECDSAP256SHA256"
	signNSEC3     = "NSEC3 (SHA-1, 0 extra iterations, no salt, no opt-out)"
)

// signedZone describes a zonefile dnssec-signzone signed.
type signedZone struct {
	File    string
	Records int // every record of the signed file
	RRSIGs  int
	NSEC3s  int
	Took    time.Duration // key generation and signing
}

// signArgs are dnssec-keygen's and dnssec-signzone's command lines that
// sign src (origin, with the trailing dot) into dst with keys in keys.
func signArgs(keys, src, dst, origin string) (ksk, zsk, sign []string) {
	o := strings.TrimSuffix(origin, ".")
	ksk = []string{"dnssec-keygen", "-q", "-K", keys, "-a", signAlgorithm, "-f", "KSK", o}
	zsk = []string{"dnssec-keygen", "-q", "-K", keys, "-a", signAlgorithm, o}
	// -S: the keys from -K, their DNSKEYs added; -x: the DNSKEY RRset
	// signed by the KSK only; -3 - -H 0: NSEC3 without salt or extra
	// iterations; -P: no post-signing verification (every answer of
	// the load is checked for its signatures, and the conformance
	// tests validate them); -e +30d: far from any expiry warning.
	sign = []string{"dnssec-signzone", "-q", "-S", "-K", keys, "-x", "-3", "-", "-H", "0", "-P",
		"-e", "+30d", "-o", o, "-f", dst, src}
	return ksk, zsk, sign
}

// signZone signs the zonefile src of origin into dst with keys made
// in dir/keys, and counts what the signed file holds.
func signZone(dir, src, dst, origin string) (*signedZone, error) {
	keys := filepath.Join(dir, "keys")
	if err := os.MkdirAll(keys, 0o700); err != nil {
		return nil, err
	}
	t := time.Now()
	ksk, zsk, sign := signArgs(keys, src, dst, origin)
	for _, argv := range [][]string{ksk, zsk, sign} {
		bin, err := lookBinary(argv[0])
		if err != nil {
			return nil, fmt.Errorf("%v (Debian's bind9-utils)", err)
		}
		cmd := exec.Command(bin, argv[1:]...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, out)
		}
	}
	z := &signedZone{File: dst, Took: time.Since(t)}
	return z, z.count(origin)
}

// count reads z.File and counts its records, RRSIGs and NSEC3s; an
// unsigned file is an error.
func (z *signedZone) count(origin string) error {
	f, err := os.Open(z.File)
	if err != nil {
		return err
	}
	defer f.Close()
	zp := dns.NewZoneParser(bufio.NewReaderSize(f, 1<<20), origin, z.File)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		z.Records++
		switch rr.Header().Rrtype {
		case dns.TypeRRSIG:
			z.RRSIGs++
		case dns.TypeNSEC3:
			z.NSEC3s++
		}
	}
	if err := zp.Err(); err != nil {
		return fmt.Errorf("%s: %v", z.File, err)
	}
	if z.RRSIGs == 0 || z.NSEC3s == 0 {
		return fmt.Errorf("%s: %d RRSIGs and %d NSEC3 records: not signed with NSEC3", z.File, z.RRSIGs, z.NSEC3s)
	}
	return nil
}

// servesPresigned says whether kind k serves a pre-signed zonefile as it
// is with the configuration servers.go writes: PowerDNS's bind backend
// needs a DNSSEC database and the zone marked presigned (pdnsutil), and
// a baseline build of zonekeeper may predate DNSSEC.
func servesPresigned(k serverKind) bool {
	return k.Name != "PowerDNS" && !k.QueryOnly
}

// prepareSigned signs a copy of the query zone into b.signed, which
// takes the query zone's query set: the same names and expectations,
// sent with DO=1 (the query file design is the unsigned mix's, spread
// over the whole zone so that no cache holds it).
func (b *bench) prepareSigned(res *results) error {
	dst := filepath.Join(b.work, "query-signed.zone")
	sz, err := signZone(b.work, b.small.File, dst, benchOrigin)
	if err != nil {
		return err
	}
	b.signed = &benchZone{Names: b.small.Names, Records: sz.Records, File: dst, Probe: b.small.Probe, Queries: b.small.Queries}
	res.DORecords, res.DOSigning = sz.Records, fmt.Sprintf("%s, %s KSK and ZSK, signed by dnssec-signzone %s during the run (%d RRSIGs, %d NSEC3 records, %v)",
		signNSEC3, signAlgorithm, bindVersion(), sz.RRSIGs, sz.NSEC3s, sz.Took.Round(100*time.Millisecond))
	fmt.Fprintf(os.Stderr, "signed the query zone: %d records (%d RRSIGs, %d NSEC3) in %v\n", sz.Records, sz.RRSIGs, sz.NSEC3s, sz.Took.Round(time.Millisecond))
	return nil
}

// bindVersion is dnssec-signzone's version ("9.18.28"), "?" if unknown.
func bindVersion() string {
	bin, err := lookBinary("dnssec-signzone")
	if err != nil {
		return "?"
	}
	out, _ := exec.Command(bin, "-V").CombinedOutput()
	if v := versionRE.FindString(string(out)); v != "" {
		return v
	}
	return "?"
}

// doView is r with the DO=1 runs in place of the DO=0 ones and the
// servers that have any, in table order: the tables, columns and
// ratios of the query zone then read the DO mix.
func (r *results) doView() *results {
	d := *r
	d.Runs = r.DORuns
	d.Servers = nil
	for _, s := range r.Servers {
		if len(r.DORuns[s]) > 0 {
			d.Servers = append(d.Servers, s)
		}
	}
	return &d
}

// doCost is server's DO=1 ÷ DO=0 value of metric m per repetition (the
// same repetition's pair), then summarized.
func (r *results) doCost(server string, m metric) stat {
	var v []float64
	for _, do := range r.DORuns[server] {
		for _, plain := range r.Runs[server] {
			if plain.Rep == do.Rep && m.has(do) && m.has(plain) && m.Get(plain) != 0 {
				v = append(v, m.Get(do)/m.Get(plain))
			}
		}
	}
	return summarize(v)
}

// writeSigned writes the section of the DO=1 mix on the signed query
// zone; nothing when it was not run (a note says why).
func (r *results) writeSigned(w io.Writer) {
	if r.DOSigning == "" {
		return
	}
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	d := r.doView()
	p("\n## DO=1 queries: the signed %d-name query zone under load\n\n", r.QNames)
	p("The query zone signed with %s; %d records. Served by every server that serves a pre-signed zone as it is (PowerDNS's bind backend needs a DNSSEC database for that, and the baseline build may predate DNSSEC: neither runs here). %s.\n\n", r.DOSigning, r.DORecords, r.DOLoad)
	d.writeTable(w, queryMetrics, d.Servers)
	p("\n| server | zonekeeper ÷ server, queries/CPU-s (DO=1) | DO=1 ÷ DO=0 queries/CPU-s, same server and repetition |\n|---|---|---|\n")
	cpu := metricNamed("queries/CPU-s")
	for _, s := range d.Servers {
		ratio := "—"
		if s != "zonekeeper" {
			ratio = d.ratio(s, cpu).cell(fmtRatio)
		}
		p("| %s | %s | %s |\n", s, ratio, r.doCost(s, cpu).cell(fmtRatio))
	}
	fast, share := d.fastShareOf(r.DOCounters)
	p("\nzonekeeper's fast-path counters over the DO=1 load (last repetition): %s; fast-path share: %s.\n", fast, share.cell(fmtShare))
	for _, e := range r.DOErrors {
		p("\n%s", e)
	}
	if len(r.DOErrors) > 0 {
		p("\n")
	}
}
