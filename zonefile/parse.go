package zonefile

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// entry is one parsed record with the place it came from.
type entry struct {
	rr   dns.RR
	file int32 // index in the parse's file names; 0 is the main file
	line int32
}

// Load reads the zonefile at path, with origin as its initial $ORIGIN
// (when origin is empty, the file name without ".zone"), and validates it.
//
// $INCLUDE is allowed but confined to the zonefile's directory. Load
// returns the zone and every finding; when any finding is an error the
// zone is nil and err is an *InvalidError listing them. Other errors
// (the file cannot be opened) are returned as they are.
func Load(path, origin string) (*Zone, Findings, error) {
	if origin == "" {
		origin = OriginFromPath(path)
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("zonefile: %w", err)
	}
	defer root.Close()
	f, err := root.Open(base)
	if err != nil {
		return nil, nil, fmt.Errorf("zonefile: %w", err)
	}
	defer f.Close()
	data, err := readAll(f)
	if err != nil {
		return nil, nil, fmt.Errorf("zonefile: %w", err)
	}
	z, findings, err := parse(data, origin, path, base, root.FS())
	if z != nil {
		z.FileSum = sha256.Sum256(data)
	}
	return z, findings, err
}

// readAll reads f whole into a buffer of its size: zonefiles are parsed
// from memory, in parallel when they are big.
func readAll(f fs.File) ([]byte, error) {
	size := 0
	if st, err := f.Stat(); err == nil && st.Size() < 1<<40 {
		size = int(st.Size())
	}
	buf := bytes.NewBuffer(make([]byte, 0, size+bytes.MinRead))
	_, err := buf.ReadFrom(f)
	return buf.Bytes(), err
}

// Parse reads a zonefile from r and validates it as Load does. name is
// used in findings. $INCLUDE is not allowed.
func Parse(r io.Reader, origin, name string) (*Zone, Findings, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, fmt.Errorf("zonefile: %w", err)
	}
	return parse(data, origin, name, name, nil)
}

// OriginFromPath returns the zone origin a file name stands for: the base
// name without a trailing ".zone", fully qualified and lower case.
func OriginFromPath(path string) string {
	name := strings.TrimSuffix(filepath.Base(path), ".zone")
	return strings.ToLower(dns.Fqdn(name))
}

// parse runs the ZoneParser over data. display is the name shown in
// findings for the main file; base is its name inside fsys (nil: no
// $INCLUDE).
func parse(data []byte, origin, display, base string, fsys fs.FS) (*Zone, Findings, error) {
	origin = strings.ToLower(dns.Fqdn(origin))
	if _, ok := dns.IsDomainName(origin); !ok {
		return nil, nil, fmt.Errorf("zonefile: bad origin %q", origin)
	}
	dirOf := filepath.Dir(display)
	// Findings name included files by their path on disk.
	displayName := func(name string) string {
		if name == base {
			return display
		}
		return filepath.Join(dirOf, filepath.FromSlash(name))
	}

	files := []string{display}
	entries, ok := parseChunks(data, origin, base)
	var includes []string
	if !ok {
		pos := &position{}
		zp := dns.NewZoneParser(newSliceReader(data, base, 1, pos), origin, base)
		if fsys != nil {
			zp.SetIncludeAllowed(true)
			zp.SetIncludeFS(trackedFS{fsys: fsys, pos: pos, opened: &includes})
		}
		// Every record starts on its own line but for $GENERATE's.
		entries = make([]entry, 0, bytes.Count(data, []byte{'\n'})+1)
		fileIndex := make(map[string]int32) // included files

		for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
			file, line := pos.file, pos.line
			if !pos.set {
				file, line = pos.lastFile, pos.lastLine
			}
			pos.reset()
			fi := int32(0)
			if file != base {
				var known bool
				if fi, known = fileIndex[file]; !known {
					fi = int32(len(files))
					fileIndex[file] = fi
					files = append(files, displayName(file))
				}
			}
			entries = append(entries, entry{rr: rr, file: fi, line: int32(line)})
		}
		if err := zp.Err(); err != nil {
			f := syntaxFinding(err, displayName, display)
			return nil, Findings{f}, &InvalidError{Errors: Findings{f}}
		}
	}
	z, findings, err := validate(origin, display, files, entries)
	if z != nil {
		z.Includes = includes
	}
	return z, findings, err
}

var (
	parseErrRE      = regexp.MustCompile(`^(.*?): dns: (.*) at line: (\d+):\d+$`)
	includeTargetRE = regexp.MustCompile("^failed to open `([^']*)'")
)

func dirOf(path string) string { return filepath.Dir(path) }

// syntaxFinding turns a ZoneParser error into a located finding. The
// parser's error type keeps its position private, so it is read from the
// message, whose format miekg/dns has kept stable.
func syntaxFinding(err error, displayName func(string) string, display string) Finding {
	f := Finding{File: display, Severity: Error, Rule: RuleSyntax, Detail: err.Error()}
	if m := parseErrRE.FindStringSubmatch(err.Error()); m != nil {
		f.File = displayName(m[1])
		f.Line, _ = strconv.Atoi(m[3])
		f.Detail = m[2]
	}
	if strings.Contains(f.Detail, "$INCLUDE") || strings.HasPrefix(f.Detail, "failed to open") {
		f.Rule = RuleInclude
		if errors.Is(err, fs.ErrInvalid) || strings.Contains(f.Detail, "escapes") {
			target := f.Detail
			if m := includeTargetRE.FindStringSubmatch(f.Detail); m != nil {
				target = m[1]
			}
			f.Detail = fmt.Sprintf("$INCLUDE %s is outside the zonefile's directory %s; only files beside the zonefile may be included", target, dirOf(display))
		}
	}
	return f
}

// position records where the record the parser is reading began: the
// first line since the previous record whose first non-blank character
// starts neither a comment nor a directive.
type position struct {
	set      bool
	file     string
	line     int
	lastFile string // where the parser last read, for records
	lastLine int    // made by $GENERATE
}

func (p *position) reset() { p.set = false }

// lineTracker notes, byte by byte as the parser reads, the line each
// record starts on, so that findings can name file:line.
type lineTracker struct {
	name  string
	pos   *position
	line  int
	state uint8 // 0: only blanks so far on this line, 1: content, 2: comment or directive
}

func (l *lineTracker) note(c byte) {
	l.pos.lastFile, l.pos.lastLine = l.name, l.line
	switch {
	case c == '\n':
		l.line++
		l.state = 0
	case l.state != 0:
	case c == ' ' || c == '\t' || c == '\r':
	case c == ';' || c == '$':
		l.state = 2
	default:
		l.state = 1
		if !l.pos.set {
			l.pos.set, l.pos.file, l.pos.line = true, l.name, l.line
		}
	}
}

// sliceReader feeds the ZoneParser from memory through io.ByteReader,
// which the parser uses when the reader has it.
type sliceReader struct {
	data []byte
	i    int
	lineTracker
}

// newSliceReader reads data, whose first line is line firstLine of the
// file called name.
func newSliceReader(data []byte, name string, firstLine int, pos *position) *sliceReader {
	return &sliceReader{data: data, lineTracker: lineTracker{name: name, pos: pos, line: firstLine}}
}

func (s *sliceReader) Read(p []byte) (int, error) {
	// The parser only uses ReadByte; Read exists to satisfy io.Reader.
	if len(p) == 0 {
		return 0, nil
	}
	c, err := s.ReadByte()
	if err != nil {
		return 0, err
	}
	p[0] = c
	return 1, nil
}

func (s *sliceReader) ReadByte() (byte, error) {
	if s.i >= len(s.data) {
		return 0, io.EOF
	}
	c := s.data[s.i]
	s.i++
	s.note(c)
	return c, nil
}

// lineReader is sliceReader for $INCLUDE files, read as a stream.
type lineReader struct {
	br *bufio.Reader
	lineTracker
}

func newLineReader(r io.Reader, name string, pos *position) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 64*1024), lineTracker: lineTracker{name: name, pos: pos, line: 1}}
}

func (l *lineReader) Read(p []byte) (int, error) {
	// The parser only uses ReadByte; Read exists to satisfy io.Reader.
	if len(p) == 0 {
		return 0, nil
	}
	c, err := l.ReadByte()
	if err != nil {
		return 0, err
	}
	p[0] = c
	return 1, nil
}

func (l *lineReader) ReadByte() (byte, error) {
	c, err := l.br.ReadByte()
	if err != nil {
		return c, err
	}
	l.note(c)
	return c, nil
}

// trackedFS opens $INCLUDE files through fsys and wraps them in a
// lineReader so that included records are located too.
type trackedFS struct {
	fsys   fs.FS
	pos    *position
	opened *[]string
}

func (t trackedFS) Open(name string) (fs.File, error) {
	f, err := t.fsys.Open(name)
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
