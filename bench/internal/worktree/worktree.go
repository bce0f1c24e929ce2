// Package worktree checks out another commit of the repository in a
// temporary git worktree, for the benchmarks that compare the working
// tree with a baseline commit (make bench-compare, bench-peers
// --baseline), and removes it again.
package worktree

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// Tree is a detached worktree of one commit.
type Tree struct {
	Dir   string // the checkout, absolute
	Rev   string // the commit, as git rev-parse --short names it
	repo  string // the main working tree it was added from
	added bool   // git worktree add succeeded: git has a record to remove
}

// live are the trees added and not yet removed, so that an interrupted
// benchmark can remove them before it exits (RemoveLive).
var live struct {
	sync.Mutex
	trees map[*Tree]bool
}

// git runs git in dir and returns its trimmed standard output.
func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// Top is the root of the working tree that holds the current directory.
func Top(ctx context.Context) (string, error) {
	return git(ctx, ".", "rev-parse", "--show-toplevel")
}

// Short is rev's commit abbreviated as git rev-parse --short does.
func Short(ctx context.Context, rev string) (string, error) {
	return git(ctx, ".", "rev-parse", "--short", rev+"^{commit}")
}

// Current names what the working tree holds: HEAD's short commit, with
// "-dirty" when tracked files differ from it (as git describe --dirty).
func Current(ctx context.Context) (string, error) {
	head, err := Short(ctx, "HEAD")
	if err != nil {
		return "", err
	}
	changed, err := git(ctx, ".", "status", "--porcelain", "--untracked-files=no")
	if err != nil {
		return "", err
	}
	if changed != "" {
		head += "-dirty"
	}
	return head, nil
}

// Add checks rev out, detached, in a new temporary directory (git
// worktree add --detach). The caller removes it with Remove.
func Add(ctx context.Context, rev string) (*Tree, error) {
	short, err := Short(ctx, rev)
	if err != nil {
		return nil, err
	}
	repo, err := Top(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "zonekeeper-"+short+"-")
	if err != nil {
		return nil, err
	}
	t := &Tree{Dir: dir, Rev: short, repo: repo}
	live.Lock()
	if live.trees == nil {
		live.trees = map[*Tree]bool{}
	}
	live.trees[t] = true
	live.Unlock()
	// Quiet: git lists the commit it checked out, which Rev says.
	if _, err := git(ctx, repo, "worktree", "add", "--quiet", "--detach", dir, short); err != nil {
		t.Remove()
		return nil, err
	}
	t.added = true
	return t, nil
}

// Remove deletes the worktree and git's record of it. It runs without
// the context Add had: an interrupted benchmark still cleans up.
func (t *Tree) Remove() error {
	live.Lock()
	delete(live.trees, t)
	live.Unlock()
	var err error
	if t.added {
		_, err = git(context.Background(), t.repo, "worktree", "remove", "--force", t.Dir)
	}
	// Whatever git did: the directory goes (add may have failed half way).
	if rmErr := os.RemoveAll(t.Dir); err == nil {
		err = rmErr
	}
	return err
}

// RemoveLive removes every tree added and not removed yet: for a
// signal handler that exits without running the deferred Removes.
func RemoveLive() {
	live.Lock()
	var ts []*Tree
	for t := range live.trees {
		ts = append(ts, t)
	}
	live.Unlock()
	for _, t := range ts {
		t.Remove()
	}
}

// Build compiles the tree's zonekeeper binary into out as `make build`
// does (static, -trimpath, stripped), its version set to the commit.
func (t *Tree) Build(ctx context.Context, out string) error {
	out, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath",
		"-ldflags", "-s -w -X main.version="+t.Rev, "-o", out, "./cmd/zonekeeper")
	cmd.Dir = t.Dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building zonekeeper at %s: %v: %s", t.Rev, err, strings.TrimSpace(string(b)))
	}
	return nil
}
