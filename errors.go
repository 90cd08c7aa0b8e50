package ksauth

// Error types and sentinels shared across concepts. Errors that belong to
// one concept live beside it: MFARequiredError in auth.go, DiscoveryError in
// discovery.go, EndpointNotFoundError in catalog.go, ExpiredTokenError in
// session_state.go.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Sentinels that [*HTTPError] matches with [errors.Is], by status code.
var (
	ErrBadRequest   = errors.New("ksauth: bad request")  // 400
	ErrUnauthorized = errors.New("ksauth: unauthorized") // 401
	ErrForbidden    = errors.New("ksauth: forbidden")    // 403
	ErrNotFound     = errors.New("ksauth: not found")    // 404
	ErrRateLimited  = errors.New("ksauth: rate limited") // 429
	ErrServer       = errors.New("ksauth: server error") // 5xx
)

// Refusals of the [Transport] (and of [Keystone] for its auth URL).
var (
	// ErrUntrustedHost: the request names a host the session does not trust
	// with its token (see [Transport.AllowedHosts]).
	ErrUntrustedHost = errors.New("ksauth: host not trusted with the token")
	// ErrInsecureTransport: plain http:// to a host other than loopback,
	// without AllowInsecureHTTP.
	ErrInsecureTransport = errors.New("ksauth: refusing to send credentials over plain http")
)

// HTTPError is an HTTP response with an error status from Keystone or from a
// service reached through a [Transport]. It never holds a secret: every
// string taken from the response (title, message, request id) is redacted of
// the request's secrets and of anything shaped like a token or receipt, and
// cut short.
type HTTPError struct {
	Method     string // request method
	URL        string // request URL without query string or user info
	StatusCode int
	Title      string        // Keystone's error.title, if any (redacted)
	Message    string        // Keystone's error.message (redacted), or a short body excerpt
	RequestID  string        // x-openstack-request-id / x-compute-request-id (redacted, at most 80 bytes)
	RetryAfter time.Duration // from Retry-After, when the server sent one
	// Attempts is how many times the request was sent (retries included);
	// 0 or 1: once.
	Attempts int
	// Details are Cleura's error.errors, what was wrong field by field
	// (values redacted, at most maxErrorDetails); nil from Keystone.
	Details []ErrorDetail
	// Hint says what to do about the refusal, when ksauth recognises it
	// (a restricted application credential managing credentials, say);
	// empty otherwise.
	Hint string

	// sentinel overrides the status's sentinel where Keystone's status
	// misleads (see Unwrap).
	sentinel error
}

// ErrorDetail is one entry of Cleura's error list: a field and what was
// wrong with it.
type ErrorDetail struct {
	Key   string
	Value string
}

// Error describes the failure in one line.
func (e *HTTPError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ksauth: %s %s: %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.Hint != "" {
		fmt.Fprintf(&b, "; %s", e.Hint)
	}
	for i, d := range e.Details {
		sep := "; "
		if i == 0 {
			sep = " ("
		}
		fmt.Fprintf(&b, "%s%s: %s", sep, d.Key, d.Value)
		if i == len(e.Details)-1 {
			b.WriteString(")")
		}
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request id %s)", e.RequestID)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (server asks to retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// Unwrap returns the sentinel for the status code (ErrUnauthorized, ...), or
// nil. Two of Keystone's answers match another sentinel than their
// status's: its 401 to an unknown EC2 access key matches ErrNotFound (the
// token was fine), and its 404 to a login with an application credential it
// does not know (deleted, say) matches ErrUnauthorized (the login was
// refused).
func (e *HTTPError) Unwrap() error {
	if e.sentinel != nil {
		return e.sentinel
	}
	return statusSentinel(e.StatusCode)
}

// Temporary reports whether sending the same request again may succeed: the
// statuses [RetryPolicy] retries for this method (429 and 503 for any
// method, 502 and 504 for idempotent ones).
func (e *HTTPError) Temporary() bool { return retryableStatus(e.Method, e.StatusCode) }

func statusSentinel(code int) error {
	switch {
	case code == http.StatusBadRequest:
		return ErrBadRequest
	case code == http.StatusUnauthorized:
		return ErrUnauthorized
	case code == http.StatusForbidden:
		return ErrForbidden
	case code == http.StatusNotFound:
		return ErrNotFound
	case code == http.StatusTooManyRequests:
		return ErrRateLimited
	case code >= 500 && code <= 599:
		return ErrServer
	}
	return nil
}

// ValidationError reports a bad argument or configuration value, found before
// any request is sent. Field names the offending field, e.g. "Password.UserDomain".
type ValidationError struct {
	Field  string
	Reason string
}

// Error names the field and what is wrong with it.
func (e *ValidationError) Error() string {
	return "ksauth: invalid " + e.Field + ": " + e.Reason
}

func invalid(field, format string, args ...any) *ValidationError {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// MalformedResponseError reports a response ksauth could not use: a body
// that is not the JSON expected, is truncated or too large, an unexpected
// status such as 101 Switching Protocols, or a missing header. Values from
// the body are quoted only as short redacted excerpts.
type MalformedResponseError struct {
	Method, URL string
	StatusCode  int
	Reason      string // what was wrong, e.g. "missing X-Subject-Token header"
	Err         error  // underlying decoding error, if any (its text redacted)
}

// Error names the request and what the response got wrong.
func (e *MalformedResponseError) Error() string {
	s := fmt.Sprintf("ksauth: %s %s: unusable %d response: %s", e.Method, e.URL, e.StatusCode, e.Reason)
	if e.Err != nil {
		s += ": " + redact(e.Err.Error())
	}
	return s
}

// Unwrap returns the decoding error, if any.
func (e *MalformedResponseError) Unwrap() error { return e.Err }

// RequestSendError is a failure to get any response: DNS, connect, TLS, a
// reset, a refused redirect or a timeout. Err is the HTTP client's error,
// with URLs in it stripped of user info and query.
type RequestSendError struct {
	Method, URL string
	// Attempts is how many times the request was sent (retries included);
	// 0 or 1: once.
	Attempts int
	Err      error
}

// Error names the request, the attempts made and the last failure.
func (e *RequestSendError) Error() string {
	s := fmt.Sprintf("ksauth: %s %s: %s", e.Method, e.URL, redact(e.Err.Error()))
	if e.Attempts > 1 {
		s += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	return s
}

// Unwrap returns the last attempt's failure.
func (e *RequestSendError) Unwrap() error { return e.Err }

// Temporary reports whether sending the request again may succeed, as
// [RetryPolicy] judges it: any failure but a cancelled or expired context
// or a refused redirect, for idempotent methods, and a failure to connect
// for every method.
func (e *RequestSendError) Temporary() bool { return retryableFailure(e.Method, e.Err) }

// ReauthError reports that a server rejected the token (StatusCode, a 401)
// and that getting a new one failed (Err). It matches the status's sentinel
// ([ErrUnauthorized]) and Err's chain with [errors.Is].
type ReauthError struct {
	Method, URL string // the request the server rejected
	StatusCode  int    // the rejecting response's status
	Err         error  // why re-authentication failed
}

// Error names the rejected request and why re-authentication failed.
func (e *ReauthError) Error() string {
	return fmt.Sprintf("ksauth: %s %s: %d %s: the token was rejected and getting a new one failed: %v",
		e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode), e.Err)
}

// Unwrap returns the status sentinel and Err.
func (e *ReauthError) Unwrap() []error {
	if s := statusSentinel(e.StatusCode); s != nil {
		return []error{s, e.Err}
	}
	return []error{e.Err}
}

// Temporary reports whether the re-authentication failure may go away.
func (e *ReauthError) Temporary() bool {
	var t interface{ Temporary() bool }
	return errors.As(e.Err, &t) && t.Temporary()
}

// isContextErr reports a cancelled or expired context.
func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
