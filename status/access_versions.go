package status

import (
	"fmt"
	"strings"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/version"
	kversion "k8s.io/apimachinery/pkg/version"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/kube"
)

// skewCheck compares a spoke's server version with the hub's: more than
// one minor version apart is a warning (Flux on the hub applies to the
// spoke with the hub's API knowledge).
func skewCheck(hub, spoke string) (AccessCheck, bool) {
	hv, err := version.ParseGeneric(hub)
	if err != nil {
		return AccessCheck{}, false
	}
	sv, err := version.ParseGeneric(spoke)
	if err != nil {
		return AccessCheck{}, false
	}
	c := AccessCheck{Check: CheckVersionSkew, State: AccessOK}
	if hv.Major() != sv.Major() {
		c.State = AccessWarning
		c.Message = fmt.Sprintf("Kubernetes %s, another major version than the hub's %s", spoke, hub)
		c.short = "major version differs from the hub"
		return c, true
	}
	d := int(sv.Minor()) - int(hv.Minor())
	skew := d
	if skew < 0 {
		skew = -skew
	}
	c.MinorSkew = &d
	switch {
	case d == 0:
		c.Message = fmt.Sprintf("Kubernetes %s, the hub's minor version (%s)", spoke, hub)
		c.short = "same minor as the hub"
		return c, true
	case d < 0:
		c.Message = fmt.Sprintf("Kubernetes %s, %s behind the hub's %s", spoke, plural(skew, "minor version"), hub)
		c.short = plural(skew, "minor") + " behind the hub"
	default:
		c.Message = fmt.Sprintf("Kubernetes %s, %s ahead of the hub's %s", spoke, plural(skew, "minor version"), hub)
		c.short = plural(skew, "minor") + " ahead of the hub"
	}
	if skew > 1 {
		c.State = AccessWarning
		c.Message += ": more than one minor version apart"
	}
	return c, true
}

// FluxAPIs are the Flux kinds and versions the plugin reads on the hub.
var FluxAPIs = []schema.GroupVersionKind{
	kustomizev1.GroupVersion.WithKind(fleet.KindKustomization),
	helmv2.GroupVersion.WithKind(fleet.KindHelmRelease),
	fleet.SourceGroupVersion.WithKind("GitRepository"),
	fleet.SourceGroupVersion.WithKind("OCIRepository"),
	fleet.SourceGroupVersion.WithKind("HelmChart"),
	fleet.FluxReportGVK,
}

// fluxAPICheck compares the versions the hub serves of each Flux kind
// with FluxAPIs, from the RESTMapper's discovery cache (filled by
// discovery already). A kind the hub does not have is skipped; one not
// served at the plugin's version fails; a newer version served beside it
// is a warning.
func fluxAPICheck(mapper meta.RESTMapper) AccessCheck {
	c := AccessCheck{Check: CheckFluxAPI, State: AccessOK}
	var problems, ok []string
	for _, want := range FluxAPIs {
		mappings, err := mapper.RESTMappings(want.GroupKind())
		if kube.IsNoMatch(err) {
			continue
		}
		if err != nil {
			c.State = AccessFailed
			problems = append(problems, fmt.Sprintf("%s: %v", want.Kind, err))
			continue
		}
		var served, newer []string
		found := false
		for _, m := range mappings {
			v := m.GroupVersionKind.Version
			served = append(served, v)
			if v == want.Version {
				found = true
			} else if kversion.CompareKubeAwareVersionStrings(v, want.Version) > 0 {
				newer = append(newer, v)
			}
		}
		switch {
		case !found:
			c.State = AccessFailed
			problems = append(problems, fmt.Sprintf("%s is served as %s, not %s as the plugin reads it: use a plugin built for this Flux version",
				want.Kind, strings.Join(served, ", "), want.GroupVersion()))
		case len(newer) > 0:
			if c.State == AccessOK {
				c.State = AccessWarning
			}
			problems = append(problems, fmt.Sprintf("%s is served as %s too; the plugin reads %s", want.Kind, strings.Join(newer, ", "), want.GroupVersion()))
		default:
			ok = append(ok, want.Kind+" "+want.Version)
		}
	}
	if len(problems) > 0 {
		c.Message = "Flux APIs on the hub: " + strings.Join(problems, "; ")
		c.short = "Flux APIs differ"
	} else {
		c.Message = "Flux APIs on the hub as the plugin reads them: " + strings.Join(ok, ", ")
		c.short = "Flux APIs as expected"
	}
	return c
}
