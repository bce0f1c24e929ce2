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
