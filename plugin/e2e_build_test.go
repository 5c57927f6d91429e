package plugin

import (
	"context"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// buildRulesCase is one tree of testdata/buildrules and the Kustomizations
// the real kustomize-controller must make Ready from it.
type buildRulesCase struct {
	tree   string
	ignore *string
	names  []string
}

// TestE2EBuildRules checks the build rules against the real
// kustomize-controller: for each build-rule fixture (source-controller's
// default exclusions in a generator directory, .sourceignore at two levels
// with spec.ignore, the spec.path forms, a commonMetadata label named like
// the owner label), published as the artifact source-controller packs, the
// controller's inventory after a real reconcile is the Builder's output,
// object for object, and diff finds nothing to change.
func TestE2EBuildRules(t *testing.T) {
	t.Parallel()
	if !testing.Short() {
		if _, err := testfleet.FluxBinDir(); err != nil {
			t.Fatal(err)
		}
	}
	root, err := testfleet.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	ignore := "# drafts are never deployed\n**/draft-*.yaml\n"
	for _, tc := range []buildRulesCase{
		{tree: "defaults", names: []string{"flux-system", "rules-generated", "rules-labelled", "rules-slashes"}},
		{tree: "ignore", ignore: &ignore, names: []string{"flux-system", "rules-filtered"}},
	} {
		t.Run(tc.tree, func(t *testing.T) {
			s := loadLiveSample(t, testfleet.SampleOptions{Source: filepath.Join(root, "testdata", "buildrules", tc.tree), SourceIgnore: tc.ignore}, tc.names, nil)
			checkInventoryIsBuild(t, s, false)
			fl := s.Fleet
			flags := []string{"--kubeconfig", fl.HubKubeconfig, "-n", s.Namespace, "--flux-namespace", s.Namespace, "--color", "never"}
			r := run(t, diffArgs(s.Sample, flags, "-o", "json", "--helm=false")...)
			res := decodeDiff(t, r.stdout)
			if res.HasChanges() {
				t.Errorf("diff: changes (the builder disagrees with the real controller):\n  %s\n%s", strings.Join(changes(res), "\n  "), objectDiffs(res))
			}
			if res.HasErrors() {
				t.Errorf("diff: errors, want none\n%s", r.stdout)
			}
			expect.Equal(t, "diff: Kustomizations", len(res.Kustomizations), len(tc.names))
			wantExit(t, "diff", r, 0)
			if tc.tree == "defaults" {
				// Path arguments see the artifact: a directory the default
				// exclusions leave out is no target.
				r := run(t, diffArgs(s.Sample, flags, "apps/generated/.github")...)
				wantExit(t, "diff apps/generated/.github", r, 2)
				expect.Contains(t, "diff apps/generated/.github: stderr", r.stderr, "not in the artifact")
				r = run(t, diffArgs(s.Sample, flags, "-o", "json", "--helm=false", "apps/generated")...)
				wantExit(t, "diff apps/generated", r, 0)
				res := decodeDiff(t, r.stdout)
				expect.Equal(t, "diff apps/generated: Kustomizations", len(res.Kustomizations), 1)
				expect.Equal(t, "diff apps/generated: objects unchanged", res.Summary.Unchanged, 2)
				cm := &corev1.ConfigMap{}
				expect.NoError(t, fl.Hub.Client.Get(ctx(t), client.ObjectKey{Namespace: s.Namespace, Name: "labelled"}, cm))
				if v := cm.Labels["kustomize.toolkit.fluxcd.io/name"]; v != "from-common-metadata" || cm.Labels["team"] != "platform" {
					t.Errorf("labelled: the controller applied labels %v, want the commonMetadata name label", cm.Labels)
				}
			}
		})
	}
}

// loadLiveSample loads opts into the fleet with the real
// kustomize-controller and waits until names are Ready.
// before, when set, runs first with the sample's namespace (created).
func loadLiveSample(t *testing.T, opts testfleet.SampleOptions, names []string, before func(ns string)) *testfleet.LiveSample {
	t.Helper()
	fl := testfleet.Get(t)
	setup, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opts.Namespace = testfleet.Namespace(t)
	opts.NoFluxReport = true
	if before != nil {
		expect.NoError(t, fl.Hub.Client.Create(setup, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: opts.Namespace}}))
		before(opts.Namespace)
	}
	s, err := fl.LoadSampleWithController(setup, opts)
	if err != nil {
		t.Fatalf("real kustomize-controller: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kustomize-controller log %s (tail):\n%s", s.Controller.LogFile, s.Controller.LogTail(60))
		}
		if err := s.Close(); err != nil {
			t.Errorf("stopping kustomize-controller: %v", err)
		}
	})
	if _, err := s.WaitReady(setup, s.Revision, names...); err != nil {
		t.Fatal(err)
	}
	return s
}

// checkInventoryIsBuild compares, for every Kustomization of the sample,
// the inventory the real controller wrote with the objects the diff
// Builder builds for it (decrypting SOPS data when decrypt is set).
func checkInventoryIsBuild(t *testing.T, s *testfleet.LiveSample, decrypt bool) {
	t.Helper()
	c := ctx(t)
	hub := s.Fleet.Hub.Client
	b, err := diff.NewBuilder(s.RepoDir, hub, false)
	expect.NoError(t, err)
	if decrypt {
		b.WithDecrypt()
	}
	kss, err := s.WaitReady(c, s.Revision)
	expect.NoError(t, err)
	for i := range kss {
		ks := &kss[i]
		if ks.Status.Inventory == nil {
			t.Errorf("%s: no inventory", ks.Name)
			continue
		}
		var inventory []string
		for _, e := range ks.Status.Inventory.Entries {
			inventory = append(inventory, e.ID)
		}
		objects, err := b.Build(c, ks)
		if err != nil {
			t.Errorf("Builder, %s: %v", ks.Name, err)
			continue
		}
		var built []string
		for _, o := range objects {
			gvk := o.GroupVersionKind()
			built = append(built, strings.Join([]string{o.GetNamespace(), o.GetName(), gvk.Group, gvk.Kind}, "_"))
		}
		sort.Strings(inventory)
		sort.Strings(built)
		if strings.Join(built, "\n") != strings.Join(inventory, "\n") {
			t.Errorf("%s: the controller's inventory\n  %s\nthe Builder's objects\n  %s", ks.Name, strings.Join(inventory, "\n  "), strings.Join(built, "\n  "))
		}
	}
}
