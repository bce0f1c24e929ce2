package zonefile

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultDebounce is how long a directory must be quiet after a change
// before Watcher reports it: long enough to see a truncate-then-write or
// an editor's rename dance as one change, short enough that an edit is
// served well within a second.
const DefaultDebounce = 150 * time.Millisecond

// Watcher watches one directory and reports the names of files that were
// created, written, renamed, removed or had their mode changed. Events
// are debounced: Changed is called once the directory has been quiet for
// Debounce, with every name touched since the last call. Hidden files
// (names starting with a dot, such as ReplaceFile's temporary files) are
// ignored. There is no periodic rescan: an idle directory costs nothing.
type Watcher struct {
	Dir      string
	Debounce time.Duration        // default DefaultDebounce
	Changed  func(names []string) // called from Run's goroutine; "*" means events were lost: rescan all
	Ready    func()               // optional; called once the watch is in place
}

// Run watches until ctx is cancelled.
func (w *Watcher) Run(ctx context.Context) error {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("zonefile: watch %s: %w", w.Dir, err)
	}
	defer fw.Close()
	if err := fw.Add(w.Dir); err != nil {
		return fmt.Errorf("zonefile: watch %s: %w", w.Dir, err)
	}
	if w.Ready != nil {
		w.Ready()
	}
	debounce := w.Debounce
	if debounce <= 0 {
		debounce = DefaultDebounce
	}
	timer := time.NewTimer(debounce)
	timer.Stop()
	pending := make(map[string]bool)
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-fw.Events:
			if !ok {
				return nil
			}
			name := filepath.Base(ev.Name)
			if strings.HasPrefix(name, ".") {
				continue
			}
			pending[name] = true
			timer.Reset(debounce)
		case err, ok := <-fw.Errors:
			if !ok {
				return nil
			}
			// An overflow loses events: report every file as changed so
			// that the caller rescans rather than misses an edit.
			if err == fsnotify.ErrEventOverflow {
				pending["*"] = true
				timer.Reset(debounce)
				continue
			}
			return fmt.Errorf("zonefile: watch %s: %w", w.Dir, err)
		case <-timer.C:
			names := make([]string, 0, len(pending))
			for n := range pending {
				names = append(names, n)
			}
			clear(pending)
			w.Changed(names)
		}
	}
}
