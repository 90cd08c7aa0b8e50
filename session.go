package ksauth

import (
	"context"
	"log/slog"
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
	// Logger receives records of refreshes and invalidations (see "Logging"
	// in the package documentation). Tokens appear only as fingerprints.
	// nil: silent.
	Logger *slog.Logger
	// Store shares tokens with other processes: a [FileStore] for one
	// machine, the redisstore module for a fleet. The session reads it
	// when it has no token or its token is due for refresh, stores each
	// token it obtains, and retires one a server rejected. It is used with
	// a *Keystone or *Cleura authenticator whose tokens can be shared (not
	// a TokenExchange, a Receipt or a passcode alone); otherwise, and while
	// the store fails, the session logs in as if there were none. nil: no
	// store.
	Store TokenStore
	// StoreWait bounds how long the session waits for another process
	// holding the store's lock to store its token, before logging in
	// itself. Zero: DefaultStoreWait (10 s).
	StoreWait time.Duration
}

func (o *SessionOptions) expireEarly() time.Duration {
	if o == nil || o.ExpireEarly <= 0 {
		return DefaultExpireEarly
	}
	return o.ExpireEarly
}

func (o *SessionOptions) refreshTimeout() time.Duration {
	if o == nil || o.RefreshTimeout <= 0 {
		return DefaultRefreshTimeout
	}
	return o.RefreshTimeout
}

func (o *SessionOptions) storeWait() time.Duration {
	if o == nil || o.StoreWait <= 0 {
		return DefaultStoreWait
	}
	return o.StoreWait
}

func (o *SessionOptions) background() bool { return o == nil || !o.DisableBackgroundRefresh }

func (o *SessionOptions) logger() *slog.Logger {
	if o == nil {
		return nil
	}
	return o.Logger
}

// Session caches the token of an [Authenticator] and renews it: before it
// expires (in the background while the current token is still served), and
// when a server rejects it ([Session.Invalidate]). However many goroutines
// ask, at most one authentication runs at a time. Create it with
// [NewSession]; a Session is safe for concurrent use.
type Session struct {
	auth Authenticator
	opts *SessionOptions
	now  func() time.Time  // nil: time.Now; tests set it
	base http.RoundTripper // Client's base; nil: http.DefaultTransport (Config.NewSession sets its own)

	// cur is read without a lock (the fast path); it is written only under mu.
	cur      atomic.Pointer[entry]
	mu       sync.Mutex
	inflight *flight // the running authentication, if any
	failures int     // authentications that failed in a row, for the logs

	shared *sharedStore // nil: no TokenStore
}

// NewSession returns a session that gets its tokens from a. opts may be nil;
// it is copied.
func NewSession(a Authenticator, opts *SessionOptions) *Session {
	s := &Session{auth: a}
	if opts != nil {
		copied := *opts
		s.opts = &copied
	}
	s.shared = newSharedStore(a, s.opts)
	return s
}

func (s *Session) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
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
	now := s.clock()
	if e := s.cur.Load(); e.state(now) == fresh {
		return e, nil
	}
	e, f, err := s.begin(ctx, now)
	if f == nil || err != nil {
		return e, err
	}
	select {
	case <-f.done:
		if f.err != nil && e.state(s.clock()).usable() {
			return e, nil // background refresh off: keep serving a working token
		}
		return f.entry, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// begin is the slow path, under the lock. It returns an entry to serve at
// once (f nil), or the flight to wait for.
func (s *Session) begin(ctx context.Context, now time.Time) (*entry, *flight, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.cur.Load()
	switch st := e.state(now); {
	case st == fresh:
		return e, nil, nil // refreshed while we took the lock
	case st == expired && e.tok.exchanged:
		return nil, nil, &ExpiredTokenError{ExpiresAt: e.tok.ExpiresAt, Reason: exchangedReason}
	case st == refreshDue && s.opts.background():
		if s.inflight == nil {
			s.cur.Store(e.withRefreshAt(e.tok.ExpiresAt, e.failures)) // served meanwhile
			s.start(ctx, e, st)
		}
		return e, nil, nil
	}
	if s.inflight == nil {
		s.start(ctx, e, e.state(now))
	}
	return e, s.inflight, nil
}

// start launches an authentication replacing old; s.mu is held.
func (s *Session) start(ctx context.Context, old *entry, st tokenState) {
	f := &flight{done: make(chan struct{})}
	s.inflight = f
	go s.run(context.WithoutCancel(ctx), f, old, st)
}

// run authenticates, publishes and logs the result, then wakes the waiters.
func (s *Session) run(ctx context.Context, f *flight, old *entry, st tokenState) {
	defer close(f.done)
	ctx, cancel := context.WithTimeout(ctx, s.opts.refreshTimeout())
	defer cancel()
	start := time.Now()
	f.entry, f.err = s.authenticate(ctx, old)
	s.publish(ctx, f, old, st, time.Since(start))
}

// publish makes f's result the session's state and logs it. After a
// failure, a token of old that still works is served until the next
// attempt, after a back-off.
func (s *Session) publish(ctx context.Context, f *flight, old *entry, st tokenState, took time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inflight = nil
	now := s.clock()
	cur := s.cur.Load()
	if f.err == nil {
		f.entry.inherit(cur, now)
		s.cur.Store(f.entry)
		s.logRefreshed(ctx, f.entry, old.refreshReason(st), took)
		return
	}
	if old.state(now).usable() && cur != nil && cur.tok == old.tok {
		s.cur.Store(old.withRefreshAt(now.Add(refreshBackoff(old.failures)), old.failures+1))
	}
	s.logFailed(ctx, f.err, old.refreshReason(st), took, old.tokenID())
}

// logRefreshed records a new token: at Info when it ends a failure streak.
func (s *Session) logRefreshed(ctx context.Context, e *entry, reason string, took time.Duration) {
	level := slog.LevelDebug
	if s.failures > 0 {
		level = slog.LevelInfo
	}
	logAt(ctx, s.opts.logger(), level, "ksauth: token refreshed", slog.String("reason", reason),
		slog.Duration("took", took), slog.Int("failures_before", s.failures), slog.Any("token", e.tok))
	s.failures = 0
}

// logFailed records a failed authentication: at Warn for the first of a
// streak, so an operator sees it before the token expires, then at Debug.
// The error is redacted of token shapes and of the token being replaced
// (oldID), which an Authenticator's server may echo.
func (s *Session) logFailed(ctx context.Context, err error, reason string, took time.Duration, oldID string) {
	level := slog.LevelDebug
	if s.failures == 0 {
		level = slog.LevelWarn
	}
	s.failures++
	logAt(ctx, s.opts.logger(), level, "ksauth: token refresh failed", slog.String("reason", reason),
		slog.Duration("took", took), slog.Int("failures", s.failures), slog.String("error", redact(err.Error(), oldID)))
}

// authenticate gets a token to replace old's (from the store, if there is
// one) and computes when to refresh it.
func (s *Session) authenticate(ctx context.Context, old *entry) (*entry, error) {
	if s.auth == nil {
		return nil, invalid("Session", "no Authenticator: use NewSession")
	}
	if s.shared != nil {
		return s.shared.authenticate(ctx, s, old)
	}
	return s.login(ctx)
}

// login gets a token from the Authenticator.
func (s *Session) login(ctx context.Context) (*entry, error) {
	tok, err := s.auth.Authenticate(ctx)
	switch {
	case err != nil:
		return nil, err
	case tok == nil || tok.ID == "":
		return nil, ErrNoToken
	}
	return newEntry(tok, s.clock(), s.opts.expireEarly())
}

// Invalidate drops the cached token if it is still failed (same ID), so the
// next Token call authenticates again; it reports whether it did. A server
// rejecting a token that has already been replaced causes no new
// authentication, and neither does a token rejected again soon after it
// replaced a rejected one, until a back-off has passed (invariant 11): a
// service that rejects every token cannot make the session hammer Keystone.
func (s *Session) Invalidate(failed *Token) bool {
	return s.invalidate(context.Background(), failed)
}

func (s *Session) invalidate(ctx context.Context, failed *Token) bool {
	if failed == nil || failed.ID == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.cur.Load()
	if e == nil || e.tok == nil || e.tok.ID != failed.ID {
		return false
	}
	next, ok := e.rejectedAt(s.clock())
	if !ok {
		debug(ctx, s.opts.logger(), "ksauth: token rejected again soon after it was obtained; keeping it for now",
			slog.Any("token", failed), slog.Int("rejections", e.rejections))
		return false
	}
	s.cur.Store(next)
	if s.shared != nil && e.stored != nil {
		s.shared.retire(e.stored)
	}
	debug(ctx, s.opts.logger(), "ksauth: token invalidated", slog.Any("token", failed))
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
// over this session with default settings (http.DefaultTransport, or the
// configuration's client for a session from [Config.NewSession]; default
// retries, the session's Logger). Build a Transport yourself to change them.
func (s *Session) Client() *http.Client {
	return &http.Client{Transport: &Transport{Session: s, Base: s.base, Logger: s.opts.logger()}}
}
