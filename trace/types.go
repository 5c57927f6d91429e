package trace

import "github.com/c5c3/kubectl-c5c3/status"

// APIVersion and Kind identify the JSON/YAML schema of a Trace.
const (
	APIVersion = "c5c3.cobaltcore.io/v1alpha1"
	Kind       = "ObjectTrace"
)

// Trace is where one object comes from. Its JSON form is the documented
// schema of `kubectl c5c3 trace -o json|yaml`; fields are only ever added.
type Trace struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Object     Object `json:"object"`
	// Managed is true when a Flux applier on the hub deploys the object to
	// its cluster.
	Managed bool `json:"managed"`
	// Chain is the applier of the object first, then the Kustomization
	// that applied each step, up to the root. Empty when nothing manages
	// the object.
	Chain []Step `json:"chain"`
	// Sync is the FluxReport's cluster sync ("Kustomization/ns/name");
	// empty without a FluxReport.
	Sync string `json:"sync,omitempty"`
	// Notices explain what is not a problem but worth knowing: how the
	// applier was found, a chain that does not end at the sync, a missing
	// FluxReport.
	Notices []string `json:"notices,omitempty"`
	Summary Summary  `json:"summary"`
}

// Object is the traced object on its cluster.
type Object struct {
	// Cluster is the fleet name of its cluster, as status names it.
	Cluster string `json:"cluster"`
	Hub     bool   `json:"hub"`
	// KubeConfig is where the hub keeps the spoke's kubeconfig
	// ("Secret/ns/name"); never its contents.
	KubeConfig string `json:"kubeConfig,omitempty"`
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
	// Found is true when the object was read from its cluster.
	Found bool `json:"found"`
	// Error says why it could not be read (missing, cluster unreachable,
	// broken kubeconfig Secret).
	Error string `json:"error,omitempty"`
	// Owner is the applier its Flux labels name ("Kind/ns/name"); empty
	// when it has none.
	Owner string `json:"owner,omitempty"`
	// Drift is the diff engine's verdict on the object (with --diff).
	Drift *Drift `json:"drift,omitempty"`
}

// ID is "Kind/namespace/name" (or "Kind/name" when cluster-scoped).
func (o Object) ID() string {
	if o.Namespace == "" {
		return o.Kind + "/" + o.Name
	}
	return o.Kind + "/" + o.Namespace + "/" + o.Name
}

// Step is one Flux applier of the chain: its status as `kubectl c5c3
// status` reports it (kind, namespace, name, state, ready, reason,
// message, suspended, stale, revision, sourceRevision, source, path,
// chart, dependsOn, waitingFor, inventory, created) and what the trace
// adds.
type Step struct {
	status.Object
	// Found is false when labels name an applier the hub does not have.
	Found bool `json:"found"`
	// Cluster is the cluster the step deploys to.
	Cluster string `json:"cluster,omitempty"`
	// KubeConfig is the Secret it deploys through ("Secret/ns/name").
	KubeConfig string `json:"kubeConfig,omitempty"`
	// AttemptedRevision is status.lastAttemptedRevision.
	AttemptedRevision string `json:"attemptedRevision,omitempty"`
	// SourceStatus is the state of the step's source.
	SourceStatus *Source `json:"sourceStatus,omitempty"`
	// Applies is what this step applied: the traced object or the step
	// before it ("Kind/ns/name").
	Applies string `json:"applies"`
	// InInventory says whether Applies is in the step's
	// status.inventory; absent when the step has no inventory.
	InInventory *bool `json:"inInventory,omitempty"`
	// Root is true for the FluxReport's sync.
	Root bool `json:"root"`
	// Providers are a ResourceSet step's ResourceSetInputProviders, with
	// their state and last exported inputs (its sources).
	Providers []status.Provider `json:"providers,omitempty"`
	// Error explains a step that is not Found, or one that deploys to
	// another cluster than Applies lives on.
	Error string `json:"error,omitempty"`
}

// ID is "Kind/namespace/name".
func (s Step) ID() string { return s.Kind + "/" + s.Namespace + "/" + s.Name }

// Source is a Flux source as read from the hub.
type Source struct {
	// Found is false when the hub has no such source.
	Found bool `json:"found"`
	// URL is spec.url (GitRepository, OCIRepository, HelmRepository).
	URL string `json:"url,omitempty"`
	// Ready is the Ready condition's status: True, False or Unknown.
	Ready   string `json:"ready,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	// From is where a HelmChart's chart comes from (its
	// spec.sourceRef, "HelmRepository/ns/name"), or a HelmRelease's
	// chart.spec.sourceRef when helm-controller made no HelmChart yet.
	From string `json:"from,omitempty"`
}

// Drift is what the diff engine finds for the object: the live object
// against the build of its Kustomization (or the render of its
// HelmRelease) from the local checkout.
type Drift struct {
	// Action is created, drifted, deleted, unchanged, skipped or error
	// (as in diff's schema), or not-diffed.
	Action string `json:"action"`
	// Kustomization is the Kustomization whose build was diffed ("ns/name").
	Kustomization string `json:"kustomization,omitempty"`
	// HelmRelease is the HelmRelease whose render was diffed ("ns/name").
	HelmRelease string `json:"helmRelease,omitempty"`
	// Diff is a unified diff of the live and merged YAML (Secret values
	// masked).
	Diff   string `json:"diff,omitempty"`
	Reason string `json:"reason,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Drift actions beyond diff's.
const (
	// ActionNotDiffed: the diff engine could not look at the object (its
	// applier's source is not the checkout, no Kustomization applies the
	// HelmRelease, ...); Reason says why.
	ActionNotDiffed = "not-diffed"
)

// Summary is the verdict on the chain.
type Summary struct {
	// Healthy is true when a chain exists and nothing on it is a problem;
	// `kubectl c5c3 trace` then exits 0.
	Healthy bool `json:"healthy"`
	// Problems says what is not: a step not Ready or stale, an object not
	// in its applier's inventory, drift from git, no applier.
	Problems []string `json:"problems"`
	// Error is set when the trace itself failed: the object could not be
	// read, or the diff failed (exit code 2).
	Error string `json:"error,omitempty"`
}
