package kube

import (
	"context"
	"io"
	"net/http"
	"sync"
)

// Interruptible returns a transport wrapper (rest.Config.Wrap) that ends
// every request of a client when ctx is done — also the requests made
// without a context, such as the discovery of controller-runtime's
// RESTMapper and Discovery.ServerVersion. The dial, the TLS handshake and
// the wait for headers follow the request's context in net/http, so a
// cluster that takes connections and never answers cannot keep a cancelled
// command (Ctrl-C) waiting. A nil ctx, or one that is never done, wraps
// nothing.
func Interruptible(ctx context.Context) func(http.RoundTripper) http.RoundTripper {
	return func(next http.RoundTripper) http.RoundTripper {
		if ctx == nil || ctx.Done() == nil {
			return next
		}
		return &interruptible{ctx: ctx, next: next}
	}
}

type interruptible struct {
	ctx  context.Context
	next http.RoundTripper
}

func (t *interruptible) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	stop := context.AfterFunc(t.ctx, func() { cancel(context.Cause(t.ctx)) })
	release := func() {
		stop()
		cancel(nil)
	}
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		release()
		return nil, err
	}
	// The body is read after RoundTrip returns: the request's context
	// lives until it is closed (a watch, until the watch stops).
	resp.Body = &releaseOnClose{ReadCloser: resp.Body, release: release}
	return resp, nil
}

// WrappedRoundTripper lets client-go reach the transport underneath
// (utilnet.RoundTripperWrapper).
func (t *interruptible) WrappedRoundTripper() http.RoundTripper { return t.next }

type releaseOnClose struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

func (b *releaseOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}
