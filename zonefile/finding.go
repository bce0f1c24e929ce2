package zonefile

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Severity says whether a finding stops a zone from loading.
type Severity int

const (
	// Warning findings are reported; the zone still loads.
	Warning Severity = iota
	// Error findings keep the zone from loading.
	Error
)

func (s Severity) String() string {
	if s == Error {
		return "error"
	}
	return "warning"
}

// Rule names used in findings. They are stable: tests, scripts and
// operators match on them.
const (
	RuleSyntax          = "syntax"           // the zonefile does not parse
	RuleInclude         = "include"          // an $INCLUDE that cannot be read: outside the zone's directory, missing, not a regular file
	RuleSOAMissing      = "soa-missing"      // no SOA at the apex
	RuleSOAMultiple     = "soa-multiple"     // more than one SOA at the apex
	RuleSOANotApex      = "soa-not-apex"     // an SOA below the apex
	RuleNSMissing       = "ns-missing"       // no NS at the apex
	RuleCNAMEConflict   = "cname-and-other"  // CNAME beside other data (RFC 1034 §3.6.2)
	RuleCNAMEMultiple   = "cname-multiple"   // more than one CNAME at a name
	RuleDuplicate       = "duplicate-rr"     // an identical record appears twice
	RuleTTLRange        = "ttl-range"        // TTL above 2^31-1 (RFC 2181 §8)
	RuleTTLMismatch     = "ttl-mismatch"     // one RRset with differing TTLs (RFC 2181 §5.2)
	RuleOutOfZone       = "out-of-zone"      // owner not at or below the origin
	RuleBelowDelegation = "below-delegation" // non-glue data below a zone cut
	RuleClass           = "class"            // a class other than IN
	RuleTooManyRecords  = "too-many-records" // more records than Loader.MaxRecords allows
)

// Finding is one problem found in a zonefile, located by file and line.
type Finding struct {
	File     string
	Line     int
	Severity Severity
	Rule     string
	Detail   string
}

// String formats the finding as "file:line: rule: detail", prefixed with
// "warning: " for warnings.
func (f Finding) String() string {
	loc := f.File
	if f.Line > 0 {
		loc = fmt.Sprintf("%s:%d", f.File, f.Line)
	}
	s := fmt.Sprintf("%s: %s: %s", loc, f.Rule, f.Detail)
	if f.Severity == Warning {
		s = "warning: " + s
	}
	return s
}

// Findings is the list of findings of one zonefile.
type Findings []Finding

// Errors returns only the findings of severity Error.
func (fs Findings) Errors() Findings {
	var out Findings
	for _, f := range fs {
		if f.Severity == Error {
			out = append(out, f)
		}
	}
	return out
}

// Warnings returns only the findings of severity Warning.
func (fs Findings) Warnings() Findings {
	var out Findings
	for _, f := range fs {
		if f.Severity == Warning {
			out = append(out, f)
		}
	}
	return out
}

// InvalidError is returned when a zonefile has error findings. It carries
// every error so that callers can list them all, not just the first.
type InvalidError struct {
	Errors Findings
}

func (e *InvalidError) Error() string {
	if len(e.Errors) == 0 {
		return "zonefile: invalid"
	}
	var b strings.Builder
	b.WriteString("zonefile: ")
	b.WriteString(e.Errors[0].String())
	if n := len(e.Errors) - 1; n > 0 {
		fmt.Fprintf(&b, " (and %d more)", n)
	}
	return b.String()
}

// maxDetail bounds a finding's detail: the parser quotes the token it
// stumbled on, and a 10 MB line is one token.
const maxDetail = 512

// Clip returns s cut to at most max bytes (at a character boundary),
// with a marker saying how much was cut, for text that goes into events,
// logs and CLI output.
func Clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	keep := max
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	return fmt.Sprintf("%s… [%d bytes cut]", s[:keep], len(s)-keep)
}
