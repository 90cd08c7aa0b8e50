package ksauth

import (
	"context"
	"errors"
	"io"
	"log/slog"
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

// do sends req with send, retrying as the policy says. It never mutates req:
// each retry sends a clone with a fresh body from req.GetBody. Responses that
// are not returned are drained (bounded) and closed. When attempts run out
// the last response is returned, and so is a response whose wait would
// outlast ctx's deadline; when ctx ends during a wait, ctx's error.
func (p *RetryPolicy) do(req *http.Request, send func(*http.Request) (*http.Response, error), log *slog.Logger) (*http.Response, error) {
	ctx := req.Context()
	attempt := req
	for n := 1; ; n++ {
		resp, err := send(attempt)
		if n >= p.maxAttempts() || !replayable(req) {
			return resp, err
		}
		wait, retry := p.decide(req.Method, n, resp, err)
		if !retry || pastDeadline(ctx, wait) {
			return resp, err
		}
		debug(ctx, log, "ksauth: retrying", slog.String("method", req.Method), slog.String("url", safeURL(req.URL)),
			slog.Int("status", statusOf(resp)), slog.Int("attempt", n), slog.Duration("wait", wait))
		if resp != nil {
			drain(resp.Body)
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
		if attempt, err = cloneWithBody(req); err != nil {
			return nil, err
		}
	}
}

// decide says whether to retry after attempt n ended with resp or err, and
// how long to wait first.
func (p *RetryPolicy) decide(method string, n int, resp *http.Response, err error) (time.Duration, bool) {
	if err != nil {
		if isContextErr(err) || errors.Is(err, ErrUntrustedHost) { // a refused redirect is refused again
			return 0, false
		}
		return p.backoff(n), idempotent(method) || neverConnected(err)
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		if !idempotent(method) {
			return 0, false
		}
	default:
		return 0, false
	}
	wait, ok := retryAfter(resp.Header, time.Now())
	if !ok {
		return p.backoff(n), true
	}
	return wait, wait <= p.maxRetryAfter()
}

// retryAfter reads Retry-After (delta-seconds or HTTP-date), falling back to
// X-Retry-After (seconds).
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs >= 0 {
			return secondsDuration(secs), true
		}
		if at, err := http.ParseTime(v); err == nil {
			return max(at.Sub(now), 0), true
		}
	}
	if v := strings.TrimSpace(h.Get("X-Retry-After")); v != "" {
		if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs >= 0 {
			return secondsDuration(secs), true
		}
	}
	return 0, false
}

func secondsDuration(secs int64) time.Duration {
	if secs > int64(time.Duration(1<<62)/time.Second) {
		return time.Duration(1 << 62)
	}
	return time.Duration(secs) * time.Second
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

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// replayable reports whether req's body can be sent again.
func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// cloneWithBody copies req with a fresh body for another attempt.
func cloneWithBody(req *http.Request) (*http.Request, error) {
	c := req.Clone(req.Context())
	if req.GetBody != nil && req.Body != nil && req.Body != http.NoBody {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		c.Body = body
	}
	return c, nil
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

// drainLimit bounds how much of a discarded body is read so the connection
// can be reused.
const drainLimit = 64 << 10

func drain(body io.ReadCloser) {
	if body == nil {
		return
	}
	_, _ = io.CopyN(io.Discard, body, drainLimit)
	_ = body.Close()
}

func statusOf(resp *http.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}
