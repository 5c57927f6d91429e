package diff_test

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/internal/golden"
	"github.com/c5c3/kubectl-c5c3/internal/printers"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
	"github.com/c5c3/kubectl-c5c3/kube"
)

// The engine's scenarios on the test fleet: each test loads a sample of
// its own (own hub and workload namespaces, own checkout, see
// testfleet.SampleOptions.OwnNamespaces), edits it and calls diff.Run as
// the command does. What the command adds — arguments, exit codes, output
// formats — is plugin's TestDiffCommand.

// scenario is a loaded sample and a context for the test's requests.
type scenario struct {
	s   *testfleet.Sample
	ctx context.Context
	// chartCache is the runs' Options.ChartCacheDir unless they set one
	// ("": the user's cache).
	chartCache string
}

// loadScenario loads the sample for t, which runs in parallel.
func loadScenario(t *testing.T) *scenario {
	t.Helper()
	return loadScenarioWith(t, testfleet.SampleOptions{})
}

// loadScenarioWith loads the sample (or opts.Source) with opts, in a hub
// namespace and workload namespaces of t's own.
func loadScenarioWith(t *testing.T, opts testfleet.SampleOptions) *scenario {
	t.Helper()
	f := testfleet.Get(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	opts.Namespace, opts.OwnNamespaces = testfleet.Namespace(t), true
	s, err := f.LoadSample(ctx, opts)
	if err != nil {
		t.Fatalf("loading the sample: %v", err)
	}
	return &scenario{s: s, ctx: ctx}
}

// run discovers the fleet from the hub (spoke requests bounded by
// timeout, 0: none) and diffs the checkout against it.
func (sc *scenario) run(t *testing.T, timeout time.Duration, opts diff.Options) *diff.Result {
	t.Helper()
	res, err := sc.runErr(t, timeout, opts)
	if err != nil {
		t.Fatalf("diff.Run %v: %v", opts.Targets, err)
	}
	return res
}

func (sc *scenario) runErr(t *testing.T, timeout time.Duration, opts diff.Options) (*diff.Result, error) {
	t.Helper()
	hub, err := kube.NewClient(sc.s.Fleet.Hub.Config)
	if err != nil {
		t.Fatal(err)
	}
	fl, err := fleet.Discover(sc.ctx, hub, fleet.Options{Namespace: sc.s.Namespace, FluxNamespace: sc.s.Namespace, Spoke: kube.SpokeOptions{Timeout: timeout}})
	if err != nil {
		t.Fatalf("discovering the fleet: %v", err)
	}
	if opts.RepoDir == "" {
		opts.RepoDir = sc.s.RepoDir
	}
	if opts.ChartCacheDir == "" {
		opts.ChartCacheDir = sc.chartCache
	}
	return diff.Run(sc.ctx, fl, opts)
}

// write writes a file of the checkout.
func (sc *scenario) write(t *testing.T, rel, content string) {
	t.Helper()
	p := filepath.Join(sc.s.RepoDir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// edit replaces old by new once in a file of the checkout.
func (sc *scenario) edit(t *testing.T, rel, old, new string) {
	t.Helper()
	p := filepath.Join(sc.s.RepoDir, rel)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s does not contain %q", rel, old)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func asJSON(t *testing.T, r *diff.Result) string {
	t.Helper()
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRunSpokeDown: one unreachable spoke is an error for its
// Kustomizations; the others are still diffed.
func TestRunSpokeDown(t *testing.T) {
	t.Parallel()
	sc := loadScenario(t)
	if err := sc.s.BreakKubeconfig(sc.ctx, "hypervisor", testfleet.FaultUnreachable); err != nil {
		t.Fatal(err)
	}
	sc.edit(t, "clusters/control-plane/apps/kustomization.yaml", `newTag: "2025.1-p1"`, `newTag: "2025.1-p3"`)
	res := sc.run(t, 10*time.Second, diff.Options{})
	if !res.HasErrors() {
		t.Errorf("hypervisor unreachable: no error in the result")
	}
	var sawHV, sawCP bool
	for _, k := range res.Kustomizations {
		if k.Cluster == "hypervisor" {
			sawHV = true
			if !strings.Contains(k.Error, "127.0.0.1:1") {
				t.Errorf("%s on the unreachable hypervisor: error %q, want it to name 127.0.0.1:1", k.Name, k.Error)
			}
		}
		if k.Name == "control-plane-apps" {
			sawCP = true
			if k.Error != "" {
				t.Errorf("control-plane-apps: error %q, want it diffed", k.Error)
			}
			if k.Counts.Drifted != 1 {
				t.Errorf("control-plane-apps: %d drifted, want 1 (the keystone image)", k.Counts.Drifted)
			}
		}
	}
	if !sawHV {
		t.Errorf("no Kustomization of the hypervisor in the result")
	}
	if !sawCP {
		t.Errorf("control-plane-apps not in the result")
	}
	if strings.Contains(asJSON(t, res), "unreachable-token-must-never-be-printed") {
		t.Fatal("kubeconfig contents leaked")
	}
}

// TestRunBadInput: each broken input is reported against its
// Kustomization or object, the rest still diffed.
func TestRunBadInput(t *testing.T) {
	t.Parallel()
	sc := loadScenario(t)
	sns := sc.s.SpokeNamespace
	// invalid YAML in the hypervisor path
	sc.write(t, "clusters/hypervisor/broken.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\n  namespace: "+sns("nova-compute")+"\ndata:\n  a: [unclosed\n")
	sc.edit(t, "clusters/hypervisor/kustomization.yaml", "  - daemonset.yaml\n", "  - daemonset.yaml\n  - broken.yaml\n")
	// a path missing from the checkout
	if err := os.RemoveAll(filepath.Join(sc.s.RepoDir, "clusters", "storage", "rook-operator")); err != nil {
		t.Fatal(err)
	}
	// an unknown kind (no CRD on the target)
	sc.write(t, "clusters/storage/apps/cephcluster.yaml", "apiVersion: ceph.rook.io/v1\nkind: CephCluster\nmetadata:\n  name: ceph\n  namespace: "+sns("rook-ceph")+"\nspec:\n  mon: {count: 3}\n")
	sc.edit(t, "clusters/storage/apps/kustomization.yaml", "  - deployment.yaml\n", "  - deployment.yaml\n  - cephcluster.yaml\n")
	// RBAC: the Kustomization impersonates a service account with no rights
	// on the spoke, like Flux does for spec.serviceAccountName
	sc.edit(t, "clusters/management/control-plane-infrastructure.yaml", "  prune: true\n", "  prune: true\n  serviceAccountName: flux-limited\n")
	// a missing substitution variable, strict
	sc.edit(t, "apps/keystone/base/configmap.yaml", "region: \"${region}\"", "region: \"${region}\"\n  zone: \"${availability_zone}\"")

	res := sc.run(t, 0, diff.Options{StrictSubstitute: true})
	if !res.HasErrors() {
		t.Errorf("broken inputs: no error in the result")
	}
	errs := map[string]string{}
	for _, k := range res.Kustomizations {
		errs[k.Name] = golden.Normalize(k.Error)
	}
	for _, o := range res.Objects {
		if o.Error != "" {
			errs[o.ID()] = o.Error
		}
	}
	for name, want := range map[string]string{
		"hypervisor-apps":                           "broken.yaml",
		"storage-rook-operator":                     `spec.path "./clusters/storage/rook-operator" not found in the checkout`,
		"CephCluster/" + sns("rook-ceph") + "/ceph": "no kind CephCluster in ceph.rook.io/v1 on cluster storage: install its CRD first",
		"control-plane-apps":                        "availability_zone",
	} {
		if !strings.Contains(errs[name], want) {
			t.Errorf("%s: error %q, want it to mention %q", name, errs[name], want)
		}
	}
	// Everything else still diffed.
	for _, k := range res.Kustomizations {
		if k.Name != "management-apps" {
			continue
		}
		if k.Error != "" {
			t.Errorf("management-apps: error %q, want it diffed", k.Error)
		}
		if k.Counts.Unchanged == 0 {
			t.Errorf("management-apps: nothing unchanged, want it diffed")
		}
	}
	for _, bad := range []string{"nowhere-cluster", "ns/no-such-ks"} {
		_, err := sc.runErr(t, 0, diff.Options{Targets: []string{bad}})
		if !errors.Is(err, diff.ErrBadTarget) {
			t.Errorf("target %s: error %v, want ErrBadTarget", bad, err)
		}
		if err != nil && !strings.Contains(err.Error(), "neither a cluster") {
			t.Errorf("target %s: error %q, want it to say it is neither a cluster, ...", bad, err)
		}
	}
}

// TestRunFluxRules: kustomize-controller's per-object annotations, a CRD
// and its custom resource in one build, a SOPS-encrypted Secret, and the
// result's order whatever the concurrency.
func TestRunFluxRules(t *testing.T) {
	t.Parallel()
	sc := loadScenario(t)
	sns := sc.s.SpokeNamespace
	// reconcile: disabled on a changed object → skipped, not drifted
	sc.edit(t, "clusters/storage/apps/configmap.yaml", "metadata:\n", "metadata:\n  annotations:\n    kustomize.toolkit.fluxcd.io/reconcile: disabled\n")
	sc.edit(t, "clusters/storage/apps/deployment.yaml", "image: quay.io/ceph/ceph:v19.2.2", "image: quay.io/ceph/ceph:v19.2.3")
	sc.edit(t, "clusters/storage/apps/deployment.yaml", "metadata:\n", "metadata:\n  annotations:\n    kustomize.toolkit.fluxcd.io/ssa: IfNotPresent\n")
	// a CRD and its custom resource in the same build
	sc.write(t, "clusters/hypervisor/crd.yaml", `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: hypervisors.c5c3.cobaltcore.io
spec:
  group: c5c3.cobaltcore.io
  names: {kind: Hypervisor, plural: hypervisors, singular: hypervisor, listKind: HypervisorList}
  scope: Namespaced
  versions:
  - name: v1alpha1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
`)
	sc.write(t, "clusters/hypervisor/hv.yaml", "apiVersion: c5c3.cobaltcore.io/v1alpha1\nkind: Hypervisor\nmetadata:\n  name: node-1\n  namespace: "+sns("nova-compute")+"\nspec:\n  cpus: 64\n")
	// a SOPS-encrypted Secret
	sc.write(t, "clusters/hypervisor/sops.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: nova-sops\n  namespace: "+sns("nova-compute")+"\nstringData:\n  password: ENC[AES256_GCM,data:Zm9vYmFy,iv:abc,tag:def,type:str]\nsops:\n  version: 3.9.0\n")
	sc.edit(t, "clusters/hypervisor/kustomization.yaml", "  - daemonset.yaml\n", "  - daemonset.yaml\n  - crd.yaml\n  - hv.yaml\n  - sops.yaml\n")

	res := sc.run(t, 0, diff.Options{Concurrency: 1})
	if res.HasErrors() {
		t.Errorf("errors in the result:\n%s", asJSON(t, res))
	}
	if !res.HasChanges() {
		t.Errorf("no change in the result, want the CRD and its custom resource created")
	}
	got := map[string]string{}
	for _, o := range res.Objects {
		got[o.ID()] = string(o.Action) + ": " + o.Reason
	}
	for id, want := range map[string]string{
		"ConfigMap/" + sns("rook-ceph") + "/ceph-cluster-config":  "skipped: kustomize.toolkit.fluxcd.io/reconcile: disabled",
		"Deployment/" + sns("rook-ceph") + "/ceph-toolbox":        "skipped: kustomize.toolkit.fluxcd.io/ssa: IfNotPresent and the object exists",
		"CustomResourceDefinition/hypervisors.c5c3.cobaltcore.io": "created: ",
		"Hypervisor/" + sns("nova-compute") + "/node-1":           "created: its CustomResourceDefinition is created by the same build",
		"Secret/" + sns("nova-compute") + "/nova-sops":            "skipped: SOPS-encrypted Secret (sops metadata): kustomize-controller refuses to apply it, the Kustomization has no spec.decryption",
	} {
		if got[id] != want {
			t.Errorf("%s: got %q, want %q", id, got[id], want)
		}
	}
	one := asJSON(t, res)
	if strings.Contains(one, "Zm9vYmFy") {
		t.Error("SOPS ciphertext in the result")
	}
	// Same result whatever the concurrency.
	if many := asJSON(t, sc.run(t, 0, diff.Options{Concurrency: 32})); many != one {
		t.Error("the result differs between concurrency 1 and 32")
	}
}

// TestRunSelection: targets narrow the run to a cluster, a Kustomization,
// or a path — which also selects the Kustomizations whose build reads it
// (a shared base under apps/). A broken build elsewhere does not fail a
// narrowed run.
func TestRunSelection(t *testing.T) {
	t.Parallel()
	sc := loadScenario(t)
	sc.write(t, "clusters/hypervisor/broken.yaml", "kind: [\n")
	sc.edit(t, "clusters/hypervisor/kustomization.yaml", "  - daemonset.yaml\n", "  - daemonset.yaml\n  - broken.yaml\n")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"storage"}, "storage-apps storage-rook-operator"},
		{[]string{sc.s.Namespace + "/control-plane-apps"}, "control-plane-apps"},
		{[]string{"clusters/storage"}, "storage-apps storage-rook-operator"},
		{[]string{"apps/keystone/base"}, "control-plane-apps"},
		{[]string{"infrastructure/sources", "management"}, "flux-system infrastructure-sources management-apps management-tenants"},
		{[]string{"apps/tenants/components/audit"}, "management-tenants"}, // read as a component
	} {
		res := sc.run(t, 0, diff.Options{Targets: tc.args})
		var got []string
		for _, k := range res.Kustomizations {
			got = append(got, k.Name)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("diff %v: Kustomizations %v, want %s", tc.args, got, tc.want)
		}
		if res.HasErrors() {
			t.Errorf("diff %v: errors in the result, want none:\n%s", tc.args, asJSON(t, res))
		}
		if res.HasChanges() {
			t.Errorf("diff %v: changes %+v, want none", tc.args, res.Summary)
		}
	}
	if res := sc.run(t, 0, diff.Options{Targets: []string{"hypervisor"}}); !res.HasErrors() {
		t.Errorf("the broken Kustomization itself must still fail: no error in the result")
	}
}

// TestRunChanges edits the checkout and the live fleet in every way the
// diff must see, and checks each is reported on the right cluster, in the
// result and its text, json, markdown and html renderings, with Secret
// values masked everywhere. (Moved from plugin's TestDiffChanges; the
// command's exit code for changes is TestDiffCommand's.)
func TestRunChanges(t *testing.T) {
	t.Parallel()
	sc := loadScenario(t)
	s := sc.s
	sns := s.SpokeNamespace
	c := sc.ctx
	const secretValue = "s3cr3t-v4lue-never-printed"
	const newSecretValue = "n3w-s3cr3t-never-printed"

	// A Secret that exists live, applied by a reconcile of hypervisor-apps.
	sc.write(t, "clusters/hypervisor/secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: nova-db\n  namespace: "+sns("nova-compute")+"\nstringData:\n  password: "+secretValue+"\n  user: nova\n")
	sc.edit(t, "clusters/hypervisor/kustomization.yaml", "  - daemonset.yaml\n", "  - daemonset.yaml\n  - secret.yaml\n")
	expect.NoError(t, s.Reconcile(c, "hypervisor-apps"))

	// 1. changed manifest in the checkout: the keystone image tag.
	sc.edit(t, "clusters/control-plane/apps/kustomization.yaml", `newTag: "2025.1-p1"`, `newTag: "2025.1-p2"`)
	// 2. a live object edited by hand on a spoke.
	hv := s.Fleet.Spokes["hypervisor"].Client
	cm := &corev1.ConfigMap{}
	expect.NoError(t, hv.Get(c, client.ObjectKey{Namespace: sns("nova-compute"), Name: "nova-compute-config"}, cm))
	cm.Data["cluster"] = "edited-by-hand"
	expect.NoError(t, hv.Update(c, cm, client.FieldOwner("kubectl-edit")))
	// 3. a new object.
	sc.write(t, "clusters/storage/apps/extra.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ceph-extra\n  namespace: "+sns("rook-ceph")+"\ndata:\n  pools: \"3\"\n")
	sc.edit(t, "clusters/storage/apps/kustomization.yaml", "  - deployment.yaml\n", "  - deployment.yaml\n  - extra.yaml\n")
	// 4. a removed object with prune (control-plane-apps prunes) ...
	sc.edit(t, "apps/glance/base/kustomization.yaml", "  - pdb.yaml\n", "")
	// ... and without prune (storage-rook-operator, prune turned off in git).
	sc.edit(t, "clusters/management/storage-rook-operator.yaml", "prune: true", "prune: false")
	sc.edit(t, "clusters/storage/rook-operator/kustomization.yaml", "  - configmap.yaml\n", "")
	// 5. a nested Kustomization, new in git, targeting a remote spoke.
	sc.write(t, "clusters/management/storage-monitoring.yaml", `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: storage-monitoring
  namespace: `+s.Namespace+`
spec:
  interval: 10m
  path: ./clusters/storage/monitoring
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  kubeConfig:
    secretRef:
      name: storage-kubeconfig
`)
	sc.edit(t, "clusters/management/kustomization.yaml", "  - storage-apps.yaml\n", "  - storage-apps.yaml\n  - storage-monitoring.yaml\n")
	sc.write(t, "clusters/storage/monitoring/namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ceph-monitoring\n")
	sc.write(t, "clusters/storage/monitoring/configmap.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ceph-exporter\n  namespace: ceph-monitoring\ndata:\n  interval: 30s\n")
	// 6. substitution from a hub ConfigMap: the domain changes in the hub.
	vars := &corev1.ConfigMap{}
	expect.NoError(t, s.Fleet.Hub.Client.Get(c, client.ObjectKey{Namespace: s.Namespace, Name: "cluster-vars"}, vars))
	vars.Data["domain"] = "cloud.example.org"
	expect.NoError(t, s.Fleet.Hub.Client.Update(c, vars))
	// 7. a Secret change and a new Secret.
	sc.edit(t, "clusters/hypervisor/secret.yaml", secretValue, newSecretValue)
	sc.write(t, "clusters/storage/apps/secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: ceph-admin\n  namespace: "+sns("rook-ceph")+"\nstringData:\n  key: "+newSecretValue+"\n")
	sc.edit(t, "clusters/storage/apps/kustomization.yaml", "  - extra.yaml\n", "  - extra.yaml\n  - secret.yaml\n")

	res := sc.run(t, 0, diff.Options{})
	if res.HasErrors() {
		t.Fatalf("changes: errors in the result:\n%s", asJSON(t, res))
	}
	if !res.HasChanges() {
		t.Fatalf("changes: none in the result")
	}
	out := asJSON(t, res) + "\n" // as -o json prints it
	got := map[string]diff.Action{}
	for _, o := range res.Objects {
		got[o.Cluster+" "+o.ID()] = o.Action
	}
	want := map[string]diff.Action{
		"control-plane Deployment/" + sns("openstack") + "/keystone-api":        diff.ActionDrifted,
		"hypervisor ConfigMap/" + sns("nova-compute") + "/nova-compute-config":  diff.ActionDrifted,
		"storage ConfigMap/" + sns("rook-ceph") + "/ceph-extra":                 diff.ActionCreated,
		"control-plane PodDisruptionBudget/" + sns("openstack") + "/glance-api": diff.ActionDeleted,
		"storage Namespace/ceph-monitoring":                                     diff.ActionCreated,
		"storage ConfigMap/ceph-monitoring/ceph-exporter":                       diff.ActionCreated,
		"control-plane ConfigMap/" + sns("openstack") + "/keystone-config":      diff.ActionDrifted,
		"control-plane ConfigMap/" + sns("openstack") + "/glance-config":        diff.ActionDrifted,
		// git still has the old domain: the hand edit in the hub drifts too
		"management ConfigMap/" + s.Namespace + "/cluster-vars":              diff.ActionDrifted,
		"hypervisor Secret/" + sns("nova-compute") + "/nova-db":              diff.ActionDrifted,
		"storage Secret/" + sns("rook-ceph") + "/ceph-admin":                 diff.ActionCreated,
		"management Kustomization/" + s.Namespace + "/storage-monitoring":    diff.ActionCreated,
		"management Kustomization/" + s.Namespace + "/storage-rook-operator": diff.ActionDrifted,
	}
	for k, a := range want {
		if got[k] != a {
			t.Errorf("%s: got %q, want %q", k, got[k], a)
		}
	}
	for k, a := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected change %s %s", k, a)
		}
	}
	if strings.Contains(out, "rook-site-settings") {
		t.Error("a removed object without prune must not be reported")
	}
	var newKS *diff.KustomizationResult
	for i, k := range res.Kustomizations {
		if k.Name == "storage-monitoring" {
			newKS = &res.Kustomizations[i]
		}
	}
	if newKS == nil {
		t.Fatalf("nested new Kustomization storage-monitoring not in the result")
	}
	if !newKS.New {
		t.Errorf("nested new Kustomization: new false, want true")
	}
	if newKS.Cluster != "storage" {
		t.Errorf("nested new Kustomization on cluster %q, want storage", newKS.Cluster)
	}
	if newKS.Counts.Created != 2 {
		t.Errorf("nested new Kustomization: %d created, want 2", newKS.Counts.Created)
	}
	for _, o := range res.Objects {
		if o.ID() == "Deployment/"+sns("openstack")+"/keystone-api" && !strings.Contains(o.Diff, "+        image: ghcr.io/c5c3/keystone:2025.1-p2") {
			t.Errorf("keystone diff lacks the new image:\n%s", o.Diff)
		}
		if o.ID() == "Secret/"+sns("nova-compute")+"/nova-db" {
			for _, want := range []string{"*** (before)", "*** (after)"} {
				if !strings.Contains(o.Diff, want) {
					t.Errorf("Secret diff (the changed key marked) lacks %q:\n%s", want, o.Diff)
				}
			}
		}
	}
	golden.Assert(t, "diff-changes.json", out)
	// The local pre-check only ever skips the server for unchanged objects:
	// dry-running everything gives the same result.
	if all := asJSON(t, sc.run(t, 0, diff.Options{VerifyUnchanged: true})) + "\n"; all != out {
		t.Errorf("VerifyUnchanged gives a different result:\n%s", all)
	}

	// The renderers of -o text (colour off), markdown and html.
	var text, md, page strings.Builder
	expect.NoError(t, diff.WriteText(&text, res, printers.Palette{}))
	expect.NoError(t, diff.WriteMarkdown(&md, res, diff.MarkdownLimit))
	expect.NoError(t, diff.WriteHTML(&page, res))
	for _, want := range []string{`id="cluster-hypervisor"`, "ghcr.io/c5c3/keystone:2025.1-p1 → ghcr.io/c5c3/keystone:2025.1-p2", "*** (after)"} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("html (a cluster section, the image change, the masked Secret) lacks %q", want)
		}
	}
	golden.Assert(t, "diff-changes.txt", text.String())
	golden.Assert(t, "diff-changes.md", md.String())
	for _, out := range []string{out, text.String(), md.String(), page.String()} {
		for _, secret := range []string{secretValue, newSecretValue, "czNjcjN0", "bjN3LXMzY3Iz"} {
			if strings.Contains(out, secret) {
				t.Fatalf("Secret value %q leaked into the output", secret)
			}
		}
	}
	if !strings.Contains(text.String(), "► Deployment/"+sns("openstack")+"/keystone-api drifted") {
		t.Errorf("text lacks the drift header")
	}
	if !strings.Contains(md.String(), "<details><summary>control-plane") {
		t.Errorf("markdown lacks a <details> block per cluster")
	}
	// The checkout itself is never written to.
	if _, err := os.Stat(filepath.Join(s.RepoDir, "clusters", "storage", "monitoring", "kustomization.yaml")); err == nil {
		t.Error("diff wrote a kustomization.yaml into the checkout")
	}
}
