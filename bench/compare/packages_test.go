package main

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// writeTree writes files (slash-separated path → content) under a new
// temporary directory and returns it.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, text := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// TestFindBenchmarks checks that a benchmark is found by its function
// name wherever it lives, as at the baseline (one package) and now (two),
// and that a missing or twice-declared one is an error.
func TestFindBenchmarks(t *testing.T) {
	names := []string{"Lookup", "Respond", "UDPServe"}
	base := writeTree(t, map[string]string{
		"daemon/lookup_bench_test.go": "package daemon\n\nfunc BenchmarkLookup(b *testing.B) {}\n\nfunc BenchmarkRespond(b *testing.B) {}\nfunc BenchmarkCompile(b *testing.B) {}\n",
		"daemon/udp_bench_test.go":    "package daemon\n\nfunc BenchmarkUDPServe(b *testing.B) {}\n",
		// Not Go tests, or ignored by the go command.
		"daemon/lookup.go":                  "package daemon\n\nfunc BenchmarkLookup(b *testing.B) {}\n",
		"daemon/testdata/x_test.go":         "package x\n\nfunc BenchmarkLookup(b *testing.B) {}\n",
		".git/x_test.go":                    "package x\n\nfunc BenchmarkLookup(b *testing.B) {}\n",
		"daemon/comment_test.go":            "package daemon\n\n// func BenchmarkUDPServe(b *testing.B) in a comment\n",
		"zonefile/load_test.go":             "package zonefile\n\nfunc BenchmarkLoad(b *testing.B) {}\n",
		"daemon/journal_test.go":            "package daemon\n\nfunc BenchmarkJournalRecord(b *testing.B) {}\n",
		"daemon/listen/not_a_bench_test.go": "package listen\n\nfunc benchmarkUDPServe(b *testing.B) {}\n",
	})
	got, err := findBenchmarks(base, names)
	if err != nil {
		t.Fatal(err)
	}
	want := []pkgBenchmarks{{Dir: "daemon", Names: []string{"Lookup", "Respond", "UDPServe"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("baseline: got %+v, want %+v", got, want)
	}

	here := writeTree(t, map[string]string{
		"daemon/listen/udp_bench_test.go":    "package listen\n\nfunc BenchmarkUDPServe(b *testing.B) {}\n",
		"daemon/answer/lookup_bench_test.go": "package answer\n\nfunc BenchmarkLookup(b *testing.B) {}\n\nfunc BenchmarkRespond(b *testing.B) {}\n",
	})
	got, err = findBenchmarks(here, names)
	if err != nil {
		t.Fatal(err)
	}
	want = []pkgBenchmarks{
		{Dir: "daemon/answer", Names: []string{"Lookup", "Respond"}},
		{Dir: "daemon/listen", Names: []string{"UDPServe"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("working tree: got %+v, want %+v", got, want)
	}

	if _, err := findBenchmarks(here, []string{"Lookup", "Gone"}); err == nil || !strings.Contains(err.Error(), "no BenchmarkGone") {
		t.Errorf("a missing benchmark: err %v", err)
	}
	twice := writeTree(t, map[string]string{
		"a/a_test.go": "package a\n\nfunc BenchmarkLookup(b *testing.B) {}\n",
		"b/b_test.go": "package b\n\nfunc BenchmarkLookup(b *testing.B) {}\n",
	})
	if _, err := findBenchmarks(twice, []string{"Lookup"}); err == nil || !strings.Contains(err.Error(), "a and b") {
		t.Errorf("a benchmark in two packages: err %v", err)
	}
}

// TestBenchPattern checks that the pattern runs the named benchmarks
// and their sub-benchmarks, and no benchmark whose name only starts
// alike.
func TestBenchPattern(t *testing.T) {
	re := regexp.MustCompile(benchPattern([]string{"Respond", "UDPServe"}))
	// go test matches each level of a sub-benchmark's name apart: the
	// pattern is for the top level.
	for name, want := range map[string]bool{
		"BenchmarkRespond": true, "BenchmarkUDPServe": true,
		"BenchmarkRespondSpread": false, "BenchmarkLookup": false, "XBenchmarkRespond": false,
	} {
		if got := re.MatchString(name); got != want {
			t.Errorf("%s: matched %v, want %v", name, got, want)
		}
	}
}

// TestNormalize checks that the package lines of both sides become one
// and nothing else changes.
func TestNormalize(t *testing.T) {
	base := "goos: linux\ngoarch: amd64\npkg: zonekeeper/daemon\ncpu: AMD EPYC\nBenchmarkLookup/exact-2   \t31000000\t        38.74 ns/op\t       0 B/op\t       0 allocs/op\nPASS\n"
	here := strings.Replace(base, "pkg: zonekeeper/daemon\n", "pkg: zonekeeper/daemon/answer\n", 1)
	if normalize(base) != normalize(here) {
		t.Errorf("the two sides differ after normalize:\n%s\n%s", normalize(base), normalize(here))
	}
	want := strings.Replace(base, "pkg: zonekeeper/daemon\n", "pkg: "+queryPathPkg+"\n", 1)
	if got := normalize(base); got != want {
		t.Errorf("normalize:\n%s\nwant\n%s", got, want)
	}
	if got := normalize("pkg: x"); got != "pkg: "+queryPathPkg {
		t.Errorf("last line without a newline: %q", got)
	}
}
