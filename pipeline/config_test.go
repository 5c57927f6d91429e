package pipeline

import (
	"strings"
	"testing"
)

const goodConfig = `apiVersion: c5c3.cobaltcore.io/v1alpha1
kind: Promotion
environments:
  - name: staging
    context: c5c3-staging
    paths: [clusters/staging, apps/*/staging]
    kustomizations: [flux-system/staging-apps]
  - name: production
    paths: [clusters/production, apps/*/production]
pipeline: [staging, production]
`

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig("c5c3.yaml", []byte(goodConfig))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Environments) != 2 || c.Environments[0].Context != "c5c3-staging" || c.Environments[0].Kustomizations[0] != "flux-system/staging-apps" {
		t.Fatalf("%+v", c)
	}
	if err := c.CheckPromotion("staging", "production"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ from, to, want string }{
		{"production", "staging", "production → staging is not allowed by the pipeline in c5c3.yaml; allowed: staging → production"},
		{"staging", "staging", "cannot promote staging to itself"},
		{"staging", "qa", `no environment "qa" in c5c3.yaml (declared: staging, production)`},
	} {
		if err := c.CheckPromotion(tc.from, tc.to); err == nil || err.Error() != tc.want {
			t.Errorf("%s → %s: %v, want %q", tc.from, tc.to, err, tc.want)
		}
	}
}

func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"unknown top-level field", strings.Replace(goodConfig, "pipeline:", "pipelines:", 1),
			`c5c3.yaml: line 10: unknown field "pipelines" (allowed: apiVersion, kind, environments, pipeline)`},
		{"unknown environment field", strings.Replace(goodConfig, "    paths: [clusters/production", "    pahts: [clusters/production", 1),
			`c5c3.yaml: line 9: unknown field "pahts" (allowed: name, context, paths, kustomizations, minSoak)`},
		{"wrong apiVersion", strings.Replace(goodConfig, "v1alpha1", "v1", 1), `c5c3.yaml: apiVersion is "c5c3.cobaltcore.io/v1", want c5c3.cobaltcore.io/v1alpha1`},
		{"wrong kind", strings.Replace(goodConfig, "kind: Promotion", "kind: Pipeline", 1), `kind is "Pipeline", want Promotion`},
		{"empty", "", "c5c3.yaml is empty"},
		{"no environments", "apiVersion: c5c3.cobaltcore.io/v1alpha1\nkind: Promotion\n", "environments: at least one environment is required"},
		{"duplicate environment", strings.Replace(goodConfig, "name: production", "name: staging", 1), `environments[1] (staging).name: environment "staging" is declared twice`},
		{"bad name", strings.Replace(goodConfig, "name: production", "name: Prod uction", 1), `environments[1] (Prod uction).name: use lower-case letters`},
		{"no paths", strings.Replace(goodConfig, "    paths: [clusters/production, apps/*/production]\n", "", 1), "environments[1] (production).paths: at least one path is required"},
		{"absolute path", strings.Replace(goodConfig, "[clusters/production", "[/clusters/production", 1), `"/clusters/production" must be relative`},
		{"escaping path", strings.Replace(goodConfig, "[clusters/production", "[../production", 1), `"../production" must name a directory or file inside the repository`},
		{"bad pattern", strings.Replace(goodConfig, "[clusters/production", "[\"clusters/[\"", 1), `"clusters/[" is not a valid pattern`},
		{"bad kustomization", strings.Replace(goodConfig, "flux-system/staging-apps", "staging-apps", 1), `"staging-apps" must be NAMESPACE/NAME`},
		{"pipeline names unknown environment", strings.Replace(goodConfig, "[staging, production]", "[staging, prod]", 1), `pipeline[1]: "prod" is not a declared environment`},
		{"two documents", goodConfig + "---\nfoo: bar\n", "only one YAML document is allowed"},
		{"wrong type", strings.Replace(goodConfig, "[staging, production]", "staging", 1), "c5c3.yaml: line 10: cannot unmarshal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig("c5c3.yaml", []byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestUnder(t *testing.T) {
	env := &Environment{Paths: []string{"clusters/staging", "apps/*/staging", "./infra/sources.yaml"}}
	for p, want := range map[string]bool{
		"clusters/staging":                  true,
		"clusters/staging/flux/x.yaml":      true,
		"./clusters/staging":                true,
		"clusters/staging-2/x.yaml":         false,
		"clusters":                          false,
		"apps/keystone/staging/k.yaml":      true,
		"apps/keystone/production/k.yaml":   false,
		"apps/keystone/base/staging/k.yaml": false,
		"infra/sources.yaml":                true,
		"infra/other.yaml":                  false,
	} {
		if got := env.Under(p); got != want {
			t.Errorf("Under(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestConfigNames(t *testing.T) {
	c, err := ParseConfig("c5c3.yaml", []byte(strings.Replace(goodConfig, "pipeline: [staging, production]", "pipeline: [staging, production]\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Names(""), ","); got != "staging,production" {
		t.Errorf("Names(\"\") = %s", got)
	}
	if got := strings.Join(c.Names("staging"), ","); got != "production" {
		t.Errorf("Names(staging) = %s", got)
	}
	if got := c.Names("production"); len(got) != 0 {
		t.Errorf("Names(production) = %v", got)
	}
}
