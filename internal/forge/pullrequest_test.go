package forge

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/c5c3/kubectl-c5c3/internal/gitrepo"
)

type captureTransport struct{ urls []string }

func (c *captureTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.urls = append(c.urls, req.Method+" "+req.URL.Scheme+"://"+req.URL.Host+req.URL.EscapedPath())
	body := `{"number": 1, "html_url": "u", "iid": 1, "web_url": "u"}`
	return &http.Response{StatusCode: http.StatusCreated, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: req}, nil
}

// TestPullRequestDefaults checks which API each origin is sent to when no
// API URL is given, and the provider chosen from the host.
func TestPullRequestDefaults(t *testing.T) {
	for _, tc := range []struct {
		origin, provider, want string
	}{
		{"https://github.com/c5c3/c5c3-gitops.git", "", "POST https://api.github.com/repos/c5c3/c5c3-gitops/pulls"},
		{"git@ghe.example.com:c5c3/c5c3-gitops.git", "", "POST https://ghe.example.com/api/v3/repos/c5c3/c5c3-gitops/pulls"},
		{"https://gitlab.com/c5c3/platform/c5c3-gitops.git", "", "POST https://gitlab.com/api/v4/projects/c5c3%2Fplatform%2Fc5c3-gitops/merge_requests"},
		{"https://git.example.com/c5c3/c5c3-gitops.git", GitLab, "POST https://git.example.com/api/v4/projects/c5c3%2Fc5c3-gitops/merge_requests"},
	} {
		rt := &captureTransport{}
		r, err := gitrepo.ParseRemote(tc.origin)
		if err != nil {
			t.Fatal(err)
		}
		o := Options{Provider: tc.provider, GitHubToken: "gh", GitLabToken: "gl", HTTPClient: &http.Client{Transport: rt}}
		if _, err := OpenPullRequest(context.Background(), o, r, "head", "main", "title", "body"); err != nil {
			t.Fatalf("%s: %v", tc.origin, err)
		}
		if len(rt.urls) != 1 || rt.urls[0] != tc.want {
			t.Errorf("%s: requests %v, want %s", tc.origin, rt.urls, tc.want)
		}
	}
	if _, err := OpenPullRequest(context.Background(), Options{GitHubToken: "gh"}, gitrepo.Remote{Host: "github.com", Path: "a/b/c"}, "h", "b", "t", "b"); err == nil ||
		!strings.Contains(err.Error(), "is not a GitHub OWNER/REPO") {
		t.Errorf("nested path on GitHub: %v", err)
	}
	if _, err := OpenPullRequest(context.Background(), Options{Provider: "bitbucket"}, gitrepo.Remote{Host: "x", Path: "a/b"}, "h", "b", "t", "b"); err == nil {
		t.Error("unknown provider accepted")
	}
}
