#!/usr/bin/env bash
# Runs every Go fuzz target of the module for FUZZTIME each (default 30s),
# one after the other, and fails on the first crasher; Go keeps it in the
# package's testdata/fuzz/<target>/ so that `go test` replays it from then
# on. `make fuzz` (long by hand: FUZZTIME=10m) and `make test` (short).
set -euo pipefail
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-30s}
found=0
# The targets are found in the sources (func FuzzX(f *testing.F)), so
# that only the packages with targets are built.
while read -r file target; do
	pkg=./$(dirname "$file")
	found=$((found + 1))
	echo "fuzz: $pkg $target for $FUZZTIME"
	$GO test -run '^$' -fuzz "^$target\$" -fuzztime "$FUZZTIME" "$pkg"
done < <(git ls-files '*_test.go' | xargs grep -Ho '^func Fuzz[A-Za-z0-9_]*(' | sed 's/:func / /; s/($//' | sort)
echo "fuzz: $found targets, $FUZZTIME each: no crasher"
