package ksauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	fxSystemAuth   = &Token{ID: fxSystemToken}
	fxProjectAuth  = &Token{ID: fxProjectToken}
	fxUnscopedAuth = &Token{ID: fxUnscopedToken}
)

func TestValidateToken(t *testing.T) {
	m := newKSMock(t)
	m.expectNamed("validate_token")
	k := m.keystone(nil, nil)
	tok, err := k.ValidateToken(context.Background(), fxSystemAuth, fxNameToken, nil)
	recordErr(err)
	require.NoError(t, err)
	assert.Equal(t, fxNameToken, tok.ID)
	assert.Equal(t, fxDemoProject, tok.Project)
	assert.Equal(t, "alice", tok.User.Name)
	assert.Len(t, tok.Catalog, 7)
	assert.Equal(t, ts(t, "2026-11-23T06:43:09Z"), tok.IssuedAt)
	// No Date header in the capture: the server's expiry is taken as is.
	assert.Equal(t, ts(t, "2026-11-23T07:43:09Z"), tok.ExpiresAt)
	assert.Equal(t, "keystone.test:5000", tok.authHost)
}

func TestValidateTokenOptions(t *testing.T) {
	t.Run("NoCatalog", func(t *testing.T) {
		m := newKSMock(t)
		m.expectNamed("validate_token_nocatalog")
		tok, err := m.keystone(nil, nil).ValidateToken(context.Background(), fxSystemAuth, fxNameToken, &ValidateOptions{NoCatalog: true})
		recordErr(err)
		require.NoError(t, err)
		assert.Nil(t, tok.Catalog)
		assert.Equal(t, fxDemoID, tok.Project.ID)
	})
	t.Run("AllowExpired does not revive a revoked token", func(t *testing.T) {
		m := newKSMock(t)
		m.expectNamed("validate_revoked_token_allow_expired")
		tok, err := m.keystone(nil, nil).ValidateToken(context.Background(), fxSystemAuth, fxNameToken, &ValidateOptions{AllowExpired: true})
		recordErr(err)
		assert.Nil(t, tok)
		var he *HTTPError
		require.ErrorAs(t, err, &he)
		assert.ErrorIs(t, err, ErrNotFound)
		assert.Equal(t, "Failed to validate token", he.Message)
		assert.Equal(t, "GET", he.Method)
		assert.Equal(t, mockBase+"/v3/auth/tokens", he.URL, "no query string in errors")
	})
	t.Run("both", func(t *testing.T) {
		m := newKSMock(t)
		c := loadCapture(t, "validate_token_nocatalog")
		c.Request.Path = "/v3/auth/tokens?allow_expired=1&nocatalog"
		m.expect(c)
		_, err := m.keystone(nil, nil).ValidateToken(context.Background(), fxSystemAuth, fxNameToken, &ValidateOptions{AllowExpired: true, NoCatalog: true})
		recordErr(err)
		require.NoError(t, err)
	})
}

func TestValidateTokenNotFound(t *testing.T) {
	tests := []struct {
		capture, subject, message string
	}{
		{"validate_revoked_token_404", fxNameToken, "Failed to validate token"},
		{"validate_garbage_token_404", "this-is-not-a-token", "Could not recognize Fernet token"},
	}
	for _, tc := range tests {
		t.Run(tc.capture, func(t *testing.T) {
			m := newKSMock(t)
			c := loadCapture(t, tc.capture)
			m.expect(c)
			_, err := m.keystone(nil, nil).ValidateToken(context.Background(), fxSystemAuth, tc.subject, nil)
			recordErr(err)
			var he *HTTPError
			require.ErrorAs(t, err, &he)
			assert.ErrorIs(t, err, ErrNotFound)
			assert.Equal(t, 404, he.StatusCode)
			assert.Equal(t, "Not Found", he.Title)
			assert.Equal(t, tc.message, he.Message)
			assert.Equal(t, c.Response.Headers["x-openstack-request-id"], he.RequestID)
		})
	}
}

// TestValidateTokenExpiryFromDate: a validated token's lifetime is counted
// from the response's Date header (the server's "now"), so a server clock
// that is off does not matter.
func TestValidateTokenExpiryFromDate(t *testing.T) {
	for _, serverNow := range []string{"2026-11-23T06:53:09Z", "2026-11-23T07:53:09Z"} {
		t.Run(serverNow, func(t *testing.T) {
			m := newKSMock(t)
			c := loadCapture(t, "validate_token")
			c.Response.Headers["Date"] = ts(t, serverNow).Format(http.TimeFormat)
			m.expect(c)
			before := time.Now()
			tok, err := m.keystone(nil, nil).ValidateToken(context.Background(), fxSystemAuth, fxNameToken, nil)
			after := time.Now()
			recordErr(err)
			require.NoError(t, err)
			left := ts(t, "2026-11-23T07:43:09Z").Sub(ts(t, serverNow))
			assertLocalExpiry(t, tok, left, before, after)
		})
	}
}

func TestValidateAppCredCappedToken(t *testing.T) {
	m := newKSMock(t)
	m.expectNamed("validate_appcred_capped_token")
	tok, err := m.keystone(nil, nil).ValidateToken(context.Background(), fxSystemAuth, "gAAAAAB-placeholder-auth_appcred_capped_expiry", nil)
	recordErr(err)
	require.NoError(t, err)
	assert.Equal(t, ts(t, "2026-11-23T07:03:13Z"), tok.ExpiresAt, "same instant as the un-zoned expiry of the issue response")
	require.NotNil(t, tok.ApplicationCredential)
	assert.Equal(t, fxShortACID, tok.ApplicationCredential.ID)
}

// TestValidateTokenRedactsSubject: a server that echoes the subject (any
// shape) in its message does not get it into the error.
func TestValidateTokenRedactsSubject(t *testing.T) {
	m := newKSMock(t)
	const subject = "opaque-subject-token-4711"
	registerSecret(subject)
	m.respond("GET", mockBase+"/v3/auth/tokens", jsonResponder(404,
		`{"error":{"code":404,"message":"Could not find token: `+subject+` (auth `+fxSystemToken+`)","title":"Not Found"}}`))
	_, err := m.keystone(nil, nil).ValidateToken(context.Background(), fxSystemAuth, subject, nil)
	recordErr(err)
	require.ErrorIs(t, err, ErrNotFound)
	assert.NotContains(t, err.Error(), subject)
	assert.NotContains(t, err.Error(), "gAAAAA")
	assert.Contains(t, err.Error(), "Could not find token: ")
}

func TestCheckToken(t *testing.T) {
	t.Run("recorded 200", func(t *testing.T) {
		m := newKSMock(t)
		m.expectNamed("check_token_head")
		ok, err := m.keystone(nil, nil).CheckToken(context.Background(), fxSystemAuth, fxNameToken)
		recordErr(err)
		require.NoError(t, err)
		assert.True(t, ok)
	})
	tests := []struct {
		status int
		valid  bool
		is     error
	}{
		{200, true, nil},
		{204, true, nil},
		{404, false, nil},
		{401, false, ErrUnauthorized},
		{403, false, ErrForbidden},
		{500, false, ErrServer},
		{302, false, nil},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			m := newKSMock(t)
			m.respond("HEAD", mockBase+"/v3/auth/tokens", func(req *http.Request) (*http.Response, error) {
				assert.Equal(t, fxSystemToken, req.Header.Get("X-Auth-Token"))
				assert.Equal(t, fxNameToken, req.Header.Get("X-Subject-Token"))
				resp := httpmock.NewStringResponse(tc.status, "")
				resp.Request = req
				return resp, nil
			})
			ok, err := m.keystone(nil, nil).CheckToken(context.Background(), fxSystemAuth, fxNameToken)
			recordErr(err)
			assert.Equal(t, tc.valid, ok)
			if tc.valid || tc.status == 404 {
				assert.NoError(t, err)
				return
			}
			var he *HTTPError
			require.ErrorAs(t, err, &he)
			assert.Equal(t, tc.status, he.StatusCode)
			assert.Equal(t, "HEAD", he.Method)
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is)
			}
		})
	}
}

func TestRevokeToken(t *testing.T) {
	t.Run("recorded 204", func(t *testing.T) {
		m := newKSMock(t)
		m.expectNamed("revoke_token_delete")
		err := m.keystone(nil, nil).RevokeToken(context.Background(), fxSystemAuth, fxNameToken)
		recordErr(err)
		require.NoError(t, err)
	})
	t.Run("revoked already", func(t *testing.T) {
		m := newKSMock(t)
		c := loadCapture(t, "validate_revoked_token_404")
		m.respond("DELETE", mockBase+"/v3/auth/tokens", func(req *http.Request) (*http.Response, error) { return c.response(req), nil })
		err := m.keystone(nil, nil).RevokeToken(context.Background(), fxSystemAuth, fxNameToken)
		recordErr(err)
		assert.ErrorIs(t, err, ErrNotFound)
		var he *HTTPError
		require.ErrorAs(t, err, &he)
		assert.Equal(t, "DELETE", he.Method)
	})
	t.Run("self", func(t *testing.T) {
		m := newKSMock(t)
		m.respond("DELETE", mockBase+"/v3/auth/tokens", func(req *http.Request) (*http.Response, error) {
			assert.Equal(t, fxProjectToken, req.Header.Get("X-Auth-Token"))
			assert.Equal(t, fxProjectToken, req.Header.Get("X-Subject-Token"))
			return httpmock.NewStringResponse(204, ""), nil
		})
		err := m.keystone(nil, nil).RevokeToken(context.Background(), fxProjectAuth, fxProjectAuth.ID)
		recordErr(err)
		assert.NoError(t, err)
	})
}

// TestTokenCallsValidateArguments: no request without a usable auth token
// and subject.
func TestTokenCallsValidateArguments(t *testing.T) {
	expired := &Token{ID: fxProjectToken, ExpiresAt: time.Now().Add(-time.Minute)}
	calls := map[string]func(k *Keystone, auth *Token, subject string) error{
		"ValidateToken": func(k *Keystone, auth *Token, subject string) error {
			_, err := k.ValidateToken(context.Background(), auth, subject, nil)
			return err
		},
		"CheckToken": func(k *Keystone, auth *Token, subject string) error {
			_, err := k.CheckToken(context.Background(), auth, subject)
			return err
		},
		"RevokeToken": func(k *Keystone, auth *Token, subject string) error {
			return k.RevokeToken(context.Background(), auth, subject)
		},
		"Projects": func(k *Keystone, auth *Token, _ string) error {
			_, err := k.Projects(context.Background(), auth)
			return err
		},
		"Domains": func(k *Keystone, auth *Token, _ string) error {
			_, err := k.Domains(context.Background(), auth)
			return err
		},
		"System": func(k *Keystone, auth *Token, _ string) error {
			_, err := k.CanScopeToSystem(context.Background(), auth)
			return err
		},
		"Catalog": func(k *Keystone, auth *Token, _ string) error {
			_, err := k.Catalog(context.Background(), auth)
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			m := newKSMock(t)
			k := m.keystone(nil, nil)
			for _, auth := range []*Token{nil, {}, expired} {
				err := call(k, auth, fxNameToken)
				recordErr(err)
				var ve *ValidationError
				if assert.ErrorAs(t, err, &ve) {
					assert.Equal(t, "src", ve.Field)
				}
			}
			if !strings.Contains("ValidateToken CheckToken RevokeToken", name) {
				return
			}
			err := call(k, fxSystemAuth, "")
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, "subject", ve.Field)
			assert.Zero(t, m.calls())
		})
	}
}

func TestProjectsDomainsSystem(t *testing.T) {
	demo := Project{ID: fxDemoID, Name: "demo", Domain: Domain{ID: "default"}}
	for _, tc := range []struct {
		capture string
		auth    *Token
	}{
		{"auth_projects_unscoped_token", fxUnscopedAuth},
		{"auth_projects_project_token", fxProjectAuth},
	} {
		m := newKSMock(t)
		m.expectNamed(tc.capture)
		got, err := m.keystone(nil, nil).Projects(context.Background(), tc.auth)
		recordErr(err)
		require.NoError(t, err, tc.capture)
		assert.Equal(t, []Project{demo}, got, tc.capture)
	}
	for _, tc := range []struct {
		capture string
		auth    *Token
	}{
		{"auth_domains_unscoped_token", fxUnscopedAuth},
		{"auth_domains_project_token", fxProjectAuth},
	} {
		m := newKSMock(t)
		m.expectNamed(tc.capture)
		got, err := m.keystone(nil, nil).Domains(context.Background(), tc.auth)
		recordErr(err)
		require.NoError(t, err, tc.capture)
		assert.Equal(t, []Domain{{ID: "default", Name: "Default"}}, got, tc.capture)
	}
	for _, tc := range []struct {
		capture string
		auth    *Token
		want    bool
	}{
		{"auth_system_unscoped_token", fxUnscopedAuth, false},
		{"auth_system_project_token", fxProjectAuth, false},
		{"auth_system_system_token", fxSystemAuth, true},
	} {
		m := newKSMock(t)
		m.expectNamed(tc.capture)
		got, err := m.keystone(nil, nil).CanScopeToSystem(context.Background(), tc.auth)
		recordErr(err)
		require.NoError(t, err, tc.capture)
		assert.Equal(t, tc.want, got, tc.capture)
	}
}

func TestCatalogCall(t *testing.T) {
	t.Run("project token", func(t *testing.T) {
		m := newKSMock(t)
		m.expectNamed("auth_catalog_project_token")
		cat, err := m.keystone(nil, nil).Catalog(context.Background(), fxProjectAuth)
		recordErr(err)
		require.NoError(t, err)
		require.Len(t, cat, 7)
		u, err := cat.Endpoint(EndpointOpts{Type: "identity"})
		require.NoError(t, err)
		assert.Equal(t, mockBase+"/v3", u)
	})
	t.Run("unscoped token is refused", func(t *testing.T) {
		m := newKSMock(t)
		m.expectNamed("auth_catalog_unscoped_token")
		cat, err := m.keystone(nil, nil).Catalog(context.Background(), fxUnscopedAuth)
		recordErr(err)
		assert.Nil(t, cat)
		var he *HTTPError
		require.ErrorAs(t, err, &he)
		assert.ErrorIs(t, err, ErrForbidden)
		assert.Equal(t, "You are not authorized to perform the requested action.", he.Message)
	})
}

// TestListingErrorBodies replays the other recorded error bodies through a
// listing call: the 403 with a policy name and the HTML 404.
func TestListingErrorBodies(t *testing.T) {
	t.Run("403", func(t *testing.T) {
		m := newKSMock(t)
		c := loadCapture(t, "list_users_forbidden_403")
		m.respond("GET", mockBase+"/v3/auth/projects", func(req *http.Request) (*http.Response, error) { return c.response(req), nil })
		_, err := m.keystone(nil, nil).Projects(context.Background(), fxProjectAuth)
		recordErr(err)
		var he *HTTPError
		require.ErrorAs(t, err, &he)
		assert.ErrorIs(t, err, ErrForbidden)
		assert.Equal(t, "You are not authorized to perform the requested action: identity:list_users.", he.Message)
		assert.Equal(t, "req-5e2dea05-147b-425c-a8d5-6282d8148a72", he.RequestID)
	})
	t.Run("404 html", func(t *testing.T) {
		m := newKSMock(t)
		c := loadCapture(t, "unknown_path_404_html")
		m.respond("GET", mockBase+"/v3/auth/domains", func(req *http.Request) (*http.Response, error) { return c.response(req), nil })
		_, err := m.keystone(nil, nil).Domains(context.Background(), fxProjectAuth)
		recordErr(err)
		var he *HTTPError
		require.ErrorAs(t, err, &he)
		assert.ErrorIs(t, err, ErrNotFound)
		assert.Empty(t, he.Message, "HTML is not a message")
		assert.NotContains(t, err.Error(), "<")
	})
	t.Run("malformed listing", func(t *testing.T) {
		m := newKSMock(t)
		m.respond("GET", mockBase+"/v3/auth/projects", jsonResponder(200, `{"projects": {"id": "x"}}`))
		m.respond("GET", mockBase+"/v3/auth/system", jsonResponder(200, `{"system": [true]}`))
		m.respond("GET", mockBase+"/v3/auth/catalog", jsonResponder(200, `{"catalog": [`))
		k := m.keystone(nil, nil)
		var re *MalformedResponseError
		_, err := k.Projects(context.Background(), fxProjectAuth)
		recordErr(err)
		assert.ErrorAs(t, err, &re)
		_, err = k.CanScopeToSystem(context.Background(), fxProjectAuth)
		recordErr(err)
		assert.ErrorAs(t, err, &re)
		_, err = k.Catalog(context.Background(), fxProjectAuth)
		recordErr(err)
		assert.ErrorAs(t, err, &re)
	})
}

// projectsPage is a /v3/auth/projects page with one project and a next link.
func projectsPage(id string, next string) string {
	n := "null"
	if next != "" {
		n = `"` + next + `"`
	}
	return `{"projects":[{"id":"` + id + `","name":"` + id + `","domain_id":"default"}],"links":{"self":"x","previous":null,"next":` + n + `}}`
}

func TestListingPagination(t *testing.T) {
	t.Run("follows next on the same host", func(t *testing.T) {
		m := newKSMock(t)
		m.respond("GET", mockBase+"/v3/auth/projects", func(req *http.Request) (*http.Response, error) {
			assert.Equal(t, fxProjectToken, req.Header.Get("X-Auth-Token"))
			switch req.URL.RawQuery {
			case "":
				return jsonResponder(200, projectsPage("p1", mockBase+"/v3/auth/projects?marker=p1"))(req)
			case "marker=p1":
				return jsonResponder(200, projectsPage("p2", "/v3/auth/projects?marker=p2"))(req) // relative
			case "marker=p2":
				return jsonResponder(200, projectsPage("p3", ""))(req)
			}
			t.Errorf("unexpected %s", req.URL)
			return httpmock.NewStringResponse(500, ""), nil
		})
		got, err := m.keystone(nil, nil).Projects(context.Background(), fxProjectAuth)
		recordErr(err)
		require.NoError(t, err)
		require.Len(t, got, 3)
		assert.Equal(t, []string{"p1", "p2", "p3"}, []string{got[0].ID, got[1].ID, got[2].ID})
	})
	for _, next := range []string{"https://evil.test/v3/auth/projects?marker=p1", "http://keystone.test:5000/v3/auth/projects?marker=p1", "//evil.test/x"} {
		t.Run("refuses "+next, func(t *testing.T) {
			m := newKSMock(t)
			m.respond("GET", mockBase+"/v3/auth/projects", jsonResponder(200, projectsPage("p1", next)))
			m.mock.RegisterNoResponder(func(req *http.Request) (*http.Response, error) {
				t.Errorf("the token followed links.next to %s", req.URL)
				return httpmock.NewStringResponse(500, ""), nil
			})
			_, err := m.keystone(nil, nil).Projects(context.Background(), fxProjectAuth)
			recordErr(err)
			var re *MalformedResponseError
			require.ErrorAs(t, err, &re)
			assert.Contains(t, err.Error(), "links.next")
			assert.Equal(t, 1, m.calls())
		})
	}
	t.Run("second page fails", func(t *testing.T) {
		m := newKSMock(t)
		m.respond("GET", mockBase+"/v3/auth/projects", func(req *http.Request) (*http.Response, error) {
			if req.URL.RawQuery == "" {
				return jsonResponder(200, projectsPage("p1", mockBase+"/v3/auth/projects?marker=p1"))(req)
			}
			return nil, errors.New("connection reset by peer")
		})
		var got []Project
		var err error
		require.NotPanics(t, func() { got, err = m.keystone(nil, nil).Projects(context.Background(), fxProjectAuth) })
		recordErr(err)
		var qe *RequestSendError
		require.ErrorAs(t, err, &qe)
		assert.Contains(t, err.Error(), "connection reset by peer")
		_ = got
	})
	t.Run("second page is an error status", func(t *testing.T) {
		m := newKSMock(t)
		m.respond("GET", mockBase+"/v3/auth/projects", func(req *http.Request) (*http.Response, error) {
			if req.URL.RawQuery == "" {
				return jsonResponder(200, projectsPage("p1", mockBase+"/v3/auth/projects?marker=p1"))(req)
			}
			return jsonResponder(403, `{"error":{"code":403,"message":"no","title":"Forbidden"}}`)(req)
		})
		_, err := m.keystone(nil, nil).Projects(context.Background(), fxProjectAuth)
		recordErr(err)
		assert.ErrorIs(t, err, ErrForbidden)
	})
	t.Run("endless pages stop", func(t *testing.T) {
		m := newKSMock(t)
		m.respond("GET", mockBase+"/v3/auth/projects", jsonResponder(200, projectsPage("p", mockBase+"/v3/auth/projects?marker=p")))
		_, err := m.keystone(nil, nil).Projects(context.Background(), fxProjectAuth)
		recordErr(err)
		var re *MalformedResponseError
		require.ErrorAs(t, err, &re)
		assert.Contains(t, err.Error(), "more than 100 pages")
		assert.Equal(t, 100, m.calls())
	})
}

// TestIdentityCallsShareDiscovery: identity calls use the same discovered
// endpoint as Authenticate, discovering once.
func TestIdentityCallsShareDiscovery(t *testing.T) {
	m := newKSMock(t)
	m.respond("GET", mockBase+"/identity", discoveryAt(t, 300, mockBase+"/identity"))
	c := loadCapture(t, "validate_token")
	c.Request.Path = "/identity/v3/auth/tokens"
	m.expect(c)
	_, r := tokenAt(t, "/identity/v3/auth/tokens")
	m.respond("POST", mockBase+"/identity/v3/auth/tokens", r)
	k := m.keystone(fxAliceByID, ProjectScope{ID: fxDemoID})
	k.AuthURL = mockBase + "/identity"
	_, err := k.ValidateToken(context.Background(), fxSystemAuth, fxNameToken, nil)
	recordErr(err)
	require.NoError(t, err)
	_, err = k.Authenticate(context.Background())
	recordErr(err)
	require.NoError(t, err)
	assert.Equal(t, 1, m.mock.GetCallCountInfo()["GET "+mockBase+"/identity"])
}
