package main

import (
	"errors"
	"fmt"
	"io"

	"zonekeeper/zonefile"
)

// runCheck implements `zonekeeper check FILE [--origin NAME] [--ops]`:
// exit 0 when the zonefile is valid (warnings printed), 1 when it has
// errors, each printed as file:line: rule: detail. --ops adds the offline
// RFC 2182 / RFC 1912 lint (zonefile.LintOps); it never sends a packet.
func runCheck(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("check", "check FILE [--origin NAME] [--ops]", stderr)
	origin := fs.String("origin", "", "zone origin (default: the file name without .zone)")
	ops := fs.Bool("ops", false, "also lint against RFC 2182 / RFC 1912 operational practice (offline)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return fmt.Errorf("check: give exactly one zonefile, got %d arguments", len(pos))
	}
	path := pos[0]
	z, findings, err := zonefile.Load(path, *origin)
	for _, f := range findings {
		fmt.Fprintln(stdout, f.String())
	}
	var inv *zonefile.InvalidError
	switch {
	case errors.As(err, &inv):
		fmt.Fprintf(stderr, "zonekeeper: %s: %d error(s); the zone would not load\n", path, len(inv.Errors))
		return exitError{1}
	case err != nil:
		fmt.Fprintf(stderr, "zonekeeper: %v\n", err)
		return exitError{1}
	}
	// A signed zone's structure: unsigned RRsets, the NSEC chain, NSEC3
	// parameters (zonefile/dnssec.go).
	signed, err := zonefile.LintDNSSECFile(path, *origin, z)
	if err != nil {
		fmt.Fprintf(stderr, "zonekeeper: %v\n", err)
		return exitError{1}
	}
	for _, f := range signed {
		fmt.Fprintln(stdout, f.String())
	}
	findings = append(findings, signed...)
	if *ops {
		opsFindings, err := zonefile.LintOpsFile(path, *origin, z)
		if err != nil {
			fmt.Fprintf(stderr, "zonekeeper: %v\n", err)
			return exitError{1}
		}
		for _, f := range opsFindings {
			fmt.Fprintln(stdout, f.String())
		}
		findings = append(findings, opsFindings...)
		if n := len(opsFindings.Errors()); n > 0 {
			fmt.Fprintf(stderr, "zonekeeper: %s: %d operational error(s)\n", path, n)
			return exitError{1}
		}
	}
	fmt.Fprintf(stdout, "%s: zone %s serial %d: %d records, %d warning(s): OK\n", path, z.Origin, z.Serial(), len(z.Records), len(findings.Warnings()))
	return nil
}
