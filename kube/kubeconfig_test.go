package kube

import (
	"errors"
	"strings"
	"testing"
)

const goodKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: spoke
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: c2VjcmV0LWNh
contexts:
- name: spoke
  context: {cluster: spoke, user: admin}
current-context: spoke
users:
- name: admin
  user:
    token: super-secret-token
`

func TestRESTConfigFromKubeconfig(t *testing.T) {
	for _, tc := range []struct {
		name      string
		data      string
		allowExec bool
		wantErr   string
	}{
		{name: "good", data: goodKubeconfig},
		{name: "empty", data: "  ", wantErr: "kubeconfig is empty"},
		{name: "garbage", data: "{not: [yaml", wantErr: "not valid YAML"},
		{name: "no context", data: strings.Replace(goodKubeconfig, "current-context: spoke", "current-context: other", 1), wantErr: "no current context"},
		{name: "exec refused", data: strings.Replace(goodKubeconfig, "token: super-secret-token", "exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/steal}", 1), wantErr: "user.exec plugin"},
		{name: "exec allowed", data: strings.Replace(goodKubeconfig, "token: super-secret-token", "exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/true, interactiveMode: Never}", 1), allowExec: true},
		{name: "file refused", data: strings.Replace(goodKubeconfig, "token: super-secret-token", "tokenFile: /etc/shadow", 1), wantErr: "user.tokenFile"},
		{name: "ca file refused", data: strings.Replace(goodKubeconfig, "certificate-authority-data: c2VjcmV0LWNh", "certificate-authority: /etc/ca.crt", 1), wantErr: "certificate-authority file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := RESTConfigFromKubeconfig([]byte(tc.data), SpokeOptions{AllowExec: tc.allowExec, Impersonate: "apps/deployer"})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "super-secret-token") || strings.Contains(err.Error(), "c2VjcmV0") {
					t.Fatalf("error leaks kubeconfig contents: %v", err)
				}
				if strings.Contains(tc.wantErr, "exec") && !errors.Is(err, ErrUnsafeKubeconfig) {
					t.Fatalf("want ErrUnsafeKubeconfig, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Host != "https://127.0.0.1:6443" || cfg.Impersonate.UserName != "system:serviceaccount:apps:deployer" {
				t.Fatalf("host %q impersonate %q", cfg.Host, cfg.Impersonate.UserName)
			}
		})
	}
}
