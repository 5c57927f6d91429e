package testfleet

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// PodNetwork stands in for the hub's pod network, so the API server's
// proxy subresources (services/proxy) reach test servers on 127.0.0.1.
// kube-apiserver v1.37 proxies a Service only to EndpointSlice addresses
// backed by a Pod with that IP, and rejects loopback addresses there; it
// dials them through its egress selector's "cluster" network. The hub is
// started with an egress selector that sends that network to this HTTP
// CONNECT proxy on a Unix socket (the API server's TCP transport for it
// requires TLS), which connects each fake pod address (never
// dialled itself) to the local listener routed to it; others are refused.
// This is how konnectivity carries the same traffic in real clusters.
type PodNetwork struct {
	ln     net.Listener
	mu     sync.Mutex
	routes map[string]string
	nextIP atomic.Int32
}

// startPodNetwork listens on a Unix socket in dir and writes the hub's egress
// selector configuration into dir; it returns that file's path.
func startPodNetwork(dir string) (*PodNetwork, string, error) {
	sock := filepath.Join(dir, "pod-network.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return nil, "", err
	}
	n := &PodNetwork{ln: ln, routes: map[string]string{}}
	go n.serve()
	cfg := fmt.Sprintf(`apiVersion: apiserver.k8s.io/v1beta1
kind: EgressSelectorConfiguration
egressSelections:
- name: cluster
  connection:
    proxyProtocol: HTTPConnect
    transport:
      uds:
        udsName: %s
`, sock)
	path := filepath.Join(dir, "hub-egress-selector.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		ln.Close()
		return nil, "", err
	}
	return n, path, nil
}

func (n *PodNetwork) close() error {
	if n == nil {
		return nil
	}
	return n.ln.Close()
}

func (n *PodNetwork) serve() {
	for {
		c, err := n.ln.Accept()
		if err != nil {
			return
		}
		go n.connect(c)
	}
}

// connect answers one HTTP CONNECT of the API server.
func (n *PodNetwork) connect(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil || req.Method != http.MethodConnect {
		return
	}
	n.mu.Lock()
	to, ok := n.routes[req.Host]
	n.mu.Unlock()
	if !ok {
		fmt.Fprintf(c, "HTTP/1.1 502 Bad Gateway\r\n\r\nno pod at %s\n", req.Host)
		return
	}
	up, err := net.Dial("tcp", to)
	if err != nil {
		fmt.Fprintf(c, "HTTP/1.1 502 Bad Gateway\r\n\r\n%v\n", err)
		return
	}
	defer up.Close()
	if _, err := io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return
	}
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, br); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
}

// ServeInPod runs h on 127.0.0.1 as the pod behind Service namespace/name
// of the hub: a Pod with a fresh pod IP (status.podIPs), the Service (one
// port named "http", port 80 → 8080) and an EndpointSlice pointing to the
// Pod, which the pod network connects to h. It returns the server, closed
// with the test; the Service's URL is
// http://NAME.NAMESPACE.svc.cluster.local./.
func (f *Fleet) ServeInPod(ctx context.Context, t interface {
	Cleanup(func())
}, namespace, name string, h http.Handler) (*httptest.Server, error) {
	if f.PodNetwork == nil {
		return nil, fmt.Errorf("the fleet was started without a pod network")
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c := f.Hub.Client
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); client.IgnoreAlreadyExists(err) != nil {
		return nil, err
	}
	idx := f.PodNetwork.nextIP.Add(1)
	ip := fmt.Sprintf("10.244.%d.%d", idx/250, idx%250+1)
	const targetPort = 8080
	labels := map[string]string{"app": name}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name + "-0", Labels: labels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "manager", Image: "example.invalid/" + name,
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: targetPort}}}}}}
	if err := c.Create(ctx, pod); err != nil {
		return nil, fmt.Errorf("pod %s/%s: %w", namespace, pod.Name, err)
	}
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}}
	if err := c.Status().Update(ctx, pod); err != nil {
		return nil, fmt.Errorf("pod %s/%s status: %w", namespace, pod.Name, err)
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}}}}
	if err := c.Create(ctx, svc); err != nil {
		return nil, fmt.Errorf("service %s/%s: %w", namespace, name, err)
	}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: namespace, Name: name + "-0", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)},
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: namespace, Name: pod.Name}}},
		Ports: []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](targetPort), Protocol: ptr.To(corev1.ProtocolTCP)}},
	}
	if err := c.Create(ctx, slice); err != nil {
		return nil, fmt.Errorf("endpointslice %s/%s: %w", namespace, slice.Name, err)
	}
	f.PodNetwork.mu.Lock()
	f.PodNetwork.routes[net.JoinHostPort(ip, strconv.Itoa(targetPort))] = srv.Listener.Addr().String()
	f.PodNetwork.mu.Unlock()
	return srv, nil
}
