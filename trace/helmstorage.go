package trace

import (
	"context"

	"github.com/fluxcd/cli-utils/pkg/object"
	"k8s.io/client-go/kubernetes"

	"github.com/c5c3/kubectl-c5c3/helmrender"
	"github.com/c5c3/kubectl-c5c3/internal/helmname"
	"github.com/c5c3/kubectl-c5c3/kube"
)

// byHelmStorage finds, for an object without owner labels that no
// inventory lists, the first HelmRelease (in fleet order) deploying to the
// object's cluster without a status.inventory (helm-controller before
// v1.5, or no release made since) whose deployed release in Helm storage
// holds the object in its manifest — the record helm-controller's
// releases are made from. cl is the object's cluster; nil when it cannot
// be reached.
func (tr *tracer) byHelmStorage(ctx context.Context, cl *kube.Client) *located {
	if cl == nil {
		return nil
	}
	var cs kubernetes.Interface
	for _, o := range tr.cluster.Objects {
		hr := o.HelmRelease
		if hr == nil || hr.Status.Inventory != nil || ctx.Err() != nil {
			continue
		}
		if cs == nil {
			var err error
			if cs, err = kubernetes.NewForConfig(cl.Config); err != nil {
				return nil
			}
		}
		name, ns := helmname.ReleaseName(hr), hr.Status.StorageNamespace
		if l := hr.Status.History.Latest(); l != nil && l.Name != "" {
			name = l.Name
		}
		if ns == "" {
			ns = hr.GetStorageNamespace()
		}
		cur, err := helmrender.CurrentRelease(cs.CoreV1().Secrets(ns), name)
		if err != nil || cur == nil {
			continue
		}
		for _, m := range cur.Objects {
			id := object.UnstructuredToObjMetadata(m)
			// A manifest leaves the namespace of namespaced objects to the
			// release's (helm-controller's inventory complements it).
			if id.Namespace == "" && tr.t.Object.Namespace != "" {
				id.Namespace = cur.Namespace
			}
			if id.String() == tr.inventoryID {
				return &located{o, tr.cluster}
			}
		}
	}
	return nil
}
