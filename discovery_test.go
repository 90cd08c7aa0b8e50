package ksauth

// Tests of AuthURL forms and version discovery.

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// discoveryAt returns the recorded 300 discovery document with the v3 link
// pointing at base+"/v3/".
func discoveryAt(t testing.TB, status int, base string) httpmock.Responder {
	c := loadCapture(t, "discovery_root")
	c.Response.Status = status
	c.Response.Body = []byte(strings.ReplaceAll(string(c.Response.Body), mockBase+"/v3/", base+"/v3/"))
	return func(req *http.Request) (*http.Response, error) {
		return c.response(req), nil
	}
}

// tokenAt serves the auth_password_project_id capture at path (counting calls).
func tokenAt(t testing.TB, path string) (*ksCapture, httpmock.Responder) {
	c := loadCapture(t, "auth_password_project_id")
	c.Request.Path = path
	return c, func(req *http.Request) (*http.Response, error) {
		c.assertRequest(t, req)
		return c.response(req), nil
	}
}

func TestAuthURLForms(t *testing.T) {
	tests := []struct {
		authURL   string
		discovery string // path GET for discovery ("/" for the root), "" for none
		endpoint  string // the v3 endpoint ksauth must use
	}{
		{mockBase + "/v3", "", mockBase + "/v3"},
		{mockBase + "/v3/", "", mockBase + "/v3"},
		{mockBase + "/v3//", "", mockBase + "/v3"},
		{"  " + mockBase + "/v3\n", "", mockBase + "/v3"},
		{mockBase + "/v3?x=1#frag", "", mockBase + "/v3"},
		{mockBase + "/v3/.", "", mockBase + "/v3"},
		{mockBase + "/identity/../v3", "", mockBase + "/v3"},
		{mockBase + "/identity//v3", "", mockBase + "/identity/v3"},
		{mockBase + "/identity/v3", "", mockBase + "/identity/v3"},
		{mockBase + "/identity/v3/", "", mockBase + "/identity/v3"},
		{mockBase, "/", mockBase + "/v3"},
		{mockBase + "/", "/", mockBase + "/v3"},
		{mockBase + "/identity", "/identity", mockBase + "/identity/v3"},
		{mockBase + "/identity/", "/identity", mockBase + "/identity/v3"},
		{"HTTPS://KEYSTONE.test:5000/v3", "", "https://KEYSTONE.test:5000/v3"},
		{mockBase + "/v3/auth/tokens", "", mockBase + "/v3"}, // the token URL pasted as AuthURL
		{mockBase + "/identity/v3/auth/tokens/", "", mockBase + "/identity/v3"},
		{mockBase + "/v2.0", "/", mockBase + "/v3"}, // an old OpenRC's v2.0 URL
		{mockBase + "/identity/v2.0/", "/identity", mockBase + "/identity/v3"},
	}
	for _, tc := range tests {
		t.Run(tc.authURL, func(t *testing.T) {
			m := newKSMock(t)
			discoveryURL := mockBase + strings.TrimSuffix(tc.discovery, "/")
			if tc.discovery != "" {
				m.respond("GET", discoveryURL, discoveryAt(t, 300, strings.TrimSuffix(tc.endpoint, "/v3")))
			}
			u, _ := url.Parse(tc.endpoint)
			_, r := tokenAt(t, u.Path+"/auth/tokens")
			m.respond("POST", tc.endpoint+"/auth/tokens", r)
			k := m.keystone(fxAliceByID, ProjectScope{ID: fxDemoID})
			k.AuthURL = tc.authURL

			got, err := k.IdentityURL(context.Background())
			require.NoError(t, err)
			assert.Equal(t, tc.endpoint, got.String())
			assert.NotContains(t, got.String(), "/v3/v3")

			tok, err, _, _ := authenticateCapture(t, k)
			require.NoError(t, err)
			assert.Equal(t, fxProjectToken, tok.ID)
			info := m.mock.GetCallCountInfo()
			assert.Equal(t, 1, info["POST "+tc.endpoint+"/auth/tokens"])
			if tc.discovery != "" {
				assert.Equal(t, 1, info["GET "+discoveryURL], "discovery once per URL")
			}
			assert.Equal(t, 1+boolInt(tc.discovery != ""), m.calls())
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestDiscoveryVersionDocument: a 200 with one "version" (discovery_v3.json)
// served where a v3 path was not given.
func TestDiscoveryVersionDocument(t *testing.T) {
	m := newKSMock(t)
	v3 := loadCapture(t, "discovery_v3")
	v3.Response.Body = []byte(strings.ReplaceAll(string(v3.Response.Body), mockBase+"/v3/", mockBase+"/identity/v3/"))
	m.respond("GET", mockBase+"/identity", func(req *http.Request) (*http.Response, error) { return v3.response(req), nil })
	_, r := tokenAt(t, "/identity/v3/auth/tokens")
	m.respond("POST", mockBase+"/identity/v3/auth/tokens", r)
	k := m.keystone(fxAliceByID, ProjectScope{ID: fxDemoID})
	k.AuthURL = mockBase + "/identity"
	tok, err, _, _ := authenticateCapture(t, k)
	require.NoError(t, err)
	assert.Equal(t, fxProjectToken, tok.ID)
}

// TestDiscoveryOncePerURL: several Authenticate calls, sequential and
// concurrent, cause exactly one discovery GET per AuthURL.
func TestDiscoveryOncePerURL(t *testing.T) {
	m := newKSMock(t)
	m.respond("GET", mockBase, discoveryAt(t, 300, mockBase))
	_, r := tokenAt(t, "/v3/auth/tokens")
	m.respond("POST", mockBase+"/v3/auth/tokens", r)
	k := m.keystone(fxAliceByID, ProjectScope{ID: fxDemoID})
	k.AuthURL = mockBase
	for range 3 {
		_, err, _, _ := authenticateCapture(t, k)
		require.NoError(t, err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, err := k.Authenticate(context.Background())
			recordErr(err)
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	info := m.mock.GetCallCountInfo()
	assert.Equal(t, 1, info["GET "+mockBase])
	assert.Equal(t, 11, info["POST "+mockBase+"/v3/auth/tokens"])

	// Another AuthURL is discovered again, once.
	m.respond("GET", mockBase+"/identity", discoveryAt(t, 300, mockBase))
	k.AuthURL = mockBase + "/identity"
	for range 2 {
		_, err, _, _ := authenticateCapture(t, k)
		require.NoError(t, err)
	}
	info = m.mock.GetCallCountInfo()
	assert.Equal(t, 1, info["GET "+mockBase+"/identity"])
	assert.Equal(t, 1, info["GET "+mockBase])
}

// TestDiscoveryFallback: when discovery fails, ksauth appends /v3 and works.
func TestDiscoveryFallback(t *testing.T) {
	html404 := loadCapture(t, "unknown_path_404_html")
	tests := []struct {
		name string
		r    httpmock.Responder
	}{
		{"404 html", func(req *http.Request) (*http.Response, error) { return html404.response(req), nil }},
		{"not json", jsonResponder(200, `<html>welcome</html>`)},
		{"truncated json", jsonResponder(300, `{"versions": {"values": [{"id": "v3.14", "sta`)},
		{"no v3", jsonResponder(300, `{"versions":{"values":[{"id":"v2.0","status":"deprecated","links":[{"rel":"self","href":"`+mockBase+`/v2.0/"}]}]}}`)},
		{"only deprecated v3", jsonResponder(300, `{"versions":{"values":[{"id":"v3.0","status":"deprecated","links":[{"rel":"self","href":"`+mockBase+`/v3/"}]}]}}`)},
		{"v3 without self link", jsonResponder(300, `{"versions":{"values":[{"id":"v3.14","status":"stable","links":[]}]}}`)},
		{"versions wrong type", jsonResponder(300, `{"versions": 3}`)},
		{"empty object", jsonResponder(200, `{}`)},
		{"bad self link", jsonResponder(300, `{"versions":{"values":[{"id":"v3.14","status":"stable","links":[{"rel":"self","href":"::not a url"}]}]}}`)},
		{"plain http self link", discoveryAt(t, 300, "http://keystone.test:5000")},
		{"self link on another host", discoveryAt(t, 300, "https://keystone-internal.test:5000")},
		{"self link on another port", discoveryAt(t, 300, "https://keystone.test:35357")},
		{"500", jsonResponder(500, `{"error":{"code":500,"message":"oops","title":"Internal Server Error"}}`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newKSMock(t)
			m.respond("GET", mockBase, tc.r)
			_, r := tokenAt(t, "/v3/auth/tokens")
			m.respond("POST", mockBase+"/v3/auth/tokens", r)
			k := m.keystone(fxAliceByID, ProjectScope{ID: fxDemoID})
			k.AuthURL = mockBase
			for range 2 {
				tok, err, _, _ := authenticateCapture(t, k)
				require.NoError(t, err)
				assert.Equal(t, fxProjectToken, tok.ID)
			}
			assert.Equal(t, 1, m.mock.GetCallCountInfo()["GET "+mockBase], "a failed discovery is remembered too")
		})
	}
	// The "versions" list may come without the "values" wrapper.
	t.Run("unwrapped list", func(t *testing.T) {
		m := newKSMock(t)
		m.respond("GET", mockBase, jsonResponder(300, `{"versions":[{"id":"v2.0","status":"stable","links":[{"rel":"self","href":"`+mockBase+`/v2.0/"}]},{"id":"v3.14","status":"stable","links":[{"rel":"describedby","href":"x"},{"rel":"self","href":"`+mockBase+`/identity/v3/"}]}]}`))
		k := m.keystone(fxAliceByID, nil)
		k.AuthURL = mockBase
		u, err := k.IdentityURL(context.Background())
		require.NoError(t, err)
		assert.Equal(t, mockBase+"/identity/v3", u.String())
	})
}

// TestDiscoveryFallbackFailsToo: discovery fails and so does the /v3
// fallback: the error says both.
func TestDiscoveryFallbackFailsToo(t *testing.T) {
	html404 := loadCapture(t, "unknown_path_404_html")
	serve404 := func(req *http.Request) (*http.Response, error) { return html404.response(req), nil }
	t.Run("404 and 404", func(t *testing.T) {
		m := newKSMock(t)
		m.respond("GET", mockBase+"/identity", serve404)
		m.respond("POST", mockBase+"/identity/v3/auth/tokens", serve404)
		k := m.keystone(fxAliceByID, nil)
		k.AuthURL = mockBase + "/identity"
		_, err, _, _ := authenticateCapture(t, k)
		var de *DiscoveryError
		require.ErrorAs(t, err, &de)
		assert.ErrorIs(t, err, ErrNotFound)
		assert.Equal(t, mockBase+"/identity", de.AuthURL)
		var he *HTTPError
		require.ErrorAs(t, de.Discovery, &he)
		assert.Equal(t, "GET", he.Method)
		require.ErrorAs(t, de.Err, &he)
		assert.Equal(t, "POST", he.Method)
		assert.Equal(t, mockBase+"/identity/v3/auth/tokens", he.URL)
		assert.Contains(t, err.Error(), "version discovery at "+mockBase+"/identity failed too")
		assert.NotContains(t, err.Error(), "alice-secret")
	})
	t.Run("garbage and unreachable", func(t *testing.T) {
		m := newKSMock(t)
		m.respond("GET", mockBase, jsonResponder(200, `nope`))
		m.respond("POST", mockBase+"/v3/auth/tokens", httpmock.NewErrorResponder(errors.New("connection reset by peer")))
		k := m.keystone(fxAliceByID, nil)
		k.AuthURL = mockBase
		_, err, _, _ := authenticateCapture(t, k)
		var de *DiscoveryError
		require.ErrorAs(t, err, &de)
		var re *MalformedResponseError
		assert.ErrorAs(t, de.Discovery, &re)
		var qe *RequestSendError
		assert.ErrorAs(t, err, &qe)
	})
	t.Run("401 after fallback is a plain HTTPError", func(t *testing.T) {
		m := newKSMock(t)
		m.respond("GET", mockBase, serve404)
		wrong := loadCapture(t, "auth_wrong_password_401")
		m.respond("POST", mockBase+"/v3/auth/tokens", func(req *http.Request) (*http.Response, error) { return wrong.response(req), nil })
		k := m.keystone(fxAliceByID, nil)
		k.AuthURL = mockBase
		_, err, _, _ := authenticateCapture(t, k)
		var de *DiscoveryError
		assert.False(t, errors.As(err, &de), "a credential error is not about discovery: %v", err)
		assert.ErrorIs(t, err, ErrUnauthorized)
	})
}

// TestDiscoveryUnreachableIsRetried: a transport failure during discovery is
// remembered only briefly (unreachableRetry): calls right after it use the
// fallback without asking again, a call after it discovers again.
func TestDiscoveryUnreachableIsRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newKSMock(t)
		var n int
		disc := discoveryAt(t, 300, mockBase)
		m.respond("GET", mockBase, func(req *http.Request) (*http.Response, error) {
			n++
			if n == 1 {
				return nil, errors.New("connection refused")
			}
			return disc(req)
		})
		_, r := tokenAt(t, "/v3/auth/tokens")
		m.respond("POST", mockBase+"/v3/auth/tokens", r)
		k := m.keystone(fxAliceByID, ProjectScope{ID: fxDemoID})
		k.AuthURL = mockBase
		for range 3 {
			_, err, _, _ := authenticateCapture(t, k)
			require.NoError(t, err)
		}
		assert.Equal(t, 1, n, "the failure is remembered for a while")
		time.Sleep(unreachableRetry)
		_, err, _, _ := authenticateCapture(t, k)
		require.NoError(t, err)
		assert.Equal(t, 2, n, "then discovery runs again")
	})
}

func TestDiscoveryContextCancelled(t *testing.T) {
	m := newKSMock(t)
	ctx, cancel := context.WithCancel(context.Background())
	m.respond("GET", mockBase, func(req *http.Request) (*http.Response, error) {
		cancel() // the caller gives up while discovery runs
		return nil, req.Context().Err()
	})
	k := m.keystone(fxAliceByID, nil)
	k.AuthURL = mockBase
	k.Retry = nil
	_, err := k.Authenticate(ctx)
	recordErr(err)
	require.ErrorIs(t, err, context.Canceled)
	var de *DiscoveryError
	assert.False(t, errors.As(err, &de))
	assert.Zero(t, m.mock.GetCallCountInfo()["POST "+mockBase+"/v3/auth/tokens"])
}

func TestAuthURLInvalid(t *testing.T) {
	tests := []struct {
		authURL string
		field   string
	}{
		{"", "AuthURL"},
		{"   ", "AuthURL"},
		{"keystone.test:5000/v3", "AuthURL"},
		{"/v3", "AuthURL"},
		{"https:///v3", "AuthURL"},
		{"https://alice:alice-secret@keystone.test/v3", "AuthURL"},
		{"https://alice:alice-secret@keystone.test:50x0/v3", "AuthURL"},
		{"https://keystone.test/v3\x7f?alice-secret", "AuthURL"},
		{"ftp://keystone.test/v3", "AuthURL"},
	}
	for _, tc := range tests {
		t.Run(tc.authURL, func(t *testing.T) {
			m := newKSMock(t)
			k := m.keystone(fxAliceByID, nil)
			k.AuthURL = tc.authURL
			_, err, _, _ := authenticateCapture(t, k)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.field, ve.Field)
			assert.NotContains(t, err.Error(), "alice-secret")
			_, err = k.IdentityURL(context.Background())
			assert.ErrorAs(t, err, &ve)
			assert.Zero(t, m.calls())
		})
	}
}

// --- transport security -----------------------------------------------------

func TestInsecureHTTPRefused(t *testing.T) {
	for _, authURL := range []string{"http://keystone.test:5000/v3", "http://keystone.test:5000", "HTTP://10.0.0.1/v3", "http://127.0.0.1.nip.io/v3"} {
		t.Run(authURL, func(t *testing.T) {
			m := newKSMock(t)
			k := m.keystone(fxAlicePassword, nil)
			k.AuthURL = authURL
			_, err, _, _ := authenticateCapture(t, k)
			require.ErrorIs(t, err, ErrInsecureTransport)
			assert.Contains(t, err.Error(), "AllowInsecureHTTP")
			assert.Zero(t, m.calls(), "nothing may be sent")
		})
	}
}

func TestInsecureHTTPAllowed(t *testing.T) {
	tests := []struct {
		authURL  string
		allow    bool
		endpoint string
	}{
		{"http://127.0.0.1:5055/v3", false, "http://127.0.0.1:5055/v3"},
		{"http://localhost:5055/v3/", false, "http://localhost:5055/v3"},
		{"http://LocalHost:5055/v3", false, "http://LocalHost:5055/v3"},
		{"http://[::1]:5055/v3", false, "http://[::1]:5055/v3"},
		{"http://127.8.9.10/v3", false, "http://127.8.9.10/v3"},
		{"http://keystone.test:5000/v3", true, "http://keystone.test:5000/v3"},
	}
	for _, tc := range tests {
		t.Run(tc.authURL, func(t *testing.T) {
			m := newKSMock(t)
			_, r := tokenAt(t, "/v3/auth/tokens")
			m.respond("POST", tc.endpoint+"/auth/tokens", r)
			k := m.keystone(fxAliceByID, ProjectScope{ID: fxDemoID})
			k.AuthURL = tc.authURL
			k.AllowInsecureHTTP = tc.allow
			tok, err, _, _ := authenticateCapture(t, k)
			require.NoError(t, err)
			u, _ := url.Parse(tc.endpoint)
			assert.Equal(t, hostKey(u), tok.authHost)
		})
	}
}
