package promote

import (
	"bytes"
	"errors"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/c5c3/kubectl-c5c3/internal/forge"
	"github.com/c5c3/kubectl-c5c3/internal/printers"
)

// TestPromotePreviewIncomplete: a HelmRelease of the target whose values
// cannot be read (valuesFrom a ConfigMap that does not exist) is not
// rendered: the preview says the plan is incomplete, naming it with its
// chart, in the blast radius, the text and the pull request body; with
// --fail-on-danger the promotion is refused although no danger flag is
// raised.
func TestPromotePreviewIncomplete(t *testing.T) {
	t.Parallel()
	e := sharedEnvironments(t)
	ctx := ctxT(t)
	file := "clusters/production/keystone-memcached.yaml"
	b, err := os.ReadFile(filepath.Join(e.repo.Dir, file))
	expect.NoError(t, err)
	broken := strings.Replace(string(b), "  values:\n", "  valuesFrom:\n    - kind: ConfigMap\n      name: no-such-values\n  values:\n", 1)
	if broken == string(b) {
		t.Fatalf("%s has no values: to put valuesFrom before", file)
	}
	commitFile(t, e.repo.Dir, file, broken, "production: keystone-memcached values from a missing ConfigMap")
	setUpstream(t, e.repo.Dir)

	o := e.options()
	o.Diff = true
	p, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	hrID := e.s.Namespace + "/keystone-memcached"
	br := p.BlastRadius
	if br == nil || br.Complete || len(br.Incomplete) != 1 || br.Incomplete[0].Kind != "HelmRelease" ||
		br.Incomplete[0].Namespace+"/"+br.Incomplete[0].Name != hrID || br.Incomplete[0].Chart != "memcached" ||
		!strings.Contains(br.Incomplete[0].Reason, "no-such-values") {
		t.Fatalf("blast radius %+v, want incomplete: HelmRelease %s (chart memcached)", br, hrID)
	}
	if p.Preview.Complete || len(p.Preview.Incomplete) != 1 {
		t.Errorf("preview: complete %v, incomplete %+v", p.Preview.Complete, p.Preview.Incomplete)
	}
	text := renderText(t, p, false)
	for _, want := range []string{
		"INCOMPLETE HelmRelease/" + hrID + " on cluster control-plane (chart memcached): ",
		"plan incomplete: 1 Kustomization or HelmRelease could not be rendered or diffed; what it would change is unknown: the counts and danger flags cover only the rest",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "no danger flags") {
		t.Errorf("an incomplete preview reads as clean:\n%s", text)
	}
	body, err := pullRequestBody(p)
	expect.NoError(t, err)
	for _, want := range []string{
		"- ❌ **incomplete**: HelmRelease/" + hrID + " on cluster control-plane (chart memcached): ",
		"**Plan incomplete: 1 Kustomization or HelmRelease could not be rendered or diffed",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("pull request body lacks %q:\n%s", want, body)
		}
	}
	if st := evidenceStatus(p); st.State == forge.StatusSuccess || !strings.Contains(st.Description, "incomplete") {
		t.Errorf("commit status %+v, want not success and incomplete", st)
	}

	o.FailOnDanger = true
	_, err = Run(ctx, o)
	var de *DangerError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "the preview of production is incomplete (1 Kustomization or HelmRelease could not be rendered or diffed), refusing to promote (--fail-on-danger)") ||
		!strings.Contains(err.Error(), "incomplete: HelmRelease/"+hrID) {
		t.Fatalf("--fail-on-danger: %v", err)
	}
}

// TestRollbackPreviewIncomplete: `promote rollback --diff` of an
// environment's first promotion (merged), when a HelmRelease of the
// restored tree cannot be rendered (valuesFrom a ConfigMap that does not
// exist, committed after the promotion: the rollback restores pins, not
// the file), says the plan is incomplete — naming the HelmRelease and its
// chart — in the blast radius, the rollback's text and the pull request
// body, and not that it has no danger flags.
func TestRollbackPreviewIncomplete(t *testing.T) {
	t.Parallel()
	e := loadEnvironments(t)
	ctx := ctxT(t)
	o := e.options()
	o.DryRun = false
	promoted, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if promoted.Result == nil {
		t.Fatalf("the promotion made no commit: %+v", promoted.Summary)
	}
	gitT(t, e.repo.Dir, "merge", "--quiet", "--ff-only", promoted.Result.Commit)
	file := "clusters/production/keystone-memcached.yaml"
	b, err := os.ReadFile(filepath.Join(e.repo.Dir, file))
	expect.NoError(t, err)
	broken := strings.Replace(string(b), "  values:\n", "  valuesFrom:\n    - kind: ConfigMap\n      name: no-such-values\n  values:\n", 1)
	if broken == string(b) {
		t.Fatalf("%s has no values: to put valuesFrom before", file)
	}
	commitFile(t, e.repo.Dir, file, broken, "production: keystone-memcached values from a missing ConfigMap")
	setUpstream(t, e.repo.Dir)

	p, err := Rollback(ctx, RollbackOptions{RepoDir: e.repo.Dir, Environment: "production", DryRun: true, Diff: true, Fleet: o.Fleet})
	if err != nil {
		t.Fatal(err)
	}
	if p.Rollback == nil || p.Rollback.By != ByBeforeNewest || p.Rollback.Before != promoted.Result.Commit {
		t.Fatalf("rollback %+v, want the pins before the first promotion %s", p.Rollback, short(promoted.Result.Commit))
	}
	hrID := e.s.Namespace + "/keystone-memcached"
	br := p.BlastRadius
	if br == nil || br.Complete || len(br.Incomplete) != 1 || br.Incomplete[0].Namespace+"/"+br.Incomplete[0].Name != hrID ||
		br.Incomplete[0].Chart != "memcached" || !strings.Contains(br.Incomplete[0].Reason, "no-such-values") {
		t.Fatalf("blast radius %+v, want incomplete: HelmRelease %s (chart memcached)", br, hrID)
	}
	var text bytes.Buffer
	expect.NoError(t, WriteRollbackText(&text, p, false, printers.Palette{}))
	for _, want := range []string{
		"INCOMPLETE HelmRelease/" + hrID + " on cluster control-plane (chart memcached): ",
		"plan incomplete: 1 Kustomization or HelmRelease could not be rendered or diffed",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("rollback text lacks %q:\n%s", want, text.String())
		}
	}
	if strings.Contains(text.String(), "no danger flags") {
		t.Errorf("an incomplete rollback preview reads as clean:\n%s", text.String())
	}
	body, err := pullRequestBody(p)
	expect.NoError(t, err)
	if want := "- ❌ **incomplete**: HelmRelease/" + hrID + " on cluster control-plane (chart memcached): "; !strings.Contains(body, want) {
		t.Errorf("pull request body lacks %q:\n%s", want, body)
	}
}
