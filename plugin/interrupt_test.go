package plugin

import (
	"context"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
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

func newBlackHole(t testing.TB, tlsUp bool) *blackHole {
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
	expect.NoError(t, err)
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

// newListHole is a spoke that answers everything — discovery, the
// version, GETs, access reviews — as the real cluster behind cfg does,
// through a proxy with cfg's credentials, but takes every LIST (as the
// apiserver's own request parser classifies it) and never answers it.
// reached is closed at the first LIST.
func newListHole(t testing.TB, cfg *rest.Config) *blackHole {
	t.Helper()
	transport, err := rest.TransportFor(cfg)
	expect.NoError(t, err)
	target, err := url.Parse(cfg.Host)
	expect.NoError(t, err)
	proxy := &httputil.ReverseProxy{Transport: transport, Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Header.Del("Authorization") // the proxy's transport authenticates
	}}
	parser := &request.RequestInfoFactory{APIPrefixes: sets.NewString("api", "apis"), GrouplessAPIPrefixes: sets.NewString("api")}
	h := &blackHole{reached: make(chan struct{})}
	var once sync.Once
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if info, err := parser.NewRequestInfo(r); err == nil && info.IsResourceRequest && info.Verb == "list" {
			once.Do(func() { close(h.reached) })
			<-r.Context().Done()
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	srv.StartTLS()
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	h.addr = srv.Listener.Addr().String()
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

// kubeconfigFile writes kubeconfig() to a file of the test's and returns
// its path.
func (h *blackHole) kubeconfigFile(t testing.TB) string {
	t.Helper()
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	expect.NoError(t, os.WriteFile(kc, []byte(h.kubeconfig()), 0o600))
	return kc
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

// hubInterruptCommands are the commands interrupted while the hub is a
// black hole, with repo the user's gitops checkout; the caller adds
// --kubeconfig.
func hubInterruptCommands(repo string) [][]string {
	return [][]string{
		{"status"},
		{"diff", "--repo", repo},
		{"trace", "deploy/keystone-api", "-n", "openstack"},
		{"versions", "--repo", repo},
		{"promote", "staging", "production", "--from-revision", "HEAD", "--dry-run", "--diff", "--repo", repo},
	}
}

// spokeInterruptCommands are the commands interrupted while the sample's
// control-plane spoke is a black hole (blackHoleSpoke); the caller adds
// the hub's flags from versionsSample.
func spokeInterruptCommands(s *testfleet.Sample) [][]string {
	repo := []string{"--repo", s.RepoDir}
	return [][]string{
		{"status", "-n", s.Namespace},
		append([]string{"diff", "-n", s.Namespace}, repo...),
		append([]string{"trace", "deploy/keystone-api", "-n", s.SpokeNamespace("openstack"), "--cluster", "control-plane", "--hub-namespace", s.Namespace, "--diff"}, repo...),
		append([]string{"versions"}, repo...),
		append([]string{"promote", "staging", "production", "--dry-run", "--diff"}, repo...),
	}
}

// holeModes names the two black holes: silent (the TLS handshake hangs)
// and tls up (the request hangs).
var holeModes = map[bool]string{false: "silent", true: "tls up"}

// spokeHoles are the black holes a spoke is made into: silent and tls up
// (newBlackHole), and a LIST that hangs on the real spoke (newListHole).
func spokeHoles(s *testfleet.Sample) map[string]func(testing.TB) *blackHole {
	return map[string]func(testing.TB) *blackHole{
		"silent":     func(t testing.TB) *blackHole { return newBlackHole(t, false) },
		"tls up":     func(t testing.TB) *blackHole { return newBlackHole(t, true) },
		"list hangs": func(t testing.TB) *blackHole { return newListHole(t, s.Fleet.Spokes["control-plane"].Config) },
	}
}

// blackHoleSpoke points the control-plane spoke's kubeconfig Secrets in
// the sample's and the environments' namespaces at the black hole.
func blackHoleSpoke(t testing.TB, s *testfleet.Sample, envs map[string]*testfleet.Environment, h *blackHole) {
	t.Helper()
	hub := s.Fleet.Hub.Client
	for _, ns := range []string{s.Namespace, envs["staging"].Namespace, envs["production"].Namespace} {
		sec := &corev1.Secret{}
		expect.NoError(t, hub.Get(ctx(t), client.ObjectKey{Namespace: ns, Name: "control-plane-kubeconfig"}, sec))
		sec.Data = map[string][]byte{"value": []byte(h.kubeconfig())}
		expect.NoError(t, hub.Update(ctx(t), sec))
	}
}

// TestInterruptBlackHoledHub interrupts every command while the hub takes
// the connection and never answers (hub discovery, the TLS handshake).
func TestInterruptBlackHoledHub(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a gitops checkout with environments")
	}
	repo := gitopsCheckout(t)
	for _, args := range hubInterruptCommands(repo) {
		for _, tlsUp := range []bool{false, true} {
			t.Run(args[0]+" "+holeModes[tlsUp], func(t *testing.T) {
				h := newBlackHole(t, tlsUp)
				interrupted(t, h, append(args, "--kubeconfig", h.kubeconfigFile(t))...)
			})
		}
	}
}

// TestInterruptBlackHoledSpoke interrupts every command while the hub
// answers and the control-plane spoke (its kubeconfig Secrets in the
// sample's and the environments' namespaces) takes the connection and
// never answers — or answers everything but a LIST.
func TestInterruptBlackHoledSpoke(t *testing.T) {
	s, envs, flags := versionsSample(t)
	expect.NoError(t, s.LookCloned())
	holes := spokeHoles(s)
	for _, args := range spokeInterruptCommands(s) {
		for _, mode := range slices.Sorted(maps.Keys(holes)) {
			t.Run(args[0]+" "+mode, func(t *testing.T) {
				h := holes[mode](t)
				blackHoleSpoke(t, s, envs, h)
				interrupted(t, h, append(args, flags[:len(flags)-2]...)...)
			})
		}
	}
}
