package diff

import (
	"fmt"
	"strings"
	"testing"

	"github.com/c5c3/kubectl-c5c3/internal/forge"
	"github.com/c5c3/kubectl-c5c3/internal/forgetest"
	"github.com/c5c3/kubectl-c5c3/internal/gitrepo"
)

// bigResult is a result with n drifted objects of about 500 characters of
// diff each, on one Kustomization.
func bigResult(n int) *Result {
	r := &Result{Kustomizations: []KustomizationResult{{Cluster: "control-plane", Namespace: "flux-system", Name: "apps", Path: "./apps"}}}
	for i := range n {
		o := ObjectResult{Cluster: "control-plane", Kustomization: "flux-system/apps", Kind: "ConfigMap", Namespace: "default",
			Name: fmt.Sprintf("cm-%03d", i), Action: ActionDrifted, Diff: strings.Repeat(fmt.Sprintf("-a: %03d\n+a: x\n", i), 40)}
		r.Objects = append(r.Objects, o)
		r.Summary.add(ActionDrifted)
		r.Kustomizations[0].Counts.add(ActionDrifted)
	}
	return r
}

// TestPublishCutsAtObjects: a report over the limit is cut between
// objects, says how many were left out and where the full report is, and
// stays one comment under the limit.
func TestPublishCutsAtObjects(t *testing.T) {
	api := forgetest.New(t, "tok", 5)
	target := &forge.Target{Options: forge.Options{Provider: forge.GitHub, GitHubAPIURL: api.URL, GitHubToken: "tok"},
		Repo: forgeRepo("c5c3/gitops"), Number: 5, SHA: "abc"}
	p, err := Publish(t.Context(), bigResult(40), PublishOptions{Target: target, FullReport: "https://ci.example/runs/1", Limit: 8000})
	if err != nil {
		t.Fatal(err)
	}
	body := api.Comments(5)[0].Body
	if len(body) > 8000 || !strings.HasPrefix(body, CommentMarker+"\n") {
		t.Fatalf("comment of %d characters:\n%s", len(body), body)
	}
	shown := strings.Count(body, "**► ConfigMap/default/cm-")
	note := fmt.Sprintf("_Report truncated: %d more objects not shown. The full report: https://ci.example/runs/1._", 40-shown)
	if shown == 0 || shown == 40 || !strings.Contains(body, note) || strings.Count(body, "```diff") != shown || strings.Count(body, "```")%2 != 0 {
		t.Fatalf("%d objects shown, want a cut between objects with the note %q:\n%s", shown, note, body)
	}
	if p.Status.State != forge.StatusSuccess || p.Status.Description != "0 created, 40 drifted, 0 deleted" {
		t.Fatalf("status %+v", p.Status)
	}
}

func TestCommitStatusRules(t *testing.T) {
	changed := bigResult(2)
	failed := bigResult(1)
	failed.Kustomizations[0].Error = "kustomize build failed"
	failed.markGaps()
	for _, tc := range []struct {
		name         string
		r            *Result
		dangers      int
		failOnDanger bool
		state, desc  string
	}{
		{"no changes", &Result{}, 0, false, forge.StatusSuccess, "no changes"},
		{"changes", changed, 0, false, forge.StatusSuccess, "0 created, 2 drifted, 0 deleted"},
		{"changes with flags", changed, 3, false, forge.StatusSuccess, "0 created, 2 drifted, 0 deleted; 3 danger flags"},
		{"flags fail", changed, 1, true, forge.StatusFailure, "1 danger flag (--fail-on-danger); 0 created, 2 drifted, 0 deleted"},
		{"errors", failed, 0, false, forge.StatusFailure, "incomplete: 1 Kustomizations/HelmReleases and 0 objects failed; 0 created, 1 drifted, 0 deleted"},
	} {
		st := CommitStatus(tc.r, tc.dangers, tc.failOnDanger)
		if st != (forge.CommitStatus{Context: StatusContext, State: tc.state, Description: tc.desc}) {
			t.Errorf("%s: %+v", tc.name, st)
		}
	}
}

func forgeRepo(path string) gitrepo.Remote { return gitrepo.Remote{Host: "github.com", Path: path} }
