package ksauth

// Which hosts a token (or a credential) may go to: the one home of host
// keys, trust sets, scheme checks and the same-host redirect rule
// (invariant 2).

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync/atomic"
)

// defaultPort is the port a URL without one uses: 443 for https, 80 for http.
func defaultPort(scheme string) string {
	switch {
	case strings.EqualFold(scheme, "https"):
		return "443"
	case strings.EqualFold(scheme, "http"):
		return "80"
	}
	return ""
}

// hostKey returns a URL's host as lower-case host:port with the scheme's
// default port filled in: the unit the session trusts with a token.
func hostKey(u *url.URL) string {
	var buf [128]byte
	return string(appendHostKey(buf[:0], u))
}

// appendHostKey appends hostKey(u) to dst. It allocates nothing for ASCII
// hosts, so the trust check on every request is free.
func appendHostKey(dst []byte, u *url.URL) []byte {
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = defaultPort(u.Scheme)
	}
	if !isASCII(host) {
		host = strings.ToLower(host)
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

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// hostSet is the set of host keys a token may go to by itself: the host it
// was obtained from and every host in its catalog.
type hostSet map[string]bool

// tokenHosts are the hosts a token may go to on its own account: its auth
// host and its catalog's hosts. It remembers the last URL host (as
// written, with its scheme) found among them, so that the usual run of
// requests to one endpoint skips computing the host key. It is shared by
// the copies of one session entry.
type tokenHosts struct {
	keys hostSet
	last atomic.Pointer[rawHost]
}

// rawHost is a URL's scheme and host as written.
type rawHost struct{ scheme, host string }

// has reports whether u's host is one of the token's own.
func (t *tokenHosts) has(u *url.URL) bool {
	if last := t.last.Load(); last != nil && last.host == u.Host && last.scheme == u.Scheme {
		return true
	}
	var buf [128]byte
	if !t.keys[string(appendHostKey(buf[:0], u))] {
		return false
	}
	t.last.Store(&rawHost{scheme: u.Scheme, host: u.Host})
	return true
}

// trustedHosts returns tok's host set.
func trustedHosts(tok *Token) *tokenHosts {
	hosts := make(hostSet)
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
	return &tokenHosts{keys: hosts}
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

// allowedHosts is a parsed Transport.AllowedHosts: host key -> the scheme
// the entry is limited to ("": any).
type allowedHosts map[string]string

// parseAllowedHosts parses Transport.AllowedHosts entries.
func parseAllowedHosts(entries []string) (allowedHosts, error) {
	m := make(allowedHosts, 2*len(entries))
	for _, h := range entries {
		if err := m.add(h); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// add adds one entry. A bare host becomes two keys, each limited to the
// scheme whose default port it names.
func (m allowedHosts) add(entry string) error {
	s := strings.TrimSpace(entry)
	bad := func(why string) error { return invalid("Transport.AllowedHosts", "%q: %s", redactURL(entry), why) }
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		switch {
		case err != nil || u.Hostname() == "":
			return bad("not a URL with a host")
		case u.Port() == "" && defaultPort(u.Scheme) == "":
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
	for _, scheme := range []string{"https", "http"} {
		if key := net.JoinHostPort(host, defaultPort(scheme)); !m.has(key) {
			m[key] = scheme
		}
	}
	return nil
}

func (m allowedHosts) has(key string) bool { _, ok := m[key]; return ok }

// trusts reports whether u's host may receive a token whose own hosts are
// hosts, given the allowed extras.
func (m allowedHosts) trusts(hosts *tokenHosts, u *url.URL) bool {
	if hosts.has(u) {
		return true
	}
	if len(m) == 0 {
		return false
	}
	var buf [128]byte
	scheme, ok := m[string(appendHostKey(buf[:0], u))]
	return ok && (scheme == "" || strings.EqualFold(scheme, u.Scheme))
}

// isLoopback reports whether host (no port) is "localhost" or a loopback
// IP. Only the exact name counts: "localhost.example.com" is another host.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkScheme refuses anything but https, and http to loopback unless
// allowInsecure.
func checkScheme(u *url.URL, allowInsecure bool) error {
	if u.Scheme == "https" { // what url.Parse leaves of almost every URL: no case folding
		return nil
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if allowInsecure || isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%w: %s (set AllowInsecureHTTP to allow it)", ErrInsecureTransport, safeURL(u))
	}
	return invalid("URL", "scheme %q is not http or https", u.Scheme)
}

// sameHost reports whether a and b have the same scheme and host key.
func sameHost(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && hostKey(a) == hostKey(b)
}

// sameHostClient returns a copy of c (or the default client) that refuses
// redirects to another host or scheme, so neither a request body full of
// credentials nor an X-Auth-Token header ever follows one. The refusal
// names the host the server redirected to, redacted of secrets (the
// request's): a hostile server may write one there.
func sameHostClient(c *http.Client, secrets ...string) *http.Client {
	if c == nil {
		c = defaultHTTPClient
	}
	copied := *c
	userCheck := c.CheckRedirect
	copied.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if hostKey(req.URL) != hostKey(via[0].URL) {
			return fmt.Errorf("%w: redirect to %s", ErrUntrustedHost, serverHost(req.URL, secrets))
		}
		if !strings.EqualFold(req.URL.Scheme, via[0].URL.Scheme) { // https → http on the same host:port
			return fmt.Errorf("%w: redirect from %s to %s", ErrUntrustedHost, via[0].URL.Scheme, req.URL.Scheme)
		}
		if userCheck != nil {
			return userCheck(req, via)
		}
		if len(via) >= 10 {
			return fmt.Errorf("stopped after %d redirects", len(via))
		}
		return nil
	}
	return &copied
}

// serverHost prints the host of a URL a server chose, for errors and logs:
// its host key (lower case, port filled in), redacted of secrets (as they
// are and in lower case) and token shapes, and cut short.
func serverHost(u *url.URL, secrets []string) string {
	key := hostKey(u)
	for _, s := range secrets {
		key = redact(key, s, strings.ToLower(s))
	}
	return truncate(key, 100)
}

// safeURL prints a URL for errors and logs: no user info, no query, no fragment.
func safeURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User, c.RawQuery, c.ForceQuery, c.Fragment, c.RawFragment = nil, "", false, "", ""
	return c.String()
}

// redactURL is safeURL for a URL as the user wrote it, parsable or not:
// whatever sits between "://" and the last "@" of the authority is user
// info, and goes.
func redactURL(raw string) string {
	if u, err := url.Parse(strings.TrimSpace(raw)); err == nil && u.Host != "" {
		return safeURL(u)
	}
	i := strings.Index(raw, "://")
	if i < 0 {
		return redact(raw)
	}
	rest := raw[i+3:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	if at := strings.LastIndexByte(rest[:end], '@'); at >= 0 {
		rest = rest[at+1:]
		end -= at + 1
	}
	return redact(raw[:i+3] + rest[:end])
}

// parseServiceURL parses the base URL of a service ksauth logs in to,
// named field in errors: http or https, a host, no user info; the path
// cleaned as url.JoinPath will clean it, query and fragment dropped.
func parseServiceURL(field, raw, example string) (*url.URL, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, invalid(field, "empty")
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		// url.Error repeats the whole URL, user info (a password) included:
		// keep only the reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, invalid(field, "not a URL (%v); it should look like %s", redact(err.Error()), example)
	}
	if u.Host == "" || u.Scheme == "" {
		return nil, invalid(field, "%q needs a scheme and a host, e.g. %s", safeURL(u), example)
	}
	if u.User != nil {
		return nil, invalid(field, "must not carry user info")
	}
	if u.Scheme != "https" && u.Scheme != "http" { // url.Parse lower-cases it
		return nil, invalid(field, "scheme %q is not http or https", u.Scheme)
	}
	if u.Path != "" {
		u.Path = strings.TrimRight(path.Clean(u.Path), "/")
	}
	u.RawPath = ""
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}
