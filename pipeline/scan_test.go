package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readFixture(t *testing.T, name string) File {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "edit", name))
	if err != nil {
		t.Fatal(err)
	}
	return File{Path: "apps/keystone/production/" + name, Data: data}
}

type pinWant struct {
	key, kind, field, value string
	line                    int
}

func TestScanFixtures(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []pinWant
	}{
		{"release.yaml", []pinWant{
			{"FluxInstance/flux", KindFluxInstance, "spec.distribution.version", "2.6.x", 40},
			{"HelmRelease/keystone/keystone", KindHelmRelease, "spec.chart.spec.version", "1.2.0", 15},
			{"OCIRepository/c5c3-manifests/tag", KindOCIRepository, "spec.ref.tag", "v0.4.2", 32},
			{"setter/keystone-replicas", KindSetter, `# {"$c5c3": "keystone-replicas"}`, "2", 18},
			{"setter/region-code", KindSetter, `# {"$c5c3": "region-code"}`, "de", 25},
		}},
		{"kustomization.yaml", []pinWant{
			{"image/ghcr.io/c5c3/glance/digest", KindImage, "images[name=ghcr.io/c5c3/glance].digest", "sha256:1111111111111111111111111111111111111111111111111111111111111111", 11},
			{"image/ghcr.io/c5c3/glance/newName", KindImage, "images[name=ghcr.io/c5c3/glance].newName", "registry.example.com/c5c3/glance", 10},
			{"image/ghcr.io/c5c3/horizon/newTag", KindImage, "images[name=ghcr.io/c5c3/horizon].newTag", "7.0", 12},
			{"image/ghcr.io/c5c3/keystone/newTag", KindImage, "images[name=ghcr.io/c5c3/keystone].newTag", "2025.1-p1", 8},
		}},
		{"crlf.yaml", []pinWant{
			{"GitRepository/keystone-config/tag", KindGitRepository, "spec.ref.tag", "v1.2.0", 7},
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			pins, err := Scan([]File{readFixture(t, tc.file)})
			if err != nil {
				t.Fatal(err)
			}
			if len(pins) != len(tc.want) {
				t.Fatalf("got %d pins, want %d: %+v", len(pins), len(tc.want), pins)
			}
			for i, w := range tc.want {
				p := pins[i]
				if p.Key != w.key || p.Kind != w.kind || p.Field != w.field || p.Value != w.value || p.Line != w.line {
					t.Errorf("pin %d: got %s %s %s %q line %d, want %+v", i, p.Key, p.Kind, p.Field, p.Value, p.Line, w)
				}
			}
		})
	}
}

func TestScanKinds(t *testing.T) {
	for _, tc := range []struct {
		name, file, src string
		want            []string // key=value
	}{
		{"helmchart", "x.yaml", "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmChart\nmetadata: {name: podinfo}\nspec: {chart: podinfo, version: 6.5.0}\n",
			[]string{"HelmChart/podinfo/version=6.5.0"}},
		{"git ref fields", "x.yaml", "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: {name: cfg}\nspec:\n  ref:\n    branch: main\n    commit: 0123abc\n    semver: '>=1.0.0'\n",
			[]string{"GitRepository/cfg/commit=0123abc", "GitRepository/cfg/semver=>=1.0.0"}},
		{"oci digest", "x.yaml", "apiVersion: source.toolkit.fluxcd.io/v1beta2\nkind: OCIRepository\nmetadata: {name: m}\nspec: {ref: {digest: 'sha256:ab'}}\n",
			[]string{"OCIRepository/m/digest=sha256:ab"}},
		{"helmrelease without chart name", "x.yaml", "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: hr}\nspec: {chart: {spec: {version: 1.0.0}}}\n",
			[]string{"HelmRelease/hr=1.0.0"}},
		{"chartRef release has no chart pin", "x.yaml", "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: hr}\nspec: {chartRef: {kind: OCIRepository, name: podinfo}}\n",
			nil},
		{"flux kustomization images", "x.yaml", "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps}\nspec:\n  images:\n    - name: nginx\n      newTag: 1.27.0\n",
			[]string{"image/nginx/newTag=1.27.0"}},
		{"kustomization file without kind", "kustomization.yaml", "images:\n  - name: nginx\n    digest: sha256:00\n",
			[]string{"image/nginx/digest=sha256:00"}},
		{"images of other kinds are ignored", "x.yaml", "kind: ConfigMap\nimages:\n  - name: nginx\n    newTag: 1.0\n",
			nil},
		{"null version is no pin", "x.yaml", "apiVersion: fluxcd.controlplane.io/v1\nkind: FluxInstance\nmetadata: {name: flux}\nspec: {distribution: {version: }}\n",
			nil},
		{"setter wins over a typed pin", "x.yaml", "apiVersion: fluxcd.controlplane.io/v1\nkind: FluxInstance\nmetadata: {name: flux}\nspec:\n  distribution:\n    version: 2.7.x # {\"$c5c3\": \"flux\"}\n",
			[]string{"setter/flux=2.7.x"}},
		{"setter in a sequence and a flow sequence", "x.yaml", "args:\n  - --v=2 # {\"$c5c3\": \"verbosity\"}\nports: [80, 443]\n",
			[]string{"setter/verbosity=--v=2"}},
		{"other comments are ignored", "x.yaml", "a: 1 # {\"$imagepolicy\": \"flux-system:x\"}\nb: 2 # just a note\n",
			nil},
		{"empty documents", "x.yaml", "---\n---\n# only a comment\n---\n",
			nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pins, err := Scan([]File{{Path: tc.file, Data: []byte(tc.src)}})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range pins {
				got = append(got, p.Key+"="+p.Value)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestScanErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"bad yaml", "a: [1, 2\n", "apps/x.yaml: not valid YAML"},
		{"bad setter json", "a: 1 # {\"$c5c3\": broken}\n", `apps/x.yaml:1: setter comment`},
		{"setter not a string", "a: 1 # {\"$c5c3\": 3}\n", `must be a non-empty string`},
		{"setter with spaces", "a: 1 # {\"$c5c3\": \"a b\"}\n", `must be a non-empty string`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Scan([]File{{Path: "apps/x.yaml", Data: []byte(tc.src)}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
