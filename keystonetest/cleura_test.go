package keystonetest

import (
	"net/http"
	"testing"
	"time"
)

// cleuraLogin logs in an account without a second factor.
func cleuraLogin(t *testing.T, s *Server, version, login, password string) string {
	t.Helper()
	var body any = map[string]string{"login": login, "password": password}
	if version == "v1" {
		body = map[string]any{"auth": body}
	}
	r := call(t, s, "POST", "/auth/"+version+"/tokens", body)
	if r.status/100 != 2 || get(r.body, "result") != "login_ok" {
		t.Fatalf("login: %d %s", r.status, r.raw)
	}
	return get(r.body, "token").(string)
}

func TestCleuraV2SMS(t *testing.T) {
	s := newTestServer(t)
	r := call(t, s, "POST", "/auth/v2/tokens", map[string]string{"login": CleuraLogin, "password": CleuraPassword}).want(t, 201)
	equal(t, "result", get(r.body, "result"), "twofactor_required")
	equal(t, "type", get(r.body, "type"), "sms")
	verification := get(r.body, "verification").(string)
	if _, sent := s.SMSCode(CleuraLogin); sent {
		t.Error("an SMS before it was requested")
	}
	call(t, s, "POST", "/auth/v2/request-sms-code", map[string]string{"login": CleuraLogin, "verification": "bogus"}).want(t, 400)
	call(t, s, "POST", "/auth/v2/request-sms-code", map[string]string{"login": CleuraLogin, "verification": verification,
		"language_code": "sv"}).want(t, 204)
	code, ok := s.SMSCode(CleuraLogin)
	if !ok || len(code) != 6 {
		t.Fatalf("SMS code %q", code)
	}
	verify := func(c any) result {
		return call(t, s, "POST", "/auth/v2/tokens-by-sms-code", map[string]any{"login": CleuraLogin, "verification": verification, "code": c})
	}
	r = verify(code).want(t, 400) // a string: Cleura wants a number
	equal(t, "error key", get(r.body, "error", "errors", 0, "key"), "code")
	r = verify(12).want(t, 401)
	equal(t, "wrong code", get(r.body, "error", "message"), "Invalid verification code")
	r = verify(jsonNumber(code)).want(t, 200)
	tok := get(r.body, "token").(string)
	equal(t, "v2 answer", len(r.body.(map[string]any)), 1)
	verify(jsonNumber(code)).want(t, 401) // used up

	hdr := []string{"X-AUTH-LOGIN", CleuraLogin, "X-AUTH-TOKEN", tok}
	call(t, s, "POST", "/auth/v2/tokens/validate", nil, hdr...).want(t, 204)
	r = call(t, s, "GET", "/accesscontrol/v1/openstack/domains", nil, hdr...).want(t, 200)
	equal(t, "domain", get(r.body, 0, "area", "regions", 0, "id"), "Sto2")
	call(t, s, "GET", "/accesscontrol/v1/openstack/domains", nil, "X-AUTH-LOGIN", CleuraAPILogin, "X-AUTH-TOKEN", tok).want(t, 403)
	call(t, s, "GET", "/accesscontrol/v1/openstack/domains", nil, "X-AUTH-TOKEN", tok).want(t, 403)
	equal(t, "valid", s.CleuraTokenValid(CleuraLogin, tok), true)
	call(t, s, "DELETE", "/auth/v2/tokens", nil, hdr...).want(t, 204)
	r = call(t, s, "POST", "/auth/v2/tokens/validate", nil, hdr...).want(t, 403)
	equal(t, "invalid", string(r.raw), `{"error":{"code":403,"message":"Invalid token"}}`)
}

func jsonNumber(code string) any {
	var n int64
	for _, c := range code {
		n = n*10 + int64(c-'0')
	}
	return n
}

func TestCleuraV1SMS(t *testing.T) {
	s := newTestServer(t)
	r := call(t, s, "POST", "/auth/v1/tokens", map[string]any{"auth": map[string]string{"login": CleuraLogin, "password": CleuraPassword,
		"twofa_method": "sms"}}).want(t, 200)
	equal(t, "result", get(r.body, "result"), "twofactor_required")
	verification := get(r.body, "verification").(string)
	call(t, s, "POST", "/auth/v1/tokens/request2facode", map[string]any{"request2fa": map[string]string{"login": CleuraLogin,
		"verification": verification}}).want(t, 204)
	code, _ := s.SMSCode(CleuraLogin)
	call(t, s, "POST", "/auth/v1/tokens/verify2fa", map[string]any{"login": CleuraLogin, "verification": verification,
		"code": jsonNumber(code)}).want(t, 400) // not wrapped
	r = call(t, s, "POST", "/auth/v1/tokens/verify2fa", map[string]any{"verify2fa": map[string]any{"login": CleuraLogin,
		"verification": verification, "code": jsonNumber(code)}}).want(t, 200)
	equal(t, "result", get(r.body, "result"), "login_ok")
	tok := get(r.body, "token").(string)
	call(t, s, "DELETE", "/auth/v1/tokens", nil, "X-AUTH-LOGIN", CleuraLogin, "X-AUTH-TOKEN", tok).want(t, 204)
	equal(t, "revoked", s.CleuraTokenValid(CleuraLogin, tok), false)
	tok = cleuraLogin(t, s, "v1", CleuraAPILogin, CleuraAPIPassword)
	equal(t, "api user", s.CleuraTokenValid(CleuraAPILogin, tok), true)
}

func TestCleuraAccounts(t *testing.T) {
	s := newTestServer(t)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	r := call(t, s, "POST", "/auth/v2/tokens", map[string]string{"login": CleuraLogin, "password": "wrong"}).want(t, 401)
	equal(t, "code", get(r.body, "error", "code"), float64(401))
	call(t, s, "POST", "/auth/v2/tokens", `{"login":`).want(t, 400)

	s.AddCleuraUser(CleuraUser{Login: "both", Password: "pw", TwoFactor: "sms", Options: []string{"sms", "webauthn"}})
	s.AddCleuraUser(CleuraUser{Login: "key", Password: "pw", TwoFactor: "webauthn"})
	r = call(t, s, "POST", "/auth/v2/tokens", map[string]string{"login": "both", "password": "pw"}).want(t, 201)
	equal(t, "options", get(r.body), map[string]any{"result": "twofactor_options", "options": []any{"sms", "webauthn"}})
	r = call(t, s, "POST", "/auth/v2/tokens", map[string]string{"login": "both", "password": "pw", "two_factor_method": "sms"}).want(t, 201)
	equal(t, "chosen", get(r.body, "type"), "sms")
	call(t, s, "POST", "/auth/v2/tokens", map[string]string{"login": "both", "password": "pw", "two_factor_method": "email"}).want(t, 400)
	r = call(t, s, "POST", "/auth/v2/tokens", map[string]string{"login": "key", "password": "pw"}).want(t, 201)
	equal(t, "webauthn", get(r.body, "type"), "webauthn")
	call(t, s, "POST", "/auth/v2/request-sms-code", map[string]string{"login": "key", "verification": get(r.body, "verification").(string)}).want(t, 400)

	tok := cleuraLogin(t, s, "v2", CleuraAPILogin, CleuraAPIPassword)
	now = now.Add(CleuraTokenLifetime)
	call(t, s, "POST", "/auth/v2/tokens/validate", nil, "X-AUTH-LOGIN", CleuraAPILogin, "X-AUTH-TOKEN", tok).want(t, http.StatusForbidden)
	func() {
		defer func() {
			if recover() == nil {
				t.Error("a duplicate login was added")
			}
		}()
		s.AddCleuraUser(CleuraUser{Login: CleuraLogin})
	}()
}
