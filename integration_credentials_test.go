//go:build integration

package ksauth

// Credential management (issue 10) against the real Keystone: application
// credentials with roles and access rules, their restrictions, the
// clouds.yaml they become, and EC2 credentials.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// aliceOnDemo is a Session for alice's project-scoped password login.
func aliceOnDemo(t *testing.T) *Session {
	t.Helper()
	k := &Keystone{AuthURL: ksMain.AuthURL, Credentials: alicePassword(ksMain), Scope: ProjectScope{ID: ksMain.Projects.Demo.ID}, Logger: testLogger()}
	s := NewSession(k, &SessionOptions{Logger: testLogger()})
	registerSecret(mustToken(t, s).ID)
	return s
}

func uniqueName(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

func ctx30s(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestIntegrationApplicationCredentialLifecycle(t *testing.T) {
	ks, ctx := ksMain, ctx30s(t)
	k := &Keystone{AuthURL: ks.AuthURL, Logger: testLogger()}
	alice := aliceOnDemo(t)
	// A path of its own: Keystone reuses an existing identical rule (the
	// fixture alice-ac-restricted's), which would stay in use.
	rule := AccessRule{Service: "identity", Method: "GET", Path: "/v3/" + uniqueName("ksauth-it") + "/**"}
	expires := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
	name := uniqueName("ksauth-it")

	created, err := k.CreateApplicationCredential(ctx, alice, "", NewApplicationCredential{
		Name: name, Description: "integration", ExpiresAt: expires,
		Roles: []Role{{Name: "member"}}, AccessRules: []AccessRule{rule},
	})
	recordErr(err)
	require.NoError(t, err)
	registerSecret(created.Secret)
	assert.Len(t, created.Secret, 86, "Keystone generates 64 random bytes, base64url")
	assert.Equal(t, name, created.Name)
	assert.Equal(t, "integration", created.Description)
	assert.Equal(t, ks.Users.Alice.ID, created.UserID)
	assert.Equal(t, ks.Projects.Demo.ID, created.ProjectID)
	assert.True(t, expires.Equal(created.ExpiresAt), "expires %v, want %v", created.ExpiresAt, expires)
	assert.Equal(t, []string{"member"}, roleNamesOf(created.Roles))
	require.Len(t, created.AccessRules, 1)
	ruleID := created.AccessRules[0].ID
	assert.Equal(t, AccessRule{ID: ruleID, Service: rule.Service, Method: rule.Method, Path: rule.Path}, created.AccessRules[0])
	assert.False(t, created.Unrestricted)

	// Its tokens: member only, the access rule, and they validate (the
	// access-rules header is sent).
	tok := mustAuthenticate(t, &Keystone{Credentials: created.Credential()})
	assert.Equal(t, []string{"member"}, roleNames(tok))
	require.NotNil(t, tok.ApplicationCredential)
	assert.Equal(t, created.ID, tok.ApplicationCredential.ID)
	assert.True(t, tok.ApplicationCredential.Restricted)
	validated, err := k.ValidateToken(ctx, alice, tok.ID, nil)
	recordErr(err)
	require.NoError(t, err, "a token with access rules validates with Openstack-Identity-Access-Rules")
	assert.Equal(t, created.ID, validated.ApplicationCredential.ID)

	t.Run("clouds.yaml", func(t *testing.T) {
		doc, err := created.CloudsYAML("it", ks.AuthURL, ks.Region)
		require.NoError(t, err)
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "clouds.yaml"), doc, 0o600))
		cfg, err := LoadConfig(&ConfigOptions{Cloud: "it", Dir: dir, Env: []string{"HOME=" + dir}, Logger: testLogger()})
		recordErr(err)
		require.NoError(t, err)
		tok := mustAuthenticate(t, cfg.Keystone)
		assert.Equal(t, created.ID, tok.ApplicationCredential.ID)
	})

	t.Run("list and get show no secret", func(t *testing.T) {
		byName, err := k.ApplicationCredentials(ctx, alice, "", name)
		recordErr(err)
		require.NoError(t, err)
		require.Len(t, byName, 1)
		assert.Equal(t, created.ID, byName[0].ID)
		assert.Empty(t, byName[0].Secret)
		all, err := k.ApplicationCredentials(ctx, alice, ks.Users.Alice.ID, "")
		recordErr(err)
		require.NoError(t, err)
		assert.Contains(t, idsOf(all), created.ID)
		assert.Contains(t, idsOf(all), ks.ApplicationCredentials.Alice.ID)
		got, err := k.GetApplicationCredential(ctx, alice, "", created.ID)
		recordErr(err)
		require.NoError(t, err)
		want := *created
		want.Secret = ""
		assert.Equal(t, want, *got)
	})

	t.Run("access rules", func(t *testing.T) {
		rules, err := k.AccessRules(ctx, alice, "")
		recordErr(err)
		require.NoError(t, err)
		assert.Contains(t, rules, created.AccessRules[0])
		got, err := k.GetAccessRule(ctx, alice, "", ruleID)
		recordErr(err)
		require.NoError(t, err)
		assert.Equal(t, created.AccessRules[0], *got)
		err = k.DeleteAccessRule(ctx, alice, "", ruleID)
		recordErr(err)
		var he *HTTPError
		require.ErrorAs(t, err, &he, "in use")
		assert.ErrorIs(t, err, ErrForbidden)
		assert.Contains(t, he.Hint, "delete the application credentials that use the rule first")
	})

	t.Run("a restricted credential's token cannot create another", func(t *testing.T) {
		_, err := k.CreateApplicationCredential(ctx, tok, "", NewApplicationCredential{Name: uniqueName("ksauth-it-nested")})
		recordErr(err)
		var he *HTTPError
		require.ErrorAs(t, err, &he)
		assert.ErrorIs(t, err, ErrForbidden)
		assert.Contains(t, he.Hint, "restricted application credential")
		assert.Contains(t, err.Error(), "authenticate with a password or an unrestricted application credential")
	})

	t.Run("duplicate name, unassigned role, another user", func(t *testing.T) {
		_, err := k.CreateApplicationCredential(ctx, alice, "", NewApplicationCredential{Name: name})
		recordErr(err)
		var he *HTTPError
		require.ErrorAs(t, err, &he)
		assert.Equal(t, 409, he.StatusCode)
		_, err = k.CreateApplicationCredential(ctx, alice, "", NewApplicationCredential{Name: uniqueName("ksauth-it"), Roles: []Role{{Name: "admin"}}})
		recordErr(err)
		assert.ErrorIs(t, err, ErrBadRequest)
		_, err = k.CreateApplicationCredential(ctx, alice, ks.Users.Bob.ID, NewApplicationCredential{Name: uniqueName("ksauth-it")})
		recordErr(err)
		require.ErrorAs(t, err, &he)
		assert.ErrorIs(t, err, ErrForbidden)
		assert.Contains(t, he.Hint, "authenticate as that user")
	})

	require.NoError(t, k.DeleteApplicationCredential(ctx, alice, "", created.ID))
	_, err = authenticate(t, &Keystone{Credentials: created.Credential()})
	assert.ErrorIs(t, err, ErrUnauthorized, "a deleted credential logs in no more (Keystone: 404)")
	_, err = authenticate(t, &Keystone{AuthURL: ks.Endpoint, Credentials: created.Credential()})
	assert.ErrorIs(t, err, ErrUnauthorized, "the same through discovery: a refusal, not a wrong URL")
	_, err = k.GetApplicationCredential(ctx, alice, "", created.ID)
	recordErr(err)
	assert.ErrorIs(t, err, ErrNotFound)
	err = k.DeleteApplicationCredential(ctx, alice, "", created.ID)
	recordErr(err)
	assert.ErrorIs(t, err, ErrNotFound)
	err = k.DeleteAccessRule(ctx, alice, "", ruleID)
	recordErr(err)
	assert.NoError(t, err, "the rule is free once its credential is gone")
}

func TestIntegrationApplicationCredentialGivenSecretAndUnrestricted(t *testing.T) {
	ctx := ctx30s(t)
	k := &Keystone{AuthURL: ksMain.AuthURL, Logger: testLogger()}
	alice := aliceOnDemo(t)
	secret := "given-" + uniqueName("secret")
	registerSecret(secret)
	created, err := k.CreateApplicationCredential(ctx, alice, "", NewApplicationCredential{Name: uniqueName("ksauth-it-unrestricted"), Secret: secret, Unrestricted: true})
	recordErr(err)
	require.NoError(t, err)
	t.Cleanup(func() { _ = k.DeleteApplicationCredential(context.Background(), alice, "", created.ID) })
	assert.Equal(t, secret, created.Secret)
	assert.True(t, created.Unrestricted)
	assert.Equal(t, []string{"member", "reader"}, roleNamesOf(created.Roles), "the token's roles by default")

	// An unrestricted credential's token may create (and delete) another.
	tok := mustAuthenticate(t, &Keystone{Credentials: ApplicationCredential{ID: created.ID, Secret: secret}})
	nested, err := k.CreateApplicationCredential(ctx, tok, "", NewApplicationCredential{Name: uniqueName("ksauth-it-nested")})
	recordErr(err)
	require.NoError(t, err)
	registerSecret(nested.Secret)
	require.NoError(t, k.DeleteApplicationCredential(ctx, tok, "", nested.ID))
}

func TestIntegrationTrustTokenCannotManageApplicationCredentials(t *testing.T) {
	ks, ctx := ksMain, ctx30s(t)
	k := &Keystone{AuthURL: ks.AuthURL, Logger: testLogger()}
	tok := mustAuthenticate(t, &Keystone{Credentials: bobPassword(ks), Scope: TrustScope{ID: ks.Trusts.AliceToBob.ID}})
	_, err := k.CreateApplicationCredential(ctx, tok, "", NewApplicationCredential{Name: uniqueName("ksauth-it-trust")})
	recordErr(err)
	var he *HTTPError
	require.ErrorAs(t, err, &he)
	assert.ErrorIs(t, err, ErrForbidden)
	assert.Contains(t, he.Hint, "trust-scoped")
	_, err = k.ApplicationCredentials(ctx, tok, "", "")
	recordErr(err)
	require.ErrorAs(t, err, &he)
	assert.Contains(t, he.Hint, "trust-scoped")
}

func TestIntegrationEC2Credentials(t *testing.T) {
	ks, ctx := ksMain, ctx30s(t)
	k := &Keystone{AuthURL: ks.AuthURL, Logger: testLogger()}
	alice := aliceOnDemo(t)

	created, err := k.CreateEC2Credential(ctx, alice, "", "")
	recordErr(err)
	require.NoError(t, err)
	registerSecret(created.Secret)
	assert.Equal(t, ks.Users.Alice.ID, created.UserID)
	assert.Equal(t, ks.Projects.Demo.ID, created.ProjectID, "the token's project")
	assert.Empty(t, created.TrustID)

	list, err := k.EC2Credentials(ctx, alice, "")
	recordErr(err)
	require.NoError(t, err)
	assert.Contains(t, list, *created)
	got, err := k.GetEC2Credential(ctx, alice, ks.Users.Alice.ID, created.Access)
	recordErr(err)
	require.NoError(t, err)
	assert.Equal(t, *created, *got)

	require.NoError(t, k.DeleteEC2Credential(ctx, alice, "", created.Access))
	_, err = k.GetEC2Credential(ctx, alice, "", created.Access)
	recordErr(err)
	assert.ErrorIs(t, err, ErrNotFound)
	assert.NotErrorIs(t, err, ErrUnauthorized)
	err = k.DeleteEC2Credential(ctx, alice, "", created.Access)
	recordErr(err)
	assert.ErrorIs(t, err, ErrNotFound)

	t.Run("explicit project", func(t *testing.T) {
		c, err := k.CreateEC2Credential(ctx, alice, "", ks.Projects.Demo.ID)
		recordErr(err)
		require.NoError(t, err)
		registerSecret(c.Secret)
		require.NoError(t, k.DeleteEC2Credential(ctx, alice, "", c.Access))
	})

	t.Run("an application credential's token is refused", func(t *testing.T) {
		ac := ks.ApplicationCredentials.Alice
		tok := mustAuthenticate(t, &Keystone{Credentials: ApplicationCredential{ID: ac.ID, Secret: ac.Secret}})
		_, err := k.CreateEC2Credential(ctx, tok, "", "")
		recordErr(err)
		var he *HTTPError
		require.ErrorAs(t, err, &he)
		assert.ErrorIs(t, err, ErrForbidden)
		assert.Contains(t, he.Hint, "authenticate with a password")
	})
}

func roleNamesOf(roles []Role) []string {
	var out []string
	for _, r := range roles {
		out = append(out, r.Name)
	}
	slices.Sort(out)
	return out
}

func idsOf(creds []ApplicationCredentialInfo) []string {
	var out []string
	for _, c := range creds {
		out = append(out, c.ID)
	}
	return out
}
