package status

import (
	"context"
	"fmt"
	"strconv"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/internal/helmname"
)

// Release is a HelmRelease's release as helm-controller reports it
// (status.history[0]) next to the newest revision of that release in Helm's
// storage on the target cluster, read from the storage Secrets' labels.
type Release struct {
	// Name is the release name.
	Name string `json:"name"`
	// StorageNamespace holds the release's storage Secrets on the target.
	StorageNamespace string `json:"storageNamespace"`
	// Revision and Status are status.history[0]'s version and status.
	Revision int    `json:"revision"`
	Status   string `json:"status"`
	// StorageRevision and StorageStatus are the highest revision in Helm's
	// storage and its status; absent when storage has none (or was not
	// read).
	StorageRevision int    `json:"storageRevision,omitempty"`
	StorageStatus   string `json:"storageStatus,omitempty"`
	// Problem says how storage differs from what helm-controller reports;
	// set, the object needs attention.
	Problem string `json:"problem,omitempty"`
	// Error says why storage could not be read (not allowed to list
	// Secrets, ...); the release is then not compared.
	Error string `json:"error,omitempty"`
}

// storedRevision is one revision of a release in Helm's storage, from the
// labels Helm's Secret driver puts on its Secret.
type storedRevision struct {
	Version int
	Status  string
}

// Labels of Helm's Secret storage driver.
const (
	helmOwnerLabel   = "owner"
	helmOwner        = "helm"
	helmNameLabel    = "name"
	helmVersionLabel = "version"
	helmStatusLabel  = "status"
)

// statusUninstalled is the status helm-controller records after
// uninstalling a release, when storage keeps no record of it.
const statusUninstalled = "uninstalled"

// releaseOf returns what helm-controller reports for hr — the release name
// and revision of status.history[0] and the storage namespace
// (status.storageNamespace, else spec.storageNamespace or the HelmRelease's
// namespace) — or nil when there is no history to compare.
func releaseOf(hr *helmv2.HelmRelease) *Release {
	h := hr.Status.History.Latest()
	if h == nil {
		return nil
	}
	r := &Release{Name: h.Name, StorageNamespace: hr.Status.StorageNamespace, Revision: h.Version, Status: h.Status}
	if r.Name == "" {
		r.Name = helmname.ReleaseName(hr)
	}
	if r.StorageNamespace == "" {
		r.StorageNamespace = hr.GetStorageNamespace()
	}
	return r
}

// compareRelease fills r's storage fields from stored, the revisions of r's
// release in storage on cluster, and sets Problem when they differ from
// what helm-controller reports: no revision at all (unless helm-controller
// uninstalled it), another highest revision, or the same revision with
// another status.
func compareRelease(cluster string, r *Release, stored []storedRevision) {
	var latest *storedRevision
	for i := range stored {
		if latest == nil || stored[i].Version > latest.Version {
			latest = &stored[i]
		}
	}
	id := r.StorageNamespace + "/" + r.Name
	if latest == nil {
		if r.Status != statusUninstalled {
			r.Problem = fmt.Sprintf("Helm storage on %s has no release %s; helm-controller reports revision %d %s", cluster, id, r.Revision, r.Status)
		}
		return
	}
	r.StorageRevision, r.StorageStatus = latest.Version, latest.Status
	if latest.Version != r.Revision || latest.Status != r.Status {
		r.Problem = fmt.Sprintf("Helm storage on %s has release %s at revision %d %s; helm-controller reports revision %d %s",
			cluster, id, latest.Version, latest.Status, r.Revision, r.Status)
	}
}

// listStorage lists the metadata of Helm's storage Secrets (owner=helm) in
// namespace ns — never their data — and returns the revisions by release
// name.
func listStorage(ctx context.Context, c client.Reader, ns string) (map[string][]storedRevision, error) {
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(schema.GroupVersionKind{Version: "v1", Kind: "SecretList"})
	if err := c.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{helmOwnerLabel: helmOwner}); err != nil {
		return nil, err
	}
	out := map[string][]storedRevision{}
	for _, s := range list.Items {
		l := s.GetLabels()
		v, err := strconv.Atoi(l[helmVersionLabel])
		if err != nil || l[helmNameLabel] == "" {
			continue // not a release record
		}
		out[l[helmNameLabel]] = append(out[l[helmNameLabel]], storedRevision{Version: v, Status: l[helmStatusLabel]})
	}
	return out, nil
}

// fleetReleases compares, for every HelmRelease with a status.history on
// a reachable cluster of clusters, Helm's storage there with history[0]:
// one metadata-only Secret LIST per storage namespace and cluster, the
// clusters concurrently. It returns the releases by cluster name and
// object ID. Unreachable clusters are skipped (their error says why); a
// LIST that fails leaves its releases with Error set and no Problem.
func fleetReleases(ctx context.Context, f *fleet.Fleet, clusters []*fleet.Cluster, probes map[string]fleet.ProbeResult) map[string]map[string]*Release {
	var listed []*fleet.Cluster
	byCluster := map[string]map[string]map[string]*Release{}
	for _, c := range clusters {
		if probes[c.Name].Err != nil {
			continue
		}
		byNS := map[string]map[string]*Release{} // storage namespace → object ID → release
		for _, o := range c.Objects {
			if o.HelmRelease == nil {
				continue
			}
			if r := releaseOf(o.HelmRelease); r != nil {
				if byNS[r.StorageNamespace] == nil {
					byNS[r.StorageNamespace] = map[string]*Release{}
				}
				byNS[r.StorageNamespace][o.ID()] = r
			}
		}
		if len(byNS) == 0 {
			continue
		}
		listed = append(listed, c)
		byCluster[c.Name] = byNS
	}
	return fleet.PerCluster(listed, func(c *fleet.Cluster) map[string]*Release {
		return clusterReleases(ctx, f, c, byCluster[c.Name])
	})
}

// clusterReleases lists Helm's storage on c once per storage namespace of
// byNS and compares each release with it.
func clusterReleases(ctx context.Context, f *fleet.Fleet, c *fleet.Cluster, byNS map[string]map[string]*Release) map[string]*Release {
	out := map[string]*Release{}
	cl, clientErr := f.Client(ctx, c, "")
	for ns, releases := range byNS {
		var stored map[string][]storedRevision
		err := clientErr
		if err == nil {
			stored, err = listStorage(ctx, cl.Client, ns)
		}
		for id, r := range releases {
			out[id] = r
			switch {
			case apierrors.IsForbidden(err):
				r.Error = fmt.Sprintf("not allowed to list Secrets in %s on %s", ns, c.Name)
			case err != nil:
				r.Error = fmt.Sprintf("listing Helm storage Secrets in %s on %s: %v", ns, c.Name, err)
			default:
				compareRelease(c.Name, r, stored[r.Name])
			}
		}
	}
	return out
}
