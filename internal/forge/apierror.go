package forge

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v92/github"
	gitlab "gitlab.com/gitlab-org/api/client-go"
)

// APIError is a refused or failed API call: what was being done, the
// call (method and path) and the HTTP status, if an answer came.
type APIError struct {
	// Op says what was being done ("editing comment 12 on pull request #7").
	Op string
	// Call is "METHOD /path" of the request.
	Call string
	// Status is the HTTP status code; 0 when no answer came.
	Status int
	// Message is the provider's message (token redacted).
	Message string
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.Call != "" {
		b.WriteString(" (" + e.Call + ")")
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d %s", e.Status, http.StatusText(e.Status))
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// apiError wraps err of the call op as an APIError, with the token taken
// out of everything it says.
func apiError(op string, err error, token string) error {
	e := &APIError{Op: op}
	var gh *github.ErrorResponse
	var gl *gitlab.ErrorResponse
	var resp *http.Response
	switch {
	case errors.As(err, &gh):
		resp, e.Message = gh.Response, gh.Message
	case errors.As(err, &gl):
		resp, e.Message = gl.Response, gl.Message
	default:
		e.Message = err.Error()
	}
	if resp != nil {
		e.Status = resp.StatusCode
		if resp.Request != nil {
			e.Call = resp.Request.Method + " " + resp.Request.URL.EscapedPath()
		}
	}
	if e.Message == "" && e.Status == 0 {
		e.Message = err.Error()
	}
	e.Message = redactString(e.Message, token)
	e.Op = redactString(e.Op, token)
	return e
}

// redact takes token out of err's message.
func redact(err error, token string) error {
	if token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	return errors.New(redactString(err.Error(), token))
}

func redactString(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, "***")
}
