package status

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/fleet"
)

// This file exposes the pieces of the report and its tree for commands
// that look at single Flux objects (trace), so that they judge and draw an
// object exactly as status does.

// ObjectStatus is the status of one Flux object as Build reports it:
// state, Ready condition, applied and source revisions, stale, the
// dependencies it waits for, inventory size.
func ObjectStatus(f *fleet.Fleet, o fleet.Object) Object {
	return objectStatus(f, o, readiness(f))
}

// ReadFluxReport reads the FluxReport "flux" in namespace ns of the hub.
// Without one (or without the Flux Operator's CRDs) it returns nil and a
// notice saying so.
func ReadFluxReport(ctx context.Context, hub client.Reader, ns string) (*Flux, string, error) {
	return readFluxReport(ctx, hub, ns)
}

// Symbol is the mark the tree puts before a state: ✔ ✗ ◎ in colour, or
// nothing with colour off.
func (o RenderOptions) Symbol(state string) string { return o.symbol(state) }

// Word paints a state the way the tree does.
func (o RenderOptions) Word(state string) string { return o.word(state) }

// ShortRevision shortens "main@sha1:<40 hex>" to "main@sha1:<7 hex>".
func ShortRevision(rev string) string { return shortRevision(rev) }
