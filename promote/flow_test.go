package promote

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/internal/forge"
	"github.com/c5c3/kubectl-c5c3/internal/printers"
	"github.com/c5c3/kubectl-c5c3/pipeline"
)

// TestPromotePushPullRequestAndPreview is the whole flow on the test
// fleet: the health gate, the edit, the Diff preview against
// production's clusters, the signed-off commit, the push to an origin
// served over HTTP and a pull request on a fake GitHub API; then a second
// run from the promotion branch finds nothing to promote.
func TestPromotePushPullRequestAndPreview(t *testing.T) {
	t.Parallel()
	e := loadEnvironments(t)
	s := e.s
	bare := servedOrigin(t, e.repo, "")

	var (
		mu     sync.Mutex
		calls  []string
		prBody string
	)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		var pr map[string]string
		_ = json.Unmarshal(b, &pr)
		mu.Lock()
		if strings.HasSuffix(req.URL.Path, "/pulls") {
			prBody = pr["body"]
		}
		calls = append(calls, req.Method+" "+req.URL.Path+" "+req.Header.Get("Authorization")+" head="+pr["head"]+" base="+pr["base"])
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"number": 42, "html_url": "https://github.com/c5c3/c5c3-gitops/pull/42"}`)
	}))
	t.Cleanup(api.Close)
	before := snapshot(t, e.repo.Dir)

	// As `kubectl c5c3 promote staging production --open-pr --diff
	// --signoff -n <ns> --flux-namespace <ns>` with GITHUB_TOKEN set.
	o := e.options()
	o.DryRun, o.Diff, o.Signoff, o.OpenPR = false, true, true, true
	o.PullRequest = forge.Options{GitHubAPIURL: api.URL, GitHubToken: "ghp_test"}
	o.Fleet = func(ctx context.Context, _ *pipeline.Environment) (*fleet.Fleet, error) {
		return fleet.Discover(ctx, e.hub, fleet.Options{Namespace: s.Namespace, FluxNamespace: s.Namespace})
	}
	branch := "promote/staging-to-production-" + e.commit[:7]
	p, err := Run(ctxT(t), o)
	if err != nil {
		t.Fatalf("promote: %v", err)
	}
	var out bytes.Buffer
	expect.NoError(t, WriteText(&out, p, false, printers.Palette{}))
	for _, want := range []string{
		"Preview (kubectl c5c3 diff of the edited production):",
		"HelmRelease/" + s.Namespace + "/keystone-memcached",
		"Committed ", " on branch " + branch,
		"Pushed " + branch + " to origin",
		"Opened pull request #42: https://github.com/c5c3/c5c3-gitops/pull/42",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, out.String())
		}
	}
	pushed := gitT(t, bare, "rev-parse", "refs/heads/"+branch)
	mu.Lock()
	gotCalls, body := strings.Join(calls, "\n"), prBody
	mu.Unlock()
	if want := "POST /repos/c5c3/c5c3-gitops/pulls Bearer ghp_test head=" + branch + " base=main\n" +
		"POST /repos/c5c3/c5c3-gitops/statuses/" + pushed + " Bearer ghp_test head= base="; gotCalls != want {
		t.Fatalf("API calls %s, want %s", gotCalls, want)
	}
	for _, want := range []string{"| `HelmRelease/keystone-memcached/memcached` | HelmRelease |", "<details><summary>Preview: the edited production against its clusters</summary>", "### kubectl c5c3 diff"} {
		if !strings.Contains(body, want) {
			t.Errorf("PR body lacks %q:\n%s", want, body)
		}
	}
	msg := gitT(t, bare, "log", "-1", "--format=%B", "refs/heads/"+branch)
	for _, want := range []string{"promote(staging → production): 5 pins", "- HelmRelease/keystone-memcached/memcached: 7.4.16 → 7.5.0",
		"Promoted-From: staging@" + e.commit, "Promoted-To: production", "\nSoaked: ", "\nVerified: 1 Kustomizations, 0 HelmReleases on management\n",
		"Signed-off-by: Dana Operator <dana@c5c3.example>"} {
		if !strings.Contains(msg, want) {
			t.Errorf("commit message on origin lacks %q:\n%s", want, msg)
		}
	}
	assertUntouched(t, e.repo.Dir, before, "refs/heads/"+branch, "refs/remotes/origin/"+branch)
	gitT(t, e.repo.Dir, "rev-parse", "--verify", "refs/heads/"+branch)

	// Promoting again from the promotion branch: nothing to do.
	o.Base, o.SkipHealthCheck, o.FromRevision = branch, true, RevisionHEAD
	o.Diff, o.Signoff, o.OpenPR = false, false, false
	p, err = Run(ctxT(t), o)
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	out.Reset()
	expect.NoError(t, WriteText(&out, p, false, printers.Palette{}))
	if !strings.Contains(out.String(), "nothing to promote") {
		t.Errorf("second run: text lacks %q:\n%s", "nothing to promote", out.String())
	}
}
