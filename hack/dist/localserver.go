package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// localServer serves a handler on a free port of 127.0.0.1, standing in
// for a download site, and records the paths it was asked for.
type localServer struct {
	// URL is the server's root, "http://127.0.0.1:port" (no slash).
	URL string

	what  string
	lis   net.Listener
	srv   *http.Server
	mu    sync.Mutex
	paths []string
}

// listenLocal takes a free port of 127.0.0.1, so that what is served
// can name the server's URL; what names the server in Close's line
// ("catalog", "archive"). serve starts serving.
func listenLocal(what string) (*localServer, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening on 127.0.0.1: %w", err)
	}
	return &localServer{URL: "http://" + lis.Addr().String(), what: what, lis: lis}, nil
}

// serve serves h until Close.
func (s *localServer) serve(h http.Handler) {
	s.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.mu.Lock()
			s.paths = append(s.paths, r.URL.Path)
			s.mu.Unlock()
			h.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = s.srv.Serve(s.lis) }()
}

// requests are the paths asked for so far, in order.
func (s *localServer) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.paths...)
}

// Close stops the server (waiting up to 5 s for requests under way) and
// says how many requests it served.
func (s *localServer) Close() {
	if s.srv == nil {
		_ = s.lis.Close()
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.srv.Shutdown(ctx)
	}
	fmt.Printf("  stopped the %s server on %s (%d requests served)\n", s.what, s.lis.Addr(), len(s.requests()))
}
