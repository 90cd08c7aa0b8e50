package ksauth

// Replay of the real Keystone captures in testdata/keystone through httpmock.
// A capture is served only to the request it recorded: the responder checks
// the method, path and query, the headers that carry meaning and the JSON
// body, so a test that replays a capture also pins the exact request.

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	// captureBase is the server the captures were recorded against.
	captureBase = "http://127.0.0.1:5055"
	// mockBase replaces captureBase in replayed captures. https, so that no
	// test depends on the loopback exception for plain http.
	mockBase = "https://keystone.test:5000"
)

// ksCapture is one recorded exchange (format: testdata/keystone/README.md),
// with captureBase already replaced by mockBase.
type ksCapture struct {
	Name    string `json:"name"`
	Request struct {
		Method  string            `json:"method"`
		Path    string            `json:"path"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"request"`
	Response struct {
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"response"`
}

var captureCache sync.Map // name → []byte (file text, base rewritten)

// loadCapture reads testdata/keystone/<name>.json with the base URL
// rewritten to mockBase. Every call returns a fresh copy the test may change.
func loadCapture(t testing.TB, name string) *ksCapture {
	t.Helper()
	raw, ok := captureCache.Load(name)
	if !ok {
		b, err := os.ReadFile(filepath.Join("testdata", "keystone", name+".json"))
		require.NoError(t, err)
		raw, _ = captureCache.LoadOrStore(name, []byte(strings.ReplaceAll(string(b), captureBase, mockBase)))
	}
	var c ksCapture
	require.NoError(t, json.Unmarshal(raw.([]byte), &c), "capture %s", name)
	require.Equal(t, name, c.Name)
	return &c
}

// requestBody returns the recorded request body as JSON text, "" for none.
func (c *ksCapture) requestBody() string {
	if isJSONNull(c.Request.Body) {
		return ""
	}
	return string(c.Request.Body)
}

// responseBody returns the response body bytes as the server sent them: the
// JSON, the text of a string body (the HTML 404), nothing for null.
func (c *ksCapture) responseBody() []byte {
	b := c.Response.Body
	if isJSONNull(b) {
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err == nil {
			return []byte(s)
		}
	}
	return b
}

// responseJSON decodes the response body into a generic value, for tests
// that need to alter a recorded body.
func (c *ksCapture) responseJSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(c.Response.Body, &m))
	return m
}

// setResponseJSON replaces the response body.
func (c *ksCapture) setResponseJSON(t testing.TB, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	c.Response.Body = b
}

func isJSONNull(b json.RawMessage) bool {
	return len(bytes.TrimSpace(b)) == 0 || string(bytes.TrimSpace(b)) == "null"
}

// response builds the recorded response for req.
func (c *ksCapture) response(req *http.Request) *http.Response {
	body := c.responseBody()
	resp := &http.Response{
		Status:        http.StatusText(c.Response.Status),
		StatusCode:    c.Response.Status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
	for k, v := range c.Response.Headers {
		resp.Header.Set(k, v)
	}
	return resp
}

// meaningfulHeaders are the request headers whose presence and value must
// match the capture exactly (absent in the capture = absent in the request).
var meaningfulHeaders = []string{"Content-Type", "X-Auth-Token", "X-Subject-Token", "Openstack-Auth-Receipt"}

// checkedHeaders are the meaningfulHeaders and any other header the capture
// recorded (Openstack-Identity-Access-Rules, say): a recorded header must
// have been sent with the recorded value.
func (c *ksCapture) checkedHeaders() []string {
	out := append([]string(nil), meaningfulHeaders...)
	for k := range c.Request.Headers {
		if !slices.ContainsFunc(out, func(h string) bool { return strings.EqualFold(h, k) }) {
			out = append(out, k)
		}
	}
	return out
}

// assertRequest checks that req is the request c recorded. It only uses
// assert (not require): responders may run off the test goroutine.
func (c *ksCapture) assertRequest(t assert.TestingT, req *http.Request) bool {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	ok := assert.Equal(t, c.Request.Method, req.Method, "%s: method", c.Name)
	ok = assert.Equal(t, c.Request.Path, req.URL.RequestURI(), "%s: path and query", c.Name) && ok
	for _, h := range c.checkedHeaders() {
		want := ""
		for k, v := range c.Request.Headers {
			if strings.EqualFold(k, h) {
				want = v
			}
		}
		ok = assert.Equal(t, want, req.Header.Get(h), "%s: request header %s", c.Name, h) && ok
	}
	var got []byte
	if req.Body != nil {
		var err error
		got, err = io.ReadAll(req.Body)
		ok = assert.NoError(t, err, "%s: reading the request body", c.Name) && ok
	}
	if want := c.requestBody(); want == "" {
		ok = assert.Empty(t, string(got), "%s: request body", c.Name) && ok
	} else {
		ok = assert.JSONEq(t, want, string(got), "%s: request body", c.Name) && ok
	}
	return ok
}

// ksMock is a fake Keystone made of captures, reachable at mockBase through
// client (no network).
type ksMock struct {
	t      testing.TB
	mock   *httpmock.MockTransport
	client *http.Client

	mu     sync.Mutex
	queues map[string][]*ksCapture // "METHOD url" → captures still to serve, in order
	served []string                // names of the captures served, in order
}

// newKSMock returns an empty fake. At the end of the test every expected
// capture must have been served.
func newKSMock(t testing.TB) *ksMock {
	m := &ksMock{t: t, mock: httpmock.NewMockTransport(), queues: map[string][]*ksCapture{}}
	m.client = &http.Client{Transport: m.mock}
	t.Cleanup(func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		for route, q := range m.queues {
			for _, c := range q {
				t.Errorf("capture %s (%s) expected but never requested", c.Name, route)
			}
		}
	})
	return m
}

// expect queues captures to be served, each once, in order per route.
func (m *ksMock) expect(caps ...*ksCapture) {
	m.t.Helper()
	for _, c := range caps {
		u := mockBase + c.Request.Path
		route := c.Request.Method + " " + u
		m.mu.Lock()
		_, registered := m.queues[route]
		m.queues[route] = append(m.queues[route], c)
		m.mu.Unlock()
		if !registered {
			m.mock.RegisterResponder(c.Request.Method, u, m.serve(route))
		}
	}
}

// expectNamed loads and queues captures by name.
func (m *ksMock) expectNamed(names ...string) {
	m.t.Helper()
	for _, n := range names {
		m.expect(loadCapture(m.t, n))
	}
}

func (m *ksMock) serve(route string) httpmock.Responder {
	return func(req *http.Request) (*http.Response, error) {
		m.mu.Lock()
		q := m.queues[route]
		if len(q) == 0 {
			m.mu.Unlock()
			m.t.Errorf("unexpected request %s %s: every capture for it was served", req.Method, req.URL)
			return httpmock.NewStringResponse(http.StatusTeapot, "unexpected request"), nil
		}
		c := q[0]
		m.queues[route] = q[1:]
		m.served = append(m.served, c.Name)
		m.mu.Unlock()
		c.assertRequest(m.t, req)
		return c.response(req), nil
	}
}

// respond registers a hand-made responder for method and url.
func (m *ksMock) respond(method, url string, r httpmock.Responder) {
	m.mock.RegisterResponder(method, url, r)
}

// calls is the number of requests the fake received.
func (m *ksMock) calls() int { return m.mock.GetTotalCallCount() }

// servedNames returns the captures served so far, in order.
func (m *ksMock) servedNames() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.served...)
}

// keystone returns an authenticator for the fake, with the v3 URL (no
// discovery), the suite's debug logger and retries off.
func (m *ksMock) keystone(cred Credential, scope Scope) *Keystone {
	return &Keystone{
		AuthURL:     mockBase + "/v3",
		Credentials: cred,
		Scope:       scope,
		HTTPClient:  m.client,
		Retry:       &RetryPolicy{MaxAttempts: 1},
		Logger:      testLogger(),
	}
}

// jsonResponder answers with status, a JSON (or any) body and headers.
func jsonResponder(status int, body string, header ...string) httpmock.Responder {
	return func(req *http.Request) (*http.Response, error) {
		resp := httpmock.NewStringResponse(status, body)
		resp.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(header); i += 2 {
			resp.Header.Set(header[i], header[i+1])
		}
		resp.Request = req
		return resp, nil
	}
}

func TestCapturesLoadAndRewrite(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "keystone", "*.json"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 40, "the capture set shrank")
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			c := loadCapture(t, name)
			assert.NotEmpty(t, c.Request.Method)
			assert.True(t, strings.HasPrefix(c.Request.Path, "/"), c.Request.Path)
			assert.NotZero(t, c.Response.Status)
			raw, _ := captureCache.Load(name)
			assert.NotContains(t, string(raw.([]byte)), "127.0.0.1:5055", "base URL not rewritten")
		})
	}
}

// TestReplayHelperRejectsWrongRequests proves the responder's checks can fail:
// each altered request is reported, the recorded one is not.
func TestReplayHelperRejectsWrongRequests(t *testing.T) {
	c := loadCapture(t, "validate_token_nocatalog")
	newReq := func(method, path string, body string, hdr map[string]string) *http.Request {
		var r io.Reader
		if body != "" {
			r = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, mockBase+path, r)
		require.NoError(t, err)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		return req
	}
	good := c.Request.Headers
	tests := []struct {
		name string
		req  *http.Request
		ok   bool
	}{
		{"recorded", newReq("GET", "/v3/auth/tokens?nocatalog", "", good), true},
		{"method", newReq("POST", "/v3/auth/tokens?nocatalog", "", good), false},
		{"query", newReq("GET", "/v3/auth/tokens", "", good), false},
		{"header", newReq("GET", "/v3/auth/tokens?nocatalog", "", map[string]string{"X-Auth-Token": "x", "X-Subject-Token": good["X-Subject-Token"]}), false},
		{"extra header", newReq("GET", "/v3/auth/tokens?nocatalog", "", map[string]string{"X-Auth-Token": good["X-Auth-Token"], "X-Subject-Token": good["X-Subject-Token"], "Openstack-Auth-Receipt": "r"}), false},
		{"body", newReq("GET", "/v3/auth/tokens?nocatalog", "{}", good), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.ok, c.assertRequest(&probeT{}, tc.req))
		})
	}
	post := loadCapture(t, "auth_password_project_id")
	req := newReq("POST", "/v3/auth/tokens", strings.Replace(post.requestBody(), "alice-secret", "other", 1), map[string]string{"Content-Type": "application/json"})
	assert.False(t, post.assertRequest(&probeT{}, req), "a different password must not match")
	req = newReq("POST", "/v3/auth/tokens", post.requestBody(), map[string]string{"Content-Type": "application/json"})
	assert.True(t, post.assertRequest(&probeT{}, req))
}

// probeT is an assert.TestingT that only records failure, to test checks.
type probeT struct{ failed bool }

func (p *probeT) Errorf(string, ...any) { p.failed = true }

// TestReplayChecksRecordedHeaders: a header the capture recorded beyond
// meaningfulHeaders (the access rules header of a validation) must be sent,
// with the recorded value.
func TestReplayChecksRecordedHeaders(t *testing.T) {
	c := loadCapture(t, "cred_validate_access_rules_token")
	require.Equal(t, "1.0", c.Request.Headers["Openstack-Identity-Access-Rules"])
	for _, tc := range []struct {
		value string
		ok    bool
	}{{"1.0", true}, {"", false}, {"2.0", false}} {
		req, err := http.NewRequest(http.MethodGet, mockBase+c.Request.Path, nil)
		require.NoError(t, err)
		req.Header.Set("X-Auth-Token", c.Request.Headers["X-Auth-Token"])
		req.Header.Set("X-Subject-Token", c.Request.Headers["X-Subject-Token"])
		if tc.value != "" {
			req.Header.Set("Openstack-Identity-Access-Rules", tc.value)
		}
		assert.Equal(t, tc.ok, c.assertRequest(&probeT{}, req), "header %q", tc.value)
	}
}
