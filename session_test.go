package ksauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tests of Session. The time-dependent ones run in a synctest bubble: the
// clock is fake and only moves when every goroutine is blocked, so a call
// that took no fake time provably did not wait for a refresh.

var errStubAuth = errors.New("stub: authentication refused")

func TestSessionConcurrentFirstCallsAuthenticateOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newStubAuth(time.Hour)
		a.gate = make(chan struct{})
		s := NewSession(a, &SessionOptions{Logger: testLogger()})
		const n = 1000
		toks, errs := make([]*Token, n), make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { toks[i], errs[i] = s.Token(context.Background()) })
		}
		synctest.Wait() // all 1000 are waiting for the one authentication
		assert.Equal(t, 1, a.callCount())
		close(a.gate)
		wg.Wait()
		for i := range n {
			require.NoError(t, errs[i])
			require.Same(t, toks[0], toks[i])
		}
		assert.Equal(t, 1, a.callCount())
	})
}

func TestSessionCancelledLeaderDoesNotFailWaiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newStubAuth(time.Hour)
		a.gate = make(chan struct{})
		s := NewSession(a, &SessionOptions{Logger: testLogger()})

		leaderCtx, cancel := context.WithCancel(context.Background())
		leaderErr := make(chan error, 1)
		go func() { _, err := s.Token(leaderCtx); leaderErr <- err }()
		synctest.Wait() // the leader started the refresh

		const n = 10
		results := make(chan error, n)
		for range n {
			go func() { _, err := s.Token(context.Background()); results <- err }()
		}
		synctest.Wait()
		cancel()
		require.ErrorIs(t, <-leaderErr, context.Canceled, "the leader returns on its own context")
		synctest.Wait()
		assert.Empty(t, results, "the waiters are still waiting")

		close(a.gate)
		for range n {
			require.NoError(t, <-results)
		}
		assert.Equal(t, 1, a.callCount())
		assert.Equal(t, []error{nil}, a.ctxErrs, "the shared refresh was not cancelled")
	})
}

func TestSessionShortDeadlineReturnsWhileRefreshContinues(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newStubAuth(time.Hour)
		a.latency = 5 * time.Second
		s := NewSession(a, &SessionOptions{Logger: testLogger()})
		start := time.Now()

		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := s.Token(ctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, time.Second, time.Since(start), "returned at its deadline")

		tok := mustToken(t, s) // joins the refresh the first caller started
		assert.Equal(t, 5*time.Second, time.Since(start))
		assert.Equal(t, 1, a.callCount())
		assert.Equal(t, []error{nil}, a.ctxErrs)
		assert.Same(t, tok, mustToken(t, s))
	})
}

func TestSessionRefreshTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newStubAuth(time.Hour)
		a.gate = make(chan struct{}) // never opened: Authenticate waits for its context
		s := NewSession(a, &SessionOptions{RefreshTimeout: 10 * time.Second, Logger: testLogger()})
		start := time.Now()
		_, err := s.Token(context.Background())
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 10*time.Second, time.Since(start))

		s = NewSession(a, nil)
		start = time.Now()
		_, err = s.Token(context.Background())
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, DefaultRefreshTimeout, time.Since(start))
	})
}

func TestSessionInvalidateOnlyTheCurrentToken(t *testing.T) {
	a := newStubAuth(time.Hour)
	s := NewSession(a, &SessionOptions{Logger: testLogger()})
	assert.False(t, s.Invalidate(nil))
	assert.False(t, s.Invalidate(&Token{ID: "x"}), "nothing cached yet")

	old := mustToken(t, s)
	assert.False(t, s.Invalidate(&Token{ID: "another"}))
	assert.Same(t, old, mustToken(t, s), "a foreign token does not invalidate")
	assert.True(t, s.Invalidate(old))
	assert.False(t, s.Invalidate(old), "already invalidated")

	fresh := mustToken(t, s)
	assert.NotEqual(t, old.ID, fresh.ID)
	assert.False(t, s.Invalidate(old), "a late failure of the replaced token")
	assert.Same(t, fresh, mustToken(t, s))
	assert.Equal(t, 2, a.callCount())

	copied := *fresh
	assert.False(t, s.Invalidate(&copied), "rejected again at once: kept for a back-off (invariant 11)")
	now := time.Now()
	s.now = func() time.Time { return now.Add(time.Hour) } // long after: a genuine revocation
	assert.True(t, s.Invalidate(&copied), "same ID, another pointer")
}

func TestSessionRefreshWindow(t *testing.T) {
	for _, tc := range []struct {
		lifetime, expireEarly, window time.Duration
	}{
		{10 * time.Second, 0, 5 * time.Second}, // lifetime/2
		{time.Hour, 0, DefaultExpireEarly},     // ExpireEarly
		{time.Hour, 10 * time.Minute, 10 * time.Minute},
		{time.Hour, 45 * time.Minute, 30 * time.Minute},
	} {
		t.Run(fmt.Sprint(tc.lifetime, "/", tc.expireEarly), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				for range 20 { // jitter: window ≤ actual < 1.1 window
					s := NewSession(newStubAuth(tc.lifetime), &SessionOptions{ExpireEarly: tc.expireEarly})
					tok := mustToken(t, s)
					early := tok.ExpiresAt.Sub(s.cur.Load().refreshAt)
					assert.GreaterOrEqual(t, early, tc.window)
					assert.Less(t, early, tc.window+tc.window/10)
				}
			})
		})
	}
}

func TestSessionRefreshesInTheBackground(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newStubAuth(time.Minute)
		a.latency = 2 * time.Second
		s := NewSession(a, &SessionOptions{Logger: testLogger()})
		old := mustToken(t, s)
		time.Sleep(35 * time.Second) // inside the 30–33 s window

		start := time.Now()
		for range 100 {
			assert.Same(t, old, mustToken(t, s), "the current token is served during the refresh")
		}
		assert.Zero(t, time.Since(start), "nobody waited")
		synctest.Wait()
		assert.Equal(t, 2, a.callCount(), "one background refresh")

		time.Sleep(a.latency)
		synctest.Wait() // the refresh finished
		fresh := mustToken(t, s)
		assert.NotEqual(t, old.ID, fresh.ID)
		assert.Equal(t, 2, a.callCount())
	})
}

// TestSessionContinuousWorkload runs requests without pause across five token
// lifetimes: no request may meet a 401 or wait for a refresh.
func TestSessionContinuousWorkload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newStubAuth(time.Minute)
		a.latency = 500 * time.Millisecond
		svc := &stubService{auth: a}
		s := NewSession(a, &SessionOptions{Logger: testLogger()})
		client := &http.Client{Transport: &Transport{Session: s, Base: svc, Logger: testLogger()}}
		mustToken(t, s)

		end := time.Now().Add(5 * time.Minute)
		var requests, blocked, failed atomic.Int64
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for time.Now().Before(end) {
					start := time.Now()
					resp, err := client.Get("https://keystone.test:5000/v3/auth/projects")
					requests.Add(1)
					if time.Since(start) > 0 {
						blocked.Add(1)
					}
					if err != nil || resp.StatusCode != http.StatusOK {
						failed.Add(1)
					}
					if err == nil {
						resp.Body.Close()
					}
					time.Sleep(100 * time.Millisecond)
				}
			})
		}
		wg.Wait()
		assert.Zero(t, svc.count(http.StatusUnauthorized), "401s")
		assert.Zero(t, failed.Load(), "failed requests")
		assert.Zero(t, blocked.Load(), "requests that waited for a refresh")
		assert.Greater(t, requests.Load(), int64(20000))
		// One refresh every 27–30 s plus latency over 300 s, plus the first token.
		assert.InDelta(t, 11, a.callCount(), 1.5, "authentications")
	})
}

func TestSessionFailingBackgroundRefreshBacksOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs lockedBuffer
		a := newStubAuth(time.Minute)
		a.okCalls = 1
		a.failing.Store(true)
		s := NewSession(a, &SessionOptions{Logger: teeLogger(&logs)})
		old := mustToken(t, s)

		for time.Now().Before(old.ExpiresAt) {
			tok, err := s.Token(context.Background())
			require.NoError(t, err, "no error while the token works")
			require.Same(t, old, tok)
			time.Sleep(10 * time.Millisecond)
		}
		beforeExpiry := a.callCount() - 1
		// 30–33 s of window, retried after 1, 2, 4, 8, 16 s: not every 10 ms.
		assert.GreaterOrEqual(t, beforeExpiry, 4)
		assert.LessOrEqual(t, beforeExpiry, 6)

		_, err := s.Token(context.Background())
		require.ErrorIs(t, err, errStubAuth, "the error surfaces once the token expired")
		recordErr(err)
		assert.Contains(t, logs.String(), "ksauth: token refresh failed")
		assert.Contains(t, logs.String(), `"reason":"expiring soon"`)

		a.failing.Store(false)
		tok := mustToken(t, s)
		assert.NotEqual(t, old.ID, tok.ID)
	})
}

func TestSessionDisableBackgroundRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newStubAuth(time.Minute)
		a.latency = time.Second
		s := NewSession(a, &SessionOptions{DisableBackgroundRefresh: true, Logger: testLogger()})
		old := mustToken(t, s)
		time.Sleep(35 * time.Second)

		start := time.Now()
		fresh := mustToken(t, s)
		assert.Equal(t, a.latency, time.Since(start), "the caller waited for the refresh")
		assert.NotEqual(t, old.ID, fresh.ID)

		// A failed refresh of a token that still works: that token is served,
		// and the next attempt waits for a back-off.
		a.okCalls = a.callCount()
		a.failing.Store(true)
		time.Sleep(35 * time.Second)
		assert.Same(t, fresh, mustToken(t, s))
		calls := a.callCount()
		start = time.Now()
		assert.Same(t, fresh, mustToken(t, s))
		assert.Zero(t, time.Since(start))
		assert.Equal(t, calls, a.callCount())
	})
}

func TestSessionClockSkewCausesNoRefreshLoop(t *testing.T) {
	for _, skew := range []time.Duration{time.Hour, -time.Hour} {
		t.Run(skew.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var posts atomic.Int32
				k := &Keystone{
					AuthURL:     "https://keystone.test:5000/v3",
					Credentials: Password{Username: "alice", UserDomain: Domain{Name: "Default"}, Password: "alice-secret"},
					HTTPClient:  &http.Client{Transport: skewedKeystone(skew, time.Hour, &posts)},
					Logger:      testLogger(),
				}
				s := NewSession(k, &SessionOptions{Logger: testLogger()})
				tok := mustToken(t, s)
				assert.Equal(t, time.Hour-time.Second, time.Until(tok.ExpiresAt), "expiry on the local clock, less the second a whole-second issued_at may hide")

				end := time.Now().Add(3*time.Hour + 30*time.Minute)
				for time.Now().Before(end) {
					start := time.Now()
					_, err := s.Token(context.Background())
					require.NoError(t, err)
					require.Zero(t, time.Since(start))
					time.Sleep(time.Second)
				}
				// 1 h tokens refreshed 3–3.3 min early: one per ~57 min.
				assert.Equal(t, int32(4), posts.Load())
			})
		})
	}
}

// skewedKeystone answers POST /v3/auth/tokens like Keystone on a clock off by skew.
func skewedKeystone(skew, lifetime time.Duration, posts *atomic.Int32) http.RoundTripper {
	const layout = "2006-01-02T15:04:05.000000Z"
	return rtFunc(func(r *http.Request) (*http.Response, error) {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
		n := posts.Add(1)
		issued := time.Now().Add(skew).UTC()
		body := fmt.Sprintf(`{"token":{"methods":["password"],"user":{"id":"u1","name":"alice","domain":{"id":"default","name":"Default"}},`+
			`"audit_ids":["a%d"],"issued_at":%q,"expires_at":%q}}`, n, issued.Format(layout), issued.Add(lifetime).Format(layout))
		id := fmt.Sprintf("skewtok%06d-%04d", rand.N(1000000), n)
		registerSecret(id)
		return textResponse(r, http.StatusCreated, body, "Content-Type", "application/json", "X-Subject-Token", id), nil
	})
}

func TestSessionNeverExpiringToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newStubAuth(0)
		s := NewSession(a, nil)
		tok := mustToken(t, s)
		time.Sleep(1000 * time.Hour)
		assert.Same(t, tok, mustToken(t, s))
		assert.Equal(t, 1, a.callCount())
		s.Invalidate(tok)
		assert.NotEqual(t, tok.ID, mustToken(t, s).ID, "only a rejection renews it")
	})
}

func TestSessionAuthenticationFailures(t *testing.T) {
	expired := &Token{ID: "expired-token-id", ExpiresAt: time.Now().Add(-time.Minute)}
	for name, tc := range map[string]struct {
		tok  *Token
		err  error
		want string
	}{
		"error":         {err: errStubAuth, want: errStubAuth.Error()},
		"nil token":     {want: "returned no token"},
		"empty ID":      {tok: &Token{}, want: "returned no token"},
		"already gone":  {tok: expired, want: "expired at"},
		"no auth given": {want: "no Authenticator"},
	} {
		t.Run(name, func(t *testing.T) {
			var calls atomic.Int32
			var a Authenticator = AuthenticatorFunc(func(context.Context) (*Token, error) {
				calls.Add(1)
				return tc.tok, tc.err
			})
			if name == "no auth given" {
				a = nil
			}
			s := NewSession(a, &SessionOptions{Logger: testLogger()})
			const tries = 3
			for range tries {
				tok, err := s.Token(context.Background())
				recordErr(err)
				require.Error(t, err)
				assert.Nil(t, tok)
				assert.Contains(t, err.Error(), tc.want)
				assert.NotContains(t, err.Error(), expired.ID)
			}
			if tc.err != nil {
				_, err := s.Token(context.Background())
				assert.Same(t, tc.err, err, "the Authenticator's error as it is")
				assert.Equal(t, int32(tries+1), calls.Load(), "a failure is not cached")
			}
		})
	}
}

func TestSessionEndpointFollowsTheCurrentCatalog(t *testing.T) {
	a := newStubAuth(time.Hour)
	s := NewSession(a, nil)
	u, err := s.Endpoint(context.Background(), EndpointOpts{Type: "compute"})
	require.NoError(t, err)
	assert.Equal(t, "https://compute.test:8774/v2.1/%(project_id)s", u)

	a.mu.Lock()
	a.catalog = Catalog{{Type: "compute", Endpoints: []Endpoint{{Interface: "public", URL: "https://nova.test/v2.1"}}}}
	a.mu.Unlock()
	s.Invalidate(mustToken(t, s))
	u, err = s.Endpoint(context.Background(), EndpointOpts{Type: "compute"})
	require.NoError(t, err)
	assert.Equal(t, "https://nova.test/v2.1", u)

	_, err = s.Endpoint(context.Background(), EndpointOpts{Type: "image"})
	var nf *EndpointNotFoundError
	require.ErrorAs(t, err, &nf)

	_, err = NewSession(AuthenticatorFunc(func(context.Context) (*Token, error) { return nil, errStubAuth }), nil).
		Endpoint(context.Background(), EndpointOpts{Type: "compute"})
	require.ErrorIs(t, err, errStubAuth)
}

func TestSessionTokenFastPathDoesNotAllocate(t *testing.T) {
	s := NewSession(newStubAuth(time.Hour), nil)
	mustToken(t, s)
	ctx := context.Background()
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := s.Token(ctx); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}

func TestSessionLogsShowNoToken(t *testing.T) {
	var logs lockedBuffer
	a := newStubAuth(time.Hour)
	s := NewSession(a, &SessionOptions{Logger: teeLogger(&logs)})
	tok := mustToken(t, s)
	require.True(t, s.Invalidate(tok))
	tok2 := mustToken(t, s)

	out := logs.String()
	for _, want := range []string{
		`"msg":"ksauth: token refreshed"`, `"reason":"no token yet"`, `"reason":"invalidated"`, `"took":`,
		`"msg":"ksauth: token invalidated"`, fingerprint(tok.ID), fingerprint(tok2.ID),
	} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, tok.ID)
	assert.NotContains(t, out, tok2.ID)
	assert.NotContains(t, out, a.prefix)
}

func TestSessionClient(t *testing.T) {
	a := newStubAuth(time.Hour)
	s := NewSession(a, &SessionOptions{Logger: testLogger()})
	c := s.Client()
	tr, ok := c.Transport.(*Transport)
	require.True(t, ok)
	assert.Same(t, s, tr.Session)
	assert.Nil(t, tr.Base)
	assert.Same(t, s.opts.Logger, tr.Logger)
}
