// Package forgetest is a fake GitHub and GitLab REST API for tests: an
// httptest server that keeps pull request comments, merge request notes
// and commit statuses, checks the token, and records every request, so
// that tests drive the real go-github and GitLab clients against it.
package forgetest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Call is one recorded request.
type Call struct {
	Method string
	// Path is the escaped path, without the query.
	Path string
	// Auth is the Authorization header (GitHub), else PRIVATE-TOKEN or
	// JOB-TOKEN (GitLab), as "PRIVATE-TOKEN tok".
	Auth string
	Body map[string]any
}

// Comment is a stored comment or note.
type Comment struct {
	ID   int64  `json:"id"`
	Body string `json:"body"`
}

// Status is a stored commit status.
type Status struct {
	SHA                         string
	Context, State, Description string
}

// Server is the fake API. GitHub is served at the root (GITHUB_API_URL =
// URL), GitLab under /api/v4 (CI_API_V4_URL = URL + "/api/v4").
type Server struct {
	*httptest.Server
	// Token is the token every request must carry; a wrong one is 401.
	Token string
	// Numbers are the pull (merge) requests that exist; others are 404.
	Numbers map[int]bool
	// FailStatus, when set, answers every request with that status.
	FailStatus int

	mu       sync.Mutex
	calls    []Call
	comments map[int][]Comment
	statuses []Status
	nextID   int64
}

// New starts a fake API that knows pull (merge) request numbers and
// accepts token.
func New(t *testing.T, token string, numbers ...int) *Server {
	s := &Server{Token: token, Numbers: map[int]bool{}, comments: map[int][]Comment{}, nextID: 1000}
	for _, n := range numbers {
		s.Numbers[n] = true
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /repos/{owner}/{repo}/issues/{n}/comments", s.listComments)
	mux.HandleFunc("POST /repos/{owner}/{repo}/issues/{n}/comments", s.createComment)
	mux.HandleFunc("PATCH /repos/{owner}/{repo}/issues/comments/{id}", s.updateComment)
	mux.HandleFunc("POST /repos/{owner}/{repo}/statuses/{sha}", s.setStatus)
	mux.HandleFunc("GET /api/v4/projects/{project}/merge_requests/{n}/notes", s.listComments)
	mux.HandleFunc("POST /api/v4/projects/{project}/merge_requests/{n}/notes", s.createComment)
	mux.HandleFunc("PUT /api/v4/projects/{project}/merge_requests/{n}/notes/{id}", s.updateComment)
	mux.HandleFunc("POST /api/v4/projects/{project}/statuses/{sha}", s.setStatus)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := Call{Method: r.Method, Path: r.URL.EscapedPath()}
		tok := ""
		switch {
		case r.Header.Get("Authorization") != "":
			c.Auth = r.Header.Get("Authorization")
			tok = strings.TrimPrefix(c.Auth, "Bearer ")
		case r.Header.Get("PRIVATE-TOKEN") != "":
			tok = r.Header.Get("PRIVATE-TOKEN")
			c.Auth = "PRIVATE-TOKEN " + tok
		case r.Header.Get("JOB-TOKEN") != "":
			tok = r.Header.Get("JOB-TOKEN")
			c.Auth = "JOB-TOKEN " + tok
		}
		if b, _ := io.ReadAll(r.Body); len(b) > 0 {
			_ = json.Unmarshal(b, &c.Body)
		}
		s.mu.Lock()
		s.calls = append(s.calls, c)
		fail := s.FailStatus
		s.mu.Unlock()
		switch {
		case fail != 0:
			answer(w, fail, map[string]string{"message": http.StatusText(fail)})
		case tok != s.Token:
			answer(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
		default:
			mux.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func answer(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// number is the request's pull request number, or 0 after a 404.
func (s *Server) number(w http.ResponseWriter, r *http.Request) int {
	n, _ := strconv.Atoi(r.PathValue("n"))
	if !s.Numbers[n] {
		answer(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return 0
	}
	return n
}

func (s *Server) listComments(w http.ResponseWriter, r *http.Request) {
	n := s.number(w, r)
	if n == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	answer(w, http.StatusOK, append([]Comment{}, s.comments[n]...))
}

func (s *Server) createComment(w http.ResponseWriter, r *http.Request) {
	n := s.number(w, r)
	if n == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	c := Comment{ID: s.nextID, Body: s.calls[len(s.calls)-1].Body["body"].(string)}
	s.comments[n] = append(s.comments[n], c)
	answer(w, http.StatusCreated, c)
}

func (s *Server) updateComment(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	for n, cs := range s.comments {
		for i := range cs {
			if cs[i].ID == id {
				cs[i].Body = s.calls[len(s.calls)-1].Body["body"].(string)
				s.comments[n] = cs
				answer(w, http.StatusOK, cs[i])
				return
			}
		}
	}
	answer(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
}

func (s *Server) setStatus(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.calls[len(s.calls)-1].Body
	st := Status{SHA: r.PathValue("sha"), State: str(b["state"]), Description: str(b["description"]), Context: str(b["context"])}
	if st.Context == "" {
		st.Context = str(b["name"])
	}
	s.statuses = append(s.statuses, st)
	answer(w, http.StatusCreated, map[string]any{"id": len(s.statuses), "state": st.State})
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// Calls are the requests so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call{}, s.calls...)
}

// Comments are the comments (notes) on pull (merge) request n.
func (s *Server) Comments(n int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Comment{}, s.comments[n]...)
}

// Statuses are the commit statuses set so far, in order.
func (s *Server) Statuses() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Status{}, s.statuses...)
}

// Writes are the recorded requests other than GET.
func (s *Server) Writes() []Call {
	var out []Call
	for _, c := range s.Calls() {
		if c.Method != http.MethodGet {
			out = append(out, c)
		}
	}
	return out
}
