package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// pkgBenchmarks are the benchmarks of ours that one package holds.
type pkgBenchmarks struct {
	Dir   string   // slash-separated, relative to the tree: "daemon/answer"
	Names []string // without the Benchmark prefix, in the order asked
}

// benchFunc matches a top-level benchmark function's declaration.
var benchFunc = regexp.MustCompile(`(?m)^func Benchmark(\w+)\(\w+ \*testing\.B\)`)

// findBenchmarks finds, in the Go test files under root, the package
// that declares each of names (Benchmark+name). Each must be declared
// exactly once: the comparison sets the benchmarks of both sides beside
// each other by name alone.
func findBenchmarks(root string, names []string) ([]pkgBenchmarks, error) {
	wanted := map[string]bool{}
	for _, n := range names {
		wanted[n] = true
	}
	found := map[string][]string{} // name → directories
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			// What the go command ignores, and the module's own outputs.
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "bin" || name == "dist") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		for _, m := range benchFunc.FindAllStringSubmatch(string(src), -1) {
			if wanted[m[1]] && !slices.Contains(found[m[1]], rel) {
				found[m[1]] = append(found[m[1]], rel)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var pkgs []pkgBenchmarks
	for _, n := range names {
		dirs := found[n]
		switch len(dirs) {
		case 0:
			return nil, fmt.Errorf("no Benchmark%s in the Go tests under %s", n, root)
		case 1:
		default:
			return nil, fmt.Errorf("Benchmark%s is declared in %s: which one to compare is ambiguous", n, strings.Join(dirs, " and "))
		}
		i := slices.IndexFunc(pkgs, func(p pkgBenchmarks) bool { return p.Dir == dirs[0] })
		if i < 0 {
			pkgs = append(pkgs, pkgBenchmarks{Dir: dirs[0]})
			i = len(pkgs) - 1
		}
		pkgs[i].Names = append(pkgs[i].Names, n)
	}
	slices.SortFunc(pkgs, func(a, b pkgBenchmarks) int { return strings.Compare(a.Dir, b.Dir) })
	return pkgs, nil
}

// benchPattern is the -test.bench pattern that runs exactly the named
// benchmarks and their sub-benchmarks.
func benchPattern(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = regexp.QuoteMeta(n)
	}
	return "^Benchmark(" + strings.Join(q, "|") + ")$"
}

// queryPathPkg replaces the package of every benchmark compared: the
// same benchmark lives in ./daemon at the baseline and in daemon/answer
// or daemon/listen now, and benchstat compares only results of the
// same configuration (goos, goarch, pkg, cpu).
const queryPathPkg = "zonekeeper query path"

// normalize rewrites the "pkg:" lines of go test -bench output to
// queryPathPkg and leaves every other line as it is.
func normalize(out string) string {
	lines := strings.SplitAfter(out, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "pkg:") {
			nl := ""
			if strings.HasSuffix(l, "\n") {
				nl = "\n"
			}
			lines[i] = "pkg: " + queryPathPkg + nl
		}
	}
	return strings.Join(lines, "")
}
