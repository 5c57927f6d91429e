package plugin

import (
	"fmt"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/fixture"
	"github.com/c5c3/kubectl-c5c3/internal/forgetest"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// TestE2EPullRequestCheck runs hack/ci/pr-check.sh — the exact commands
// action.yml and docs/ci/gitlab-ci.yml run — with the built plugin, on a
// real git repository with a base and a PR commit, against the test fleet
// and recording fake GitHub and GitLab APIs: the first run creates the
// comment and the status, the second edits the same comment.
func TestE2EPullRequestCheck(t *testing.T) {
	bin := buildPlugin(t)
	s, flags := loadSample(t, testfleet.SampleOptions{})
	repo := s.RepoDir
	out, err := exec.Command("git", "-C", repo, "rev-parse", "HEAD").Output()
	expect.NoError(t, err)
	base := strings.TrimSpace(string(out))
	fixture.Git(t, repo, "checkout", "-q", "-b", "pr")
	fixture.EditFile(t, repo, "clusters/control-plane/apps/kustomization.yaml", `newTag: "2025.1-p1"`, `newTag: "2025.1-p2"`)
	fixture.Git(t, repo, "commit", "-q", "-am", "keystone 2025.1-p2")
	out, err = exec.Command("git", "-C", repo, "rev-parse", "HEAD").Output()
	expect.NoError(t, err)
	head := strings.TrimSpace(string(out))

	script, err := filepath.Abs("../hack/ci/pr-check.sh")
	expect.NoError(t, err)
	kubeconfigArgs := strings.Join(flags[2:], " ") // -n NS --flux-namespace NS --color never

	check := func(t *testing.T, provider string, env []string) (string, string) {
		t.Helper()
		report := filepath.Join(t.TempDir(), "report.html")
		cmd := exec.Command(script, provider)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), append(env,
			"KUBECTL_C5C3="+bin, "KUBECONFIG="+f(t).HubKubeconfig, "C5C3_BASE="+base, "C5C3_REPORT="+report,
			"C5C3_ARGS="+kubeconfigArgs)...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("pr-check.sh %s: %v\n%s", provider, err, stderr.String())
		}
		html, err := os.ReadFile(report)
		expect.NoError(t, err)
		expect.Contains(t, "the HTML report", string(html), "<html", "keystone")
		return string(html), stderr.String()
	}

	t.Run("github", func(t *testing.T) {
		api := forgetest.New(t, ghToken, 12)
		event := filepath.Join(t.TempDir(), "event.json")
		expect.NoError(t, os.WriteFile(event, []byte(`{"number":12,"pull_request":{"number":12,"head":{"sha":"`+head+`"}}}`), 0o600))
		env := []string{"GITHUB_TOKEN=" + ghToken, "GITHUB_REPOSITORY=c5c3/c5c3-gitops", "GITHUB_API_URL=" + api.URL,
			"GITHUB_EVENT_PATH=" + event, "GITHUB_SHA=" + head, "GITHUB_BASE_REF=main"}
		for i, want := range []string{"POST /repos/c5c3/c5c3-gitops/issues/12/comments", "PATCH /repos/c5c3/c5c3-gitops/issues/comments/1001"} {
			_, stderr := check(t, "github", env)
			if strings.Contains(stderr, ghToken) {
				t.Fatal("the token is printed")
			}
			w := api.Writes()
			if len(w) != 2*(i+1) {
				t.Fatalf("run %d: writes %+v, want %d", i+1, w, 2*(i+1))
			}
			expect.Equal(t, fmt.Sprintf("run %d: comment write", i+1), w[2*i].Method+" "+w[2*i].Path, want)
			expect.Equal(t, fmt.Sprintf("run %d: status write", i+1), w[2*i+1].Path, "/repos/c5c3/c5c3-gitops/statuses/"+head)
		}
		cs := api.Comments(12)
		if len(cs) != 1 {
			t.Fatalf("comments %+v, want one sticky comment naming the base %s", cs, base[:7])
		}
		if !strings.HasPrefix(cs[0].Body, diff.CommentMarker) {
			t.Errorf("comment %q, want it to start with the marker", cs[0].Body)
		}
		expect.Contains(t, "comment", cs[0].Body, base[:7])
		if st := api.Statuses(); st[1].State != "success" || st[1].Context != diff.StatusContext {
			t.Fatalf("statuses %+v", st)
		}
	})

	t.Run("gitlab", func(t *testing.T) {
		api := forgetest.New(t, glToken, 4)
		env := []string{"CI_JOB_TOKEN=" + glToken, "CI_API_V4_URL=" + api.URL + "/api/v4", "CI_PROJECT_ID=77",
			"CI_MERGE_REQUEST_IID=4", "CI_COMMIT_SHA=" + head, "CI_MERGE_REQUEST_DIFF_BASE_SHA=" + base}
		for i, want := range []string{"POST /api/v4/projects/77/merge_requests/4/notes", "PUT /api/v4/projects/77/merge_requests/4/notes/1001"} {
			check(t, "gitlab", env)
			w := api.Writes()
			if len(w) != 2*(i+1) {
				t.Fatalf("run %d: writes %+v, want %d", i+1, w, 2*(i+1))
			}
			expect.Equal(t, fmt.Sprintf("run %d: note write", i+1), w[2*i].Method+" "+w[2*i].Path, want)
			expect.Equal(t, fmt.Sprintf("run %d: status write", i+1), w[2*i+1].Path, "/api/v4/projects/77/statuses/"+head)
		}
		if cs := api.Comments(4); len(cs) != 1 {
			t.Fatalf("want one sticky note: %+v", cs)
		}
	})
}
