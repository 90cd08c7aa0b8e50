package ksauth

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
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
	// without the token (never a secret). nil: silent.
	Logger *slog.Logger

	allowedOnce sync.Once
	allowed     map[string]string // host key -> scheme it is limited to ("": any)
	allowedErr  error
}

// RoundTrip sends req with the session's token; see [Transport].
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	e, trusted, err := t.prepare(req)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	r := cloneRequest(req)
	switch {
	case !trusted: // a redirect hop to another host
		e.tok.dropHeaders(r.Header)
		debug(req.Context(), t.Logger, "ksauth: redirected to an untrusted host; sending the request without the token",
			slog.String("host", hostKey(req.URL)))
		return t.send(r)
	case e.tok.HasHeaders(req.Header): // the caller brought a token
		return t.send(r)
	}
	e.tok.SetHeaders(r.Header)
	resp, err := t.send(r)
	if err != nil || !e.tok.Rejected(resp) {
		return resp, err
	}
	return t.reauth(req, e.tok, resp)
}

// prepare checks req and gets the token. trusted is false only for a
// redirect hop to a host that may not see the token.
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
	case trusted && redirect:
		return e, true, checkScheme(req.URL, t.AllowInsecureHTTP)
	case trusted || redirect:
		return e, trusted, nil
	}
	return nil, false, fmt.Errorf("%w: %s (not the auth host, not in the catalog, not in Transport.AllowedHosts)",
		ErrUntrustedHost, hostKey(req.URL))
}

// reauth answers a 401 to sent: it invalidates sent and, if the body can be
// sent again, resends req once with the renewed token. Otherwise, or if the
// renewed token may not go to req's host, the 401 is returned.
func (t *Transport) reauth(req *http.Request, sent *Token, resp *http.Response) (*http.Response, error) {
	t.Session.Invalidate(sent)
	if !replayable(req) {
		return resp, nil
	}
	e, err := t.Session.current(req.Context())
	if err != nil {
		drain(resp.Body)
		return nil, fmt.Errorf("ksauth: %s rejected the token and getting a new one failed: %w", hostKey(req.URL), err)
	}
	if trusted, _ := t.trusts(e, req.URL); !trusted || e.tok == sent {
		return resp, nil
	}
	drain(resp.Body)
	r, err := cloneWithBody(req)
	if err != nil {
		return nil, err
	}
	e.tok.SetHeaders(r.Header)
	return t.send(r)
}

// send sends r through Base, retrying as the policy says.
func (t *Transport) send(r *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return t.Retry.do(r, base.RoundTrip, t.Logger)
}

// cloneRequest makes a shallow copy of req with its own header map, with
// room for the token's headers. Header values are copied too (a base that
// edits them in place does not reach the caller's request); a typical
// request's values share one allocation with the copy.
func cloneRequest(req *http.Request) *http.Request {
	c := new(requestCopy)
	c.req = *req
	c.req.Header = make(http.Header, len(req.Header)+2)
	values := c.values[:0]
	for k, v := range req.Header {
		if v == nil { // kept as nil: http.Transport treats a nil User-Agent specially
			c.req.Header[k] = nil
			continue
		}
		start := len(values)
		values = append(values, v...)
		c.req.Header[k] = values[start:len(values):len(values)]
	}
	return &c.req
}

// requestCopy is a request and room for its header values.
type requestCopy struct {
	req    http.Request
	values [6]string
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// trusts reports whether u's host may receive e's token.
func (t *Transport) trusts(e *entry, u *url.URL) (bool, error) {
	allowed, err := t.allowedHosts()
	if err != nil {
		return false, err
	}
	var buf [128]byte
	key := appendHostKey(buf[:0], u)
	if e.hosts[string(key)] {
		return true, nil
	}
	scheme, ok := allowed[string(key)]
	return ok && (scheme == "" || strings.EqualFold(scheme, u.Scheme)), nil
}

// allowedHosts parses AllowedHosts once.
func (t *Transport) allowedHosts() (map[string]string, error) {
	t.allowedOnce.Do(func() {
		t.allowed = make(map[string]string, 2*len(t.AllowedHosts))
		for _, h := range t.AllowedHosts {
			if err := addAllowedHost(t.allowed, h); err != nil {
				t.allowedErr = err
				return
			}
		}
	})
	return t.allowed, t.allowedErr
}

// addAllowedHost adds one AllowedHosts entry to m. A bare host becomes two
// keys, each limited to the scheme whose default port it names.
func addAllowedHost(m map[string]string, entry string) error {
	s := strings.TrimSpace(entry)
	bad := func(why string) error { return invalid("Transport.AllowedHosts", "%q: %s", entry, why) }
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		switch {
		case err != nil || u.Hostname() == "":
			return bad("not a URL with a host")
		case u.Port() == "" && u.Scheme != "https" && u.Scheme != "http":
			return bad("no port, and the scheme is not http or https")
		}
		m[hostKey(u)] = ""
		return nil
	}
	if host, port, err := net.SplitHostPort(s); err == nil {
		if host == "" || port == "" || strings.ContainsAny(host, "/@ ") {
			return bad("not host:port")
		}
		m[net.JoinHostPort(strings.ToLower(host), port)] = ""
		return nil
	}
	host := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if host == "" || strings.ContainsAny(host, "/@[] ") {
		return bad("not a host, host:port or URL")
	}
	addIfAbsent(m, net.JoinHostPort(host, "443"), "https")
	addIfAbsent(m, net.JoinHostPort(host, "80"), "http")
	return nil
}

// addIfAbsent keeps an entry for any scheme over one limited to a scheme.
func addIfAbsent(m map[string]string, key, scheme string) {
	if _, ok := m[key]; !ok {
		m[key] = scheme
	}
}

// trustedHosts returns the host keys tok may go to by itself: the host it
// was obtained from and every host in its catalog.
func trustedHosts(tok *Token) map[string]bool {
	hosts := make(map[string]bool)
	if tok.authHost != "" {
		hosts[tok.authHost] = true
	}
	for _, svc := range tok.Catalog {
		for _, ep := range svc.Endpoints {
			if u, err := url.Parse(schemeAndHost(ep.URL)); err == nil && u.Hostname() != "" {
				hosts[hostKey(u)] = true
			}
		}
	}
	return hosts
}

// schemeAndHost cuts a URL after its host, so that a path url.Parse
// rejects (Keystone's "/v3/%(project_id)s") does not hide the host.
func schemeAndHost(raw string) string {
	i := strings.Index(raw, "://")
	if i < 0 {
		return raw
	}
	if j := strings.IndexAny(raw[i+3:], "/?#"); j >= 0 {
		return raw[:i+3+j]
	}
	return raw
}

// appendHostKey appends hostKey(u) to dst without allocating (for ASCII
// hosts), so the trust check on every request is free.
func appendHostKey(dst []byte, u *url.URL) []byte {
	host, port := u.Hostname(), u.Port()
	for i := 0; i < len(host); i++ {
		if host[i] >= 0x80 {
			return append(dst, hostKey(u)...)
		}
	}
	if port == "" {
		switch {
		case strings.EqualFold(u.Scheme, "https"):
			port = "443"
		case strings.EqualFold(u.Scheme, "http"):
			port = "80"
		}
	}
	ipv6 := strings.IndexByte(host, ':') >= 0
	if ipv6 {
		dst = append(dst, '[')
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	if ipv6 {
		dst = append(dst, ']')
	}
	return append(append(dst, ':'), port...)
}
