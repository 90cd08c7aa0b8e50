package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/ksauth/ksauth"
	"github.com/ksauth/ksauth/keystonetest"
)

// TestRun runs the example against keystonetest's Cleura API, the SMS code
// typed at the prompt. With CLEURA_LOGIN set it is skipped: run the example
// itself.
func TestRun(t *testing.T) {
	if os.Getenv("CLEURA_LOGIN") != "" {
		t.Skip("CLEURA_LOGIN is set: run the example against the real API instead")
	}
	srv := keystonetest.NewServer()
	defer srv.Close()
	var prompt, out bytes.Buffer
	c := fakeCleura(srv, &prompt)
	if err := run(context.Background(), c, &out); err != nil {
		t.Fatal(err)
	}
	want := "domain carla-domain (b3c1d2e4f5a64789a0b1c2d3e4f5a6b7), area Europe: Sto2 (active), Fra1 (active)\nlogged out\n"
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
	if !strings.Contains(prompt.String(), "SMS code") {
		t.Errorf("prompt %q does not ask for the SMS code", prompt.String())
	}
	for route, want := range map[string]int{
		"POST /auth/v2/tokens":                    1,
		"POST /auth/v2/request-sms-code":          1,
		"POST /auth/v2/tokens-by-sms-code":        1,
		"GET /accesscontrol/v1/openstack/domains": 1,
		"DELETE /auth/v2/tokens":                  1,
	} {
		if got := srv.Requests(route); got != want {
			t.Errorf("%s: %d requests, want %d (all: %v)", route, got, want, srv.RequestCounts())
		}
	}
}

// TestRunAPIUser logs in as the account without a second factor, with the
// v1 API: no SMS asked for.
func TestRunAPIUser(t *testing.T) {
	srv := keystonetest.NewServer()
	defer srv.Close()
	c := &ksauth.Cleura{BaseURL: srv.URL, Login: keystonetest.CleuraAPILogin, Password: keystonetest.CleuraAPIPassword, APIVersion: ksauth.CleuraV1}
	var out bytes.Buffer
	if err := run(context.Background(), c, &out); err != nil {
		t.Fatal(err)
	}
	if want := "domain carla-api-domain (b3c1d2e4f5a64789a0b1c2d3e4f5a6b7), area Europe: Sto2 (active), Fra1 (active)\nlogged out\n"; out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
	if got := srv.Requests("POST /auth/v1/tokens/request2facode"); got != 0 {
		t.Errorf("%d SMS requests for an account without a second factor", got)
	}
	if got := srv.Requests("DELETE /auth/v1/tokens"); got != 1 {
		t.Errorf("%d logouts, want 1 (all: %v)", got, srv.RequestCounts())
	}
}

// TestRunRenewsRejectedToken: a token Cleura refuses (403 "Invalid token")
// is renewed once, with a new SMS code, and the listing succeeds.
func TestRunRenewsRejectedToken(t *testing.T) {
	srv := keystonetest.NewServer()
	defer srv.Close()
	srv.RejectNext(1)
	var prompt, out bytes.Buffer
	if err := run(context.Background(), fakeCleura(srv, &prompt), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(out.String(), "logged out\n") {
		t.Errorf("output:\n%s", out.String())
	}
	if got := srv.Requests("POST /auth/v2/tokens-by-sms-code"); got != 2 {
		t.Errorf("%d SMS logins, want 2 (all: %v)", got, srv.RequestCounts())
	}
}
