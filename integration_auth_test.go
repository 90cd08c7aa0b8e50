//go:build integration

package ksauth

// Every authentication flow of issue 2 against a real Keystone (started by
// integration_main_test.go). Each test fails if its flow breaks.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func alicePassword(ks *keystoneFixtures) Password {
	return Password{Username: "alice", UserDomain: Domain{Name: "Default"}, Password: ks.Users.Alice.Password}
}

func bobPassword(ks *keystoneFixtures) Password {
	return Password{Username: "bob", UserDomain: Domain{Name: "acme"}, Password: ks.Users.Bob.Password}
}

func carolPassword(ks *keystoneFixtures) Password {
	return Password{Username: "carol", UserDomain: Domain{Name: "acme"}, Password: ks.Users.Carol.Password}
}

// authenticate runs k against the main Keystone and records the token and
// any error for the suite's secret-leak check.
func authenticate(t *testing.T, k *Keystone) (*Token, error) {
	t.Helper()
	if k.AuthURL == "" {
		k.AuthURL = ksMain.AuthURL
	}
	k.Logger = testLogger()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := k.Authenticate(ctx)
	recordErr(err)
	if tok != nil {
		registerSecret(tok.ID)
	}
	return tok, err
}

func mustAuthenticate(t *testing.T, k *Keystone) *Token {
	t.Helper()
	tok, err := authenticate(t, k)
	require.NoError(t, err)
	require.NotEmpty(t, tok.ID)
	return tok
}

func assertLifetime(t *testing.T, tok *Token, ks *keystoneFixtures) {
	t.Helper()
	lifetime := time.Duration(ks.TokenExpirationSeconds) * time.Second
	assert.WithinDuration(t, time.Now().Add(lifetime), tok.ExpiresAt, 5*time.Second)
}

func TestIntegrationPasswordScopes(t *testing.T) {
	ks := ksMain
	demo, ops := ks.Projects.Demo, ks.Projects.Ops
	cases := []struct {
		name  string
		creds Credential
		scope Scope
		check func(t *testing.T, tok *Token)
	}{
		{"by name, project by name and domain name", alicePassword(ks),
			ProjectScope{Name: "demo", Domain: Domain{Name: "Default"}},
			func(t *testing.T, tok *Token) { assert.Equal(t, demo.ID, tok.Project.ID) }},
		{"by id, project by id", Password{UserID: ks.Users.Alice.ID, Password: ks.Users.Alice.Password},
			ProjectScope{ID: demo.ID},
			func(t *testing.T, tok *Token) { assert.Equal(t, "demo", tok.Project.Name) }},
		{"project by name and domain id", bobPassword(ks),
			ProjectScope{Name: "ops", Domain: Domain{ID: ks.Domains.Acme.ID}},
			func(t *testing.T, tok *Token) { assert.Equal(t, ops.ID, tok.Project.ID) }},
		{"user domain by id", Password{Username: "alice", UserDomain: Domain{ID: "default"}, Password: ks.Users.Alice.Password},
			DomainScope{ID: "default"},
			func(t *testing.T, tok *Token) { assert.Equal(t, "default", tok.Domain.ID) }},
		{"domain by name", alicePassword(ks), DomainScope{Name: "Default"},
			func(t *testing.T, tok *Token) {
				require.NotNil(t, tok.Domain)
				assert.Nil(t, tok.Project)
				assert.Equal(t, []string{"reader"}, roleNames(tok))
			}},
		{"system", Password{Username: "admin", UserDomain: Domain{ID: "default"}, Password: ks.Users.Admin.Password},
			SystemScope{},
			func(t *testing.T, tok *Token) { assert.True(t, tok.System) }},
		{"trust", bobPassword(ks), TrustScope{ID: ks.Trusts.AliceToBob.ID},
			func(t *testing.T, tok *Token) {
				require.NotNil(t, tok.Trust)
				assert.Equal(t, ks.Users.Alice.ID, tok.Trust.TrustorUserID)
				assert.Equal(t, ks.Users.Bob.ID, tok.Trust.TrusteeUserID)
				assert.Equal(t, demo.ID, tok.Project.ID)
			}},
		{"nil scope uses the default project", bobPassword(ks), nil,
			func(t *testing.T, tok *Token) { assert.Equal(t, ops.ID, tok.Project.ID) }},
		{"explicit unscoped despite a default project", bobPassword(ks), Unscoped{},
			func(t *testing.T, tok *Token) {
				assert.Nil(t, tok.Project)
				assert.Empty(t, tok.Catalog)
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok := mustAuthenticate(t, &Keystone{Credentials: c.creds, Scope: c.scope})
			assert.Equal(t, []string{"password"}, tok.Methods)
			assertLifetime(t, tok, ks)
			c.check(t, tok)
		})
	}
}

func roleNames(tok *Token) []string { return roleNamesOf(tok.Roles) }

func TestIntegrationWrongPassword(t *testing.T) {
	_, err := authenticate(t, &Keystone{Credentials: Password{Username: "alice", UserDomain: Domain{Name: "Default"}, Password: "not-alice-secret"}})
	require.ErrorIs(t, err, ErrUnauthorized)
	var he *HTTPError
	require.ErrorAs(t, err, &he)
	assert.NotEmpty(t, he.RequestID)
	assert.NotContains(t, err.Error(), "not-alice-secret")
}

func TestIntegrationUnscopedListRescope(t *testing.T) {
	ks := ksMain
	unscoped := mustAuthenticate(t, &Keystone{Credentials: alicePassword(ks)})
	require.Nil(t, unscoped.Project)

	k := &Keystone{AuthURL: ks.AuthURL, Logger: testLogger()}
	projects, err := k.Projects(context.Background(), unscoped)
	require.NoError(t, err)
	require.Len(t, projects, 1)
	assert.Equal(t, Project{ID: ks.Projects.Demo.ID, Name: "demo", Domain: Domain{ID: "default"}}, projects[0])

	domains, err := k.Domains(context.Background(), unscoped)
	require.NoError(t, err)
	assert.Equal(t, []Domain{{ID: "default", Name: "Default"}}, domains)

	system, err := k.CanScopeToSystem(context.Background(), unscoped)
	require.NoError(t, err)
	assert.False(t, system)

	_, err = k.Catalog(context.Background(), unscoped)
	recordErr(err)
	assert.ErrorIs(t, err, ErrForbidden, "Keystone refuses /v3/auth/catalog to an unscoped token")

	scoped := mustAuthenticate(t, &Keystone{Credentials: TokenExchange{Token: unscoped.ID}, Scope: ProjectScope{ID: projects[0].ID}})
	assert.Equal(t, "demo", scoped.Project.Name)
	assert.ElementsMatch(t, []string{"password", "token"}, scoped.Methods)
	assert.Len(t, scoped.Catalog, 7)
	// Rescoping keeps the original expiry (both on the server clock, to the second).
	assert.WithinDuration(t, unscoped.ExpiresAt, scoped.ExpiresAt, 2*time.Second)

	catalog, err := k.Catalog(context.Background(), scoped)
	require.NoError(t, err)
	assert.Len(t, catalog, 7)
}

func TestIntegrationSystemListing(t *testing.T) {
	ks := ksMain
	admin := mustAuthenticate(t, &Keystone{Credentials: Password{Username: "admin", UserDomain: Domain{ID: "default"}, Password: ks.Users.Admin.Password}, Scope: SystemScope{}})
	system, err := (&Keystone{AuthURL: ks.AuthURL}).CanScopeToSystem(context.Background(), admin)
	require.NoError(t, err)
	assert.True(t, system)
}

func TestIntegrationApplicationCredentials(t *testing.T) {
	ks := ksMain
	ac, acr := ks.ApplicationCredentials.Alice, ks.ApplicationCredentials.AliceRestricted
	cases := []struct {
		name  string
		creds ApplicationCredential
	}{
		{"by id", ApplicationCredential{ID: ac.ID, Secret: ac.Secret}},
		{"by name and user id", ApplicationCredential{Name: ac.Name, UserID: ks.Users.Alice.ID, Secret: ac.Secret}},
		{"by name and user name", ApplicationCredential{Name: ac.Name, Username: "alice", UserDomain: Domain{Name: "Default"}, Secret: ac.Secret}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok := mustAuthenticate(t, &Keystone{Credentials: c.creds})
			assert.Equal(t, []string{"application_credential"}, tok.Methods)
			require.NotNil(t, tok.ApplicationCredential)
			assert.Equal(t, ac.ID, tok.ApplicationCredential.ID)
			assert.Equal(t, ks.Projects.Demo.ID, tok.Project.ID)
			assert.Equal(t, []string{"member", "reader"}, roleNames(tok))
		})
	}
	t.Run("restricted", func(t *testing.T) {
		tok := mustAuthenticate(t, &Keystone{Credentials: ApplicationCredential{ID: acr.ID, Secret: acr.Secret}})
		assert.Equal(t, []string{"reader"}, roleNames(tok))
		require.Len(t, tok.ApplicationCredential.AccessRules, 1)
		rule := tok.ApplicationCredential.AccessRules[0]
		assert.Equal(t, AccessRule{ID: rule.ID, Service: "identity", Method: "GET", Path: "/v3/auth/projects"}, rule)
	})
	t.Run("wrong secret", func(t *testing.T) {
		_, err := authenticate(t, &Keystone{Credentials: ApplicationCredential{ID: ac.ID, Secret: "wrong-" + ac.Secret}})
		assert.ErrorIs(t, err, ErrUnauthorized)
	})
	t.Run("with a scope, refused before sending", func(t *testing.T) {
		var sent atomic.Int32
		client := &http.Client{Transport: rtFunc(func(r *http.Request) (*http.Response, error) {
			sent.Add(1)
			return http.DefaultTransport.RoundTrip(r)
		})}
		_, err := authenticate(t, &Keystone{HTTPClient: client, Credentials: ApplicationCredential{ID: ac.ID, Secret: ac.Secret},
			Scope: ProjectScope{ID: ks.Projects.Demo.ID}})
		var ve *ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "Scope", ve.Field)
		assert.Zero(t, sent.Load(), "no request may be sent")
	})
}

// passcodeFor computes the current TOTP passcode. Passcodes are not given to
// registerSecret: six digits turn up in durations and ids by chance. The
// tests that send them assert on the error texts themselves.
func passcodeFor(secret string) string {
	return totpCode(secret, time.Now())
}

func TestIntegrationTOTP(t *testing.T) {
	ks := ksMain
	tok := mustAuthenticate(t, &Keystone{
		Credentials: TOTP{Username: "bob", UserDomain: Domain{Name: "acme"}, Passcode: passcodeFor(ks.Users.Bob.TOTPSecret)},
		Scope:       ProjectScope{ID: ks.Projects.Ops.ID},
	})
	assert.Equal(t, []string{"totp"}, tok.Methods)
	assert.Equal(t, ks.Users.Bob.ID, tok.User.ID)
}

func TestIntegrationMultiFactor(t *testing.T) {
	ks := ksMain
	carol := carolPassword(ks)
	opsScope := ProjectScope{Name: "ops", Domain: Domain{Name: "acme"}}

	t.Run("receipt without Passcode", func(t *testing.T) {
		_, err := authenticate(t, &Keystone{Credentials: carol, Scope: opsScope})
		var mfa *MFARequiredError
		require.ErrorAs(t, err, &mfa)
		assert.ErrorIs(t, err, ErrUnauthorized)
		registerSecret(mfa.Receipt)
		require.Len(t, mfa.RequiredMethods, 1)
		assert.ElementsMatch(t, []string{"password", "totp"}, mfa.RequiredMethods[0])
		assert.Equal(t, []string{"password"}, mfa.Methods)
		assert.Equal(t, ks.Users.Carol.ID, mfa.User.ID)
		assert.WithinDuration(t, time.Now().Add(5*time.Minute), mfa.ExpiresAt, time.Minute)

		// Completing it by hand: the receipt plus the missing method.
		tok := mustAuthenticate(t, &Keystone{Receipt: mfa.Receipt, Scope: opsScope,
			Credentials: TOTP{UserID: mfa.User.ID, Passcode: passcodeFor(ks.Users.Carol.TOTPSecret)}})
		assert.ElementsMatch(t, []string{"password", "totp"}, tok.Methods)
	})

	t.Run("receipt with Passcode continues by itself", func(t *testing.T) {
		var asked int
		tok := mustAuthenticate(t, &Keystone{Credentials: carol, Scope: opsScope,
			Passcode: func(context.Context) (string, error) {
				asked++
				return passcodeFor(ks.Users.Carol.TOTPSecret), nil
			}})
		assert.Equal(t, 1, asked)
		assert.ElementsMatch(t, []string{"password", "totp"}, tok.Methods)
		assert.Equal(t, ks.Projects.Ops.ID, tok.Project.ID, "the scope is sent again with the receipt")
	})

	t.Run("wrong passcode", func(t *testing.T) {
		_, err := authenticate(t, &Keystone{Credentials: carol, Scope: opsScope,
			Passcode: func(context.Context) (string, error) { return "918273", nil }})
		assert.ErrorIs(t, err, ErrUnauthorized)
		assert.NotContains(t, fmt.Sprintf("%v %+v %#v", err, err, err), "918273")
	})

	t.Run("password and totp in one request", func(t *testing.T) {
		tok := mustAuthenticate(t, &Keystone{Scope: opsScope, Credentials: MultiFactor{
			carol,
			TOTP{Username: "carol", UserDomain: Domain{Name: "acme"}, Passcode: passcodeFor(ks.Users.Carol.TOTPSecret)},
		}})
		assert.ElementsMatch(t, []string{"password", "totp"}, tok.Methods)
	})
}

func TestIntegrationValidateCheckRevoke(t *testing.T) {
	ks := ksMain
	ctx := context.Background()
	k := &Keystone{AuthURL: ks.AuthURL, Logger: testLogger()}
	admin := mustAuthenticate(t, &Keystone{Credentials: Password{Username: "admin", UserDomain: Domain{ID: "default"}, Password: ks.Users.Admin.Password}, Scope: SystemScope{}})
	subject := mustAuthenticate(t, &Keystone{Credentials: alicePassword(ks), Scope: ProjectScope{ID: ks.Projects.Demo.ID}})

	got, err := k.ValidateToken(ctx, admin, subject.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, subject.ID, got.ID)
	assert.Equal(t, subject.AuditIDs, got.AuditIDs)
	assert.Len(t, got.Catalog, 7)
	assert.WithinDuration(t, subject.ExpiresAt, got.ExpiresAt, 2*time.Second)

	got, err = k.ValidateToken(ctx, admin, subject.ID, &ValidateOptions{NoCatalog: true})
	require.NoError(t, err)
	assert.Empty(t, got.Catalog)

	valid, err := k.CheckToken(ctx, admin, subject.ID)
	require.NoError(t, err)
	assert.True(t, valid)

	// A token validates itself too.
	_, err = k.ValidateToken(ctx, subject, subject.ID, nil)
	require.NoError(t, err)

	require.NoError(t, k.RevokeToken(ctx, admin, subject.ID))

	_, err = k.ValidateToken(ctx, admin, subject.ID, nil)
	recordErr(err)
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = k.ValidateToken(ctx, admin, subject.ID, &ValidateOptions{AllowExpired: true})
	recordErr(err)
	assert.ErrorIs(t, err, ErrNotFound, "allow_expired does not revive a revoked token")
	valid, err = k.CheckToken(ctx, admin, subject.ID)
	require.NoError(t, err)
	assert.False(t, valid)
}

func TestIntegrationNoCatalog(t *testing.T) {
	tok := mustAuthenticate(t, &Keystone{NoCatalog: true, Credentials: alicePassword(ksMain), Scope: ProjectScope{ID: ksMain.Projects.Demo.ID}})
	assert.Empty(t, tok.Catalog)
	_, err := tok.Catalog.Endpoint(EndpointOpts{Type: "compute"})
	assert.ErrorIs(t, err, ErrNoCatalog)
}

// identityProxy serves the real Keystone under /identity, as many clouds do.
// Like a deployment with public_endpoint set, its links include /identity:
// Keystone itself builds them from the Host header alone.
func identityProxy(t *testing.T, ks *keystoneFixtures) string {
	target, err := url.Parse(ks.Endpoint)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.StripPrefix("/identity", proxy))
	t.Cleanup(srv.Close)
	proxy.ModifyResponse = func(resp *http.Response) error {
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = bytes.ReplaceAll(body, []byte(srv.URL+"/v3"), []byte(srv.URL+"/identity/v3"))
		resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		resp.Header.Del("Content-Length")
		return err
	}
	return srv.URL + "/identity"
}

func TestIntegrationAuthURLForms(t *testing.T) {
	ks := ksMain
	proxied := identityProxy(t, ks)
	for _, authURL := range []string{
		ks.Endpoint, ks.Endpoint + "/", ks.Endpoint + "/v3", ks.Endpoint + "/v3/",
		proxied, proxied + "/", proxied + "/v3", proxied + "/v3/",
	} {
		t.Run(authURL, func(t *testing.T) {
			k := &Keystone{AuthURL: authURL, Credentials: alicePassword(ks)}
			endpoint, err := k.IdentityURL(context.Background())
			require.NoError(t, err)
			assert.True(t, strings.HasSuffix(endpoint.Path, "/v3"), endpoint.String())
			assert.NotContains(t, endpoint.Path, "/v3/v3")
			mustAuthenticate(t, k)
		})
	}
}

func TestIntegrationCatalogLookups(t *testing.T) {
	ks := ksMain
	tok := mustAuthenticate(t, &Keystone{Credentials: alicePassword(ks), Scope: ProjectScope{ID: ks.Projects.Demo.ID}})
	require.Len(t, tok.Catalog, 7)
	endpoints := 0
	for _, s := range tok.Catalog {
		endpoints += len(s.Endpoints)
	}
	assert.Equal(t, 39, endpoints)

	project := ks.Projects.Demo.ID
	cases := []struct {
		opts EndpointOpts
		want string
	}{
		{EndpointOpts{Type: "identity"}, ks.AuthURL},
		{EndpointOpts{Type: "compute", Region: "RegionTwo"}, "http://public.regiontwo.example.test:8774/v2.1"},
		{EndpointOpts{Type: "compute", Region: "RegionOne", Interfaces: []string{"internal"}}, "http://internal.regionone.example.test:8774/v2.1"},
		{EndpointOpts{Type: "compute", Region: "RegionOne", Interfaces: []string{"adminURL"}}, "http://admin.regionone.example.test:8774/v2.1"},
		{EndpointOpts{Type: "network", Name: "neutron", Region: "RegionTwo"}, "http://public.regiontwo.example.test:9696/"},
		{EndpointOpts{Type: "volumev3", Region: "RegionOne"}, "http://public.regionone.example.test:8776/v3/" + project},
		{EndpointOpts{Type: "block-storage", Region: "RegionOne", Name: "cinderv3"}, "http://public.regionone.example.test:8776/v3/" + project},
		{EndpointOpts{Type: "block-storage", Region: "RegionOne", Name: "cinder"}, "http://public.regionone.example.test:8776/v3/" + project},
		{EndpointOpts{Type: "object-store", Region: "RegionTwo", Interfaces: []string{"internal", "public"}}, "http://internal.regiontwo.example.test:8080/v1/AUTH_" + project},
	}
	for _, c := range cases {
		got, err := tok.Catalog.Endpoint(c.opts)
		require.NoError(t, err, "%+v", c.opts)
		assert.Equal(t, c.want, got, "%+v", c.opts)
	}

	_, err := tok.Catalog.Endpoint(EndpointOpts{Type: "compute", Region: "regiontwo"})
	var nf *EndpointNotFoundError
	require.ErrorAs(t, err, &nf)
	assert.Contains(t, err.Error(), "RegionTwo")
	assert.Contains(t, nf.Hint, "case")
	assert.True(t, errors.Is(err, ErrNotFound))

	_, err = tok.Catalog.Endpoint(EndpointOpts{Type: "dns"})
	assert.ErrorAs(t, err, &nf)
}

// TestIntegrationVersions: the availability check against a real Keystone
// root and /v3 URL, a closed port, and a path that is not Keystone's.
func TestIntegrationVersions(t *testing.T) {
	ks := ksMain
	ctx := context.Background()
	for _, authURL := range []string{ks.Endpoint, ks.AuthURL} {
		versions, err := (&Keystone{AuthURL: authURL}).Versions(ctx)
		require.NoError(t, err, authURL)
		require.NotEmpty(t, versions)
		assert.True(t, strings.HasPrefix(versions[0].ID, "v3"), "%+v", versions)
		assert.Equal(t, "stable", versions[0].Status)
		assert.False(t, versions[0].Updated.IsZero())
	}
	_, err := (&Keystone{AuthURL: ks.Endpoint + "/not-keystone"}).Versions(ctx)
	recordErr(err)
	assert.ErrorIs(t, err, ErrNotFound)

	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	_, err = (&Keystone{AuthURL: closed.URL, Retry: &RetryPolicy{MaxAttempts: 1}}).Versions(ctx)
	recordErr(err)
	var se *RequestSendError
	assert.ErrorAs(t, err, &se)
}

// TestIntegrationValidatorSurvivesItsOwnRevocation: a service validating
// users' tokens through a Session re-authenticates once when its own token
// is revoked, and the validation succeeds.
func TestIntegrationValidatorSurvivesItsOwnRevocation(t *testing.T) {
	ks := ksMain
	ctx := context.Background()
	k := &Keystone{AuthURL: ks.AuthURL}
	var logins atomic.Int32
	service := NewSession(AuthenticatorFunc(func(ctx context.Context) (*Token, error) {
		logins.Add(1)
		return (&Keystone{AuthURL: ks.AuthURL, Credentials: Password{Username: "admin", UserDomain: Domain{ID: "default"},
			Password: ks.Users.Admin.Password}, Scope: SystemScope{}}).Authenticate(ctx)
	}), nil)
	subject := mustAuthenticate(t, &Keystone{Credentials: alicePassword(ks), Scope: ProjectScope{ID: ks.Projects.Demo.ID}})

	_, err := k.ValidateToken(ctx, service, subject.ID, nil)
	require.NoError(t, err)
	own, err := service.Token(ctx)
	require.NoError(t, err)
	require.NoError(t, k.RevokeToken(ctx, own, own.ID))

	got, err := k.ValidateToken(ctx, service, subject.ID, nil)
	require.NoError(t, err, "the revoked service token is replaced and the call resent")
	assert.Equal(t, subject.AuditIDs, got.AuditIDs)
	assert.Equal(t, int32(2), logins.Load())
}
