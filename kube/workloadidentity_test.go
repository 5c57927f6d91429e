package kube

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

func TestParseAudiences(t *testing.T) {
	got := ParseAudiences(" https://a.example \n\n  b  \n")
	if want := []string{"https://a.example", "b"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseAudiences = %q, want %q", got, want)
	}
	if got := ParseAudiences(""); got != nil {
		t.Fatalf("ParseAudiences(\"\") = %q, want none", got)
	}
}

// TestWorkloadIdentityRefused: what Flux refuses before it asks for a
// token, each error naming the ConfigMap (or the service account).
func TestWorkloadIdentityRefused(t *testing.T) {
	hub := fake.NewClientBuilder().WithScheme(Scheme).WithObjects(
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "flux-system", Name: "present"}}).Build()
	base := WorkloadIdentity{ConfigMap: "flux-system/edge-kubeconfig", Namespace: "flux-system"}
	for _, tc := range []struct {
		name string
		edit func(*WorkloadIdentity)
		want string
	}{
		{"no provider", func(w *WorkloadIdentity) {},
			"ConfigMap flux-system/edge-kubeconfig (spec.kubeConfig.configMapRef) has no provider key: set provider to generic, aws, azure or gcp"},
		{"unknown provider", func(w *WorkloadIdentity) { w.Provider = "oci" },
			`ConfigMap flux-system/edge-kubeconfig (spec.kubeConfig.configMapRef) has provider "oci", which Flux does not know`},
		{"generic without address", func(w *WorkloadIdentity) { w.Provider = ProviderGeneric },
			"has provider generic but no address"},
		{"generic over http", func(w *WorkloadIdentity) { w.Provider, w.Address = ProviderGeneric, "http://10.0.0.1:6443" },
			"ConfigMap flux-system/edge-kubeconfig (spec.kubeConfig.configMapRef) address: the Kubernetes API server address 'http://10.0.0.1:6443' must use https scheme"},
		{"missing service account", func(w *WorkloadIdentity) {
			w.Provider, w.Address, w.ServiceAccountName = ProviderGeneric, "https://10.0.0.1:6443", "absent"
		}, "ServiceAccount flux-system/absent (serviceAccountName of ConfigMap flux-system/edge-kubeconfig) not found in the hub"},
		{"missing controller service account", func(w *WorkloadIdentity) {
			w.Provider, w.Address, w.ControllerServiceAccount = ProviderGeneric, "https://10.0.0.1:6443", "flux-system/kustomize-controller"
		}, "ServiceAccount flux-system/kustomize-controller (the Flux controller's own identity, used as ConfigMap flux-system/edge-kubeconfig names no serviceAccountName) not found in the hub"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := base
			tc.edit(&w)
			_, _, err := RESTConfigFromWorkloadIdentity(context.Background(), hub, w, SpokeOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestWorkloadIdentityCloudWithoutCredentials: aws, azure and gcp without
// a service account use the user's own cloud credentials through
// fluxcd/pkg/auth; with none configured (an empty environment and home)
// the error names the ConfigMap and says where credentials come from.
// Only this failure path can be tested here: no cloud is reachable.
func TestWorkloadIdentityCloudWithoutCredentials(t *testing.T) {
	if testing.Short() {
		t.Skip("asks each cloud SDK's credential chain, which probes metadata endpoints")
	}
	home := t.TempDir()
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CA_BUNDLE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE", "GOOGLE_APPLICATION_CREDENTIALS"} {
		t.Setenv(k, "")
	}
	t.Setenv("HOME", home)
	t.Setenv("CLOUDSDK_CONFIG", home)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("GCE_METADATA_HOST", "127.0.0.1:1")
	t.Setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:1")
	t.Setenv("IDENTITY_ENDPOINT", "")
	t.Setenv("MSI_ENDPOINT", "")
	hub := fake.NewClientBuilder().WithScheme(Scheme).Build()
	for _, tc := range []struct{ provider, cluster string }{
		{ProviderAWS, "arn:aws:eks:eu-central-1:123456789012:cluster/edge"},
		{ProviderAzure, "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/edge"},
		{ProviderGCP, "projects/p/locations/europe-west1/clusters/edge"},
	} {
		t.Run(tc.provider, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			w := WorkloadIdentity{ConfigMap: "flux-system/edge-kubeconfig", Namespace: "flux-system", Provider: tc.provider, Cluster: tc.cluster}
			cfg, _, err := RESTConfigFromWorkloadIdentity(ctx, hub, w, SpokeOptions{})
			if err == nil {
				t.Fatalf("got a REST config for %s without credentials", cfg.Host)
			}
			msg := err.Error()
			for _, want := range []string{"workload identity of ConfigMap flux-system/edge-kubeconfig (provider " + tc.provider + ")",
				"without serviceAccountName the plugin uses your own " + tc.provider + " credentials"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q\nwant it to contain %q", msg, want)
				}
			}
			t.Log(msg)
		})
	}
}
