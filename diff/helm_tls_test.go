package diff_test

import (
	"encoding/base64"
	"fmt"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/fixture"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// helmRelease is a HelmRelease of the chart webapp 0.1.0 from the source
// kind/name, rendered onto the control-plane spoke into target.
func helmRelease(name, target, kind, source string) string {
	return fixture.NewHelmRelease(name).Target(target).Spoke("control-plane").Chart("webapp", "0.1.0", kind, source).CreateNamespace().YAML()
}

// TestRunHelmReleaseTLSSources renders HelmReleases onto a spoke from
// chart servers that require mutual TLS with a private CA: a HTTPS
// HelmRepository and an OCI HelmRepository (dockerconfigjson
// credentials), both with a certSecretRef Secret in the hub. A wrong
// registry password and an OCIRepository with a cloud provider are
// errors on their HelmRelease naming the source and Secret, and no Secret
// value (password, client key, docker config) appears in the json or text
// output.
func TestRunHelmReleaseTLSSources(t *testing.T) {
	t.Parallel()
	plain := chartServers(t)
	clientCA := testfleet.NewTestCA(t, "spoke charts client CA")
	srv := testfleet.StartTLSChartServers(t, plain, clientCA)
	crt, key := clientCA.Issue(t, "c5c3-diff", false)
	target := "tls-" + testfleet.Namespace(t)
	ociURL := "oci://" + srv.OCIHost + "/charts"
	dir := t.TempDir()
	files := map[string]string{
		"clusters/management/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - sources.yaml\n  - releases.yaml\n",
		"clusters/management/sources.yaml": fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: https-charts
  namespace: flux-system
spec:
  interval: 1h
  url: %[1]s
  certSecretRef:
    name: charts-tls
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: oci-charts
  namespace: flux-system
spec:
  interval: 1h
  type: oci
  url: %[2]s
  secretRef:
    name: regcred
  certSecretRef:
    name: charts-tls
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: oci-wrong-password
  namespace: flux-system
spec:
  interval: 1h
  type: oci
  url: %[2]s
  secretRef:
    name: regcred-wrong
  certSecretRef:
    name: charts-tls
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: cloud
  namespace: flux-system
spec:
  interval: 1h
  url: oci://%[3]s
  provider: aws
  ref:
    tag: 0.1.0
`, srv.HTTP.URL(), ociURL, srv.Charts["webapp-0.1.0"].OCIRef),
		"clusters/management/releases.yaml": helmRelease("webapp", target, "HelmRepository", "https-charts") + "---\n" +
			helmRelease("webapp-oci", target, "HelmRepository", "oci-charts") + "---\n" +
			helmRelease("wrong-password", target, "HelmRepository", "oci-wrong-password") + "---\n" +
			fixture.NewHelmRelease("cloud").Target(target).Spoke("control-plane").ChartRef("OCIRepository", "cloud").YAML(),
	}
	fixture.WriteFiles(t, dir, files)
	sc := loadHelmScenario(t, dir)
	s := sc.s

	const wrongPassword = "wr0ng-registry-pa55"
	dockerConfig := func(user, pass string) []byte {
		return fmt.Appendf(nil, `{"auths":{%q:{"auth":%q}}}`, srv.OCIHost, base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
	}
	secrets := []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: "charts-tls"}, Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{"ca.crt": srv.CA.PEM, "tls.crt": crt, "tls.key": key}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: "regcred"}, Type: corev1.SecretTypeDockerConfigJson,
			Data: map[string][]byte{corev1.DockerConfigJsonKey: dockerConfig(srv.Username, srv.Password)}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: "regcred-wrong"}, Type: corev1.SecretTypeDockerConfigJson,
			Data: map[string][]byte{corev1.DockerConfigJsonKey: dockerConfig(srv.Username, wrongPassword)}},
	}
	for _, sec := range secrets {
		expect.NoError(t, s.Fleet.Hub.Client.Create(sc.ctx, sec))
	}
	secretValues := []string{srv.Password, wrongPassword, strings.TrimSpace(string(key)),
		base64.StdEncoding.EncodeToString([]byte(srv.Username + ":" + srv.Password)), base64.StdEncoding.EncodeToString(key)}
	noSecrets := func(what, out string) {
		t.Helper()
		for _, v := range secretValues {
			if strings.Contains(out, v) {
				t.Errorf("%s shows a Secret value", what)
			}
		}
		// Any PEM private key, whichever encoding the output uses.
		if strings.Contains(out, "PRIVATE KEY") {
			t.Errorf("%s shows a private key", what)
		}
	}

	res := sc.run(t, 0, diff.Options{})
	wantOutcome(t, "two HelmReleases cannot fetch their chart", res, 2)
	noSecrets("json", asJSON(t, res))
	hrs := hrsOf(res)
	for _, name := range []string{"webapp", "webapp-oci"} {
		h := hrs[name]
		if h.Error != "" {
			t.Errorf("%s HelmRelease over mutual TLS: error %q", name, h.Error)
			continue
		}
		if h.Cluster != "control-plane" || h.Chart != "webapp" {
			t.Errorf("%s HelmRelease over mutual TLS: chart %q on %q, want webapp on control-plane", name, h.Chart, h.Cluster)
		}
		if h.Prediction == nil || h.Prediction.ToVersion != "0.1.0" {
			t.Errorf("%s HelmRelease over mutual TLS: prediction %+v, want version 0.1.0", name, h.Prediction)
		}
		if h.Counts.Created != 5 {
			t.Errorf("%s HelmRelease over mutual TLS: %d objects created, want 5: %+v", name, h.Counts.Created, h.Counts)
		}
	}
	kinds := map[string]bool{}
	for _, o := range res.Objects {
		if o.HelmRelease == s.Namespace+"/webapp-oci" && o.Cluster == "control-plane" && o.Action == diff.ActionCreated {
			kinds[o.Kind] = true
		}
	}
	for _, k := range []string{"ConfigMap", "Deployment", "Secret", "Service", "PodDisruptionBudget"} {
		if !kinds[k] {
			t.Errorf("rendered %s of webapp-oci not created on control-plane; got %v", k, kinds)
		}
	}
	for name, wants := range map[string][]string{
		"wrong-password": {"HelmRelease " + s.Namespace + "/wrong-password", ociURL, "refused access", "credentials from Secret " + s.Namespace + "/regcred-wrong"},
		"cloud":          {"OCIRepository/" + s.Namespace + "/cloud", `spec.provider "aws" is not supported`},
	} {
		for _, w := range wants {
			if !strings.Contains(hrs[name].Error, w) {
				t.Errorf("%s HelmRelease error lacks %q: %q", name, w, hrs[name].Error)
			}
		}
	}

	txt := text(t, res)
	expect.Contains(t, "text", txt, "created via HelmRelease/"+s.Namespace+"/webapp-oci")
	noSecrets("text", txt)
}
