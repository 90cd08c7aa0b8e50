package keystonetest

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestDiscovery(t *testing.T) {
	s := newTestServer(t)
	r := call(t, s, "GET", "/", nil).want(t, http.StatusMultipleChoices)
	equal(t, "Location", r.header.Get("Location"), s.URL+"/v3/")
	equal(t, "versions id", get(r.body, "versions", "values", 0, "id"), "v3.14")
	equal(t, "href", get(r.body, "versions", "values", 0, "links", 0, "href"), s.URL+"/v3/")
	for _, p := range []string{"/v3", "/v3/"} {
		r = call(t, s, "GET", p, nil).want(t, http.StatusOK)
		equal(t, p+" status", get(r.body, "version", "status"), "stable")
		equal(t, p+" media type", get(r.body, "version", "media-types", 0, "type"), "application/vnd.openstack.identity-v3+json")
	}
	equal(t, "GET / count", s.Requests("GET /"), 1)
	equal(t, "GET /v3 count", s.Requests("GET /v3"), 2)
}

func TestKeystoneHeaders(t *testing.T) {
	s := newTestServer(t)
	a := call(t, s, "GET", "/v3", nil)
	b := call(t, s, "POST", "/v3/auth/tokens", "{")
	for _, r := range []result{a, b} {
		equal(t, "Vary", r.header.Get("Vary"), "X-Auth-Token")
		if !reRequestID.MatchString(r.header.Get("X-Openstack-Request-Id")) {
			t.Errorf("request id %q", r.header.Get("X-Openstack-Request-Id"))
		}
		equal(t, "Content-Type", r.header.Get("Content-Type"), "application/json")
	}
	if a.header.Get("X-Openstack-Request-Id") == b.header.Get("X-Openstack-Request-Id") {
		t.Error("two requests, one request id")
	}
	c := call(t, s, "POST", "/auth/v2/tokens", map[string]string{"login": "x", "password": "y"})
	if c.header.Get("Vary") != "" || c.header.Get("X-Openstack-Request-Id") != "" {
		t.Error("a Cleura answer with Keystone's headers")
	}
}

func TestUnknownPath(t *testing.T) {
	s := newTestServer(t)
	r := call(t, s, "GET", "/v3/does-not-exist", nil).want(t, http.StatusNotFound)
	equal(t, "Content-Type", r.header.Get("Content-Type"), "text/html; charset=utf-8")
	if !strings.Contains(string(r.raw), "<title>404 Not Found</title>") {
		t.Errorf("body %q", r.raw)
	}
	equal(t, "count", s.Requests("GET /v3/does-not-exist"), 1)
}

func TestRequestCounts(t *testing.T) {
	s := newTestServer(t)
	tok := demoToken(t, s)
	call(t, s, "GET", "/v3/auth/tokens", nil, "X-Auth-Token", tok, "X-Subject-Token", tok).want(t, http.StatusOK)
	call(t, s, "HEAD", "/v3/auth/tokens", nil, "X-Auth-Token", tok, "X-Subject-Token", tok).want(t, http.StatusOK)
	call(t, s, "HEAD", "/v3/auth/tokens", nil, "X-Auth-Token", tok, "X-Subject-Token", tok).want(t, http.StatusOK)
	call(t, s, "GET", "/v3/users/"+DemoUserID+"/application_credentials/"+DemoAppCredID, nil, "X-Auth-Token", tok).want(t, http.StatusOK)
	want := map[string]int{
		"POST /v3/auth/tokens": 1, "GET /v3/auth/tokens": 1, "HEAD /v3/auth/tokens": 2,
		"GET /v3/users/{user_id}/application_credentials/{id}": 1,
	}
	equal(t, "counts", s.RequestCounts(), want)
	equal(t, "total", s.Requests(""), 5)
	s.ResetRequestCounts()
	equal(t, "after reset", s.Requests(""), 0)
}

func TestTLSServer(t *testing.T) {
	s := NewTLSServer()
	defer s.Close()
	if !strings.HasPrefix(s.URL, "https://127.0.0.1:") {
		t.Fatalf("URL %s", s.URL)
	}
	tok, r := passwordLogin(t, s, DemoUserName, DemoPassword, nil)
	if tok == "" || get(r.body, "token", "catalog", 0, "endpoints", 0, "url") != s.URL+"/v3" {
		t.Errorf("identity endpoint %v", get(r.body, "token", "catalog", 0, "endpoints", 0, "url"))
	}
	if _, err := http.Get(s.URL + "/v3"); err == nil {
		t.Error("a client without the test certificate got through")
	}
}

func TestInMemoryServer(t *testing.T) {
	s := NewInMemoryServer()
	equal(t, "URL", s.URL, InMemoryURL)
	tok := demoToken(t, s)
	call(t, s, "HEAD", "/v3/auth/tokens", nil, "X-Auth-Token", tok, "X-Subject-Token", tok).want(t, http.StatusOK)
	s.Close()
	if _, err := s.Client().Get(s.URL + "/v3"); err == nil {
		t.Error("a closed in-memory server answered")
	}
}

// TestCloseEndsLatency: a request waiting out the latency ends when the
// server is closed, and Close returns (the test would hang otherwise).
func TestCloseEndsLatency(t *testing.T) {
	s := NewServer()
	s.SetLatency(time.Hour)
	done := make(chan error, 1)
	go func() {
		resp, err := s.Client().Get(s.URL + "/v3")
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	for s.Requests("GET /v3") == 0 { // until the request has arrived and waits
		runtime.Gosched()
	}
	s.Close()
	<-done
}

func TestLatencyRespectsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewInMemoryServer()
		defer s.Close()
		s.SetLatency(3 * time.Second)
		start := time.Now()
		call(t, s, "GET", "/v3", nil).want(t, http.StatusOK)
		equal(t, "latency", time.Since(start), 3*time.Second)

		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/v3", nil)
		start = time.Now()
		_, err := s.Client().Do(req)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err %v, want the deadline", err)
		}
		equal(t, "waited", time.Since(start), time.Second)
	})
}

// TestConcurrentUse runs logins, validations, listings, directory changes
// and fault controls at once (for -race), and checks the counters add up.
func TestConcurrentUse(t *testing.T) {
	s := newTestServer(t)
	admin := adminToken(t, s)
	s.ResetRequestCounts()
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := try(t, s, "POST", "/v3/auth/tokens", passwordAuth(DemoUserName, DefaultDomainID, DemoPassword, nil))
			tok := r.header.Get("X-Subject-Token")
			for _, path := range []string{"/v3/auth/tokens", "/v3/auth/projects", "/compute/v2.1/servers"} {
				if r := try(t, s, "GET", path, nil, "X-Auth-Token", admin, "X-Subject-Token", tok); r.status != http.StatusOK {
					t.Errorf("GET %s: %d", path, r.status)
				}
			}
			s.AddUser(User{Name: "user-" + itoa(i), Password: "pw"})
			s.SetLatency(0)
			_ = s.RequestCounts()
			_, _ = s.LookupToken(tok)
		})
	}
	wg.Wait()
	equal(t, "logins", s.Requests("POST /v3/auth/tokens"), n)
	equal(t, "total", s.Requests(""), 4*n)
}
