package answer

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/miekg/dns"

	"zonekeeper/zonefile"
)

// aligned returns a copy of b in 8-byte aligned memory, as readAligned
// leaves a cache file.
func aligned(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	words := make([]uint64, (len(b)+7)/8)
	out := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), len(b))
	copy(out, b)
	return out
}

// encodeCache returns the cache file of s.
func encodeCache(t testing.TB, s *Snapshot, stamp CacheStamp, meta CacheMeta) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteCache(&buf, s, stamp, meta); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// cacheZones are the zones the round trip is checked on: mixed case,
// wildcards, delegations with glue, CNAME chains and loops, MX and SRV
// targets, empty non-terminals, and the shape of the 1M-name zone.
func cacheZones(t testing.TB) map[string]*zonefile.Zone {
	return map[string]*zonefile.Zone{
		"mixed":       mixedZone(t),
		"example.org": exampleOrg(t),
		"big":         bigZone(3000),
		"example.net": testZone(t, "example.net.",
			"@ 600 SOA ns1.example.org. host.example.org. 1 7200 3600 1209600 900",
			"@ 600 NS ns1.example.org.",
			"www 600 A 198.51.100.1",
		),
	}
}

// queryNames returns the names worth asking of s: every name it holds,
// a name below each, and a few that do not exist.
func queryNames(s *Snapshot) []string {
	var names []string
	for n := range s.nodes {
		name, _ := readName(s.ownerName(int32(n)))
		names = append(names, name, "below."+name, "x.y."+name)
	}
	return append(names, "nothere."+s.origin, "nothere.sub.wild."+s.origin, strings.ToUpper("WwW."+s.origin))
}

// readName decodes a wire name.
func readName(w []byte) (string, error) {
	name, _, err := dns.UnpackDomainName(w, 0)
	return name, err
}

func TestCacheRoundTrip(t *testing.T) {
	qtypes := []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeNS, dns.TypeMX, dns.TypeTXT, dns.TypeCNAME, dns.TypeSOA,
		dns.TypeANY, dns.TypeDS, dns.TypeSRV, dns.TypeAXFR, dns.TypePTR}
	for name, z := range cacheZones(t) {
		t.Run(name, func(t *testing.T) {
			orig := mustCompile(t, z)
			stamp := CacheStamp{Size: 1234, Mtime: time.Now().UnixNano(), Sum: sha256.Sum256([]byte(name))}
			meta := CacheMeta{Records: len(z.Records), Digest: zonefile.Digest(z)}
			b := encodeCache(t, orig, stamp, meta)
			got, h, err := decodeCache(aligned(b))
			if err != nil {
				t.Fatal(err)
			}
			if h.stamp != stamp || h.meta != meta {
				t.Errorf("stamp %+v meta %+v, want %+v %+v", h.stamp, h.meta, stamp, meta)
			}
			if got.origin != orig.origin || got.serial != orig.serial || !bytes.Equal(got.wire, orig.wire) ||
				!bytes.Equal(got.apexOwner, orig.apexOwner) || got.soaNeg != orig.soaNeg || got.ns != orig.ns ||
				got.expired != orig.expired || got.soa.String() != orig.soa.String() {
				t.Errorf("scalars differ:\n got %s %d %v %d %d %s\nwant %s %d %v %d %d %s", got.origin, got.serial, got.apexOwner, got.soaNeg, got.ns, got.soa,
					orig.origin, orig.serial, orig.apexOwner, orig.soaNeg, orig.ns, orig.soa)
			}
			if a, b := served(orig), served(got); !slices.Equal(a, b) {
				t.Fatalf("eachRecord differs: %d records, want %d", len(b), len(a))
			}

			// Every query gets the same reply, byte for byte.
			zo, zg := NewZones(), NewZones()
			zo.Set(orig)
			zg.Set(got)
			for _, full := range []bool{false, true} {
				ro, rg := newResponder(zo, 1232, full), newResponder(zg, 1232, full)
				for _, qname := range queryNames(orig) {
					for _, qt := range qtypes {
						m := question(qname, qt)
						q, err := m.Pack()
						if err != nil {
							t.Fatal(err)
						}
						for _, tcp := range []bool{false, true} {
							want := slices.Clone(ro.Respond(q, tcp))
							if reply := rg.Respond(q, tcp); !bytes.Equal(reply, want) {
								t.Fatalf("%s %s (full %v, tcp %v): replies differ", qname, dns.TypeToString[qt], full, tcp)
							}
						}
					}
				}
			}

			// An expired snapshot stays expired.
			b = encodeCache(t, orig.WithExpired(true), stamp, meta)
			if got, _, err = decodeCache(aligned(b)); err != nil || !got.Expired() {
				t.Errorf("expired snapshot: %v, expired %v", err, got != nil && got.Expired())
			}
		})
	}
}

func TestCacheDamage(t *testing.T) {
	s := mustCompile(t, exampleOrg(t))
	b := encodeCache(t, s, CacheStamp{Size: 1}, CacheMeta{})
	for _, at := range []int{0, 9, 20, 60, 150, len(b) / 2, len(b) - 20, len(b) - 6} {
		bad := slices.Clone(b)
		bad[at] ^= 0x10
		if _, _, err := decodeCache(aligned(bad)); err == nil {
			t.Errorf("byte %d of %d flipped: decoded", at, len(b))
		}
	}
	for _, n := range []int{0, 10, cacheHeaderLen, len(b) / 2, len(b) - 1} {
		if _, _, err := decodeCache(aligned(b[:n])); err == nil {
			t.Errorf("truncated to %d of %d: decoded", n, len(b))
		}
	}
	other := slices.Clone(b)
	other[8]++ // the format version
	if _, _, err := decodeCache(aligned(other)); !errors.Is(err, errCacheStale) {
		t.Errorf("another format: %v, want stale", err)
	}
	other = slices.Clone(b)
	other[20]++ // the layout fingerprint
	if _, _, err := decodeCache(aligned(other)); !errors.Is(err, errCacheStale) {
		t.Errorf("another layout: %v, want stale", err)
	}
}

// BenchmarkCacheDecode1M decodes the cache of a zone of the 1M-name test
// zone's shape, from memory: the file read itself is not timed.
func BenchmarkCacheDecode1M(b *testing.B) {
	s, err := Compile(bigZone(1000000))
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteCache(&buf, s, CacheStamp{}, CacheMeta{}); err != nil {
		b.Fatal(err)
	}
	file := aligned(buf.Bytes())
	buf = bytes.Buffer{}
	s = nil
	b.SetBytes(int64(len(file)))
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := decodeCache(file); err != nil {
			b.Fatal(err)
		}
	}
}
