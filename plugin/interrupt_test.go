package plugin

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// blackHole is a cluster behind a firewall that drops packets: it takes
// TCP connections and never answers — not even the TLS handshake, or, with
// tlsUp, after the handshake never the request (so that client-go's 10 s
// TLS handshake timeout cannot be what ends the wait). reached is closed
// at its first connection (request).
type blackHole struct {
	addr    string
	reached chan struct{}
}

func newBlackHole(t *testing.T, tlsUp bool) *blackHole {
	t.Helper()
	h := &blackHole{reached: make(chan struct{})}
	var once sync.Once
	if tlsUp {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			once.Do(func() { close(h.reached) })
			<-r.Context().Done()
		}))
		srv.StartTLS()
		t.Cleanup(func() {
			srv.CloseClientConnections()
			srv.Close()
		})
		h.addr = srv.Listener.Addr().String()
		return h
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	h.addr = lis.Addr().String()
	var (
		mu   sync.Mutex
		held []net.Conn
	)
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
			once.Do(func() { close(h.reached) })
		}
	}()
	t.Cleanup(func() {
		_ = lis.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			_ = c.Close()
		}
	})
	return h
}

// kubeconfig is an admin-looking kubeconfig for the black hole.
func (h *blackHole) kubeconfig() string {
	return `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://` + h.addr + `", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: not-a-real-token}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`
}

// interrupted runs `kubectl c5c3 args...` in-process until it reaches the
// black hole, then cancels its context as Ctrl-C does, and checks that it
// ends with exit code 130. --request-timeout is ten minutes, so only the
// interrupt can end it within the test's deadline.
func interrupted(t *testing.T, h *blackHole, args ...string) {
	t.Helper()
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	o := NewOptions(streams)
	cmd := NewRootCmd(o)
	cmd.SetArgs(append(args, "--request-timeout", "10m", "--color", "never"))
	c, cancel := context.WithCancel(context.Background())
	defer cancel()
	code := make(chan int, 1)
	go func() { code <- execute(c, cmd, streams) }()
	select {
	case <-h.reached:
	case got := <-code:
		t.Fatalf("%v ended (exit %d) before it reached the black hole\nstdout:\n%s\nstderr:\n%s", args, got, out, errOut)
	case <-time.After(3 * time.Minute):
		t.Fatalf("%v never reached the black hole", args)
	}
	cancel()
	select {
	case got := <-code:
		if got != CodeInterrupted {
			t.Errorf("%v: exit %d after the interrupt, want %d\nstdout:\n%s\nstderr:\n%s", args, got, CodeInterrupted, out, errOut)
		}
		// Only the interrupt, not a timeout, may end the wait.
		all := out.String() + errOut.String()
		for _, timeout := range []string{"handshake timeout", "Client.Timeout", "deadline exceeded"} {
			if strings.Contains(all, timeout) {
				t.Errorf("%v: a timeout (%q) ended the wait, not the interrupt\nstdout:\n%s\nstderr:\n%s", args, timeout, out, errOut)
			}
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("%v did not end after the interrupt", args)
	}
}

// TestInterruptBlackHoledHub interrupts every command while the hub takes
// the connection and never answers (hub discovery, the TLS handshake).
func TestInterruptBlackHoledHub(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a gitops checkout with environments")
	}
	isolateGit(t)
	repo := gitopsCheckout(t)
	for _, args := range [][]string{
		{"status"},
		{"diff", "--repo", repo},
		{"trace", "deploy/keystone-api", "-n", "openstack"},
		{"versions", "--repo", repo},
		{"promote", "staging", "production", "--from-revision", "HEAD", "--dry-run", "--diff", "--repo", repo},
	} {
		for _, tlsUp := range []bool{false, true} {
			t.Run(args[0]+map[bool]string{false: " silent", true: " tls up"}[tlsUp], func(t *testing.T) {
				h := newBlackHole(t, tlsUp)
				kc := filepath.Join(t.TempDir(), "kubeconfig")
				must(t, os.WriteFile(kc, []byte(h.kubeconfig()), 0o600))
				interrupted(t, h, append(args, "--kubeconfig", kc)...)
			})
		}
	}
}

// TestInterruptBlackHoledSpoke interrupts every command while the hub
// answers and the control-plane spoke (its kubeconfig Secrets in the
// sample's and the environments' namespaces) takes the connection and
// never answers.
func TestInterruptBlackHoledSpoke(t *testing.T) {
	s, envs, flags, _ := versionsSample(t)
	sns := s.SpokeNamespace
	must(t, s.LookCloned())
	hub := s.Fleet.Hub.Client
	repo := []string{"--repo", s.RepoDir}
	for _, args := range [][]string{
		{"status", "-n", s.Namespace},
		append([]string{"diff", "-n", s.Namespace}, repo...),
		append([]string{"trace", "deploy/keystone-api", "-n", sns("openstack"), "--cluster", "control-plane", "--hub-namespace", s.Namespace, "--diff"}, repo...),
		append([]string{"versions"}, repo...),
		append([]string{"promote", "staging", "production", "--dry-run", "--diff"}, repo...),
	} {
		for _, tlsUp := range []bool{false, true} {
			t.Run(args[0]+map[bool]string{false: " silent", true: " tls up"}[tlsUp], func(t *testing.T) {
				h := newBlackHole(t, tlsUp)
				for _, ns := range []string{s.Namespace, envs["staging"].Namespace, envs["production"].Namespace} {
					sec := &corev1.Secret{}
					must(t, hub.Get(ctx(t), client.ObjectKey{Namespace: ns, Name: "control-plane-kubeconfig"}, sec))
					sec.Data = map[string][]byte{"value": []byte(h.kubeconfig())}
					must(t, hub.Update(ctx(t), sec))
				}
				interrupted(t, h, append(args, flags[:len(flags)-2]...)...)
			})
		}
	}
}
