package ksauth

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Retry defaults; see "Refresh and retries" in the package documentation.
const (
	DefaultMaxAttempts   = 4
	DefaultMaxRetryAfter = 60 * time.Second
	DefaultBackoffBase   = 500 * time.Millisecond
	DefaultBackoffMax    = 20 * time.Second
)

// RetryPolicy says how often and how long to retry a request the server
// could not serve yet. A nil *RetryPolicy, and every zero field, means the
// documented default; a policy with MaxAttempts 1 turns retries off.
//
// Retried: 429 and 503 for every method (the server did not process the
// request); 502 and 504 for idempotent methods only; failures to get any
// response for idempotent methods, or for any method when the connection
// was never made. A request whose body cannot be replayed (no GetBody) is
// sent once.
type RetryPolicy struct {
	// MaxAttempts counts the first try. Zero: DefaultMaxAttempts.
	MaxAttempts int
	// MaxRetryAfter is the longest Retry-After wait honoured. A server asking
	// for longer gets its response returned at once. Zero: DefaultMaxRetryAfter.
	MaxRetryAfter time.Duration
	// BackoffBase and BackoffMax shape the full-jitter exponential backoff
	// used when the server sends no Retry-After: attempt n waits a random
	// time in [0, min(BackoffMax, BackoffBase·2ⁿ⁻¹)).
	// Zero: DefaultBackoffBase and DefaultBackoffMax.
	BackoffBase time.Duration
	BackoffMax  time.Duration
}

func (p *RetryPolicy) maxAttempts() int {
	if p == nil || p.MaxAttempts <= 0 {
		return DefaultMaxAttempts
	}
	return p.MaxAttempts
}

func (p *RetryPolicy) maxRetryAfter() time.Duration {
	if p == nil || p.MaxRetryAfter <= 0 {
		return DefaultMaxRetryAfter
	}
	return p.MaxRetryAfter
}

// backoff returns the full-jitter wait before attempt n+1 (n ≥ 1).
func (p *RetryPolicy) backoff(n int) time.Duration {
	base, ceiling := DefaultBackoffBase, DefaultBackoffMax
	if p != nil && p.BackoffBase > 0 {
		base = p.BackoffBase
	}
	if p != nil && p.BackoffMax > 0 {
		ceiling = p.BackoffMax
	}
	d := ceiling
	if n < 32 && base<<(n-1) > 0 && base<<(n-1) < ceiling {
		d = base << (n - 1)
	}
	return rand.N(d)
}

// do sends req with send, retrying as the policy says, and reports how many
// attempts it made. It never mutates req: each retry sends a clone with a
// fresh body from req.GetBody. Responses that are not returned are drained
// (bounded) and closed. When attempts run out the last response is
// returned, and so is a response whose wait would outlast ctx's deadline;
// when ctx ends during a wait, ctx's error. secrets are the request's: the
// URL logged (a redirect hop's may be the server's choice) shows none.
func (p *RetryPolicy) do(req *http.Request, send func(*http.Request) (*http.Response, error), log *slog.Logger, secrets ...string) (*http.Response, int, error) {
	ctx := req.Context()
	attempt := req
	for n := 1; ; n++ {
		resp, err := send(attempt)
		if n >= p.maxAttempts() || !replayable(req) {
			return resp, n, err
		}
		wait, retry := p.decide(req.Method, n, resp, err)
		if !retry || pastDeadline(ctx, wait) {
			return resp, n, err
		}
		debug(ctx, log, "ksauth: retrying", slog.String("method", req.Method), slog.String("url", serverURL(req.URL, secrets)),
			slog.Int("status", statusOf(resp)), slog.Int("attempt", n), slog.Duration("wait", wait))
		if resp != nil {
			drain(resp.Body)
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, n, err
		}
		if attempt, err = cloneWithBody(req); err != nil {
			return nil, n, err
		}
	}
}

// decide says whether to retry after attempt n ended with resp or err, and
// how long to wait first.
func (p *RetryPolicy) decide(method string, n int, resp *http.Response, err error) (time.Duration, bool) {
	if err != nil {
		return p.backoff(n), retryableFailure(method, err)
	}
	if !retryableStatus(method, resp.StatusCode) {
		return 0, false
	}
	wait, ok := retryAfter(resp.Header, time.Now())
	if !ok {
		return p.backoff(n), true
	}
	return wait, wait <= p.maxRetryAfter()
}

// retryableStatus reports whether a response with status may be followed by
// a successful retry of method: 429 and 503 for every method (the server did
// not process the request), 502 and 504 for idempotent methods only.
func retryableStatus(method string, status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return true
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		return idempotent(method)
	}
	return false
}

// retryableFailure reports whether a request of method that got no response
// (err) may be sent again: not after a cancelled or expired context or a
// refused redirect (refused again), otherwise for idempotent methods, or for
// any method when the connection was never made.
func retryableFailure(method string, err error) bool {
	if isContextErr(err) || errors.Is(err, ErrUntrustedHost) {
		return false
	}
	return idempotent(method) || neverConnected(err)
}

// retryAfter reads Retry-After (delta-seconds or HTTP-date), falling back to
// X-Retry-After (seconds). A number of seconds too large for a Duration is
// the longest Duration: a wait beyond any MaxRetryAfter, not an absent header.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if d, ok := parseSeconds(v); ok {
			return d, true
		}
		if at, err := http.ParseTime(v); err == nil {
			return max(at.Sub(now), 0), true
		}
	}
	if v := strings.TrimSpace(h.Get("X-Retry-After")); v != "" {
		return parseSeconds(v)
	}
	return 0, false
}

// parseSeconds reads delta-seconds: one or more ASCII digits.
func parseSeconds(v string) (time.Duration, bool) {
	if v == "" || strings.TrimLeft(v, "0123456789") != "" {
		return 0, false
	}
	secs, err := strconv.ParseInt(v, 10, 64)
	if err != nil || secs > math.MaxInt64/int64(time.Second) { // only ErrRange is possible: too many digits
		return math.MaxInt64, true
	}
	return time.Duration(secs) * time.Second, true
}

func idempotent(method string) bool {
	switch method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// neverConnected reports a failure to dial: the request was never written,
// so even a POST may be sent again.
func neverConnected(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// pastDeadline reports whether waiting d would outlast ctx's deadline: the
// caller is better served by the response it has now than by an error later.
func pastDeadline(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return ok && time.Until(deadline) < d
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
