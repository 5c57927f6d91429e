package versions

import (
	"context"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/pipeline"
)

// APIVersion and Kind of the `versions -o json|yaml` schema.
const (
	APIVersion = "c5c3.cobaltcore.io/v1alpha1"
	Kind       = "VersionMatrix"
)

// The kinds of skew a cell or target can show.
const (
	// SkewGitApplied: the value pinned in git is not what the hub reports
	// as applied (or nothing applied it).
	SkewGitApplied = "gitApplied"
	// SkewAppliedRunning: the image running in a workload is not the
	// applied one.
	SkewAppliedRunning = "appliedRunning"
	// SkewPipeline: the environment pins a value the environment before it
	// in the pipeline neither pins, nor has applied, nor ever pinned.
	SkewPipeline = "pipeline"
)

// Options say what to read.
type Options struct {
	// RepoDir is a directory inside the gitops checkout; it is only read.
	RepoDir string
	// Revision is the commit the pins and c5c3.yaml are read at (default
	// HEAD).
	Revision string
	// Environments limits the matrix to these environments (default all).
	// The environment before each one in the pipeline is read too, for the
	// pipeline check, but not shown.
	Environments []string
	// Fleet discovers the hub of an environment (its kubeconfig context).
	Fleet func(ctx context.Context, env *pipeline.Environment) (*fleet.Fleet, error)
}

// Matrix is the result. Its JSON form is the documented schema of
// `versions -o json` (apiVersion c5c3.cobaltcore.io/v1alpha1, kind
// VersionMatrix); fields are only added.
type Matrix struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Revision is what the pins were read at, as given; Commit its hash.
	Revision string `json:"revision"`
	Commit   string `json:"commit"`
	// Environments in pipeline order.
	Environments []Environment `json:"environments"`
	// Components are the pin keys, sorted.
	Components []Component `json:"components"`
	Summary    Summary     `json:"summary"`
}

// Environment is what was read of one environment's hub.
type Environment struct {
	Name string `json:"name"`
	// Previous is the environment before this one in the pipeline.
	Previous string `json:"previous,omitempty"`
	// Context is the kubeconfig context of its hub ("" = the default hub).
	Context string `json:"context,omitempty"`
	// Appliers are its hub Kustomizations: those c5c3.yaml names or whose
	// path is under the environment's paths, and those their inventories
	// list.
	Appliers []Applier `json:"appliers"`
	// Clusters are the clusters its appliers target, with reachability.
	Clusters []Cluster `json:"clusters"`
	// ResourceSets are the Flux Operator ResourceSets its hub appliers
	// apply, with their inputs that pin versions.
	ResourceSets []ResourceSet `json:"resourceSets,omitempty"`
	// Error says why the environment's hub could not be read.
	Error string `json:"error,omitempty"`
}

// Applier is one hub Kustomization of an environment.
type Applier struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Path      string `json:"path"`
	// Cluster is the cluster it applies to.
	Cluster string `json:"cluster"`
	// AppliedRevision is status.lastAppliedRevision, Commit its git commit.
	AppliedRevision string `json:"appliedRevision"`
	Commit          string `json:"commit,omitempty"`
	// Error says why its applied pins could not be read.
	Error string `json:"error,omitempty"`
}

// Cluster is a cluster an environment's appliers target.
type Cluster struct {
	Name      string `json:"name"`
	Reachable bool   `json:"reachable"`
	Error     string `json:"error,omitempty"`
}

// Component is one pin key across the environments.
type Component struct {
	// Key is promote's pin key, e.g. HelmRelease/keystone-memcached/memcached.
	Key string `json:"key"`
	// Kind is HelmRelease, OCIRepository, GitRepository, HelmChart,
	// FluxInstance, image or setter.
	Kind string `json:"kind"`
	// Field is where the value sits, e.g. spec.chart.spec.version.
	Field string `json:"field"`
	// Environments has one cell per shown environment, in pipeline order.
	Environments []Cell `json:"environments"`
}

// Cell is one component in one environment.
type Cell struct {
	Environment string `json:"environment"`
	// Git is the value pinned in git ("" when the environment does not pin
	// it); several different values are joined with ", ".
	Git string `json:"git"`
	// Pins are where git pins it.
	Pins []Location `json:"pins"`
	// Targets are what its appliers report, one per applier (and object).
	Targets []Target `json:"targets"`
	// Skew lists the kinds of skew of the cell and its targets.
	Skew []string `json:"skew"`
	// Previous is the value the environment before it pins, set with
	// pipeline skew.
	Previous string `json:"previous,omitempty"`
}

// Location is one pin in git.
type Location struct {
	File  string `json:"file"`
	Line  int    `json:"line"`
	Value string `json:"value"`
}

// Target is what one applier reports for a component.
type Target struct {
	// Cluster is where the component runs: the applier's cluster, or a
	// HelmRelease's own target.
	Cluster string `json:"cluster"`
	// Applier is the Kustomization, Kustomization/NAMESPACE/NAME; "" when
	// no applier of the environment applies the pin.
	Applier string `json:"applier"`
	// Object is the Flux object whose status says what is applied, for
	// HelmRelease, OCIRepository, GitRepository, HelmChart and FluxInstance.
	Object string `json:"object,omitempty"`
	// Applied is the applied value ("" when none).
	Applied string `json:"applied"`
	// Attempted is the value a HelmRelease or FluxInstance last tried to
	// apply (status.lastAttemptedRevision), when that is not Applied: an
	// upgrade that failed or is in progress.
	Attempted string `json:"attempted,omitempty"`
	// Running are the distinct values running in the applier's workloads
	// (images only).
	Running []string `json:"running,omitempty"`
	// Workloads are the workloads Running was read from.
	Workloads []string `json:"workloads,omitempty"`
	// Reachable is false when the cluster to read from could not be reached.
	Reachable bool `json:"reachable"`
	// Error says what could not be read.
	Error string `json:"error,omitempty"`
	// Skew lists the target's kinds of skew.
	Skew []string `json:"skew"`
}

// Summary counts the matrix.
type Summary struct {
	Components   int `json:"components"`
	Environments int `json:"environments"`
	// Skewed is the number of cells with any skew.
	Skewed         int `json:"skewed"`
	GitApplied     int `json:"gitApplied"`
	AppliedRunning int `json:"appliedRunning"`
	Pipeline       int `json:"pipeline"`
	// Unreachable counts targets whose cluster could not be reached.
	Unreachable int `json:"unreachable"`
	// Errors counts environments whose hub could not be read.
	Errors int `json:"errors"`
}
