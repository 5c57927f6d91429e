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
	// Access holds the hub's own access checks: the Flux API versions it
	// serves against the ones the plugin reads.
	Access []AccessCheck `json:"access,omitempty"`
	// ResourceSets are the Flux Operator's ResourceSets of the hub with
	// their providers (resourceset.go).
	ResourceSets []ResourceSet `json:"resourceSets,omitempty"`
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
	KubeConfig    string `json:"kubeConfig,omitempty"`
	Reachable     bool   `json:"reachable"`
	Error         string `json:"error,omitempty"`
	ServerVersion string `json:"serverVersion,omitempty"`
	Nodes         *int   `json:"nodes,omitempty"`
	// Access lists the checks of the credentials in the kubeconfig Secret
	// (client certificate, CA, JWT token), the version skew to the hub
	// and, with --check-access, the service accounts of its objects.
	Access  []AccessCheck `json:"access,omitempty"`
	Objects []Object      `json:"objects"`
}

// AccessCheck is one check of how the hub's Flux reaches a cluster. Its
// message names the Secret or service account, never a credential.
type AccessCheck struct {
	// Check is ClientCertificate, CertificateAuthority, Token, VersionSkew,
	// FluxAPI or ServiceAccount.
	Check string `json:"check"`
	// State is OK, Warning, Critical (expires within 7 days) or Failed.
	State   string `json:"state"`
	Message string `json:"message"`
	// Expires is a certificate's NotAfter or a JWT's exp claim.
	Expires *time.Time `json:"expires,omitempty"`
	// MinorSkew is the spoke's minor version minus the hub's (VersionSkew).
	MinorSkew *int `json:"minorSkew,omitempty"`
	// Object is the Flux object whose service account was checked.
	Object string `json:"object,omitempty"`
	// ServiceAccount is that service account, "namespace/name".
	ServiceAccount string `json:"serviceAccount,omitempty"`
	// Denied lists what the service account may not patch
	// ("Deployment.apps in keystone").
	Denied []string `json:"denied,omitempty"`

	short string // the tree's one-line form of an OK check
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
	Revision       string `json:"revision,omitempty"`
	SourceRevision string `json:"sourceRevision,omitempty"`
	Source         string `json:"source,omitempty"`
	Path           string `json:"path,omitempty"`
	Chart          string `json:"chart,omitempty"`
	// Release compares a HelmRelease's status.history[0] with Helm's
	// storage on the target; absent without history or when the cluster
	// is unreachable.
	Release   *Release `json:"release,omitempty"`
	DependsOn []string `json:"dependsOn,omitempty"`
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
	// AccessWarnings counts access checks in state Warning.
	AccessWarnings int `json:"accessWarnings"`
	// AccessFailing counts access checks that are Critical or Failed.
	AccessFailing int `json:"accessFailing"`
	// ReleaseProblems counts HelmReleases whose release in Helm's storage
	// differs from what helm-controller reports.
	ReleaseProblems int `json:"releaseProblems"`
	// Healthy is false when anything is failing, unreachable, or suspended
	// and stale, when an access check is Critical or Failed, when a
	// release in Helm's storage differs from what helm-controller reports,
	// or when the hub's Flux (its FluxReport's Ready, cluster sync or any
	// controller) is not ready; `kubectl c5c3 status` then exits 1.
	Healthy bool `json:"healthy"`
}

// NeedsAttention reports whether the object is not ready, stale or
// suspended, or its release in Helm's storage differs from what
// helm-controller reports (what --failing keeps).
func (o Object) NeedsAttention() bool {
	return o.State != StateReady || o.Stale || o.ReleaseProblem() != ""
}

// ReleaseProblem is Release.Problem, "" without one.
func (o Object) ReleaseProblem() string {
	if o.Release == nil {
		return ""
	}
	return o.Release.Problem
}

// ID is "Kind/namespace/name".
func (o Object) ID() string { return o.Kind + "/" + o.Namespace + "/" + o.Name }
