package helmrender

import (
	"fmt"

	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage"
)

// manifestRevision is the revision whose render rel's manifest is. Helm's
// rollback does not render: it stores a new revision with the chart,
// values and manifest of the revision it rolls back to, described as
// "Rollback to N" (helm.sh/helm/v4 pkg/action/rollback.go). The chain is
// followed through rollbacks of rollbacks while the target is still in
// storage; a pruned target ends it at N.
func manifestRevision(st *storage.Storage, rel *helmrelease.Release) int {
	v, r := rel.Version, rel
	for r != nil && r.Info != nil {
		var to int
		if n, err := fmt.Sscanf(r.Info.Description, "Rollback to %d", &to); err != nil || n != 1 || to < 1 || to >= v {
			return v
		}
		v, r = to, nil
		if got, err := st.Get(rel.Name, to); err == nil {
			r, _ = got.(*helmrelease.Release)
		}
	}
	return v
}
