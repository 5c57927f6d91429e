package status

import (
	"context"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/go-logr/logr"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
	"github.com/c5c3/kubectl-c5c3/kube"
)

// dropProxy forwards TCP connections to the hub and can cut them all, as
// a flaky network or a load balancer would.
type dropProxy struct {
	ln       net.Listener
	target   string
	mu       sync.Mutex
	conns    []net.Conn
	accepted int
}

func newDropProxy(t *testing.T, target string) *dropProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &dropProxy{ln: ln, target: target}
	t.Cleanup(func() { _ = ln.Close(); p.drop() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				_ = c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.accepted++
			p.mu.Unlock()
			go func() { _, _ = io.Copy(u, c); _ = u.Close() }()
			go func() { _, _ = io.Copy(c, u); _ = c.Close() }()
		}
	}()
	return p
}

// drop closes every open connection.
func (p *dropProxy) drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

func (p *dropProxy) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

// TestChangesReconnect: Changes signals a status change of a
// Kustomization on the real hub, and still does after every connection to
// the hub was cut (the informers connect and watch again).
func TestChangesReconnect(t *testing.T) {
	f := testfleet.Get(t)
	// The reflector reports the cut watches through klog, as it should.
	klog.SetLogger(logr.Discard())
	ns := testfleet.Namespace(t)
	bigFleet(t, f, ns, 1)
	u, err := url.Parse(f.Hub.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newDropProxy(t, u.Host)
	cfg := rest.CopyConfig(f.Hub.Config)
	cfg.Host = "https://" + proxy.ln.Addr().String() // the serving certificate is for 127.0.0.1, any port
	hub, err := kube.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	changes, err := Changes(ctx, hub, ns, ns)
	if err != nil {
		t.Fatal(err)
	}
	touch := func(msg string) {
		t.Helper()
		ks := &kustomizev1.Kustomization{}
		if err := f.Hub.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app-000"}, ks); err != nil {
			t.Fatal(err)
		}
		apimeta.SetStatusCondition(&ks.Status.Conditions, metav1.Condition{Type: "Ready", Status: "False", Reason: "Test", Message: msg})
		if err := f.Hub.Client.Status().Update(ctx, ks); err != nil {
			t.Fatal(err)
		}
	}
	signal := func(what string) {
		t.Helper()
		select {
		case <-changes:
		case <-ctx.Done():
			t.Fatalf("no change signalled %s", what)
		}
	}
	drain := func() {
		select {
		case <-changes:
		default:
		}
	}

	drain()
	touch("before the drop")
	signal("for an update")

	before := proxy.count()
	proxy.drop()
	touch("while reconnecting")
	signal("after the connection was cut") // the watch event or the relist
	if proxy.count() <= before {
		t.Fatalf("no new connection to the hub after the drop (%d before, %d after)", before, proxy.count())
	}
	drain()
	touch("after the reconnect")
	signal("on the new connection")
}
