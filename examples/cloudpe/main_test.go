package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/ksauth/ksauth/keystonetest"
)

// noEnv is an environment without a single OS_* variable.
func noEnv(string) string { return "" }

// runFake runs the example inside a synctest bubble against an in-memory
// keystonetest, so the Retry-After wait costs no real time, and returns
// its output and the server.
func runFake(t *testing.T) (string, *keystonetest.Server) {
	t.Helper()
	var out bytes.Buffer
	var srv *keystonetest.Server
	synctest.Test(t, func(t *testing.T) {
		newFake = func() *keystonetest.Server { srv = keystonetest.NewInMemoryServer(); return srv }
		defer func() { newFake = keystonetest.NewServer }()
		if err := run(context.Background(), &out, nil, noEnv); err != nil {
			t.Fatalf("run: %v\noutput:\n%s", err, out.String())
		}
	})
	return out.String(), srv
}

func TestRunAgainstFake(t *testing.T) {
	out, srv := runFake(t)
	for _, want := range []string{
		"cloudpe: keystonetest at https://keystone.test\n",
		"  version      v3.14 (stable)\n",
		"  lifetime     1h0m0s\n",
		"  user         demo (" + keystonetest.DemoUserID + "), domain Default\n",
		"  project      demo (" + keystonetest.DemoProjectID + "), domain Default\n",
		"  roles        member, reader\n",
		"  methods      application_credential\n",
		"  app cred     demo-ac (" + keystonetest.DemoAppCredID + "), restricted true\n",
		"    compute       RegionOne  https://keystone.test/compute/v2.1\n",
		"  GET compute  200 OK after the token was rejected once\n",
		"  logins       1 (one re-authentication)\n",
		"  GET compute  200 OK after a 429 with Retry-After: 1\n",
		"  waited       1s\n",
		"  requests     9 to the fake, 2 logins, 0 failures\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for route, want := range map[string]int{
		"GET /":                2, // Versions, and the login's version discovery
		"POST /v3/auth/tokens": 2, // the login and the re-authentication after the 401
		"GET /v3/auth/tokens":  1, // ValidateToken
		"GET /compute/":        4, // 401 + retry, 429 + retry
	} {
		if got := srv.Requests(route); got != want {
			t.Errorf("%s: %d requests, want %d (all: %v)", route, got, want, srv.RequestCounts())
		}
	}
	if strings.Contains(out, keystonetest.DemoAppCredSecret) {
		t.Error("the output shows the application credential secret")
	}
}

// TestRunAgainstFakeListening runs the example as `go run` does, on a
// loopback listener.
func TestRunAgainstFakeListening(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, nil, noEnv); err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "0 failures") {
		t.Errorf("no summary:\n%s", out.String())
	}
}

func TestRunRealNeedsCredentials(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), &out, []string{"-real"}, noEnv)
	if err == nil || !strings.Contains(err.Error(), "OS_APPLICATION_CREDENTIAL_ID") {
		t.Fatalf("run -real without credentials: %v", err)
	}
}
