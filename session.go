package ksauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Session defaults; see "Refresh and retries" in the package documentation.
const (
	DefaultExpireEarly    = 3 * time.Minute
	DefaultRefreshTimeout = time.Minute
)

// maxRefreshRetryDelay caps the wait between failed refreshes of a token
// that still works (1 s, 2 s, 4 s, ... up to this).
const maxRefreshRetryDelay = time.Minute

// SessionOptions tunes a [Session]. A nil *SessionOptions, and every zero
// field, means the documented default.
type SessionOptions struct {
	// ExpireEarly is how long before the token expires a new one is fetched.
	// The refresh window is min(ExpireEarly, lifetime/2), widened at random by
	// up to a tenth so that many clients do not refresh in step. Zero:
	// DefaultExpireEarly (3 minutes).
	ExpireEarly time.Duration
	// RefreshTimeout bounds one authentication. A refresh runs on a context
	// detached from the callers' cancellation (it keeps their values), so one
	// caller giving up does not fail the others. Zero: DefaultRefreshTimeout
	// (1 minute).
	RefreshTimeout time.Duration
	// DisableBackgroundRefresh makes callers inside the refresh window wait
	// for the new token instead of being served the current one while the
	// refresh runs in the background. Zero (false): background refresh.
	DisableBackgroundRefresh bool
	// Logger receives debug records of refreshes and invalidations. Tokens
	// appear only as fingerprints. nil: silent.
	Logger *slog.Logger
}

// Session caches the token of an [Authenticator] and renews it: before it
// expires (in the background while the current token is still served), and
// when a server rejects it ([Session.Invalidate]). However many goroutines
// ask, at most one authentication runs at a time. Create it with
// [NewSession]; a Session is safe for concurrent use.
type Session struct {
	auth Authenticator
	opts SessionOptions

	// cur is read without a lock (the fast path); it is written only under mu.
	cur      atomic.Pointer[entry]
	mu       sync.Mutex
	inflight *refresh // the running authentication, if any
}

// entry is one immutable state of the cache.
type entry struct {
	tok       *Token    // nil once invalidated
	refreshAt time.Time // local clock; zero: never (the token does not expire)
	failures  int       // refreshes that failed in a row while tok still worked
	hosts     hostSet   // host keys trusted with tok: its auth host and catalog hosts
}

// invalidated is the entry left by Invalidate.
var invalidated = &entry{}

// fresh reports whether e's token can be served as it is. refreshAt carries
// a monotonic clock reading, so this costs one clock read.
func (e *entry) fresh() bool {
	return e != nil && e.tok != nil && (e.refreshAt.IsZero() || time.Until(e.refreshAt) > 0)
}

// usable reports whether e's token still works at now, fresh or not.
func (e *entry) usable(now time.Time) bool {
	return e != nil && e.tok.Valid(now)
}

// refresh is one authentication; done is closed once entry or err is set.
type refresh struct {
	done  chan struct{}
	entry *entry
	err   error
}

// NewSession returns a session that gets its tokens from a. opts may be nil.
func NewSession(a Authenticator, opts *SessionOptions) *Session {
	s := &Session{auth: a}
	if opts != nil {
		s.opts = *opts
	}
	return s
}

// Token returns a valid token: the cached one while it is fresh, otherwise
// the result of the one refresh that all callers share. Cancelling ctx makes
// this call return at once, not the shared refresh stop.
func (s *Session) Token(ctx context.Context) (*Token, error) {
	e, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	return e.tok, nil
}

// current is Token returning the whole cache entry. The fast path is one
// atomic load and a clock read: no lock, no allocation.
func (s *Session) current(ctx context.Context) (*entry, error) {
	if e := s.cur.Load(); e.fresh() {
		return e, nil
	}
	e, r := s.begin(ctx, time.Now())
	if r == nil {
		return e, nil
	}
	select {
	case <-r.done:
		if r.err != nil && e.usable(time.Now()) {
			return e, nil // background refresh off: keep serving a working token
		}
		return r.entry, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// begin is the slow path, under the lock. It returns an entry to serve at
// once (r nil), or the refresh to wait for.
func (s *Session) begin(ctx context.Context, now time.Time) (e *entry, r *refresh) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e = s.cur.Load(); e.fresh() {
		return e, nil // refreshed while we took the lock
	}
	if r = s.inflight; r == nil {
		r = s.start(ctx, e, now)
	}
	if e.usable(now) && !s.opts.DisableBackgroundRefresh {
		return e, nil
	}
	return e, r
}

// start launches an authentication; s.mu is held. With background refresh,
// a token that still works goes on being served by the fast path meanwhile.
func (s *Session) start(ctx context.Context, e *entry, now time.Time) *refresh {
	reason := refreshReason(e, now)
	if e.usable(now) && !s.opts.DisableBackgroundRefresh {
		s.cur.Store(e.retryAt(e.tok.ExpiresAt, e.failures))
	}
	r := &refresh{done: make(chan struct{})}
	s.inflight = r
	go s.run(context.WithoutCancel(ctx), r, e, reason)
	return r
}

// retryAt returns a copy of e to be refreshed at t (capped at the expiry).
func (e *entry) retryAt(t time.Time, failures int) *entry {
	c := *e
	c.failures = failures
	if c.refreshAt = t; !e.tok.ExpiresAt.IsZero() && t.After(e.tok.ExpiresAt) {
		c.refreshAt = e.tok.ExpiresAt
	}
	return &c
}

// refreshBackoff is the wait after n failed refreshes: 1 s, 2 s, 4 s, ... 1 min.
func refreshBackoff(n int) time.Duration {
	return min(time.Second<<min(n, 10), maxRefreshRetryDelay)
}

func refreshReason(e *entry, now time.Time) string {
	switch {
	case e == nil:
		return "no token yet"
	case e.tok == nil:
		return "invalidated"
	case !e.tok.Valid(now):
		return "expired"
	}
	return "expiring soon"
}

// run authenticates, publishes and logs the result, then wakes the
// waiters. old is the entry the refresh replaces: after a failure, a token
// of it that still works is served until the next attempt, after a back-off.
func (s *Session) run(ctx context.Context, r *refresh, old *entry, reason string) {
	defer close(r.done)
	ctx, cancel := context.WithTimeout(ctx, orDefault(s.opts.RefreshTimeout, DefaultRefreshTimeout))
	defer cancel()
	start := time.Now()
	r.entry, r.err = s.authenticate(ctx)
	took := time.Since(start)
	s.publish(r, old)
	if r.err != nil {
		debug(ctx, s.opts.Logger, "ksauth: token refresh failed", slog.String("reason", reason),
			slog.Duration("took", took), slog.String("error", redact(r.err.Error())))
		return
	}
	debug(ctx, s.opts.Logger, "ksauth: token refreshed", slog.String("reason", reason),
		slog.Duration("took", took), slog.Any("token", r.entry.tok))
}

// publish makes r's result the session's state.
func (s *Session) publish(r *refresh, old *entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	switch cur := s.cur.Load(); {
	case r.err == nil:
		s.cur.Store(r.entry)
	case old.usable(now) && cur != nil && cur.tok == old.tok:
		s.cur.Store(old.retryAt(now.Add(refreshBackoff(old.failures)), old.failures+1))
	}
	s.inflight = nil
}

// authenticate gets a token and computes when to refresh it. The lifetime
// is measured on the local clock, from now to ExpiresAt, so a skewed clock
// cannot make a token look expired.
func (s *Session) authenticate(ctx context.Context) (*entry, error) {
	if s.auth == nil {
		return nil, invalid("Session", "no Authenticator: use NewSession")
	}
	tok, err := s.auth.Authenticate(ctx)
	switch {
	case err != nil:
		return nil, err
	case tok == nil || tok.ID == "":
		return nil, errors.New("ksauth: the Authenticator returned no token")
	}
	e := &entry{tok: tok, hosts: trustedHosts(tok)}
	if tok.ExpiresAt.IsZero() {
		return e, nil
	}
	now := time.Now()
	lifetime := tok.ExpiresAt.Sub(now)
	if lifetime <= 0 {
		return nil, fmt.Errorf("ksauth: the Authenticator returned a token that expired at %s, before it arrived "+
			"(Token.ExpiresAt must be on the local clock)", tok.ExpiresAt.Format(time.RFC3339))
	}
	window := min(orDefault(s.opts.ExpireEarly, DefaultExpireEarly), lifetime/2)
	if window >= 10 {
		window += rand.N(window / 10)
	}
	e.refreshAt = now.Add(lifetime - window) // from now: a monotonic reading
	return e, nil
}

// orDefault returns d, or def when d is not positive.
func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Invalidate drops the cached token if it is still failed (same ID), so the
// next Token call authenticates again; it reports whether it did. A server
// rejecting a token that has already been replaced causes no new
// authentication.
func (s *Session) Invalidate(failed *Token) bool {
	if failed == nil || failed.ID == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.cur.Load(); e == nil || e.tok == nil || e.tok.ID != failed.ID {
		return false
	}
	s.cur.Store(invalidated)
	debug(context.Background(), s.opts.Logger, "ksauth: token invalidated", slog.Any("token", failed))
	return true
}

// Endpoint looks opts up in the current token's catalog (see
// [Catalog.Endpoint]); a refreshed token brings a fresh catalog.
func (s *Session) Endpoint(ctx context.Context, opts EndpointOpts) (string, error) {
	tok, err := s.Token(ctx)
	if err != nil {
		return "", err
	}
	return tok.Catalog.Endpoint(opts)
}

// Client returns an *http.Client whose requests go through a [Transport]
// over this session with default settings (http.DefaultTransport, default
// retries, the session's Logger). Build a Transport yourself to change them.
func (s *Session) Client() *http.Client {
	return &http.Client{Transport: &Transport{Session: s, Logger: s.opts.Logger}}
}
