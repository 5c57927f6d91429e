package trace

import (
	"bytes"
	"strings"
	"testing"

	"github.com/c5c3/kubectl-c5c3/internal/printers"
	"github.com/c5c3/kubectl-c5c3/status"
)

func TestOwnerOf(t *testing.T) {
	for _, tc := range []struct {
		name       string
		labels     map[string]string
		kind, want string
	}{
		{"none", nil, "", ""},
		{"kustomization", map[string]string{kustomizeNameLabel: "apps", kustomizeNamespaceLabel: "flux-system"}, "Kustomization", "flux-system/apps"},
		{"helm release wins", map[string]string{kustomizeNameLabel: "apps", kustomizeNamespaceLabel: "flux-system",
			helmNameLabel: "redis", helmNamespaceLabel: "tenants"}, "HelmRelease", "tenants/redis"},
		{"name without namespace", map[string]string{kustomizeNameLabel: "apps"}, "", ""},
		{"helm name without namespace falls back", map[string]string{helmNameLabel: "redis",
			kustomizeNameLabel: "apps", kustomizeNamespaceLabel: "flux-system"}, "Kustomization", "flux-system/apps"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kind, id := ownerOf(tc.labels)
			if kind != tc.kind || id != tc.want {
				t.Errorf("ownerOf = %q %q, want %q %q", kind, id, tc.kind, tc.want)
			}
		})
	}
}

func TestGroupOf(t *testing.T) {
	for in, want := range map[string]string{"v1": "", "apps/v1": "apps", "kustomize.toolkit.fluxcd.io/v1": "kustomize.toolkit.fluxcd.io"} {
		if got := groupOf(in); got != want {
			t.Errorf("groupOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestWriteTreeColour: with colour, steps get the status tree's marks and
// painted states; without, only words.
func TestWriteTreeColour(t *testing.T) {
	in := true
	tr := &Trace{
		Object: Object{Cluster: "control-plane", Kind: "Deployment", Namespace: "apps", Name: "web", Found: true},
		Chain: []Step{
			{Object: status.Object{Kind: "Kustomization", Namespace: "flux-system", Name: "apps", State: status.StateFailed, Ready: "False",
				Reason: "HealthCheckFailed", Message: "timeout"}, Found: true, Cluster: "control-plane", KubeConfig: "Secret/flux-system/control-plane-kubeconfig", InInventory: &in,
				Applies: "Deployment/apps/web"},
			{Object: status.Object{Kind: "Kustomization", Namespace: "flux-system", Name: "gone"}, Applies: "Kustomization/flux-system/apps",
				Error: "the labels of Kustomization/flux-system/apps name Kustomization flux-system/gone, which the hub does not have"},
		},
		Summary: Summary{Problems: []string{"Kustomization/flux-system/apps is not Ready (HealthCheckFailed)"}},
	}
	var on, off bytes.Buffer
	if err := WriteTree(&on, tr, status.RenderOptions{Palette: printers.Palette{On: true}}); err != nil {
		t.Fatal(err)
	}
	if err := WriteTree(&off, tr, status.RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\x1b[31m✗\x1b[0m Kustomization/flux-system/apps · \x1b[31mFailed\x1b[0m", "\x1b[31mHealthCheckFailed\x1b[0m: timeout", "\x1b[31mnot found\x1b[0m"} {
		if !strings.Contains(on.String(), want) {
			t.Errorf("coloured tree lacks %q:\n%s", want, on.String())
		}
	}
	want := `Deployment/apps/web · cluster control-plane
└── Kustomization/flux-system/apps · Failed · in inventory
    → cluster control-plane via Secret/flux-system/control-plane-kubeconfig
    HealthCheckFailed: timeout
    └── Kustomization/flux-system/gone · not found
        the labels of Kustomization/flux-system/apps name Kustomization flux-system/gone, which the hub does not have
needs attention:
- Kustomization/flux-system/apps is not Ready (HealthCheckFailed)
`
	if off.String() != want {
		t.Errorf("plain tree:\n%s\nwant:\n%s", off.String(), want)
	}
}
