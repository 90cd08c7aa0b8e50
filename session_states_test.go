package ksauth

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSessionExpiryAfterSuspend: invariant 12. The wall clock jumps 2 h
// (the machine slept; Go's monotonic clock stood still): the 1-hour token is
// expired and the session authenticates again instead of serving it.
func TestSessionExpiryAfterSuspend(t *testing.T) {
	base := time.Now()
	var s *Session
	calls := 0
	s = NewSession(AuthenticatorFunc(func(context.Context) (*Token, error) {
		calls++
		return &Token{ID: fmt.Sprint("tok-", calls), ExpiresAt: s.now().Add(time.Hour)}, nil
	}), &SessionOptions{Logger: testLogger()})
	s.now = func() time.Time { return base }
	first := mustToken(t, s)
	// A reading whose monotonic part advanced 1 minute while the wall clock
	// advanced 2 hours cannot be built; a wall-only reading (Round(0)) is
	// compared on the wall clock alone, which is what a woken machine says.
	s.now = func() time.Time { return base.Add(2 * time.Hour).Round(0) }
	assert.Equal(t, expired, s.cur.Load().state(s.now()))
	second := mustToken(t, s)
	assert.NotEqual(t, first.ID, second.ID, "the expired token is not served")
	assert.Equal(t, 2, calls)
}

// TestBothClocksMustAgree: a deadline passed on either clock has passed.
func TestBothClocksMustAgree(t *testing.T) {
	now := time.Now()
	later := now.Add(time.Hour)
	assert.True(t, bothBefore(now, later))
	assert.False(t, bothBefore(later.Round(0).Add(time.Hour), later), "the wall clock says it has passed")
	tok := &Token{ID: "x", ExpiresAt: later}
	assert.False(t, tok.Valid(now.Add(2*time.Hour).Round(0)))
	assert.True(t, tok.Valid(now))
}

// TestSessionTypedErrors: a token expired on arrival and no token at all.
func TestSessionTypedErrors(t *testing.T) {
	_, err := NewSession(AuthenticatorFunc(func(context.Context) (*Token, error) {
		return &Token{ID: "x", ExpiresAt: time.Now().Add(-time.Minute)}, nil
	}), nil).Token(context.Background())
	var ee *ExpiredTokenError
	require.ErrorAs(t, err, &ee)
	assert.ErrorIs(t, err, ErrTokenExpired)
	_, err = NewSession(AuthenticatorFunc(func(context.Context) (*Token, error) { return nil, nil }), nil).Token(context.Background())
	assert.ErrorIs(t, err, ErrNoToken)
}

// TestSessionExchangedTokenIsNotRenewed: a TokenExchange token cannot
// outlive its source: no re-exchange before its expiry, then a typed error
// saying so, without another authentication.
func TestSessionExchangedTokenIsNotRenewed(t *testing.T) {
	calls := 0
	base := time.Now()
	s := NewSession(AuthenticatorFunc(func(context.Context) (*Token, error) {
		calls++
		return &Token{ID: "exchanged", ExpiresAt: base.Add(time.Hour), exchanged: true}, nil
	}), nil)
	for _, d := range []time.Duration{0, 30 * time.Minute, 59 * time.Minute} {
		s.now = func() time.Time { return base.Add(d) }
		mustToken(t, s)
	}
	assert.Equal(t, 1, calls, "no pointless re-exchange inside the refresh window")
	s.now = func() time.Time { return base.Add(61 * time.Minute) }
	_, err := s.Token(context.Background())
	var ee *ExpiredTokenError
	require.ErrorAs(t, err, &ee)
	assert.Contains(t, err.Error(), "TokenExchange cannot outlive")
	assert.Equal(t, 1, calls)
}

// TestAuthenticate101IsATypedErrorAtOnce: a token POST answered with 101
// Switching Protocols hands net/http's raw connection over as the body; it
// is never read, so the call fails at once with a typed error, and a
// Session recovers once the server does.
func TestAuthenticate101IsATypedErrorAtOnce(t *testing.T) {
	var upgrade atomic.Bool
	upgrade.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !upgrade.Load() {
			w.Header().Set("X-Subject-Token", "tok-after-101")
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"token":{"methods":["password"],"expires_at":null,"issued_at":"2026-12-06T00:00:00Z","user":{"id":"u"}}}`))
			return
		}
		conn, rw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n")
		_ = rw.Flush()
		_, _ = bufio.NewReader(conn).ReadByte() // hold the connection until the client closes it
	}))
	defer srv.Close()
	k := &Keystone{AuthURL: srv.URL + "/v3", Credentials: Password{UserID: "u", Password: "pw-secret-1"}, Retry: &RetryPolicy{MaxAttempts: 1}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := NewSession(k, nil)
	_, err := s.Token(ctx)
	var me *MalformedResponseError
	require.ErrorAs(t, err, &me)
	assert.Equal(t, http.StatusSwitchingProtocols, me.StatusCode)
	assert.False(t, errors.Is(err, context.DeadlineExceeded), "failed at once, not at the deadline")
	upgrade.Store(false)
	tok, err := s.Token(ctx)
	require.NoError(t, err, "the session is not wedged")
	assert.Equal(t, "tok-after-101", tok.ID)
}
