package versions_test

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/internal/golden"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
	"github.com/c5c3/kubectl-c5c3/kube"
	"github.com/c5c3/kubectl-c5c3/pipeline"
	"github.com/c5c3/kubectl-c5c3/versions"
)

// The engine's scenarios on the test fleet: each test loads a sample of
// its own (own hub and workload namespaces, own checkout), edits it and
// calls versions.Build as the command does, then renders the matrix with
// versions' own renderers. What the command adds — flags, exit codes —
// is plugin's TestVersionsCommand.

func TestMain(m *testing.M) {
	// Tests must not depend on (or be disturbed by) the developer's git
	// configuration: CI has none.
	os.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	os.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	os.Exit(testfleet.Run(m))
}

// scenario is a loaded sample with its staging and production
// environments and a context for the test's requests.
type scenario struct {
	s    *testfleet.Sample
	envs map[string]*testfleet.Environment
	ctx  context.Context
}

// loadScenario loads the sample and reconciles its staging and production
// environments, each into its own hub namespace (standing for its own
// hub), and names their root Kustomizations in the checkout's c5c3.yaml
// (committed): the shared test hub holds other tests' environments too.
func loadScenario(t *testing.T) *scenario {
	t.Helper()
	f := testfleet.Get(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	s, err := f.LoadSample(ctx, testfleet.SampleOptions{Namespace: testfleet.Namespace(t), OwnNamespaces: true})
	if err != nil {
		t.Fatalf("loading the sample: %v", err)
	}
	envs, err := s.ApplyPipeline(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return &scenario{s: s, envs: envs, ctx: ctx}
}

// build runs versions.Build on the checkout at HEAD, reading every
// environment's fleet from the test hub (all namespaces), as `kubectl
// c5c3 versions --flux-namespace <sample>` does.
func (sc *scenario) build(t *testing.T, environments ...string) *versions.Matrix {
	t.Helper()
	m, err := versions.Build(sc.ctx, versions.Options{
		RepoDir: sc.s.RepoDir, Revision: "HEAD", Environments: environments,
		Fleet: func(ctx context.Context, _ *pipeline.Environment) (*fleet.Fleet, error) {
			hub, err := kube.NewClient(sc.s.Fleet.Hub.Config)
			if err != nil {
				return nil, err
			}
			return fleet.Discover(ctx, hub, fleet.Options{FluxNamespace: sc.s.Namespace})
		},
	})
	if err != nil {
		t.Fatalf("versions.Build: %v", err)
	}
	return m
}

// normalize replaces the run's commit hashes (the applied one and HEAD).
func (sc *scenario) normalize(t *testing.T, out string) string {
	t.Helper()
	applied := strings.TrimPrefix(sc.s.Revision, "main@sha1:")
	head := gitT(t, sc.s.RepoDir, "rev-parse", "HEAD")
	for c, name := range map[string]string{applied: "<applied>", head: "<head>"} {
		out = strings.ReplaceAll(out, c, name)
		out = strings.ReplaceAll(out, c[:7], name[:len(name)-1]+"7>")
	}
	return out
}

// wantSkew checks what makes the command exit 1: skew or an unreachable
// cluster, and no environment whose hub could not be read.
func wantSkew(t *testing.T, what string, m *versions.Matrix) {
	t.Helper()
	if m.Summary.Errors != 0 {
		t.Fatalf("%s: %d errors, want none: %+v", what, m.Summary.Errors, m.Environments)
	}
	if m.Summary.Skewed == 0 && m.Summary.Unreachable == 0 {
		t.Fatalf("%s: no skew and nothing unreachable, want either", what)
	}
}

func gitT(t *testing.T, dir string, args ...string) string {
	t.Helper()
	c := exec.Command("git", args...)
	c.Dir = dir
	c.Env = append(os.Environ(), "GIT_AUTHOR_NAME=Setup", "GIT_AUTHOR_EMAIL=setup@c5c3.example",
		"GIT_COMMITTER_NAME=Setup", "GIT_COMMITTER_EMAIL=setup@c5c3.example")
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// commitFile writes a file of the checkout and commits it.
func commitFile(t *testing.T, dir, file, content, msg string) {
	t.Helper()
	expect.NoError(t, os.WriteFile(filepath.Join(dir, filepath.FromSlash(file)), []byte(content), 0o644))
	gitT(t, dir, "add", file)
	gitT(t, dir, "commit", "-q", "-m", msg)
}

// asJSON is the matrix as -o json prints it, checked to decode as a
// VersionMatrix (unknown fields refused) with the schema header.
func asJSON(t *testing.T, m *versions.Matrix) string {
	t.Helper()
	b, err := json.MarshalIndent(m, "", "  ")
	expect.NoError(t, err)
	out := string(b) + "\n"
	decodeMatrix(t, out)
	return out
}

func decodeMatrix(t *testing.T, out string) *versions.Matrix {
	t.Helper()
	var m versions.Matrix
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("the matrix is not a VersionMatrix: %v\n%s", err, out)
	}
	if m.APIVersion != versions.APIVersion || m.Kind != versions.Kind {
		t.Fatalf("schema header %s/%s", m.APIVersion, m.Kind)
	}
	return &m
}

func table(t *testing.T, m *versions.Matrix) string {
	t.Helper()
	var b bytes.Buffer
	expect.NoError(t, versions.WriteTable(&b, m, versions.RenderOptions{}))
	return b.String()
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
	sc := loadScenario(t)
	s, envs := sc.s, sc.envs

	// As applied: only the pipeline skew of the sample (production pins
	// older values that staging, whose history is one commit, never had).
	m := sc.build(t)
	wantSkew(t, "as applied", m)
	m = decodeMatrix(t, asJSON(t, m))
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
	expect.NoError(t, err)
	commitFile(t, s.RepoDir, "clusters/staging/keystone-memcached.yaml", strings.Replace(string(b), `version: "7.5.0"`, `version: "7.6.0"`, 1), "staging: memcached 7.6.0")
	spoke := s.Fleet.Spokes["control-plane"].Client
	dep := &appsv1.Deployment{}
	expect.NoError(t, spoke.Get(sc.ctx, client.ObjectKey{Namespace: envs["staging"].Namespace, Name: "keystone-api"}, dep))
	dep.Spec.Template.Spec.Containers[0].Image = "ghcr.io/c5c3/keystone:2025.1-p3-hotfix"
	expect.NoError(t, spoke.Update(sc.ctx, dep))

	m = sc.build(t)
	wantSkew(t, "after the bump", m)
	golden.Assert(t, "versions-skew.table", sc.normalize(t, table(t, m)))

	out := asJSON(t, m)
	golden.Assert(t, "versions-skew.json", sc.normalize(t, out)) // the documented schema
	m = decodeMatrix(t, out)
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

	// -o yaml is the same matrix as -o json.
	y, err := yaml.Marshal(sc.build(t))
	expect.NoError(t, err)
	fromYAML, err := yaml.YAMLToJSON(y)
	expect.NoError(t, err)
	if got := decodeMatrix(t, string(fromYAML)); !reflect.DeepEqual(got, m) {
		t.Fatalf("as yaml, not the same matrix as json:\n%s", y)
	}

	staging := sc.build(t, "staging")
	wantSkew(t, "staging only", staging)
	var md bytes.Buffer
	expect.NoError(t, versions.WriteMarkdown(&md, staging))
	expect.Contains(t, "markdown, staging only", md.String(), "| `7.6.0` | `7.5.0` | - | **git≠applied** |")
	if strings.Contains(md.String(), "| production |") {
		t.Fatalf("markdown, staging only, shows production:\n%s", md.String())
	}
}

// TestVersionsSpokeDown: production's control-plane Secret points nowhere.
// Its running images say unreachable; everything read from the hub and git
// is still shown, and staging is unaffected.
func TestVersionsSpokeDown(t *testing.T) {
	t.Parallel()
	sc := loadScenario(t)
	envs := sc.envs
	hub := sc.s.Fleet.Hub.Client
	sec := &corev1.Secret{}
	expect.NoError(t, hub.Get(sc.ctx, client.ObjectKey{Namespace: envs["production"].Namespace, Name: "control-plane-kubeconfig"}, sec))
	sec.Data = map[string][]byte{"value": []byte(testfleet.UnreachableKubeconfig)}
	expect.NoError(t, hub.Update(sc.ctx, sec))

	// and production's memcached upgrade is under way (or failing).
	hr := &helmv2.HelmRelease{}
	expect.NoError(t, hub.Get(sc.ctx, client.ObjectKey{Namespace: envs["production"].Namespace, Name: "keystone-memcached"}, hr))
	hr.Status.LastAttemptedRevision = "7.5.0"
	expect.NoError(t, hub.Status().Update(sc.ctx, hr))

	m := sc.build(t)
	wantSkew(t, "with a dead spoke", m)
	out := asJSON(t, m)
	if strings.Contains(out, "unreachable-token-must-never-be-printed") {
		t.Fatal("the kubeconfig's token was printed")
	}
	m = decodeMatrix(t, out)
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

	tab := table(t, m)
	if !regexp.MustCompile(`2025\.1-p1 +unreachable`).MatchString(tab) {
		t.Errorf("table lacks the image row 2025.1-p1 unreachable:\n%s", tab)
	}
	expect.Contains(t, "table with a dead spoke", tab, "1 unreachable", "7.4.16 (attempted 7.5.0)")
}

// TestVersionsResourceSets: a ResourceSet the staging environment applies
// (in its root Kustomization's inventory) pins versions per input set —
// inline (a nested chart.version) and through an OCIArtifactTag provider
// whose exported tag and digest the test writes as the Flux Operator
// would. versions lists exactly those values per ResourceSet in staging,
// none in production, and names a provider that is gone.
func TestVersionsResourceSets(t *testing.T) {
	t.Parallel()
	sc := loadScenario(t)
	s, c := sc.s, sc.ctx
	stagingNS := sc.envs["staging"].Namespace
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
	expect.NoError(t, err)
	commitFile(t, s.RepoDir, "clusters/staging/kustomization.yaml", string(kz)+"  - keystone-set.yaml\n", "staging: apply the ResourceSet")
	es := &testfleet.Sample{Fleet: s.Fleet, Namespace: stagingNS, RepoDir: s.RepoDir, Revision: s.Revision, URL: s.URL}
	expect.NoError(t, es.Reconcile(c, "staging-apps"))
	const digest = "sha256:9d2b6e5f0c1a4e8b7a3f2d1c0b9a8e7f6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a"
	expect.NoError(t, es.WriteProviderStatus(c, "keystone-tags", map[string]any{"id": "48955639", "tag": "v1.4.0", "digest": digest}))

	m := decodeMatrix(t, asJSON(t, sc.build(t)))
	if m.Summary.Errors != 0 || len(m.Environments) != 2 {
		t.Fatalf("versions: %d errors, %d environments\n%s", m.Summary.Errors, len(m.Environments), table(t, m))
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
	expect.Equal(t, "staging ResourceSet", got.Namespace+"/"+got.Name, stagingNS+"/keystone-regions")
	expect.Equal(t, "staging ResourceSet: applier", got.Applier, "Kustomization/"+stagingNS+"/staging-apps")
	expect.Equal(t, "staging ResourceSet: error", got.Error, "")
	if len(got.Inputs) != 3 {
		t.Fatalf("staging ResourceSet: inputs %+v, want chart.version inline and the provider's tag and digest", got.Inputs)
	}
	inline := got.Inputs[0]
	expect.Equal(t, "inline input: source", inline.Source, "ResourceSet/"+stagingNS+"/keystone-regions")
	expect.Equal(t, "inline input: type", inline.Type, "")
	if inline.ID == "" {
		t.Errorf("inline input: no ID, want the input set's")
	}
	expect.Equal(t, "inline input: key", inline.Key, "chart.version")
	expect.Equal(t, "inline input: value", inline.Value, "1.2.3")
	provider := "ResourceSetInputProvider/" + stagingNS + "/keystone-tags"
	want := []versions.VersionInput{
		{Source: provider, Type: "OCIArtifactTag", ID: "48955639", Key: "digest", Value: digest},
		{Source: provider, Type: "OCIArtifactTag", ID: "48955639", Key: "tag", Value: "v1.4.0"},
	}
	if !reflect.DeepEqual(got.Inputs[1:], want) {
		t.Errorf("provider inputs %+v\nwant %+v", got.Inputs[1:], want)
	}

	tab := table(t, sc.build(t, "staging"))
	for _, line := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^RESOURCESET\s+ENVIRONMENT\s+SOURCE\s+ID\s+KEY\s+VALUE\s*$`),
		regexp.MustCompile(`(?m)^` + stagingNS + `/keystone-regions\s+staging\s+ResourceSet/` + stagingNS + `/keystone-regions\s+\S+\s+chart\.version\s+1\.2\.3\s*$`),
		regexp.MustCompile(`(?m)^\s+staging\s+` + provider + ` \(OCIArtifactTag\)\s+48955639\s+tag\s+v1\.4\.0\s*$`),
	} {
		if !line.MatchString(tab) {
			t.Errorf("versions table has no line %s\n%s", line, tab)
		}
	}

	// A provider that is gone: the ResourceSet's error is a note, the
	// matrix is still complete.
	p := &unstructured.Unstructured{}
	p.SetAPIVersion("fluxcd.controlplane.io/v1")
	p.SetKind("ResourceSetInputProvider")
	p.SetNamespace(stagingNS)
	p.SetName("keystone-tags")
	expect.NoError(t, s.Fleet.Hub.Client.Delete(c, p))
	m = sc.build(t, "staging")
	note := "environment staging: ResourceSet " + stagingNS + "/keystone-regions: spec.inputsFrom[0]: ResourceSetInputProvider " + stagingNS + "/keystone-tags not found"
	if m.Summary.Errors != 0 {
		t.Fatalf("versions without the provider: %d errors, want the matrix with a note\n%s", m.Summary.Errors, table(t, m))
	}
	expect.Contains(t, "versions without the provider", table(t, m), note, "HelmRelease/keystone-memcached/memcached")
}
