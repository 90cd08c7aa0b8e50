package ksauth_test

// Guards of documented behaviours (issue 13), written against the exported
// API only so that they survive internal restructuring.

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ksauth/ksauth"
)

// guardRoundTripper is an http.RoundTripper made of a func.
type guardRoundTripper func(*http.Request) (*http.Response, error)

func (f guardRoundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// guardRecorder records the requests it is sent and answers each with 200
// and an empty body.
type guardRecorder struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (r *guardRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.mu.Unlock()
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{},
		Body: http.NoBody, ContentLength: 0, Request: req}, nil
}

func (r *guardRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

// tokens returns the X-Auth-Token values of the recorded requests.
func (r *guardRecorder) tokens() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([][]string, len(r.reqs))
	for i, req := range r.reqs {
		out[i] = req.Header.Values("X-Auth-Token")
	}
	return out
}

// guardEndless is a body that never ends (up to limit bytes) and counts
// what is read of it.
type guardEndless struct {
	read  atomic.Int64
	limit int64
}

func (b *guardEndless) Read(p []byte) (int, error) {
	left := b.limit - b.read.Load()
	if left <= 0 {
		return 0, io.EOF
	}
	n := int64(len(p))
	if n > left {
		n = left
	}
	for i := range p[:n] {
		p[i] = ' '
	}
	b.read.Add(n)
	return int(n), nil
}

func (b *guardEndless) Close() error { return nil }

func guardSession(id string) *ksauth.Session {
	return ksauth.NewSession(ksauth.AuthenticatorFunc(func(ctx context.Context) (*ksauth.Token, error) {
		return &ksauth.Token{ID: id, ExpiresAt: time.Now().Add(time.Hour)}, nil
	}), nil)
}

func guardGet(t *testing.T, rt http.RoundTripper, url string, header http.Header) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := rt.RoundTrip(req)
	if resp != nil {
		_ = resp.Body.Close()
	}
	return resp, err
}

// Every response body is read with a 1 MiB limit: a server sending an
// endless body gets at most about that much of it read, not all of it.
func TestGuardBodyLimitIsAReadLimit(t *testing.T) {
	const offered = 50 << 20
	body := &guardEndless{limit: offered + 1<<20}
	k := ksauth.Keystone{
		AuthURL:     "https://keystone.test:5000/v3",
		Credentials: ksauth.ApplicationCredential{ID: "x", Secret: "y"},
		HTTPClient: &http.Client{Transport: guardRoundTripper(func(req *http.Request) (*http.Response, error) {
			if req.Body != nil {
				_ = req.Body.Close()
			}
			return &http.Response{StatusCode: http.StatusCreated,
				Header: http.Header{"X-Subject-Token": {"subject-token"}, "Content-Type": {"application/json"}},
				Body:   body, ContentLength: -1, Request: req}, nil
		})},
	}
	tok, err := k.Authenticate(t.Context())
	require.Error(t, err, "an endless body must fail the call")
	assert.Nil(t, tok)
	read := body.read.Load()
	assert.Less(t, read, int64(1<<20+128<<10), "bytes read of a body of %d bytes on offer", body.limit)
	assert.Greater(t, body.limit, int64(offered), "the body offered at least 50 MiB")
}

// A request that carries the caller's own X-Auth-Token is sent as it is;
// one whose X-Auth-Token is present but empty gets the session's token.
func TestGuardEmptyCallerTokenIsNotATokenOfTheCaller(t *testing.T) {
	rec := &guardRecorder{}
	tr := &ksauth.Transport{Session: guardSession("session-token"), Base: rec, AllowedHosts: []string{"api.test"}}

	_, err := guardGet(t, tr, "https://api.test/x", http.Header{"X-Auth-Token": {"caller-token"}})
	require.NoError(t, err)
	_, err = guardGet(t, tr, "https://api.test/x", http.Header{"X-Auth-Token": {""}})
	require.NoError(t, err)

	require.Equal(t, 2, rec.count())
	got := rec.tokens()
	assert.Equal(t, []string{"caller-token"}, got[0], "the caller's own token is sent as it is")
	assert.Equal(t, []string{"session-token"}, got[1], "an empty X-Auth-Token is no token: the session's goes out")
}

// "localhost" and 127.0.0.1 mean loopback by exact name or IP: a host that
// merely starts with them is another machine, refused over plain http.
func TestGuardLocalhostIsLoopbackNotAPrefix(t *testing.T) {
	refused := []string{"localhost.example.com", "127.0.0.1.example.com"}
	allowed := []string{"localhost:5000", "127.0.0.1:5000", "[::1]:5000"}

	t.Run("Transport", func(t *testing.T) {
		for _, host := range refused {
			rec := &guardRecorder{}
			tr := &ksauth.Transport{Session: guardSession("session-token"), Base: rec,
				AllowedHosts: []string{host}, Retry: &ksauth.RetryPolicy{MaxAttempts: 1}}
			_, err := guardGet(t, tr, "http://"+host+"/x", nil)
			assert.ErrorIs(t, err, ksauth.ErrInsecureTransport, "http://%s/x", host)
			assert.Zero(t, rec.count(), "requests sent to http://%s/x", host)
		}
		for _, host := range allowed {
			rec := &guardRecorder{}
			tr := &ksauth.Transport{Session: guardSession("session-token"), Base: rec,
				AllowedHosts: []string{host}, Retry: &ksauth.RetryPolicy{MaxAttempts: 1}}
			_, err := guardGet(t, tr, "http://"+host+"/x", nil)
			assert.NoError(t, err, "http://%s/x", host)
			assert.Equal(t, 1, rec.count(), "requests sent to http://%s/x", host)
		}
	})

	t.Run("Keystone", func(t *testing.T) {
		authenticate := func(authURL string) (int, error) {
			rec := &guardRecorder{}
			k := ksauth.Keystone{
				AuthURL:     authURL,
				Credentials: ksauth.ApplicationCredential{ID: "x", Secret: "y"},
				HTTPClient:  &http.Client{Transport: rec},
				Retry:       &ksauth.RetryPolicy{MaxAttempts: 1},
			}
			_, err := k.Authenticate(t.Context())
			return rec.count(), err
		}
		for _, host := range refused {
			authURL := "http://" + host + ":5000/v3"
			n, err := authenticate(authURL)
			assert.ErrorIs(t, err, ksauth.ErrInsecureTransport, authURL)
			assert.Zero(t, n, "requests sent for %s", authURL)
		}
		for _, host := range allowed {
			authURL := "http://" + host + "/v3"
			n, err := authenticate(authURL)
			assert.NotErrorIs(t, err, ksauth.ErrInsecureTransport, authURL)
			assert.Positive(t, n, "requests sent for %s", authURL)
		}
	})
}

// A token invalidated while a background refresh runs is never served
// again, not even when that refresh fails.
func TestGuardInvalidatedTokenIsNeverServedAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var calls atomic.Int32
		auth := ksauth.AuthenticatorFunc(func(ctx context.Context) (*ksauth.Token, error) {
			switch calls.Add(1) {
			case 1:
				return &ksauth.Token{ID: "token-A", ExpiresAt: time.Now().Add(2 * time.Second)}, nil
			case 2: // the background refresh: blocks, then fails
				<-release
				return nil, errors.New("keystone is down")
			}
			return &ksauth.Token{ID: "token-B", ExpiresAt: time.Now().Add(time.Hour)}, nil
		})
		s := ksauth.NewSession(auth, &ksauth.SessionOptions{ExpireEarly: time.Minute})

		a, err := s.Token(t.Context())
		require.NoError(t, err)
		require.Equal(t, "token-A", a.ID)

		time.Sleep(1200 * time.Millisecond) // past lifetime/2 (+ up to a tenth): due
		due, err := s.Token(t.Context())
		require.NoError(t, err)
		require.Equal(t, "token-A", due.ID, "a due token is served while the refresh runs")
		synctest.Wait()
		require.Equal(t, int32(2), calls.Load(), "a background refresh is running")

		assert.True(t, s.Invalidate(a), "Invalidate drops the current token")
		close(release)
		synctest.Wait() // the refresh has failed and published its result

		tok, err := s.Token(t.Context())
		if err == nil {
			require.NotNil(t, tok)
			assert.NotEqual(t, "token-A", tok.ID, "Token served the invalidated token")
		}

		rec := &guardRecorder{}
		tr := &ksauth.Transport{Session: s, Base: rec, AllowedHosts: []string{"api.test"},
			Retry: &ksauth.RetryPolicy{MaxAttempts: 1}}
		_, _ = guardGet(t, tr, "https://api.test/x", nil)
		for i, v := range rec.tokens() {
			assert.NotContains(t, v, "token-A", "request %d went out with the invalidated token", i)
		}
	})
}
