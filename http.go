package ksauth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxBodySize bounds every response body ksauth reads (invariant 9).
const maxBodySize = 1 << 20

// defaultHTTPClient is used when no HTTPClient is given: TLS verification
// on, and timeouts on connecting, the TLS handshake and the response headers
// so a stalled server cannot hang a caller that passed no deadline.
var defaultHTTPClient = &http.Client{Transport: newDefaultTransport()}

func newDefaultTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = 60 * time.Second
	t.ExpectContinueTimeout = time.Second
	return t
}

// exchange is one finished HTTP exchange: the response head and its body,
// read in full (bounded) and closed.
type exchange struct {
	method string
	url    *url.URL
	status int
	header http.Header
	body   []byte
	sent   time.Time // local time the (last) request was sent
}

// caller is what ksauth's own requests need: a client, a retry policy and a
// logger.
type caller struct {
	client *http.Client
	retry  *RetryPolicy
	log    *slog.Logger
}

// call sends one request (retrying per policy) and reads the whole response.
// Redirects to another host are refused, so neither a request body full of
// credentials nor an X-Auth-Token header ever follows one.
func (c caller) call(ctx context.Context, method string, u *url.URL, header http.Header, body []byte) (*exchange, error) {
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), reader)
	if err != nil {
		return nil, &RequestError{Method: method, URL: safeURL(u), Err: err}
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	client := sameHostClient(c.client)
	ex := &exchange{method: method, url: u}
	resp, err := c.retry.do(req, func(r *http.Request) (*http.Response, error) {
		ex.sent = time.Now()
		return client.Do(r)
	}, c.log)
	if err != nil {
		return nil, &RequestError{Method: method, URL: safeURL(u), Err: err}
	}
	defer resp.Body.Close()
	ex.status, ex.header = resp.StatusCode, resp.Header
	if ex.body, err = readLimited(resp.Body); err != nil {
		return nil, ex.responseError("reading the body", err)
	}
	return ex, nil
}

// readLimited reads a body of at most maxBodySize bytes.
func readLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxBodySize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxBodySize {
		return nil, fmt.Errorf("body larger than %d bytes", maxBodySize)
	}
	return b, nil
}

// decode unmarshals the JSON body into v; any failure is a *ResponseError.
func (ex *exchange) decode(v any) error {
	if err := json.Unmarshal(ex.body, v); err != nil {
		return ex.responseError("malformed JSON body", err)
	}
	return nil
}

func (ex *exchange) responseError(reason string, err error) *ResponseError {
	return &ResponseError{Method: ex.method, URL: safeURL(ex.url), StatusCode: ex.status, Reason: reason, Err: err}
}

// httpError describes an error response, taking the message from Keystone's
// {"error": {...}} body when there is one. secrets are redacted from it.
func (ex *exchange) httpError(secrets ...string) *HTTPError {
	e := &HTTPError{
		Method:     ex.method,
		URL:        safeURL(ex.url),
		StatusCode: ex.status,
		RequestID:  requestID(ex.header),
	}
	if d, ok := retryAfter(ex.header, time.Now()); ok {
		e.RetryAfter = d
	}
	var w wireError
	if json.Unmarshal(ex.body, &w) == nil && w.Error != nil {
		e.Title, e.Message = w.Error.Title, redact(w.Error.Message, secrets...)
	} else if isPlainText(ex.header) {
		e.Message = truncate(redact(firstLine(string(ex.body)), secrets...), 200) // redact first: a cut secret would not match
	}
	return e
}

func requestID(h http.Header) string {
	for _, k := range []string{"X-Openstack-Request-Id", "X-Compute-Request-Id", "X-Request-Id"} {
		if v := h.Get(k); v != "" {
			return v
		}
	}
	return ""
}

func isPlainText(h http.Header) bool {
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	return mt == "text/plain"
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return s[:i]
	}
	return s
}
