package gitrepo

import (
	"errors"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// ErrBadRevision is wrapped when a revision of the checkout cannot be
// resolved or read: unknown, or missing from a shallow clone.
var ErrBadRevision = errors.New("bad revision")

// Commit is a commit of the checkout read with go-git: the revision it was
// asked for by, its hash and its tree's regular files.
type Commit struct {
	Revision string
	Hash     string
	Files    []File
}

// ReadCommit resolves rev (a branch, remote branch, tag, full or short
// commit hash, or any revision go-git understands, such as HEAD~1) in the
// checkout holding dir and reads its tree from the git objects — regular
// files only, no symlinks or submodules — without touching the work tree,
// the index or any ref. An unknown revision, and a commit that a shallow
// clone does not hold, are ErrBadRevision, saying which.
//
// have, when not nil, offers a file's content from elsewhere (the working
// tree) by its path, nil when it has none: when that content's blob hash
// is the tree entry's, it is the file's content and the blob is not read.
func ReadCommit(dir, rev string, have func(path string) []byte) (*Commit, error) {
	repo, c, hint, err := resolve(dir, rev)
	if err != nil {
		return nil, err
	}
	if have == nil {
		have = func(string) []byte { return nil }
	}
	h := c.Hash
	tree, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("%w: the tree of commit %s (%q) is not in the checkout %s%s", ErrBadRevision, h, rev, dir, hint)
	}
	out := &Commit{Revision: rev, Hash: h.String()}
	walker := object.NewTreeWalker(tree, true, nil)
	defer walker.Close()
	for {
		name, entry, err := walker.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: reading the tree of %s (%q): %v%s", ErrBadRevision, h, rev, err, hint)
		}
		if entry.Mode != filemode.Regular && entry.Mode != filemode.Executable && entry.Mode != filemode.Deprecated {
			continue
		}
		if data := have(name); data != nil && plumbing.ComputeHash(plumbing.BlobObject, data) == entry.Hash {
			out.Files = append(out.Files, File{Path: name, Data: data})
			continue
		}
		blob, err := repo.BlobObject(entry.Hash)
		if err != nil {
			return nil, fmt.Errorf("%w: %s at %s (%q): %v%s", ErrBadRevision, name, h, rev, err, hint)
		}
		data, err := readBlob(blob)
		if err != nil {
			return nil, fmt.Errorf("reading %s at %s: %w", name, h, err)
		}
		out.Files = append(out.Files, File{Path: name, Data: data})
	}
	return out, nil
}

// ResolveRevision returns the commit rev names in the checkout holding
// dir, checking that the commit is there; errors as ReadCommit's.
func ResolveRevision(dir, rev string) (string, error) {
	_, c, _, err := resolve(dir, rev)
	if err != nil {
		return "", err
	}
	return c.Hash.String(), nil
}

func resolve(dir, rev string) (*git.Repository, *object.Commit, string, error) {
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if err != nil {
		return nil, nil, "", fmt.Errorf("%s is not a git checkout: %w", dir, err)
	}
	shallow, _ := repo.Storer.Shallow()
	hint := ""
	if len(shallow) > 0 {
		hint = " — the checkout is a shallow clone: fetch the base too (git fetch --unshallow, or fetch-depth: 0 in actions/checkout)"
	}
	h, err := repo.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return nil, nil, "", fmt.Errorf("%w: %q is not a branch, tag or commit of the checkout %s%s", ErrBadRevision, rev, dir, hint)
	}
	c, err := repo.CommitObject(*h)
	if err != nil {
		return nil, nil, "", fmt.Errorf("%w: commit %s (%q) is not in the checkout %s%s", ErrBadRevision, h, rev, dir, hint)
	}
	return repo, c, hint, nil
}

func readBlob(b *object.Blob) ([]byte, error) {
	r, err := b.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}
