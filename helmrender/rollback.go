package helmrender

import (
	"fmt"

	helmrelease "helm.sh/helm/v4/pkg/release/v1"
)

// manifestRevision is the revision whose render rel's manifest is. Helm's
// rollback does not render: it stores a new revision with the chart,
// values and manifest of the revision it rolls back to, described as
// "Rollback to N" (helm.sh/helm/v4 pkg/action/rollback.go). The chain is
// followed through rollbacks of rollbacks while the target is still in
// storage; a pruned target ends it at N.
func manifestRevision(h history, rel *helmrelease.Release) int {
	v, r := rel.Version, rel
	for r != nil && r.Info != nil {
		var to int
		if n, err := fmt.Sscanf(r.Info.Description, "Rollback to %d", &to); err != nil || n != 1 || to < 1 || to >= v {
			return v
		}
		v, r = to, nil
		r = h.get(to)
	}
	return v
}
