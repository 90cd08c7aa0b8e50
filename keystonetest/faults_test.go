package keystonetest

import (
	"encoding/json"
	"testing"
	"time"
)

func TestRejectNext(t *testing.T) {
	s := newTestServer(t)
	tok := demoToken(t, s)
	s.RejectNext(2)
	demoToken(t, s) // a login carries no token: not rejected
	call(t, s, "GET", "/v3/auth/projects", nil, "X-Auth-Token", tok).wantError(t, 401, msgUnauthorized)
	call(t, s, "GET", "/compute/v2.1/servers", nil, "X-Auth-Token", tok).wantError(t, 401, msgUnauthorized)
	call(t, s, "GET", "/v3/auth/projects", nil, "X-Auth-Token", tok).want(t, 200)
	if info, _ := s.LookupToken(tok); info.Revoked {
		t.Error("a rejection revoked the token")
	}

	// Cleura's routes: 403 "Invalid token".
	ctok := cleuraLogin(t, s, "v2", CleuraAPILogin, CleuraAPIPassword)
	s.RejectNext(1)
	r := call(t, s, "POST", "/auth/v2/tokens/validate", nil, "X-AUTH-LOGIN", CleuraAPILogin, "X-AUTH-TOKEN", ctok).want(t, 403)
	equal(t, "cleura body", string(r.raw), `{"error":{"code":403,"message":"Invalid token"}}`)
	call(t, s, "POST", "/auth/v2/tokens/validate", nil, "X-AUTH-LOGIN", CleuraAPILogin, "X-AUTH-TOKEN", ctok).want(t, 204)
	s.RejectNext(-1)
	equal(t, "counted", s.Requests("GET /v3/auth/projects"), 2)
}

func TestRateLimitAndUnavailable(t *testing.T) {
	s := newTestServer(t)
	s.RateLimitNext(2, 1500*time.Millisecond)
	r := call(t, s, "GET", "/v3", nil).want(t, 429)
	equal(t, "Retry-After", r.header.Get("Retry-After"), "2")
	equal(t, "title", get(r.body, "error", "title"), "Too Many Requests")
	r = call(t, s, "POST", "/v3/auth/tokens", passwordAuth(DemoUserName, DefaultDomainID, DemoPassword, nil)).want(t, 429)
	call(t, s, "GET", "/v3", nil).want(t, 200)
	s.RateLimitNext(1, 0)
	r = call(t, s, "GET", "/v3", nil).want(t, 429)
	equal(t, "no Retry-After", r.header.Values("Retry-After"), []string(nil))

	s.UnavailableNext(1)
	s.RateLimitNext(1, 0)
	call(t, s, "GET", "/v3", nil).want(t, 503) // 503 first
	call(t, s, "GET", "/v3", nil).want(t, 429)
	call(t, s, "GET", "/v3", nil).want(t, 200)
	equal(t, "no token issued by a 429", len(s.tokens), 0)
}

func TestMalformedNext(t *testing.T) {
	s := newTestServer(t)
	tok := demoToken(t, s)
	s.MalformedNext(1)
	// A 204 has no body to cut: it does not use the fault up.
	call(t, s, "DELETE", "/v3/auth/tokens", nil, "X-Auth-Token", tok, "X-Subject-Token", tok).want(t, 204)
	r := call(t, s, "POST", "/v3/auth/tokens", passwordAuth(DemoUserName, DefaultDomainID, DemoPassword, nil)).want(t, 201)
	if json.Valid(r.raw) || len(r.raw) == 0 {
		t.Fatalf("body %q is valid JSON", r.raw)
	}
	issued := r.header.Get("X-Subject-Token")
	if info, ok := s.LookupToken(issued); !ok || info.Revoked {
		t.Error("the cut login did not issue its token")
	}
	equal(t, "Content-Type kept", r.header.Get("Content-Type"), "application/json")
	r = call(t, s, "GET", "/v3", nil).want(t, 200)
	equal(t, "next body whole", json.Valid(r.raw), true)
}

func TestRevokeAll(t *testing.T) {
	s, now, carol := mfaServer(t)
	_ = now
	tok := demoToken(t, s)
	rec := call(t, s, "POST", "/v3/auth/tokens", passwordAuth(carol.Name, DefaultDomainID, "carol-pw", nil)).header.Get("Openstack-Auth-Receipt")
	ctok := cleuraLogin(t, s, "v2", CleuraAPILogin, CleuraAPIPassword)
	s.RevokeAll()
	call(t, s, "GET", "/v3/auth/projects", nil, "X-Auth-Token", tok).want(t, 401)
	code, _ := TOTPPasscode(carolSecret, s.Now())
	call(t, s, "POST", "/v3/auth/tokens", totpAuth(carol.ID, code), "Openstack-Auth-Receipt", rec).want(t, 401)
	call(t, s, "POST", "/auth/v2/tokens/validate", nil, "X-AUTH-LOGIN", CleuraAPILogin, "X-AUTH-TOKEN", ctok).want(t, 403)
	fresh := demoToken(t, s)
	call(t, s, "GET", "/v3/auth/projects", nil, "X-Auth-Token", fresh).want(t, 200)
}
