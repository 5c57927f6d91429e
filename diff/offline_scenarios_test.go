package diff_test

import (
	"context"
	"fmt"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/internal/fixture"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// The engine's offline scenarios (moved from plugin's diff_offline_test.go):
// RunOffline, as `diff --base REF --no-live` calls it, on real git
// repositories and no cluster; they change nothing of the process, so
// they run in parallel. The command's flags, exit codes and bad input
// are plugin's TestDiffNoLiveCommand.

// runOffline diffs the checkout opts.RepoDir with opts.Base without a
// cluster, as the command does (hub "management"; a chart cache of the
// test's own unless opts names one).
func runOffline(t *testing.T, opts diff.Options) *diff.Result {
	t.Helper()
	opts.NoLive = true
	if opts.ChartCacheDir == "" {
		opts.ChartCacheDir = t.TempDir()
	}
	res, err := diff.RunOffline(context.Background(), fleet.Offline("management"), opts)
	if err != nil {
		t.Fatalf("diff.RunOffline --base %s: %v", opts.Base, err)
	}
	return res
}

func writeFile(t *testing.T, dir, rel, content string) {
	t.Helper()
	fixture.WriteFiles(t, dir, map[string]string{rel: content})
}

func unchangedIDs(res *diff.Result) map[string]bool {
	out := map[string]bool{}
	for _, u := range res.Unchanged {
		out[u.ID()] = true
	}
	return out
}

// TestRunOffline: RunOffline (diff --no-live) compares the checkout with a
// base revision and contacts no cluster (its fleet is fleet.Offline: no
// client at all): the changed, created and pruned objects per target
// cluster, the images summary, Secret values masked, inputs only the hub
// holds listed; nothing against the revision itself; the checkout is
// never written to.
func TestRunOffline(t *testing.T) {
	t.Parallel()
	dir, base := fixture.GitopsRepo(t)
	const secretValue = "s3cr3t-offline-value"
	// The PR: a changed ConfigMap on storage, a new Secret on the
	// hypervisor spoke, a ConfigMap dropped from a pruning Kustomization,
	// and a substituteFrom only the hub holds.
	fixture.EditFile(t, dir, "clusters/storage/apps/configmap.yaml", "    vms\n", "    vms\n    backups\n")
	writeFile(t, dir, "clusters/hypervisor/secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: nova-db\n  namespace: nova-compute\nstringData:\n  password: "+secretValue+"\n")
	fixture.EditFile(t, dir, "clusters/hypervisor/kustomization.yaml", "  - daemonset.yaml\n", "  - daemonset.yaml\n  - secret.yaml\n")
	fixture.EditFile(t, dir, "clusters/storage/rook-operator/kustomization.yaml", "  - configmap.yaml\n", "")
	fixture.EditFile(t, dir, "clusters/hypervisor/daemonset.yaml", "nova-compute:2025.1", "nova-compute:2025.2")
	fixture.EditFile(t, dir, "clusters/management/control-plane-apps.yaml", "        name: cluster-vars\n", "        name: cluster-vars\n      - kind: Secret\n        name: hub-only-vars\n        optional: true\n")
	fixture.Git(t, dir, "add", "-A")
	fixture.Git(t, dir, "commit", "-qm", "pr")

	res := runOffline(t, diff.Options{RepoDir: dir, Base: "main"})
	wantOutcome(t, "--no-live", res, 1)
	if !res.NoLive {
		t.Errorf("--no-live: noLive false, want true")
	}
	if res.Base == nil {
		t.Fatalf("--no-live: no base, want commit %s", base)
	}
	expect.Equal(t, "--no-live: base commit", res.Base.Commit, base)
	if out := asJSON(t, res); strings.Contains(out, secretValue) {
		t.Fatalf("Secret value printed:\n%s", out)
	}
	got := map[string]string{}
	for _, o := range res.Objects {
		got[o.Cluster+" "+o.ID()] = string(o.Action)
	}
	want := map[string]string{
		"storage ConfigMap/rook-ceph/ceph-cluster-config":         "drifted",
		"hypervisor Secret/nova-compute/nova-db":                  "created",
		"storage ConfigMap/rook-ceph/rook-site-settings":          "deleted",
		"management Kustomization/flux-system/control-plane-apps": "drifted",
		"hypervisor DaemonSet/nova-compute/nova-compute":          "drifted",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: want %s, got %q (all: %v)", k, v, got[k], got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("want exactly %d changes, got %v", len(want), got)
	}
	// The images summary is made offline too, from base and head.
	var hvImages *diff.ClusterImages
	for i := range res.Images {
		if res.Images[i].Cluster == "hypervisor" {
			hvImages = &res.Images[i]
		}
	}
	switch {
	case hvImages == nil:
		t.Errorf("images summary offline: no hypervisor entry in %+v", res.Images)
	case len(hvImages.Changed) != 1:
		t.Errorf("images summary offline: hypervisor changed %+v, want one image", hvImages.Changed)
	default:
		expect.Equal(t, "images summary offline: hypervisor image from", hvImages.Changed[0].From, "ghcr.io/c5c3/nova-compute:2025.1")
		expect.Equal(t, "images summary offline: hypervisor image to", hvImages.Changed[0].To, "ghcr.io/c5c3/nova-compute:2025.2")
	}
	if res.Dangers == nil {
		t.Errorf("no danger list offline (want an empty one at least)")
	}
	un := unchangedIDs(res)
	if !un["Kustomization/flux-system/control-plane-infrastructure"] {
		t.Errorf("unchanged list %+v lacks control-plane-infrastructure", res.Unchanged)
	}
	if un["Kustomization/flux-system/storage-apps"] {
		t.Errorf("unchanged list %+v holds storage-apps, which changed", res.Unchanged)
	}
	if len(res.NotResolvedOffline) != 1 {
		t.Fatalf("notResolvedOffline %v, want one entry", res.NotResolvedOffline)
	}
	if !strings.HasPrefix(res.NotResolvedOffline[0], "Secret/flux-system/hub-only-vars") {
		t.Errorf("notResolvedOffline %q, want Secret/flux-system/hub-only-vars", res.NotResolvedOffline[0])
	}
	for format, out := range map[string]string{"text": text(t, res), "markdown": markdown(t, res)} {
		expect.Contains(t, "-o "+format, out, "Live state was not read", "hub-only-vars", "+    backups")
		if strings.Contains(out, secretValue) {
			t.Fatalf("-o %s: Secret value printed:\n%s", format, out)
		}
	}
	// No change against the PR itself.
	same := runOffline(t, diff.Options{RepoDir: dir, Base: "pr"})
	wantOutcome(t, "--base pr", same, 0)
	if objs := same.Objects; len(objs) != 0 {
		t.Fatalf("--base pr: objects %+v, want none", objs)
	}
	if got := fixture.Git(t, dir, "status", "--porcelain"); got != "" {
		t.Fatalf("checkout changed: %q", got)
	}
}

// helmOfflineRepo is a real git repository whose hub sync (FluxInstance
// clusters/management) applies a HelmRepository (url), a values
// ConfigMap and Secret, HelmRelease webapp (chart of that repository,
// for the control-plane spoke, values from both and from a Secret no
// build holds) and
// HelmRelease local (a chart path of the checkout itself, on the hub),
// committed on main, with branch "pr" checked out.
func helmOfflineRepo(t *testing.T, url string) (dir, base string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "gitops")
	webapp := fixture.NewHelmRelease("webapp").Target("webapp").Spoke("control-plane").
		Chart("webapp", "0.1.x", "HelmRepository", "charts").ValuesFrom("webapp-values").
		With(func(hr *helmv2.HelmRelease) {
			hr.Spec.ValuesFrom = append(hr.Spec.ValuesFrom, helmv2.ValuesReference{Kind: "Secret", Name: "webapp-secrets"},
				helmv2.ValuesReference{Kind: "Secret", Name: "hub-values"})
		}).
		Values(map[string]any{"replicas": 2}).YAML()
	local := fixture.NewHelmRelease("local").Target("local").Chart("./charts/local", "", "GitRepository", "flux-system").YAML()
	for rel, content := range map[string]string{
		"clusters/management/flux-system/flux-instance.yaml": "apiVersion: fluxcd.controlplane.io/v1\nkind: FluxInstance\nmetadata:\n  name: flux\n  namespace: flux-system\nspec:\n  distribution:\n    version: 2.7.x\n  sync:\n    kind: GitRepository\n    url: https://example.com/gitops.git\n    ref: refs/heads/main\n    path: clusters/management\n",
		"clusters/management/kustomization.yaml":             "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - repo.yaml\n  - values.yaml\n  - secret.yaml\n  - webapp.yaml\n  - local.yaml\n",
		"clusters/management/repo.yaml":                      "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: charts\n  namespace: flux-system\nspec:\n  interval: 1h\n  url: " + url + "\n",
		"clusters/management/values.yaml":                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: webapp-values\n  namespace: flux-system\ndata:\n  values.yaml: |\n    greeting: from-configmap\n",
		"clusters/management/secret.yaml":                    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: webapp-secrets\n  namespace: flux-system\nstringData:\n  values.yaml: |\n    auth:\n      password: s3cr3t-base-value\n",
		"clusters/management/webapp.yaml":                    webapp,
		"clusters/management/local.yaml":                     local,
		"charts/local/Chart.yaml":                            "apiVersion: v2\nname: local\nversion: 0.1.0\n",
		"charts/local/values.yaml":                           "color: red\n",
		"charts/local/templates/configmap.yaml":              "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: local-settings\ndata:\n  color: {{ .Values.color | quote }}\n",
	} {
		writeFile(t, dir, rel, content)
	}
	return dir, fixture.CommitBase(t, dir)
}

// TestRunOfflineHelm: offline, a PR that bumps a HelmRepository chart's
// version and values and changes a checkout chart's values shows the
// rendered objects that change (the chart's removed PodDisruptionBudget
// deleted, a Secret value changed but masked), rendered at the base (its
// tree, not the working copy) and the head; a valuesFrom Secret only the
// hub holds is listed as not resolved offline; --offline renders from the
// chart cache, and with an empty cache the HelmRepository chart is an
// error (exit 2) that does not hide the checkout chart's changes.
func TestRunOfflineHelm(t *testing.T) {
	if testing.Short() {
		t.Skip("packages and serves charts")
	}
	t.Parallel()
	charts := testfleet.StartChartServers(t)
	dir, base := helmOfflineRepo(t, charts.HTTP.URL())
	cache := t.TempDir()
	fixture.EditFile(t, dir, "clusters/management/webapp.yaml", "version: 0.1.x", "version: 0.2.x")
	fixture.EditFile(t, dir, "clusters/management/webapp.yaml", "replicas: 2", "replicas: 3")
	fixture.EditFile(t, dir, "clusters/management/secret.yaml", "s3cr3t-base-value", "s3cr3t-head-value")
	fixture.EditFile(t, dir, "charts/local/values.yaml", "red", "blue")
	// A new HelmRelease of the checkout chart; "local" itself stays.
	writeFile(t, dir, "clusters/management/extra.yaml", fixture.NewHelmRelease("extra").Target("extra").Chart("./charts/local", "", "GitRepository", "flux-system").YAML())
	fixture.EditFile(t, dir, "clusters/management/kustomization.yaml", "  - local.yaml\n", "  - local.yaml\n  - extra.yaml\n")
	fixture.Git(t, dir, "add", "-A")
	fixture.Git(t, dir, "commit", "-qm", "pr")

	check := func(args ...string) *diff.Result {
		t.Helper()
		res := runOffline(t, diff.Options{RepoDir: dir, Base: base, ChartCacheDir: cache, Offline: len(args) > 0})
		for _, v := range []string{"s3cr3t-base-value", "s3cr3t-head-value"} {
			if out := asJSON(t, res); strings.Contains(out, v) {
				t.Fatalf("%v: Secret value printed:\n%s", args, out)
			}
		}
		what := fmt.Sprint(args)
		wantOutcome(t, what, res, 1)
		hrs := hrsOf(res)
		w := hrs["webapp"]
		expect.Equal(t, what+": webapp error", w.Error, "")
		expect.Equal(t, what+": webapp cluster", w.Cluster, "control-plane")
		if w.Prediction == nil {
			t.Errorf("%v: webapp has no prediction, want upgrade 0.1.0 → 0.2.0", args)
		} else {
			expect.Equal(t, what+": webapp predicted from", w.Prediction.FromVersion, "0.1.0")
			expect.Equal(t, what+": webapp predicted to", w.Prediction.ToVersion, "0.2.0")
			expect.Equal(t, what+": webapp plan", w.Prediction.Plan, "upgrade")
		}
		l := hrs["local"]
		expect.Equal(t, what+": local error", l.Error, "")
		expect.Equal(t, what+": local cluster", l.Cluster, "management")
		expect.Equal(t, what+": local drifted", l.Counts.Drifted, 1)
		x := hrs["extra"]
		expect.Equal(t, what+": extra error", x.Error, "")
		if x.Prediction == nil {
			t.Errorf("%v: extra has no prediction, want install", args)
		} else {
			expect.Equal(t, what+": extra plan", x.Prediction.Plan, "install")
		}
		expect.Equal(t, what+": extra created", x.Counts.Created, 1)
		got := map[string]diff.ObjectResult{}
		for _, o := range res.Objects {
			if o.HelmRelease != "" {
				got[o.HelmRelease+" "+o.Cluster+" "+string(o.Action)+" "+o.ID()] = o
			}
		}
		for _, k := range []string{
			"flux-system/webapp control-plane drifted Deployment/webapp/webapp-webapp",
			"flux-system/webapp control-plane drifted Secret/webapp/webapp-webapp",
			"flux-system/webapp control-plane drifted ConfigMap/webapp/webapp-webapp",
			"flux-system/webapp control-plane deleted PodDisruptionBudget/webapp/webapp-webapp",
			"flux-system/local management drifted ConfigMap/local/local-settings",
			"flux-system/extra management created ConfigMap/extra/local-settings",
		} {
			if _, ok := got[k]; !ok {
				t.Errorf("%v: no %s in %v", args, k, keysOf(got))
			}
		}
		expect.Contains(t, what+": Deployment diff", got["flux-system/webapp control-plane drifted Deployment/webapp/webapp-webapp"].Diff,
			"-  replicas: 2", "+  replicas: 3")
		expect.Contains(t, what+": Secret diff", got["flux-system/webapp control-plane drifted Secret/webapp/webapp-webapp"].Diff,
			"*** (before)", "*** (after)")
		expect.Contains(t, what+": checkout chart diff (base from the base tree)", got["flux-system/local management drifted ConfigMap/local/local-settings"].Diff,
			"-  color: red", "+  color: blue")
		if len(res.NotResolvedOffline) != 1 {
			t.Fatalf("%v: notResolvedOffline %v, want one entry", args, res.NotResolvedOffline)
		}
		expect.Equal(t, what+": notResolvedOffline", res.NotResolvedOffline[0], "Secret/flux-system/hub-values (valuesFrom of HelmRelease flux-system/webapp)")
		return res
	}
	res := check()
	for format, out := range map[string]string{"text": text(t, res), "markdown": markdown(t, res)} {
		expect.Contains(t, "-o "+format, out, "0.1.0 → 0.2.0", "hub-values", "+  color: blue")
		if strings.Contains(out, "s3cr3t-") {
			t.Errorf("-o %s: Secret value printed:\n%s", format, out)
		}
	}
	// The cache the first run filled serves --offline.
	check("--offline")

	// With an empty cache, --offline cannot load the repository's chart:
	// that HelmRelease is an error, the checkout chart still renders.
	res = runOffline(t, diff.Options{RepoDir: dir, Base: base, ChartCacheDir: t.TempDir(), Offline: true})
	hrs := hrsOf(res)
	wantOutcome(t, "--offline, empty cache", res, 2)
	if res.Complete {
		t.Errorf("--offline, empty cache: complete, want incomplete")
	}
	if hrs["webapp"].Error == "" {
		t.Errorf("--offline, empty cache: webapp has no error, want one (its chart is not cached)")
	}
	expect.Equal(t, "--offline, empty cache: local error", hrs["local"].Error, "")
	expect.Equal(t, "--offline, empty cache: local drifted", hrs["local"].Counts.Drifted, 1)
	if got := fixture.Git(t, dir, "status", "--porcelain"); got != "" {
		t.Fatalf("checkout changed: %q", got)
	}

	// Against the PR, a working tree that drops HelmRelease extra from a
	// pruning Kustomization: it is uninstalled, its objects deleted; the
	// others did not change and are not rendered.
	fixture.EditFile(t, dir, "clusters/management/kustomization.yaml", "  - extra.yaml\n", "")
	res = runOffline(t, diff.Options{RepoDir: dir, Base: "pr", ChartCacheDir: cache})
	hrs = hrsOf(res)
	wantOutcome(t, "removed HelmRelease", res, 1)
	if len(hrs) != 1 {
		t.Errorf("removed HelmRelease: HelmReleases %v, want only extra", keysOf(hrs))
	}
	expect.Equal(t, "removed HelmRelease: extra deleted", hrs["extra"].Counts.Deleted, 1)
	expect.Equal(t, "removed HelmRelease: extra error", hrs["extra"].Error, "")
}

func keysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// skippedHubRepo is a real git repository whose hub sync applies
// hub-values (a hub Kustomization applying only a ConfigMap),
// hub-nested (a hub Kustomization applying only a nested Kustomization
// "child" for the storage spoke) and HelmRelease local (a chart of the
// checkout, values from hub-values' ConfigMap), committed on main, with
// branch "pr" checked out.
func skippedHubRepo(t *testing.T) (dir, base string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "gitops")
	ks := func(name, path, spoke string) string {
		s := "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: " + name + "\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: " + path + "\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n    namespace: flux-system\n"
		if spoke != "" {
			s += "  kubeConfig:\n    secretRef:\n      name: " + spoke + "-kubeconfig\n"
		}
		return s
	}
	local := fixture.NewHelmRelease("local").Target("local").Chart("./charts/local", "", "GitRepository", "flux-system").ValuesFrom("local-values").
		Values(map[string]any{"size": "small"}).YAML()
	for rel, content := range map[string]string{
		"clusters/management/flux-system/flux-instance.yaml": "apiVersion: fluxcd.controlplane.io/v1\nkind: FluxInstance\nmetadata:\n  name: flux\n  namespace: flux-system\nspec:\n  distribution:\n    version: 2.7.x\n  sync:\n    kind: GitRepository\n    url: https://example.com/gitops.git\n    ref: refs/heads/main\n    path: clusters/management\n",
		"clusters/management/kustomization.yaml":             "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - hub-values.yaml\n  - hub-nested.yaml\n  - local.yaml\n",
		"clusters/management/hub-values.yaml":                ks("hub-values", "./apps/hub-values", ""),
		"clusters/management/hub-nested.yaml":                ks("hub-nested", "./apps/hub-nested", ""),
		"clusters/management/local.yaml":                     local,
		"apps/hub-values/values.yaml":                        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: local-values\n  namespace: flux-system\ndata:\n  values.yaml: |\n    color: green\n",
		"apps/hub-nested/child.yaml":                         ks("child", "./apps/child", "storage"),
		"apps/child/pools.yaml":                              "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pools\n  namespace: rook-ceph\ndata:\n  pools: |\n    vms\n",
		"charts/local/Chart.yaml":                            "apiVersion: v2\nname: local\nversion: 0.1.0\n",
		"charts/local/values.yaml":                           "color: red\nsize: tiny\n",
		"charts/local/templates/configmap.yaml":              "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: local-settings\ndata:\n  color: {{ .Values.color | quote }}\n  size: {{ .Values.size | quote }}\n",
	} {
		writeFile(t, dir, rel, content)
	}
	return dir, fixture.CommitBase(t, dir)
}

// TestRunOfflineSkippedHub: a --base run leaves unbuilt the unchanged hub
// Kustomizations whose builds hold no Flux objects — but not when their
// output is needed. An unchanged hub Kustomization holding a nested
// Kustomization whose own path changed is built (the child is diffed), and
// a changed HelmRelease whose valuesFrom ConfigMap an otherwise unchanged
// hub Kustomization applies renders with that ConfigMap's values on both
// sides, as a run that builds everything does (the oracle: the values
// written in the fixture). Both stay listed unchanged.
func TestRunOfflineSkippedHub(t *testing.T) {
	if testing.Short() {
		t.Skip("renders a chart")
	}
	t.Parallel()
	dir, base := skippedHubRepo(t)
	cache := t.TempDir()

	// Only the child's path changes: the nested Kustomization is found in
	// the (unchanged) build of hub-nested and diffed; hub-values is left
	// unbuilt (nothing reads its ConfigMap: HelmRelease local is unchanged).
	fixture.EditFile(t, dir, "apps/child/pools.yaml", "    vms\n", "    vms\n    backups\n")
	fixture.Git(t, dir, "commit", "-qam", "pr: pools")
	res := runOffline(t, diff.Options{RepoDir: dir, Base: base, ChartCacheDir: cache})
	wantOutcome(t, "nested change", res, 1)
	objects := map[string]diff.ObjectResult{}
	for _, o := range res.Objects {
		objects[o.Cluster+" "+o.Kustomization+" "+string(o.Action)+" "+o.ID()] = o
	}
	pools, ok := objects["storage flux-system/child drifted ConfigMap/rook-ceph/pools"]
	if !ok || !strings.Contains(pools.Diff, "+    backups") || len(objects) != 1 || len(res.HelmReleases) != 0 {
		t.Fatalf("want only the child's ConfigMap drifted, got %v %+v", keysOf(objects), res.HelmReleases)
	}
	un := unchangedIDs(res)
	for _, id := range []string{"Kustomization/flux-system/hub-values", "Kustomization/flux-system/hub-nested", "Kustomization/flux-system/flux-system", "HelmRelease/flux-system/local"} {
		if !un[id] {
			t.Errorf("%s not listed unchanged: %+v", id, res.Unchanged)
		}
	}

	// HelmRelease local changes (inline values): rendered on both sides
	// with color from hub-values' ConfigMap (green, not the chart's red),
	// nothing left unresolved; hub-values itself stays unchanged.
	fixture.EditFile(t, dir, "clusters/management/local.yaml", "size: small", "size: big")
	res = runOffline(t, diff.Options{RepoDir: dir, Base: "HEAD", ChartCacheDir: cache})
	wantOutcome(t, "changed HelmRelease", res, 1)
	if len(res.NotResolvedOffline) != 0 {
		t.Fatalf("changed HelmRelease: not resolved %v\n%s", res.NotResolvedOffline, asJSON(t, res))
	}
	var settings *diff.ObjectResult
	for i, o := range res.Objects {
		if o.HelmRelease == "flux-system/local" && o.ID() == "ConfigMap/local/local-settings" {
			settings = &res.Objects[i]
		}
	}
	if settings == nil || settings.Action != diff.ActionDrifted || !strings.Contains(settings.Diff, "color: green") || strings.Contains(settings.Diff, "red") ||
		!strings.Contains(settings.Diff, "-  size: small") || !strings.Contains(settings.Diff, "+  size: big") {
		t.Fatalf("want local-settings drifted size small → big with color green on both sides, got %+v", settings)
	}
	if un := unchangedIDs(res); !un["Kustomization/flux-system/hub-values"] || !un["Kustomization/flux-system/hub-nested"] {
		t.Errorf("unchanged list: %+v", res.Unchanged)
	}

	// The child's spec changes in hub-nested's build, its files do not:
	// both sides of the child are built and compared (its ConfigMap moves
	// to the new targetNamespace: created there, pruned from the old one).
	fixture.Git(t, dir, "checkout", "-q", "--", ".")
	fixture.EditFile(t, dir, "apps/hub-nested/child.yaml", "  prune: true\n", "  prune: true\n  targetNamespace: ceph\n")
	res = runOffline(t, diff.Options{RepoDir: dir, Base: "HEAD", ChartCacheDir: cache})
	objects = map[string]diff.ObjectResult{}
	for _, o := range res.Objects {
		objects[o.Cluster+" "+o.Kustomization+" "+string(o.Action)+" "+o.ID()] = o
	}
	for _, k := range []string{"storage flux-system/child created ConfigMap/ceph/pools", "storage flux-system/child deleted ConfigMap/rook-ceph/pools"} {
		if _, ok := objects[k]; !ok {
			t.Errorf("child's spec changed: no %s in %v", k, keysOf(objects))
		}
	}
}
