package gitrepo

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// parseURL parses a repository URL, turning the scp-like ssh spelling
// ([user@]host:path) into ssh://host/path first.
func parseURL(raw string) (*url.URL, error) {
	s := strings.TrimSpace(raw)
	if !strings.Contains(s, "://") {
		if at := strings.Index(s, "@"); at >= 0 && at < strings.Index(s, ":") {
			s = s[at+1:]
		}
		s = "ssh://" + strings.Replace(s, ":", "/", 1)
	}
	return url.Parse(s)
}

// NormalizeURL reduces the ssh and https spellings of a repository URL to
// "host/path" without ".git", lower-cased, so that
// git@github.com:C5C3/gitops.git, ssh://git@github.com/c5c3/gitops and
// https://github.com/c5c3/gitops.git all compare equal.
func NormalizeURL(raw string) string {
	u, err := parseURL(raw)
	if err != nil {
		return strings.ToLower(strings.TrimSuffix(withoutPassword(raw), ".git"))
	}
	p := strings.TrimSuffix(strings.Trim(u.Path, "/"), ".git")
	return strings.ToLower(u.Hostname() + "/" + p)
}

// Remote is a repository URL split into host and repository path
// ("owner/repo", or "group/subgroup/project" on GitLab), without ".git".
type Remote struct {
	// Host is the host name, with the port for http(s) URLs.
	Host string
	// Path is the repository path.
	Path string
}

// ParseRemote splits https://host/owner/repo.git, ssh://git@host/owner/repo
// and git@host:owner/repo.git into host and path.
func ParseRemote(raw string) (Remote, error) {
	if strings.TrimSpace(raw) == "" {
		return Remote{}, errors.New("the checkout has no origin remote")
	}
	u, err := parseURL(raw)
	if err != nil || u.Hostname() == "" {
		return Remote{}, fmt.Errorf("cannot tell host and repository from the origin URL %q", withoutPassword(raw))
	}
	p := strings.TrimSuffix(strings.Trim(u.Path, "/"), ".git")
	if !strings.Contains(p, "/") {
		return Remote{}, fmt.Errorf("cannot tell the repository from the origin URL %q", withoutPassword(raw))
	}
	host := u.Hostname()
	if u.Port() != "" && u.Scheme != "ssh" {
		host = u.Host
	}
	return Remote{Host: host, Path: p}, nil
}

// withoutPassword replaces the password of a URL's user info with "***"
// (https://user:***@host/path), also when the URL does not parse, so that
// a URL can be quoted in a message.
func withoutPassword(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw // scp-like user@host:path has no password
	}
	authority, path := rest, ""
	if i := strings.Index(rest, "/"); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return raw
	}
	user, _, hasPass := strings.Cut(authority[:at], ":")
	if !hasPass {
		return raw
	}
	return scheme + "://" + user + ":***" + authority[at:] + path
}
