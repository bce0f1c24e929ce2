package zonefile

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkLoad parses and validates a 100 000-name zone from disk.
func BenchmarkLoad(b *testing.B) {
	path := filepath.Join(b.TempDir(), "example.org.zone")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString(head)
	for i := range 100_000 {
		fmt.Fprintf(w, "host%d IN A 127.%d.%d.%d\n", i, i>>16&255, i>>8&255, i&255)
	}
	w.Flush()
	f.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Load(path, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// writeBenchZone writes a zone shaped like issue 10's test zone: per name
// hN an A and an AAAA, every 10th name an MX and a TXT, every 20th a
// CNAME cN, plus the apex SOA and NS, glue, a wildcard and a delegation.
func writeBenchZone(tb testing.TB, path string, names int) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("$ORIGIN bench.test.\n$TTL 3600\n@ SOA ns1 hostmaster 1 3600 900 1209600 300\n" +
		"@ NS ns1\n@ NS ns2\nns1 A 127.0.0.1\nns2 A 127.0.0.2\n* A 127.0.9.9\nsub NS ns.sub\nns.sub A 127.0.0.5\n")
	for i := range names {
		fmt.Fprintf(w, "h%d A 10.%d.%d.%d\nh%d AAAA 2001:db8::%x:%x\n", i, i>>16&255, i>>8&255, i&255, i, i>>16, i&65535)
		if i%10 == 0 {
			fmt.Fprintf(w, "h%d MX 10 h%d\nh%d TXT \"v=spf1 -all %d\"\n", i, i+1, i, i)
		}
		if i%20 == 5 {
			fmt.Fprintf(w, "c%d CNAME h%d\n", i, i)
		}
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkLoad1M parses and validates a 1 000 000-name zone (2.25M
// records), the size issue 10 sets its cold-start target for.
func BenchmarkLoad1M(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.test.zone")
	writeBenchZone(b, path, 1_000_000)
	b.ReportAllocs()
	for b.Loop() {
		z, _, err := Load(path, "")
		if err != nil {
			b.Fatal(err)
		}
		if len(z.Records) != 2_250_008 {
			b.Fatalf("%d records", len(z.Records))
		}
	}
}
