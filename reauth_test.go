package ksauth

import (
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// alwaysRejecting is a service that answers 401 to every token.
func alwaysRejecting() *stubService {
	return &stubService{hook: func(r *http.Request) *http.Response {
		return textResponse(r, http.StatusUnauthorized, "always rejected")
	}}
}

// TestReauthServiceRejectingEveryTokenBurst: invariant 11. 30 GETs in a row,
// at one instant, to a service that rejects every token: each gets the 401,
// body intact, and Keystone sees at most 4 authentications.
func TestReauthServiceRejectingEveryTokenBurst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newStubAuth(time.Hour)
		tr := newStubTransport(a, alwaysRejecting())
		for i := range 30 {
			resp, err := get(t, tr, "https://keystone.test:5000/v3/x")
			require.NoError(t, err, "request %d", i)
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "request %d", i)
			assert.Equal(t, "always rejected", readBody(t, resp), "request %d", i)
		}
		t.Logf("30 GETs in a burst: %d authentications", a.callCount())
		assert.LessOrEqual(t, a.callCount(), 4, "authentications")
	})
}

// TestReauthGenuineRevocationRecoversOnce: a token that worked for a while
// and is then revoked is replaced by exactly one authentication and the
// request is resent; a later revocation is recovered the same way.
func TestReauthGenuineRevocationRecoversOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newStubAuth(time.Hour)
		svc := &stubService{auth: a}
		tr := newStubTransport(a, svc)
		for round := 1; round <= 2; round++ {
			time.Sleep(10 * time.Minute)
			a.revoke(mustToken(t, tr.Session))
			resp, err := get(t, tr, "https://keystone.test:5000/v3/x")
			require.NoError(t, err)
			assert.Equal(t, http.StatusOK, resp.StatusCode, "round %d", round)
			assert.Equal(t, round+1, a.callCount(), "one re-authentication per revocation")
		}
	})
}

// TestReauthRejectingServiceOverTime: one request a second for a minute to
// a service that rejects every token: the back-off grows, so Keystone sees
// a handful of logins, not 60.
func TestReauthRejectingServiceOverTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newStubAuth(time.Hour)
		tr := newStubTransport(a, alwaysRejecting())
		for range 60 {
			resp, err := get(t, tr, "https://keystone.test:5000/v3/x")
			require.NoError(t, err)
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			time.Sleep(time.Second)
		}
		t.Logf("60 GETs over 60 s: %d authentications", a.callCount())
		assert.LessOrEqual(t, a.callCount(), 9, "1 + 1 + one per back-off of at least 0.5, 1, 2, ... 16, 16 s")
	})
}
