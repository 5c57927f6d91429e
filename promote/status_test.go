package promote

import (
	"bytes"
	"context"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/c5c3/kubectl-c5c3/internal/forge"
	"github.com/c5c3/kubectl-c5c3/internal/gitrepo"
)

// healthyPlan is a plan whose every gate passed on the promoted commit.
func healthyPlan() *Plan {
	return &Plan{
		From: FromSide{Environment: "staging", Commit: "3f2a9c1e00000000000000000000000000000000"},
		To:   ToSide{Environment: "production"},
		HealthCheck: &HealthCheck{Environment: "staging", Healthy: true, Commit: "3f2a9c1e00000000000000000000000000000000", Soaked: "2h13m",
			Kustomizations: []KustomizationHealth{{Namespace: "flux-system", Name: "staging-apps"}},
			Objects:        []ObjectHealth{{Kind: "Kustomization", Namespace: "flux-system", Name: "keystone-staging"}, {Kind: "HelmRelease", Namespace: "flux-system", Name: "memcached"}},
			Clusters:       []ClusterHealth{{Name: "management", Hub: true, Reachable: true}, {Name: "control-plane", Reachable: true}},
			Gates:          []Gate{{Name: GateRevision, Passed: true}, {Name: GateDelivery, Passed: true}, {Name: GateSoak, Passed: true}, {Name: GateSpokes, Passed: true}}},
		BlastRadius: &BlastRadius{Environment: "production"},
	}
}

func TestEvidenceStatusAndTrailers(t *testing.T) {
	t.Parallel()
	p := healthyPlan()
	if st := evidenceStatus(p); st.State != forge.StatusSuccess || st.Context != "c5c3/promotion-evidence" ||
		st.Description != "4 gates passed: 2 Kustomizations, 1 HelmReleases Ready, soaked 2h13m" {
		t.Errorf("healthy: %+v", st)
	}
	if got := strings.Join(verifiedTrailers(p), "\n"); got != "Soaked: 2h13m\nVerified: 2 Kustomizations, 1 HelmReleases on management, control-plane" {
		t.Errorf("trailers %q", got)
	}
	for name, tc := range map[string]struct {
		change func(p *Plan)
		want   string
	}{
		"skipped":    {func(p *Plan) { p.HealthCheck = nil }, "no evidence: the health gate was skipped"},
		"unhealthy":  {func(p *Plan) { p.HealthCheck.Healthy = false; p.HealthCheck.Problems = []string{"x"} }, "health gate failed (1 problems), overridden with --skip-health-check"},
		"other head": {func(p *Plan) { p.From.Commit = "9b1d000000000000000000000000000000000000" }, "staging runs 3f2a9c1, not the promoted 9b1d000"},
		"danger":     {func(p *Plan) { p.BlastRadius.Dangers = 2 }, "2 danger flags in the preview of production"},
	} {
		p := healthyPlan()
		tc.change(p)
		if st := evidenceStatus(p); st.State != forge.StatusFailure || st.Description != tc.want {
			t.Errorf("%s: %+v, want failure %q", name, st, tc.want)
		}
		if name != "danger" && verifiedTrailers(p) != nil {
			t.Errorf("%s: trailers %v written without evidence", name, verifiedTrailers(p))
		}
	}
}

// TestRollbackEvidenceStatus: a rollback runs no gate; its status rests on
// the Verified trailer of the promotion it restores, whatever the preview.
func TestRollbackEvidenceStatus(t *testing.T) {
	t.Parallel()
	verified := &Verified{Text: "14 Kustomizations, 9 HelmReleases on management, control-plane, storage", Kustomizations: 14, HelmReleases: 9}
	rollback := func(v *Verified) *Plan {
		return &Plan{From: FromSide{Environment: "production", Revision: RevisionRollback, Commit: "91d04e2000000000000000000000000000000000"},
			To:          ToSide{Environment: "production"},
			Rollback:    &RollbackTarget{Commit: "91d04e2000000000000000000000000000000000", Current: "5be7f10000000000000000000000000000000000", By: ByVerified, Steps: 1, Verified: v},
			BlastRadius: &BlastRadius{Environment: "production", Dangers: 1}}
	}
	for _, tc := range []struct {
		name        string
		v           *Verified
		state, desc string
	}{
		{"verified", verified, forge.StatusSuccess, "restores promotion 91d04e2, verified: 14 Kustomizations, 9 HelmReleases on management, control-plane, storage"},
		{"no Verified trailer", nil, forge.StatusFailure, "no evidence: the restored promotion 91d04e2 has no Verified trailer"},
		{"long trailer", &Verified{Text: strings.Repeat("x", 200)}, forge.StatusSuccess, "restores promotion 91d04e2, verified: " + strings.Repeat("x", 137-len("restores promotion 91d04e2, verified: ")) + "..."},
	} {
		st := evidenceStatus(rollback(tc.v))
		if st.Context != StatusContext || st.State != tc.state || st.Description != tc.desc {
			t.Errorf("%s: %+v, want %s %q", tc.name, st, tc.state, tc.desc)
		}
	}
}

// TestCommitStatusRequests checks the requests that set the status on
// GitHub and GitLab, and that the token reaches only the auth header: not
// an error, not a log line.
func TestCommitStatusRequests(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	prevOut := log.Writer()
	log.SetOutput(&logs)
	defer log.SetOutput(prevOut)
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	defer slog.SetDefault(prev)
	sha := "7c0e000000000000000000000000000000000001"
	st := forge.CommitStatus{Context: StatusContext, State: forge.StatusSuccess, Description: "4 gates passed"}

	api, calls := fakeAPI(t, http.StatusCreated, `{"id": 1}`)
	gh := gitrepo.Remote{Host: "github.com", Path: "c5c3/c5c3-gitops"}
	if err := forge.SetCommitStatus(context.Background(), forge.Options{GitHubAPIURL: api.URL, GitHubToken: "ghp_secret"}, gh, sha, st); err != nil {
		t.Fatal(err)
	}
	gl := gitrepo.Remote{Host: "gitlab.example.com", Path: "c5c3/platform/c5c3-gitops"}
	if err := forge.SetCommitStatus(context.Background(), forge.Options{GitLabAPIURL: api.URL + "/api/v4", GitLabToken: "glpat-secret"}, gl, sha, st); err != nil {
		t.Fatal(err)
	}
	if len(*calls) != 2 {
		t.Fatalf("calls %+v", *calls)
	}
	c := (*calls)[0]
	if c.Method != http.MethodPost || c.Path != "/repos/c5c3/c5c3-gitops/statuses/"+sha || c.Auth != "Bearer ghp_secret" ||
		c.Body["state"] != "success" || c.Body["context"] != StatusContext || c.Body["description"] != "4 gates passed" {
		t.Errorf("GitHub call %+v", c)
	}
	c = (*calls)[1]
	if c.Method != http.MethodPost || c.Path != "/api/v4/projects/c5c3%2Fplatform%2Fc5c3-gitops/statuses/"+sha || c.Auth != "glpat-secret" ||
		c.Body["state"] != "success" || c.Body["name"] != StatusContext || c.Body["description"] != "4 gates passed" {
		t.Errorf("GitLab call %+v", c)
	}

	// Refused: the error names the status and the commit, never the token.
	bad, _ := fakeAPI(t, http.StatusForbidden, `{"message": "403 Forbidden"}`)
	for _, tc := range []struct {
		o forge.Options
		r gitrepo.Remote
	}{
		{forge.Options{GitHubAPIURL: bad.URL, GitHubToken: "ghp_secret"}, gh},
		{forge.Options{GitLabAPIURL: bad.URL, GitLabToken: "glpat-secret"}, gl},
	} {
		err := forge.SetCommitStatus(context.Background(), tc.o, tc.r, sha, st)
		if err == nil || !strings.Contains(err.Error(), "commit status c5c3/promotion-evidence on 7c0e000") || !strings.Contains(err.Error(), "403") {
			t.Errorf("%s: error %v", tc.r.Host, err)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: the token is in the error: %v", tc.r.Host, err)
		}
	}
	if strings.Contains(logs.String(), "secret") {
		t.Errorf("the token was logged:\n%s", logs.String())
	}
}

func TestFormatDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		0: "0s", 42 * time.Second: "42s", 45*time.Minute + 59*time.Second: "45m", 2*time.Hour + 13*time.Minute + 30*time.Second: "2h13m", 50 * time.Hour: "50h0m",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%s) = %q, want %q", d, got, want)
		}
		if _, err := time.ParseDuration(formatDuration(d)); err != nil {
			t.Errorf("%q does not parse: %v", formatDuration(d), err)
		}
	}
	for d, want := range map[time.Duration]string{
		90 * time.Minute: "1h30m", 89*time.Minute + time.Second: "1h30m", 500 * time.Millisecond: "1s", 30 * time.Second: "30s",
	} {
		if got := formatLeft(d); got != want {
			t.Errorf("formatLeft(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestChartMatches(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pinned, deployed string
		want             bool
	}{
		{"7.5.0", "7.5.0", true}, {"7.5.0", "7.4.16", false}, {"7.5.x", "7.5.3", true}, {">=1.2 <2", "2.0.0", false},
		{"*", "0.1.0", true}, {"v1.0.0", "1.0.0", true}, {"latest", "1.0.0", false},
	} {
		if got := chartMatches(tc.pinned, tc.deployed); got != tc.want {
			t.Errorf("chartMatches(%q, %q) = %v", tc.pinned, tc.deployed, got)
		}
	}
}

// TestPromoteStatusRefused: the pull request is open but the status is
// refused: the error says both, the branch stays pushed.
func TestPromoteStatusRefused(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	bare := servedOrigin(t, r, "")
	var paths []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		paths = append(paths, req.Method+" "+req.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(req.URL.Path, "/pulls") {
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"number": 42, "html_url": "https://github.com/c5c3/c5c3-gitops/pull/42"}`)
			return
		}
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"message": "Not Found"}`)
	}))
	t.Cleanup(api.Close)
	o := headOptions(r.Dir)
	o.OpenPR = true
	o.PullRequest = forge.Options{GitHubAPIURL: api.URL, GitHubToken: "ghp_secret"}
	_, err := Run(ctxT(t), o)
	branch := "promote/staging-to-production-" + r.Commit[:7]
	if err == nil || !strings.Contains(err.Error(), "branch "+branch+" is pushed and https://github.com/c5c3/c5c3-gitops/pull/42 is open, but setting the GitHub commit status c5c3/promotion-evidence on ") ||
		!strings.Contains(err.Error(), "404") || strings.Contains(err.Error(), "ghp_secret") {
		t.Fatalf("error %v", err)
	}
	if len(paths) != 2 || !strings.HasPrefix(paths[1], "POST /repos/c5c3/c5c3-gitops/statuses/") {
		t.Fatalf("requests %v", paths)
	}
	gitT(t, bare, "rev-parse", "--verify", "refs/heads/"+branch)
}
