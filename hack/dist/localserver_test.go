package main

import (
	"io"
	"net/http"
	"slices"
	"testing"
)

// TestLocalServer: the handler answers on the server's URL, and the
// server records the paths asked for, in order.
func TestLocalServer(t *testing.T) {
	srv, err := listenLocal("test")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "at "+r.URL.Path) }))
	for _, p := range []string{"/catalog/c5c3.yaml", "/download/a.tar.gz"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil || string(body) != "at "+p {
			t.Errorf("GET %s = %q, %v; want %q", p, body, err, "at "+p)
		}
	}
	if got, want := srv.requests(), []string{"/catalog/c5c3.yaml", "/download/a.tar.gz"}; !slices.Equal(got, want) {
		t.Errorf("requests() = %v, want %v", got, want)
	}
}

// TestLocalServerCloseUnserved: a server closed before it served frees
// its port.
func TestLocalServerCloseUnserved(t *testing.T) {
	srv, err := listenLocal("test")
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	if _, err := http.Get(srv.URL + "/"); err == nil {
		t.Errorf("GET after Close succeeded, want a refused connection")
	}
}
