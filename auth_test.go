package ksauth

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/ksauth/ksauth/keystonetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Ids of the capture run (testdata/keystone/README.md).
const (
	fxDefaultDomainID = "default"
	fxAcmeDomainID    = "bfcd3c0aca0d469bbaa3926597640766"
	fxDemoID          = "172d9bc5ed114531a3e52e6787ef3db0"
	fxOpsID           = "a8827d410de74e40b752bb4e6906b652"
	fxAdminID         = "cd8d1150d5494055921b2c2b2a4378d4"
	fxAliceID         = "a1c340e77cb64d0685e7df614b6fb5e6"
	fxBobID           = "34984004acc345d58810d7879709e9c7"
	fxCarolID         = "37995497d525433ab4bb276caf651d84"
	fxAliceACID       = "e59ca31b79ce4236ad373153d8740087"
	fxRestrictedACID  = "e8b68fb526d44e8e8fc8064654a9d796"
	fxShortACID       = "55c6885c68b94c40bf88a51c1b086c51"
	fxTrustID         = "f1e851d6e01e4872b18a2e08c86edaac"
	fxRoleReader      = "0c1be04d9c4c49248fcd7edd2420ac00"
	fxRoleMember      = "be29a5a5d53e4981af0d75179e2f1a67"
	fxRoleAdmin       = "e6d2d5b9139c4bcb8749093646586959"

	fxBobPasscode   = "968121" // auth_totp_bob
	fxCarolPasscode = "211598" // auth_mfa_carol_*
	fxCarolReceipt  = "gAAAAAB-placeholder-receipt-auth_mfa_carol_password_only_401_receipt"
	fxSystemToken   = "gAAAAAB-placeholder-auth_password_system_scoped"
	fxProjectToken  = "gAAAAAB-placeholder-auth_password_project_id"
	fxUnscopedToken = "gAAAAAB-placeholder-auth_password_unscoped"
	fxNameToken     = "gAAAAAB-placeholder-auth_password_project_name"
)

func init() {
	// The passcodes are secrets too; main_test.go knows the others.
	registerSecret(fxBobPasscode)
	registerSecret(fxCarolPasscode)
	registerSecret("wrong-password")
}

var (
	fxAlicePassword   = Password{Username: "alice", UserDomain: Domain{Name: "Default"}, Password: "alice-secret"}
	fxBobPassword     = Password{Username: "bob", UserDomain: Domain{Name: "acme"}, Password: "bob-secret"}
	fxCarolPassword   = Password{Username: "carol", UserDomain: Domain{Name: "acme"}, Password: "carol-secret"}
	fxCarolTOTP       = TOTP{Username: "carol", UserDomain: Domain{Name: "acme"}, Passcode: fxCarolPasscode}
	fxDemoByName      = ProjectScope{Name: "demo", Domain: Domain{Name: "Default"}}
	fxOpsByName       = ProjectScope{Name: "ops", Domain: Domain{Name: "acme"}}
	fxDefaultDomain   = Domain{ID: fxDefaultDomainID, Name: "Default"}
	fxAcmeDomain      = Domain{ID: fxAcmeDomainID, Name: "acme"}
	fxDemoProject     = &Project{ID: fxDemoID, Name: "demo", Domain: fxDefaultDomain}
	fxReaderAndMember = []Role{{ID: fxRoleReader, Name: "reader"}, {ID: fxRoleMember, Name: "member"}}
)

// ts parses a capture timestamp written as RFC 3339.
func ts(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return v
}

// assertLocalExpiry checks that ExpiresAt is the server's lifetime counted
// from the local time the request was sent (between before and after), less
// the second that a whole-second issued_at may hide.
func assertLocalExpiry(t testing.TB, tok *Token, lifetime time.Duration, before, after time.Time) {
	t.Helper()
	assert.False(t, tok.ExpiresAt.Before(before.Add(lifetime-time.Second)), "ExpiresAt %v before %v + %v", tok.ExpiresAt, before, lifetime)
	assert.False(t, tok.ExpiresAt.After(after.Add(lifetime)), "ExpiresAt %v after %v + %v", tok.ExpiresAt, after, lifetime)
}

// authenticateCapture runs k against the queued captures, recording the error.
func authenticateCapture(t testing.TB, k *Keystone) (*Token, error, time.Time, time.Time) {
	t.Helper()
	before := time.Now()
	tok, err := k.Authenticate(context.Background())
	after := time.Now()
	recordErr(err)
	return tok, err, before, after
}

// TestAuthenticateCaptures replays every successful POST /v3/auth/tokens
// capture: the request must be byte-for-byte the recorded JSON, and the token
// must carry what the response says.
func TestAuthenticateCaptures(t *testing.T) {
	tests := []struct {
		capture   string
		cred      Credential
		scope     Scope
		noCatalog bool
		issued    string
		lifetime  time.Duration
		check     func(t *testing.T, tok *Token)
	}{
		{
			capture: "auth_password_project_name", cred: fxAlicePassword, scope: fxDemoByName,
			issued: "2026-11-23T06:43:09Z", lifetime: time.Hour,
			check: func(t *testing.T, tok *Token) {
				assert.Equal(t, fxDemoProject, tok.Project)
				assert.Equal(t, fxReaderAndMember, tok.Roles)
				assert.Len(t, tok.Catalog, 7)
				assert.False(t, tok.IsDomain)
			},
		},
		{
			capture: "auth_password_project_id", cred: Password{UserID: fxAliceID, Password: "alice-secret"}, scope: ProjectScope{ID: fxDemoID},
			issued: "2026-11-23T06:43:09Z", lifetime: time.Hour,
			check: func(t *testing.T, tok *Token) {
				assert.Equal(t, fxDemoProject, tok.Project)
				assert.Equal(t, []string{"AAj6qF6VTV61-QnApp7Gyw"}, tok.AuditIDs)
				assert.Equal(t, User{ID: fxAliceID, Name: "alice", Domain: fxDefaultDomain}, tok.User)
				assert.Len(t, tok.Catalog, 7)
			},
		},
		{
			capture: "auth_password_domain_scoped", cred: fxAlicePassword, scope: DomainScope{Name: "Default"},
			issued: "2026-11-23T06:43:09Z", lifetime: time.Hour,
			check: func(t *testing.T, tok *Token) {
				assert.Nil(t, tok.Project)
				assert.Equal(t, &fxDefaultDomain, tok.Domain)
				assert.Equal(t, []Role{{ID: fxRoleReader, Name: "reader"}}, tok.Roles)
				assert.False(t, tok.System)
				assert.Len(t, tok.Catalog, 7)
			},
		},
		{
			capture: "auth_password_system_scoped", cred: Password{Username: "admin", UserDomain: Domain{ID: "default"}, Password: "admin-secret"}, scope: SystemScope{},
			issued: "2026-11-23T06:43:09Z", lifetime: time.Hour,
			check: func(t *testing.T, tok *Token) {
				assert.True(t, tok.System)
				assert.Nil(t, tok.Project)
				assert.Nil(t, tok.Domain)
				assert.Equal(t, []Role{{ID: fxRoleAdmin, Name: "admin"}, {ID: fxRoleMember, Name: "member"}, {ID: fxRoleReader, Name: "reader"}}, tok.Roles)
				assert.Equal(t, "admin", tok.User.Name)
			},
		},
		{
			capture: "auth_password_unscoped", cred: fxAlicePassword,
			issued: "2026-11-23T06:43:10Z", lifetime: time.Hour,
			check: func(t *testing.T, tok *Token) {
				assert.Nil(t, tok.Project)
				assert.Nil(t, tok.Domain)
				assert.Nil(t, tok.Roles)
				assert.Empty(t, tok.Catalog)
				_, err := tok.Catalog.Endpoint(EndpointOpts{Type: "compute"})
				assert.ErrorIs(t, err, ErrNoCatalog)
			},
		},
		{
			capture: "auth_password_no_scope_default_project", cred: fxBobPassword,
			issued: "2026-11-23T06:43:10Z", lifetime: time.Hour,
			check: func(t *testing.T, tok *Token) {
				require.NotNil(t, tok.Project)
				assert.Equal(t, Project{ID: fxOpsID, Name: "ops", Domain: fxAcmeDomain}, *tok.Project)
				assert.Equal(t, User{ID: fxBobID, Name: "bob", Domain: fxAcmeDomain}, tok.User)
			},
		},
		{
			capture: "auth_password_explicit_unscoped", cred: fxBobPassword, scope: Unscoped{},
			issued: "2026-11-23T06:43:10Z", lifetime: time.Hour,
			check: func(t *testing.T, tok *Token) {
				assert.Nil(t, tok.Project)
				assert.Empty(t, tok.Catalog)
				assert.Contains(t, tok.String(), "unscoped")
			},
		},
		{
			capture: "auth_password_nocatalog", cred: fxAlicePassword, scope: fxDemoByName, noCatalog: true,
			issued: "2026-11-23T06:43:10Z", lifetime: time.Hour,
			check: func(t *testing.T, tok *Token) {
				assert.Equal(t, fxDemoProject, tok.Project)
				assert.Nil(t, tok.Catalog)
				assert.NotEmpty(t, tok.Roles)
			},
		},
		{
			capture: "auth_appcred_id", cred: ApplicationCredential{ID: fxAliceACID, Secret: "alice-ac-secret"},
			issued: "2026-11-23T06:43:10Z", lifetime: time.Hour,
			check: func(t *testing.T, tok *Token) {
				assert.Equal(t, []string{"application_credential"}, tok.Methods)
				assert.Equal(t, &ApplicationCredentialRef{ID: fxAliceACID, Name: "alice-ac", Restricted: true}, tok.ApplicationCredential)
				assert.Equal(t, fxDemoProject, tok.Project)
			},
		},
		{
			capture: "auth_appcred_name_user_id", cred: ApplicationCredential{Name: "alice-ac", UserID: fxAliceID, Secret: "alice-ac-secret"},
			issued: "2026-11-23T06:43:10Z", lifetime: time.Hour,
			check: func(t *testing.T, tok *Token) {
				require.NotNil(t, tok.ApplicationCredential)
				assert.Equal(t, fxAliceACID, tok.ApplicationCredential.ID)
			},
		},
		{
			capture: "auth_appcred_restricted", cred: ApplicationCredential{ID: fxRestrictedACID, Secret: "alice-ac-restricted-secret"},
			issued: "2026-11-23T06:43:10Z", lifetime: time.Hour,
			check: func(t *testing.T, tok *Token) {
				require.NotNil(t, tok.ApplicationCredential)
				ac := tok.ApplicationCredential
				assert.Equal(t, "alice-ac-restricted", ac.Name)
				assert.True(t, ac.Restricted)
				require.Len(t, ac.AccessRules, 1)
				assert.NotEmpty(t, ac.AccessRules[0].ID)
				assert.NotEmpty(t, ac.AccessRules[0].Service)
				assert.NotEmpty(t, ac.AccessRules[0].Method)
				assert.NotEmpty(t, ac.AccessRules[0].Path)
				assert.Equal(t, []Role{{ID: fxRoleReader, Name: "reader"}}, tok.Roles)
			},
		},
		{
			// expires_at capped by the credential: no fraction, no Z.
			capture: "auth_appcred_capped_expiry", cred: ApplicationCredential{ID: fxShortACID, Secret: "alice-ac-short-secret"},
			issued: "2026-11-23T06:43:14Z", lifetime: 19*time.Minute + 59*time.Second,
			check: func(t *testing.T, tok *Token) {
				assert.Equal(t, "alice-ac-short", tok.ApplicationCredential.Name)
			},
		},
		{
			// A rescoped token keeps the old expiry: only 59m58s left.
			capture: "auth_token_rescope_unscoped_to_project", cred: TokenExchange{Token: fxUnscopedToken}, scope: fxDemoByName,
			issued: "2026-11-23T06:43:12Z", lifetime: 59*time.Minute + 58*time.Second,
			check: func(t *testing.T, tok *Token) {
				assert.ElementsMatch(t, []string{"password", "token"}, tok.Methods)
				assert.Equal(t, []string{"qo3ODdiRTNOIzxE4uhSX3g", "xYqoVpLVTM2qqT0_hJHKrQ"}, tok.AuditIDs)
				assert.Equal(t, fxDemoProject, tok.Project)
			},
		},
		{
			capture: "auth_totp_bob", cred: TOTP{Username: "bob", UserDomain: Domain{Name: "acme"}, Passcode: fxBobPasscode}, scope: fxOpsByName,
			issued: "2026-11-23T06:43:12Z", lifetime: time.Hour,
			check: func(t *testing.T, tok *Token) {
				assert.Equal(t, []string{"totp"}, tok.Methods)
				assert.Equal(t, fxOpsID, tok.Project.ID)
			},
		},
		{
			capture: "auth_mfa_carol_password_and_totp", cred: MultiFactor{fxCarolPassword, fxCarolTOTP}, scope: fxOpsByName,
			issued: "2026-11-23T06:43:12Z", lifetime: time.Hour,
			check: func(t *testing.T, tok *Token) {
				assert.ElementsMatch(t, []string{"password", "totp"}, tok.Methods)
				assert.Equal(t, fxCarolID, tok.User.ID)
			},
		},
		{
			capture: "auth_trust_scoped_bob", cred: fxBobPassword, scope: TrustScope{ID: fxTrustID},
			issued: "2026-11-23T06:43:12Z", lifetime: time.Hour,
			check: func(t *testing.T, tok *Token) {
				assert.Equal(t, &Trust{ID: fxTrustID, TrustorUserID: fxAliceID, TrusteeUserID: fxBobID}, tok.Trust)
				assert.Equal(t, fxDemoProject, tok.Project)
				assert.Equal(t, fxReaderAndMember, tok.Roles, "full role objects decode to id+name")
				assert.False(t, tok.IsDomain)
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.capture, func(t *testing.T) {
			m := newKSMock(t)
			c := loadCapture(t, tc.capture)
			m.expect(c)
			k := m.keystone(tc.cred, tc.scope)
			k.NoCatalog = tc.noCatalog
			tok, err, before, after := authenticateCapture(t, k)
			require.NoError(t, err)
			require.NotNil(t, tok)
			assert.Equal(t, c.Response.Headers["X-Subject-Token"], tok.ID)
			assert.Equal(t, ts(t, tc.issued), tok.IssuedAt)
			assertLocalExpiry(t, tok, tc.lifetime, before, after)
			assert.Equal(t, "keystone.test:5000", tok.authHost)
			assert.True(t, tok.Valid(after))
			tc.check(t, tok)
			assert.Equal(t, 1, m.calls())
		})
	}
}

// TestAuthenticateRetriesOn503 uses the default policy, with Retry-After: 0 so
// the test does not wait.
func TestAuthenticateRetriesOn503(t *testing.T) {
	m := newKSMock(t)
	var n int
	c := loadCapture(t, "auth_password_project_id")
	m.respond("POST", mockBase+"/v3/auth/tokens", func(req *http.Request) (*http.Response, error) {
		n++
		if n == 1 {
			return jsonResponder(503, `{"error":{"code":503,"message":"busy","title":"Service Unavailable"}}`, "Retry-After", "0")(req)
		}
		c.assertRequest(t, req)
		return c.response(req), nil
	})
	k := m.keystone(Password{UserID: fxAliceID, Password: "alice-secret"}, ProjectScope{ID: fxDemoID})
	k.Retry = nil
	tok, err, _, _ := authenticateCapture(t, k)
	require.NoError(t, err)
	assert.Equal(t, fxProjectToken, tok.ID)
	assert.Equal(t, 2, n)
}

func TestAuthenticateHTTPErrors(t *testing.T) {
	tests := []struct {
		capture string
		cred    Credential
		scope   Scope
		status  int
		message string
	}{
		{"auth_wrong_password_401", Password{Username: "alice", UserDomain: Domain{Name: "Default"}, Password: "wrong-password"}, fxDemoByName,
			401, "The request you have made requires authentication."},
		{"auth_unknown_project_401", fxAlicePassword, ProjectScope{Name: "does-not-exist", Domain: Domain{Name: "Default"}},
			401, "The request you have made requires authentication."},
	}
	for _, tc := range tests {
		t.Run(tc.capture, func(t *testing.T) {
			m := newKSMock(t)
			c := loadCapture(t, tc.capture)
			m.expect(c)
			_, err, _, _ := authenticateCapture(t, m.keystone(tc.cred, tc.scope))
			var he *HTTPError
			require.ErrorAs(t, err, &he)
			assert.Equal(t, tc.status, he.StatusCode)
			assert.Equal(t, "Unauthorized", he.Title)
			assert.Equal(t, tc.message, he.Message)
			assert.Equal(t, "POST", he.Method)
			assert.Equal(t, mockBase+"/v3/auth/tokens", he.URL)
			assert.Equal(t, c.Response.Headers["x-openstack-request-id"], he.RequestID)
			assert.ErrorIs(t, err, ErrUnauthorized)
			assert.False(t, he.Temporary())
			assert.NotContains(t, err.Error(), "wrong-password")
			assert.NotContains(t, err.Error(), "alice-secret")
		})
	}
}

// TestAuthenticateErrorResponsesOnly replays error bodies whose requests
// ksauth cannot produce (it validates first): only the response is used.
func TestAuthenticateErrorResponsesOnly(t *testing.T) {
	tests := []struct {
		capture string
		is      error
		title   string
		message string
	}{
		{"auth_appcred_with_scope_401", ErrUnauthorized, "Unauthorized", "Error authenticating with application credential: Application credentials cannot request a scope."},
		{"auth_malformed_json_400", ErrBadRequest, "Bad Request", "Expecting to find valid JSON in request body."},
		{"auth_missing_password_block_400", ErrBadRequest, "Bad Request", "Expecting to find password in identity."},
	}
	for _, tc := range tests {
		t.Run(tc.capture, func(t *testing.T) {
			m := newKSMock(t)
			c := loadCapture(t, tc.capture)
			m.respond("POST", mockBase+"/v3/auth/tokens", func(req *http.Request) (*http.Response, error) { return c.response(req), nil })
			_, err, _, _ := authenticateCapture(t, m.keystone(fxAlicePassword, nil))
			var he *HTTPError
			require.ErrorAs(t, err, &he)
			assert.ErrorIs(t, err, tc.is)
			assert.Equal(t, tc.title, he.Title)
			assert.True(t, strings.HasPrefix(he.Message, tc.message), he.Message)
			assert.Equal(t, c.Response.Headers["x-openstack-request-id"], he.RequestID)
			assert.Contains(t, err.Error(), tc.message)
			assert.Contains(t, err.Error(), he.RequestID)
		})
	}
}

func TestAuthenticateAppCredWithScopeRefusedBeforeSending(t *testing.T) {
	m := newKSMock(t)
	for _, scope := range []Scope{ProjectScope{ID: fxDemoID}, DomainScope{ID: "default"}, SystemScope{}, TrustScope{ID: fxTrustID}, Unscoped{}} {
		for _, cred := range []Credential{
			ApplicationCredential{ID: fxAliceACID, Secret: "alice-ac-secret"},
			MultiFactor{fxAlicePassword, ApplicationCredential{ID: fxAliceACID, Secret: "alice-ac-secret"}},
		} {
			_, err, _, _ := authenticateCapture(t, m.keystone(cred, scope))
			var ve *ValidationError
			require.ErrorAs(t, err, &ve, "%T + %T", cred, scope)
			assert.Equal(t, "Scope", ve.Field)
			assert.NotContains(t, err.Error(), "alice-ac-secret")
		}
	}
	assert.Zero(t, m.calls(), "nothing may be sent")
}

// --- auth URL forms and version discovery ---------------------------------

var fxAliceByID = Password{UserID: fxAliceID, Password: "alice-secret"}

func TestDefaultHTTPClient(t *testing.T) {
	tr, ok := defaultHTTPClient.Transport.(*http.Transport)
	require.True(t, ok)
	assert.Positive(t, tr.TLSHandshakeTimeout)
	assert.Positive(t, tr.ResponseHeaderTimeout)
	assert.NotNil(t, tr.DialContext)
	assert.True(t, tr.TLSClientConfig == nil || !tr.TLSClientConfig.InsecureSkipVerify)
	assert.NotSame(t, http.DefaultTransport, tr, "the shared default transport must not be modified")
	// A Keystone without HTTPClient uses it (with redirect checks on a copy).
	c := sameHostClient(nil)
	assert.Same(t, defaultHTTPClient.Transport, c.Transport)
	assert.NotNil(t, c.CheckRedirect)
	assert.Nil(t, defaultHTTPClient.CheckRedirect, "the shared client is not modified")
}

func TestRedirects(t *testing.T) {
	redirect := func(to string) httpmock.Responder {
		return func(req *http.Request) (*http.Response, error) {
			resp := httpmock.NewStringResponse(http.StatusTemporaryRedirect, "")
			resp.Header.Set("Location", to)
			resp.Request = req
			return resp, nil
		}
	}
	t.Run("to another host refused", func(t *testing.T) {
		for _, to := range []string{"https://evil.test/v3/auth/tokens", "https://keystone.test:5001/v3/auth/tokens", "https://keystone.test/v3/auth/tokens", "http://keystone.test:5000/v3/auth/tokens"} {
			m := newKSMock(t)
			m.respond("POST", mockBase+"/v3/auth/tokens", redirect(to))
			m.respond("POST", to, func(req *http.Request) (*http.Response, error) {
				t.Errorf("credentials followed a redirect to %s", to)
				return httpmock.NewStringResponse(500, ""), nil
			})
			_, err, _, _ := authenticateCapture(t, m.keystone(fxAlicePassword, nil))
			require.ErrorIs(t, err, ErrUntrustedHost, to)
			var qe *RequestSendError
			assert.ErrorAs(t, err, &qe)
			assert.NotContains(t, err.Error(), "alice-secret")
			assert.Equal(t, 1, m.calls(), to)
		}
	})
	t.Run("discovery GET to another host refused, not retried", func(t *testing.T) {
		m := newKSMock(t)
		m.respond("GET", mockBase, redirect("https://evil.test/"))
		_, r := tokenAt(t, "/v3/auth/tokens")
		m.respond("POST", mockBase+"/v3/auth/tokens", r)
		k := m.keystone(fxAliceByID, ProjectScope{ID: fxDemoID})
		k.AuthURL = mockBase
		k.Retry = nil // the default policy: a refusal is not worth retrying
		_, err, _, _ := authenticateCapture(t, k)
		require.NoError(t, err, "falls back to /v3")
		assert.Equal(t, 1, m.mock.GetCallCountInfo()["GET "+mockBase])
	})
	t.Run("same host followed", func(t *testing.T) {
		m := newKSMock(t)
		m.respond("POST", mockBase+"/v3/auth/tokens", redirect(mockBase+"/identity/v3/auth/tokens"))
		_, r := tokenAt(t, "/identity/v3/auth/tokens")
		m.respond("POST", mockBase+"/identity/v3/auth/tokens", r)
		tok, err, _, _ := authenticateCapture(t, m.keystone(fxAliceByID, ProjectScope{ID: fxDemoID}))
		require.NoError(t, err)
		assert.Equal(t, fxProjectToken, tok.ID)
	})
	t.Run("user CheckRedirect still applies", func(t *testing.T) {
		m := newKSMock(t)
		m.respond("POST", mockBase+"/v3/auth/tokens", redirect(mockBase+"/identity/v3/auth/tokens"))
		k := m.keystone(fxAliceByID, nil)
		stop := errors.New("no redirects here")
		k.HTTPClient = &http.Client{Transport: m.mock, CheckRedirect: func(*http.Request, []*http.Request) error { return stop }}
		_, err, _, _ := authenticateCapture(t, k)
		assert.ErrorIs(t, err, stop)
	})
}

// TestAuthRequestNeverLogged: a debug logger sees the flow (so the check can
// fail) but never the request body or a secret.
func TestAuthRequestNeverLogged(t *testing.T) {
	var buf lockedBuffer
	logger := slog.New(slog.NewTextHandler(io.MultiWriter(&buf, suiteLog), &slog.HandlerOptions{Level: slog.LevelDebug}))
	m := newKSMock(t)
	m.respond("GET", mockBase, jsonResponder(503, `{"error":{"code":503,"message":"oops","title":"x"}}`, "Retry-After", "0"))
	m.expectNamed("auth_mfa_carol_password_only_401_receipt", "auth_mfa_carol_password_and_totp")
	k := m.keystone(fxCarolPassword, fxOpsByName)
	k.AuthURL = mockBase
	k.Logger = logger
	k.Retry = &RetryPolicy{MaxAttempts: 2}
	_, err, _, _ := authenticateCapture(t, k)
	require.Error(t, err)
	k.Credentials = MultiFactor{fxCarolPassword, fxCarolTOTP}
	tok, err, _, _ := authenticateCapture(t, k)
	require.NoError(t, err)
	out := buf.String()
	assert.Contains(t, out, "authenticated", "the debug logger must have seen the flow")
	assert.Contains(t, out, "retrying")
	assert.Contains(t, out, fingerprint(tok.ID))
	for _, s := range []string{"carol-secret", fxCarolPasscode, "gAAAAA", `"auth"`, "identity", "passcode"} {
		assert.NotContains(t, out, s)
	}
}

// TestKeystoneConcurrentAuthenticate runs Authenticate from many goroutines
// on one *Keystone (run with -race).
func TestKeystoneConcurrentAuthenticate(t *testing.T) {
	m := newKSMock(t)
	m.respond("GET", mockBase+"/identity", discoveryAt(t, 300, mockBase+"/identity"))
	_, r := tokenAt(t, "/identity/v3/auth/tokens")
	m.respond("POST", mockBase+"/identity/v3/auth/tokens", r)
	k := m.keystone(fxAliceByID, ProjectScope{ID: fxDemoID})
	k.AuthURL = mockBase + "/identity"
	var wg sync.WaitGroup
	var ok atomic.Int32
	for range 16 {
		wg.Go(func() {
			tok, err := k.Authenticate(context.Background())
			recordErr(err)
			if assert.NoError(t, err) && tok.ID == fxProjectToken {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(16), ok.Load())
	assert.Equal(t, 1, m.mock.GetCallCountInfo()["GET "+mockBase+"/identity"])
}

// TestLoginWithUnknownApplicationCredential: Keystone answers a login
// with an application credential it does not know (deleted, say) with a
// 404. That is a refused login (ErrUnauthorized, with a Hint), not a sign
// of a wrong auth URL: discovery does not go on to try other URLs.
func TestLoginWithUnknownApplicationCredential(t *testing.T) {
	srv := keystonetest.NewServer()
	defer srv.Close()
	for _, authURL := range []string{srv.AuthURL(), srv.URL} {
		k := &Keystone{AuthURL: authURL, HTTPClient: srv.Client(), Logger: testLogger(),
			Credentials: ApplicationCredential{ID: "0123456789abcdef0123456789abcdef", Secret: "deleted-ac-secret"}}
		before := srv.Requests("")
		_, err := k.Authenticate(context.Background())
		recordErr(err)
		var he *HTTPError
		require.ErrorAs(t, err, &he, authURL)
		assert.ErrorIs(t, err, ErrUnauthorized)
		assert.NotErrorIs(t, err, ErrNotFound)
		assert.Equal(t, http.StatusNotFound, he.StatusCode)
		assert.Contains(t, he.Hint, "does not exist")
		var de *DiscoveryError
		assert.False(t, errors.As(err, &de), "not reported as a discovery failure")
		if authURL == srv.URL {
			assert.Equal(t, 2, srv.Requests("")-before, "GET / and one login: no other URL tried")
		}
	}
}
