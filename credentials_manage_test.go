package ksauth

// Application credentials and access rules (credentials_manage.go) against
// the real Keystone captures cred_* (testdata/keystone/README.md, "Credential
// management captures") and, for what that Keystone cannot produce,
// hand-made answers. A replayed capture also pins the request: method, path
// and query, headers, the JSON body.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Ids and secrets of the cred_* capture run (not those of the first run).
const (
	crAliceID        = "eeb04fd3706c4610bee36c02fe330480"
	crBobID          = "26b3681bd8e84e7ebb1907f770532f0d"
	crDemoID         = "577a2564527b4bd285e26838ce101fc6"
	crOpsID          = "bbeb6bcbc0bf4b70a8b9f2d0b8449593"
	crRoleMember     = "c02d98e89e1b4fcaa0f493c519e9d800"
	crRoleReader     = "7529855a3d794da7af3ac8bd3969e5ce"
	crAliceACID      = "b4920d619e9547208453de326817b0a0"
	crRestrictedACID = "373ea0ba744943df95ebc6a734f5a1da"
	crTrustID        = "f5fa0535afe0454e949055af9ab45ca4"
	crFullID         = "e158ebe0f92e4336903aa7dc18ee5492"
	crMinimalID      = "0cf1d640945e4f1eaa730be55a6c5045"
	crGivenID        = "a894b87c4bd140f9a4376782c14cd7d3"
	crRuleByIDID     = "c7f100e915914eed8f1e86a77f8a368a"
	crRuleID         = "b30e3269aa0945d5bde09b4627ee8b8f" // cred-full's: compute GET /v2.1/servers/**
	crFixtureRuleID  = "c36d68a166644275b4143512420db349" // alice-ac-restricted's
	crEC2Access      = "ad2a0b5a2bb74b4194a7ab0d03ed3e0c"
	crEC2OpsAccess   = "60da3e0c8cc3408d844c41f2d3b5b8ee"

	// Secrets: throwaway test values, kept in the captures verbatim.
	crFullSecret    = "UzpSNclmv4RjmjJQeFmRfHkvLd0Yuhl5ZPLTPxb3wjwph6nqSUtyq6ckXrU4oBk7QZCXWW4WFfPqdIyf_a_X3Q"
	crMinimalSecret = "26hmqiiyloZkClmTtFkxLXnR6fyVU8pULtHA6adRusjHlarc8K-PaEuHrRaPOgWVzw-Vcc00BM-OpDpsEmPM1Q"
	crGivenSecret   = "cred-given-secret-4711"
	crEC2Secret     = "35688acf6ba44fdd942ef9beee1d1abe"
	crEC2OpsSecret  = "338f1ab7106d408f9addf940458b871a"

	crUser  = mockBase + "/v3/users/" + crAliceID
	crApps  = crUser + "/application_credentials"
	crRules = crUser + "/access_rules"
	crEC2   = crUser + "/credentials/OS-EC2"

	// The Hints, by a distinctive part.
	hintRestricted = "restricted application credential cannot manage"
	hintTrust      = "trust-scoped (delegated) token cannot manage"
	hintOtherUser  = "only a user itself"
	hintRuleInUse  = "delete the application credentials that use the rule first"
	hintEC2Deleg   = "EC2 credentials need a token from a password login"
	hintEC2Policy  = "with the member role on the project"
)

// The leak check of TestMain looks for these in everything the suite
// logged and every error it recorded.
func init() {
	for _, s := range []string{crFullSecret, crMinimalSecret, crGivenSecret, crEC2Secret, crEC2OpsSecret} {
		registerSecret(s)
	}
}

// crLogins are the logins of the cred_auth_* captures, as ksauth sends them.
var crLogins = map[string]struct {
	cred  Credential
	scope Scope
}{
	"cred_auth_alice_project":        {Password{UserID: crAliceID, Password: "alice-secret"}, ProjectScope{ID: crDemoID}},
	"cred_auth_appcred_alice_ac":     {ApplicationCredential{ID: crAliceACID, Secret: "alice-ac-secret"}, nil},
	"cred_auth_trust_bob":            {fxBobPassword, TrustScope{ID: crTrustID}},
	"cred_auth_admin_system":         {Password{Username: "admin", UserDomain: Domain{ID: "default"}, Password: "admin-secret"}, SystemScope{}},
	"cred_auth_appcred_access_rules": {ApplicationCredential{ID: crFullID, Secret: crFullSecret}, nil},
}

// crToken authenticates as the cred_auth_* capture name recorded (replayed
// on a mock of its own) and returns the token: a real token's user,
// project, trust and application credential.
func crToken(t testing.TB, name string) *Token {
	t.Helper()
	login, ok := crLogins[name]
	require.True(t, ok, name)
	m := newKSMock(t)
	m.expectNamed(name)
	tok, err := m.keystone(login.cred, login.scope).Authenticate(context.Background())
	recordErr(err)
	require.NoError(t, err)
	require.Equal(t, "gAAAAAB-placeholder-"+name, tok.ID)
	return tok
}

// crReplay returns a mock serving captures, its Keystone and the token of
// login (a cred_auth_* capture).
func crReplay(t testing.TB, login string, captures ...string) (*ksMock, *Keystone, *Token) {
	t.Helper()
	tok := crToken(t, login)
	m := newKSMock(t)
	m.expectNamed(captures...)
	return m, m.keystone(nil, nil), tok
}

// crHTTPError asserts err is an *HTTPError with status and returns it.
func crHTTPError(t *testing.T, err error, status int) *HTTPError {
	t.Helper()
	recordErr(err)
	var he *HTTPError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, status, he.StatusCode)
	return he
}

// crCtx is the context of the calls.
var crCtx = context.Background()

// crFullRequest is cred_appcred_create_full's request. Its expiry is given
// in another zone, with nanoseconds: it is sent in UTC, to the microsecond.
func crFullRequest() NewApplicationCredential {
	return NewApplicationCredential{
		Name:        "cred-full",
		Description: "every option but secret and unrestricted",
		ExpiresAt:   time.Date(2099, 6, 30, 14, 34, 56, 789123999, time.FixedZone("CEST", 2*3600)),
		Roles:       []Role{{Name: "member"}},
		AccessRules: []AccessRule{{Service: "compute", Method: "GET", Path: "/v2.1/servers/**"}},
	}
}

var (
	crMemberRole = []Role{{ID: crRoleMember, Name: "member"}}
	// The token's roles, which a credential created without roles gets:
	// member and the reader it implies.
	crTokenRoles = []Role{{ID: crRoleMember, Name: "member"}, {ID: crRoleReader, Name: "reader"}}
)

func TestCreateApplicationCredentialCaptures(t *testing.T) {
	tests := []struct {
		capture string
		req     NewApplicationCredential
		want    ApplicationCredentialInfo
	}{
		{"cred_appcred_create_full", crFullRequest(), ApplicationCredentialInfo{
			ID: crFullID, Name: "cred-full", Description: "every option but secret and unrestricted",
			UserID: crAliceID, ProjectID: crDemoID, ExpiresAt: time.Date(2099, 6, 30, 12, 34, 56, 789123000, time.UTC),
			Roles: crMemberRole, AccessRules: []AccessRule{{ID: crRuleID, Service: "compute", Method: "GET", Path: "/v2.1/servers/**"}},
			Secret: crFullSecret}},
		{"cred_appcred_create_minimal", NewApplicationCredential{Name: "cred-minimal"}, ApplicationCredentialInfo{
			ID: crMinimalID, Name: "cred-minimal", UserID: crAliceID, ProjectID: crDemoID, Roles: crTokenRoles, Secret: crMinimalSecret}},
		// The role by ID and by Name: the ID wins (the capture sent the id alone).
		{"cred_appcred_create_secret", NewApplicationCredential{Name: "cred-given-secret", Secret: crGivenSecret,
			Roles: []Role{{ID: crRoleReader, Name: "not-sent"}}, Unrestricted: true}, ApplicationCredentialInfo{
			ID: crGivenID, Name: "cred-given-secret", UserID: crAliceID, ProjectID: crDemoID,
			Roles: []Role{{ID: crRoleReader, Name: "reader"}}, Unrestricted: true, Secret: crGivenSecret}},
		{"cred_appcred_create_rule_by_id", NewApplicationCredential{Name: "cred-rule-by-id", AccessRules: []AccessRule{{ID: crRuleID}}},
			ApplicationCredentialInfo{ID: crRuleByIDID, Name: "cred-rule-by-id", UserID: crAliceID, ProjectID: crDemoID, Roles: crTokenRoles,
				AccessRules: []AccessRule{{ID: crRuleID, Service: "compute", Method: "GET", Path: "/v2.1/servers/**"}}, Secret: crCaptureSecret(t, "cred_appcred_create_rule_by_id")}},
	}
	for _, tc := range tests {
		t.Run(tc.capture, func(t *testing.T) {
			m, k, tok := crReplay(t, "cred_auth_alice_project", tc.capture)
			got, err := k.CreateApplicationCredential(crCtx, tok, "", tc.req)
			recordErr(err)
			require.NoError(t, err)
			assert.Equal(t, tc.want, *got)
			assert.True(t, tc.want.ExpiresAt.Equal(got.ExpiresAt))
			assert.Equal(t, []string{tc.capture}, m.servedNames())
			// The same with the user named.
			m.expectNamed(tc.capture)
			again, err := k.CreateApplicationCredential(crCtx, tok, crAliceID, tc.req)
			recordErr(err)
			require.NoError(t, err)
			assert.Equal(t, got, again)
		})
	}
}

// crCaptureSecret is the secret a creation capture answered with.
func crCaptureSecret(t *testing.T, name string) string {
	var body struct {
		ApplicationCredential struct{ Secret string } `json:"application_credential"`
	}
	require.NoError(t, json.Unmarshal(loadCapture(t, name).Response.Body, &body))
	registerSecret(body.ApplicationCredential.Secret)
	return body.ApplicationCredential.Secret
}

// crSink answers every request with status and body, and keeps the
// requests (their bodies read).
type crSink struct {
	mu     sync.Mutex
	reqs   []*http.Request
	bodies []string
}

func (s *crSink) responder(status int, body string) httpmock.Responder {
	return func(req *http.Request) (*http.Response, error) {
		var b []byte
		if req.Body != nil {
			b, _ = io.ReadAll(req.Body)
		}
		s.mu.Lock()
		s.reqs = append(s.reqs, req)
		s.bodies = append(s.bodies, string(b))
		s.mu.Unlock()
		return jsonResponder(status, body)(req)
	}
}

const crCreatedBody = `{"application_credential": {"id": "new-id", "name": "n", "user_id": "u", "secret": "created-secret-0815"}}`

// TestCreateApplicationCredentialRequestJSON: the request body for what the
// captures do not cover, exactly.
func TestCreateApplicationCredentialRequestJSON(t *testing.T) {
	registerSecret("created-secret-0815")
	tests := []struct {
		name string
		req  NewApplicationCredential
		want string
	}{
		{"name only", NewApplicationCredential{Name: "n"}, `{"application_credential": {"name": "n"}}`},
		{"expiry in UTC, microseconds, Z", NewApplicationCredential{Name: "n", ExpiresAt: time.Date(2031, 1, 2, 3, 4, 5, 6000, time.FixedZone("X", -5*3600))},
			`{"application_credential": {"name": "n", "expires_at": "2031-01-02T08:04:05.000006Z"}}`},
		{"whole second", NewApplicationCredential{Name: "n", ExpiresAt: time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)},
			`{"application_credential": {"name": "n", "expires_at": "2031-01-02T03:04:05.000000Z"}}`},
		{"roles by id, by name, the id winning", NewApplicationCredential{Name: "n", Roles: []Role{{ID: "r1"}, {Name: "member"}, {ID: "r3", Name: "reader"}}},
			`{"application_credential": {"name": "n", "roles": [{"id": "r1"}, {"name": "member"}, {"id": "r3"}]}}`},
		{"access rules by id and by service, method, path", NewApplicationCredential{Name: "n", AccessRules: []AccessRule{
			{ID: "rule-1"}, {Service: "object-store", Method: "PUT", Path: "/v1/AUTH_p/c/*"}}},
			`{"application_credential": {"name": "n", "access_rules": [{"id": "rule-1"}, {"service": "object-store", "method": "PUT", "path": "/v1/AUTH_p/c/*"}]}}`},
		{"unrestricted", NewApplicationCredential{Name: "n", Unrestricted: true},
			`{"application_credential": {"name": "n", "unrestricted": true}}`},
		{"everything", NewApplicationCredential{Name: "n", Description: "d", Secret: "s3cr3t-given", Unrestricted: true,
			ExpiresAt: time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC), Roles: []Role{{Name: "reader"}}, AccessRules: []AccessRule{{ID: "x"}}},
			`{"application_credential": {"name": "n", "description": "d", "secret": "s3cr3t-given", "unrestricted": true,
			  "expires_at": "2031-01-02T03:04:05.000000Z", "roles": [{"name": "reader"}], "access_rules": [{"id": "x"}]}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newKSMock(t)
			var sink crSink
			m.respond("POST", crApps, sink.responder(201, crCreatedBody))
			got, err := m.keystone(nil, nil).CreateApplicationCredential(crCtx, crAliceTok(), crAliceID, tc.req)
			recordErr(err)
			require.NoError(t, err)
			assert.Equal(t, "new-id", got.ID)
			require.Len(t, sink.bodies, 1)
			assert.JSONEq(t, tc.want, sink.bodies[0])
			assert.Equal(t, "application/json", sink.reqs[0].Header.Get("Content-Type"))
			assert.Equal(t, crAliceTok().ID, sink.reqs[0].Header.Get("X-Auth-Token"))
		})
	}
}

// crAliceTok is a fixed token of alice on demo (no request needed).
func crAliceTok() *Token {
	return &Token{ID: "gAAAAAB-placeholder-cred_auth_alice_project", User: User{ID: crAliceID, Name: "alice"},
		Project: &Project{ID: crDemoID, Name: "demo"}}
}

// TestApplicationCredentialDecoding: Keystone's shapes of a credential
// (null or un-zoned expiry, null project, unrestricted null/true/false),
// and no secret from Get or List even when a server sends one.
func TestApplicationCredentialDecoding(t *testing.T) {
	const secretInAnswer = "secret-a-server-should-not-send"
	registerSecret(secretInAnswer)
	cred := func(fields string) string {
		return `{"id": "ac-1", "name": "n", "user_id": "` + crAliceID + `", "roles": [{"id": "r", "name": "reader", "domain_id": null}],
			"secret": "` + secretInAnswer + `", ` + fields + `}`
	}
	tests := []struct {
		name   string
		fields string
		check  func(t *testing.T, a ApplicationCredentialInfo)
	}{
		{"nulls", `"description": null, "project_id": null, "expires_at": null, "unrestricted": null, "system": null`, func(t *testing.T, a ApplicationCredentialInfo) {
			assert.True(t, a.ExpiresAt.IsZero())
			assert.Empty(t, a.ProjectID)
			assert.Empty(t, a.Description)
			assert.False(t, a.Unrestricted)
			assert.Nil(t, a.AccessRules)
		}},
		{"no Z, microseconds", `"expires_at": "2026-11-24T06:43:06.123456", "project_id": "p", "unrestricted": true, "description": "d"`, func(t *testing.T, a ApplicationCredentialInfo) {
			assert.Equal(t, time.Date(2026, 11, 24, 6, 43, 6, 123456000, time.UTC), a.ExpiresAt)
			assert.Equal(t, "p", a.ProjectID)
			assert.Equal(t, "d", a.Description)
			assert.True(t, a.Unrestricted)
		}},
		{"Z", `"expires_at": "2026-11-24T06:43:06.000000Z", "unrestricted": false, "access_rules": [{"id": "x", "service": "s", "method": "GET", "path": "/p"}]`, func(t *testing.T, a ApplicationCredentialInfo) {
			assert.Equal(t, time.Date(2026, 11, 24, 6, 43, 6, 0, time.UTC), a.ExpiresAt)
			assert.False(t, a.Unrestricted)
			assert.Equal(t, []AccessRule{{ID: "x", Service: "s", Method: "GET", Path: "/p"}}, a.AccessRules)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newKSMock(t)
			m.respond("POST", crApps, jsonResponder(201, `{"application_credential": `+cred(tc.fields)+`}`))
			m.respond("GET", crApps+"/ac-1", jsonResponder(200, `{"application_credential": `+cred(tc.fields)+`}`))
			m.respond("GET", crApps, jsonResponder(200, `{"application_credentials": [`+cred(tc.fields)+`], "links": {"next": null}}`))
			k := m.keystone(nil, nil)

			created, err := k.CreateApplicationCredential(crCtx, crAliceTok(), "", NewApplicationCredential{Name: "n"})
			recordErr(err)
			require.NoError(t, err)
			assert.Equal(t, secretInAnswer, created.Secret, "the creation's answer is the one with the secret")
			assert.Equal(t, []Role{{ID: "r", Name: "reader"}}, created.Roles)
			tc.check(t, *created)

			got, err := k.GetApplicationCredential(crCtx, crAliceTok(), "", "ac-1")
			recordErr(err)
			require.NoError(t, err)
			assert.Empty(t, got.Secret, "Get drops a secret")
			tc.check(t, *got)

			list, err := k.ApplicationCredentials(crCtx, crAliceTok(), "", "")
			recordErr(err)
			require.NoError(t, err)
			require.Len(t, list, 1)
			assert.Empty(t, list[0].Secret, "List drops a secret")
			tc.check(t, list[0])

			created.Secret = ""
			assert.Equal(t, *created, *got)
			assert.Equal(t, *got, list[0])
		})
	}
}

// TestCreateApplicationCredentialMalformed: a creation answer without an id
// or a secret, or not the JSON expected, is a *MalformedResponseError
// quoting neither the given secret (wherever the answer echoes it) nor the
// generated one.
func TestCreateApplicationCredentialMalformed(t *testing.T) {
	const generated = "generated-secret-in-a-bad-answer"
	registerSecret(generated)
	for _, tc := range []struct {
		name, body, given string
	}{
		{"no id", `{"application_credential": {"name": "n", "secret": "` + generated + `"}}`, ""},
		{"no secret", `{"application_credential": {"id": "x", "name": "n"}}`, ""},
		{"no credential", `{"secret": "` + generated + `"}`, ""},
		{"truncated", `{"application_credential": {"id": "x", "secret": "` + generated, ""},
		{"bad expiry", `{"application_credential": {"id": "x", "secret": "` + generated + `", "expires_at": "not a time"}}`, ""},
		{"wrong type", `{"application_credential": {"id": "x", "secret": "` + generated + `", "roles": "reader"}}`, ""},
		{"given secret as expiry", `{"application_credential": {"id": "x", "secret": "` + crGivenSecret + `", "expires_at": "` + crGivenSecret + `"}}`, crGivenSecret},
		{"given secret, truncated", `{"application_credential": {"id": "x", "secret": "` + crGivenSecret, crGivenSecret},
		{"given secret as roles", `{"application_credential": {"id": "x", "roles": "` + crGivenSecret + `"}}`, crGivenSecret},
		{"given secret as the answer", `"` + crGivenSecret + `"`, crGivenSecret},
		{"given secret not echoed", `{"application_credential": {"id": "x"}}`, crGivenSecret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newKSMock(t)
			m.respond("POST", crApps, jsonResponder(201, tc.body))
			_, err := m.keystone(nil, nil).CreateApplicationCredential(crCtx, crAliceTok(), "", NewApplicationCredential{Name: "n", Secret: tc.given})
			recordErr(err)
			var me *MalformedResponseError
			require.ErrorAs(t, err, &me)
			assert.Equal(t, 201, me.StatusCode)
			crNoSecretIn(t, err, crGivenSecret, generated)
		})
	}
}

// crNoSecretIn checks every text of err for secret.
func crNoSecretIn(t *testing.T, err error, secrets ...string) {
	t.Helper()
	require.Error(t, err)
	for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), fmt.Sprintf("%q", err)} {
		for _, s := range secrets {
			assert.NotContains(t, text, s)
		}
	}
}

// TestCreateApplicationCredentialEchoedSecret: a server that echoes the
// given secret in an error or in a malformed answer does not get it into
// the error.
func TestCreateApplicationCredentialEchoedSecret(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
	}{
		{500, `{"error": {"code": 500, "message": "could not store secret ` + crGivenSecret + `", "title": "Internal Server Error"}}`},
		{400, `{"error": {"code": 400, "message": "Invalid input for field 'secret': '` + crGivenSecret + `' is bad", "title": "Bad Request"}}`},
		{500, "secret=" + crGivenSecret},
		{201, `{"application_credential": {"id": "x", "secret": "` + crGivenSecret + `", "expires_at": "` + crGivenSecret + `"}}`},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			m := newKSMock(t)
			m.respond("POST", crApps, func(req *http.Request) (*http.Response, error) {
				resp := httpmock.NewStringResponse(tc.status, tc.body)
				if tc.body[0] != '{' {
					resp.Header.Set("Content-Type", "text/plain")
				} else {
					resp.Header.Set("Content-Type", "application/json")
				}
				resp.Header.Set("X-Openstack-Request-Id", "req-"+crGivenSecret)
				return resp, nil
			})
			_, err := m.keystone(nil, nil).CreateApplicationCredential(crCtx, crAliceTok(), "", NewApplicationCredential{Name: "n", Secret: crGivenSecret})
			recordErr(err)
			crNoSecretIn(t, err, crGivenSecret)
		})
	}
}

func TestApplicationCredentialsList(t *testing.T) {
	t.Run("all", func(t *testing.T) {
		_, k, tok := crReplay(t, "cred_auth_alice_project", "cred_appcred_list")
		list, err := k.ApplicationCredentials(crCtx, tok, "", "")
		recordErr(err)
		require.NoError(t, err)
		var names []string
		for _, a := range list {
			names = append(names, a.Name)
			assert.Empty(t, a.Secret)
			assert.Equal(t, crAliceID, a.UserID)
			assert.Equal(t, crDemoID, a.ProjectID)
		}
		assert.Equal(t, []string{"alice-ac", "alice-ac-restricted", "cred-full", "cred-given-secret", "cred-minimal", "cred-rule-by-id"}, names)
		assert.Equal(t, crRestrictedACID, list[1].ID)
		assert.Equal(t, time.Date(2026, 12, 8, 9, 12, 50, 0, time.UTC), list[1].ExpiresAt)
		assert.Equal(t, []AccessRule{{ID: crFixtureRuleID, Service: "identity", Method: "GET", Path: "/v3/auth/projects"}}, list[1].AccessRules)
		assert.True(t, list[0].ExpiresAt.IsZero())
		assert.Nil(t, list[0].AccessRules)
		assert.True(t, list[3].Unrestricted)
		assert.False(t, list[2].Unrestricted)
	})
	t.Run("by name", func(t *testing.T) {
		_, k, tok := crReplay(t, "cred_auth_alice_project", "cred_appcred_list_by_name")
		list, err := k.ApplicationCredentials(crCtx, tok, crAliceID, "cred-full")
		recordErr(err)
		require.NoError(t, err)
		require.Len(t, list, 1)
		assert.Equal(t, crFullID, list[0].ID)
		assert.Equal(t, time.Date(2099, 6, 30, 12, 34, 56, 789123000, time.UTC), list[0].ExpiresAt)
	})
	t.Run("by a name nobody has", func(t *testing.T) {
		_, k, tok := crReplay(t, "cred_auth_alice_project", "cred_appcred_list_by_name_none")
		list, err := k.ApplicationCredentials(crCtx, tok, "", "no-such-cred")
		recordErr(err)
		require.NoError(t, err)
		assert.Empty(t, list)
	})
	t.Run("with a restricted application credential's token", func(t *testing.T) {
		_, k, tok := crReplay(t, "cred_auth_appcred_alice_ac", "cred_appcred_list_restricted")
		require.True(t, tok.ApplicationCredential.Restricted)
		list, err := k.ApplicationCredentials(crCtx, tok, "", "")
		recordErr(err)
		require.NoError(t, err)
		assert.Len(t, list, 6)
	})
	t.Run("a name is escaped in the query", func(t *testing.T) {
		m := newKSMock(t)
		var sink crSink
		m.mock.RegisterNoResponder(sink.responder(200, `{"application_credentials": []}`))
		_, err := m.keystone(nil, nil).ApplicationCredentials(crCtx, crAliceTok(), "", "a b&c=d/é")
		recordErr(err)
		require.NoError(t, err)
		require.Len(t, sink.reqs, 1)
		assert.Equal(t, "/v3/users/"+crAliceID+"/application_credentials?name=a+b%26c%3Dd%2F%C3%A9", sink.reqs[0].URL.RequestURI())
		assert.Equal(t, "a b&c=d/é", sink.reqs[0].URL.Query().Get("name"))
	})
}

func TestGetApplicationCredential(t *testing.T) {
	_, k, tok := crReplay(t, "cred_auth_alice_project", "cred_appcred_get", "cred_appcred_get_unknown_404")
	got, err := k.GetApplicationCredential(crCtx, tok, "", crFullID)
	recordErr(err)
	require.NoError(t, err)
	assert.Equal(t, ApplicationCredentialInfo{ID: crFullID, Name: "cred-full", Description: "every option but secret and unrestricted",
		UserID: crAliceID, ProjectID: crDemoID, ExpiresAt: time.Date(2099, 6, 30, 12, 34, 56, 789123000, time.UTC), Roles: crMemberRole,
		AccessRules: []AccessRule{{ID: crRuleID, Service: "compute", Method: "GET", Path: "/v2.1/servers/**"}}}, *got)

	_, err = k.GetApplicationCredential(crCtx, tok, "", "0123456789abcdef0123456789abcdef")
	he := crHTTPError(t, err, 404)
	assert.ErrorIs(t, err, ErrNotFound)
	assert.Equal(t, "Could not find Application Credential: 0123456789abcdef0123456789abcdef.", he.Message)
	assert.Empty(t, he.Hint)
	assert.Equal(t, crApps+"/0123456789abcdef0123456789abcdef", he.URL)
	assert.Equal(t, "GET", he.Method)
}

func TestDeleteApplicationCredential(t *testing.T) {
	m, k, tok := crReplay(t, "cred_auth_alice_project", "cred_appcred_delete", "cred_appcred_delete_again_404", "cred_appcred_delete_rule_by_id")
	require.NoError(t, k.DeleteApplicationCredential(crCtx, tok, "", crFullID))
	err := k.DeleteApplicationCredential(crCtx, tok, "", crFullID)
	he := crHTTPError(t, err, 404)
	assert.ErrorIs(t, err, ErrNotFound)
	assert.Equal(t, "Could not find Application Credential: "+crFullID+".", he.Message)
	assert.Equal(t, "DELETE", he.Method)
	require.NoError(t, k.DeleteApplicationCredential(crCtx, tok, crAliceID, crRuleByIDID))
	assert.Equal(t, 3, m.calls())
}

// TestApplicationCredentialRefusals: Keystone's refusals as *HTTPError, with
// the sentinel of the status and the Hint that explains them.
func TestApplicationCredentialRefusals(t *testing.T) {
	tests := []struct {
		capture, login string
		call           func(k *Keystone, tok *Token) error
		status         int
		sentinel       error
		message, hint  string
	}{
		{"cred_appcred_create_duplicate_409", "cred_auth_alice_project", crCreate("", "cred-minimal"), 409, nil,
			"Conflict occurred attempting to store application_credential - Duplicate entry found with name cred-minimal.", ""},
		{"cred_appcred_create_unassigned_role_400", "cred_auth_alice_project",
			crCreateReq("", NewApplicationCredential{Name: "cred-admin", Roles: []Role{{Name: "admin"}}}), 400, ErrBadRequest,
			"Invalid application credential: Cannot create an application credential with unassigned role", ""},
		{"cred_appcred_create_other_user_403", "cred_auth_alice_project", crCreate(crBobID, "cred-for-bob"), 403, ErrForbidden,
			"You are not authorized to perform the requested action: identity:create_application_credential.", hintOtherUser},
		{"cred_appcred_create_restricted_403", "cred_auth_appcred_alice_ac", crCreate("", "cred-from-appcred"), 403, ErrForbidden,
			"You are not authorized to perform the requested action: Using method 'application_credential' is not allowed for managing additional application credentials..", hintRestricted},
		{"cred_appcred_delete_restricted_403", "cred_auth_appcred_alice_ac", func(k *Keystone, tok *Token) error {
			return k.DeleteApplicationCredential(crCtx, tok, "", crRuleByIDID)
		}, 403, ErrForbidden, "You are not authorized to perform the requested action: Using method 'application_credential' is not allowed for managing additional application credentials..", hintRestricted},
		{"cred_appcred_list_trust_403", "cred_auth_trust_bob", func(k *Keystone, tok *Token) error {
			_, err := k.ApplicationCredentials(crCtx, tok, "", "")
			return err
		}, 403, ErrForbidden, "You are not authorized to perform the requested action.", hintTrust},
		{"cred_appcred_create_trust_403", "cred_auth_trust_bob", crCreate("", "cred-from-trust"), 403, ErrForbidden,
			"You are not authorized to perform the requested action.", hintTrust},
		{"cred_appcred_create_trust_trustor_403", "cred_auth_trust_bob", crCreate(crAliceID, "cred-from-trust"), 403, ErrForbidden,
			"You are not authorized to perform the requested action: identity:create_application_credential.", hintTrust},
	}
	for _, tc := range tests {
		t.Run(tc.capture, func(t *testing.T) {
			_, k, tok := crReplay(t, tc.login, tc.capture)
			he := crHTTPError(t, tc.call(k, tok), tc.status)
			if tc.sentinel != nil {
				assert.ErrorIs(t, he, tc.sentinel)
			}
			for _, other := range []error{ErrBadRequest, ErrUnauthorized, ErrForbidden, ErrNotFound, ErrServer} {
				if other != tc.sentinel {
					assert.NotErrorIs(t, he, other)
				}
			}
			assert.Equal(t, tc.message, he.Message)
			if tc.hint == "" {
				assert.Empty(t, he.Hint)
			} else {
				assert.Contains(t, he.Hint, tc.hint)
				assert.Contains(t, he.Error(), he.Hint)
			}
			assert.NotEmpty(t, he.RequestID)
		})
	}
}

// TestApplicationCredentialHintRestrictedReadingAnotherUser: a restricted
// application credential's token may read its own user's credentials
// (cred_appcred_list_restricted); Keystone's refusal to list another
// user's is a policy refusal, and the Hint must say so, not blame the
// restriction.
func TestApplicationCredentialHintRestrictedReadingAnotherUser(t *testing.T) {
	_, k, tok := crReplay(t, "cred_auth_appcred_alice_ac", "cred_appcred_list_other_user_restricted_403")
	_, err := k.ApplicationCredentials(crCtx, tok, crBobID, "")
	he := crHTTPError(t, err, 403)
	assert.Equal(t, "You are not authorized to perform the requested action: identity:list_application_credentials.", he.Message)
	assert.Contains(t, he.Hint, hintOtherUser)
	assert.NotContains(t, he.Hint, hintRestricted)

	// A release whose refusal does not name the restriction: the token
	// tells, for a change to the token's own user's credentials only.
	generic := `{"error": {"code": 403, "message": "You are not authorized to perform the requested action.", "title": "Forbidden"}}`
	own := mockBase + "/v3/users/" + crAliceID + "/application_credentials"
	for _, tc := range []struct {
		method, url string
		call        func(k *Keystone) error
		hint        string
	}{
		{"POST", own, func(k *Keystone) error {
			_, err := k.CreateApplicationCredential(crCtx, tok, "", NewApplicationCredential{Name: "n"})
			return err
		}, hintRestricted},
		{"DELETE", own + "/x", func(k *Keystone) error { return k.DeleteApplicationCredential(crCtx, tok, "", "x") }, hintRestricted},
		{"GET", own, func(k *Keystone) error {
			_, err := k.ApplicationCredentials(crCtx, tok, "", "")
			return err
		}, ""},
		{"GET", own + "/x", func(k *Keystone) error {
			_, err := k.GetApplicationCredential(crCtx, tok, "", "x")
			return err
		}, ""},
		{"POST", mockBase + "/v3/users/" + crBobID + "/application_credentials", func(k *Keystone) error {
			_, err := k.CreateApplicationCredential(crCtx, tok, crBobID, NewApplicationCredential{Name: "n"})
			return err
		}, hintOtherUser},
	} {
		m := newKSMock(t)
		m.respond(tc.method, tc.url, jsonResponder(403, generic))
		he := crHTTPError(t, tc.call(m.keystone(nil, nil)), 403)
		if tc.hint == "" {
			assert.Empty(t, he.Hint, "%s %s", tc.method, tc.url)
		} else {
			assert.Contains(t, he.Hint, tc.hint, "%s %s", tc.method, tc.url)
		}
	}
}

func crCreate(userID, name string) func(k *Keystone, tok *Token) error {
	return crCreateReq(userID, NewApplicationCredential{Name: name})
}

func crCreateReq(userID string, req NewApplicationCredential) func(k *Keystone, tok *Token) error {
	return func(k *Keystone, tok *Token) error {
		_, err := k.CreateApplicationCredential(crCtx, tok, userID, req)
		return err
	}
}

// TestCreateApplicationCredentialPastExpiryServerSide: Keystone's own 400
// for an expiry in its past. ksauth refuses a past expiry itself, so the
// capture is replayed in a synctest bubble, whose clock is in 2000: there
// 2020 is the future.
func TestCreateApplicationCredentialPastExpiryServerSide(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, k, tok := crReplay(t, "cred_auth_alice_project", "cred_appcred_create_past_expiry_400")
		_, err := k.CreateApplicationCredential(crCtx, tok, "", NewApplicationCredential{Name: "cred-past", ExpiresAt: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)})
		he := crHTTPError(t, err, 400)
		assert.ErrorIs(t, err, ErrBadRequest)
		assert.True(t, strings.HasPrefix(he.Message, "The 'expires_at' must not be before now."), he.Message)
	})
	// Outside the bubble the same request is refused before it is sent.
	m := newKSMock(t)
	_, err := m.keystone(nil, nil).CreateApplicationCredential(crCtx, crAliceTok(), "", NewApplicationCredential{Name: "cred-past", ExpiresAt: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)})
	recordErr(err)
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "NewApplicationCredential.ExpiresAt", ve.Field)
	assert.Zero(t, m.calls())
}

// TestNewApplicationCredentialValidation: a bad request is refused before
// anything is sent, naming the field.
func TestNewApplicationCredentialValidation(t *testing.T) {
	ok := NewApplicationCredential{Name: "n"}
	with := func(f func(*NewApplicationCredential)) NewApplicationCredential {
		r := ok
		f(&r)
		return r
	}
	rule := func(r AccessRule) NewApplicationCredential {
		return with(func(n *NewApplicationCredential) {
			n.AccessRules = []AccessRule{{Service: "compute", Method: "GET", Path: "/ok"}, r}
		})
	}
	good := AccessRule{Service: "compute", Method: "GET", Path: "/v2.1/servers"}
	tests := []struct {
		name  string
		req   NewApplicationCredential
		field string
	}{
		{"empty name", NewApplicationCredential{}, "NewApplicationCredential.Name"},
		{"blank name", with(func(n *NewApplicationCredential) { n.Name = " \t" }), "NewApplicationCredential.Name"},
		{"name of 256 bytes", with(func(n *NewApplicationCredential) { n.Name = strings.Repeat("é", 128) }), "NewApplicationCredential.Name"},
		{"expiry now", with(func(n *NewApplicationCredential) { n.ExpiresAt = time.Now().Add(-time.Millisecond) }), "NewApplicationCredential.ExpiresAt"},
		{"expiry past", with(func(n *NewApplicationCredential) { n.ExpiresAt = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC) }), "NewApplicationCredential.ExpiresAt"},
		{"role without id or name", with(func(n *NewApplicationCredential) { n.Roles = []Role{{Name: "reader"}, {}} }), "NewApplicationCredential.Roles[1]"},
		{"rule without service", rule(AccessRule{Method: "GET", Path: "/"}), "NewApplicationCredential.AccessRules[1].Service"},
		{"rule service with a slash", rule(AccessRule{Service: "a/b", Method: "GET", Path: "/"}), "NewApplicationCredential.AccessRules[1].Service"},
		{"rule service of 65 bytes", rule(AccessRule{Service: strings.Repeat("a", 65), Method: "GET", Path: "/"}), "NewApplicationCredential.AccessRules[1].Service"},
		{"rule method lower case", rule(AccessRule{Service: "compute", Method: "get", Path: "/"}), "NewApplicationCredential.AccessRules[1].Method"},
		{"rule method TRACE", rule(AccessRule{Service: "compute", Method: "TRACE", Path: "/"}), "NewApplicationCredential.AccessRules[1].Method"},
		{"rule without method", rule(AccessRule{Service: "compute", Path: "/"}), "NewApplicationCredential.AccessRules[1].Method"},
		{"rule path relative", rule(AccessRule{Service: "compute", Method: "GET", Path: "v2.1/servers"}), "NewApplicationCredential.AccessRules[1].Path"},
		{"rule without path", rule(AccessRule{Service: "compute", Method: "GET"}), "NewApplicationCredential.AccessRules[1].Path"},
		{"rule path of 226 bytes", rule(AccessRule{Service: "compute", Method: "GET", Path: "/" + strings.Repeat("a", 225)}), "NewApplicationCredential.AccessRules[1].Path"},
		{"rule id and service", rule(AccessRule{ID: "r", Service: "compute"}), "NewApplicationCredential.AccessRules[1]"},
		{"rule id and path", rule(AccessRule{ID: "r", Path: "/"}), "NewApplicationCredential.AccessRules[1]"},
		{"first rule bad", with(func(n *NewApplicationCredential) {
			n.AccessRules = []AccessRule{{Service: "compute", Method: "GET"}, good}
		}), "NewApplicationCredential.AccessRules[0].Path"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newKSMock(t)
			_, err := m.keystone(nil, nil).CreateApplicationCredential(crCtx, crAliceTok(), "", tc.req)
			recordErr(err)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.field, ve.Field)
			assert.Zero(t, m.calls(), "nothing sent")
		})
	}
	// The limits themselves pass.
	for name, req := range map[string]NewApplicationCredential{
		"name of 255 bytes":        {Name: strings.Repeat("a", 255)},
		"rule service of 64":       rule(AccessRule{Service: strings.Repeat("a", 64), Method: "DELETE", Path: "/"}),
		"rule path of 225 bytes":   rule(AccessRule{Service: "object-store", Method: "PATCH", Path: "/" + strings.Repeat("a", 224)}),
		"every method":             {Name: "n", AccessRules: []AccessRule{{Service: "a", Method: "GET", Path: "/"}, {Service: "a", Method: "HEAD", Path: "/"}, {Service: "a", Method: "POST", Path: "/"}, {Service: "a", Method: "PUT", Path: "/"}, {Service: "a", Method: "PATCH", Path: "/"}, {Service: "a", Method: "DELETE", Path: "/"}}},
		"expiry in a minute":       {Name: "n", ExpiresAt: time.Now().Add(time.Minute)},
		"role by id, role by name": {Name: "n", Roles: []Role{{ID: "r"}, {Name: "reader"}}},
	} {
		t.Run("ok/"+name, func(t *testing.T) {
			m := newKSMock(t)
			registerSecret("created-secret-0815")
			m.respond("POST", crApps, jsonResponder(201, crCreatedBody))
			_, err := m.keystone(nil, nil).CreateApplicationCredential(crCtx, crAliceTok(), "", req)
			recordErr(err)
			require.NoError(t, err)
			assert.Equal(t, 1, m.calls())
		})
	}
}

// crCalls are every call taking a user and, but for the listings and the
// creations, an id: for the path tests.
var crCalls = []struct {
	name, method, path string // path under the user, id at its end when the call takes one
	call               func(k *Keystone, src TokenSource, userID, id string) error
}{
	{"CreateApplicationCredential", "POST", "/application_credentials", func(k *Keystone, src TokenSource, userID, _ string) error {
		_, err := k.CreateApplicationCredential(crCtx, src, userID, NewApplicationCredential{Name: "n"})
		return err
	}},
	{"ApplicationCredentials", "GET", "/application_credentials", func(k *Keystone, src TokenSource, userID, _ string) error {
		_, err := k.ApplicationCredentials(crCtx, src, userID, "")
		return err
	}},
	{"GetApplicationCredential", "GET", "/application_credentials/", func(k *Keystone, src TokenSource, userID, id string) error {
		_, err := k.GetApplicationCredential(crCtx, src, userID, id)
		return err
	}},
	{"DeleteApplicationCredential", "DELETE", "/application_credentials/", func(k *Keystone, src TokenSource, userID, id string) error {
		return k.DeleteApplicationCredential(crCtx, src, userID, id)
	}},
	{"AccessRules", "GET", "/access_rules", func(k *Keystone, src TokenSource, userID, _ string) error {
		_, err := k.AccessRules(crCtx, src, userID)
		return err
	}},
	{"GetAccessRule", "GET", "/access_rules/", func(k *Keystone, src TokenSource, userID, id string) error {
		_, err := k.GetAccessRule(crCtx, src, userID, id)
		return err
	}},
	{"DeleteAccessRule", "DELETE", "/access_rules/", func(k *Keystone, src TokenSource, userID, id string) error {
		return k.DeleteAccessRule(crCtx, src, userID, id)
	}},
	{"CreateEC2Credential", "POST", "/credentials/OS-EC2", func(k *Keystone, src TokenSource, userID, _ string) error {
		_, err := k.CreateEC2Credential(crCtx, src, userID, "")
		return err
	}},
	{"EC2Credentials", "GET", "/credentials/OS-EC2", func(k *Keystone, src TokenSource, userID, _ string) error {
		_, err := k.EC2Credentials(crCtx, src, userID)
		return err
	}},
	{"GetEC2Credential", "GET", "/credentials/OS-EC2/", func(k *Keystone, src TokenSource, userID, id string) error {
		_, err := k.GetEC2Credential(crCtx, src, userID, id)
		return err
	}},
	{"DeleteEC2Credential", "DELETE", "/credentials/OS-EC2/", func(k *Keystone, src TokenSource, userID, id string) error {
		return k.DeleteEC2Credential(crCtx, src, userID, id)
	}},
}

// TestCredentialPaths: userID "" is the token's user; a user or an id is one
// path segment whatever it holds; "", "." and ".." are refused unsent, as
// are a nil, an expired token and a token without a user.
func TestCredentialPaths(t *testing.T) {
	for _, c := range crCalls {
		takesID := strings.HasSuffix(c.path, "/")
		t.Run(c.name, func(t *testing.T) {
			type sent struct{ method, uri string }
			run := func(t *testing.T, src TokenSource, userID, id string) (error, []sent) {
				m := newKSMock(t)
				var sink crSink
				m.mock.RegisterNoResponder(sink.responder(599, `{}`))
				err := c.call(m.keystone(nil, nil), src, userID, id)
				recordErr(err)
				var out []sent
				for _, r := range sink.reqs {
					out = append(out, sent{r.Method, r.URL.RequestURI()})
				}
				return err, out
			}
			want := func(user, id string) []sent {
				p := "/v3/users/" + user + c.path
				if takesID {
					p += id
				}
				return []sent{{c.method, p}}
			}
			t.Run("token's user", func(t *testing.T) {
				_, got := run(t, crAliceTok(), "", "id-1")
				assert.Equal(t, want(crAliceID, "id-1"), got)
			})
			t.Run("user given", func(t *testing.T) {
				_, got := run(t, crAliceTok(), crBobID, "id-1")
				assert.Equal(t, want(crBobID, "id-1"), got)
			})
			t.Run("escaped", func(t *testing.T) {
				_, got := run(t, crAliceTok(), "u/1?x=y", "a/b?c#d%e")
				assert.Equal(t, want("u%2F1%3Fx=y", "a%2Fb%3Fc%23d%25e"), got)
			})
			t.Run("dots in longer names", func(t *testing.T) {
				_, got := run(t, crAliceTok(), "...", "../x")
				assert.Equal(t, want("...", "..%2Fx"), got)
			})
			refused := func(t *testing.T, src TokenSource, userID, id, field string) {
				t.Helper()
				err, got := run(t, src, userID, id)
				var ve *ValidationError
				require.ErrorAs(t, err, &ve)
				assert.Equal(t, field, ve.Field)
				assert.Empty(t, got, "nothing sent")
			}
			for _, bad := range []string{".", ".."} {
				t.Run("user "+bad, func(t *testing.T) { refused(t, crAliceTok(), bad, "id-1", "userID") })
			}
			if takesID {
				idField := "id"
				if strings.Contains(c.path, "OS-EC2") {
					idField = "access"
				}
				for _, bad := range []string{"", ".", ".."} {
					t.Run("id "+bad, func(t *testing.T) { refused(t, crAliceTok(), "", bad, idField) })
				}
			}
			t.Run("token without a user", func(t *testing.T) {
				refused(t, &Token{ID: "gAAAAAB-placeholder-nouser", Project: &Project{ID: crDemoID}}, "", "id-1", "userID")
			})
			t.Run("nil token source", func(t *testing.T) { refused(t, nil, crAliceID, "id-1", "src") })
			t.Run("nil *Token", func(t *testing.T) { refused(t, (*Token)(nil), crAliceID, "id-1", "src") })
			t.Run("expired token", func(t *testing.T) {
				tok := crAliceTok()
				tok.ExpiresAt = time.Now().Add(-time.Second)
				refused(t, tok, "", "id-1", "src")
			})
		})
	}
}

func TestAccessRules(t *testing.T) {
	t.Run("list", func(t *testing.T) {
		_, k, tok := crReplay(t, "cred_auth_alice_project", "cred_access_rules_list")
		rules, err := k.AccessRules(crCtx, tok, "")
		recordErr(err)
		require.NoError(t, err)
		assert.Equal(t, []AccessRule{
			{ID: crFixtureRuleID, Service: "identity", Method: "GET", Path: "/v3/auth/projects"},
			{ID: crRuleID, Service: "compute", Method: "GET", Path: "/v2.1/servers/**"},
		}, rules)
	})
	t.Run("get", func(t *testing.T) {
		_, k, tok := crReplay(t, "cred_auth_alice_project", "cred_access_rule_get", "cred_access_rule_get_unknown_404")
		rule, err := k.GetAccessRule(crCtx, tok, crAliceID, crRuleID)
		recordErr(err)
		require.NoError(t, err)
		assert.Equal(t, AccessRule{ID: crRuleID, Service: "compute", Method: "GET", Path: "/v2.1/servers/**"}, *rule)
		_, err = k.GetAccessRule(crCtx, tok, "", "fedcba9876543210fedcba9876543210")
		he := crHTTPError(t, err, 404)
		assert.ErrorIs(t, err, ErrNotFound)
		assert.Equal(t, "Could not find Access Rule: fedcba9876543210fedcba9876543210.", he.Message)
		assert.Empty(t, he.Hint)
	})
	t.Run("delete", func(t *testing.T) {
		m, k, tok := crReplay(t, "cred_auth_alice_project", "cred_access_rule_delete_in_use_403", "cred_access_rule_delete_still_in_use_403",
			"cred_access_rule_delete", "cred_access_rule_delete_again_404")
		for range 2 {
			err := k.DeleteAccessRule(crCtx, tok, "", crRuleID)
			he := crHTTPError(t, err, 403)
			assert.ErrorIs(t, err, ErrForbidden)
			assert.Equal(t, "May not delete access rule in use", he.Message)
			assert.Contains(t, he.Hint, hintRuleInUse)
			assert.Contains(t, err.Error(), hintRuleInUse)
		}
		require.NoError(t, k.DeleteAccessRule(crCtx, tok, "", crRuleID))
		err := k.DeleteAccessRule(crCtx, tok, "", crRuleID)
		he := crHTTPError(t, err, 404)
		assert.ErrorIs(t, err, ErrNotFound)
		assert.Empty(t, he.Hint)
		assert.Equal(t, 4, m.calls())
	})
	t.Run("an answer without the rule", func(t *testing.T) {
		for _, body := range []string{`{}`, `{"access_rule": null}`, `{"access_rule": {"service": "s"}}`, `[`} {
			m := newKSMock(t)
			m.respond("GET", crRules+"/r", jsonResponder(200, body))
			_, err := m.keystone(nil, nil).GetAccessRule(crCtx, crAliceTok(), "", "r")
			recordErr(err)
			var me *MalformedResponseError
			assert.ErrorAs(t, err, &me, body)
		}
	})
}

// TestCredentialListsFollowNext: every listing follows links.next (3 pages
// here), refuses a next page on another host, and stops after 100 pages.
func TestCredentialListsFollowNext(t *testing.T) {
	lists := []struct {
		name, path, key, item string
		list                  func(k *Keystone) (int, error)
	}{
		{"ApplicationCredentials", "/application_credentials", "application_credentials", `{"id": "ac-%d", "name": "n%d"}`, func(k *Keystone) (int, error) {
			l, err := k.ApplicationCredentials(crCtx, crAliceTok(), "", "")
			return len(l), err
		}},
		{"AccessRules", "/access_rules", "access_rules", `{"id": "r-%d", "service": "s%d", "method": "GET", "path": "/"}`, func(k *Keystone) (int, error) {
			l, err := k.AccessRules(crCtx, crAliceTok(), "")
			return len(l), err
		}},
		{"EC2Credentials", "/credentials/OS-EC2", "credentials", `{"access": "a-%d", "secret": "ec2-page-secret-%d"}`, func(k *Keystone) (int, error) {
			l, err := k.EC2Credentials(crCtx, crAliceTok(), "")
			return len(l), err
		}},
	}
	for i := range 4 {
		registerSecret(fmt.Sprintf("ec2-page-secret-%d", i))
	}
	page := func(key, item string, n int, next string) string {
		nx := "null"
		if next != "" {
			nx = `"` + next + `"`
		}
		return fmt.Sprintf(`{"%s": [`+item+`], "links": {"next": %s, "self": "x", "previous": null}}`, key, n, n, nx)
	}
	for _, l := range lists {
		t.Run(l.name, func(t *testing.T) {
			base := crUser + l.path
			t.Run("three pages", func(t *testing.T) {
				m := newKSMock(t)
				m.respond("GET", base, jsonResponder(200, page(l.key, l.item, 1, base+"?marker=1")))
				m.respond("GET", base+"?marker=1", jsonResponder(200, page(l.key, l.item, 2, "/v3/users/"+crAliceID+l.path+"?marker=2")))
				m.respond("GET", base+"?marker=2", jsonResponder(200, page(l.key, l.item, 3, "")))
				n, err := l.list(m.keystone(nil, nil))
				recordErr(err)
				require.NoError(t, err)
				assert.Equal(t, 3, n)
				assert.Equal(t, 3, m.calls())
			})
			t.Run("next on another host", func(t *testing.T) {
				m := newKSMock(t)
				m.respond("GET", base, jsonResponder(200, page(l.key, l.item, 1, "https://evil.test:5000/v3/users/x"+l.path)))
				n, err := l.list(m.keystone(nil, nil))
				recordErr(err)
				var me *MalformedResponseError
				require.ErrorAs(t, err, &me)
				assert.Contains(t, me.Reason, "links.next points elsewhere")
				assert.LessOrEqual(t, n, 1, "at most the first page")
				assert.Equal(t, 1, m.calls(), "the token never went to the other host")
			})
			t.Run("next with another scheme", func(t *testing.T) {
				m := newKSMock(t)
				m.respond("GET", base, jsonResponder(200, page(l.key, l.item, 1, "http://keystone.test:5000/v3/users/x"+l.path)))
				_, err := l.list(m.keystone(nil, nil))
				recordErr(err)
				var me *MalformedResponseError
				require.ErrorAs(t, err, &me)
				assert.Equal(t, 1, m.calls())
			})
			t.Run("more than 100 pages", func(t *testing.T) {
				m := newKSMock(t)
				m.respond("GET", base, jsonResponder(200, page(l.key, l.item, 0, base+"?marker=again")))
				m.respond("GET", base+"?marker=again", jsonResponder(200, page(l.key, l.item, 0, base+"?marker=again")))
				_, err := l.list(m.keystone(nil, nil))
				recordErr(err)
				var me *MalformedResponseError
				require.ErrorAs(t, err, &me)
				assert.Contains(t, me.Reason, "more than 100 pages")
				assert.Equal(t, 100, m.calls())
			})
			t.Run("a page that is not JSON", func(t *testing.T) {
				m := newKSMock(t)
				m.respond("GET", base, jsonResponder(200, page(l.key, l.item, 1, base+"?marker=1")))
				m.respond("GET", base+"?marker=1", jsonResponder(200, `{"`+l.key+`": [`))
				_, err := l.list(m.keystone(nil, nil))
				recordErr(err)
				var me *MalformedResponseError
				require.ErrorAs(t, err, &me)
				crNoSecretIn(t, err, "ec2-page-secret-1")
			})
			t.Run("a refused page", func(t *testing.T) {
				m := newKSMock(t)
				m.respond("GET", base, jsonResponder(200, page(l.key, l.item, 1, base+"?marker=1")))
				m.respond("GET", base+"?marker=1", jsonResponder(403, `{"error": {"code": 403, "message": "You are not authorized to perform the requested action.", "title": "Forbidden"}}`))
				_, err := l.list(m.keystone(nil, nil))
				he := crHTTPError(t, err, 403)
				assert.Equal(t, base, he.URL, "no query in the error")
			})
		})
	}
}

// TestValidateTokenSendsAccessRulesHeader: the validations send
// Openstack-Identity-Access-Rules: 1.0, without which Keystone does not
// validate a token from an application credential with access rules.
func TestValidateTokenSendsAccessRulesHeader(t *testing.T) {
	t.Run("replayed", func(t *testing.T) {
		_, k, admin := crReplay(t, "cred_auth_admin_system", "cred_validate_access_rules_token")
		tok, err := k.ValidateToken(crCtx, admin, "gAAAAAB-placeholder-cred_auth_appcred_access_rules", nil)
		recordErr(err)
		require.NoError(t, err)
		require.NotNil(t, tok.ApplicationCredential)
		assert.Equal(t, crFullID, tok.ApplicationCredential.ID)
		assert.True(t, tok.ApplicationCredential.Restricted)
		assert.Equal(t, []AccessRule{{ID: crRuleID, Service: "compute", Method: "GET", Path: "/v2.1/servers/**"}}, tok.ApplicationCredential.AccessRules)
	})
	t.Run("a Keystone that wants the header", func(t *testing.T) {
		// Answers as the real one did: 200 with the header, 404 without.
		with := loadCapture(t, "cred_validate_access_rules_token")
		without := loadCapture(t, "cred_validate_access_rules_token_no_header_404")
		admin := crToken(t, "cred_auth_admin_system")
		m := newKSMock(t)
		var headers []string
		answer := func(req *http.Request) (*http.Response, error) {
			headers = append(headers, req.Header.Get("Openstack-Identity-Access-Rules"))
			if req.Header.Get("Openstack-Identity-Access-Rules") == "1.0" {
				return with.response(req), nil
			}
			return without.response(req), nil
		}
		for _, method := range []string{"GET", "HEAD", "DELETE"} {
			m.respond(method, mockBase+"/v3/auth/tokens", answer)
		}
		k := m.keystone(nil, nil)
		subject := "gAAAAAB-placeholder-cred_auth_appcred_access_rules"
		_, err := k.ValidateToken(crCtx, admin, subject, nil)
		recordErr(err)
		require.NoError(t, err)
		ok, err := k.CheckToken(crCtx, admin, subject)
		recordErr(err)
		require.NoError(t, err)
		assert.True(t, ok)
		_, _ = k.ValidateToken(crCtx, admin, subject, &ValidateOptions{NoCatalog: true, AllowExpired: true})
		err = k.RevokeToken(crCtx, admin, subject)
		recordErr(err)
		assert.Equal(t, []string{"1.0", "1.0", "1.0", "1.0"}, headers)
	})
	t.Run("without it Keystone says 404", func(t *testing.T) {
		c := loadCapture(t, "cred_validate_access_rules_token_no_header_404")
		_, hasHeader := c.Request.Headers["Openstack-Identity-Access-Rules"]
		assert.False(t, hasHeader)
		assert.Equal(t, 404, c.Response.Status)
	})
}

// TestApplicationCredentialInfoCredential: Credential() logs in with the
// credential's ID and Secret.
func TestApplicationCredentialInfoCredential(t *testing.T) {
	info := &ApplicationCredentialInfo{ID: crFullID, Name: "cred-full", UserID: crAliceID, Secret: crFullSecret}
	assert.Equal(t, ApplicationCredential{ID: crFullID, Secret: crFullSecret}, info.Credential())
	// It authenticates as cred_auth_appcred_access_rules did.
	m := newKSMock(t)
	m.expectNamed("cred_auth_appcred_access_rules")
	tok, err := m.keystone(info.Credential(), nil).Authenticate(crCtx)
	recordErr(err)
	require.NoError(t, err)
	assert.Equal(t, crFullID, tok.ApplicationCredential.ID)
}

func TestApplicationCredentialInfoCloudsYAML(t *testing.T) {
	load := func(t *testing.T, doc []byte, cloud string) *Config {
		t.Helper()
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "clouds.yaml"), doc, 0o600))
		cfg, err := LoadConfig(&ConfigOptions{Cloud: cloud, Dir: dir, Env: []string{}})
		recordErr(err)
		require.NoError(t, err)
		return cfg
	}
	for _, tc := range []struct {
		name, secret, region string
	}{
		{"plain", crFullSecret, ""},
		{"with a region", crFullSecret, "RegionTwo"},
		{"YAML-special secret", ": #'\"\n\t- [x] {y} &a *b !c | > % @ `", "Region: One #1"},
		{"secret looking like a number", "0123e4", ""},
		{"secret looking like a bool", "yes", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			registerSecret(tc.secret)
			info := &ApplicationCredentialInfo{ID: crFullID, Name: "cred-full", Secret: tc.secret}
			doc, err := info.CloudsYAML("my-cloud", "https://keystone.test:5000/v3", tc.region)
			recordErr(err)
			require.NoError(t, err)
			assert.Contains(t, string(doc), "auth_type: v3applicationcredential")
			assert.Equal(t, tc.region != "", strings.Contains(string(doc), "region_name"), string(doc))
			cfg := load(t, doc, "my-cloud")
			require.NotNil(t, cfg.Keystone)
			assert.Equal(t, ApplicationCredential{ID: crFullID, Secret: tc.secret}, cfg.Keystone.Credentials)
			assert.Equal(t, "https://keystone.test:5000/v3", cfg.Keystone.AuthURL)
			assert.Equal(t, tc.region, cfg.Region)
		})
	}
	t.Run("refusals", func(t *testing.T) {
		info := &ApplicationCredentialInfo{ID: crFullID, Secret: crFullSecret}
		for _, tc := range []struct {
			name                  string
			info                  *ApplicationCredentialInfo
			cloud, authURL, field string
		}{
			{"empty cloud name", info, "", "https://k.test/v3", "name"},
			{"no secret (from Get or List)", &ApplicationCredentialInfo{ID: crFullID}, "c", "https://k.test/v3", "ApplicationCredentialInfo.Secret"},
			{"no id", &ApplicationCredentialInfo{Secret: crFullSecret}, "c", "https://k.test/v3", "ApplicationCredentialInfo.ID"},
			{"empty auth URL", info, "c", "", ""},
			{"auth URL not a URL", info, "c", "keystone.test", ""},
			{"auth URL ftp", info, "c", "ftp://k.test/v3", ""},
			{"auth URL with user info", info, "c", "https://u:p@k.test/v3", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				doc, err := tc.info.CloudsYAML(tc.cloud, tc.authURL, "")
				recordErr(err)
				assert.Nil(t, doc)
				var ve *ValidationError
				require.ErrorAs(t, err, &ve)
				if tc.field != "" {
					assert.Equal(t, tc.field, ve.Field)
				}
				crNoSecretIn(t, err, crFullSecret)
			})
		}
	})
}

// TestApplicationCredentialSecretsHidden: fmt, slog and encoding/json never
// show the created, the generated or the given secret of the credential
// types, by value, by pointer, in a slice, nested in a struct.
func TestApplicationCredentialSecretsHidden(t *testing.T) {
	info := ApplicationCredentialInfo{ID: crFullID, Name: "cred-full", UserID: crAliceID, Secret: crFullSecret,
		ExpiresAt: time.Date(2099, 6, 30, 12, 34, 56, 0, time.UTC), Roles: crMemberRole}
	req := NewApplicationCredential{Name: "cred-given-secret", Secret: crGivenSecret, Roles: crMemberRole}
	type nested struct {
		Info  ApplicationCredentialInfo
		PInfo *ApplicationCredentialInfo
		Req   NewApplicationCredential
		PReq  *NewApplicationCredential
		Cred  ApplicationCredential
		All   []any
	}
	n := nested{Info: info, PInfo: &info, Req: req, PReq: &req, Cred: info.Credential(), All: []any{info, &info, req, &req}}
	values := map[string]any{
		"ApplicationCredentialInfo": info, "*ApplicationCredentialInfo": &info, "[]ApplicationCredentialInfo": []ApplicationCredentialInfo{info},
		"NewApplicationCredential": req, "*NewApplicationCredential": &req, "nested": n, "*nested": &n,
		"Credential()": info.Credential(),
	}
	crAssertHidden(t, values, crFullSecret, crGivenSecret)
	// What is not secret still shows.
	assert.Contains(t, fmt.Sprintf("%+v", info), crFullID)
	b, err := json.Marshal(info)
	require.NoError(t, err)
	assert.Contains(t, string(b), "cred-full")
}

// crAssertHidden prints each value with every verb, both slog
// handlers and encoding/json, and checks that no secret shows.
func crAssertHidden(t *testing.T, values map[string]any, secrets ...string) {
	t.Helper()
	for name, v := range values {
		t.Run(name, func(t *testing.T) {
			var outs []string
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
				outs = append(outs, fmt.Sprintf(verb, v))
			}
			outs = append(outs, fmt.Sprint(v), fmt.Sprintln(v))
			var text, js strings.Builder
			slog.New(slog.NewTextHandler(&text, nil)).Info("x", "v", v)
			slog.New(slog.NewJSONHandler(&js, nil)).Info("x", "v", v)
			outs = append(outs, text.String(), js.String())
			b, err := json.Marshal(v)
			require.NoError(t, err)
			outs = append(outs, string(b))
			for _, out := range outs {
				for _, s := range secrets {
					assert.NotContains(t, out, s)
					assert.NotContains(t, strings.ToLower(out), fmt.Sprintf("%x", s))
				}
			}
			// And through the suite's logger, which the leak check reads.
			testLogger().Info("value", "v", v)
		})
	}
}

// TestApplicationCredentialHintsOnlyFor403: the Hint is for refusals; other
// statuses get none, whatever the token.
func TestApplicationCredentialHintsOnlyFor403(t *testing.T) {
	ac := crToken(t, "cred_auth_appcred_alice_ac")
	for _, status := range []int{400, 401, 404, 409, 500} {
		m := newKSMock(t)
		m.respond("POST", crApps, jsonResponder(status, `{"error": {"code": 0, "message": "Using method 'application_credential' is not allowed for managing additional application credentials. May not delete access rule in use", "title": "x"}}`))
		_, err := m.keystone(nil, nil).CreateApplicationCredential(crCtx, ac, "", NewApplicationCredential{Name: "n"})
		he := crHTTPError(t, err, status)
		assert.Empty(t, he.Hint, "status %d", status)
	}
}

// TestGetApplicationCredentialMalformed: an answer to a Get without the
// credential is a *MalformedResponseError naming that request: GET, 200.
func TestGetApplicationCredentialMalformed(t *testing.T) {
	for _, body := range []string{`{}`, `{"application_credential": null}`, `{"application_credential": {"name": "n"}}`} {
		m := newKSMock(t)
		m.respond("GET", crApps+"/x", jsonResponder(200, body))
		_, err := m.keystone(nil, nil).GetApplicationCredential(crCtx, crAliceTok(), "", "x")
		recordErr(err)
		var me *MalformedResponseError
		require.ErrorAs(t, err, &me, body)
		assert.Equal(t, "GET", me.Method, body)
		assert.Equal(t, 200, me.StatusCode, body)
		assert.Equal(t, crApps+"/x", me.URL, body)
	}
}
