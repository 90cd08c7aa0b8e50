package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/ksauth/ksauth"
)

// fakeCleura answers the v2 login with an SMS second factor, the domain
// listing and the logout, as Cleura's REST API does.
type fakeCleura struct {
	mu      sync.Mutex
	valid   map[string]bool
	revoked int
}

const (
	testLogin        = "carla"
	testPassword     = "example-password"
	testVerification = "verification-1"
	testCode         = 482139
)

func (f *fakeCleura) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Login, Password, Verification string
		Code                          json.Number
	}
	if r.Body != nil {
		_ = json.NewDecoder(r.Body).Decode(&in)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.Method + " " + r.URL.Path {
	case "POST /auth/v2/tokens":
		if in.Login != testLogin || in.Password != testPassword {
			reply(w, http.StatusUnauthorized, `{"error":{"code":401,"message":"Invalid login"}}`)
			return
		}
		reply(w, http.StatusCreated, `{"result":"twofactor_required","type":"sms","verification":"`+testVerification+`"}`)
	case "POST /auth/v2/request-sms-code":
		w.WriteHeader(http.StatusNoContent)
	case "POST /auth/v2/tokens-by-sms-code":
		if in.Verification != testVerification || in.Code.String() != "482139" {
			reply(w, http.StatusUnauthorized, `{"error":{"code":401,"message":"Wrong code"}}`)
			return
		}
		f.valid["token-1"] = true
		reply(w, http.StatusOK, `{"token":"token-1"}`)
	case "GET /accesscontrol/v1/openstack/domains":
		if !f.authorized(r) {
			reply(w, http.StatusForbidden, `{"error":{"code":403,"message":"Invalid token"}}`)
			return
		}
		reply(w, http.StatusOK, `[{"id":"d-1","name":"carla-domain","area":{"name":"Europe","regions":[{"id":"Sto2","status":"active"},{"id":"Fra1","status":"active"}]}}]`)
	case "DELETE /auth/v2/tokens":
		if !f.authorized(r) {
			reply(w, http.StatusForbidden, `{"error":{"code":403,"message":"Invalid token"}}`)
			return
		}
		delete(f.valid, r.Header.Get("X-AUTH-TOKEN"))
		f.revoked++
		w.WriteHeader(http.StatusNoContent)
	default:
		reply(w, http.StatusNotFound, `{"error":{"code":404,"message":"Not found"}}`)
	}
}

func (f *fakeCleura) authorized(r *http.Request) bool {
	return r.Header.Get("X-AUTH-LOGIN") == testLogin && f.valid[r.Header.Get("X-AUTH-TOKEN")]
}

func reply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// TestRun runs the example against the fake, the SMS code typed at the
// prompt. With CLEURA_LOGIN set it is skipped: run the example itself.
func TestRun(t *testing.T) {
	if os.Getenv("CLEURA_LOGIN") != "" {
		t.Skip("CLEURA_LOGIN is set: run the example against the real API instead")
	}
	fake := &fakeCleura{valid: map[string]bool{}}
	srv := httptest.NewServer(fake) // loopback: plain http is allowed there
	defer srv.Close()
	var prompt, out bytes.Buffer
	c := &ksauth.Cleura{
		BaseURL:   srv.URL,
		Login:     testLogin,
		Password:  testPassword,
		TwoFactor: ksauth.PromptTwoFactor(strings.NewReader("482139\n"), &prompt),
	}
	if err := run(context.Background(), c, &out); err != nil {
		t.Fatal(err)
	}
	want := "domain carla-domain (d-1), area Europe: Sto2 (active), Fra1 (active)\nlogged out\n"
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
	if !strings.Contains(prompt.String(), "SMS code") {
		t.Errorf("prompt %q does not ask for the SMS code", prompt.String())
	}
	if fake.revoked != 1 || len(fake.valid) != 0 {
		t.Errorf("logout: %d revocations, %d tokens still valid", fake.revoked, len(fake.valid))
	}
}
