package ksauth

// EC2 credentials (ec2.go) against the real Keystone captures cred_ec2_*
// (testdata/keystone/README.md) and hand-made answers for what that
// Keystone cannot produce: the 401 some releases give an unknown access
// key, the new policy's 403 for a token without the member role.

import (
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var crEC2Demo = EC2Credential{Access: crEC2Access, Secret: crEC2Secret, UserID: crAliceID, ProjectID: crDemoID}

func TestCreateEC2Credential(t *testing.T) {
	t.Run("on the token's project", func(t *testing.T) {
		_, k, tok := crReplay(t, "cred_auth_alice_project", "cred_ec2_create")
		require.Equal(t, crDemoID, tok.Project.ID)
		got, err := k.CreateEC2Credential(crCtx, tok, "", "")
		recordErr(err)
		require.NoError(t, err)
		assert.Equal(t, crEC2Demo, *got)
	})
	t.Run("on a project given, for a user given", func(t *testing.T) {
		// alice has no role on ops: this Keystone does not mind.
		_, k, tok := crReplay(t, "cred_auth_alice_project", "cred_ec2_create_project_without_role")
		got, err := k.CreateEC2Credential(crCtx, tok, crAliceID, crOpsID)
		recordErr(err)
		require.NoError(t, err)
		assert.Equal(t, EC2Credential{Access: crEC2OpsAccess, Secret: crEC2OpsSecret, UserID: crAliceID, ProjectID: crOpsID}, *got)
	})
	t.Run("an unscoped token and no project", func(t *testing.T) {
		m := newKSMock(t)
		unscoped := &Token{ID: "gAAAAAB-placeholder-unscoped", User: User{ID: crAliceID}}
		_, err := m.keystone(nil, nil).CreateEC2Credential(crCtx, unscoped, "", "")
		recordErr(err)
		var ve *ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "projectID", ve.Field)
		assert.Zero(t, m.calls())
	})
	t.Run("an unscoped token and a project given", func(t *testing.T) {
		m := newKSMock(t)
		var sink crSink
		m.respond("POST", crEC2, sink.responder(201, `{"credential": {"access": "a", "secret": "s3cr3t-ec2", "user_id": "`+crAliceID+`", "tenant_id": "p-1", "trust_id": "t-1"}}`))
		registerSecret("s3cr3t-ec2")
		unscoped := &Token{ID: "gAAAAAB-placeholder-unscoped", User: User{ID: crAliceID}}
		got, err := m.keystone(nil, nil).CreateEC2Credential(crCtx, unscoped, "", "p-1")
		recordErr(err)
		require.NoError(t, err)
		assert.Equal(t, EC2Credential{Access: "a", Secret: "s3cr3t-ec2", UserID: crAliceID, ProjectID: "p-1", TrustID: "t-1"}, *got)
		require.Len(t, sink.bodies, 1)
		assert.JSONEq(t, `{"tenant_id": "p-1"}`, sink.bodies[0])
		assert.Equal(t, "application/json", sink.reqs[0].Header.Get("Content-Type"))
	})
}

func TestEC2CredentialsList(t *testing.T) {
	_, k, tok := crReplay(t, "cred_auth_alice_project", "cred_ec2_list")
	list, err := k.EC2Credentials(crCtx, tok, "")
	recordErr(err)
	require.NoError(t, err)
	assert.Equal(t, []EC2Credential{crEC2Demo}, list, "secrets included")
}

func TestGetEC2Credential(t *testing.T) {
	_, k, tok := crReplay(t, "cred_auth_alice_project", "cred_ec2_get", "cred_ec2_get_unknown_404")
	got, err := k.GetEC2Credential(crCtx, tok, "", crEC2Access)
	recordErr(err)
	require.NoError(t, err)
	assert.Equal(t, crEC2Demo, *got)

	_, err = k.GetEC2Credential(crCtx, tok, crAliceID, "00000000000000000000000000000000")
	he := crHTTPError(t, err, 404)
	assert.ErrorIs(t, err, ErrNotFound)
	assert.Equal(t, "Could not find credential: 84e0c0eafaa95a34c293f278ac52e45ce537bab5e752a00e6959a13ae103b65a.", he.Message)
	assert.Empty(t, he.Hint)
}

func TestDeleteEC2Credential(t *testing.T) {
	m, k, tok := crReplay(t, "cred_auth_alice_project", "cred_ec2_delete", "cred_ec2_delete_again_404")
	require.NoError(t, k.DeleteEC2Credential(crCtx, tok, "", crEC2Access))
	err := k.DeleteEC2Credential(crCtx, tok, "", crEC2Access)
	he := crHTTPError(t, err, 404)
	assert.ErrorIs(t, err, ErrNotFound)
	assert.Equal(t, "DELETE", he.Method)
	assert.Equal(t, crEC2+"/"+crEC2Access, he.URL)
	assert.Equal(t, 2, m.calls())
}

// TestEC2Refusals: the 403s for delegated tokens and for policy, with their
// Hints.
func TestEC2Refusals(t *testing.T) {
	const delegated = "You are not authorized to perform the requested action: Delegated tokens cannot access credentials directly."
	tests := []struct {
		capture, login string
		call           func(k *Keystone, tok *Token) error
		message, hint  string
	}{
		{"cred_ec2_create_appcred_403", "cred_auth_appcred_alice_ac", func(k *Keystone, tok *Token) error {
			_, err := k.CreateEC2Credential(crCtx, tok, "", "")
			return err
		}, delegated, hintEC2Deleg},
		{"cred_ec2_list_appcred_403", "cred_auth_appcred_alice_ac", func(k *Keystone, tok *Token) error {
			_, err := k.EC2Credentials(crCtx, tok, "")
			return err
		}, delegated, hintEC2Deleg},
		// The trust token's user is bob, its project alice's demo.
		{"cred_ec2_create_trust_403", "cred_auth_trust_bob", func(k *Keystone, tok *Token) error {
			_, err := k.CreateEC2Credential(crCtx, tok, "", "")
			return err
		}, delegated, hintEC2Deleg},
		{"cred_ec2_create_other_user_403", "cred_auth_alice_project", func(k *Keystone, tok *Token) error {
			_, err := k.CreateEC2Credential(crCtx, tok, crBobID, crDemoID)
			return err
		}, "You are not authorized to perform the requested action: identity:ec2_create_credential.", hintEC2Policy},
	}
	for _, tc := range tests {
		t.Run(tc.capture, func(t *testing.T) {
			_, k, tok := crReplay(t, tc.login, tc.capture)
			err := tc.call(k, tok)
			he := crHTTPError(t, err, 403)
			assert.ErrorIs(t, err, ErrForbidden)
			assert.Equal(t, tc.message, he.Message)
			assert.Contains(t, he.Hint, tc.hint)
			assert.Contains(t, err.Error(), tc.hint)
		})
	}
	t.Run("the new policy's refusal of a token without the member role", func(t *testing.T) {
		m := newKSMock(t)
		m.respond("POST", crEC2, jsonResponder(403,
			`{"error": {"code": 403, "message": "You are not authorized to perform the requested action: identity:ec2_create_credential.", "title": "Forbidden"}}`))
		_, err := m.keystone(nil, nil).CreateEC2Credential(crCtx, crAliceTok(), "", "")
		he := crHTTPError(t, err, 403)
		assert.Contains(t, he.Hint, hintEC2Policy)
	})
	t.Run("a delegated token told so by its methods alone", func(t *testing.T) {
		for name, tok := range map[string]*Token{
			"application_credential": {ID: "gAAAAAB-placeholder-x", User: User{ID: crAliceID}, Project: &Project{ID: crDemoID}, Methods: []string{"application_credential"}},
			"oauth1":                 {ID: "gAAAAAB-placeholder-x", User: User{ID: crAliceID}, Project: &Project{ID: crDemoID}, Methods: []string{"oauth1"}},
			"trust":                  {ID: "gAAAAAB-placeholder-x", User: User{ID: crAliceID}, Project: &Project{ID: crDemoID}, Trust: &Trust{ID: "t"}},
		} {
			m := newKSMock(t)
			m.respond("GET", crEC2, jsonResponder(403, `{"error": {"code": 403, "message": "You are not authorized to perform the requested action.", "title": "Forbidden"}}`))
			_, err := m.keystone(nil, nil).EC2Credentials(crCtx, tok, "")
			he := crHTTPError(t, err, 403)
			assert.Contains(t, he.Hint, hintEC2Deleg, name)
		}
	})
	t.Run("no hint but for 403s, none for an unexplained one", func(t *testing.T) {
		ac := crToken(t, "cred_auth_appcred_alice_ac")
		for _, tc := range []struct {
			status int
			tok    *Token
		}{{400, ac}, {404, ac}, {409, ac}, {500, ac}, {403, crAliceTok()}} {
			m := newKSMock(t)
			m.respond("GET", crEC2, jsonResponder(tc.status, `{"error": {"code": 0, "message": "You are not authorized to perform the requested action.", "title": "x"}}`))
			_, err := m.keystone(nil, nil).EC2Credentials(crCtx, tc.tok, "")
			he := crHTTPError(t, err, tc.status)
			assert.Empty(t, he.Hint, "status %d", tc.status)
		}
	})
}

// ec2KeyNotFound is the 401 some Keystone releases give an unknown EC2
// access key.
const ec2KeyNotFound = `{"error": {"code": 401, "message": "EC2 access key not found.", "title": "Unauthorized"}}`

// TestEC2UnknownKey401: Keystone's 401 "EC2 access key not found." is a
// not-found, not a rejected token: it matches ErrNotFound and not
// ErrUnauthorized, and a Session's token is kept.
func TestEC2UnknownKey401(t *testing.T) {
	calls := []struct {
		name, method string
		call         func(k *Keystone, src TokenSource) error
	}{
		{"GetEC2Credential", "GET", func(k *Keystone, src TokenSource) error {
			_, err := k.GetEC2Credential(crCtx, src, crAliceID, "unknown-key")
			return err
		}},
		{"DeleteEC2Credential", "DELETE", func(k *Keystone, src TokenSource) error {
			return k.DeleteEC2Credential(crCtx, src, crAliceID, "unknown-key")
		}},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			check := func(t *testing.T, err error) {
				t.Helper()
				he := crHTTPError(t, err, 401)
				assert.ErrorIs(t, err, ErrNotFound)
				assert.NotErrorIs(t, err, ErrUnauthorized)
				assert.Equal(t, "EC2 access key not found.", he.Message)
				var re *ReauthError
				assert.False(t, errors.As(err, &re))
			}
			t.Run("a token", func(t *testing.T) {
				m := newKSMock(t)
				m.respond(c.method, crEC2+"/unknown-key", jsonResponder(401, ec2KeyNotFound))
				check(t, c.call(m.keystone(nil, nil), crAliceTok()))
				assert.Equal(t, 1, m.calls())
			})
			t.Run("a Session: not invalidated", func(t *testing.T) {
				a := newStubAuth(0)
				s := NewSession(a, &SessionOptions{Logger: testLogger()})
				m := newKSMock(t)
				m.respond(c.method, crEC2+"/unknown-key", jsonResponder(401, ec2KeyNotFound))
				k := m.keystone(nil, nil)
				first := mustToken(t, s)
				check(t, c.call(k, s))
				check(t, c.call(k, s))
				assert.Equal(t, 1, a.callCount(), "the authenticator is called once")
				assert.Equal(t, 2, m.calls(), "each call sent once")
				assert.Same(t, first, mustToken(t, s), "the session keeps its token")
			})
		})
	}
	t.Run("a 401 with another message is about the token", func(t *testing.T) {
		m := newKSMock(t)
		m.respond("GET", crEC2+"/k", jsonResponder(401, `{"error": {"code": 401, "message": "The request you have made requires authentication.", "title": "Unauthorized"}}`))
		_, err := m.keystone(nil, nil).GetEC2Credential(crCtx, crAliceTok(), "", "k")
		crHTTPError(t, err, 401)
		assert.ErrorIs(t, err, ErrUnauthorized)
		assert.NotErrorIs(t, err, ErrNotFound)
	})
	t.Run("the message on another status changes nothing", func(t *testing.T) {
		m := newKSMock(t)
		m.respond("GET", crEC2+"/k", jsonResponder(403, `{"error": {"code": 403, "message": "EC2 access key not found.", "title": "Forbidden"}}`))
		_, err := m.keystone(nil, nil).GetEC2Credential(crCtx, crAliceTok(), "", "k")
		crHTTPError(t, err, 403)
		assert.ErrorIs(t, err, ErrForbidden)
		assert.NotErrorIs(t, err, ErrNotFound)
	})
}

// TestCredentialCallsRenewOnPlain401: a plain 401 on these calls invalidates
// a Session's token and sends the call once more with a new one; a second
// 401 stands.
func TestCredentialCallsRenewOnPlain401(t *testing.T) {
	const rejected = `{"error": {"code": 401, "message": "The request you have made requires authentication.", "title": "Unauthorized"}}`
	for _, c := range crCalls {
		t.Run(c.name, func(t *testing.T) {
			ok := map[string]struct {
				status int
				body   string
			}{
				"POST":   {201, `{"application_credential": {"id": "x", "secret": "created-secret-0815"}, "credential": {"access": "a", "secret": "s3cr3t-ec2"}}`},
				"GET":    {200, `{"application_credential": {"id": "x"}, "access_rule": {"id": "x"}, "credential": {"access": "a", "secret": "s3cr3t-ec2"}, "application_credentials": [], "access_rules": [], "credentials": []}`},
				"DELETE": {204, ``},
			}[c.method]
			registerSecret("created-secret-0815")
			registerSecret("s3cr3t-ec2")
			for _, rejections := range []int{1, 2} {
				a := newStubAuth(0)
				s := NewSession(a, &SessionOptions{Logger: testLogger()})
				m := newKSMock(t)
				var mu sync.Mutex
				var tokens []string
				m.mock.RegisterNoResponder(func(req *http.Request) (*http.Response, error) {
					mu.Lock()
					defer mu.Unlock()
					tokens = append(tokens, req.Header.Get("X-Auth-Token"))
					if len(tokens) <= rejections {
						return jsonResponder(401, rejected)(req)
					}
					return jsonResponder(ok.status, ok.body)(req)
				})
				// CreateEC2Credential needs a project: a Session's stub tokens
				// have none, so the project is given.
				var err error
				if c.name == "CreateEC2Credential" {
					_, err = m.keystone(nil, nil).CreateEC2Credential(crCtx, s, crAliceID, crDemoID)
				} else {
					err = c.call(m.keystone(nil, nil), s, crAliceID, "x")
				}
				recordErr(err)
				require.Len(t, tokens, 2, "sent twice: once more after the 401")
				assert.NotEqual(t, tokens[0], tokens[1], "with a new token")
				assert.Equal(t, 2, a.callCount())
				if rejections == 1 {
					assert.NoError(t, err)
				} else {
					he := crHTTPError(t, err, 401)
					assert.ErrorIs(t, err, ErrUnauthorized)
					assert.Equal(t, "The request you have made requires authentication.", he.Message)
				}
			}
		})
	}
}

// TestEC2Malformed: an answer without an access key or a secret, or not
// the JSON expected, is a *MalformedResponseError that does not quote the
// secret.
func TestEC2Malformed(t *testing.T) {
	const secret = "ec2-secret-in-a-bad-answer"
	registerSecret(secret)
	for name, body := range map[string]string{
		"no access":      `{"credential": {"secret": "` + secret + `", "user_id": "u"}}`,
		"no secret":      `{"credential": {"access": "a"}}`,
		"no credential":  `{"credentials": [{"access": "a", "secret": "` + secret + `"}]}`,
		"truncated":      `{"credential": {"access": "a", "secret": "` + secret,
		"wrong type":     `{"credential": {"access": "a", "secret": "` + secret + `", "trust_id": 7}}`,
		"null":           `null`,
		"an array":       `[{"access": "a", "secret": "` + secret + `"}]`,
		"secret as user": `{"credential": {"access": "a", "secret": "` + secret + `", "user_id": {"id": "` + secret + `"}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			m := newKSMock(t)
			m.respond("POST", crEC2, jsonResponder(201, body))
			m.respond("GET", crEC2+"/a", jsonResponder(200, body))
			k := m.keystone(nil, nil)
			_, err := k.CreateEC2Credential(crCtx, crAliceTok(), "", "")
			recordErr(err)
			var me *MalformedResponseError
			require.ErrorAs(t, err, &me)
			crNoSecretIn(t, err, secret)
			_, err = k.GetEC2Credential(crCtx, crAliceTok(), "", "a")
			recordErr(err)
			require.ErrorAs(t, err, &me)
			crNoSecretIn(t, err, secret)
		})
	}
}

// TestEC2SecretsHidden: fmt, slog and encoding/json never show an EC2
// secret.
func TestEC2SecretsHidden(t *testing.T) {
	c := crEC2Demo
	list := []EC2Credential{c, {Access: crEC2OpsAccess, Secret: crEC2OpsSecret}}
	type nested struct {
		C    EC2Credential
		PC   *EC2Credential
		List []EC2Credential
		Any  []any
		Map  map[string]EC2Credential
	}
	n := nested{C: c, PC: &c, List: list, Any: []any{c, &c, list}, Map: map[string]EC2Credential{"c": c}}
	crAssertHidden(t, map[string]any{"EC2Credential": c, "*EC2Credential": &c, "[]EC2Credential": list, "nested": n, "*nested": &n},
		crEC2Secret, crEC2OpsSecret)
	b, err := json.Marshal(c)
	require.NoError(t, err)
	assert.Contains(t, string(b), crEC2Access, "the access key is not secret")
}
