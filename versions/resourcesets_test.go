package versions

import (
	"reflect"
	"testing"
)

// TestVersionValues: which input keys pin a version, nested maps walked,
// the built-in id and provider and non-scalar values left out.
func TestVersionValues(t *testing.T) {
	set := map[string]any{
		"id": "123", "provider": map[string]any{"kind": "ResourceSetInputProvider", "version": "v1"},
		"tag": "v1.4.0", "digest": "sha256:abc", "chartVersion": "7.5.x", "app_version": int64(3),
		"region": "eu-de-1", "replicas": int64(2), "stage": "prod", "tags": []any{"a"},
		"chart": map[string]any{"version": 1.5, "name": "keystone", "image": map[string]any{"imageTag": "2025.1"}},
	}
	want := [][2]string{
		{"app_version", "3"}, {"chart.image.imageTag", "2025.1"}, {"chart.version", "1.5"},
		{"chartVersion", "7.5.x"}, {"digest", "sha256:abc"}, {"tag", "v1.4.0"},
	}
	if got := versionValues("", set); !reflect.DeepEqual(got, want) {
		t.Errorf("versionValues = %v\nwant %v", got, want)
	}
}
