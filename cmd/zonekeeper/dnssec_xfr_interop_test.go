package main

import (
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
)

// signedXfrZone is the unsigned text of the signed zones transferred,
// serial %d: a delegation with DS and one without, a CNAME and a
// wildcard, so that NSEC/NSEC3 sit beside each kind of data.
const signedXfrZone = `$TTL 300
@        IN SOA   ns1 hostmaster %d 3600 900 1209600 300
         IN NS    ns1
         IN MX    10 mail
ns1      IN A     127.0.0.1
mail     IN A     127.0.0.25
www      IN A     127.0.0.80
alias    IN CNAME www
*.wild   IN TXT   "wildcard"
secure   IN NS    ns.secure
         IN DS    12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
ns.secure IN A    127.0.0.3
insecure IN NS    ns.insecure
ns.insecure IN A  127.0.0.4
`

// wireRecords returns rrs each packed uncompressed, owner lower-cased,
// in hex and sorted: records equal byte for byte compare equal.
func wireRecords(t *testing.T, rrs []dns.RR) []string {
	t.Helper()
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		rr = dns.Copy(rr)
		rr.Header().Name = strings.ToLower(rr.Header().Name)
		buf := make([]byte, dns.Len(rr)+64)
		n, err := dns.PackRR(rr, buf, 0, nil, false)
		if err != nil {
			t.Fatalf("packing %s: %v", rr, err)
		}
		out = append(out, dns.TypeToString[rr.Header().Rrtype]+" "+hex.EncodeToString(buf[:n]))
	}
	slices.Sort(out)
	return out
}

// missing returns the elements of sorted a that sorted b lacks.
func missing(a, b []string) []string {
	var out []string
	for _, x := range a {
		if _, found := slices.BinarySearch(b, x); !found {
			out = append(out, x)
		}
	}
	return out
}

// dnssecTypes counts the DNSSEC records among rrs by type.
func dnssecTypes(rrs []dns.RR) map[string]int {
	n := map[string]int{}
	for _, rr := range rrs {
		switch t := rr.Header().Rrtype; t {
		case dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3, dns.TypeNSEC3PARAM, dns.TypeDNSKEY, dns.TypeDS:
			n[dns.TypeToString[t]]++
		}
	}
	return n
}

// TestSignedZoneTransfers: zonekeeper, a secondary of BIND serving two
// zones signed by dnssec-signzone (NSEC, NSEC3), holds every record of
// each byte for byte as AXFR brought it; a re-signed version (new
// serial, new RRSIGs only) arrives by IXFR, and zonekeeper answers its
// own IXFR of it with a difference of only the SOA and signatures.
func TestSignedZoneTransfers(t *testing.T) {
	key := newTSIGKey(t, "xfer.key", "hmac-sha256")
	bin := buildZonekeeper(t, t.TempDir())
	zk := startZKNode(t, bin, zkOptions{IP: zkIP, Flags: []string{"--allow-axfr", "127.0.0.1"}})
	zk.addKey(key)

	type signedCase struct {
		origin string
		signer *signedZone
		file   string
	}
	var cases []*signedCase
	var zones []bindZone
	for _, nsec3 := range []bool{false, true} {
		origin := "nsec.signed-xfr.test."
		if nsec3 {
			origin = "nsec3.signed-xfr.test."
		}
		c := &signedCase{origin: origin, signer: newSignedZone(t, origin, nsec3), file: filepath.Join(t.TempDir(), "primary.zone")}
		writeTestFile(t, c.file, c.signer.sign(fmt.Sprintf(signedXfrZone, 1), "now-3600", "now+864000"))
		cases = append(cases, c)
		zones = append(zones, bindZone{Origin: origin, File: c.file, AlsoNotify: []string{zk.dns}, Key: key.Name})
	}
	bind := startBIND(t, bindOptions{Keys: []tsigKey{key}, Zones: zones})

	for _, c := range cases {
		t.Run(c.origin, func(t *testing.T) {
			diag := func() string {
				return "named log:\n" + logLines(bind.Log(), 40, strings.TrimSuffix(c.origin, ".")+"/IN") +
					"\nzonekeeper events:\n" + zk.eventsText(c.origin) + "\nzonekeeper log:\n" + zk.proc.Output()
			}
			zk.ok("zone", "add-secondary", c.origin, bind.Addr, "--tsig", key.Name)
			waitSerial(t, zk.dns, c.origin, 1, propagationTimeout, diag)

			same := func(serial uint32) []dns.RR {
				t.Helper()
				var sets [2][]string
				var bodies [2][]dns.RR
				for i, addr := range []string{bind.Addr, zk.dns} {
					k := &key
					if i == 1 {
						k = nil
					}
					res, err := transferFrom(addr, c.origin, 0, k, "127.0.0.1")
					if err != nil {
						t.Fatalf("AXFR %s from %s: %v", c.origin, addr, err)
					}
					body, err := axfrBody(res.Records)
					if err != nil {
						t.Fatalf("AXFR %s from %s: %v", c.origin, addr, err)
					}
					bodies[i], sets[i] = body, wireRecords(t, body)
				}
				if !slices.Equal(sets[0], sets[1]) {
					t.Fatalf("serial %d: zonekeeper's copy differs from BIND's, byte for byte:\nonly at BIND:\n%s\nonly at zonekeeper:\n%s\n%s",
						serial, strings.Join(missing(sets[0], sets[1]), "\n"), strings.Join(missing(sets[1], sets[0]), "\n"), diag())
				}
				n := dnssecTypes(bodies[1])
				denial := "NSEC"
				if c.signer.nsec3 {
					denial = "NSEC3"
				}
				if n["RRSIG"] < 10 || n[denial] < 5 || n["DNSKEY"] != 2 || n["DS"] != 1 || (c.signer.nsec3 && n["NSEC3PARAM"] != 1) {
					t.Errorf("serial %d: DNSSEC records transferred: %v", serial, n)
				}
				return bodies[1]
			}
			before := same(1)

			// Re-signed upstream: the same data, a new serial, signatures
			// with another validity period.
			since := zk.lastEventID()
			writeTestFile(t, c.file, c.signer.sign(fmt.Sprintf(signedXfrZone, 2), "now-1800", "now+1728000"))
			bind.reload(c.origin)
			waitSerial(t, zk.dns, c.origin, 2, propagationTimeout, diag)
			zk.waitEvent(c.origin, since, 5*time.Second, "ixfr-in ok", func(ev api.Event) bool {
				return ev.Kind == "ixfr-in" && ev.Outcome == api.OutcomeOK && ev.Serial == 2
			})
			after := same(2)
			if slices.Equal(wireRecords(t, before), wireRecords(t, after)) {
				t.Fatal("the re-signed version has the old signatures")
			}

			// zonekeeper's own IXFR from serial 1: an incremental answer
			// whose difference is the SOA and RRSIGs alone.
			res, err := transferFrom(zk.dns, c.origin, 1, nil, "127.0.0.1")
			if err != nil {
				t.Fatalf("IXFR=1 of %s from zonekeeper: %v", c.origin, err)
			}
			if got := soaSerials(res.Records); len(got) != 4 || !slices.Equal(got, []uint32{2, 1, 2, 2}) {
				t.Fatalf("IXFR=1 from zonekeeper: SOA serials %v, want [2 1 2 2] (one incremental difference)\n%v", got, res.Records)
			}
			sigs := 0
			for _, rr := range res.Records {
				switch rr.Header().Rrtype {
				case dns.TypeSOA:
				case dns.TypeRRSIG:
					sigs++
				default:
					t.Errorf("IXFR of a re-signing carries %s", rr)
				}
			}
			if sigs < 20 {
				t.Errorf("IXFR of a re-signing carries %d RRSIGs", sigs)
			}
		})
	}
}
