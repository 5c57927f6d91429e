package promote

import (
	"bytes"
	"encoding/json"
	"errors"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/printers"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// dangerObjects are added to production's keystone overlay (applied to the
// control-plane spoke) before production is reconciled; dangerEdits then
// change them in git the ways the blast radius must flag. The sample's
// namespace openstack is the test's own (inNamespace).
const dangerObjects = `apiVersion: apps/v1
kind: Deployment
metadata: {name: gates-deploy, namespace: openstack}
spec:
  selector: {matchLabels: {app: gates-deploy}}
  template:
    metadata: {labels: {app: gates-deploy}}
    spec: {containers: [{name: app, image: "busybox:1"}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: gates-db, namespace: openstack}
spec:
  serviceName: gates-db
  selector: {matchLabels: {app: gates-db}}
  template:
    metadata: {labels: {app: gates-db}}
    spec: {containers: [{name: db, image: "busybox:1"}]}
---
apiVersion: v1
kind: Service
metadata: {name: gates-ip, namespace: openstack}
spec:
  clusterIP: 10.0.0.150
  ports: [{port: 80}]
  selector: {app: gates-deploy}
---
apiVersion: batch/v1
kind: Job
metadata: {name: gates-job, namespace: openstack}
spec:
  template:
    spec: {restartPolicy: Never, containers: [{name: job, image: "busybox:1"}]}
---
apiVersion: batch/v1
kind: Job
metadata: {name: gates-forced-job, namespace: openstack}
spec:
  template:
    spec: {restartPolicy: Never, containers: [{name: job, image: "busybox:1"}]}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: gates-data, namespace: openstack}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: gates-old-data, namespace: openstack}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Namespace
metadata: {name: gates-old-ns}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: gates-tuning, namespace: openstack}
data: {workers: "4"}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.gates.c5c3.example}
spec:
  group: gates.c5c3.example
  names: {kind: Gadget, plural: gadgets, singular: gadget, listKind: GadgetList}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
` + gizmoCRD

// gizmoCRD is a CustomResourceDefinition that dangerEdits delete, so that
// prune deletes it.
const gizmoCRD = `---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gizmos.gates.c5c3.example}
spec:
  group: gates.c5c3.example
  names: {kind: Gizmo, plural: gizmos, singular: gizmo, listKind: GizmoList}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`

// dangerEdits are the changes in git after production was reconciled.
var dangerEdits = [][2]string{
	{"matchLabels: {app: gates-deploy}}\n  template:\n    metadata: {labels: {app: gates-deploy}}", "matchLabels: {app: gates-deploy, tier: web}}\n  template:\n    metadata: {labels: {app: gates-deploy, tier: web}}"},
	{"matchLabels: {app: gates-db}}\n  template:\n    metadata: {labels: {app: gates-db}}", "matchLabels: {app: gates-db2}}\n  template:\n    metadata: {labels: {app: gates-db2}}"},
	{"clusterIP: 10.0.0.150", "clusterIP: 10.0.0.160"},
	{"name: gates-job, namespace: openstack}\nspec:\n  template:\n    spec: {restartPolicy: Never, containers: [{name: job, image: \"busybox:1\"}]}",
		"name: gates-job, namespace: openstack}\nspec:\n  template:\n    spec: {restartPolicy: Never, containers: [{name: job, image: \"busybox:2\"}]}"},
	{"name: gates-forced-job, namespace: openstack}\nspec:\n  template:\n    spec: {restartPolicy: Never, containers: [{name: job, image: \"busybox:1\"}]}",
		"name: gates-forced-job, namespace: openstack, annotations: {kustomize.toolkit.fluxcd.io/force: Enabled}}\nspec:\n  template:\n    spec: {restartPolicy: Never, containers: [{name: job, image: \"busybox:2\"}]}"},
	{"metadata: {name: gates-data, namespace: openstack}\nspec:\n  accessModes: [ReadWriteOnce]", "metadata: {name: gates-data, namespace: openstack}\nspec:\n  accessModes: [ReadWriteMany]"},
	{"---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: gates-old-data, namespace: openstack}\nspec:\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 1Gi}}\n", ""},
	{"---\napiVersion: v1\nkind: Namespace\nmetadata: {name: gates-old-ns}\n", ""},
	{"properties: {size: {type: integer}}}", "properties: {size: {type: integer}, color: {type: string}}}"},
	{gizmoCRD, ""},
}

// TestPromoteBlastRadius: the --diff preview of production raises a danger
// flag for every kind of dangerous change, in json, text and the pull
// request body; --fail-on-danger refuses and leaves the checkout as it was.
func TestPromoteBlastRadius(t *testing.T) {
	t.Parallel()
	e := loadEnvironments(t)
	ctx := ctxT(t)
	dir := e.repo.Dir
	expect.NoError(t, os.WriteFile(filepath.Join(dir, "apps/keystone/production/gates.yaml"), []byte(inNamespace(e.s, dangerObjects)), 0o644))
	replaceInFile(t, dir, "apps/keystone/production/kustomization.yaml", "  - release.yaml\n", "  - release.yaml\n  - gates.yaml\n", "production: objects for the blast radius")
	expect.NoError(t, e.s.ReconcileEnvironment(ctx, "production-apps"))
	edited := dangerObjects
	for _, ed := range dangerEdits {
		if !strings.Contains(edited, ed[0]) {
			t.Fatalf("edit %q does not apply", ed[0])
		}
		edited = strings.Replace(edited, ed[0], ed[1], 1)
	}
	commitFile(t, dir, "apps/keystone/production/gates.yaml", inNamespace(e.s, edited), "production: dangerous changes")
	setUpstream(t, dir)

	// Another field manager (a kubectl edit) owns a field git sets.
	spoke := e.s.Fleet.Spokes["control-plane"].Client
	cm := &corev1.ConfigMap{}
	openstack := e.s.SpokeNamespace("openstack")
	expect.NoError(t, spoke.Get(ctx, client.ObjectKey{Namespace: openstack, Name: "gates-tuning"}, cm))
	cm.Data["workers"] = "16"
	expect.NoError(t, spoke.Update(ctx, cm, client.FieldOwner("kubectl-edit")))
	// The targets: production's spoke Kustomization suspended, its hub one failing.
	expect.NoError(t, e.s.Suspend(ctx, "Kustomization", "keystone-production"))
	expect.NoError(t, e.s.Fail(ctx, "Kustomization", "production-apps", "HealthCheckFailed", "timeout waiting for: [Deployment/openstack/keystone-api status: 'InProgress']"))

	before := snapshot(t, dir)
	o := e.options()
	o.Diff = true
	p, err := Run(ctxT(t), o)
	if err != nil {
		t.Fatal(err)
	}
	br := p.BlastRadius
	if br == nil || br.Environment != "production" {
		t.Fatalf("blast radius %+v", br)
	}
	ns := e.s.Namespace
	flags := map[string]bool{}
	var cp *ClusterBlast
	for i, c := range br.Clusters {
		for _, d := range c.Dangers {
			flags[c.Cluster+" "+d.Flag+" "+d.Object] = true
		}
		if c.Cluster == "control-plane" {
			cp = &br.Clusters[i]
		}
	}
	for _, want := range []string{
		"control-plane immutable-field Deployment/" + openstack + "/gates-deploy",
		"control-plane immutable-field StatefulSet/" + openstack + "/gates-db",
		"control-plane immutable-field Service/" + openstack + "/gates-ip",
		"control-plane immutable-field Job/" + openstack + "/gates-job",
		"control-plane immutable-field PersistentVolumeClaim/" + openstack + "/gates-data",
		"control-plane recreate Job/" + openstack + "/gates-forced-job",
		"control-plane prune-pvc PersistentVolumeClaim/" + openstack + "/gates-old-data",
		"control-plane prune-namespace Namespace/gates-old-ns",
		"control-plane crd CustomResourceDefinition/gadgets.gates.c5c3.example",
		"control-plane crd CustomResourceDefinition/gizmos.gates.c5c3.example",
		"control-plane field-manager ConfigMap/" + openstack + "/gates-tuning",
		"control-plane target-suspended Kustomization/" + ns + "/keystone-production",
		"management target-not-ready Kustomization/" + ns + "/production-apps",
	} {
		if !flags[want] {
			t.Errorf("no danger flag %q", want)
		}
	}
	if t.Failed() {
		keys := make([]string, 0, len(flags))
		for k := range flags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		t.Fatalf("flags raised:\n%s", strings.Join(keys, "\n"))
	}
	if cp == nil || cp.Deleted != 3 || cp.Changed < 3 || br.Dangers < 13 {
		t.Errorf("counts %+v, %d dangers", cp, br.Dangers)
	}
	for _, c := range br.Clusters {
		for _, d := range c.Dangers {
			if d.Flag == diff.DangerFieldManager && d.Object == "ConfigMap/"+openstack+"/gates-tuning" && d.Message != "overwrites fields another field manager owns: kubectl-edit (.data.workers)" {
				t.Errorf("field-manager flag %+v does not name the manager and field", d)
			}
			want := map[string]string{"CustomResourceDefinition/gadgets.gates.c5c3.example": "changed: every custom resource of it is affected",
				"CustomResourceDefinition/gizmos.gates.c5c3.example": "deleted: every custom resource of it is deleted too"}[d.Object]
			if d.Flag == diff.DangerCRD && (d.Message != want || d.Kustomization != ns+"/keystone-production") {
				t.Errorf("crd flag %+v, want %q from Kustomization %s/keystone-production", d, want, ns)
			}
		}
	}

	// The same in every format.
	js, err := json.Marshal(p)
	expect.NoError(t, err)
	var text bytes.Buffer
	expect.NoError(t, WriteText(&text, p, false, printers.Palette{}))
	body, err := pullRequestBody(p)
	expect.NoError(t, err)
	for format, out := range map[string]string{"json": string(js), "text": text.String(), "markdown": body} {
		for _, want := range []string{"immutable-field", "prune-namespace", "gates-old-ns", "target-suspended", "field-manager"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s lacks %q", format, want)
			}
		}
	}
	if !strings.Contains(text.String(), "Blast radius on production:") || !strings.Contains(body, "**Blast radius** on production:") {
		t.Errorf("text or markdown lacks the blast radius table:\n%s\n---\n%s", text.String(), body)
	}
	assertUntouched(t, dir, before)

	// --fail-on-danger refuses, before anything is committed or pushed.
	bare := servedOrigin(t, e.repo, "")
	before = snapshot(t, dir)
	o.DryRun, o.Diff, o.FailOnDanger, o.Push = false, false, true, true
	p, err = Run(ctxT(t), o)
	var de *DangerError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "refusing to promote (--fail-on-danger)") ||
		!strings.Contains(err.Error(), "control-plane: prune-pvc: PersistentVolumeClaim/"+openstack+"/gates-old-data (Kustomization "+ns+"/keystone-production)") {
		t.Fatalf("--fail-on-danger: %v", err)
	}
	if p == nil || p.Result != nil || p.BlastRadius == nil {
		t.Fatalf("plan after the refusal %+v", p)
	}
	assertUntouched(t, dir, before)
	if refs := gitT(t, bare, "for-each-ref", "--format=%(refname)"); refs != "refs/heads/main" {
		t.Errorf("the remote changed: %s", refs)
	}
}

// TestPromoteBlastRadiusHelmRelease: what production's HelmRelease
// keystone-memcached renders after the promotion (chart memcached 7.5.0
// from the sample's locally served charts, with the Helm SDK) is part of
// the blast radius: its objects are counted on control-plane, its danger
// flags name the HelmRelease.
func TestPromoteBlastRadiusHelmRelease(t *testing.T) {
	t.Parallel()
	e := loadEnvironments(t)
	ctx := ctxT(t)
	expect.NoError(t, e.s.ReconcileEnvironment(ctx, "production-apps"))
	// The release's Service was created by hand before (kubectl create),
	// with another targetPort.
	openstack := e.s.SpokeNamespace("openstack")
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "keystone-memcached", Namespace: openstack}, Spec: corev1.ServiceSpec{
		Selector: map[string]string{"app.kubernetes.io/name": "memcached", "app.kubernetes.io/instance": "keystone-memcached"},
		Ports:    []corev1.ServicePort{{Name: "memcache", Port: 11211, TargetPort: intstr.FromInt32(11211)}},
	}}
	expect.NoError(t, e.s.Fleet.Spokes["control-plane"].Client.Create(ctx, svc, client.FieldOwner("kubectl-create")))

	before := snapshot(t, e.repo.Dir)
	o := e.options()
	o.Diff = true
	p, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	assertUntouched(t, e.repo.Dir, before)
	ns := e.s.Namespace
	hrID := ns + "/keystone-memcached"
	if hs := p.Preview.HelmReleases; len(hs) != 1 || hs[0].ID() != hrID || hs[0].Cluster != "control-plane" || hs[0].Chart != "memcached" ||
		hs[0].Error != "" || hs[0].Prediction == nil || hs[0].Prediction.ToVersion != "7.5.0" {
		t.Fatalf("rendered HelmReleases %+v", hs)
	}
	// The rendered objects, and what the rest of the preview does to
	// control-plane.
	var rendered []string
	var created, changed int
	for _, obj := range p.Preview.Objects {
		if obj.HelmRelease != "" {
			rendered = append(rendered, obj.Cluster+" "+string(obj.Action)+" "+obj.ID())
			continue
		}
		if obj.Cluster == "control-plane" {
			switch obj.Action {
			case diff.ActionCreated:
				created++
			case diff.ActionDrifted:
				changed++
			}
		}
	}
	sort.Strings(rendered)
	if want := []string{"control-plane created Deployment/" + openstack + "/keystone-memcached", "control-plane drifted Service/" + openstack + "/keystone-memcached"}; strings.Join(rendered, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rendered objects:\n%s\nwant:\n%s", strings.Join(rendered, "\n"), strings.Join(want, "\n"))
	}
	var cp *ClusterBlast
	for i := range p.BlastRadius.Clusters {
		if p.BlastRadius.Clusters[i].Cluster == "control-plane" {
			cp = &p.BlastRadius.Clusters[i]
		}
	}
	if cp == nil || cp.Created != created+1 || cp.Changed != changed+1 {
		t.Fatalf("control-plane %+v, want %d created and %d changed: the Kustomizations' and the HelmRelease's", cp, created+1, changed+1)
	}
	want := diff.Danger{Flag: diff.DangerFieldManager, Cluster: "control-plane", Object: "Service/" + openstack + "/keystone-memcached", Kustomization: ns + "/production-apps", HelmRelease: hrID,
		Message: "overwrites fields another field manager owns: kubectl-create (.spec.ports)"}
	if len(cp.Dangers) != 1 || cp.Dangers[0] != want {
		t.Fatalf("control-plane dangers %+v, want %+v", cp.Dangers, want)
	}
	text := renderText(t, p, false)
	if line := "DANGER control-plane: field-manager: Service/" + openstack + "/keystone-memcached (HelmRelease " + hrID + "): "; !strings.Contains(text, line) {
		t.Errorf("text lacks %q:\n%s", line, text)
	}
	body, err := pullRequestBody(p)
	expect.NoError(t, err)
	if line := "- ⚠️ **field-manager** on control-plane: `Service/" + openstack + "/keystone-memcached` (HelmRelease " + hrID + ") — "; !strings.Contains(body, line) {
		t.Errorf("pull request body lacks %q:\n%s", line, body)
	}
}

// inNamespace puts objects of the sample's namespace openstack into the
// sample's own (testfleet.SampleOptions.OwnNamespaces).
func inNamespace(s *testfleet.Sample, objects string) string {
	return strings.ReplaceAll(objects, "namespace: openstack", "namespace: "+s.SpokeNamespace("openstack"))
}
