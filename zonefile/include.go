package zonefile

import (
	"io/fs"
	"os"
	"path/filepath"
)

// zoneDir is where a zonefile is read from: its directory, opened as an
// os.Root so that no $INCLUDE reaches outside it, and the names the
// file and its includes go by in the parser and in findings.
type zoneDir struct {
	root *os.Root // nil: the text came from a reader (Parse), no $INCLUDE
	path string   // the zonefile as the caller named it, shown in findings
	base string   // its name in root
}

// openZoneDir opens the directory of the zonefile at path.
func openZoneDir(path string) (*zoneDir, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &zoneDir{root: root, path: path, base: base}, nil
}

// Close closes the directory.
func (d *zoneDir) Close() error {
	if d.root == nil {
		return nil
	}
	return d.root.Close()
}

// open opens name, in the directory, when it is a regular file.
func (d *zoneDir) open(name string) (*os.File, fs.FileInfo, error) {
	return openRegular(d.root, filepath.FromSlash(name), d.display(name))
}

// display returns the path findings show for the file name in the
// directory.
func (d *zoneDir) display(name string) string {
	if name == d.base {
		return d.path
	}
	return filepath.Join(filepath.Dir(d.path), filepath.FromSlash(name))
}

// parserName is the name the ZoneParser is given for the zonefile.
func (d *zoneDir) parserName() string { return d.base }

// parserDisplay is display for a file as the parser names it.
func (d *zoneDir) parserDisplay(name string) string { return d.display(name) }

// trackedFS opens the $INCLUDE files of a zoneDir, only regular files
// inside it, and wraps them in a lineReader so that included records
// are located too.
type trackedFS struct {
	dir    *zoneDir
	pos    *position
	opened *[]string
}

func (t trackedFS) Open(name string) (fs.File, error) {
	f, _, err := t.dir.open(name)
	if err != nil {
		return nil, err
	}
	*t.opened = append(*t.opened, name)
	return &trackedFile{File: f, lineReader: newLineReader(f, name, t.pos)}, nil
}

type trackedFile struct {
	fs.File
	*lineReader
}

func (t *trackedFile) Read(p []byte) (int, error) { return t.lineReader.Read(p) }
