package ksauth

import (
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"sync"
)

// Transport is an [http.RoundTripper] that puts its Session's token on each
// request and retries what the server could not serve yet (429, 503, ...;
// see [RetryPolicy]). It sends the token only to hosts it trusts and never
// over plain http to another machine. The caller's request is never
// modified and its body is always closed. A Transport is safe for
// concurrent use; do not change its fields after the first request.
//
// When a server rejects the token (a 401), the Transport drops it from the
// session ([Session.Invalidate]), gets the renewed one (one authentication
// however many requests failed) and resends the request once, if its body
// can be sent again: nil, [http.NoBody], or a GetBody func (set by
// [http.NewRequest] for in-memory bodies). Otherwise, and when the resent
// request gets a 401 too, the 401 is returned. A request that already
// carries an X-Auth-Token of the caller's is sent as it is, 401 included.
//
// Trusted hosts are the host the token was obtained from, the hosts in the
// current token's catalog, and AllowedHosts. A host is host:port with the
// scheme's default port filled in, compared without case: another port on
// the same machine is another host. A request to any other host fails with
// [ErrUntrustedHost]; a redirect to one (followed by http.Client) is sent
// without the token.
type Transport struct {
	// Session provides the token. Required.
	Session *Session
	// Base sends the requests. nil: http.DefaultTransport.
	Base http.RoundTripper
	// Retry says which failures are retried and how long to wait. nil: the
	// defaults (see [RetryPolicy]); &RetryPolicy{MaxAttempts: 1} turns
	// retries off.
	Retry *RetryPolicy
	// AllowedHosts are more hosts trusted with the token. Each entry is a
	// URL ("https://h:8443/path": its scheme and host count), "host:port",
	// or a bare host ("h", "[::1]"), which means that host on the default
	// port of the request's scheme: 443 for https, 80 for http. nil: only
	// the auth host and the catalog's hosts.
	AllowedHosts []string
	// AllowInsecureHTTP permits plain http:// to hosts other than loopback;
	// the token then crosses the network in clear text. false: such
	// requests fail with [ErrInsecureTransport].
	AllowInsecureHTTP bool
	// Logger receives debug records of retries and of redirects sent
	// without the token (never a secret). nil: the Session's Logger.
	Logger *slog.Logger

	allowedOnce sync.Once
	allowed     allowedHosts
	allowedErr  error
}

// RoundTrip sends req with the session's token; see [Transport].
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	e, trusted, err := t.prepare(req)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	r, callerToken := cloneRequest(req)
	switch {
	case !trusted: // a redirect hop to another host, named by the server: it may have written the token there
		e.tok.dropHeaders(r.Header)
		debug(req.Context(), t.logger(), "ksauth: redirected to an untrusted host; sending the request without the token",
			slog.String("host", serverHost(req.URL, []string{e.tok.ID})))
		return t.send(r, e.tok.ID)
	case callerToken:
		return t.send(r, r.Header.Get(authTokenHeader), e.tok.ID)
	}
	e.setHeaders(r.Header)
	resp, err := t.send(r, e.tok.ID)
	if err != nil || !e.tok.rejected(resp) {
		return resp, err
	}
	return t.reauth(req, e.tok, resp)
}

// prepare checks req and gets the token. trusted is false only for a
// redirect hop to a host that may not see the token.
//
// A first hop is checked for its scheme before anything else: plain http to
// another machine fails even when the token cannot be had. A redirect hop
// (req.Response set, followed by http.Client) is sent either way: with the
// token to a trusted host, whose scheme is then checked, or without it.
func (t *Transport) prepare(req *http.Request) (e *entry, trusted bool, err error) {
	if t.Session == nil {
		return nil, false, invalid("Transport.Session", "nil")
	}
	redirect := req.Response != nil
	if !redirect {
		if err := checkScheme(req.URL, t.AllowInsecureHTTP); err != nil {
			return nil, false, err
		}
	}
	if e, err = t.Session.current(req.Context()); err != nil {
		return nil, false, err
	}
	switch trusted, err = t.trusts(e, req.URL); {
	case err != nil:
		return nil, false, err
	case trusted && redirect: // the URL is the server's choice: it may hold the token
		return e, true, scrubbed(checkScheme(req.URL, t.AllowInsecureHTTP), e.tok.ID)
	case trusted || redirect:
		return e, trusted, nil
	}
	// The URL may be a server's (a link in a listing): it may hold the token.
	return nil, false, fmt.Errorf("%w: %s (not the auth host, not in the catalog, not in Transport.AllowedHosts)",
		ErrUntrustedHost, serverHost(req.URL, []string{e.tok.ID}))
}

// reauth answers a rejection of sent: it invalidates sent and, if the body
// can be sent again, resends req once with the renewed token. Otherwise, if
// the session keeps sent for now (invariant 11), or if the renewed token may
// not go to req's host, the rejecting response is returned.
func (t *Transport) reauth(req *http.Request, sent *Token, resp *http.Response) (*http.Response, error) {
	t.Session.invalidate(req.Context(), sent)
	if !replayable(req) {
		return resp, nil
	}
	e, err := t.Session.current(req.Context())
	if err != nil {
		drain(resp.Body)
		return nil, &ReauthError{Method: req.Method, URL: serverURL(req.URL, []string{sent.ID}), StatusCode: resp.StatusCode, Err: err}
	}
	if trusted, _ := t.trusts(e, req.URL); !trusted || e.tok == sent {
		return resp, nil
	}
	drain(resp.Body)
	r, err := cloneWithBody(req)
	if err != nil {
		return nil, err
	}
	e.setHeaders(r.Header)
	return t.send(r, e.tok.ID, sent.ID)
}

// send sends r through Base, retrying as the policy says. A failure after
// retries says how many attempts were made. secrets are the tokens r
// carries: a failure is redacted of them (net/http's errors quote what a
// malformed response said, a server's echo of the token, say).
func (t *Transport) send(r *http.Request, secrets ...string) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, attempts, err := t.Retry.do(r, base.RoundTrip, t.logger(), secrets...)
	if err != nil {
		err = scrubbed(err, secrets...)
		if attempts > 1 {
			err = &RequestSendError{Method: r.Method, URL: serverURL(r.URL, secrets), Attempts: attempts, Err: err}
		}
	}
	return resp, err
}

// logger is Logger, or else the session's.
func (t *Transport) logger() *slog.Logger {
	if t.Logger != nil {
		return t.Logger
	}
	return t.Session.opts.logger()
}

// cloneRequest makes a shallow copy of req with its own header map, and
// reports whether req carries a token of the caller's (a non-empty
// X-Auth-Token). The copy's value slices are the caller's, cut to their
// length: a base that sets or appends a header (Set, Add, Del, append)
// changes only the copy. Writing into a value slice in place would reach
// the caller's request, as it would through any [http.Request.WithContext]
// copy; the RoundTripper contract forbids it.
func cloneRequest(req *http.Request) (c *http.Request, callerToken bool) {
	c = new(http.Request)
	*c = *req
	if req.Header == nil {
		c.Header = make(http.Header, 1)
		return c, false
	}
	c.Header = maps.Clone(req.Header) // copies a small map's slots at once
	for k, v := range c.Header {
		if k == authTokenHeader {
			callerToken = len(v) > 0 && v[0] != ""
		}
		if cap(v) != len(v) {
			c.Header[k] = v[:len(v):len(v)]
		}
	}
	return c, callerToken
}

// trusts reports whether u's host may receive e's token.
func (t *Transport) trusts(e *entry, u *url.URL) (bool, error) {
	t.allowedOnce.Do(func() { t.allowed, t.allowedErr = parseAllowedHosts(t.AllowedHosts) })
	if t.allowedErr != nil {
		return false, t.allowedErr
	}
	return t.allowed.trusts(e.hosts, u), nil
}
