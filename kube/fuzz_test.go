package kube

import (
	"encoding/base64"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
)

// seedKubeconfig is goodKubeconfig with every kind of credential.
var seedKubeconfig = strings.Replace(goodKubeconfig, "    token: super-secret-token\n",
	"    token: super-secret-token\n    client-key-data: S0VZLURBVEEtTVVTVC1OT1QtTEVBSy0wMQ==\n"+
		"    client-certificate-data: Q0VSVC1EQVRBLU1VU1QtTk9ULUxFQUstMDE=\n    password: password-must-never-be-printed\n", 1)

// FuzzKubeconfigErrors: whatever the bytes of a kubeconfig Secret, an
// error from RESTConfigFromKubeconfig quotes none of its credentials:
// tokens, passwords, key, certificate and CA data — neither as written nor
// base64-decoded.
func FuzzKubeconfigErrors(f *testing.F) {
	f.Add([]byte(seedKubeconfig))
	f.Add([]byte(strings.Replace(seedKubeconfig, "current-context: spoke", "current-context: nope", 1)))
	f.Add([]byte(strings.Replace(seedKubeconfig, "server: https://127.0.0.1:6443", "server: \"\"", 1)))
	f.Add([]byte(strings.Replace(seedKubeconfig, "server: https://127.0.0.1:6443", "server: \"https://[::1\"", 1)))
	f.Add([]byte(strings.Replace(seedKubeconfig, "token:", "tokenFile: /x\n    token:", 1)))
	f.Add([]byte("users:\n- name: admin\n  user: {token: super-secret-token\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := RESTConfigFromKubeconfig(data, SpokeOptions{})
		if err == nil {
			return
		}
		msg := err.Error()
		for _, s := range credentials(data) {
			if len(s) >= 6 && strings.Contains(msg, s) {
				t.Fatalf("error quotes a credential %q: %s", s, msg)
			}
		}
	})
}

// credentials are the secret values of a kubeconfig, where it parses, and
// the fixed secrets of the seed (which a parse error could echo).
func credentials(data []byte) []string {
	out := []string{"super-secret-token", "password-must-never-be-printed", "c2VjcmV0LWNh", "secret-ca",
		"S0VZLURBVEEtTVVTVC1OT1QtTEVBSy0wMQ==", "Q0VSVC1EQVRBLU1VU1QtTk9ULUxFQUstMDE=", "KEY-DATA-MUST", "CERT-DATA-MUST"}
	cfg, err := clientcmd.Load(data)
	if err != nil {
		return out
	}
	for _, u := range cfg.AuthInfos {
		out = append(out, u.Token, u.Password, string(u.ClientKeyData), string(u.ClientCertificateData),
			base64.StdEncoding.EncodeToString(u.ClientKeyData), base64.StdEncoding.EncodeToString(u.ClientCertificateData))
	}
	for _, c := range cfg.Clusters {
		out = append(out, string(c.CertificateAuthorityData), base64.StdEncoding.EncodeToString(c.CertificateAuthorityData))
	}
	return out
}
