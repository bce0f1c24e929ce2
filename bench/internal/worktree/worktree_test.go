package worktree

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// repo makes a git repository of one commit in a temporary directory
// and makes it the current directory.
func repo(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not found")
	}
	dir := t.TempDir()
	t.Chdir(dir)
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "-c", "commit.gpgsign=false"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("init", "-q")
	if err := os.WriteFile("f.txt", []byte("one\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run("add", "f.txt")
	run("commit", "-q", "-m", "one")
	return dir
}

// TestAddRemove checks that a worktree holds the commit asked for, that
// the working tree's own changes are named dirty, and that Remove leaves
// neither the directory nor git's record of it.
func TestAddRemove(t *testing.T) {
	dir := repo(t)
	ctx := context.Background()
	head, err := Short(ctx, "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	if cur, err := Current(ctx); err != nil || cur != head {
		t.Errorf("Current() = %q, %v; want %q", cur, err, head)
	}
	if err := os.WriteFile(filepath.Join(dir, "f.txt"), []byte("two\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if cur, err := Current(ctx); err != nil || cur != head+"-dirty" {
		t.Errorf("Current() with a change = %q, %v; want %q", cur, err, head+"-dirty")
	}

	tree, err := Add(ctx, "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	if tree.Rev != head {
		t.Errorf("Rev %q, want %q", tree.Rev, head)
	}
	b, err := os.ReadFile(filepath.Join(tree.Dir, "f.txt"))
	if err != nil || string(b) != "one\n" {
		t.Errorf("the worktree's f.txt: %q, %v; want the commit's", b, err)
	}
	if err := tree.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tree.Dir); !os.IsNotExist(err) {
		t.Errorf("%s still there: %v", tree.Dir, err)
	}
	out, err := git(ctx, dir, "worktree", "list", "--porcelain")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, tree.Dir) {
		t.Errorf("git still lists the worktree:\n%s", out)
	}

	if _, err := Add(ctx, "no-such-rev"); err == nil {
		t.Error("Add of an unknown revision succeeded")
	}
	// Interrupted: RemoveLive removes what is left.
	tree, err = Add(ctx, head)
	if err != nil {
		t.Fatal(err)
	}
	RemoveLive()
	if _, err := os.Stat(tree.Dir); !os.IsNotExist(err) {
		t.Errorf("RemoveLive left %s: %v", tree.Dir, err)
	}
}
