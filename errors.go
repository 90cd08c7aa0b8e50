package ksauth

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

// HTTPError is an HTTP response with an error status from Keystone, Cleura or
// a service reached through a [Transport]. It never holds a secret: the
// server's message is redacted of anything shaped like a token or receipt.
type HTTPError struct {
	Method     string // request method
	URL        string // request URL without query string or user info
	StatusCode int
	Title      string        // Keystone's error.title, if any
	Message    string        // Keystone's error.message (redacted), or a short body excerpt
	RequestID  string        // x-openstack-request-id / x-compute-request-id
	RetryAfter time.Duration // from Retry-After, when the server sent one
}

// Error describes the failure in one line.
func (e *HTTPError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ksauth: %s %s: %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request id %s)", e.RequestID)
	}
	return b.String()
}

// Unwrap returns the sentinel for the status code (ErrUnauthorized, ...), or nil.
func (e *HTTPError) Unwrap() error { return statusSentinel(e.StatusCode) }

// Temporary reports whether the same request may succeed later: 429, 502,
// 503 and 504.
func (e *HTTPError) Temporary() bool {
	switch e.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

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

func (e *ValidationError) Error() string {
	return "ksauth: invalid " + e.Field + ": " + e.Reason
}

func invalid(field, format string, args ...any) *ValidationError {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// ResponseError reports a response ksauth could not use: a body that is not
// the JSON expected, is truncated or too large, or a missing header.
type ResponseError struct {
	Method, URL string
	StatusCode  int
	Reason      string // what was wrong, e.g. "missing X-Subject-Token header"
	Err         error  // underlying decoding error, if any
}

func (e *ResponseError) Error() string {
	s := fmt.Sprintf("ksauth: %s %s: unusable %d response: %s", e.Method, e.URL, e.StatusCode, e.Reason)
	if e.Err != nil {
		s += ": " + redact(e.Err.Error())
	}
	return s
}

func (e *ResponseError) Unwrap() error { return e.Err }

// RequestError is a failure to get any response: DNS, connect, TLS, a reset
// or a timeout. Err is the error from the HTTP client.
type RequestError struct {
	Method, URL string
	Err         error
}

func (e *RequestError) Error() string {
	return fmt.Sprintf("ksauth: %s %s: %s", e.Method, e.URL, redact(e.Err.Error()))
}

func (e *RequestError) Unwrap() error { return e.Err }

// Temporary reports whether the failure may go away on its own: every
// transport failure except a cancelled or expired context.
func (e *RequestError) Temporary() bool {
	return !errors.Is(e.Err, context.Canceled) && !errors.Is(e.Err, context.DeadlineExceeded)
}

// MFARequiredError is Keystone's answer when the user's multi-factor rules
// need more methods than were sent: a 401 with an Openstack-Auth-Receipt.
// Complete the login by setting Keystone.Passcode, or by hand: set
// Keystone.Receipt to Receipt and Credentials to the missing method.
type MFARequiredError struct {
	// Receipt is the Openstack-Auth-Receipt value, a secret for its lifetime.
	// Error and fmt never show it.
	Receipt string
	// RequiredMethods lists the accepted method sets, e.g. [[password totp]].
	RequiredMethods [][]string
	// Methods are the methods the receipt already proves.
	Methods   []string
	User      User
	ExpiresAt time.Time // receipt expiry, server clock
	// Err is set when ksauth tried to continue by itself (Keystone.Passcode)
	// and that failed.
	Err error
}

func (e *MFARequiredError) Error() string {
	sets := make([]string, len(e.RequiredMethods))
	for i, s := range e.RequiredMethods {
		sets[i] = strings.Join(s, "+")
	}
	msg := "ksauth: multi-factor authentication required: one of [" + strings.Join(sets, ", ") + "]"
	if len(e.Methods) > 0 {
		msg += ", have [" + strings.Join(e.Methods, "+") + "]"
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns ErrUnauthorized and, when set, Err.
func (e *MFARequiredError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrUnauthorized, e.Err}
	}
	return []error{ErrUnauthorized}
}

// Format keeps the receipt out of every fmt verb.
func (e *MFARequiredError) Format(f fmt.State, verb rune) {
	fmt.Fprint(f, e.Error())
}

// DiscoveryError reports that version discovery at AuthURL failed and that
// the fallback, AuthURL + "/v3", did not work either.
type DiscoveryError struct {
	AuthURL   string
	Discovery error // why discovery failed
	Err       error // why the request to the fallback failed
}

func (e *DiscoveryError) Error() string {
	return fmt.Sprintf("%v (version discovery at %s failed too: %v)", e.Err, e.AuthURL, e.Discovery)
}

// Unwrap returns both failures.
func (e *DiscoveryError) Unwrap() []error { return []error{e.Err, e.Discovery} }
