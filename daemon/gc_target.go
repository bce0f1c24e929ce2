package daemon

import (
	"os"
	"runtime/debug"
	"sync"
)

// startGCPercent is the collector's target during large work: the
// zones' first load and the transfer of a large version. What that work
// keeps alive holds no pointers (packed records, compiled snapshots), so
// collecting more often costs little, and it keeps the peak resident size
// near the size of what is live rather than twice it.
const startGCPercent = 25

// gcTight counts the large work under way; the collector's own target
// is back once none is.
var gcTight struct {
	mu   sync.Mutex
	n    int
	prev int
}

// tightGC sets startGCPercent until the returned release is called,
// unless GOGC says otherwise. Calls nest and overlap: the previous
// target comes back when the last release is called.
func tightGC() (release func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	gcTight.mu.Lock()
	if gcTight.n == 0 {
		gcTight.prev = debug.SetGCPercent(startGCPercent)
	}
	gcTight.n++
	gcTight.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			gcTight.mu.Lock()
			defer gcTight.mu.Unlock()
			if gcTight.n--; gcTight.n == 0 {
				debug.SetGCPercent(gcTight.prev)
			}
		})
	}
}
