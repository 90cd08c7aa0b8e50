package ksauth

// Issue 6 gaps in the Session: the refresh-failure back-off (item 12), its
// log levels (item 8), expiry when the monotonic clock stopped (item 6),
// stalled body reads (item 2), exchanged tokens from a real Keystone
// (item 10) and the rejection back-off's jitter (item 5).

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// failAttempt moves the fake clock to s's next refresh time, lets a
// background refresh start and finish, and returns the wait the session
// then set before its next attempt.
func failAttempt(t *testing.T, s *Session) time.Duration {
	t.Helper()
	time.Sleep(time.Until(s.cur.Load().refreshAt))
	_, err := s.Token(context.Background())
	require.NoError(t, err, "the current token still works")
	synctest.Wait() // the refresh failed and was published
	return time.Until(s.cur.Load().refreshAt)
}

// failingSession is a session whose first authentication succeeds (a
// one-hour token, refreshed from 30 minutes before its expiry) and every
// later one fails.
func failingSession(opts *SessionOptions) (*Session, *stubAuth) {
	a := newStubAuth(time.Hour)
	a.okCalls = 1
	a.failing.Store(true)
	if opts == nil {
		opts = &SessionOptions{Logger: testLogger()}
	}
	opts.ExpireEarly = 30 * time.Minute
	return NewSession(a, opts), a
}

// TestRefreshFailureBackoffIsJitteredAndGrows: after the n-th failed
// background refresh (n from 0) the next attempt waits a random time in
// [d/2, d), d = min(1 s·2ⁿ, 1 min): each wait is longer than the one before
// until the cap, and sessions failing together do not retry together.
func TestRefreshFailureBackoffIsJitteredAndGrows(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const failures = 9
		var runs [][]time.Duration
		for range 30 {
			s, a := failingSession(nil)
			mustToken(t, s)
			var waits []time.Duration
			for n := range failures {
				w := failAttempt(t, s)
				d := min(time.Second<<n, maxRefreshRetryDelay)
				require.GreaterOrEqual(t, w, d/2, "wait after failure %d", n+1)
				require.Less(t, w, d, "wait after failure %d", n+1)
				if n > 0 && d < maxRefreshRetryDelay {
					require.Greater(t, w, waits[n-1], "the back-off grows")
				}
				waits = append(waits, w)
			}
			require.Equal(t, 1+failures, a.callCount(), "one attempt per back-off, none in between")
			runs = append(runs, waits)
		}
		for n := range failures {
			distinct := map[time.Duration]bool{}
			for _, waits := range runs {
				distinct[waits[n]] = true
			}
			assert.Greater(t, len(distinct), 25, "30 sessions failing together: the waits after failure %d are spread", n+1)
		}
	})
}

// logRecord is one JSON log line.
type logRecord struct {
	Level, Msg, Reason string
	Failures           int `json:"failures"`
	FailuresBefore     int `json:"failures_before"`
}

// refreshRecords returns the "token refresh failed" and "token refreshed"
// records among JSON log lines.
func refreshRecords(t *testing.T, out string) []logRecord {
	t.Helper()
	var recs []logRecord
	for line := range strings.Lines(out) {
		var r logRecord
		require.NoError(t, json.Unmarshal([]byte(line), &r), line)
		if r.Msg == "ksauth: token refresh failed" || r.Msg == "ksauth: token refreshed" {
			recs = append(recs, r)
		}
	}
	return recs
}

// infoLogger is a text logger at Info, as slog.Default() logs, writing to w
// and to suiteLog (for the secret scan), without times.
func infoLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(io.MultiWriter(w, suiteLog), &slog.HandlerOptions{
		Level: slog.LevelInfo,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{}
			}
			return a
		},
	}))
}

// TestRefreshFailureLogLevels: a failing background refresh is logged at
// Warn once per failure streak, not per attempt (the others at Debug), and
// the refresh that ends the streak at Info; the next streak warns again. A
// logger at Info, as slog.Default() is, sees exactly those records.
func TestRefreshFailureLogLevels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs lockedBuffer
		s, a := failingSession(&SessionOptions{Logger: teeLogger(&logs)})
		mustToken(t, s)
		for range 3 {
			failAttempt(t, s)
		}
		a.failing.Store(false)
		time.Sleep(time.Until(s.cur.Load().refreshAt))
		mustToken(t, s)
		synctest.Wait() // recovered: a new token
		require.Equal(t, 5, a.callCount())

		a.okCalls = a.callCount() // a second streak
		a.failing.Store(true)
		for range 2 {
			failAttempt(t, s)
		}

		type want struct {
			level, msg string
			failures   int
		}
		var got []want
		for _, r := range refreshRecords(t, logs.String()) {
			got = append(got, want{r.Level, strings.TrimPrefix(r.Msg, "ksauth: token "), max(r.Failures, r.FailuresBefore)})
		}
		assert.Equal(t, []want{
			{"DEBUG", "refreshed", 0}, // the first token
			{"WARN", "refresh failed", 1},
			{"DEBUG", "refresh failed", 2},
			{"DEBUG", "refresh failed", 3},
			{"INFO", "refreshed", 3}, // failures_before: the streak's length
			{"WARN", "refresh failed", 1},
			{"DEBUG", "refresh failed", 2},
		}, got)
	})

	// The same story through a handler at Info: two warnings and the recovery.
	synctest.Test(t, func(t *testing.T) {
		var buf lockedBuffer
		s, a := failingSession(&SessionOptions{Logger: infoLogger(&buf)})
		mustToken(t, s)
		for range 4 {
			failAttempt(t, s)
		}
		a.failing.Store(false)
		time.Sleep(time.Until(s.cur.Load().refreshAt))
		mustToken(t, s)
		synctest.Wait()
		out := buf.String()
		assert.Equal(t, 1, strings.Count(out, "level=WARN msg=\"ksauth: token refresh failed\""), out)
		assert.Equal(t, 1, strings.Count(out, "level=INFO msg=\"ksauth: token refreshed\""), out)
		assert.Equal(t, 2, strings.Count(out, "\n"), "nothing else at Info: %s", out)
		assert.Contains(t, out, "error=", "the warning says why")
		assert.Contains(t, out, "failures_before=4")
	})
}

// timeLayout mirrors time.Time's fields (wall, ext, loc) for wallJumped.
type timeLayout struct {
	wall uint64
	ext  int64
	loc  *time.Location
}

// wallJumped returns tm with its wall clock reading moved by d (whole
// seconds) and its monotonic reading kept: what time.Now() returns after a
// machine slept for d (Linux's monotonic clock stops during suspend) or
// after the wall clock was set. No exported API builds such a reading.
func wallJumped(t *testing.T, tm time.Time, d time.Duration) time.Time {
	t.Helper()
	const hasMonotonic, nsecShift = 1 << 63, 30
	out := tm
	p := (*timeLayout)(unsafe.Pointer(&out))
	require.NotZero(t, p.wall&hasMonotonic, "tm must carry a monotonic reading")
	p.wall = uint64(int64(p.wall) + int64(d/time.Second)<<nsecShift)
	require.Equal(t, time.Duration(0), out.Sub(tm), "time.Time's layout changed: the monotonic reading moved")
	require.Equal(t, d, out.Round(0).Sub(tm.Round(0)), "time.Time's layout changed: the wall reading did not move by d")
	return out
}

// TestSessionExpiryWhenTheMonotonicClockStopped: invariant 12 with readings
// that carry a monotonic part, as real ones do. The machine slept 2 h while
// the monotonic clock advanced 1 min: the 1-hour token is expired on the
// wall clock and the session authenticates again instead of serving it
// (comparing monotonic readings alone says it is fresh). And the other way
// round: a wall clock set back does not revive a token the monotonic clock
// says has expired.
func TestSessionExpiryWhenTheMonotonicClockStopped(t *testing.T) {
	for _, tc := range []struct {
		name      string
		now       func(t *testing.T, base time.Time) time.Time
		monoState tokenState // what the monotonic clock alone says
	}{
		{"slept 2h, monotonic +1min", func(t *testing.T, base time.Time) time.Time {
			return wallJumped(t, base.Add(time.Minute), 2*time.Hour)
		}, fresh},
		{"wall clock set back 2h, monotonic +2h", func(t *testing.T, base time.Time) time.Time {
			return wallJumped(t, base.Add(2*time.Hour), -2*time.Hour)
		}, expired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := time.Now()
			var mu sync.Mutex
			calls := 0
			var s *Session
			s = NewSession(AuthenticatorFunc(func(context.Context) (*Token, error) {
				mu.Lock()
				defer mu.Unlock()
				calls++
				return &Token{ID: "suspend-tok-" + string(rune('0'+calls)), ExpiresAt: s.now().Add(time.Hour)}, nil
			}), &SessionOptions{Logger: testLogger()})
			s.now = func() time.Time { return base }
			first := mustToken(t, s)

			now := tc.now(t, base)
			assert.Equal(t, tc.monoState == fresh, now.Before(first.ExpiresAt), "the monotonic clock alone")
			assert.False(t, first.Valid(now), "Valid needs both clocks")
			assert.Equal(t, expired, s.cur.Load().state(now))
			s.now = func() time.Time { return now }
			second := mustToken(t, s)
			assert.NotEqual(t, first.ID, second.ID, "the expired token is not served")
			assert.Equal(t, 2, calls)
		})
	}
}

// stalledBody is a response body whose Read blocks until it is closed.
type stalledBody struct {
	once   sync.Once
	closed chan struct{}
}

func (b *stalledBody) Read([]byte) (int, error) {
	<-b.closed
	return 0, errors.New("read on closed body")
}

func (b *stalledBody) Close() error {
	b.once.Do(func() { close(b.closed) })
	return nil
}

// TestBodyReadEndsWithTheContext: defect 2, first bullet. A server that
// sends the token response's headers and then nothing cannot hold a caller
// past its context, nor a Session's refresh past RefreshTimeout; the
// session recovers once the server does.
func TestBodyReadEndsWithTheContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var stall sync.Mutex // held: the server stalls
		stalling := true
		k := &Keystone{
			AuthURL:     "https://keystone.test:5000/v3",
			Credentials: Password{UserID: "u", Password: "pw-secret-1"},
			Retry:       &RetryPolicy{MaxAttempts: 1},
			Logger:      testLogger(),
			HTTPClient: &http.Client{Transport: rtFunc(func(r *http.Request) (*http.Response, error) {
				_, _ = io.Copy(io.Discard, r.Body)
				stall.Lock()
				defer stall.Unlock()
				if stalling {
					return &http.Response{StatusCode: http.StatusCreated, Header: http.Header{"X-Subject-Token": {"stalled-tok-1"}},
						Body: &stalledBody{closed: make(chan struct{})}, ContentLength: -1, Request: r}, nil
				}
				return textResponse(r, http.StatusCreated, `{"token":{"methods":["password"],"expires_at":null,"user":{"id":"u"}}}`,
					"Content-Type", "application/json", "X-Subject-Token", "recovered-tok-1"), nil
			})},
		}
		registerSecret("stalled-tok-1")
		registerSecret("recovered-tok-1")

		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err := k.Authenticate(ctx)
		recordErr(err)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		var me *MalformedResponseError
		assert.ErrorAs(t, err, &me)
		assert.Equal(t, 2*time.Second, time.Since(start), "returned at the caller's deadline")

		s := NewSession(k, &SessionOptions{RefreshTimeout: 5 * time.Second, Logger: testLogger()})
		start = time.Now()
		_, err = s.Token(context.Background())
		recordErr(err)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 5*time.Second, time.Since(start), "the refresh ended at RefreshTimeout")

		stall.Lock()
		stalling = false
		stall.Unlock()
		tok := mustToken(t, s)
		assert.Equal(t, "recovered-tok-1", tok.ID, "the session is not wedged")
	})
}

// TestSessionExchangedTokenFromKeystone: gap 10 through a real Keystone
// answer. A Keystone with TokenExchange credentials marks its tokens as
// exchanged, so a Session over it never re-exchanges (the same expiry would
// come back) and, at the expiry, says why with *ExpiredTokenError instead of
// sending the dead source token to Keystone (whose answer is an opaque 404).
func TestSessionExchangedTokenFromKeystone(t *testing.T) {
	m := newKSMock(t)
	m.expectNamed("auth_token_rescope_unscoped_to_project") // served once: a second POST fails the test
	k := m.keystone(TokenExchange{Token: fxUnscopedToken}, fxDemoByName)
	s := NewSession(k, &SessionOptions{Logger: testLogger()})
	base := time.Now()
	tok := mustToken(t, s)
	assert.True(t, tok.exchanged)
	for _, d := range []time.Duration{30 * time.Minute, 58 * time.Minute, 59 * time.Minute} {
		s.now = func() time.Time { return base.Add(d) }
		assert.Same(t, tok, mustToken(t, s), "served at +%v without a re-exchange", d)
	}
	s.now = func() time.Time { return base.Add(61 * time.Minute) }
	_, err := s.Token(context.Background())
	recordErr(err)
	var ee *ExpiredTokenError
	require.ErrorAs(t, err, &ee)
	assert.ErrorIs(t, err, ErrTokenExpired)
	assert.Contains(t, err.Error(), "Password or ApplicationCredential", "says what to use instead")
	assert.Equal(t, []string{"auth_token_rescope_unscoped_to_project"}, m.servedNames())

	// A password login is renewed as usual.
	m = newKSMock(t)
	m.expectNamed("auth_password_project_id")
	tok, err = m.keystone(fxAliceByID, ProjectScope{ID: fxDemoID}).Authenticate(context.Background())
	require.NoError(t, err)
	assert.False(t, tok.exchanged)
}

// TestRejectionBackoffIsJitteredAndGrows: invariant 11's back-off. After
// the n-th young token rejected in a row, its replacement may itself be
// replaced only after a random wait in [d/2, d), d = min(1 s·2ⁿ⁻¹, 5 min).
func TestRejectionBackoffIsJitteredAndGrows(t *testing.T) {
	now := time.Now()
	for n := 1; n <= 12; n++ {
		d := min(rejectBackoffBase<<(n-1), maxRejectBackoff)
		distinct := map[time.Duration]bool{}
		for range 100 {
			e := &entry{}
			e.inherit(&entry{rejections: n}, now)
			w := e.replaceAfter.Sub(now)
			require.GreaterOrEqual(t, w, d/2, "rejection %d", n)
			require.Less(t, w, d, "rejection %d", n)
			assert.Equal(t, n, e.rejections)
			distinct[w] = true
		}
		assert.Greater(t, len(distinct), 90, "rejection %d: jittered", n)
	}
	// A token that was not rejected (or a first token) inherits nothing.
	e := &entry{}
	e.inherit(&entry{tok: &Token{ID: "x"}, rejections: 3}, now)
	assert.Zero(t, e.rejections)
	assert.True(t, e.replaceAfter.IsZero())
}

// TestOptionDefaultsAreNilSafe: item 12's one pattern for option defaults.
// A nil options pointer, a zero field and a negative one all mean the
// documented default.
func TestOptionDefaultsAreNilSafe(t *testing.T) {
	for _, o := range []*SessionOptions{nil, {}, {ExpireEarly: -1, RefreshTimeout: -1}} {
		assert.Equal(t, DefaultExpireEarly, o.expireEarly())
		assert.Equal(t, DefaultRefreshTimeout, o.refreshTimeout())
		assert.True(t, o.background())
		assert.Nil(t, o.logger())
	}
	o := &SessionOptions{ExpireEarly: time.Second, RefreshTimeout: 2 * time.Second, DisableBackgroundRefresh: true}
	assert.Equal(t, time.Second, o.expireEarly())
	assert.Equal(t, 2*time.Second, o.refreshTimeout())
	assert.False(t, o.background())

	for _, p := range []*RetryPolicy{nil, {}, {MaxAttempts: -1, MaxRetryAfter: -1, BackoffBase: -1, BackoffMax: -1}} {
		assert.Equal(t, DefaultMaxAttempts, p.maxAttempts())
		assert.Equal(t, DefaultMaxRetryAfter, p.maxRetryAfter())
		for range 100 {
			assert.Less(t, p.backoff(1), DefaultBackoffBase)
			assert.Less(t, p.backoff(30), DefaultBackoffMax)
		}
	}
	p := &RetryPolicy{MaxAttempts: 1, MaxRetryAfter: time.Second, BackoffBase: time.Millisecond, BackoffMax: 2 * time.Millisecond}
	assert.Equal(t, 1, p.maxAttempts())
	assert.Equal(t, time.Second, p.maxRetryAfter())
	assert.Less(t, p.backoff(5), 2*time.Millisecond)
}

// TestSessionNamedStates: item 12's state machine. An entry's token is
// missing, fresh, due for refresh or expired, decided in one place.
func TestSessionNamedStates(t *testing.T) {
	now := time.Now()
	tok := &Token{ID: "state-tok", ExpiresAt: now.Add(time.Hour)}
	e := &entry{tok: tok, refreshAt: now.Add(50 * time.Minute)}
	never := &entry{tok: &Token{ID: "never"}}
	for _, tc := range []struct {
		name string
		e    *entry
		at   time.Time
		want tokenState
	}{
		{"no entry", nil, now, missing},
		{"invalidated", &entry{rejections: 1}, now, missing},
		{"before the window", e, now, fresh},
		{"at the window", e, now.Add(50 * time.Minute), refreshDue},
		{"inside the window", e, now.Add(59 * time.Minute), refreshDue},
		{"at the expiry", e, now.Add(time.Hour), expired},
		{"after the expiry", e, now.Add(2 * time.Hour), expired},
		{"never expires", never, now.Add(1000 * time.Hour), fresh},
	} {
		assert.Equal(t, tc.want, tc.e.state(tc.at), tc.name)
	}
	for st, usable := range map[tokenState]bool{missing: false, expired: false, refreshDue: true, fresh: true} {
		assert.Equal(t, usable, st.usable(), "state %d", st)
	}
	assert.Equal(t, tok.ExpiresAt, e.withRefreshAt(now.Add(2*time.Hour), 1).refreshAt, "a refresh time is never after the expiry")
	assert.Equal(t, now.Add(55*time.Minute), e.withRefreshAt(now.Add(55*time.Minute), 1).refreshAt)
}
