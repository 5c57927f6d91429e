package trace

import "testing"

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
