package diff

import (
	"context"
	"maps"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/ssa/normalize"
	ssautil "github.com/fluxcd/pkg/ssa/utils"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes/scheme"
)

// helmUnchangedLocally is the local pre-check of a rendered Helm object,
// the one Kustomization objects get (unchangedLocally): when the live
// object, from the cluster's one LIST of its kind, already holds every
// field of obj and helm-controller's server-side apply owns nothing obj
// leaves out, the dry-run would report it unchanged and is skipped. Any
// doubt — no live object, no Apply entry of helm-controller, an object
// drift detection excludes (its dry-run reports it skipped),
// --verify-unchanged — sends it to the server as before.
//
// Helm sends objects as rendered, so the check compares a copy normalized
// as kustomize-controller's builds are (ssa/normalize: the default port
// protocols the server fills in, which key its port lists and so the
// managed fields; a Secret's stringData as data): a rendered port without
// a protocol is the live port with "TCP". The fields helm-controller owns
// are looked up in that copy with obj's stringData, which the managed
// fields record as applied. The dry-run, when one is needed, still sends
// obj itself.
func (e *engine) helmUnchangedLocally(ctx context.Context, cc *clusterClients, obj *unstructured.Unstructured) bool {
	if e.opts.VerifyUnchanged || driftExcluded(obj) {
		return false
	}
	live, err := cc.live.Lookup(ctx, obj.GroupVersionKind(), obj.GetNamespace(), obj.GetName())
	if err != nil || live == nil || driftExcluded(live) {
		return false
	}
	n, err := normalizedCopy(obj)
	if err != nil {
		return false
	}
	applied := n.Object
	if sd, ok := obj.Object["stringData"]; ok {
		applied = maps.Clone(n.Object)
		applied["stringData"] = sd
	}
	return unchangedLocallyAs(n, applied, live, helmFieldOwner.Field)
}

// driftExcluded reports whether o carries helm-controller's drift
// detection exclusion (the label or annotation ssa.DiffOptions.Exclusions
// matches).
func driftExcluded(o *unstructured.Unstructured) bool {
	return o.GetAnnotations()[helmv2.DriftDetectionMetadataKey] == helmv2.DriftDetectionDisabledValue ||
		o.GetLabels()[helmv2.DriftDetectionMetadataKey] == helmv2.DriftDetectionDisabledValue
}

// normalizedCopy is the copy of obj the pre-check compares. Kinds of the
// client-go scheme get ssa/normalize's typed round trip (a deep copy). A
// kind it does not know gets none there either: normalize only sets
// metadata.creationTimestamp to null and drops the status of anything but
// a CRD, which a shallow copy (top level and metadata) does alike. A CRD
// (the scheme knows them here) is copied so too, without the typed round
// trip of its schema, the largest object of a chart: the check holds for
// the object as rendered, which is what the dry-run sends, and normalize
// only makes more objects match (its port and stringData rules are for
// Pods, Services and Secrets). Both objects are only read afterwards.
func normalizedCopy(obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	if scheme.Scheme.Recognizes(obj.GroupVersionKind()) && !ssautil.IsCRD(obj) {
		n := obj.DeepCopy()
		return n, normalize.Unstructured(n)
	}
	o := maps.Clone(obj.Object)
	switch md := o["metadata"].(type) {
	case map[string]any:
		md = maps.Clone(md)
		md["creationTimestamp"] = nil
		o["metadata"] = md
	case nil:
		if _, has := o["metadata"]; !has {
			o["metadata"] = map[string]any{"creationTimestamp": nil}
		}
	}
	if !ssautil.IsCRD(obj) {
		delete(o, "status")
	}
	return &unstructured.Unstructured{Object: o}, nil
}
