package ksauth

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKeystoneTimeForms(t *testing.T) {
	want := time.Date(2026, 11, 23, 7, 43, 9, 0, time.UTC)
	tests := []struct {
		json string
		want time.Time
		ok   bool
	}{
		{`"2026-11-23T07:43:09.000000Z"`, want, true}, // tokens, receipts
		{`"2026-11-23T07:43:09Z"`, want, true},        // RFC 3339 without fraction
		{`"2026-11-23T07:43:09"`, want, true},         // capped app cred token: no fraction, no Z
		{`"2026-11-23T07:43:09.000000"`, want, true},  // app cred resources: fraction, no Z (UTC)
		{`"2026-11-23T07:43:09.5"`, want.Add(500 * time.Millisecond), true},
		{`"2026-11-23T08:43:09+01:00"`, want, true}, // an offset is honoured
		{`"2026-11-23T07:43:09.123456789Z"`, want.Add(123456789), true},
		{`" 2026-11-23T07:43:09Z "`, want, true},
		{`null`, time.Time{}, true}, // never
		{`"tomorrow"`, time.Time{}, false},
		{`""`, time.Time{}, false},
		{`"2026-11-23"`, time.Time{}, false},
		{`"2026-11-23 07:43:09"`, time.Time{}, false},
		{`12`, time.Time{}, false},
		{`true`, time.Time{}, false},
		{`{}`, time.Time{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.json, func(t *testing.T) {
			var kt keystoneTime
			err := json.Unmarshal([]byte(tc.json), &kt)
			if !tc.ok {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.True(t, tc.want.Equal(kt.Time), "got %v", kt.Time)
			if !kt.IsZero() {
				assert.Equal(t, time.UTC, kt.Location())
			}
		})
	}
}

// authWithBody authenticates against a fake that answers 201 with body.
func authWithBody(t *testing.T, body string, header ...string) (*Token, error, time.Time, time.Time) {
	t.Helper()
	m := newKSMock(t)
	if len(header) == 0 {
		header = []string{"X-Subject-Token", "gAAAAAB-placeholder-test"}
	}
	m.respond("POST", mockBase+"/v3/auth/tokens", jsonResponder(201, body, header...))
	return authenticateCapture(t, m.keystone(fxAliceByID, nil))
}

// shiftTimes moves issued_at and expires_at of a recorded token body by d,
// as a server whose clock is d off would have written them.
func shiftTimes(t *testing.T, c *ksCapture, d time.Duration) string {
	body := c.responseJSON(t)
	tok := body["token"].(map[string]any)
	for _, k := range []string{"issued_at", "expires_at"} {
		v, err := parseKeystoneTime(tok[k].(string))
		require.NoError(t, err)
		tok[k] = v.Add(d).Format("2006-01-02T15:04:05.000000Z")
	}
	b, err := json.Marshal(body)
	require.NoError(t, err)
	return string(b)
}

// TestExpiryIgnoresClockSkew: a token from a server whose clock is an hour
// (or a year) off still expires one lifetime after the local send time.
func TestExpiryIgnoresClockSkew(t *testing.T) {
	c := loadCapture(t, "auth_password_project_id")
	for _, skew := range []time.Duration{0, time.Hour, -time.Hour, 365 * 24 * time.Hour, -20 * 365 * 24 * time.Hour} {
		t.Run(skew.String(), func(t *testing.T) {
			tok, err, before, after := authWithBody(t, shiftTimes(t, c, skew), "X-Subject-Token", fxProjectToken)
			require.NoError(t, err)
			assertLocalExpiry(t, tok, time.Hour, before, after)
			assert.True(t, tok.Valid(after))
			assert.False(t, tok.Valid(after.Add(time.Hour+time.Second)))
			assert.Equal(t, ts(t, "2026-11-23T06:43:09Z").Add(skew), tok.IssuedAt, "IssuedAt stays on the server clock")
		})
	}
}

func TestExpiryNullAndPartial(t *testing.T) {
	c := loadCapture(t, "auth_password_unscoped")
	body := c.responseJSON(t)
	tok := body["token"].(map[string]any)

	tok["expires_at"] = nil
	b, _ := json.Marshal(body)
	got, err, _, after := authWithBody(t, string(b))
	require.NoError(t, err)
	assert.True(t, got.ExpiresAt.IsZero(), "null expires_at: never expires")
	assert.True(t, got.Valid(after.Add(100*365*24*time.Hour)))
	assert.Contains(t, got.String(), "expires never")

	// Without issued_at there is no server "now": the server's expiry is used.
	tok["expires_at"] = "2026-11-23T07:43:10.000000Z"
	delete(tok, "issued_at")
	b, _ = json.Marshal(body)
	got, err, _, _ = authWithBody(t, string(b))
	require.NoError(t, err)
	assert.Equal(t, ts(t, "2026-11-23T07:43:10Z"), got.ExpiresAt)
	assert.True(t, got.IssuedAt.IsZero())

	// An expiry before the issue time gives an already expired token, not a panic.
	tok["issued_at"] = "2026-11-23T08:43:10Z"
	b, _ = json.Marshal(body)
	got, err, before, _ := authWithBody(t, string(b))
	require.NoError(t, err)
	assert.False(t, got.Valid(before))
}

func TestUserPasswordExpiresAt(t *testing.T) {
	c := loadCapture(t, "auth_password_project_id")
	body := c.responseJSON(t)
	body["token"].(map[string]any)["user"].(map[string]any)["password_expires_at"] = "2027-01-01T00:00:00.000000"
	b, _ := json.Marshal(body)
	tok, err, _, _ := authWithBody(t, string(b))
	require.NoError(t, err)
	assert.Equal(t, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), tok.User.PasswordExpiresAt)

	tok, err, _, _ = authWithBody(t, string(c.Response.Body))
	require.NoError(t, err)
	assert.True(t, tok.User.PasswordExpiresAt.IsZero(), "null: does not expire")
}

func TestIsDomain(t *testing.T) {
	c := loadCapture(t, "auth_password_project_id")
	body := c.responseJSON(t)
	body["token"].(map[string]any)["is_domain"] = true
	b, _ := json.Marshal(body)
	tok, err, _, _ := authWithBody(t, string(b))
	require.NoError(t, err)
	assert.True(t, tok.IsDomain)
}

// TestMalformedTokenResponses: every unusable 201 is a *MalformedResponseError, never
// a panic and never a half-filled token.
func TestMalformedTokenResponses(t *testing.T) {
	good := string(loadCapture(t, "auth_password_project_id").Response.Body)
	tests := []struct {
		name   string
		body   string
		header []string
		reason string
	}{
		{"no X-Subject-Token", good, []string{"X-Other", "1"}, "missing X-Subject-Token header"},
		{"empty body", "", nil, "malformed JSON body"},
		{"not json", "<html>hello</html>", nil, "malformed JSON body"},
		{"truncated", good[:len(good)/2], nil, "malformed JSON body"},
		{"truncated at the end", good[:len(good)-1], nil, "malformed JSON body"},
		{"json null", "null", nil, `no "token" object`},
		{"empty object", "{}", nil, `no "token" object`},
		{"token null", `{"token":null}`, nil, `no "token" object`},
		{"array", `[]`, nil, "malformed JSON body"},
		{"token is an array", `{"token":[]}`, nil, "malformed JSON body"},
		{"methods is a string", `{"token":{"methods":"password"}}`, nil, "malformed JSON body"},
		{"user is a string", `{"token":{"user":"alice"}}`, nil, "malformed JSON body"},
		{"expires_at is a number", `{"token":{"expires_at":12}}`, nil, "malformed JSON body"},
		{"expires_at is prose", `{"token":{"expires_at":"tomorrow"}}`, nil, "malformed JSON body"},
		{"issued_at is an object", `{"token":{"issued_at":{}}}`, nil, "malformed JSON body"},
		{"catalog is an object", `{"token":{"catalog":{}}}`, nil, "malformed JSON body"},
		{"endpoints is a string", `{"token":{"catalog":[{"type":"compute","endpoints":"x"}]}}`, nil, "malformed JSON body"},
		{"roles of numbers", `{"token":{"roles":[1,2]}}`, nil, "malformed JSON body"},
		{"system is true", `{"token":{"system":true}}`, nil, "malformed JSON body"},
		{"trust is a string", `{"token":{"OS-TRUST:trust":"x"}}`, nil, "malformed JSON body"},
		{"is_domain is a string", `{"token":{"is_domain":"false"}}`, nil, "malformed JSON body"},
		{"app cred is a list", `{"token":{"application_credential":[]}}`, nil, "malformed JSON body"},
		{"password_expires_at bad", `{"token":{"user":{"password_expires_at":"soon"}}}`, nil, "malformed JSON body"},
		{"trailing garbage", good + "x", nil, "malformed JSON body"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err, _, _ := authWithBody(t, tc.body, tc.header...)
			assert.Nil(t, tok)
			var re *MalformedResponseError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, 201, re.StatusCode)
			assert.Equal(t, "POST", re.Method)
			assert.Equal(t, mockBase+"/v3/auth/tokens", re.URL)
			assert.Contains(t, err.Error(), tc.reason)
			assert.NotContains(t, err.Error(), "gAAAAA")
		})
	}
}

// TestMalformedBodyEchoRedacted: the decoding error quotes a bit of the body;
// a token-shaped value there is redacted.
func TestMalformedBodyEchoRedacted(t *testing.T) {
	_, err, _, _ := authWithBody(t, `{"token":{"expires_at":"gAAAAAB-placeholder-in-a-timestamp"}}`)
	var re *MalformedResponseError
	require.ErrorAs(t, err, &re)
	assert.Contains(t, err.Error(), "timestamp")
	assert.NotContains(t, err.Error(), "gAAAAA")
}

func TestBodySizeLimit(t *testing.T) {
	good := string(loadCapture(t, "auth_password_project_id").Response.Body)
	t.Run("exactly 1 MiB is read", func(t *testing.T) {
		body := good + strings.Repeat(" ", maxBodySize-len(good))
		require.Len(t, body, 1<<20)
		tok, err, _, _ := authWithBody(t, body, "X-Subject-Token", fxProjectToken)
		require.NoError(t, err)
		assert.Equal(t, fxDemoID, tok.Project.ID)
	})
	t.Run("one byte more is refused", func(t *testing.T) {
		body := good + strings.Repeat(" ", maxBodySize-len(good)+1)
		_, err, _, _ := authWithBody(t, body, "X-Subject-Token", fxProjectToken)
		var re *MalformedResponseError
		require.ErrorAs(t, err, &re)
		assert.Contains(t, err.Error(), "larger than 1048576 bytes")
	})
	t.Run("error body too", func(t *testing.T) {
		m := newKSMock(t)
		m.respond("POST", mockBase+"/v3/auth/tokens", jsonResponder(500, strings.Repeat("x", 3<<20)))
		_, err, _, _ := authenticateCapture(t, m.keystone(fxAliceByID, nil))
		var re *MalformedResponseError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, 500, re.StatusCode)
	})
}

func TestTokenValid(t *testing.T) {
	now := time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)
	var nilTok *Token
	assert.False(t, nilTok.Valid(now))
	assert.False(t, (&Token{}).Valid(now), "no id")
	assert.True(t, (&Token{ID: "x"}).Valid(now), "zero expiry: never expires")
	assert.True(t, (&Token{ID: "x", ExpiresAt: now.Add(time.Nanosecond)}).Valid(now))
	assert.False(t, (&Token{ID: "x", ExpiresAt: now}).Valid(now), "expired at its expiry instant")
	assert.False(t, (&Token{ID: "x", ExpiresAt: now.Add(-time.Second)}).Valid(now))
}

func TestTokenHeaders(t *testing.T) {
	tok := &Token{ID: fxProjectToken}
	h := http.Header{"Accept": {"application/json"}}
	tok.SetHeaders(h)
	assert.Equal(t, http.Header{"Accept": {"application/json"}, "X-Auth-Token": {fxProjectToken}}, h)
	tok.dropHeaders(h)
	assert.Equal(t, http.Header{"Accept": {"application/json"}}, h)

	for status, want := range map[int]bool{200: false, 401: true, 403: false, 404: false, 500: false} {
		assert.Equal(t, want, tok.rejected(&http.Response{StatusCode: status}), "status %d", status)
	}
}

func TestTokenString(t *testing.T) {
	exp := time.Date(2026, 11, 23, 7, 43, 9, 0, time.UTC)
	tests := []struct {
		tok  *Token
		want string
	}{
		{nil, "Token(nil)"},
		{&Token{ID: fxProjectToken, User: User{Name: "alice"}, Project: fxDemoProject, ExpiresAt: exp},
			"Token(" + fingerprint(fxProjectToken) + ", user alice, project demo (" + fxDemoID + "), expires 2026-11-23T07:43:09Z)"},
		{&Token{ID: fxProjectToken, User: User{Name: "alice"}, Domain: &fxDefaultDomain},
			"Token(" + fingerprint(fxProjectToken) + ", user alice, domain Default (default), expires never)"},
		{&Token{ID: fxSystemToken, User: User{Name: "admin"}, System: true, ExpiresAt: exp},
			"Token(" + fingerprint(fxSystemToken) + ", user admin, system, expires 2026-11-23T07:43:09Z)"},
		{&Token{ID: "x", User: User{Name: "bob"}, Trust: &Trust{ID: fxTrustID}},
			"Token(" + fingerprint("x") + ", user bob, trust " + fxTrustID + ", expires never)"},
		{&Token{ID: "x", User: User{Name: "bob"}},
			"Token(" + fingerprint("x") + ", user bob, unscoped, expires never)"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, tc.tok.String())
	}
	assert.Regexp(t, `^sha256:[0-9a-f]{8}$`, fingerprint(fxProjectToken))
	assert.NotEqual(t, fingerprint(fxProjectToken), fingerprint(fxSystemToken))
	assert.Equal(t, "", fingerprint(""))
}

// TestTokenRescopeKeepsExpiry: the token-method exchange answer keeps the
// original expires_at; ExpiresAt reflects the shorter remaining lifetime.
func TestTokenRescopeKeepsExpiry(t *testing.T) {
	m := newKSMock(t)
	m.expectNamed("auth_password_unscoped", "auth_token_rescope_unscoped_to_project")
	unscoped, err := m.keystone(fxAlicePassword, nil).Authenticate(context.Background())
	require.NoError(t, err)
	before := time.Now()
	scoped, err := m.keystone(TokenExchange{Token: unscoped.ID}, fxDemoByName).Authenticate(context.Background())
	after := time.Now()
	require.NoError(t, err)
	assertLocalExpiry(t, scoped, 59*time.Minute+58*time.Second, before, after)
	assert.Equal(t, fxDemoID, scoped.Project.ID)
	assert.Len(t, scoped.Catalog, 7)
}

// TestAppCredResourceTimestamps decodes the application credential resources
// of the captures (no ksauth call reads them): their expires_at has a
// fraction but no zone, and is the same instant as the capped token's.
func TestAppCredResourceTimestamps(t *testing.T) {
	var res struct {
		AC struct {
			ExpiresAt   keystoneTime `json:"expires_at"`
			AccessRules []AccessRule `json:"access_rules"`
			Roles       []Role       `json:"roles"`
		} `json:"application_credential"`
	}
	require.NoError(t, json.Unmarshal(loadCapture(t, "get_appcred_restricted").Response.Body, &res))
	assert.Equal(t, ts(t, "2026-11-24T06:43:06Z"), res.AC.ExpiresAt.Time)
	assert.Equal(t, []AccessRule{{ID: "9a0962cc884045a994960243ef131547", Service: "identity", Path: "/v3/auth/projects", Method: "GET"}}, res.AC.AccessRules)
	assert.Equal(t, []Role{{ID: fxRoleReader, Name: "reader"}}, res.AC.Roles)

	require.NoError(t, json.Unmarshal(loadCapture(t, "create_appcred_short_expiry").Response.Body, &res))
	capped := loadCapture(t, "auth_appcred_capped_expiry").responseJSON(t)["token"].(map[string]any)["expires_at"].(string)
	assert.Equal(t, "2026-11-23T07:03:13", capped, "the capture's quirk: no fraction, no zone")
	cappedAt, err := parseKeystoneTime(capped)
	require.NoError(t, err)
	assert.Equal(t, res.AC.ExpiresAt.Time, cappedAt)
}
