package promote

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/fluxcd/pkg/gittestserver"
)

// pushGate wraps the git server's handler: the push's receive-pack request
// is held (before it reaches the server, or after the server took it but
// before the client hears so) or answered with an error after the server
// took it. arrived is closed when the push is at that point.
type pushGate struct {
	mode    string // "before", "after" or "fail-after"
	arrived chan struct{}
	release chan struct{}
	once    sync.Once
}

func newPushGate(mode string) *pushGate {
	return &pushGate{mode: mode, arrived: make(chan struct{}), release: make(chan struct{})}
}

func (g *pushGate) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost || !strings.HasSuffix(req.URL.Path, "/git-receive-pack") {
			next.ServeHTTP(w, req)
			return
		}
		if g.mode != "before" {
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, req)
			if g.mode == "fail-after" {
				http.Error(w, "proxy lost the answer", http.StatusBadGateway)
				return
			}
		}
		g.once.Do(func() { close(g.arrived) })
		select {
		case <-req.Context().Done():
		case <-g.release:
		}
		http.Error(w, "gone", http.StatusServiceUnavailable)
	})
}

var _ gittestserver.HTTPMiddleware = (*pushGate)(nil).middleware

// pushWith promotes with --push through the gate, cancelling the run (as
// SIGINT does) once the push is at the gate, unless mode is fail-after.
func pushWith(t *testing.T, mode string) (*testRepo, string, *Plan, error) {
	t.Helper()
	r := newRepo(t)
	g := newPushGate(mode)
	bare := servedOrigin(t, r, "", g.middleware)
	t.Cleanup(func() { close(g.release) }) // before the server stops (cleanups run last first)
	o := headOptions(r.Dir)
	o.Push = true
	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	if mode != "fail-after" {
		go func() {
			select {
			case <-g.arrived:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	p, err := Run(ctx, o)
	return r, bare, p, err
}

func TestPushInterruptedBeforeItLanded(t *testing.T) {
	t.Parallel()
	r, bare, p, err := pushWith(t, "before")
	branch := "promote/staging-to-production-" + r.Commit[:7]
	if err == nil || !strings.Contains(err.Error(), "pushing "+branch+" to origin was interrupted (origin does not have it), so the local branch "+branch+" was removed again") {
		t.Fatalf("error %v", err)
	}
	if p.Result != nil {
		t.Errorf("result %+v", p.Result)
	}
	if out, err := gitOut(bare, "rev-parse", "--verify", "--quiet", "refs/heads/"+branch); err == nil {
		t.Errorf("origin has the branch: %s", out)
	}
	if c := gitT(t, r.Dir, "for-each-ref", "refs/heads/promote/"); c != "" {
		t.Errorf("local branch left: %s", c)
	}
}

func TestPushInterruptedAfterItLanded(t *testing.T) {
	t.Parallel()
	r, bare, p, err := pushWith(t, "after")
	branch := "promote/staging-to-production-" + r.Commit[:7]
	if err != nil {
		t.Fatal(err)
	}
	if p.Result == nil || !p.Result.Pushed || !strings.Contains(p.Result.Note, "pushing "+branch+" to origin was interrupted after the push landed: origin has "+branch+" at "+short(p.Result.Commit)+"; the local branch stays") {
		t.Fatalf("result %+v", p.Result)
	}
	if got := gitT(t, bare, "rev-parse", "refs/heads/"+branch); got != p.Result.Commit {
		t.Errorf("origin at %s, want %s", got, p.Result.Commit)
	}
	if got := gitT(t, r.Dir, "rev-parse", "refs/heads/"+branch); got != p.Result.Commit {
		t.Errorf("local branch at %s, want %s", got, p.Result.Commit)
	}
}

// TestPushFailedAfterItLanded: the server took the branch but the client
// heard an error; the run is not interrupted, so it is a success.
func TestPushFailedAfterItLanded(t *testing.T) {
	t.Parallel()
	r, bare, p, err := pushWith(t, "fail-after")
	branch := "promote/staging-to-production-" + r.Commit[:7]
	if err != nil {
		t.Fatal(err)
	}
	if p.Result == nil || !p.Result.Pushed || !strings.Contains(p.Result.Note, "pushing "+branch+" to origin failed after the push landed") {
		t.Fatalf("result %+v", p.Result)
	}
	if got := gitT(t, bare, "rev-parse", "refs/heads/"+branch); got != p.Result.Commit {
		t.Errorf("origin at %s, want %s", got, p.Result.Commit)
	}
}
