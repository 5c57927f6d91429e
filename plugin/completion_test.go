package plugin

import (
	"bytes"
	"context"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/c5c3/kubectl-c5c3/kube"
)

// The shims the plugin writes are the ones the release archives ship.
func TestShimsMatchShippedFiles(t *testing.T) {
	for name, want := range map[string]string{
		"kubectl_complete-c5c3":     shimScript,
		"kubectl_complete-c5c3.cmd": shimCmd,
	} {
		b, err := os.ReadFile(filepath.Join("..", "cmd", "kubectl_complete-c5c3", name))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != want {
			t.Errorf("cmd/kubectl_complete-c5c3/%s differs from the shim install-shim writes:\n%s\nwant:\n%s", name, b, want)
		}
	}
}

// completionRun runs `kubectl c5c3 args...` in-process; hub, when set,
// stands in for the hub client.
func completionRun(t *testing.T, hub *kube.Client, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	o := NewOptions(streams)
	o.hub = hub
	root := NewRootCmd(o)
	root.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := root.ExecuteContext(ctx)
	code = exitCode(err)
	if err != nil {
		errOut.WriteString("error: " + err.Error() + "\n")
	}
	return out.String(), errOut.String(), code
}

// completions parses `__complete` output: the values, then ":<directive>".
func completions(t *testing.T, out string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[len(lines)-1], ":") {
		t.Fatalf("not __complete output: %q", out)
	}
	var vals []string
	for _, l := range lines[:len(lines)-1] {
		if l != "" && !strings.HasPrefix(l, "Completion ended with directive") {
			vals = append(vals, strings.SplitN(l, "\t", 2)[0])
		}
	}
	return vals
}

func fakeHub(t *testing.T) *kube.Client {
	t.Helper()
	ks := func(ns, name, secret string) *kustomizev1.Kustomization {
		k := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		if secret != "" {
			k.Spec.KubeConfig = &meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: secret}}
		}
		return k
	}
	hr := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: "fleet", Name: "redis"}}
	hr.Spec.KubeConfig = &meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: "us-1-kubeconfig"}}
	c := fake.NewClientBuilder().WithScheme(kube.Scheme).WithObjects(
		ks("flux-system", "infra", ""),
		ks("fleet", "apps-eu-1", "eu-1-kubeconfig"),
		ks("fleet", "apps-eu-2", "eu-2-kubeconfig"),
		hr,
	).Build()
	return &kube.Client{Client: c}
}

func TestCompleteFromHub(t *testing.T) {
	hub := fakeHub(t)
	for _, tc := range []struct {
		args      []string
		want      []string
		directive string // :4 no file completion (flag values); :0 files too (diff's PATH arguments)
	}{
		{[]string{"__complete", "status", "--cluster", ""}, []string{"management", "eu-1", "eu-2", "us-1"}, ":4"},
		{[]string{"__complete", "status", "--cluster", "eu"}, []string{"eu-1", "eu-2"}, ":4"},
		{[]string{"__complete", "status", "--hub-name", "hub", "--cluster", "h"}, []string{"hub"}, ":4"},
		{[]string{"__complete", "diff", "fl"}, []string{"fleet/apps-eu-1", "fleet/apps-eu-2", "flux-system/infra"}, ":0"},
		{[]string{"__complete", "diff", "flux"}, []string{"flux-system/infra"}, ":0"},
		{[]string{"__complete", "diff", "e"}, []string{"eu-1", "eu-2"}, ":0"},
		{[]string{"__complete", "-n", "fleet", "diff", "f"}, []string{"fleet/apps-eu-1", "fleet/apps-eu-2"}, ":0"},
	} {
		t.Run(strings.Join(tc.args[2:], " "), func(t *testing.T) {
			out, errOut, code := completionRun(t, hub, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if got := completions(t, out); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if !strings.HasSuffix(out, tc.directive+"\n") {
				t.Errorf("want directive %s, got %q", tc.directive, out)
			}
		})
	}
}

// cobraDirectiveLine is what cobra's __complete always prints on stderr.
const cobraDirectiveLine = "Completion ended with directive: ShellCompDirectiveNoFileComp\n"

// An unreachable hub completes nothing, prints nothing and does not hang.
func TestCompleteUnreachableHub(t *testing.T) {
	saved := completionTimeout
	completionTimeout = 500 * time.Millisecond
	t.Cleanup(func() { completionTimeout = saved })

	// A hub that accepts connections and never answers, and one that
	// refuses them.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lis.Close() })
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = c.Close() })
		}
	}()
	refused, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedAddr := refused.Addr().String()
	_ = refused.Close()

	for name, server := range map[string]string{"silent": "https://" + lis.Addr().String(), "refused": "https://" + refusedAddr} {
		for _, args := range [][]string{{"status", "--cluster", ""}, {"diff", ""}} {
			t.Run(name+" "+args[0], func(t *testing.T) {
				kc := writeKubeconfig(t, server)
				start := time.Now()
				out, errOut, code := completionRun(t, nil, append([]string{"__complete", "--kubeconfig", kc}, args...)...)
				if took := time.Since(start); took > 5*time.Second {
					t.Errorf("completion took %s with an unreachable hub", took)
				}
				if code != 0 {
					t.Errorf("exit %d, want 0", code)
				}
				if !strings.HasPrefix(errOut, "Completion ended with directive: ") || strings.Count(errOut, "\n") != 1 {
					t.Errorf("stderr %q, want only cobra's directive line", errOut)
				}
				if got := completions(t, out); len(got) != 0 {
					t.Errorf("got %q, want no completions", got)
				}
			})
		}
	}
	t.Run("no kubeconfig", func(t *testing.T) {
		out, errOut, code := completionRun(t, nil, "__complete", "--kubeconfig", filepath.Join(t.TempDir(), "missing"), "status", "--cluster", "")
		if code != 0 {
			t.Errorf("exit %d, want 0", code)
		}
		if errOut != cobraDirectiveLine {
			t.Errorf("stderr %q, want only %q", errOut, cobraDirectiveLine)
		}
		if got := completions(t, out); len(got) != 0 {
			t.Errorf("completions %q, want none", got)
		}
	})
}

func writeKubeconfig(t *testing.T, server string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "kubeconfig")
	kc := `apiVersion: v1
kind: Config
clusters:
- name: hub
  cluster:
    server: ` + server + `
    insecure-skip-tls-verify: true
users:
- name: u
  user:
    token: t
contexts:
- name: hub
  context: {cluster: hub, user: u}
current-context: hub
`
	if err := os.WriteFile(p, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCompletionScripts(t *testing.T) {
	for shell, want := range map[string]string{
		"bash":       "complete -o default -F __start_kubectl-c5c3 kubectl-c5c3",
		"zsh":        "#compdef kubectl-c5c3",
		"fish":       "complete -c kubectl-c5c3",
		"powershell": "Register-ArgumentCompleter -CommandName 'kubectl-c5c3'",
	} {
		t.Run(shell, func(t *testing.T) {
			out, errOut, code := completionRun(t, nil, "completion", shell)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if !strings.Contains(out, want) {
				t.Errorf("%s script does not contain %q", shell, want)
			}
		})
	}
	// cobra's own completion command is replaced, and help says kubectl c5c3.
	out, _, _ := completionRun(t, nil, "completion", "--help")
	expect.Contains(t, "completion help", out, "kubectl c5c3 completion install-shim", "install-shim")
	out, _, _ = completionRun(t, nil, "__complete", "completion", "")
	if got := completions(t, out); !slices.Equal(got, []string{"bash", "fish", "install-shim", "powershell", "zsh"}) {
		t.Errorf("completion subcommands: %q", got)
	}
}

func TestInstallShim(t *testing.T) {
	for _, goos := range []string{"linux", "windows"} {
		t.Run(goos, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
			var out, errOut bytes.Buffer
			o := &InstallShimOptions{Options: NewOptions(genericiooptions.IOStreams{Out: &out, ErrOut: &errOut}), Dir: dir, GOOS: goos}
			// An existing, non-executable file is replaced and made executable.
			name, want := "kubectl_complete-c5c3", shimScript
			if goos == "windows" {
				name, want = "kubectl_complete-c5c3.cmd", shimCmd
			}
			if err := os.WriteFile(filepath.Join(dir, name), []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := o.Complete(); err != nil {
				t.Fatal(err)
			}
			if err := o.Run(); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, name)
			b, err := os.ReadFile(p)
			if err != nil || string(b) != want {
				t.Fatalf("%s: %q, %v", p, b, err)
			}
			if fi, _ := os.Stat(p); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o755 {
				t.Errorf("mode %v, want 0755", fi.Mode())
			}
			if out.String() != "wrote "+p+"\n" || errOut.String() != "" {
				t.Errorf("stdout %q, stderr %q", out.String(), errOut.String())
			}
		})
	}
	t.Run("default dir is where kubectl-c5c3 is on the PATH", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "kubectl-c5c3"), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
		o := &InstallShimOptions{Options: NewOptions(genericiooptions.NewTestIOStreamsDiscard()), GOOS: "linux"}
		if err := o.Complete(); err != nil {
			t.Fatal(err)
		}
		if o.Dir != dir {
			t.Errorf("dir %s, want %s", o.Dir, dir)
		}
	})
	t.Run("warns when the dir is not on the PATH", func(t *testing.T) {
		var out, errOut bytes.Buffer
		o := &InstallShimOptions{Options: NewOptions(genericiooptions.IOStreams{Out: &out, ErrOut: &errOut}), Dir: t.TempDir(), GOOS: "linux"}
		if err := o.Run(); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(errOut.String(), "is not on your PATH") {
			t.Errorf("stderr %q: want a PATH warning", errOut.String())
		}
	})
}
