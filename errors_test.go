package ksauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var allSentinels = []error{ErrBadRequest, ErrUnauthorized, ErrForbidden, ErrNotFound, ErrRateLimited, ErrServer, ErrNoCatalog, ErrUntrustedHost, ErrInsecureTransport}

// authStatus authenticates against a fake answering status with body and
// headers, with retries off.
func authStatus(t *testing.T, status int, body string, header ...string) error {
	t.Helper()
	m := newKSMock(t)
	m.respond("POST", mockBase+"/v3/auth/tokens", jsonResponder(status, body, header...))
	_, err := m.keystone(fxAlicePassword, fxDemoByName).Authenticate(context.Background())
	recordErr(err)
	return err
}

func TestHTTPErrorSentinels(t *testing.T) {
	tests := []struct {
		status    int
		is        error
		temporary bool
	}{
		{400, ErrBadRequest, false},
		{401, ErrUnauthorized, false},
		{403, ErrForbidden, false},
		{404, ErrNotFound, false},
		{405, nil, false},
		{409, nil, false},
		{418, nil, false},
		{429, ErrRateLimited, true},
		{500, ErrServer, false},
		{501, ErrServer, false},
		{502, ErrServer, false}, // a POST: 502 and 504 are retried for idempotent methods only
		{503, ErrServer, true},
		{504, ErrServer, false},
		{599, ErrServer, false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			err := authStatus(t, tc.status, `{"error":{"code":`+fmt.Sprint(tc.status)+`,"message":"m","title":"t"}}`)
			var he *HTTPError
			require.ErrorAs(t, err, &he)
			assert.Equal(t, tc.status, he.StatusCode)
			assert.Equal(t, tc.temporary, he.Temporary())
			assert.Equal(t, tc.is, he.Unwrap())
			for _, s := range allSentinels {
				assert.Equal(t, s == tc.is, errors.Is(err, s), "errors.Is(%d, %v)", tc.status, s)
			}
		})
	}
}

func TestHTTPErrorText(t *testing.T) {
	err := authStatus(t, 401, `{"error":{"code":401,"message":"The request you have made requires authentication.","title":"Unauthorized"}}`,
		"x-openstack-request-id", "req-1")
	assert.Equal(t, "ksauth: POST "+mockBase+"/v3/auth/tokens: 401 Unauthorized: The request you have made requires authentication. (request id req-1)", err.Error())

	err = authStatus(t, 502, ``)
	assert.Equal(t, "ksauth: POST "+mockBase+"/v3/auth/tokens: 502 Bad Gateway", err.Error())

	// Other services' request id headers.
	for _, h := range []string{"X-Compute-Request-Id", "X-Request-Id", "X-OpenStack-Request-ID"} {
		err = authStatus(t, 500, `{}`, h, "req-"+h)
		var he *HTTPError
		require.ErrorAs(t, err, &he)
		assert.Equal(t, "req-"+h, he.RequestID)
	}

	// A NoCatalog request: the query string is not part of the error URL.
	m := newKSMock(t)
	m.respond("POST", mockBase+"/v3/auth/tokens", jsonResponder(401, `{}`))
	k := m.keystone(fxAlicePassword, nil)
	k.NoCatalog = true
	_, err = k.Authenticate(context.Background())
	recordErr(err)
	var he *HTTPError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, mockBase+"/v3/auth/tokens", he.URL)
}

func TestHTTPErrorBodies(t *testing.T) {
	tests := []struct {
		name, contentType, body, message, title string
	}{
		{"keystone json", "application/json", `{"error":{"code":400,"message":"bad","title":"Bad Request"}}`, "bad", "Bad Request"},
		{"json without error", "application/json", `{"message":"x"}`, "", ""},
		{"error of wrong type", "application/json", `{"error":"x"}`, "", ""},
		{"plain text first line", "text/plain; charset=utf-8", "Service is down\nfor maintenance", "Service is down", ""},
		{"plain text cut", "text/plain", strings.Repeat("a", 500), strings.Repeat("a", 200) + "…", ""},
		{"html ignored", "text/html", "<html><body>Bad gateway</body></html>", "", ""},
		{"binary", "application/octet-stream", "\x00\x01", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := authStatus(t, 400, tc.body, "Content-Type", tc.contentType)
			var he *HTTPError
			require.ErrorAs(t, err, &he)
			assert.Equal(t, tc.message, he.Message)
			assert.Equal(t, tc.title, he.Title)
		})
	}
}

// TestHTTPErrorRedactsSecrets: whatever the server echoes (a receipt, a
// token, the password or app-cred secret it was sent), the error shows none.
func TestHTTPErrorRedactsSecrets(t *testing.T) {
	creds := []struct {
		cred   Credential
		secret string
	}{
		{fxAlicePassword, "alice-secret"},
		{ApplicationCredential{ID: fxAliceACID, Secret: "alice-ac-secret"}, "alice-ac-secret"},
		{TOTP{UserID: fxBobID, Passcode: fxBobPasscode}, fxBobPasscode},
		{TokenExchange{Token: "opaque-token-value-1234"}, "opaque-token-value-1234"},
		{MultiFactor{fxCarolPassword, fxCarolTOTP}, "carol-secret"},
		{MultiFactor{fxCarolPassword, fxCarolTOTP}, fxCarolPasscode},
	}
	registerSecret("opaque-token-value-1234")
	for _, body := range []struct{ contentType, format string }{
		{"application/json", `{"error":{"code":400,"message":"Invalid input for field 'password': '%s' is not valid; receipt gAAAAAB-placeholder-x","title":"Bad Request"}}`},
		{"text/plain", "bad value %s, token gAAAAABxyz"},
	} {
		for _, c := range creds {
			t.Run(fmt.Sprintf("%T/%s", c.cred, body.contentType), func(t *testing.T) {
				m := newKSMock(t)
				m.respond("POST", mockBase+"/v3/auth/tokens", jsonResponder(400, fmt.Sprintf(body.format, c.secret), "Content-Type", body.contentType))
				_, err := m.keystone(c.cred, nil).Authenticate(context.Background())
				recordErr(err)
				require.ErrorIs(t, err, ErrBadRequest)
				for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
					out := fmt.Sprintf(verb, err)
					assert.NotContains(t, out, c.secret, verb)
					assert.NotContains(t, out, "gAAAAA", verb)
				}
				assert.Contains(t, err.Error(), "REDACTED")
			})
		}
	}
}

func TestHTTPErrorRetryAfter(t *testing.T) {
	err := authStatus(t, 429, `{}`, "Retry-After", "30")
	var he *HTTPError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, 30*time.Second, he.RetryAfter)
	assert.ErrorIs(t, err, ErrRateLimited)
	assert.True(t, he.Temporary())
}

// TestRateLimitedLongWait: a 429 asking for more than MaxRetryAfter is
// returned at once, as an ErrRateLimited error with its wait.
func TestRateLimitedLongWait(t *testing.T) {
	m := newKSMock(t)
	m.respond("POST", mockBase+"/v3/auth/tokens", jsonResponder(429, `{}`, "Retry-After", "3600"))
	k := m.keystone(fxAlicePassword, nil)
	k.Retry = nil // default policy: 60 s at most
	_, err := k.Authenticate(context.Background())
	recordErr(err)
	require.ErrorIs(t, err, ErrRateLimited)
	var he *HTTPError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, time.Hour, he.RetryAfter)
	assert.Equal(t, 1, m.calls())
}

func TestRequestError(t *testing.T) {
	boom := errors.New("dial tcp 192.0.2.1:5000: connect: connection refused (gAAAAAB-placeholder-in-transport-error)")
	m := newKSMock(t)
	m.respond("POST", mockBase+"/v3/auth/tokens", httpmock.NewErrorResponder(boom))
	k := m.keystone(fxAlicePassword, nil)
	k.NoCatalog = true
	_, err := k.Authenticate(context.Background())
	recordErr(err)
	var qe *RequestSendError
	require.ErrorAs(t, err, &qe)
	assert.ErrorIs(t, err, boom, "transport errors are wrapped")
	assert.Equal(t, "POST", qe.Method)
	assert.Equal(t, mockBase+"/v3/auth/tokens", qe.URL)
	assert.False(t, qe.Temporary(), "a POST that may have reached the server is not retried, so not temporary")
	assert.Contains(t, err.Error(), "connection refused")
	assert.NotContains(t, err.Error(), "gAAAAA")
	for _, s := range allSentinels {
		assert.False(t, errors.Is(err, s), "%v", s)
	}

	// A cancelled context is not temporary.
	ctx, cancel := context.WithCancel(context.Background())
	m2 := newKSMock(t)
	m2.respond("POST", mockBase+"/v3/auth/tokens", func(req *http.Request) (*http.Response, error) {
		cancel()
		return nil, req.Context().Err()
	})
	_, err = m2.keystone(fxAlicePassword, nil).Authenticate(ctx)
	recordErr(err)
	require.ErrorAs(t, err, &qe)
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, qe.Temporary())
}

func TestResponseErrorUnwrap(t *testing.T) {
	_, err, _, _ := authWithBody(t, `{"token": {"methods": 1}}`)
	var re *MalformedResponseError
	require.ErrorAs(t, err, &re)
	var te *json.UnmarshalTypeError
	assert.ErrorAs(t, err, &te)

	_, err, _, _ = authWithBody(t, `{"token":`)
	var se *json.SyntaxError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "ksauth: POST "+mockBase+"/v3/auth/tokens: unusable 201 response: malformed JSON body: unexpected end of JSON input", err.Error())
}

func TestErrorTypesUnwrap(t *testing.T) {
	inner := errors.New("inner")
	mfa := &MFARequiredError{RequiredMethods: [][]string{{"password", "totp"}}, Err: inner}
	assert.ErrorIs(t, mfa, ErrUnauthorized)
	assert.ErrorIs(t, mfa, inner)
	assert.ErrorIs(t, &MFARequiredError{}, ErrUnauthorized)

	he := &HTTPError{StatusCode: 404}
	de := &DiscoveryError{AuthURL: mockBase, Discovery: inner, Err: he}
	assert.ErrorIs(t, de, inner)
	assert.ErrorIs(t, de, ErrNotFound)
	var got *HTTPError
	require.ErrorAs(t, de, &got)
	assert.Same(t, he, got)

	assert.ErrorIs(t, &EndpointNotFoundError{}, ErrNotFound)

	ve := &ValidationError{Field: "Credentials.Password", Reason: "empty"}
	assert.Equal(t, "ksauth: invalid Credentials.Password: empty", ve.Error())

	// Wrapped once more by a caller, everything still matches.
	wrapped := fmt.Errorf("login: %w", de)
	assert.ErrorIs(t, wrapped, ErrNotFound)
	var de2 *DiscoveryError
	assert.ErrorAs(t, wrapped, &de2)
}

// TestHTTPErrorRedactsBeforeCutting: a secret straddling the 200-character
// cut of a plain-text message must not leave its first half behind.
func TestHTTPErrorRedactsBeforeCutting(t *testing.T) {
	m := newKSMock(t)
	m.respond("POST", mockBase+"/v3/auth/tokens", jsonResponder(400, strings.Repeat(".", 195)+"alice-secret and more", "Content-Type", "text/plain"))
	_, err := m.keystone(fxAlicePassword, nil).Authenticate(context.Background())
	recordErr(err)
	var he *HTTPError
	require.ErrorAs(t, err, &he)
	assert.NotContains(t, he.Message, "alice")
	assert.LessOrEqual(t, len([]rune(he.Message)), 201)
}

// TestRetriesExhaustedSaySo: when retries run out, the error says how many
// attempts were made, and a Retry-After the server sent is in the text.
func TestRetriesExhaustedSaySo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newKSMock(t)
		m.respond("POST", mockBase+"/v3/auth/tokens", jsonResponder(429, `{"error":{"code":429,"message":"Too many requests"}}`, "Retry-After", "1"))
		k := m.keystone(fxAlicePassword, fxDemoByName)
		k.Retry = nil // the defaults: 4 attempts
		_, err := k.Authenticate(context.Background())
		recordErr(err)
		var he *HTTPError
		require.ErrorAs(t, err, &he)
		assert.Equal(t, DefaultMaxAttempts, he.Attempts)
		assert.Equal(t, DefaultMaxAttempts, m.calls())
		assert.Contains(t, err.Error(), "(after 4 attempts)")
		assert.Contains(t, err.Error(), "retry after 1s")
	})
	synctest.Test(t, func(t *testing.T) {
		m := newKSMock(t)
		m.respond("GET", mockBase+"/v3/auth/projects", httpmock.NewErrorResponder(errors.New("connection reset by peer")))
		k := m.keystone(nil, nil)
		k.Retry = &RetryPolicy{MaxAttempts: 3}
		_, err := k.Projects(context.Background(), &Token{ID: "t", ExpiresAt: time.Now().Add(time.Hour)})
		recordErr(err)
		var se *RequestSendError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, 3, se.Attempts)
		assert.Contains(t, err.Error(), "(after 3 attempts)")
		assert.True(t, se.Temporary(), "a GET is retried, so temporary")
	})
}
