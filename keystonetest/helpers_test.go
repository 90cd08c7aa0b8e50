package keystonetest

// Helpers of the package's tests: plain net/http requests and JSON digging.

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// result is an answer of the server.
type result struct {
	status int
	header http.Header
	raw    []byte
	body   any // decoded JSON, nil when the body is not JSON
}

// try is call for other goroutines than the test's: a failure to send is
// reported with t.Error, and the zero result returned.
func try(t *testing.T, s *Server, method, path string, body any, headers ...string) result {
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, s.URL+path, rd)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Error(err)
		return result{}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, header: resp.Header, raw: raw}
}

// call sends a request to s; body is JSON-encoded unless it is a string
// (sent as is); headers are name, value pairs.
func call(t *testing.T, s *Server, method, path string, body any, headers ...string) result {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := result{status: resp.StatusCode, header: resp.Header, raw: raw}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

// get digs into decoded JSON: keys for objects, ints for arrays.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

// has reports whether the object at path has key.
func has(v any, key string, path ...any) bool {
	m, ok := get(v, path...).(map[string]any)
	if !ok {
		return false
	}
	_, ok = m[key]
	return ok
}

func (r result) want(t *testing.T, status int) result {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.raw)
	}
	return r
}

// wantError checks a Keystone error answer: status, message, title.
func (r result) wantError(t *testing.T, status int, message string) result {
	t.Helper()
	r.want(t, status)
	if got := get(r.body, "error", "message"); got != message {
		t.Errorf("message %q, want %q", got, message)
	}
	if got := get(r.body, "error", "code"); got != float64(status) {
		t.Errorf("code %v, want %d", got, status)
	}
	if got := get(r.body, "error", "title"); got != http.StatusText(status) {
		t.Errorf("title %v, want %q", got, http.StatusText(status))
	}
	if status == http.StatusUnauthorized && r.header.Get("WWW-Authenticate") == "" {
		t.Error("a 401 without WWW-Authenticate")
	}
	return r
}

func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: %#v, want %#v", what, got, want)
	}
}

// passwordAuth is the body of a password login.
func passwordAuth(user, domain, password string, scope any) map[string]any {
	auth := map[string]any{"identity": map[string]any{"methods": []string{"password"},
		"password": map[string]any{"user": map[string]any{"name": user, "domain": map[string]string{"id": domain}, "password": password}}}}
	if scope != nil {
		auth["scope"] = scope
	}
	return map[string]any{"auth": auth}
}

func projectScope(id string) map[string]any {
	return map[string]any{"project": map[string]string{"id": id}}
}

// passwordLogin logs in with a password and returns the token and the answer.
func passwordLogin(t *testing.T, s *Server, user, password string, scope any) (string, result) {
	t.Helper()
	r := call(t, s, "POST", "/v3/auth/tokens", passwordAuth(user, DefaultDomainID, password, scope)).want(t, http.StatusCreated)
	tok := r.header.Get("X-Subject-Token")
	if tok == "" {
		t.Fatal("no X-Subject-Token")
	}
	return tok, r
}

func demoToken(t *testing.T, s *Server) string {
	t.Helper()
	tok, _ := passwordLogin(t, s, DemoUserName, DemoPassword, nil)
	return tok
}

func adminToken(t *testing.T, s *Server) string {
	t.Helper()
	tok, _ := passwordLogin(t, s, AdminUserName, AdminPassword, map[string]any{"system": map[string]bool{"all": true}})
	return tok
}

func newTestServer(t *testing.T) *Server {
	t.Helper()
	s := NewServer()
	t.Cleanup(s.Close)
	return s
}
