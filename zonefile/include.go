package zonefile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// zoneDir is where a zonefile is read from: its directory, opened as an
// os.Root so that no $INCLUDE reaches outside it, and the names the
// file and its includes go by in the parser and in findings.
type zoneDir struct {
	root   *os.Root // nil: the text came from a reader (Parse), no $INCLUDE
	path   string   // the zonefile as the caller named it, shown in findings
	base   string   // its name in root
	prefix string   // the directory's absolute path, slash-separated, without its leading slash, ending in one ("" for "/")
}

// openZoneDir opens the directory of the zonefile at path.
func openZoneDir(path string) (*zoneDir, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	prefix := strings.TrimLeft(filepath.ToSlash(abs), "/")
	if prefix != "" {
		prefix += "/"
	}
	return &zoneDir{root: root, path: path, base: base, prefix: prefix}, nil
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

// parserName is the name the ZoneParser is given for the zonefile: its
// absolute path. miekg/dns joins a relative $INCLUDE path to the
// including file's directory, then cuts the leading slash off what it
// has, absolute or not, before it asks the file system for it. Given
// the file's absolute path, what it asks for is always the absolute
// path meant, without that slash, so that an include outside the
// directory ("/etc/passwd", "../x") is told from one inside it, and an
// absolute path is not taken for one relative to the directory.
func (d *zoneDir) parserName() string {
	if d.root == nil {
		return d.base
	}
	return "/" + d.prefix + d.base
}

// rel returns the name in the directory of a file as the parser names
// it (in an error, or to open it), and false when it is outside.
func (d *zoneDir) rel(name string) (string, bool) {
	if d.root == nil {
		return name, true
	}
	name = strings.TrimLeft(name, "/")
	if name+"/" == d.prefix {
		return ".", true // the directory itself, refused as one
	}
	return strings.CutPrefix(name, d.prefix)
}

// parserDisplay is display for a file as the parser names it.
func (d *zoneDir) parserDisplay(name string) string {
	if rel, ok := d.rel(name); ok {
		return d.display(rel)
	}
	return name
}

// errOutside refuses an $INCLUDE of a file outside the zonefile's
// directory.
var errOutside = errors.New("outside the zonefile's directory")

// trackedFS opens the $INCLUDE files of a zoneDir, only regular files
// inside it, and wraps them in a lineReader so that included records
// are located too.
type trackedFS struct {
	dir    *zoneDir
	pos    *position
	opened *[]string
}

func (t trackedFS) Open(name string) (fs.File, error) {
	rel, ok := t.dir.rel(name)
	if !ok {
		return nil, errOutside
	}
	f, _, err := t.dir.open(rel)
	if err != nil {
		return nil, err
	}
	*t.opened = append(*t.opened, rel)
	return &trackedFile{File: f, lineReader: newLineReader(f, rel, t.pos)}, nil
}

type trackedFile struct {
	fs.File
	*lineReader
}

func (t *trackedFile) Read(p []byte) (int, error) { return t.lineReader.Read(p) }
