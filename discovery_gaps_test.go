package ksauth

// Issue 6 gaps in version discovery (defect 2, second bullet) and the
// availability check (gap 9): one shared lookup that each caller can
// abandon on its own context, a short negative cache, and Versions /
// IdentityURL against good, malformed, missing and silent servers.

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDiscoveryStalledIsSharedAndAbandonedPerCaller: a discovery that stalls
// for 20 s is one GET however many callers wait for it. The caller that
// started it with a 300 ms deadline returns at its deadline, so does one
// that joins with 1 s, while a caller without a deadline keeps waiting and
// gets the result; a later caller uses it without asking again. (Before the
// fix, discovery held Keystone's lock during the GET: every caller waited
// for it, deadline or not.)
func TestDiscoveryStalledIsSharedAndAbandonedPerCaller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newKSMock(t)
		release := make(chan struct{})
		var gets atomic.Int32
		disc := discoveryAt(t, 300, mockBase)
		m.respond("GET", mockBase, func(req *http.Request) (*http.Response, error) {
			gets.Add(1)
			select {
			case <-release:
			case <-req.Context().Done():
				return nil, req.Context().Err()
			}
			return disc(req)
		})
		_, r := tokenAt(t, "/v3/auth/tokens")
		m.respond("POST", mockBase+"/v3/auth/tokens", r)
		k := m.keystone(fxAliceByID, ProjectScope{ID: fxDemoID})
		k.AuthURL = mockBase
		start := time.Now()

		type result struct {
			err  error
			took time.Duration
		}
		authenticate := func(d time.Duration) <-chan result {
			ch := make(chan result, 1)
			go func() {
				ctx, cancel := context.Background(), context.CancelFunc(func() {})
				if d > 0 {
					ctx, cancel = context.WithTimeout(ctx, d)
				}
				defer cancel()
				_, err := k.Authenticate(ctx)
				recordErr(err)
				ch <- result{err, time.Since(start)}
			}()
			return ch
		}
		leader := authenticate(300 * time.Millisecond) // starts the discovery
		synctest.Wait()
		require.Equal(t, int32(1), gets.Load(), "the leader's discovery is under way")
		patient := authenticate(0)
		second := authenticate(time.Second)
		synctest.Wait()

		got := <-leader
		require.ErrorIs(t, got.err, context.DeadlineExceeded)
		assert.Equal(t, 300*time.Millisecond, got.took, "the leader returned at its own deadline")
		got = <-second
		require.ErrorIs(t, got.err, context.DeadlineExceeded)
		assert.Equal(t, time.Second, got.took, "a joining caller returned at its own deadline")
		synctest.Wait()
		assert.Empty(t, patient, "the caller without a deadline is still waiting")

		time.Sleep(20*time.Second - time.Since(start))
		close(release)
		got = <-patient
		require.NoError(t, got.err, "the shared discovery was not cancelled by the callers who gave up")
		assert.Equal(t, 20*time.Second, got.took)

		u, err := k.IdentityURL(context.Background())
		require.NoError(t, err)
		assert.Equal(t, mockBase+"/v3", u.String())
		assert.Equal(t, int32(1), gets.Load(), "one discovery GET for every caller")
	})
}

// TestDiscoveryFailureIsCachedBrieflyThenRetried: a discovery that failed
// for a reason that may pass (nothing answered, a 5xx, a 429) is remembered
// for unreachableRetry, so the calls right after it do not ask again, and
// is retried after that. Here the root document points at /identity/v3, so
// the /v3 fallback used meanwhile does not work: a failure remembered for
// good would break the client for the life of the process.
func TestDiscoveryFailureIsCachedBrieflyThenRetried(t *testing.T) {
	html404 := loadCapture(t, "unknown_path_404_html")
	for name, failure := range map[string]httpmock.Responder{
		"connection refused": httpmock.NewErrorResponder(errors.New("dial tcp 192.0.2.1:5000: connect: connection refused")),
		"503":                jsonResponder(503, `{"error":{"code":503,"message":"maintenance","title":"Service Unavailable"}}`),
		"500":                jsonResponder(500, `{"error":{"code":500,"message":"db gone","title":"Internal Server Error"}}`),
		"429":                jsonResponder(429, `{"error":{"code":429,"message":"slow down","title":"Too Many Requests"}}`),
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				m := newKSMock(t)
				var healthy atomic.Bool
				var gets atomic.Int32
				root := jsonResponder(300, `{"versions":{"values":[{"id":"v3.14","status":"stable","links":[{"rel":"self","href":"`+mockBase+`/identity/v3/"}]}]}}`)
				m.respond("GET", mockBase, func(req *http.Request) (*http.Response, error) {
					gets.Add(1)
					if !healthy.Load() {
						return failure(req)
					}
					return root(req)
				})
				m.respond("POST", mockBase+"/v3/auth/tokens", func(req *http.Request) (*http.Response, error) { return html404.response(req), nil })
				_, r := tokenAt(t, "/identity/v3/auth/tokens")
				m.respond("POST", mockBase+"/identity/v3/auth/tokens", r)
				k := m.keystone(fxAliceByID, ProjectScope{ID: fxDemoID})
				k.AuthURL = mockBase

				_, err, _, _ := authenticateCapture(t, k)
				var de *DiscoveryError
				require.ErrorAs(t, err, &de, "discovery failed and the /v3 fallback is not Keystone")
				healthy.Store(true)

				time.Sleep(unreachableRetry - time.Millisecond)
				_, err, _, _ = authenticateCapture(t, k)
				require.ErrorAs(t, err, &de, "still remembered")
				assert.Equal(t, int32(1), gets.Load(), "no discovery while the failure is remembered")

				time.Sleep(time.Millisecond)
				tok, err, _, _ := authenticateCapture(t, k)
				require.NoError(t, err, "discovered again once the failure is old")
				assert.Equal(t, fxProjectToken, tok.ID)
				assert.Equal(t, int32(2), gets.Load())

				time.Sleep(time.Hour)
				_, err, _, _ = authenticateCapture(t, k)
				require.NoError(t, err)
				assert.Equal(t, int32(2), gets.Load(), "a success is remembered for good")
			})
		})
	}
}

// TestVersionsAndIdentityURL: the availability check (gap 9). Versions GETs
// the identity root and lists what it advertises; IdentityURL reports a
// failed discovery instead of returning a URL that nothing answers.
func TestVersionsAndIdentityURL(t *testing.T) {
	html404 := loadCapture(t, "unknown_path_404_html")
	t.Run("version document", func(t *testing.T) {
		for _, authURL := range []string{mockBase, mockBase + "/", mockBase + "/v3", mockBase + "/v3/auth/tokens"} {
			m := newKSMock(t)
			m.respond("GET", mockBase, discoveryAt(t, 300, mockBase))
			k := m.keystone(nil, nil)
			k.AuthURL = authURL
			versions, err := k.Versions(context.Background())
			require.NoError(t, err, authURL)
			assert.Equal(t, []APIVersion{{ID: "v3.14", Status: "stable", Updated: ts(t, "2020-04-07T00:00:00Z"), URL: mockBase + "/v3/"}}, versions, authURL)
			assert.Equal(t, 1, m.calls(), "%s: one GET of the root", authURL)
			u, err := k.IdentityURL(context.Background())
			require.NoError(t, err, authURL)
			assert.Equal(t, mockBase+"/v3", u.String(), authURL)
		}
	})
	t.Run("a single version document", func(t *testing.T) {
		m := newKSMock(t)
		v3 := loadCapture(t, "discovery_v3")
		m.respond("GET", mockBase+"/identity", func(req *http.Request) (*http.Response, error) { return v3.response(req), nil })
		k := m.keystone(nil, nil)
		k.AuthURL = mockBase + "/identity/v3"
		versions, err := k.Versions(context.Background())
		require.NoError(t, err)
		require.Len(t, versions, 1)
		assert.Equal(t, "v3.14", versions[0].ID)
	})

	failures := []struct {
		name      string
		responder httpmock.Responder
		check     func(t *testing.T, err error)
	}{
		{"malformed body", jsonResponder(300, `{"versions": {"values": [{"id": "v3.14", "sta`), func(t *testing.T, err error) {
			var me *MalformedResponseError
			require.ErrorAs(t, err, &me)
			assert.Contains(t, err.Error(), "malformed JSON body")
		}},
		{"404", func(req *http.Request) (*http.Response, error) { return html404.response(req), nil }, func(t *testing.T, err error) {
			var he *HTTPError
			require.ErrorAs(t, err, &he)
			assert.Equal(t, http.StatusNotFound, he.StatusCode)
			assert.ErrorIs(t, err, ErrNotFound)
		}},
		{"200 that is not a version document", jsonResponder(200, `{"status":"ok","service":"something else"}`), func(t *testing.T, err error) {
			var me *MalformedResponseError
			require.ErrorAs(t, err, &me)
			assert.Equal(t, http.StatusOK, me.StatusCode)
			assert.Contains(t, err.Error(), "not a version document")
		}},
		{"200 html page", func(req *http.Request) (*http.Response, error) {
			return textResponse(req, http.StatusOK, "<html>welcome to nginx</html>", "Content-Type", "text/html"), nil
		}, func(t *testing.T, err error) {
			var me *MalformedResponseError
			require.ErrorAs(t, err, &me)
			assert.Equal(t, http.StatusOK, me.StatusCode)
		}},
	}
	for _, tc := range failures {
		t.Run(tc.name, func(t *testing.T) {
			m := newKSMock(t)
			m.respond("GET", mockBase+"/identity", tc.responder)
			k := m.keystone(nil, nil)
			k.AuthURL = mockBase + "/identity"
			versions, err := k.Versions(context.Background())
			recordErr(err)
			assert.Nil(t, versions)
			tc.check(t, err)

			u, err := k.IdentityURL(context.Background())
			recordErr(err)
			assert.Nil(t, u, "no URL when discovery failed")
			var de *DiscoveryError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, mockBase+"/identity", de.AuthURL)
			tc.check(t, de.Discovery)
		})
	}

	t.Run("nothing listens", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close() // its port is closed now: connection refused
		k := &Keystone{AuthURL: srv.URL, HTTPClient: &http.Client{}, Retry: &RetryPolicy{MaxAttempts: 1}, Logger: testLogger()}
		versions, err := k.Versions(context.Background())
		recordErr(err)
		assert.Nil(t, versions)
		var se *RequestSendError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, http.MethodGet, se.Method)
		assert.Equal(t, srv.URL, se.URL)
		assert.Contains(t, err.Error(), "connection refused")

		u, err := k.IdentityURL(context.Background())
		recordErr(err)
		assert.Nil(t, u)
		var de *DiscoveryError
		require.ErrorAs(t, err, &de)
		require.ErrorAs(t, de.Discovery, &se)
		assert.Contains(t, err.Error(), "connection refused")
	})
}
