package status

import (
	"time"
)

// APIVersion and Kind identify the JSON/YAML schema of a Report.
const (
	APIVersion = "c5c3.cobaltcore.io/v1alpha1"
	Kind       = "FleetStatus"
)

// States of a Flux object.
const (
	StateReady       = "Ready"
	StateFailed      = "Failed"
	StateProgressing = "Progressing"
	StateSuspended   = "Suspended"
	StateUnknown     = "Unknown"
)

// Report is the status of a fleet. Its JSON form is the documented schema of
// `kubectl c5c3 status -o json|yaml`; fields are only ever added.
type Report struct {
	APIVersion string    `json:"apiVersion"`
	Kind       string    `json:"kind"`
	Hub        Hub       `json:"hub"`
	Clusters   []Cluster `json:"clusters"`
	Summary    Summary   `json:"summary"`
}

// Hub is the management cluster and its Flux installation.
type Hub struct {
	Name          string `json:"name"`
	ServerVersion string `json:"serverVersion,omitempty"`
	// Flux is read from the FluxReport; nil when there is none.
	Flux *Flux `json:"flux,omitempty"`
	// Notice explains a missing FluxReport.
	Notice string `json:"notice,omitempty"`
}

// Flux is the hub's FluxReport, reduced to what operators look at.
type Flux struct {
	Version     string       `json:"version,omitempty"`
	Status      string       `json:"status,omitempty"`
	Entitlement string       `json:"entitlement,omitempty"`
	ManagedBy   string       `json:"managedBy,omitempty"`
	Ready       bool         `json:"ready"`
	Message     string       `json:"message,omitempty"`
	Operator    *Operator    `json:"operator,omitempty"`
	Sync        *Sync        `json:"sync,omitempty"`
	Components  []Component  `json:"components"`
	Reconcilers []Reconciler `json:"reconcilers"`
}

// Operator is the Flux Operator that wrote the report.
type Operator struct {
	Version    string `json:"version,omitempty"`
	APIVersion string `json:"apiVersion,omitempty"`
	Platform   string `json:"platform,omitempty"`
}

// Sync is the FluxInstance's cluster sync.
type Sync struct {
	ID     string `json:"id,omitempty"`
	Source string `json:"source,omitempty"`
	Path   string `json:"path,omitempty"`
	Ready  bool   `json:"ready"`
	Status string `json:"status,omitempty"`
}

// Component is one Flux controller.
type Component struct {
	Name   string `json:"name"`
	Ready  bool   `json:"ready"`
	Status string `json:"status,omitempty"`
	Image  string `json:"image,omitempty"`
}

// Reconciler holds the FluxReport's counts for one kind.
type Reconciler struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Running    int64  `json:"running"`
	Failing    int64  `json:"failing"`
	Suspended  int64  `json:"suspended"`
	TotalSize  string `json:"totalSize,omitempty"`
}

// Cluster is one target cluster and the Flux objects deploying to it.
type Cluster struct {
	Name string `json:"name"`
	Hub  bool   `json:"hub"`
	// KubeConfig is where the hub keeps the spoke's kubeconfig
	// ("Secret/ns/name"); never its contents.
	KubeConfig    string   `json:"kubeConfig,omitempty"`
	Reachable     bool     `json:"reachable"`
	Error         string   `json:"error,omitempty"`
	ServerVersion string   `json:"serverVersion,omitempty"`
	Nodes         *int     `json:"nodes,omitempty"`
	Objects       []Object `json:"objects"`
}

// Object is one Kustomization or HelmRelease.
type Object struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// State is Ready, Failed, Progressing, Suspended or Unknown.
	State string `json:"state"`
	// Ready is the Ready condition's status: True, False or Unknown.
	Ready     string `json:"ready"`
	Reason    string `json:"reason,omitempty"`
	Message   string `json:"message,omitempty"`
	Suspended bool   `json:"suspended"`
	// Stale is true when the applied revision lags the source's artifact.
	Stale bool `json:"stale"`
	// Revision is lastAppliedRevision (Kustomization) or the installed
	// chart version (HelmRelease).
	Revision       string   `json:"revision,omitempty"`
	SourceRevision string   `json:"sourceRevision,omitempty"`
	Source         string   `json:"source,omitempty"`
	Path           string   `json:"path,omitempty"`
	Chart          string   `json:"chart,omitempty"`
	DependsOn      []string `json:"dependsOn,omitempty"`
	// WaitingFor lists dependencies that are not Ready.
	WaitingFor []string  `json:"waitingFor,omitempty"`
	Inventory  *int      `json:"inventory,omitempty"`
	Created    time.Time `json:"created"`
}

// Summary counts the report.
type Summary struct {
	Clusters    int `json:"clusters"`
	Unreachable int `json:"unreachable"`
	Objects     int `json:"objects"`
	Ready       int `json:"ready"`
	Failed      int `json:"failed"`
	Progressing int `json:"progressing"`
	Suspended   int `json:"suspended"`
	Stale       int `json:"stale"`
	// Healthy is false when anything is failing, unreachable, or suspended
	// and stale, or when the hub's Flux (its FluxReport's Ready, cluster
	// sync or any controller) is not ready; `kubectl c5c3 status` then
	// exits 1.
	Healthy bool `json:"healthy"`
}

// NeedsAttention reports whether the object is not ready, stale or
// suspended (what --failing keeps).
func (o Object) NeedsAttention() bool {
	return o.State != StateReady || o.Stale
}

// ID is "Kind/namespace/name".
func (o Object) ID() string { return o.Kind + "/" + o.Namespace + "/" + o.Name }
