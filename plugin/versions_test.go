package plugin

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/c5c3/kubectl-c5c3/internal/golden"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
	"github.com/c5c3/kubectl-c5c3/versions"
)

// versionsSample loads the sample and reconciles its staging and
// production environments, each into its own hub namespace (standing for
// its own hub), and names their root Kustomizations in the checkout's
// c5c3.yaml (committed): the shared test hub holds other tests'
// environments too. The flags point the CLI at the hub (all namespaces)
// and the checkout; normalize replaces the run's commit hashes.
func versionsSample(t testing.TB) (s *testfleet.Sample, envs map[string]*testfleet.Environment, flags []string, normalize func(string) string) {
	t.Helper()
	s, _ = loadSample(t, testfleet.SampleOptions{})
	envs = map[string]*testfleet.Environment{}
	for _, name := range []string{"staging", "production"} {
		e, err := s.ApplyEnvironment(ctx(t), name)
		if err != nil {
			t.Fatalf("applying environment %s: %v", name, err)
		}
		envs[name] = e
	}
	cfg := `apiVersion: c5c3.cobaltcore.io/v1alpha1
kind: Promotion
environments:
  - name: staging
    paths: [clusters/staging, apps/*/staging]
    kustomizations: [` + envs["staging"].Namespace + `/staging-apps]
  - name: production
    paths: [clusters/production, apps/*/production]
    kustomizations: [` + envs["production"].Namespace + `/production-apps]
pipeline: [staging, production]
`
	commitFile(t, s.RepoDir, "c5c3.yaml", cfg, "c5c3.yaml: the test's environment namespaces")
	applied := strings.TrimPrefix(s.Revision, "main@sha1:")
	f := testfleet.Get(t)
	flags = []string{"--kubeconfig", f.HubKubeconfig, "--flux-namespace", s.Namespace, "--color", "never", "--repo", s.RepoDir}
	normalize = func(out string) string {
		head := promoteGit(t, s.RepoDir, "rev-parse", "HEAD")
		for c, name := range map[string]string{applied: "<applied>", head: "<head>"} {
			out = strings.ReplaceAll(out, c, name)
			out = strings.ReplaceAll(out, c[:7], name[:len(name)-1]+"7>")
		}
		return out
	}
	return s, envs, flags, normalize
}

// commitFile writes a file of the checkout and commits it.
func commitFile(t testing.TB, dir, file, content, msg string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(file)), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	promoteGit(t, dir, "add", file)
	promoteGit(t, dir, "commit", "-q", "-m", msg)
}

func decodeMatrix(t *testing.T, out string) *versions.Matrix {
	t.Helper()
	var m versions.Matrix
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("versions -o json is not a VersionMatrix: %v\n%s", err, out)
	}
	if m.APIVersion != versions.APIVersion || m.Kind != versions.Kind {
		t.Fatalf("schema header %s/%s", m.APIVersion, m.Kind)
	}
	return &m
}

// cellOf returns the cell of key in env.
func cellOf(t *testing.T, m *versions.Matrix, key, env string) versions.Cell {
	t.Helper()
	for _, c := range m.Components {
		if c.Key != key {
			continue
		}
		for _, cell := range c.Environments {
			if cell.Environment == env {
				return cell
			}
		}
	}
	t.Fatalf("no cell %s in %s", key, env)
	return versions.Cell{}
}

// TestVersionsSkew: staging and production as the sample pins them, then
// a staging bump that is committed but not applied, and a staging workload
// whose image was changed by hand on the spoke.
func TestVersionsSkew(t *testing.T) {
	t.Parallel()
	s, envs, flags, normalize := versionsSample(t)

	// As applied: only the pipeline skew of the sample (production pins
	// older values that staging, whose history is one commit, never had).
	r := run(t, append([]string{"versions", "-o", "json"}, flags...)...)
	if r.code != 1 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q\n%s", r.code, r.stderr, r.stdout)
	}
	m := decodeMatrix(t, r.stdout)
	for _, c := range []struct {
		what      string
		got, want int
	}{
		{"git≠applied", m.Summary.GitApplied, 0}, {"applied≠running", m.Summary.AppliedRunning, 0}, {"pipeline", m.Summary.Pipeline, 5},
		{"unreachable", m.Summary.Unreachable, 0}, {"errors", m.Summary.Errors, 0},
	} {
		if c.got != c.want {
			t.Errorf("summary: %s %d, want %d", c.what, c.got, c.want)
		}
	}
	img := cellOf(t, m, "image/ghcr.io/c5c3/keystone/newTag", "staging")
	if len(img.Targets) != 1 {
		t.Fatalf("staging image: targets %+v, want one", img.Targets)
	}
	if img.Targets[0].Applied != "2025.1-p2" {
		t.Errorf("staging image: applied %q, want 2025.1-p2", img.Targets[0].Applied)
	}
	if !reflect.DeepEqual(img.Targets[0].Running, []string{"2025.1-p2"}) {
		t.Errorf("staging image: running %q, want [2025.1-p2]", img.Targets[0].Running)
	}
	if want := "Kustomization/" + envs["staging"].Namespace + "/keystone-staging"; img.Targets[0].Applier != want {
		t.Errorf("staging image: applier %q, want %s", img.Targets[0].Applier, want)
	}
	hr := cellOf(t, m, "HelmRelease/keystone-memcached/memcached", "production")
	if hr.Git != "7.4.16" {
		t.Errorf("production HelmRelease: git %q, want 7.4.16", hr.Git)
	}
	if len(hr.Targets) != 1 {
		t.Fatalf("production HelmRelease: targets %+v, want one", hr.Targets)
	}
	if hr.Targets[0].Applied != "7.4.16" {
		t.Errorf("production HelmRelease: applied %q, want 7.4.16", hr.Targets[0].Applied)
	}
	if hr.Previous != "7.5.0" {
		t.Errorf("production HelmRelease: previous %q, want 7.5.0 (staging)", hr.Previous)
	}
	if !reflect.DeepEqual(hr.Skew, []string{versions.SkewPipeline}) {
		t.Errorf("production HelmRelease: skew %q, want [%s]", hr.Skew, versions.SkewPipeline)
	}

	// Staging moves on in git only, and someone sets another image by hand.
	release := filepath.Join(s.RepoDir, "clusters", "staging", "keystone-memcached.yaml")
	b, err := os.ReadFile(release)
	must(t, err)
	commitFile(t, s.RepoDir, "clusters/staging/keystone-memcached.yaml", strings.Replace(string(b), `version: "7.5.0"`, `version: "7.6.0"`, 1), "staging: memcached 7.6.0")
	spoke := testfleet.Get(t).Spokes["control-plane"].Client
	dep := &appsv1.Deployment{}
	must(t, spoke.Get(ctx(t), client.ObjectKey{Namespace: envs["staging"].Namespace, Name: "keystone-api"}, dep))
	dep.Spec.Template.Spec.Containers[0].Image = "ghcr.io/c5c3/keystone:2025.1-p3-hotfix"
	must(t, spoke.Update(ctx(t), dep))

	r = run(t, append([]string{"versions"}, flags...)...)
	if r.code != 1 || r.stderr != "" {
		t.Fatalf("table: exit %d, stderr %q\n%s", r.code, r.stderr, r.stdout)
	}
	golden.Assert(t, "versions-skew.table", normalize(r.stdout))

	r = run(t, append([]string{"versions", "-o", "json"}, flags...)...)
	golden.Assert(t, "versions-skew.json", normalize(r.stdout)) // the documented schema
	m = decodeMatrix(t, r.stdout)
	if m.Summary.GitApplied != 1 {
		t.Errorf("summary: git≠applied %d, want 1", m.Summary.GitApplied)
	}
	if m.Summary.AppliedRunning != 1 {
		t.Errorf("summary: applied≠running %d, want 1", m.Summary.AppliedRunning)
	}
	if m.Summary.Pipeline != 5 {
		t.Errorf("summary: pipeline %d, want 5", m.Summary.Pipeline)
	}
	hr = cellOf(t, m, "HelmRelease/keystone-memcached/memcached", "staging")
	if hr.Git != "7.6.0" {
		t.Errorf("staging HelmRelease after the bump: git %q, want 7.6.0", hr.Git)
	}
	if hr.Targets[0].Applied != "7.5.0" {
		t.Errorf("staging HelmRelease after the bump: applied %q, want 7.5.0", hr.Targets[0].Applied)
	}
	if !reflect.DeepEqual(hr.Skew, []string{versions.SkewGitApplied}) {
		t.Errorf("staging HelmRelease after the bump: skew %q, want [%s]", hr.Skew, versions.SkewGitApplied)
	}
	img = cellOf(t, m, "image/ghcr.io/c5c3/keystone/newTag", "staging")
	if !reflect.DeepEqual(img.Targets[0].Running, []string{"2025.1-p3-hotfix"}) {
		t.Errorf("staging image after the hand edit: running %q, want [2025.1-p3-hotfix]", img.Targets[0].Running)
	}
	if !reflect.DeepEqual(img.Skew, []string{versions.SkewAppliedRunning}) {
		t.Errorf("staging image after the hand edit: skew %q, want [%s]", img.Skew, versions.SkewAppliedRunning)
	}
	if want := []string{"Deployment/" + envs["staging"].Namespace + "/keystone-api"}; !reflect.DeepEqual(img.Targets[0].Workloads, want) {
		t.Errorf("staging image after the hand edit: workloads %q, want %q", img.Targets[0].Workloads, want)
	}

	r = run(t, append([]string{"versions", "-o", "yaml"}, flags...)...)
	asJSON, err := yaml.YAMLToJSON([]byte(r.stdout))
	must(t, err)
	if y := decodeMatrix(t, string(asJSON)); r.code != 1 || !reflect.DeepEqual(y, m) {
		t.Fatalf("-o yaml (exit %d) is not the same matrix as -o json:\n%s", r.code, r.stdout)
	}

	r = run(t, append([]string{"versions", "-o", "markdown", "--environment", "staging"}, flags...)...)
	wantExit(t, "markdown, staging only", r, 1)
	wantContains(t, "markdown, staging only", r.stdout, "| `7.6.0` | `7.5.0` | - | **git≠applied** |")
	if strings.Contains(r.stdout, "| production |") {
		t.Fatalf("markdown, staging only, shows production:\n%s", r.stdout)
	}
}

// TestVersionsSpokeDown: production's control-plane Secret points nowhere.
// Its running images say unreachable; everything read from the hub and git
// is still shown, and staging is unaffected.
func TestVersionsSpokeDown(t *testing.T) {
	t.Parallel()
	_, envs, flags, _ := versionsSample(t)
	hub := testfleet.Get(t).Hub.Client
	sec := &corev1.Secret{}
	must(t, hub.Get(ctx(t), client.ObjectKey{Namespace: envs["production"].Namespace, Name: "control-plane-kubeconfig"}, sec))
	sec.Data = map[string][]byte{"value": []byte(testfleet.UnreachableKubeconfig)}
	must(t, hub.Update(ctx(t), sec))

	// and production's memcached upgrade is under way (or failing).
	hr := &helmv2.HelmRelease{}
	must(t, hub.Get(ctx(t), client.ObjectKey{Namespace: envs["production"].Namespace, Name: "keystone-memcached"}, hr))
	hr.Status.LastAttemptedRevision = "7.5.0"
	must(t, hub.Status().Update(ctx(t), hr))

	r := run(t, append([]string{"versions", "-o", "json"}, flags...)...)
	if r.code != 1 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if strings.Contains(r.stdout, "unreachable-token-must-never-be-printed") {
		t.Fatal("the kubeconfig's token was printed")
	}
	m := decodeMatrix(t, r.stdout)
	img := cellOf(t, m, "image/ghcr.io/c5c3/keystone/newTag", "production")
	if len(img.Targets) != 1 {
		t.Fatalf("production image on the dead spoke: targets %+v, want one", img.Targets)
	}
	if img.Targets[0].Reachable {
		t.Errorf("production image on the dead spoke: reachable, want not")
	}
	if !strings.Contains(img.Targets[0].Error, "unreachable") {
		t.Errorf("production image on the dead spoke: error %q, want it to say unreachable", img.Targets[0].Error)
	}
	if img.Targets[0].Applied != "2025.1-p1" {
		t.Errorf("production image on the dead spoke: applied %q, want 2025.1-p1 (read from the hub)", img.Targets[0].Applied)
	}
	prod := cellOf(t, m, "HelmRelease/keystone-memcached/memcached", "production")
	if prod.Targets[0].Applied != "7.4.16" {
		t.Errorf("production HelmRelease, read from the hub: applied %q, want 7.4.16", prod.Targets[0].Applied)
	}
	if prod.Targets[0].Attempted != "7.5.0" {
		t.Errorf("production HelmRelease, read from the hub: attempted %q, want 7.5.0", prod.Targets[0].Attempted)
	}
	if !prod.Targets[0].Reachable {
		t.Errorf("production HelmRelease, read from the hub: not reachable, want reachable")
	}
	if st := cellOf(t, m, "image/ghcr.io/c5c3/keystone/newTag", "staging"); !reflect.DeepEqual(st.Targets[0].Running, []string{"2025.1-p2"}) {
		t.Fatalf("staging image %+v", st)
	}
	if m.Summary.Unreachable != 1 {
		t.Fatalf("summary %+v", m.Summary)
	}

	r = run(t, append([]string{"versions"}, flags...)...)
	wantExit(t, "table with a dead spoke", r, 1)
	if !regexp.MustCompile(`2025\.1-p1 +unreachable`).MatchString(r.stdout) {
		t.Errorf("table lacks the image row 2025.1-p1 unreachable:\n%s", r.stdout)
	}
	wantContains(t, "table with a dead spoke", r.stdout, "1 unreachable", "7.4.16 (attempted 7.5.0)")
}

// versionsCase is one row of TestVersionsCommand: `kubectl c5c3 versions
// --repo <checkout> args...` on a checkout of its own holding files (each
// committed in turn), its exit code, and what stdout and stderr hold.
type versionsCase struct {
	name     string
	files    [][2]string // path, content
	args     []string
	code     int
	noStdout bool
	stdout   []string         // pieces of stdout
	stdoutRe []*regexp.Regexp // lines of stdout
	stderr   []string         // pieces of stderr ({dir}: the checkout)
	complete []string         // for __complete: the completions
}

// TestVersionsCommand runs `kubectl c5c3 versions` row after row on
// checkouts without a fleet: a broken c5c3.yaml is exit 2 naming the file,
// before any hub is contacted; so is a hub that cannot be read, after the
// matrix with git's values; --environment completes the names in the
// checkout's c5c3.yaml. The fleet's scenarios are TestVersionsSkew,
// TestVersionsSpokeDown and TestVersionsResourceSets here, and versions'
// table tests on fakes.
func TestVersionsCommand(t *testing.T) {
	t.Parallel()
	root, err := testfleet.ModuleRoot()
	must(t, err)
	sample, err := os.ReadFile(filepath.Join(root, "testdata", "gitops", "c5c3.yaml"))
	must(t, err)
	good := [2]string{"c5c3.yaml", string(sample)}
	for _, tc := range []versionsCase{{
		name:     "bad c5c3.yaml",
		files:    [][2]string{{"c5c3.yaml", "apiVersion: c5c3.cobaltcore.io/v1alpha1\nkind: Promotion\nenvironments:\n  - name: Staging\n    paths: [x]\n"}},
		args:     []string{"--kubeconfig", "/does/not/exist"},
		code:     2,
		noStdout: true,
		stderr:   []string{"{dir}/c5c3.yaml", "environments[0] (Staging).name"},
	}, {
		name:     "bad -o",
		files:    [][2]string{good},
		args:     []string{"-o", "wide"},
		code:     2,
		noStdout: true,
		stderr:   []string{"must be one of table|json|yaml|markdown"},
	}, {
		name:     "hub not readable",
		files:    [][2]string{good, {"clusters/staging/sources.yaml", "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata: {name: manifests}\nspec: {ref: {tag: v1.0.0}}\n"}},
		args:     []string{"--kubeconfig", "/does/not/exist", "--color", "never"},
		code:     2,
		stdout:   []string{"environment staging: loading the hub's kubeconfig"},
		stdoutRe: []*regexp.Regexp{regexp.MustCompile(`OCIRepository/manifests/tag +staging +- +v1\.0\.0 +\? +\? +hub not read`)},
		stderr:   []string{"error: could not read the hub of staging, production"},
	}, {
		name:     "--environment completes",
		files:    [][2]string{good},
		args:     []string{"__complete", "--environment", ""},
		complete: []string{"staging", "production"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			promoteGit(t, dir, "init", "-q", "-b", "main")
			for _, f := range tc.files {
				must(t, os.MkdirAll(filepath.Join(dir, filepath.Dir(f[0])), 0o755))
				commitFile(t, dir, f[0], f[1], "add "+f[0])
			}
			args := append([]string{"versions", "--repo", dir}, tc.args...)
			if tc.complete != nil {
				args = append([]string{"__complete", "versions", "--repo", dir}, tc.args[1:]...)
			}
			r := run(t, args...)
			wantExit(t, "versions "+strings.Join(tc.args, " "), r, tc.code)
			if tc.complete != nil {
				if got := completions(t, r.stdout); !reflect.DeepEqual(got, tc.complete) {
					t.Errorf("completions %q, want %q", got, tc.complete)
				}
				return
			}
			if tc.noStdout && r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
			wantContains(t, "stdout", r.stdout, tc.stdout...)
			for _, re := range tc.stdoutRe {
				if !re.MatchString(r.stdout) {
					t.Errorf("stdout has no line %s:\n%s", re, r.stdout)
				}
			}
			for _, want := range tc.stderr {
				wantContains(t, "stderr", r.stderr, strings.ReplaceAll(want, "{dir}", dir))
			}
		})
	}
}

// TestVersionsResourceSets: a ResourceSet the staging environment applies
// (in its root Kustomization's inventory) pins versions per input set —
// inline (a nested chart.version) and through an OCIArtifactTag provider
// whose exported tag and digest the test writes as the Flux Operator
// would. versions lists exactly those values per ResourceSet in staging,
// none in production, and names a provider that is gone.
func TestVersionsResourceSets(t *testing.T) {
	t.Parallel()
	s, envs, flags, _ := versionsSample(t)
	c := ctx(t)
	stagingNS := envs["staging"].Namespace
	commitFile(t, s.RepoDir, "clusters/staging/keystone-set.yaml", `apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSetInputProvider
metadata:
  name: keystone-tags
spec:
  type: OCIArtifactTag
  url: oci://ghcr.io/c5c3/charts/keystone
---
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata:
  name: keystone-regions
spec:
  inputs:
    - region: eu-de-1
      replicas: 3
      chart:
        version: 1.2.3
  inputsFrom:
    - kind: ResourceSetInputProvider
      name: keystone-tags
  resources:
    - apiVersion: v1
      kind: ConfigMap
      metadata:
        name: keystone-<< inputs.id >>
`, "staging: keystone ResourceSet")
	kz, err := os.ReadFile(filepath.Join(s.RepoDir, "clusters", "staging", "kustomization.yaml"))
	must(t, err)
	commitFile(t, s.RepoDir, "clusters/staging/kustomization.yaml", string(kz)+"  - keystone-set.yaml\n", "staging: apply the ResourceSet")
	es := &testfleet.Sample{Fleet: s.Fleet, Namespace: stagingNS, RepoDir: s.RepoDir, Revision: s.Revision, URL: s.URL}
	must(t, es.Reconcile(c, "staging-apps"))
	const digest = "sha256:9d2b6e5f0c1a4e8b7a3f2d1c0b9a8e7f6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a"
	must(t, es.WriteProviderStatus(c, "keystone-tags", map[string]any{"id": "48955639", "tag": "v1.4.0", "digest": digest}))

	r := run(t, append([]string{"versions", "-o", "json"}, flags...)...)
	m := decodeMatrix(t, r.stdout)
	if r.code == 2 || len(m.Environments) != 2 {
		t.Fatalf("versions: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var staging, production versions.Environment
	for _, e := range m.Environments {
		switch e.Name {
		case "staging":
			staging = e
		case "production":
			production = e
		}
	}
	if len(production.ResourceSets) != 0 || len(staging.ResourceSets) != 1 {
		t.Fatalf("ResourceSets: staging %+v, production %+v", staging.ResourceSets, production.ResourceSets)
	}
	got := staging.ResourceSets[0]
	wantEqual(t, "staging ResourceSet", got.Namespace+"/"+got.Name, stagingNS+"/keystone-regions")
	wantEqual(t, "staging ResourceSet: applier", got.Applier, "Kustomization/"+stagingNS+"/staging-apps")
	wantEqual(t, "staging ResourceSet: error", got.Error, "")
	if len(got.Inputs) != 3 {
		t.Fatalf("staging ResourceSet: inputs %+v, want chart.version inline and the provider's tag and digest", got.Inputs)
	}
	inline := got.Inputs[0]
	wantEqual(t, "inline input: source", inline.Source, "ResourceSet/"+stagingNS+"/keystone-regions")
	wantEqual(t, "inline input: type", inline.Type, "")
	if inline.ID == "" {
		t.Errorf("inline input: no ID, want the input set's")
	}
	wantEqual(t, "inline input: key", inline.Key, "chart.version")
	wantEqual(t, "inline input: value", inline.Value, "1.2.3")
	provider := "ResourceSetInputProvider/" + stagingNS + "/keystone-tags"
	want := []versions.VersionInput{
		{Source: provider, Type: "OCIArtifactTag", ID: "48955639", Key: "digest", Value: digest},
		{Source: provider, Type: "OCIArtifactTag", ID: "48955639", Key: "tag", Value: "v1.4.0"},
	}
	if !reflect.DeepEqual(got.Inputs[1:], want) {
		t.Errorf("provider inputs %+v\nwant %+v", got.Inputs[1:], want)
	}

	r = run(t, append([]string{"versions", "--environment", "staging"}, flags...)...)
	for _, line := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^RESOURCESET\s+ENVIRONMENT\s+SOURCE\s+ID\s+KEY\s+VALUE\s*$`),
		regexp.MustCompile(`(?m)^` + stagingNS + `/keystone-regions\s+staging\s+ResourceSet/` + stagingNS + `/keystone-regions\s+\S+\s+chart\.version\s+1\.2\.3\s*$`),
		regexp.MustCompile(`(?m)^\s+staging\s+` + provider + ` \(OCIArtifactTag\)\s+48955639\s+tag\s+v1\.4\.0\s*$`),
	} {
		if !line.MatchString(r.stdout) {
			t.Errorf("versions table has no line %s\n%s", line, r.stdout)
		}
	}

	// A provider that is gone: the ResourceSet's error is a note, the
	// matrix is still complete.
	p := &unstructured.Unstructured{}
	p.SetAPIVersion("fluxcd.controlplane.io/v1")
	p.SetKind("ResourceSetInputProvider")
	p.SetNamespace(stagingNS)
	p.SetName("keystone-tags")
	must(t, s.Fleet.Hub.Client.Delete(c, p))
	r = run(t, append([]string{"versions", "--environment", "staging"}, flags...)...)
	note := "environment staging: ResourceSet " + stagingNS + "/keystone-regions: spec.inputsFrom[0]: ResourceSetInputProvider " + stagingNS + "/keystone-tags not found"
	if r.code == 2 {
		t.Fatalf("versions without the provider: exit 2, want the matrix with a note\n%s%s", r.stdout, r.stderr)
	}
	wantContains(t, "versions without the provider", r.stdout, note, "HelmRelease/keystone-memcached/memcached")
}
