package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/memory"
)

// Ref is a GitRepository's spec.ref: which commit source-controller
// checks out.
type Ref struct {
	Branch, Tag, SemVer, Name, Commit string
}

// DefaultBranch is the branch source-controller checks out when spec.ref
// names nothing (fluxcd/pkg/git DefaultBranch).
const DefaultBranch = "master"

// String describes the ref as source-controller picks it ("commit
// 0123…", "name refs/pull/1/head", "tag v1", "semver >=1", "branch
// main"), for messages and cache keys.
func (r Ref) String() string {
	switch {
	case r.Commit != "":
		if r.Branch != "" {
			return "commit " + r.Commit + " of branch " + r.Branch
		}
		return "commit " + r.Commit
	case r.Name != "":
		return "name " + r.Name
	case r.Tag != "":
		return "tag " + r.Tag
	case r.SemVer != "":
		return "semver " + r.SemVer
	case r.Branch != "":
		return "branch " + r.Branch
	}
	return "branch " + DefaultBranch
}

// Auth is the HTTP credentials of a remote: basic auth or a bearer token.
// They are sent to the remote only and never appear in errors.
type Auth struct {
	Username, Password, BearerToken string
}

func (a Auth) method() (transport.AuthMethod, error) {
	switch {
	case a.BearerToken != "" && (a.Username != "" || a.Password != ""):
		return nil, errors.New("basic auth and bearer token cannot be set at the same time")
	case a.BearerToken != "":
		return &githttp.TokenAuth{Token: a.BearerToken}, nil
	case a.Username != "" || a.Password != "":
		return &githttp.BasicAuth{Username: a.Username, Password: a.Password}, nil
	}
	return nil, nil
}

// sanitize removes the credentials of a and of rawURL's user info from
// err's message.
func (a Auth) sanitize(rawURL string, err error) error {
	if err == nil {
		return nil
	}
	// go-git's "authentication required: " has an empty detail.
	msg := strings.TrimSuffix(strings.TrimSpace(err.Error()), ":")
	msg = strings.ReplaceAll(msg, rawURL, withoutPassword(rawURL))
	for _, s := range []string{a.Password, a.BearerToken} {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "***")
		}
	}
	return errors.New(msg)
}

var fullHash = regexp.MustCompile(`^[0-9a-f]{40}$`)

// checkRemoteURL accepts http(s) URLs without a password in them, as
// source-controller does for HTTP transports with credentials; ssh
// remotes need keys this layer does not handle.
func checkRemoteURL(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s: only http:// and https:// GitRepository URLs are supported", withoutPassword(rawURL))
	}
	if _, ok := u.User.Password(); ok {
		return fmt.Errorf("%s: the URL must not contain credentials (put them in spec.secretRef)", withoutPassword(rawURL))
	}
	return nil
}

// ResolveRemote asks the repository at rawURL (go-git, no git binary)
// which commit ref points at, the way source-controller's checkout
// strategies pick it: spec.ref.commit first (taken as given, no request),
// then name, tag, semver (the highest tag that satisfies it), branch
// (default master). It returns the commit and the ref it was found
// through ("" for a commit).
func ResolveRemote(ctx context.Context, rawURL string, ref Ref, auth Auth) (commit, refName string, err error) {
	if ref.Commit != "" {
		if !fullHash.MatchString(ref.Commit) {
			return "", "", fmt.Errorf("spec.ref.commit %q is not a full SHA-1 commit hash", ref.Commit)
		}
		return ref.Commit, "", nil
	}
	if err := checkRemoteURL(rawURL); err != nil {
		return "", "", err
	}
	am, err := auth.method()
	if err != nil {
		return "", "", err
	}
	remote := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{rawURL}})
	refs, err := remote.ListContext(ctx, &git.ListOptions{Auth: am, PeelingOption: git.AppendPeeled})
	if err != nil {
		return "", "", auth.sanitize(rawURL, fmt.Errorf("listing the refs of %s: %w", rawURL, err))
	}
	byName := map[string]string{}
	for _, r := range refs {
		if r.Type() == plumbing.HashReference {
			byName[r.Name().String()] = r.Hash().String()
		}
	}
	// peeled is the commit of a ref, dereferencing an annotated tag.
	peeled := func(name string) (string, bool) {
		if h, ok := byName[name+"^{}"]; ok {
			return h, true
		}
		h, ok := byName[name]
		return h, ok
	}
	var want string
	switch {
	case ref.Name != "":
		want = strings.TrimSuffix(ref.Name, "^{}")
	case ref.Tag != "":
		want = "refs/tags/" + ref.Tag
	case ref.SemVer != "":
		c, err := semver.NewConstraint(ref.SemVer)
		if err != nil {
			return "", "", fmt.Errorf("spec.ref.semver %q: %w", ref.SemVer, err)
		}
		var best *semver.Version
		for name := range byName {
			tag, ok := strings.CutPrefix(name, "refs/tags/")
			if !ok || strings.HasSuffix(tag, "^{}") {
				continue
			}
			v, err := semver.NewVersion(tag)
			if err != nil || !c.Check(v) {
				continue
			}
			if best == nil || v.GreaterThan(best) || (v.Equal(best) && v.Original() > best.Original()) {
				best = v
			}
		}
		if best == nil {
			return "", "", fmt.Errorf("no tag of %s matches semver %q", withoutPassword(rawURL), ref.SemVer)
		}
		want = "refs/tags/" + best.Original()
	default:
		b := ref.Branch
		if b == "" {
			b = DefaultBranch
		}
		want = "refs/heads/" + b
	}
	h, ok := peeled(want)
	if !ok {
		return "", "", fmt.Errorf("%s has no %s (%s)", withoutPassword(rawURL), want, ref)
	}
	return h, want, nil
}

// ExportCommit fetches commit from the repository at rawURL into memory
// and writes the regular files of its tree under dir (symlinks and
// submodules are left out). refName is the ref ResolveRemote found the
// commit through: a branch or tag is fetched alone and shallow; without
// one (a pinned spec.ref.commit, or another ref) the history of
// ref.Branch, or of the whole repository, is fetched, as
// source-controller's commit checkout does.
func ExportCommit(ctx context.Context, rawURL string, ref Ref, refName, commit string, auth Auth, dir string) error {
	if err := checkRemoteURL(rawURL); err != nil {
		return err
	}
	am, err := auth.method()
	if err != nil {
		return err
	}
	opts := &git.CloneOptions{URL: rawURL, Auth: am, RemoteName: "origin", NoCheckout: true, Tags: git.NoTags}
	rn := plumbing.ReferenceName(refName)
	switch {
	case rn.IsBranch() || rn.IsTag():
		opts.ReferenceName, opts.SingleBranch, opts.Depth = rn, true, 1
	case refName == "" && ref.Branch != "":
		opts.ReferenceName, opts.SingleBranch = plumbing.NewBranchReferenceName(ref.Branch), true
	}
	repo, err := git.CloneContext(ctx, memory.NewStorage(), nil, opts)
	if err != nil {
		return auth.sanitize(rawURL, fmt.Errorf("cloning %s (%s): %w", rawURL, ref, err))
	}
	c, err := repo.CommitObject(plumbing.NewHash(commit))
	if err != nil {
		return fmt.Errorf("%s has no commit %s (%s): %w", withoutPassword(rawURL), commit, ref, err)
	}
	tree, err := c.Tree()
	if err != nil {
		return fmt.Errorf("reading the tree of %s: %w", commit, err)
	}
	return tree.Files().ForEach(func(f *object.File) error {
		if f.Mode != filemode.Regular && f.Mode != filemode.Executable {
			return nil
		}
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if rel, err := filepath.Rel(dir, p); err != nil || strings.HasPrefix(rel, "..") {
			return fmt.Errorf("commit %s: path %q leaves the tree", commit, f.Name)
		}
		data, err := f.Contents()
		if err != nil {
			return fmt.Errorf("commit %s: reading %s: %w", commit, f.Name, err)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, []byte(data), 0o644)
	})
}
