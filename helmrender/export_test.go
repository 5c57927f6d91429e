package helmrender

import (
	"errors"

	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"
)

// CurrentFromStorage is CurrentRelease over any Helm storage driver, so
// tests can read releases that Helm's own actions recorded in memory.
func CurrentFromStorage(st *storage.Storage, name string) (*Current, error) {
	h, err := historyOf(st, name)
	if err != nil {
		return nil, err
	}
	return currentRelease(h, name)
}

// historyOf is the history of release name in any Helm storage (tests
// read what Helm's own actions recorded in memory).
func historyOf(st *storage.Storage, name string) (history, error) {
	rs, err := st.History(name)
	if err != nil && !errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, err
	}
	var h history
	for _, r := range rs {
		if rel, ok := r.(*helmrelease.Release); ok {
			status := ""
			if rel.Info != nil {
				status = rel.Info.Status.String()
			}
			h = append(h, &stored{version: rel.Version, status: status, rel: rel, done: true})
		}
	}
	return h, nil
}
