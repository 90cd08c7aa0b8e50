package ksauth

// Issue 6 gaps outside discovery, the Session and body reads: Token.Lifetime
// under clock skew, copyable Keystone values, identity calls through a
// Session, Temporary against RetryPolicy, exhausted retries, Retry-After
// beyond int64 and the zero expiry.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTokenLifetimeUnderClockSkew: gap 11. ExpiresAt is on the local clock
// and IssuedAt on the server's, so subtracting them adds the skew; Lifetime
// is the server's issued→expires span whatever the skew.
func TestTokenLifetimeUnderClockSkew(t *testing.T) {
	for _, skew := range []time.Duration{0, 3 * time.Hour, -3 * time.Hour, 365 * 24 * time.Hour, -10 * 365 * 24 * time.Hour} {
		t.Run(skew.String(), func(t *testing.T) {
			var posts atomic.Int32
			k := &Keystone{
				AuthURL:     "https://keystone.test:5000/v3",
				Credentials: Password{UserID: "u1", Password: "alice-secret"},
				HTTPClient:  &http.Client{Transport: skewedKeystone(skew, 8*time.Hour, &posts)},
				Logger:      testLogger(),
			}
			tok, err := k.Authenticate(context.Background())
			require.NoError(t, err)
			assert.Equal(t, 8*time.Hour, tok.Lifetime(), "the server's span")
			naive := tok.ExpiresAt.Sub(tok.IssuedAt)
			assert.InDelta(t, float64(8*time.Hour-skew), float64(naive), float64(time.Minute), "subtracting by hand adds the skew")
			assert.InDelta(t, float64(8*time.Hour), float64(time.Until(tok.ExpiresAt)), float64(time.Minute), "ExpiresAt is local")
		})
	}
	t.Run("unknown", func(t *testing.T) {
		c := loadCapture(t, "auth_password_unscoped")
		body := c.responseJSON(t)
		tok := body["token"].(map[string]any)
		tok["expires_at"] = nil
		b, _ := json.Marshal(body)
		got, err, _, _ := authWithBody(t, string(b))
		require.NoError(t, err)
		assert.Zero(t, got.Lifetime(), "never expires")

		tok["expires_at"] = "2026-11-23T07:43:10.000000Z"
		delete(tok, "issued_at")
		b, _ = json.Marshal(body)
		got, err, _, _ = authWithBody(t, string(b))
		require.NoError(t, err)
		assert.Zero(t, got.Lifetime(), "no issued_at")
		assert.Zero(t, (*Token)(nil).Lifetime())
		assert.Zero(t, (&Token{ID: "x", ExpiresAt: time.Now()}).Lifetime(), "a token made by hand")
	})
}

// lockPath returns the path to a field of t, held by value, that go vet's
// copylocks check would refuse to see copied (a type with a Lock method on
// its pointer: sync.Mutex, sync.Once, sync/atomic's types, ...), or "".
func lockPath(t reflect.Type, path string) string {
	if _, ok := reflect.PointerTo(t).MethodByName("Lock"); ok {
		return path + " (" + t.String() + ")"
	}
	switch t.Kind() {
	case reflect.Struct:
		for i := range t.NumField() {
			if p := lockPath(t.Field(i).Type, path+"."+t.Field(i).Name); p != "" {
				return p
			}
		}
	case reflect.Array:
		return lockPath(t.Elem(), path+"[]")
	}
	return ""
}

// TestKeystoneIsCopyable: gap 11. A Keystone holds no lock or atomic by
// value, so copying one to change its scope is what go vet's copylocks
// accepts (this file does it), and copies authenticate concurrently with
// the original and each other (run with -race), each with its own scope.
func TestKeystoneIsCopyable(t *testing.T) {
	assert.Empty(t, lockPath(reflect.TypeFor[Keystone](), "Keystone"))
	// The check finds what copylocks finds.
	assert.NotEmpty(t, lockPath(reflect.TypeFor[struct{ mu sync.Mutex }](), "x"))
	assert.NotEmpty(t, lockPath(reflect.TypeFor[struct{ n [2]atomic.Int32 }](), "x"))
	assert.NotEmpty(t, lockPath(reflect.TypeFor[struct{ o struct{ sync.Once } }](), "x"))
	assert.Empty(t, lockPath(reflect.TypeFor[struct{ mu *sync.Mutex }](), "x"), "a pointer copies fine")

	canon := func(b []byte) string {
		var v any
		require.NoError(t, json.Unmarshal(b, &v))
		out, err := json.Marshal(v)
		require.NoError(t, err)
		return string(out)
	}
	byBody := map[string]*ksCapture{}
	for _, name := range []string{"auth_password_project_name", "auth_password_domain_scoped", "auth_password_unscoped"} {
		c := loadCapture(t, name)
		byBody[canon(c.Request.Body)] = c
	}
	m := newKSMock(t)
	m.respond("GET", mockBase, discoveryAt(t, 300, mockBase))
	m.respond("POST", mockBase+"/v3/auth/tokens", func(req *http.Request) (*http.Response, error) {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		c := byBody[canon(b)]
		if c == nil {
			return jsonResponder(400, `{"error":{"code":400,"message":"unexpected body"}}`)(req)
		}
		return c.response(req), nil
	})
	base := m.keystone(fxAlicePassword, nil)
	base.AuthURL = mockBase // the copies share one discovery

	scopes := []struct {
		scope Scope
		check func(*Token) bool
	}{
		{fxDemoByName, func(tok *Token) bool { return tok.Project != nil && tok.Project.ID == fxDemoID }},
		{DomainScope{Name: "Default"}, func(tok *Token) bool { return tok.Domain != nil && tok.Domain.ID == fxDefaultDomainID }},
		{nil, func(tok *Token) bool { return tok.Project == nil && tok.Domain == nil }},
	}
	var wg sync.WaitGroup
	var ok atomic.Int32
	for i := range 30 {
		wg.Go(func() {
			k := *base // copied while other goroutines authenticate with base and its copies
			k.Scope = scopes[i%len(scopes)].scope
			tok, err := k.Authenticate(context.Background())
			recordErr(err)
			if assert.NoError(t, err) && assert.True(t, scopes[i%len(scopes)].check(tok), "copy %d got %v", i, tok) {
				ok.Add(1)
			}
			if i%len(scopes) == 2 {
				_, err := base.Authenticate(context.Background())
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(30), ok.Load())
	assert.Nil(t, base.Scope, "the original is untouched")
	assert.Equal(t, 1, m.mock.GetCallCountInfo()["GET "+mockBase], "one discovery for the original and every copy")
}

// TestIdentityCallsThroughASessionSurviveARejectedToken: gap 11. A
// long-running validator passes its Session as the TokenSource: when
// Keystone rejects the session's token (revoked), the call invalidates it,
// authenticates once and is sent again, and succeeds. A fixed *Token gets
// the 401; a renewed token rejected too ends the call with the 401, after
// one re-authentication.
func TestIdentityCallsThroughASessionSurviveARejectedToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		rejected := map[string]bool{}
		rejectAll := false
		var sent []string // X-Auth-Token of every identity request
		refuse := func(req *http.Request) bool {
			mu.Lock()
			defer mu.Unlock()
			tok := req.Header.Get("X-Auth-Token")
			sent = append(sent, tok)
			return rejectAll || rejected[tok]
		}
		unauthorized := jsonResponder(401, `{"error":{"code":401,"message":"The request you have made requires authentication.","title":"Unauthorized"}}`)
		validate, projects := loadCapture(t, "validate_token"), loadCapture(t, "auth_projects_project_token")
		m := newKSMock(t)
		m.respond("GET", mockBase+"/v3/auth/tokens", func(req *http.Request) (*http.Response, error) {
			if refuse(req) {
				return unauthorized(req)
			}
			return validate.response(req), nil
		})
		m.respond("GET", mockBase+"/v3/auth/projects", func(req *http.Request) (*http.Response, error) {
			if refuse(req) {
				return unauthorized(req)
			}
			return projects.response(req), nil
		})
		reject := func(tok *Token) {
			mu.Lock()
			defer mu.Unlock()
			rejected[tok.ID] = true
		}
		sentSince := func(n int) []string {
			mu.Lock()
			defer mu.Unlock()
			return append([]string(nil), sent[n:]...)
		}

		a := newStubAuth(time.Hour)
		s := NewSession(a, &SessionOptions{Logger: testLogger()})
		k := m.keystone(nil, nil)
		ctx := context.Background()

		own := mustToken(t, s)
		time.Sleep(10 * time.Minute) // a token that has worked for a while
		reject(own)
		got, err := k.ValidateToken(ctx, s, fxNameToken, nil)
		recordErr(err)
		require.NoError(t, err, "ValidateToken through the Session survives its token's revocation")
		assert.Equal(t, fxNameToken, got.ID)
		renewed := mustToken(t, s)
		assert.Equal(t, []string{own.ID, renewed.ID}, sentSince(0), "sent once more, with the renewed token")
		assert.Equal(t, 2, a.callCount(), "one re-authentication")

		time.Sleep(10 * time.Minute)
		reject(renewed)
		list, err := k.Projects(ctx, s)
		recordErr(err)
		require.NoError(t, err, "Projects through the Session survives it too")
		assert.NotEmpty(t, list)
		assert.Equal(t, 3, a.callCount())
		assert.Len(t, sentSince(2), 2)

		// A fixed token cannot be renewed: the 401, sent once.
		n := len(sentSince(0))
		_, err = k.ValidateToken(ctx, own, fxNameToken, nil)
		recordErr(err)
		require.ErrorIs(t, err, ErrUnauthorized)
		assert.Len(t, sentSince(n), 1)

		// Every token rejected: one re-authentication, then the 401.
		time.Sleep(10 * time.Minute)
		mu.Lock()
		rejectAll = true
		mu.Unlock()
		n = len(sentSince(0))
		_, err = k.Projects(ctx, s)
		recordErr(err)
		var he *HTTPError
		require.ErrorAs(t, err, &he)
		assert.Equal(t, http.StatusUnauthorized, he.StatusCode)
		assert.Len(t, sentSince(n), 2, "sent twice, never more")
		assert.Equal(t, 4, a.callCount())
	})
}

// identityCall runs the ksauth call that sends method to Keystone, and
// reports the error it returned.
func identityCall(k *Keystone, method string) error {
	ctx := context.Background()
	src := &Token{ID: "temporary-check-token-1", ExpiresAt: time.Now().Add(time.Hour)}
	switch method {
	case http.MethodPost:
		_, err := k.Authenticate(ctx)
		return err
	case http.MethodGet:
		_, err := k.Projects(ctx, src)
		return err
	case http.MethodHead:
		_, err := k.CheckToken(ctx, src, "subject-token-1")
		return err
	case http.MethodDelete:
		return k.RevokeToken(ctx, src, "subject-token-1")
	}
	panic(method)
}

// TestTemporaryAgreesWithRetryPolicy: item 8. For every method ksauth
// sends to Keystone and every status or failure, Temporary() on the error
// returned says true exactly when RetryPolicy sent the request again.
func TestTemporaryAgreesWithRetryPolicy(t *testing.T) {
	registerSecret("temporary-check-token-1")
	paths := map[string]string{
		http.MethodPost: "/v3/auth/tokens", http.MethodGet: "/v3/auth/projects",
		http.MethodHead: "/v3/auth/tokens", http.MethodDelete: "/v3/auth/tokens",
	}
	type answer struct {
		name      string
		responder httpmock.Responder
	}
	var answers []answer
	for _, code := range []int{400, 401, 403, 404, 405, 409, 413, 429, 500, 501, 502, 503, 504, 507} {
		answers = append(answers, answer{fmt.Sprint(code), jsonResponder(code, `{"error":{"code":`+fmt.Sprint(code)+`,"message":"m"}}`, "Retry-After", "0")})
	}
	for _, f := range []struct {
		name string
		err  error
	}{
		{"reset", errors.New("read tcp: connection reset by peer")},
		{"dial", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}},
		{"timeout", &net.OpError{Op: "read", Net: "tcp", Err: errors.New("i/o timeout")}},
		{"cancelled", context.Canceled},
		{"deadline", context.DeadlineExceeded},
		{"refused redirect", fmt.Errorf("%w: redirect to evil.test:443", ErrUntrustedHost)},
	} {
		answers = append(answers, answer{f.name, httpmock.NewErrorResponder(f.err)})
	}
	for method, path := range paths {
		for _, a := range answers {
			t.Run(method+" "+a.name, func(t *testing.T) {
				m := newKSMock(t)
				m.respond(method, mockBase+path, a.responder)
				k := m.keystone(fxAlicePassword, nil)
				k.Retry = &RetryPolicy{MaxAttempts: 2, BackoffBase: time.Nanosecond, BackoffMax: time.Nanosecond}
				err := identityCall(k, method)
				recordErr(err)
				retried := m.calls() == 2
				if err == nil { // CheckToken's 404 is an answer: false
					require.Equal(t, "HEAD 404", method+" "+a.name)
					return
				}
				var temp interface{ Temporary() bool }
				require.ErrorAs(t, err, &temp)
				assert.Equal(t, retried, temp.Temporary(), "sent %d times; %v", m.calls(), err)
			})
		}
	}
}

// TestRetriesExhaustedSayAttemptsAndLastStatus: item 8. When retries run
// out the error says how many attempts were made and the last status (and
// the server's wait when it sent one), through Keystone and the Transport.
func TestRetriesExhaustedSayAttemptsAndLastStatus(t *testing.T) {
	t.Run("Keystone 503 without Retry-After", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			m := newKSMock(t)
			m.respond("POST", mockBase+"/v3/auth/tokens", jsonResponder(503, `{"error":{"code":503,"message":"Service Unavailable"}}`))
			k := m.keystone(fxAlicePassword, nil)
			k.Retry = nil
			_, err := k.Authenticate(context.Background())
			recordErr(err)
			var he *HTTPError
			require.ErrorAs(t, err, &he)
			assert.Equal(t, 4, he.Attempts)
			assert.Equal(t, 4, m.calls())
			assert.Contains(t, err.Error(), ": 503 Service Unavailable")
			assert.Contains(t, err.Error(), "(after 4 attempts)")
		})
	})
	t.Run("Keystone 429 asking too long a wait", func(t *testing.T) {
		err := authStatus(t, 429, `{}`, "Retry-After", "3600")
		assert.Contains(t, err.Error(), "429 Too Many Requests")
		assert.Contains(t, err.Error(), "(server asks to retry after 1h0m0s)")
		assert.NotContains(t, err.Error(), "attempts", "sent once")
	})
	t.Run("Transport connection failures", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			a := newStubAuth(time.Hour)
			var sends atomic.Int32
			tr := newStubTransport(a, rtFunc(func(r *http.Request) (*http.Response, error) {
				sends.Add(1)
				return nil, errReset
			}))
			_, err := get(t, tr, "https://keystone.test:5000/v3/x")
			var se *RequestSendError
			require.ErrorAs(t, err, &se)
			assert.ErrorIs(t, err, errReset)
			assert.Equal(t, 4, se.Attempts)
			assert.Equal(t, int32(4), sends.Load())
			assert.Contains(t, err.Error(), "GET https://keystone.test:5000/v3/x")
			assert.Contains(t, err.Error(), "(after 4 attempts)")
			assert.True(t, se.Temporary())
		})
	})
}

// TestRetryAfterBeyondInt64ReturnsAtOnce: defect 3 end to end. A
// Retry-After of 99999999999999999999 seconds is a wait longer than any
// MaxRetryAfter: the 429 comes back at once, sent once, with that wait.
func TestRetryAfterBeyondInt64ReturnsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newKSMock(t)
		m.respond("POST", mockBase+"/v3/auth/tokens", jsonResponder(429, `{}`, "Retry-After", "99999999999999999999"))
		k := m.keystone(fxAlicePassword, nil)
		k.Retry = nil // the defaults: 4 attempts, 60 s at most
		start := time.Now()
		_, err := k.Authenticate(context.Background())
		recordErr(err)
		require.ErrorIs(t, err, ErrRateLimited)
		var he *HTTPError
		require.ErrorAs(t, err, &he)
		assert.Equal(t, time.Duration(math.MaxInt64), he.RetryAfter)
		assert.Equal(t, 1, m.calls(), "not retried with a backoff")
		assert.Zero(t, time.Since(start), "returned at once")

		svc := &stubService{hook: func(r *http.Request) *http.Response {
			return textResponse(r, http.StatusServiceUnavailable, "later", "Retry-After", "99999999999999999999")
		}}
		tr := newStubTransport(newStubAuth(time.Hour), svc)
		resp, err := get(t, tr, "https://keystone.test:5000/v3/x")
		require.NoError(t, err)
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		assert.Equal(t, "later", readBody(t, resp))
		assert.Equal(t, 1, svc.count(http.StatusServiceUnavailable))
		assert.Zero(t, time.Since(start))
	})
}

// TestExpiresAtZeroTimeIsMalformed: defect 4. The zero time means "never
// expires" in a Token, which only Keystone's null may say: a zero
// timestamp in any form is a *MalformedResponseError, not an eternal token.
func TestExpiresAtZeroTimeIsMalformed(t *testing.T) {
	for _, v := range []string{"0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000000Z", "0001-01-01T00:00:00", "0001-01-01T01:00:00+01:00"} {
		t.Run(v, func(t *testing.T) {
			tok, err, _, _ := authWithBody(t, `{"token":{"methods":["password"],"user":{"id":"u"},"issued_at":"2026-11-23T06:43:09.000000Z","expires_at":"`+v+`"}}`)
			assert.Nil(t, tok)
			var me *MalformedResponseError
			require.ErrorAs(t, err, &me)
			assert.Contains(t, err.Error(), "zero time")
		})
	}
	tok, err, _, _ := authWithBody(t, `{"token":{"methods":["password"],"user":{"id":"u"},"issued_at":"2026-11-23T06:43:09.000000Z","expires_at":null}}`)
	require.NoError(t, err)
	assert.True(t, tok.ExpiresAt.IsZero(), "null: never expires")
	assert.True(t, strings.Contains(tok.String(), "expires never"))
}

// TestIdentityCallReauthFailureIsTyped: item 8 for identity calls. When
// Keystone rejects the Session's token and getting a new one fails, the
// error is a *ReauthError carrying the rejection's status and the
// authentication's error, as the Transport's is.
func TestIdentityCallReauthFailureIsTyped(t *testing.T) {
	m := newKSMock(t)
	m.respond("GET", mockBase+"/v3/auth/projects", jsonResponder(401, `{"error":{"code":401,"message":"The request you have made requires authentication."}}`))
	a := newStubAuth(time.Hour)
	a.okCalls = 1
	a.failing.Store(true)
	s := NewSession(a, &SessionOptions{Logger: testLogger()})
	mustToken(t, s)
	_, err := m.keystone(nil, nil).Projects(context.Background(), s)
	recordErr(err)
	var re *ReauthError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, http.StatusUnauthorized, re.StatusCode)
	assert.Equal(t, http.MethodGet, re.Method)
	assert.Equal(t, mockBase+"/v3/auth/projects", re.URL)
	assert.ErrorIs(t, err, ErrUnauthorized)
	assert.ErrorIs(t, err, errStubAuth)
	assert.Equal(t, 1, m.calls(), "not sent again without a token")
}
