package daemon

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkEditToServed measures how long an edit of a zonefile takes to
// be answered: from the write of a file with a higher serial until a
// query over UDP returns that serial. The debounce of the watcher is the
// main part of it; the figure must stay well under one second.
func BenchmarkEditToServed(b *testing.B) {
	td := startDaemon(b, map[string]string{"example.org.zone": zoneText(1, "")})
	path := filepath.Join(td.dir, "example.org.zone")
	var total time.Duration
	serial := uint32(1)
	b.ResetTimer()
	for range b.N {
		serial++
		start := time.Now()
		if err := os.WriteFile(path, []byte(zoneText(serial, "")), 0o644); err != nil {
			b.Fatal(err)
		}
		for td.serial(b, "example.org.") != int64(serial) {
			if time.Since(start) > 10*time.Second {
				b.Fatal("edit not served within 10s")
			}
			time.Sleep(2 * time.Millisecond)
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/edit")
}
