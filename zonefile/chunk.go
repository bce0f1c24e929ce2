package zonefile

import (
	"bytes"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"
)

// The ZoneParser reads one byte at a time and is the bulk of the cost
// of loading a big zone, so a big zonefile is cut into chunks that are
// parsed at the same time, each by its own parser. A chunk starts on a
// line that begins a record with its owner written out, at the top
// level (not in parentheses or a quoted string); its parser is given the
// $ORIGIN and $TTL in force there, and its records keep their lines in
// the file. Whatever the pre-scan cannot vouch for sends the file down
// the one-parser path instead: $INCLUDE, $GENERATE, unknown or indented
// directives, escapes at line ends, strings running over lines, and a
// record without a TTL where no $TTL is in force (it then takes the
// previous record's, which a chunk cannot know). So does any syntax error in any
// chunk: the one parser then reports the first, exactly as it always
// has. FuzzChunks holds the two places where a chunk's parser could
// read differently from the one parser; see parseChunk.

// parallelMin is the size from which a zonefile is parsed in chunks, and
// chunkMin the smallest chunk worth a parser of its own. Tests lower them.
var (
	parallelMin = 4 << 20
	chunkMin    = 1 << 20
)

// chunk is one piece of a zonefile and the state its parser starts in.
type chunk struct {
	start, end int    // byte range in the file
	line       int    // line number of its first line
	lines      int    // lines in it: at most that many records
	origin     string // $ORIGIN in force at its start
	ttl        string // $TTL in force at its start, as written
}

// parseChunks parses data in chunks, in parallel, and returns the
// records in file order, with their dns.RR values when rich. ok is
// false when data must be parsed in one piece (see above), including
// when any chunk fails to parse.
func parseChunks(data []byte, origin, base string, rich bool) (p *parsed, ok bool) {
	workers := runtime.GOMAXPROCS(0)
	if len(data) < parallelMin || workers < 2 {
		return nil, false
	}
	// More chunks than workers, so that a worker that finishes early
	// takes another and none idles while the last chunk is parsed.
	return parseInChunks(data, origin, base, workers, max(len(data)/(4*workers), chunkMin), rich)
}

// parseInChunks is parseChunks with the number of parsers and the
// smallest chunk size given.
func parseInChunks(data []byte, origin, base string, workers, size int, rich bool) (*parsed, bool) {
	chunks := splitChunks(data, origin, size)
	if len(chunks) < 2 {
		return nil, false
	}

	// Each chunk writes its records into its own window of one slice, a
	// window as long as the chunk has lines, and packs them into arenas
	// of its own; the windows are then closed up in file order and the
	// arenas joined.
	at := make([]int, len(chunks)+1)
	for i, c := range chunks {
		at[i+1] = at[i] + c.lines
	}
	p := &parsed{entries: make([]entry, at[len(chunks)])}
	if rich {
		p.rrs = make([]dns.RR, len(p.entries))
	}
	window := func(i int) *parsed {
		w := &parsed{entries: p.entries[at[i]:at[i+1]]}
		if rich {
			w.rrs = p.rrs[at[i]:at[i+1]]
		}
		return w
	}
	counts := make([]int, len(chunks))
	arenas := make([]packer, len(chunks))
	var next atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range min(workers, len(chunks)) {
		wg.Go(func() {
			for !failed.Load() {
				i := int(next.Add(1)) - 1
				if i >= len(chunks) {
					return
				}
				n, ok := parseChunk(data, chunks[i], base, window(i), &arenas[i])
				if !ok {
					failed.Store(true)
					return
				}
				counts[i] = n
			}
		})
	}
	wg.Wait()
	if failed.Load() {
		return nil, false
	}
	nn, nd := 0, 0
	for i := range arenas {
		nn, nd = nn+len(arenas[i].names), nd+len(arenas[i].data)
	}
	if nn > maxArena || nd > maxArena {
		return nil, false
	}
	p.names, p.data = make([]byte, 0, nn), make([]byte, 0, nd)
	n := 0
	for i := range chunks {
		nb, db := uint32(len(p.names)), uint32(len(p.data))
		p.names = append(p.names, arenas[i].names...)
		p.data = append(p.data, arenas[i].data...)
		arenas[i] = packer{}
		for j := at[i]; j < at[i]+counts[i]; j++ {
			e := p.entries[j]
			e.name += nb
			e.data += db
			p.entries[n] = e
			if rich {
				p.rrs[n] = p.rrs[j]
			}
			n++
		}
	}
	clear(p.entries[n:])
	p.entries = p.entries[:n:n]
	if rich {
		clear(p.rrs[n:])
		p.rrs = p.rrs[:n:n]
	}
	return p, true
}

// maxArena bounds the arenas, whose offsets are uint32.
const maxArena = 1<<32 - 1<<17

// parseChunk parses one chunk into out's windows, packing into pk, and
// returns how many records it holds; ok is false on a syntax error or
// when out is too short.
func parseChunk(data []byte, c chunk, base string, out *parsed, pk *packer) (int, bool) {
	r := &chunkReader{line: c.line}
	if c.ttl != "" {
		// The prefix is one line, numbered one before the chunk's first.
		r.parts = append(r.parts, []byte("$TTL "+c.ttl+"\n"))
		r.line--
	}
	r.parts = append(r.parts, data[c.start:c.end])
	if c.end < len(data) {
		// The parser accepts a record without data (as in a dynamic
		// update) only when the file ends right after it: a blank line
		// keeps it from taking a chunk's end for the file's.
		r.parts = append(r.parts, []byte("\n"))
	}
	r.data, r.parts = r.parts[0], r.parts[1:]
	zp := dns.NewZoneParser(r, c.origin, base)
	n := 0
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if n == len(out.entries) || !r.set || ownerless(rr) {
			// The one parser reports an ownerless record.
			return 0, false
		}
		out.entries[n] = pk.entry(rr, 0, int32(r.start))
		if out.rrs != nil {
			out.rrs[n] = rr
		}
		r.set = false
		n++
	}
	if r.set && c.end < len(data) {
		// Content that made no record (a stray "()") would place the
		// next chunk's first record, for the one parser, on its line.
		return 0, false
	}
	return n, zp.Err() == nil
}

// chunkReader is sliceReader for a chunk: it notes where each record
// starts as lineTracker does, but as chunks hold neither $INCLUDE nor
// $GENERATE, it needs not track where the parser last read, which
// keeps the per-byte work to a comparison or two.
type chunkReader struct {
	data  []byte   // being read
	parts [][]byte // to read after data
	i     int
	line  int
	state uint8 // as lineTracker's
	set   bool  // a record has started since set was cleared
	start int   // the line it started on
}

func (r *chunkReader) Read(p []byte) (int, error) {
	// The parser only uses ReadByte; Read exists to satisfy io.Reader.
	if len(p) == 0 {
		return 0, nil
	}
	c, err := r.ReadByte()
	if err != nil {
		return 0, err
	}
	p[0] = c
	return 1, nil
}

func (r *chunkReader) ReadByte() (byte, error) {
	for r.i >= len(r.data) {
		if len(r.parts) == 0 {
			return 0, io.EOF
		}
		r.data, r.parts, r.i = r.parts[0], r.parts[1:], 0
	}
	c := r.data[r.i]
	r.i++
	if c == '\n' {
		r.line++
		r.state = 0
	} else if r.state == 0 {
		switch c {
		case ' ', '\t', '\r':
		case ';', '$':
			r.state = 2
		default:
			r.state = 1
			if !r.set {
				r.set, r.start = true, r.line
			}
		}
	}
	return c, nil
}

// splitChunks cuts data into chunks of at least size bytes, or returns
// nil when it cannot vouch for a cut (see the comment at the top).
func splitChunks(data []byte, origin string, size int) []chunk {
	if strayCR(data) {
		return nil
	}
	chunks := []chunk{{line: 1, origin: origin}}
	cur := &chunks[0]
	curOrigin, curTTL := origin, ""
	depth, quoted := 0, false
	var sc specials
	line := 1
	for off := 0; off < len(data); line++ {
		end := len(data)
		if i := bytes.IndexByte(data[off:], '\n'); i >= 0 {
			end = off + i
		}
		text := data[off:end]
		if len(text) > 0 && (depth > 0 || text[0] == ' ' || text[0] == '\t') {
			// The lexer may take a directive that does not start its
			// line for one; the pre-scan does not follow that.
			if t := bytes.TrimLeft(text, " \t"); len(t) > 0 && t[0] == '$' && !quoted {
				return nil
			}
		}
		if depth == 0 && !quoted && len(text) > 0 {
			if curTTL == "" && text[0] != '$' && !explicitTTL(text) {
				return nil
			}
			switch c := text[0]; {
			case c == '$':
				name, arg, ok := directive(text)
				if !ok {
					return nil
				}
				switch strings.ToUpper(name) {
				case "$ORIGIN":
					if curOrigin, ok = absoluteOrigin(arg, curOrigin); !ok {
						return nil
					}
				case "$TTL":
					curTTL = arg
				default:
					return nil // $INCLUDE, $GENERATE or unknown
				}
				off = end + 1
				continue
			case ownerByte(c):
				if off-cur.start >= size && len(data)-off >= size/2 {
					cur.end = off
					cur.lines = line - cur.line
					chunks = append(chunks, chunk{start: off, line: line, origin: curOrigin, ttl: curTTL})
					cur = &chunks[len(chunks)-1]
				}
			}
		}
		if first := sc.first(data, off); first < end || depth > 0 || quoted {
			if !scanLine(data[min(first, end):end], &depth, &quoted) {
				return nil
			}
		}
		off = end + 1
	}
	cur.end = len(data)
	cur.lines = line - cur.line + 1
	return chunks
}

// strayCR reports whether data holds a carriage return that does not
// end a line. The lexer drops every CR, so "0\r0" reads as "00"; the
// pre-scan follows only the line-ending CR of CRLF files.
func strayCR(data []byte) bool {
	for off := 0; off < len(data); {
		i := bytes.IndexByte(data[off:], '\r')
		if i < 0 {
			return false
		}
		off += i + 1
		if off < len(data) && data[off] != '\n' {
			return true
		}
	}
	return false
}

// explicitTTL reports whether a line at the top level is not a record
// or gives its record's TTL: the first field after the owner (there is
// none when the line starts with a blank) starts with a digit. Fields
// before the type are a TTL and a class, and a class never starts so.
func explicitTTL(text []byte) bool {
	t := bytes.TrimLeft(text, " \t\r")
	if len(t) == 0 || t[0] == ';' {
		return true
	}
	i := 0
	if text[0] != ' ' && text[0] != '\t' {
		for i < len(text) && text[i] != ' ' && text[i] != '\t' {
			switch {
			case text[i] == '\\':
				i++ // an escaped byte, blank or not, is part of the owner
			case special[text[i]]:
				return false
			}
			i++
		}
	}
	for i < len(text) && (text[i] == ' ' || text[i] == '\t') {
		i++
	}
	return i < len(text) && '0' <= text[i] && text[i] <= '9'
}

// ownerByte reports whether a line starting with c starts with an owner
// name the pre-scan understands.
func ownerByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '_' || c == '-' || c == '*' || c == '@' || c == '.'
}

// special marks the bytes scanLine must look at.
var special = [256]bool{'"': true, '(': true, ')': true, ';': true, '\\': true}

// specialBytes are the bytes of special, which most lines have none of.
const specialBytes = `"();\`

// specials finds the next special byte of each kind with IndexByte, so
// that lines without any are passed over without looking at each byte.
type specials struct {
	next  [len(specialBytes)]int // position of the next of each, or len(data)
	valid bool
}

// first returns the position of the first special byte at or after off,
// or len(data).
func (s *specials) first(data []byte, off int) int {
	m := len(data)
	for k := range s.next {
		if !s.valid || s.next[k] < off {
			s.next[k] = len(data)
			if i := bytes.IndexByte(data[off:], specialBytes[k]); i >= 0 {
				s.next[k] = off + i
			}
		}
		m = min(m, s.next[k])
	}
	s.valid = true
	return m
}

// scanLine follows parentheses and quoted strings through one line (no
// newline) as the zone lexer does, and reports false when the line
// ends inside a quoted string or an escape.
func scanLine(text []byte, depth *int, quoted *bool) bool {
	for i := 0; i < len(text); i++ {
		c := text[i]
		if !special[c] {
			continue
		}
		switch {
		case c == '\\':
			i++
			if i >= len(text) {
				return false
			}
		case c == '"':
			*quoted = !*quoted
		case *quoted:
		case c == ';':
			return true
		case c == '(':
			*depth++
		case c == ')':
			*depth--
			if *depth < 0 {
				return false
			}
		}
	}
	return !*quoted
}

// directive splits a plain directive line ("$NAME arg", then blanks and
// an optional comment) into its name and argument.
func directive(text []byte) (name, arg string, ok bool) {
	// Split on the lexer's blanks only, not on all of Unicode's.
	fields := strings.FieldsFunc(strings.TrimSuffix(string(text), "\r"), func(r rune) bool { return r == ' ' || r == '\t' })
	if len(fields) < 2 {
		return "", "", false
	}
	if len(fields) > 2 && !strings.HasPrefix(fields[2], ";") {
		return "", "", false
	}
	if strings.ContainsAny(fields[1], "\"();\\") {
		return "", "", false
	}
	return fields[0], fields[1], true
}

// absoluteOrigin resolves an $ORIGIN argument against the origin in
// force, as the parser does.
func absoluteOrigin(arg, cur string) (string, bool) {
	if arg == "@" {
		return cur, true
	}
	if _, ok := dns.IsDomainName(arg); !ok {
		return "", false
	}
	if dns.IsFqdn(arg) {
		return arg, true
	}
	if cur == "." {
		return arg + cur, true
	}
	return arg + "." + cur, true
}
