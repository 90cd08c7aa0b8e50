package ksauth

// The HTTP client a configuration asks for: its CA, client certificate,
// verification, proxy and timeout, on top of ksauth's default timeouts.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// httpClientOf builds the one client a configuration's Keystone and
// Session share.
func httpClientOf(s Settings, env map[string]string, log *slog.Logger) (*http.Client, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.CACert != "" {
		pem, err := pemOrFile(s.CACert, "cacert")
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, &ConfigError{Field: "cacert", Reason: "holds no PEM certificate"}
		}
	}
	switch {
	case (s.Cert == "") != (s.Key == ""):
		return nil, &ConfigError{Field: "cert/key", Reason: "a client certificate needs both cert and key"}
	case s.Cert != "":
		cert, err := clientCertificate(s.Cert, s.Key)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if s.Insecure != nil && *s.Insecure {
		cfg.InsecureSkipVerify = true
		logAt(context.Background(), log, slog.LevelWarn, "ksauth: TLS verification is off (verify: false / insecure): "+
			"any server can pose as Keystone and receive the credentials", slog.String("auth_url", redactURL(s.AuthURL)))
	}
	client := NewHTTPClient(cfg)
	client.Transport.(*http.Transport).Proxy = proxyFromEnv(env)
	client.Timeout = s.APITimeout
	return client, nil
}

// NewHTTPClient returns a client with ksauth's default timeouts (10 s to
// connect, 10 s for the TLS handshake, 60 s for the response headers) and
// tlsConfig (nil: Go's defaults), so that a private CA or a client
// certificate does not cost those timeouts. Proxies come from the process
// environment (HTTPS_PROXY, NO_PROXY).
func NewHTTPClient(tlsConfig *tls.Config) *http.Client {
	t := newDefaultTransport()
	if tlsConfig != nil {
		t.TLSClientConfig = tlsConfig.Clone()
	}
	return &http.Client{Transport: t}
}

// pemOrFile returns PEM text given inline, or the contents of the file it
// names.
func pemOrFile(v, field string) ([]byte, error) {
	if strings.Contains(v, "-----BEGIN") {
		return []byte(v), nil
	}
	b, err := readConfigBytes(v)
	switch {
	case errors.Is(err, errFileTooLarge), errors.Is(err, errNotAFile):
		return nil, &ConfigError{Field: field, Reason: fmt.Sprintf("%s: %v", v, err), Err: err}
	case err != nil:
		return nil, &ConfigError{Field: field, Reason: fmt.Sprintf("cannot read %s", v), Err: errors.Unwrap(err)}
	}
	return b, nil
}

// clientCertificate loads the client certificate and key. Errors never
// quote the key.
func clientCertificate(cert, key string) (tls.Certificate, error) {
	certPEM, err := pemOrFile(cert, "cert")
	if err != nil {
		return tls.Certificate{}, err
	}
	keyField := "key"
	if strings.Contains(key, "-----BEGIN") {
		keyField = "key (inline)"
	}
	keyPEM, err := pemOrFile(key, keyField)
	if err != nil {
		return tls.Certificate{}, err
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, &ConfigError{Field: "cert/key", Reason: "not a matching PEM certificate and key: " + redact(err.Error(), key)}
	}
	return c, nil
}

// proxyFromEnv is http.ProxyFromEnvironment over env: HTTPS_PROXY for
// https, HTTP_PROXY for http (either case), except for loopback hosts and
// hosts NO_PROXY names (host, .domain, *.domain, host:port, CIDR, *).
func proxyFromEnv(env map[string]string) func(*http.Request) (*url.URL, error) {
	get := func(k string) string {
		if v := env[k]; v != "" {
			return v
		}
		return env[strings.ToLower(k)]
	}
	httpsProxy, httpProxy, noProxy := get("HTTPS_PROXY"), get("HTTP_PROXY"), get("NO_PROXY")
	return func(r *http.Request) (*url.URL, error) {
		p := httpProxy
		if r.URL.Scheme == "https" {
			p = httpsProxy
		}
		if p == "" || !useProxy(r.URL, noProxy) {
			return nil, nil
		}
		u, err := url.Parse(p)
		if err != nil || u.Host == "" {
			u, err = url.Parse("http://" + p)
		}
		if err != nil {
			return nil, errors.New("ksauth: the proxy setting is not a URL")
		}
		return u, nil
	}
}

// useProxy reports whether a request to u goes through the proxy.
func useProxy(u *url.URL, noProxy string) bool {
	host := strings.ToLower(u.Hostname())
	if isLoopback(host) {
		return false
	}
	port := u.Port()
	if port == "" {
		port = defaultPort(u.Scheme)
	}
	for _, p := range strings.Split(noProxy, ",") {
		p = strings.ToLower(strings.TrimSpace(p))
		if h, pp, err := net.SplitHostPort(p); err == nil {
			if pp != port {
				continue
			}
			p = h
		}
		switch {
		case p == "":
		case p == "*":
			return false
		case strings.Contains(p, "/"):
			_, cidr, err := net.ParseCIDR(p)
			if ip := net.ParseIP(host); err == nil && ip != nil && cidr.Contains(ip) {
				return false
			}
		default:
			p = strings.TrimPrefix(strings.TrimPrefix(p, "*"), ".")
			if host == p || strings.HasSuffix(host, "."+p) {
				return false
			}
		}
	}
	return true
}
