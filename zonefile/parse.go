package zonefile

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// Load reads the zonefile at path, with origin as its initial $ORIGIN
// (when origin is empty, the file name without ".zone"), and validates it.
//
// $INCLUDE is allowed but confined to the zonefile's directory. The
// zonefile and its $INCLUDE files are read only when they are regular
// files (see OpenRegular): a named pipe, say, is refused at once rather
// than waited on. Load returns the zone and every finding; when any
// finding is an error the zone is nil and err is an *InvalidError
// listing them. Other errors (the file cannot be opened, or is not a
// regular file: errors.Is(err, ErrNotRegular)) are returned as they are.
func Load(path, origin string) (*Zone, Findings, error) { return Loader{}.Load(path, origin) }

// Loader reads zonefiles as Load, LoadPacked and Parse do, within
// limits. The zero Loader, which those functions use, has none.
type Loader struct {
	// MaxRecords is the most records a zonefile may produce, its
	// $INCLUDE files and $GENERATE directives counted in (a 1 KB file
	// of $GENERATE lines makes millions); the parse stops at the record
	// that goes past it and the file is refused with a finding of rule
	// RuleTooManyRecords naming that record's line (the $GENERATE
	// directive's, for a record it makes). 0: no limit.
	MaxRecords int
}

// Load is the package's Load within l's limits.
func (l Loader) Load(path, origin string) (*Zone, Findings, error) {
	res, findings, err := l.loadFile(path, origin, true)
	if err != nil {
		return nil, findings, err
	}
	z := res.zone()
	z.FileSum = res.fileSum
	return z, findings, nil
}

// loadFile reads, parses and validates the zonefile at path for Load
// (rich: the dns.RR values are kept) and LoadPacked, and sets the
// result's fileSum.
func (l Loader) loadFile(path, origin string, rich bool) (*result, Findings, error) {
	data, dir, err := readZonefile(path)
	if err != nil {
		return nil, nil, err
	}
	defer dir.Close()
	if origin == "" {
		origin = OriginFromPath(path)
	}
	// Hashed beside the parse, which then holds the only other
	// reference to the bytes and can let them go once it has read them.
	sum := make(chan [sha256.Size]byte, 1)
	go func(b []byte) { sum <- sha256.Sum256(b) }(data)
	res, findings, err := l.parse(data, origin, dir, rich)
	data = nil
	fileSum := <-sum
	if err != nil {
		return nil, findings, err
	}
	res.fileSum = fileSum
	return res, findings, nil
}

// readZonefile reads the zonefile at path whole, when it is a regular
// file, and returns it and its directory, which its $INCLUDE files are
// read from and the caller closes.
func readZonefile(path string) ([]byte, *zoneDir, error) {
	dir, err := openZoneDir(path)
	if err != nil {
		return nil, nil, fmt.Errorf("zonefile: %w", err)
	}
	f, fi, err := dir.open(dir.base)
	if err != nil {
		dir.Close()
		return nil, nil, fmt.Errorf("zonefile: %w", err)
	}
	defer f.Close()
	data, err := readAll(f, fi.Size())
	if err != nil {
		dir.Close()
		return nil, nil, fmt.Errorf("zonefile: read %s: %w", path, err)
	}
	return data, dir, nil
}

// readAll reads f, of the given size, whole into a buffer of that size:
// zonefiles are parsed from memory, in parallel when they are big.
func readAll(f io.Reader, size int64) ([]byte, error) {
	n := 0
	if size > 0 && size < 1<<40 {
		n = int(size)
	}
	buf := bytes.NewBuffer(make([]byte, 0, n+bytes.MinRead))
	_, err := buf.ReadFrom(f)
	return buf.Bytes(), err
}

// Parse reads a zonefile from r and validates it as Load does. name is
// used in findings. $INCLUDE is not allowed.
func Parse(r io.Reader, origin, name string) (*Zone, Findings, error) {
	return Loader{}.Parse(r, origin, name)
}

// Parse is the package's Parse within l's limits.
func (l Loader) Parse(r io.Reader, origin, name string) (*Zone, Findings, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, fmt.Errorf("zonefile: %w", err)
	}
	res, findings, err := l.parse(data, origin, &zoneDir{path: name, base: name}, true)
	if err != nil {
		return nil, findings, err
	}
	return res.zone(), findings, nil
}

// OriginFromPath returns the zone origin a file name stands for: the base
// name without a trailing ".zone", fully qualified and lower case.
func OriginFromPath(path string) string {
	name := strings.TrimSuffix(filepath.Base(path), ".zone")
	return strings.ToLower(dns.Fqdn(name))
}

// result is a valid zone as parse or Check leave it: the records, and
// which of them are served, in canonical order.
type result struct {
	origin   string
	p        *parsed
	served   []uint32
	includes []string
	fileSum  [sha256.Size]byte // of the zonefile's bytes, from loadFile
}

// zone returns the result as a Zone; the parse kept the records.
func (r *result) zone() *Zone {
	z := r.p.zone(r.origin, r.served)
	z.Includes = r.includes
	return z
}

// parse runs the ZoneParser over data, the zonefile of dir, and
// validates the records; $INCLUDE is allowed when dir has a root. rich
// keeps the dns.RR values, for a Zone; without it the result only
// makes a Packed.
func (l Loader) parse(data []byte, origin string, dir *zoneDir, rich bool) (*result, Findings, error) {
	origin = strings.ToLower(dns.Fqdn(origin))
	if _, ok := dns.IsDomainName(origin); !ok {
		return nil, nil, fmt.Errorf("zonefile: bad origin %q", origin)
	}
	display, base := dir.path, dir.base

	files := []string{display}
	p, ok := parseChunks(data, origin, base, rich)
	if ok && l.MaxRecords > 0 && len(p.entries) > l.MaxRecords {
		// Chunks hold neither $INCLUDE nor $GENERATE: they made no more
		// records than the file has lines, and are checked once parsed.
		return refuse(l.tooMany(display, int(p.entries[l.MaxRecords].line)))
	}
	var includes []string
	if !ok {
		pos := &position{}
		zp := dns.NewZoneParser(newSliceReader(data, base, 1, pos), origin, dir.parserName())
		if dir.root != nil {
			zp.SetIncludeAllowed(true)
			zp.SetIncludeFS(trackedFS{dir: dir, pos: pos, opened: &includes})
		}
		// Every record starts on its own line but for $GENERATE's.
		lines := bytes.Count(data, []byte{'\n'}) + 1
		p = &parsed{entries: make([]entry, 0, lines)}
		if rich {
			p.rrs = make([]dns.RR, 0, lines)
		}
		var pk packer
		fileIndex := make(map[string]int32) // included files

		for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
			file, line := pos.file, pos.line
			if !pos.set {
				file, line = pos.lastFile, pos.lastLine
			}
			pos.reset()
			if ownerless(rr) {
				return refuse(Finding{File: dir.display(file), Line: line, Severity: Error, Rule: RuleSyntax, Detail: noOwnerDetail(rr)})
			}
			if l.MaxRecords > 0 && len(p.entries) == l.MaxRecords {
				return refuse(l.tooMany(dir.display(file), line))
			}
			fi := int32(0)
			if file != base {
				var known bool
				if fi, known = fileIndex[file]; !known {
					fi = int32(len(files))
					fileIndex[file] = fi
					files = append(files, dir.display(file))
				}
			}
			p.entries = append(p.entries, pk.entry(rr, fi, int32(line)))
			if rich {
				p.rrs = append(p.rrs, rr)
			}
			if len(pk.names) > maxArena || len(pk.data) > maxArena {
				return refuse(Finding{File: display, Severity: Error, Rule: RuleSyntax, Detail: "zone too large: over 4 GiB of names or record data"})
			}
		}
		if err := zp.Err(); err != nil {
			return refuse(syntaxFinding(err, dir))
		}
		p.names, p.data = pk.names, pk.data
	}
	served, findings, err := validate(origin, display, files, p)
	if err != nil {
		return nil, findings, err
	}
	return &result{origin: origin, p: p, served: served, includes: includes}, findings, nil
}

// refuse returns the result of a parse stopped by one error finding.
func refuse(f Finding) (*result, Findings, error) {
	return nil, Findings{f}, &InvalidError{Errors: Findings{f}}
}

// tooMany is the finding that refuses a zonefile at the record, placed
// at file and line, that goes past l.MaxRecords.
func (l Loader) tooMany(file string, line int) Finding {
	return Finding{File: file, Line: line, Severity: Error, Rule: RuleTooManyRecords,
		Detail: fmt.Sprintf("more than %d records (zone-max-records): refused", l.MaxRecords)}
}

// ownerless reports whether the parser gave rr no owner. miekg/dns
// leaves the owner empty when a record's owner field is blank and no
// record before it in its file named one; BIND refuses such a file
// ("no current owner name"), and so do we, rather than take the empty
// name for the root or fail later on a record that cannot be packed.
func ownerless(rr dns.RR) bool { return rr.Header().Name == "" }

// noOwnerDetail says what is wrong with an ownerless record.
func noOwnerDetail(rr dns.RR) string {
	return fmt.Sprintf("no current owner name: the %s record leaves its owner blank and no record before it names one", typeName(rr.Header().Rrtype))
}

var (
	parseErrRE      = regexp.MustCompile(`^(.*?): dns: (.*) at line: (\d+):\d+$`)
	includeTargetRE = regexp.MustCompile("^failed to open `([^']*)'")
)

// syntaxFinding turns a ZoneParser error over the zonefile of dir into
// a located finding. The parser's error type keeps its position
// private, so it is read from the message, whose format miekg/dns has
// kept stable.
func syntaxFinding(err error, dir *zoneDir) Finding {
	f := Finding{File: dir.path, Severity: Error, Rule: RuleSyntax, Detail: err.Error()}
	if m := parseErrRE.FindStringSubmatch(err.Error()); m != nil {
		f.File = dir.parserDisplay(m[1])
		f.Line, _ = strconv.Atoi(m[3])
		f.Detail = m[2]
	}
	if strings.Contains(f.Detail, "$INCLUDE") || strings.HasPrefix(f.Detail, "failed to open") {
		f.Rule = RuleInclude
		target := f.Detail
		if m := includeTargetRE.FindStringSubmatch(f.Detail); m != nil {
			target = m[1]
		}
		var oe *openError
		switch {
		case errors.Is(err, errOutside) || strings.Contains(f.Detail, "escapes"):
			// "escapes": os.Root's word for a link that leads out.
			f.Detail = fmt.Sprintf("$INCLUDE %s is outside the zonefile's directory %s; only files beside the zonefile may be included", target, filepath.Dir(dir.path))
		case errors.As(err, &oe):
			f.Detail = fmt.Sprintf("$INCLUDE %s: %s", target, oe.detail)
		}
	}
	f.Detail = Clip(f.Detail, maxDetail)
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
