//go:build !unix

package zonefile

import "os"

// openNonblock is 0 where opening a file cannot wait for a writer the
// way a Unix named pipe's open does.
const openNonblock = 0

// clearNonblock does nothing: the file was opened blocking.
func clearNonblock(*os.File) error { return nil }
