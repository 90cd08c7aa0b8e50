package ksauth

// Request plumbing: ksauth's own requests to Keystone (caller, exchange),
// bounded body reads, replayable bodies, and turning an error response into
// an *HTTPError.

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
	method   string
	url      *url.URL
	status   int
	header   http.Header
	body     []byte
	sent     time.Time // local time the (last) request was sent
	attempts int       // how many times the request was sent
	secrets  []string  // the request's secrets, redacted from whatever the server echoes
	token    *Token    // the token sent as X-Auth-Token, if any
}

// caller is what ksauth's own requests need: a client, a retry policy and a
// logger.
type caller struct {
	client *http.Client
	retry  *RetryPolicy
	log    *slog.Logger
}

// call sends one request (retrying per policy) and reads the whole response.
// Redirects to another host are refused (see sameHostClient). secrets are
// the request's secrets: no error built from the response shows them.
func (c caller) call(ctx context.Context, method string, u *url.URL, header http.Header, body []byte, secrets ...string) (*exchange, error) {
	ex := &exchange{method: method, url: u, secrets: secrets}
	req, err := newJSONRequest(ctx, method, u, header, body)
	if err != nil {
		return nil, ex.sendError(err, 1)
	}
	client := sameHostClient(c.client, secrets...)
	resp, attempts, err := c.retry.do(req, func(r *http.Request) (*http.Response, error) {
		ex.sent = time.Now()
		return client.Do(r)
	}, c.log, secrets...)
	if err != nil {
		return nil, ex.sendError(err, attempts)
	}
	defer resp.Body.Close()
	ex.attempts = attempts
	ex.status, ex.header = resp.StatusCode, resp.Header
	if resp.StatusCode < 200 { // 101 hands over the raw connection: never read it
		return nil, ex.malformed(fmt.Sprintf("unexpected informational status %d", resp.StatusCode), nil)
	}
	if ex.body, err = readLimited(ctx, resp); err != nil {
		return nil, ex.malformed("reading the body", err)
	}
	return ex, nil
}

func newJSONRequest(ctx context.Context, method string, u *url.URL, header http.Header, body []byte) (*http.Request, error) {
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), reader)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// readLimited reads a body of at most maxBodySize bytes: never more than
// that plus one byte, whatever the server sends, and never past ctx (the
// body is closed when ctx ends, which ends a read stuck on a stalled
// server). A body whose length the server announced is read into one buffer
// of that size plus one byte, room to see the end without growing
// (bytes.Buffer.ReadFrom would grow it anyway: it wants 512 bytes free
// before each read); otherwise the buffer doubles from 512 bytes.
func readLimited(ctx context.Context, resp *http.Response) ([]byte, error) {
	stop := context.AfterFunc(ctx, func() { _ = resp.Body.Close() })
	defer stop()
	size := 512
	if n := resp.ContentLength; n >= 0 && n <= maxBodySize {
		size = int(n) + 1
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(2*cap(buf), maxBodySize+1))
			copy(grown, buf)
			buf = grown
		}
		n, err := resp.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		switch {
		case len(buf) > maxBodySize:
			return nil, fmt.Errorf("body larger than %d bytes", maxBodySize)
		case err == io.EOF:
			return buf, nil
		case err != nil && ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil:
			return nil, err
		}
	}
}

// decode unmarshals the JSON body into v; any failure is a *MalformedResponseError.
func (ex *exchange) decode(v any) error {
	if err := json.Unmarshal(ex.body, v); err != nil {
		return ex.malformed("malformed JSON body", err)
	}
	return nil
}

// malformed reports a response that cannot be used. The reason and err may
// quote the body: both are redacted of the request's secrets.
func (ex *exchange) malformed(reason string, err error) *MalformedResponseError {
	if err != nil {
		err = &redactedError{text: redact(err.Error(), ex.secrets...), err: scrubbed(err, ex.secrets...)}
	}
	return &MalformedResponseError{Method: ex.method, URL: ex.safeURL(), StatusCode: ex.status,
		Reason: redact(reason, ex.secrets...), Err: err}
}

// sendError reports a request that got no response. net/http's errors quote
// URLs (a redirect's Location among them) and what a malformed response
// said: the URLs lose user info and query, and every text in the chain is
// redacted of the request's secrets (see scrubbed).
func (ex *exchange) sendError(err error, attempts int) *RequestSendError {
	err = scrubbed(err, ex.secrets...)
	err = &redactedError{text: redact(err.Error(), ex.secrets...), err: err}
	return &RequestSendError{Method: ex.method, URL: ex.safeURL(), Attempts: attempts, Err: err}
}

// safeURL prints the request's URL for an error: a page after the first
// of a listing is at a URL the server chose, so it is redacted of the
// request's secrets too.
func (ex *exchange) safeURL() string { return redact(safeURL(ex.url), ex.secrets...) }

// redactedError is err with its text redacted; errors.Is and errors.As
// still see err.
type redactedError struct {
	text string
	err  error
}

func (e *redactedError) Error() string { return e.text }
func (e *redactedError) Unwrap() error { return e.err }

// httpError describes an error response, taking the title and message from
// Keystone's {"error": {...}} body when there is one. Every string from the
// response is redacted of the request's secrets and cut short.
func (ex *exchange) httpError() *HTTPError {
	e := &HTTPError{
		Method:     ex.method,
		URL:        ex.safeURL(),
		StatusCode: ex.status,
		RequestID:  serverText(requestID(ex.header), 80, ex.secrets),
		Attempts:   ex.attempts,
	}
	if d, ok := retryAfter(ex.header, time.Now()); ok {
		e.RetryAfter = d
	}
	var w wireError
	if json.Unmarshal(ex.body, &w) == nil && w.Error != nil {
		e.Title, e.Message = serverText(w.Error.Title, 80, ex.secrets), serverText(w.Error.Message, 400, ex.secrets)
		for _, d := range w.Error.Errors[:min(len(w.Error.Errors), maxErrorDetails)] {
			e.Details = append(e.Details, ErrorDetail{serverText(d.Key, 80, ex.secrets), serverText(jsonText(d.Value), 120, ex.secrets)})
		}
	} else if isPlainText(ex.header) {
		e.Message = serverText(string(ex.body), 200, ex.secrets)
	}
	if unknownEC2Key(e.StatusCode, e.Message) {
		e.sentinel = ErrNotFound
	}
	return e
}

// keystoneMessage is the error.message of a Keystone error body, "" when
// there is none.
func (ex *exchange) keystoneMessage() string {
	var w wireError
	if json.Unmarshal(ex.body, &w) != nil || w.Error == nil {
		return ""
	}
	return w.Error.Message
}

// hinter says what to do about an error response, sent with tok (nil:
// none): "" when it has no advice.
type hinter func(e *HTTPError, tok *Token) string

// httpErrorWith is httpError with hint's advice, if any, in Hint.
func (ex *exchange) httpErrorWith(hint hinter) *HTTPError {
	e := ex.httpError()
	if hint != nil {
		e.Hint = hint(e, ex.token)
	}
	return e
}

// maxErrorDetails bounds how many of Cleura's field errors an HTTPError keeps.
const maxErrorDetails = 8

// jsonText is a JSON value as text: a string unquoted, anything else as sent.
func jsonText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// serverText makes a string a server sent fit for an error: its first line,
// redacted (before cutting: a cut secret would not match), at most n bytes.
func serverText(s string, n int, secrets []string) string {
	return truncate(redact(firstLine(s), secrets...), n)
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

// truncate cuts s to at most n bytes, on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

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

// peekBody reads up to n bytes of resp's body and puts them back in front
// of the rest, so the caller still reads the whole body, unchanged.
func peekBody(resp *http.Response, n int64) []byte {
	if resp.Body == nil || resp.Body == http.NoBody {
		return nil
	}
	head, _ := io.ReadAll(io.LimitReader(resp.Body, n))
	resp.Body = &peekedBody{Reader: io.MultiReader(bytes.NewReader(head), resp.Body), Closer: resp.Body}
	return head
}

// peekedBody is a body with its first bytes read ahead.
type peekedBody struct {
	io.Reader
	io.Closer
}

// drainLimit bounds how much of a discarded body is read so the connection
// can be reused.
const drainLimit = 64 << 10

// drain reads a little of a body that will not be returned, and closes it.
func drain(body io.ReadCloser) {
	if body == nil {
		return
	}
	_, _ = io.CopyN(io.Discard, body, drainLimit)
	_ = body.Close()
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

func statusOf(resp *http.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}
