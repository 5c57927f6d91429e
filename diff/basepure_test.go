package diff_test

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"github.com/c5c3/kubectl-c5c3/internal/fixture"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// pureTree is a gitops tree with two storage-spoke Kustomizations:
// pure-app, whose kustomization files list plain resources only (with a
// nested directory, an unlisted README, postBuild substitution and
// commonMetadata in its spec), and transformed-app, whose kustomization
// sets a namespace, labels and a patch.
func pureTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ks := func(name, extra string) string {
		return "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: " + name + "\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./apps/" + strings.TrimSuffix(name, "-app") + "\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n  kubeConfig:\n    secretRef:\n      name: storage-kubeconfig\n" + extra
	}
	fixture.WriteFiles(t, dir, map[string]string{
		"clusters/management/kustomization.yaml":   "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- pure-app.yaml\n- transformed-app.yaml\n",
		"clusters/management/pure-app.yaml":        ks("pure-app", "  postBuild:\n    substitute:\n      pool: ssd\n  commonMetadata:\n    labels:\n      team: storage\n"),
		"clusters/management/transformed-app.yaml": ks("transformed-app", ""),
		"apps/pure/kustomization.yaml":             "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- namespace.yaml\n- cm-a.yaml\n- ./cm-b.yaml\n- extra.yaml\n- sub\n",
		"apps/pure/README.md":                      "pure-app: the storage pools' settings\n",
		"apps/pure/namespace.yaml":                 "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: rook-ceph\n",
		"apps/pure/cm-a.yaml":                      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-a\n  namespace: rook-ceph\ndata:\n  pool: \"${pool}\"\n  value: \"v1\"\n",
		"apps/pure/cm-b.yaml":                      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-b\n  namespace: rook-ceph\ndata:\n  value: \"b\"\n",
		"apps/pure/extra.yaml":                     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: rook-ceph\ndata:\n  value: \"e\"\n",
		"apps/pure/sub/kustomization.yaml":         "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- svc.yaml\n",
		"apps/pure/sub/svc.yaml":                   "apiVersion: v1\nkind: Service\nmetadata:\n  name: pools\n  namespace: rook-ceph\nspec:\n  ports:\n  - port: 80\n",
		"apps/transformed/kustomization.yaml":      "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: rook-ceph\nlabels:\n- pairs:\n    app.kubernetes.io/part-of: transformed\nresources:\n- cm.yaml\npatches:\n- patch: |\n    - op: add\n      path: /data/patched\n      value: \"yes\"\n  target:\n    kind: ConfigMap\n",
		"apps/transformed/cm.yaml":                 "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: t-cm\ndata:\n  value: \"v1\"\n",
	})
	return dir
}

// TestDiffBaseDerived: diff --base decides whether a changed spoke
// Kustomization's build differs without building the base when its
// kustomizations are pure resource lists and its spec transforms each
// object alone, and builds the base otherwise — in every case with the
// answer of an oracle that builds both sides as kustomize-controller does
// (testfleet's build: fluxcd/pkg/kustomize's generator and build,
// substitution, owner labels, normalisation, commonMetadata): the
// Kustomization is listed as unchanged exactly when the two builds are
// equal.
func TestDiffBaseDerived(t *testing.T) {
	t.Parallel()
	sc := loadScenarioWith(t, testfleet.SampleOptions{Source: pureTree(t), NoFluxReport: true})
	s, ctx, ns := sc.s, sc.ctx, sc.s.Namespace
	rc := s.SpokeNamespace("rook-ceph")
	cmA := func(body string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-a\n  namespace: " + rc + "\n" + body
	}
	// oracle builds a Kustomization of the hub from the working tree as
	// the controller does: its objects as JSON, or "error".
	oracle := func(name string) string {
		t.Helper()
		var ks kustomizev1.Kustomization
		expect.NoError(t, s.Fleet.Hub.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &ks))
		objects, err := s.Build(ctx, &ks)
		if err != nil {
			return "error"
		}
		b, err := json.Marshal(objects)
		expect.NoError(t, err)
		return string(b)
	}
	base := map[string]string{"pure-app": oracle("pure-app"), "transformed-app": oracle("transformed-app")}
	for name, out := range base {
		if out == "error" {
			t.Fatalf("the base build of %s failed", name)
		}
	}

	cases := []struct {
		name  string
		ks    string
		files map[string]string
		// same is the oracle's answer the case is made for; built whether
		// the run builds the base of ks.
		same, built bool
	}{
		{name: "value change", ks: "pure-app", files: map[string]string{"apps/pure/cm-a.yaml": cmA("data:\n  pool: \"${pool}\"\n  value: \"v2\"\n")}},
		{name: "comment only", ks: "pure-app", same: true, files: map[string]string{"apps/pure/cm-a.yaml": "# the pool settings\n" + cmA("data:\n  pool: \"${pool}\" # substituted\n  value: \"v1\"\n")}},
		{name: "keys reordered and requoted", ks: "pure-app", same: true, files: map[string]string{"apps/pure/cm-a.yaml": "kind: ConfigMap\ndata:\n  value: v1\n  pool: '${pool}'\nmetadata:\n  namespace: " + rc + "\n  name: cm-a\napiVersion: v1\n"}},
		{name: "a value the substitution makes equal", ks: "pure-app", same: true, files: map[string]string{"apps/pure/cm-a.yaml": cmA("data:\n  pool: ssd\n  value: \"v1\"\n")}},
		{name: "document appended", ks: "pure-app", files: map[string]string{"apps/pure/cm-a.yaml": cmA("data:\n  pool: \"${pool}\"\n  value: \"v1\"\n") + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-c\n  namespace: " + rc + "\n"}},
		{name: "file of a nested kustomization", ks: "pure-app", files: map[string]string{"apps/pure/sub/svc.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: pools\n  namespace: " + rc + "\nspec:\n  ports:\n  - port: 81\n"}},
		{name: "unlisted file", ks: "pure-app", same: true, files: map[string]string{"apps/pure/README.md": "pure-app: the storage pools\n"}},
		{name: "renamed into another file's object", ks: "pure-app", built: true, files: map[string]string{"apps/pure/cm-a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-b\n  namespace: " + rc + "\ndata:\n  value: \"b\"\n"}},
		{name: "a HelmRelease in a changed file", ks: "pure-app", built: true, files: map[string]string{"apps/pure/extra.yaml": fixture.NewHelmRelease("extra").Namespace(rc).Target(rc).Chart("podinfo", "6.5.0", "HelmRepository", "podinfo").YAML()}},
		{name: "kustomization changed", ks: "pure-app", built: true, files: map[string]string{"apps/pure/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- namespace.yaml\n- cm-a.yaml\n- ./cm-b.yaml\n- extra.yaml\n- sub\ncommonAnnotations:\n  owner: storage\n"}},
		{name: "transformer kustomization, value change", ks: "transformed-app", built: true, files: map[string]string{"apps/transformed/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: t-cm\ndata:\n  value: \"v2\"\n"}},
		{name: "transformer kustomization, comment only", ks: "transformed-app", built: true, same: true, files: map[string]string{"apps/transformed/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: t-cm # the transformed one\ndata:\n  value: \"v1\"\n"}},
	}
	for _, c := range cases {
		fixture.Git(t, s.RepoDir, "checkout", "-q", "--", ".")
		fixture.Git(t, s.RepoDir, "clean", "-fdq")
		fixture.WriteFiles(t, s.RepoDir, c.files)
		same := oracle(c.ks) == base[c.ks]
		expect.Equal(t, c.name+": the oracle's builds equal", same, c.same)

		var mu sync.Mutex
		var built []string
		res := sc.run(t, 0, diff.Options{Base: "HEAD", NoHelm: true, BaseBuilt: func(id string) {
			mu.Lock()
			defer mu.Unlock()
			built = append(built, id)
		}})
		expect.Equal(t, c.name+": "+c.ks+" listed as unchanged", unchangedIDs(res)["Kustomization/"+ns+"/"+c.ks], same)
		diffed := slices.ContainsFunc(res.Kustomizations, func(k diff.KustomizationResult) bool { return k.Name == c.ks })
		expect.Equal(t, c.name+": "+c.ks+" diffed", diffed, !same)
		var want []string
		if c.built {
			want = []string{ns + "/" + c.ks}
		}
		slices.Sort(built)
		expect.Equal(t, c.name+": Kustomizations built at the base", strings.Join(built, ","), strings.Join(want, ","))
	}
}
