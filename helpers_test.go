package ksauth

// Test doubles shared by the session, transport, retry and identity tests:
// an Authenticator with controllable tokens, a service that checks them, and
// small adapters.

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Tests of Session. The time-dependent ones run in a synctest bubble: the
// clock is fake and only moves when every goroutine is blocked, so a call
// that took no fake time provably did not wait for a refresh.

// rtFunc adapts a function to http.RoundTripper.
type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// stubAuth is an Authenticator that issues numbered tokens living lifetime
// (0: never expiring), and the server-side truth about them for stubService.
type stubAuth struct {
	lifetime time.Duration
	latency  time.Duration // fake time one authentication takes
	gate     chan struct{} // when set, Authenticate waits until it is closed
	host     string        // the tokens' authHost
	catalog  Catalog
	okCalls  int // when failing is set, calls after the first okCalls fail
	failing  atomic.Bool
	prefix   string

	mu      sync.Mutex
	calls   []time.Time          // when each Authenticate started
	ctxErrs []error              // ctx.Err() when each Authenticate returned
	expiry  map[string]time.Time // token id -> server-side expiry (zero: never)
	revoked map[string]bool
}

func newStubAuth(lifetime time.Duration) *stubAuth {
	return &stubAuth{
		lifetime: lifetime,
		host:     "keystone.test:5000",
		catalog: Catalog{
			{Type: "identity", Endpoints: []Endpoint{{Interface: "public", Region: "RegionOne", URL: "https://keystone.test:5000/v3"}}},
			{Type: "compute", Endpoints: []Endpoint{{Interface: "public", Region: "RegionOne", URL: "https://compute.test:8774/v2.1/%(project_id)s"}}},
		},
		prefix:  fmt.Sprintf("stubtok%06d", rand.N(1000000)),
		expiry:  map[string]time.Time{},
		revoked: map[string]bool{},
	}
}

func (a *stubAuth) Authenticate(ctx context.Context) (*Token, error) {
	a.mu.Lock()
	a.calls = append(a.calls, time.Now())
	n := len(a.calls)
	a.mu.Unlock()
	err := a.wait(ctx)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ctxErrs = append(a.ctxErrs, ctx.Err())
	switch {
	case err != nil:
		return nil, err
	case a.failing.Load() && n > a.okCalls:
		return nil, fmt.Errorf("stub: call %d: %w", n, errStubAuth)
	}
	tok := &Token{ID: fmt.Sprintf("%s-%04d", a.prefix, n), authHost: a.host, Catalog: a.catalog, User: User{Name: "alice"}}
	if a.lifetime > 0 {
		tok.ExpiresAt = time.Now().Add(a.lifetime)
	}
	a.expiry[tok.ID] = tok.ExpiresAt
	registerSecret(tok.ID)
	return tok, nil
}

func (a *stubAuth) wait(ctx context.Context) error {
	if a.gate != nil {
		select {
		case <-a.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if a.latency > 0 {
		select {
		case <-time.After(a.latency):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (a *stubAuth) callCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.calls)
}

// valid is the server's view of a token.
func (a *stubAuth) valid(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	exp, ok := a.expiry[id]
	return ok && !a.revoked[id] && (exp.IsZero() || time.Now().Before(exp))
}

func (a *stubAuth) revoke(tok *Token) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.revoked[tok.ID] = true
}

// stubService is a Base round tripper standing for an OpenStack service: it
// reads and closes the request body like http.Transport, answers 401 to an
// invalid X-Auth-Token and 200 otherwise. hook, when set, runs first and may
// answer by itself.
type stubService struct {
	auth   *stubAuth
	hook   func(*http.Request) *http.Response
	mu     sync.Mutex
	sent   []*http.Request // every request received, body replaced by what was read
	bodies []string
	status map[int]int
}

func (s *stubService) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		_ = r.Body.Close()
	}
	resp := (*http.Response)(nil)
	if s.hook != nil {
		resp = s.hook(r)
	}
	if resp == nil && s.auth != nil && !s.auth.valid(r.Header.Get("X-Auth-Token")) {
		resp = textResponse(r, http.StatusUnauthorized, "token rejected")
	}
	if resp == nil {
		resp = textResponse(r, http.StatusOK, "ok")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, r)
	s.bodies = append(s.bodies, string(body))
	if s.status == nil {
		s.status = map[int]int{}
	}
	s.status[resp.StatusCode]++
	return resp, nil
}

func (s *stubService) count(status int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status[status]
}

func (s *stubService) requests() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.sent...)
}

func textResponse(r *http.Request, status int, body string, header ...string) *http.Response {
	h := http.Header{"Content-Type": {"text/plain"}}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Header: h,
		Body: io.NopCloser(strings.NewReader(body)), Request: r, ProtoMajor: 1, ProtoMinor: 1}
}

func mustToken(t testing.TB, s *Session) *Token {
	t.Helper()
	tok, err := s.Token(context.Background())
	require.NoError(t, err)
	return tok
}
