package diff

// APIVersion and Kind identify the JSON schema of a Result.
const (
	APIVersion = "c5c3.cobaltcore.io/v1alpha1"
	Kind       = "FleetDiff"
)

// Action is what applying the checkout would do to one object.
type Action string

// The actions an object can get.
const (
	ActionCreated   Action = "created"
	ActionDrifted   Action = "drifted"
	ActionDeleted   Action = "deleted"
	ActionUnchanged Action = "unchanged"
	ActionSkipped   Action = "skipped"
	ActionError     Action = "error"
)

// Result is the outcome of a diff run. Its JSON form is the documented
// schema of `kubectl c5c3 diff -o json`; fields are only ever added.
type Result struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Repo is the checkout that was diffed.
	Repo string `json:"repo"`
	// Source is the GitRepository the checkout stands for ("ns/name").
	Source string `json:"source,omitempty"`
	// Kustomizations diffed, in output order: cluster (hub first), then
	// namespace/name.
	Kustomizations []KustomizationResult `json:"kustomizations"`
	// Objects is every changed, skipped or failed object (unchanged ones
	// are only counted), in output order.
	Objects []ObjectResult `json:"objects"`
	// Skipped lists hub Kustomizations not diffed, and why.
	Skipped []SkippedKustomization `json:"skipped"`
	// HelmReleases are the rendered HelmReleases of the diffed builds
	// (their objects are in Objects with helmRelease set).
	HelmReleases []HelmReleaseResult `json:"helmReleases"`
	// ResourceSets are the ResourceSets of the diffed hub builds, expanded
	// (their objects are in Objects with resourceSet set).
	ResourceSets []ResourceSetResult `json:"resourceSets"`
	Summary      Counts              `json:"summary"`
	// Complete is false when a Kustomization or HelmRelease could not be
	// built, rendered or diffed: what it would change is unknown, and
	// Incomplete says which and why.
	Complete   bool  `json:"complete"`
	Incomplete []Gap `json:"incomplete"`
	// Base is set with --base: the revision the checkout was compared
	// with; only what differs from it was diffed (base.go).
	Base *BaseInfo `json:"base,omitempty"`
	// Unchanged lists, with --base, the Kustomizations and HelmReleases
	// the change leaves as they are: not diffed.
	Unchanged []UnchangedItem `json:"unchanged,omitempty"`
	// NoLive is true with --no-live: no cluster was contacted, live state
	// was not read, and base and head were compared with each other.
	NoLive bool `json:"noLive,omitempty"`
	// NotResolvedOffline lists, with --no-live, the inputs only the hub
	// holds (substituteFrom, valuesFrom outside every build): the same
	// placeholder on both sides.
	NotResolvedOffline []string `json:"notResolvedOffline,omitempty"`
	// Dangers are the plan's danger flags (danger.go), an incomplete plan's
	// gaps included.
	Dangers []Danger `json:"dangers"`
	// Images are the image references the plan adds, changes and removes,
	// per cluster.
	Images []ClusterImages `json:"images"`
}

// KustomizationResult is one Kustomization's row of the summary.
type KustomizationResult struct {
	Cluster   string `json:"cluster"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Path      string `json:"path"`
	// New is true when the Kustomization does not exist in the hub yet and
	// was diffed from its spec in git.
	New    bool   `json:"new,omitempty"`
	Error  string `json:"error,omitempty"`
	Counts Counts `json:"counts"`
}

// ID is "namespace/name".
func (k KustomizationResult) ID() string { return k.Namespace + "/" + k.Name }

// ObjectResult is one object's change.
type ObjectResult struct {
	Cluster       string `json:"cluster"`
	Kustomization string `json:"kustomization"`
	// HelmRelease ("ns/name") is set on objects rendered from a
	// HelmRelease's chart; they are applied by helm-controller.
	HelmRelease string `json:"helmRelease,omitempty"`
	// ResourceSet ("ns/name") is set on objects a ResourceSet of the
	// Kustomization's build generates; the Flux Operator applies them.
	ResourceSet string `json:"resourceSet,omitempty"`
	APIVersion  string `json:"apiVersion"`
	Kind        string `json:"kind"`
	Namespace   string `json:"namespace,omitempty"`
	Name        string `json:"name"`
	Action      Action `json:"action"`
	// Diff is a unified diff of the live and merged YAML (Secret values
	// masked); empty for unchanged and skipped objects.
	Diff   string `json:"diff,omitempty"`
	Reason string `json:"reason,omitempty"`
	Error  string `json:"error,omitempty"`
	// Recreate is set on a created object that exists: an immutable field
	// changes and force is on, so it is deleted and created again.
	Recreate bool `json:"recreate,omitempty"`
	// OtherManagers own (live managedFields) fields this change sets.
	OtherManagers []FieldOwner `json:"otherManagers,omitempty"`

	// images are the containers' image references the change sets
	// (from → to), selectors the selector fields it changes: for the
	// images summary and the danger flags (observe).
	images    []imageDelta
	selectors []string
}

// ID is "Kind/namespace/name" (or "Kind/name" when cluster-scoped).
func (o ObjectResult) ID() string {
	if o.Namespace == "" {
		return o.Kind + "/" + o.Name
	}
	return o.Kind + "/" + o.Namespace + "/" + o.Name
}

// SkippedKustomization is a hub Kustomization that was not diffed.
type SkippedKustomization struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Reason    string `json:"reason"`
}

// Counts tally objects by action.
type Counts struct {
	Created   int `json:"created"`
	Drifted   int `json:"drifted"`
	Deleted   int `json:"deleted"`
	Unchanged int `json:"unchanged"`
	Skipped   int `json:"skipped"`
	Errors    int `json:"errors"`
}

func (c *Counts) add(a Action) {
	switch a {
	case ActionCreated:
		c.Created++
	case ActionDrifted:
		c.Drifted++
	case ActionDeleted:
		c.Deleted++
	case ActionUnchanged:
		c.Unchanged++
	case ActionSkipped:
		c.Skipped++
	case ActionError:
		c.Errors++
	}
}

// Changes is created + drifted + deleted.
func (c Counts) Changes() int { return c.Created + c.Drifted + c.Deleted }

// HasChanges reports whether applying the checkout would change anything.
func (r *Result) HasChanges() bool { return r.Summary.Changes() > 0 }

// HasErrors reports whether any object, Kustomization or cluster failed.
func (r *Result) HasErrors() bool {
	if r.Summary.Errors > 0 {
		return true
	}
	for _, k := range r.Kustomizations {
		if k.Error != "" {
			return true
		}
	}
	for _, h := range r.HelmReleases {
		if h.Error != "" {
			return true
		}
	}
	for _, s := range r.ResourceSets {
		if s.Error != "" {
			return true
		}
	}
	return false
}
