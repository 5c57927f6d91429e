package testfleet

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/registry"
	"sigs.k8s.io/yaml"
)

// TestChartServers checks that the packaged test charts are listed in the
// HTTP repository's index.yaml and can be pulled back from the registry.
func TestChartServers(t *testing.T) {
	s := StartChartServers(t)
	for _, want := range []string{"webapp-0.1.0", "webapp-0.2.0", "widget-operator-1.0.0"} {
		if s.Charts[want] == nil {
			t.Fatalf("chart %s was not packaged; have %v", want, s.Charts)
		}
	}
	resp, err := http.Get(s.HTTP.URL() + "/index.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var idx struct {
		Entries map[string][]struct {
			Version string   `json:"version"`
			URLs    []string `json:"urls"`
		} `json:"entries"`
	}
	if err := yaml.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	if len(idx.Entries["webapp"]) != 2 || len(idx.Entries["widget-operator"]) != 1 {
		t.Fatalf("index.yaml entries: %+v", idx.Entries)
	}

	rc, err := registry.NewClient(registry.ClientOptBasicAuth(s.Username, s.Password), registry.ClientOptPlainHTTP())
	if err != nil {
		t.Fatal(err)
	}
	c := s.Charts["webapp-0.2.0"]
	res, err := rc.Pull(c.OCIRef + ":" + c.Version)
	if err != nil {
		t.Fatal(err)
	}
	if res.Manifest.Digest != c.OCIDigest {
		t.Errorf("pulled digest %s, pushed %s", res.Manifest.Digest, c.OCIDigest)
	}
	ch, err := loader.LoadArchive(strings.NewReader(string(res.Chart.Data)))
	if err != nil {
		t.Fatal(err)
	}
	if ch.Metadata.Version != "0.2.0" || len(ch.Templates) != 5 {
		t.Errorf("pulled chart %s with %d templates, want 0.2.0 with 5", ch.Metadata.Version, len(ch.Templates))
	}
}
