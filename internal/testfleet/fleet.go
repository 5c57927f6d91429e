package testfleet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/c5c3/kubectl-c5c3/kube"
)

// SpokeNames are the spokes of the standard test fleet.
var SpokeNames = []string{"control-plane", "hypervisor", "storage"}

// crdControllers are the Flux controllers whose modules hold the CRDs the
// hub gets, at the versions of go.mod (ControllerVersion).
var crdControllers = []string{"kustomize-controller", "source-controller", "helm-controller"}

// Cluster is one running kube-apiserver + etcd.
type Cluster struct {
	Name string
	// Config is an admin REST config.
	Config *rest.Config
	// Client is a controller-runtime client with the plugin's scheme.
	Client client.Client
	// Kubeconfig is a self-contained admin kubeconfig (inline certificates;
	// the client certificate is valid for ClientCertLifetime).
	Kubeconfig []byte

	env *envtest.Environment
	ca  *clientCA
	// thread started the cluster's processes and lives until they stop.
	thread *ownerThread
}

// Fleet is a running hub and its spokes.
type Fleet struct {
	// Dir holds the kubeconfig files; removed by Stop.
	Dir string
	// Hub is the management cluster with Flux CRDs installed.
	Hub *Cluster
	// Spokes by name.
	Spokes map[string]*Cluster
	// HubKubeconfig is the path of the hub kubeconfig file for the CLI.
	HubKubeconfig string
	// PodNetwork carries the hub API server's proxy subresources to test
	// servers (ServeInPod).
	PodNetwork *PodNetwork

	// The local chart repository of the sample (SampleChartRepo).
	chartsOnce sync.Once
	charts     *chartRepo
	chartsErr  error
}

// Options for Start.
type Options struct {
	// Spokes to start; default SpokeNames.
	Spokes []string
	// NodesPerSpoke Node objects are registered in each spoke (and one in the
	// hub) so that node counts are realistic; there is no kubelet.
	NodesPerSpoke int
}

// Start starts the hub and spokes concurrently. On error everything that
// started is stopped again.
func Start(ctx context.Context, opts Options) (f *Fleet, err error) {
	if len(opts.Spokes) == 0 {
		opts.Spokes = SpokeNames
	}
	assets, err := AssetsDir()
	if err != nil {
		return nil, err
	}
	crds, err := CRDDirs()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "c5c3-fleet-")
	if err != nil {
		return nil, err
	}
	f = &Fleet{Dir: dir, Spokes: map[string]*Cluster{}}
	defer func() {
		if err != nil {
			_ = f.Stop()
			f = nil
		}
	}()
	if assets, err = ownedAssets(assets, dir); err != nil {
		return f, err
	}
	podNet, egress, err := startPodNetwork(dir)
	if err != nil {
		return f, err
	}
	f.PodNetwork = podNet

	names := append([]string{"hub"}, opts.Spokes...)
	clusters := make([]*Cluster, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var crdPaths []string
			flags := map[string]string{}
			if name == "hub" {
				crdPaths = crds
				flags["egress-selector-config-file"] = egress
			}
			clusters[i], errs[i] = startCluster(name, assets, crdPaths, flags)
		}()
	}
	wg.Wait()
	for i, c := range clusters {
		if c == nil {
			continue
		}
		if i == 0 {
			f.Hub = c
		} else {
			f.Spokes[c.Name] = c
		}
	}
	if err := errors.Join(errs...); err != nil {
		return f, err
	}

	f.HubKubeconfig = filepath.Join(dir, "hub.kubeconfig")
	if err := os.WriteFile(f.HubKubeconfig, f.Hub.Kubeconfig, 0o600); err != nil {
		return f, err
	}
	for name, s := range f.Spokes {
		if err := os.WriteFile(filepath.Join(dir, name+".kubeconfig"), s.Kubeconfig, 0o600); err != nil {
			return f, err
		}
		if err := registerNodes(ctx, s.Client, name, opts.NodesPerSpoke); err != nil {
			return f, err
		}
	}
	if err := registerNodes(ctx, f.Hub.Client, "management", min(opts.NodesPerSpoke, 1)); err != nil {
		return f, err
	}
	return f, nil
}

// startTimeout is how long an etcd or kube-apiserver may take to become
// ready. envtest's 20 s is too short on a two-core runner that is still
// compiling other test binaries: the timed-out apiserver keeps its port
// while it stops, so envtest's retries fail too and the fleet never starts.
// KUBEBUILDER_CONTROLPLANE_START_TIMEOUT still overrides it.
const startTimeout = 2 * time.Minute

func startCluster(name, assets string, crdPaths []string, flags map[string]string) (*Cluster, error) {
	ca, err := newClientCA(name)
	if err != nil {
		return nil, fmt.Errorf("client CA for %s: %w", name, err)
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDInstallOptions:     envtest.CRDInstallOptions{Paths: crdPaths, ErrorIfPathMissing: true},
	}
	if os.Getenv("KUBEBUILDER_CONTROLPLANE_START_TIMEOUT") == "" {
		env.ControlPlaneStartTimeout = startTimeout
	}
	// The paths are set, not left to BinaryAssetsDirectory, which
	// $KUBEBUILDER_ASSETS overrides: they are ownedAssets' wrappers.
	env.ControlPlane.Etcd = &envtest.Etcd{Path: filepath.Join(assets, "etcd")}
	// A test cluster's data is thrown away with it: no fsync of etcd's
	// log (system time on every write, and the writes wait for it).
	env.ControlPlane.Etcd.Configure().Set("unsafe-no-fsync", "true")
	apiserver := env.ControlPlane.GetAPIServer()
	apiserver.Path = filepath.Join(assets, "kube-apiserver")
	apiserver.SecureServing.Authn = ca
	// envtest's default service range (/24) holds 254 ClusterIPs; the
	// benchmarks put more Services than that on one spoke.
	apiserver.Configure().Set("service-cluster-ip-range", "10.0.0.0/16")
	// API priority and fairness bootstraps its configuration objects and
	// runs their controller in every apiserver (~0.5 s of CPU per start);
	// a test cluster has no tenants to keep apart.
	apiserver.Configure().Set("enable-priority-and-fairness", "false")
	for k, v := range flags {
		apiserver.Configure().Set(k, v)
	}
	thread := startOwnerThread()
	var cfg *rest.Config
	thread.run(func() { cfg, err = env.Start() })
	if err != nil {
		thread.stop()
		return nil, fmt.Errorf("starting %s apiserver: %w", name, err)
	}
	c := &Cluster{Name: name, Config: cfg, env: env, ca: ca, thread: thread}
	if err := c.setUp(); err != nil {
		_ = c.stop()
		return nil, err
	}
	return c, nil
}

// setUp adds the admin user and the cluster's client.
func (c *Cluster) setUp() error {
	user, err := c.env.AddUser(envtest.User{Name: "fleet-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("adding %s admin user: %w", c.Name, err)
	}
	if c.Kubeconfig, err = user.KubeConfig(); err != nil {
		return err
	}
	c.Kubeconfig = []byte(strings.ReplaceAll(string(c.Kubeconfig), "envtest", c.Name))
	kc, err := kube.NewClient(c.Config)
	if err != nil {
		return err
	}
	c.Client = kc.Client
	return nil
}

// stop stops the cluster's apiserver and etcd, then its owner thread.
func (c *Cluster) stop() error {
	if c.env == nil {
		return nil
	}
	err := c.env.Stop()
	c.env = nil
	c.thread.stop()
	return err
}

func registerNodes(ctx context.Context, c client.Client, prefix string, n int) error {
	for i := range n {
		node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-node-%d", prefix, i)}}
		if err := c.Create(ctx, node); client.IgnoreAlreadyExists(err) != nil {
			return fmt.Errorf("registering node %s: %w", node.Name, err)
		}
	}
	return nil
}

// Stop stops every apiserver and etcd and removes Dir.
func (f *Fleet) Stop() error {
	errs := []error{f.charts.stop(), f.PodNetwork.close()}
	for _, c := range f.all() {
		errs = append(errs, c.stop())
	}
	if f.Dir != "" {
		errs = append(errs, os.RemoveAll(f.Dir))
	}
	return errors.Join(errs...)
}

func (f *Fleet) all() []*Cluster {
	var out []*Cluster
	if f.Hub != nil {
		out = append(out, f.Hub)
	}
	for _, n := range slices.Sorted(maps.Keys(f.Spokes)) {
		out = append(out, f.Spokes[n])
	}
	return out
}

// StopSpoke stops one spoke for good (an unreachable cluster). Its kubeconfig
// Secrets stay in the hub.
func (f *Fleet) StopSpoke(name string) error {
	s := f.Spokes[name]
	if s == nil || s.env == nil {
		return fmt.Errorf("no running spoke %q", name)
	}
	return s.stop()
}

// AssetsDir finds the kube-apiserver and etcd binaries: $KUBEBUILDER_ASSETS,
// else bin/k8s in the module root. It fails with a hint when they are missing.
func AssetsDir() (string, error) {
	return binDir("KUBEBUILDER_ASSETS", "k8s", "make k8s-bins", "kube-apiserver", "etcd")
}

// binDir finds a folder of built binaries: $env, else bin/<sub> in the
// module root, and checks that every binary is there.
func binDir(env, sub, target string, binaries ...string) (string, error) {
	dir := os.Getenv(env)
	if dir == "" {
		root, err := ModuleRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(root, "bin", sub)
	}
	for _, b := range binaries {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			return "", fmt.Errorf("test fleet binary %s missing in %s: run `%s` (or `make test`) first", b, dir, target)
		}
	}
	return dir, nil
}

// CRDDirs returns the CRD directories of the Flux controller modules and of
// the Flux Operator module (whose Go code is AGPL and never imported — only
// its CRD YAML is read), downloading a module into the Go module cache when
// it is not there yet. The operator module declares go 1.27, so it is
// downloaded with the go1.27.3 toolchain from the module proxy.
func CRDDirs() ([]string, error) {
	var mods []string
	for _, c := range crdControllers {
		v, err := ControllerVersion(c)
		if err != nil {
			return nil, err
		}
		mods = append(mods, "github.com/fluxcd/"+c+"@"+v)
	}
	mods = append(mods, "github.com/controlplaneio-fluxcd/flux-operator@"+FluxOperatorVersion)
	var dirs []string
	for _, m := range mods {
		d, err := moduleDir(m)
		if err != nil {
			return nil, fmt.Errorf("Flux CRDs of %s: %w", m, err)
		}
		d = filepath.Join(d, "config", "crd", "bases")
		if _, err := os.Stat(d); err != nil {
			return nil, fmt.Errorf("Flux CRDs of %s: %w", m, err)
		}
		dirs = append(dirs, d)
	}
	return dirs, nil
}

// moduleDir is the directory of module@version in the Go module cache,
// downloaded through the module proxy when needed.
func moduleDir(mod string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", mod)
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=go1.27.3")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &info); jerr == nil && info.Error != "" {
		return "", errors.New(info.Error)
	}
	if err != nil {
		return "", fmt.Errorf("go mod download: %w\n%s", err, stderr.Bytes())
	}
	if info.Dir == "" {
		return "", fmt.Errorf("go mod download printed no directory: %s", out)
	}
	return info.Dir, nil
}

// ModuleRoot walks up from the working directory to the main go.mod.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/c5c3/kubectl-c5c3\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find the kubectl-c5c3 module root above the working directory")
		}
		dir = parent
	}
}
