package daemon

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The commit path is the only writer of served zones (commit.go): no
// code of daemon/ or its packages but commit.go swaps or removes a
// snapshot in a zone table, writes a journal or queues a NOTIFY of a new
// version. The check reads the source: every name that holds a zone
// table (a field, variable or parameter of type *answer.Zones) and every call
// of a writer through such a name, the journal's writers and the
// notifier's zoneChanged, outside commit.go, is reported with file:line.
func TestOnlyTheCommitPathChangesZones(t *testing.T) {
	fset := token.NewFileSet()
	var files []*ast.File
	var names []string
	err := filepath.WalkDir(".", func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() && path != "." && (e.Name() == "testdata" || strings.HasPrefix(e.Name(), ".")) {
			return filepath.SkipDir
		}
		if e.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files, names = append(files, f), append(names, path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Names that hold a zone table.
	tables := map[string]bool{}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			var typ ast.Expr
			var idents []*ast.Ident
			switch n := n.(type) {
			case *ast.Field:
				typ, idents = n.Type, n.Names
			case *ast.ValueSpec:
				typ, idents = n.Type, n.Names
			default:
				return true
			}
			if isZonesType(typ) {
				for _, id := range idents {
					tables[id.Name] = true
				}
			}
			return true
		})
	}
	if !tables["zones"] {
		t.Fatal("found no zone table field named zones: the check would be vacuous")
	}

	writers := map[string]bool{"Set": true, "Delete": true, "ReplaceVersion": true, "setLocked": true}
	journalWriters := map[string]bool{"recordServed": true, "recordPacked": true, "drop": true}
	var found, allowed []string
	for i, f := range files {
		base := filepath.Base(names[i])
		if base == "zones.go" {
			continue // the zone table's own implementation
		}
		inCommit := base == "commit.go"
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			recv := lastName(sel.X)
			method := sel.Sel.Name
			bad := (writers[method] && tables[recv]) ||
				(journalWriters[method] && strings.HasSuffix(strings.ToLower(recv), "journal")) ||
				method == "zoneChanged"
			if !bad {
				return true
			}
			at := fset.Position(call.Pos()).String() + ": " + recv + "." + method
			if inCommit {
				allowed = append(allowed, at)
			} else {
				found = append(found, at)
			}
			return true
		})
	}
	for _, at := range found {
		t.Errorf("%s: only commit.go changes what a zone serves, its journal and its NOTIFY; go through the committer", at)
	}
	for _, want := range []string{"zones.Set", "zones.Delete", "journal.recordServed", "journal.drop", "zones.ReplaceVersion"} {
		if !slices.ContainsFunc(allowed, func(s string) bool { return strings.HasSuffix(s, want) }) {
			t.Errorf("commit.go has no call of %s: the check no longer matches the code", want)
		}
	}
}

// isZonesType reports whether typ is answer.Zones or *answer.Zones, of this package or
// qualified by another.
func isZonesType(typ ast.Expr) bool {
	if star, ok := typ.(*ast.StarExpr); ok {
		typ = star.X
	}
	switch t := typ.(type) {
	case *ast.Ident:
		return t.Name == "Zones"
	case *ast.SelectorExpr:
		return t.Sel.Name == "Zones"
	}
	return false
}

// lastName returns the last identifier of a receiver expression: zones
// for d.zones, s.d.zones and zones alike; "" for other expressions.
func lastName(x ast.Expr) string {
	switch x := x.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return x.Sel.Name
	case *ast.ParenExpr:
		return lastName(x.X)
	}
	return ""
}
