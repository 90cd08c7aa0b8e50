package ksauth

// The session's cache entry and its states: when a token is fresh, due for
// refresh or expired (invariants 5 and 12), the back-off after failed
// refreshes, and the back-off after a token is rejected soon after it was
// obtained (invariant 11).

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"
)

// Errors a Session returns when its Authenticator hands over no usable token.
var (
	// ErrNoToken: the Authenticator returned neither a token nor an error.
	ErrNoToken = errors.New("ksauth: the Authenticator returned no token")
	// ErrTokenExpired is matched by every [*ExpiredTokenError].
	ErrTokenExpired = errors.New("ksauth: token expired")
)

// ExpiredTokenError reports a token a Session cannot use or renew: the
// Authenticator returned one that had already expired, or a token obtained
// by [TokenExchange] reached the expiry of the token it was exchanged from.
// It matches [ErrTokenExpired].
type ExpiredTokenError struct {
	ExpiresAt time.Time // on the local clock
	Reason    string
}

// Error says when the token expired and why it cannot be used.
func (e *ExpiredTokenError) Error() string {
	return fmt.Sprintf("ksauth: token expired at %s: %s", e.ExpiresAt.Format(time.RFC3339), e.Reason)
}

// Unwrap returns ErrTokenExpired.
func (e *ExpiredTokenError) Unwrap() error { return ErrTokenExpired }

const (
	expiredOnArrivalReason = "the Authenticator returned it already expired (Token.ExpiresAt must be on the local clock)"
	exchangedReason        = "a token obtained by TokenExchange cannot outlive the token it was exchanged from, " +
		"so it cannot be renewed; give the Session Password or ApplicationCredential credentials instead"
)

// maxRefreshRetryDelay caps the wait between failed refreshes of a token
// that still works (about 1 s, 2 s, 4 s, ... up to this).
const maxRefreshRetryDelay = time.Minute

// Invariant 11: a token rejected within youngRejection of arriving (plus the
// back-off it was given) is suspect; replacing it again waits a back-off
// growing from rejectBackoffBase to maxRejectBackoff.
const (
	youngRejection    = 30 * time.Second
	rejectBackoffBase = time.Second
	maxRejectBackoff  = 5 * time.Minute
)

// tokenState is what an entry's token is good for at some moment.
type tokenState int

const (
	missing    tokenState = iota // no token: none yet, or invalidated
	expired                      // a token past its expiry
	refreshDue                   // a working token inside its refresh window
	fresh                        // a working token, not yet due
)

// usable reports a state whose token still works.
func (st tokenState) usable() bool { return st == fresh || st == refreshDue }

// refreshReason says in the logs why a refresh of e, in state st, ran.
func (e *entry) refreshReason(st tokenState) string {
	switch {
	case e == nil:
		return "no token yet"
	case st == missing:
		return "invalidated"
	case st == expired:
		return "expired"
	}
	return "expiring soon"
}

// entry is one immutable state of the cache.
type entry struct {
	tok       *Token        // nil once invalidated
	refreshAt time.Time     // local clock; zero: never (the token does not expire)
	failures  int           // refreshes that failed in a row while tok still worked
	hosts     *tokenHosts   // tok's own hosts: its auth host and catalog hosts
	obtained  time.Time     // when tok arrived
	headers   []headerValue // tok's headers, built once for every request
	stored    []byte        // tok's value in the TokenStore, if it is there

	// rejections counts tokens rejected in a row soon after they arrived;
	// tok may replace a rejected one only from replaceAfter on.
	rejections   int
	replaceAfter time.Time
}

// state says what e's token is good for at now. Times are compared on both
// the monotonic and the wall clock (see bothBefore), so a machine that slept
// past the expiry does not serve the expired token.
func (e *entry) state(now time.Time) tokenState {
	switch {
	case e == nil || e.tok == nil:
		return missing
	case !e.refreshAt.IsZero() && bothBefore(now, e.refreshAt):
		return fresh // refreshAt is never after the expiry
	case e.tok.ExpiresAt.IsZero():
		return fresh
	case !e.tok.Valid(now):
		return expired
	}
	return refreshDue
}

// newEntry caches tok, which arrived at now, and computes when to refresh
// it: once less than min(expireEarly, lifetime/2) is left, widened at random
// by up to a tenth. The lifetime is measured on the local clock from now to
// ExpiresAt, so a skewed clock cannot make a token look expired.
func newEntry(tok *Token, now time.Time, expireEarly time.Duration) (*entry, error) {
	e := &entry{tok: tok, hosts: trustedHosts(tok), obtained: now, headers: headerValues(tok)}
	if tok.ExpiresAt.IsZero() {
		return e, nil
	}
	lifetime := tok.ExpiresAt.Sub(now)
	if lifetime <= 0 || !bothBefore(now, tok.ExpiresAt) {
		return nil, &ExpiredTokenError{ExpiresAt: tok.ExpiresAt, Reason: expiredOnArrivalReason}
	}
	if tok.exchanged { // renewing it would return the same expiry
		e.refreshAt = tok.ExpiresAt
		return e, nil
	}
	window := min(expireEarly, lifetime/2)
	if window >= 10 {
		window += rand.N(window / 10)
	}
	e.refreshAt = now.Add(lifetime - window)
	return e, nil
}

// setHeaders puts e's token on a request's headers, sharing the value
// slices among all requests.
func (e *entry) setHeaders(h http.Header) {
	for _, v := range e.headers {
		h[v.key] = v.value[:1:1]
	}
}

// headerValue is a header with its value as a header map holds it. The
// value slice is shared by every request: setHeaders cuts it to capacity 1,
// so an append by a base transport copies it.
type headerValue struct {
	key   string
	value []string
}

// headerValues builds tok's headers once, for setHeaders.
func headerValues(tok *Token) []headerValue {
	fields := tok.kindOf().headers(tok)
	values := make([]headerValue, len(fields))
	for i, f := range fields {
		values[i] = headerValue{f.key, []string{f.value}}
	}
	return values
}

// tokenID is e's token's ID, "" when there is none.
func (e *entry) tokenID() string {
	if e == nil || e.tok == nil {
		return ""
	}
	return e.tok.ID
}

// withRefreshAt returns a copy of e to be refreshed at t (capped at the
// expiry) after failures failed refreshes.
func (e *entry) withRefreshAt(t time.Time, failures int) *entry {
	c := *e
	c.failures = failures
	if c.refreshAt = t; !e.tok.ExpiresAt.IsZero() && t.After(e.tok.ExpiresAt) {
		c.refreshAt = e.tok.ExpiresAt
	}
	return &c
}

// refreshBackoff is the wait after n failed refreshes: about 1 s, 2 s, 4 s,
// ... 1 min, each taken at random from its upper half so that clients that
// failed together do not retry together.
func refreshBackoff(n int) time.Duration {
	return jitter(min(time.Second<<min(n, 10), maxRefreshRetryDelay))
}

// jitter returns a random duration in [d/2, d).
func jitter(d time.Duration) time.Duration {
	if d < 2 {
		return d
	}
	return d/2 + rand.N(d/2)
}

// rejectedAt answers a server rejecting e's token at now: the entry to
// store instead (the token gone, the rejection streak kept), or false when
// the token was rejected soon after it replaced another rejected one and
// its back-off has not passed.
func (e *entry) rejectedAt(now time.Time) (*entry, bool) {
	grace := youngRejection
	if !e.replaceAfter.IsZero() {
		grace += e.replaceAfter.Sub(e.obtained) // the back-off this token was given
	}
	young := now.Sub(e.obtained) < grace
	if !young {
		return &entry{}, true // a genuine revocation of a token that worked
	}
	if e.rejections > 0 && now.Before(e.replaceAfter) {
		return nil, false
	}
	return &entry{rejections: e.rejections + 1}, true
}

// inherit carries a rejection streak from prev, the entry e replaces, and
// sets e's back-off from it.
func (e *entry) inherit(prev *entry, now time.Time) {
	if prev == nil || prev.tok != nil || prev.rejections == 0 {
		return
	}
	e.rejections = prev.rejections
	d := min(rejectBackoffBase<<min(e.rejections-1, 20), maxRejectBackoff)
	e.replaceAfter = now.Add(jitter(d))
}

// flight is one authentication; done is closed once entry or err is set.
type flight struct {
	done  chan struct{}
	entry *entry
	err   error
}
