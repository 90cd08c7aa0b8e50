package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/ksauth/ksauth/keystonetest"
)

func noEnv(string) string { return "" }

// TestRunAgainstFake runs the example inside a synctest bubble against an
// in-memory keystonetest: the 8 s loop over 3 s tokens costs no real time.
func TestRunAgainstFake(t *testing.T) {
	var buf bytes.Buffer
	var srv *keystonetest.Server
	synctest.Test(t, func(t *testing.T) {
		newFake = func() *keystonetest.Server { srv = keystonetest.NewInMemoryServer(); return srv }
		defer func() { newFake = keystonetest.NewServer }()
		if err := run(context.Background(), &buf, nil, noEnv); err != nil {
			t.Fatalf("run: %v\noutput:\n%s", err, buf.String())
		}
	})
	out := buf.String()
	for _, want := range []string{
		"gozunga: keystonetest at https://keystone.test\n",
		"  lifetime       3s\n",
		"  ran            8s, a call every 100ms\n",
		"  calls          80\n",
		"  failures       0\n",
		"  listed         1 credential(s)\n",
		"  get after      ErrNotFound\n",
		"  still valid    false\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Tokens of 3 s over 8 s, renewed at about half their lifetime: at
	// least 4 renewals, each before the token expired (no 401, below).
	if n := count(t, out, "logins"); n < 4 {
		t.Errorf("%d logins in the loop, want at least 4:\n%s", n, out)
	}
	if n := count(t, out, "tokens used"); n < 5 {
		t.Errorf("%d tokens used in the loop, want at least 5:\n%s", n, out)
	}
	created := regexp.MustCompile(`created +\{Access:(\w+) Secret:REDACTED `).FindStringSubmatch(out)
	if created == nil || !strings.Contains(out, "deleted        access "+created[1]+"\n") {
		t.Errorf("the created credential was not the one deleted:\n%s", out)
	}
	for route, want := range map[string]int{
		"GET /compute/": 80, // one per call: no 401 and no retry
		"POST /v3/users/{user_id}/credentials/OS-EC2":            1,
		"GET /v3/users/{user_id}/credentials/OS-EC2":             1,
		"DELETE /v3/users/{user_id}/credentials/OS-EC2/{access}": 1,
		"GET /v3/users/{user_id}/credentials/OS-EC2/{access}":    1,
		"DELETE /v3/auth/tokens":                                 1,
	} {
		if got := srv.Requests(route); got != want {
			t.Errorf("%s: %d requests, want %d (all: %v)", route, got, want, srv.RequestCounts())
		}
	}
	if left := srv.EC2Credentials(keystonetest.DemoUserID); len(left) != 0 {
		t.Errorf("%d EC2 credentials left", len(left))
	}
	for _, c := range srv.EC2Credentials("") {
		if strings.Contains(out, c.Secret) {
			t.Error("the output shows an EC2 secret")
		}
	}
	if strings.Contains(out, keystonetest.DemoAppCredSecret) || strings.Contains(out, keystonetest.DemoPassword) {
		t.Error("the output shows a secret")
	}
}

// count reads the number of an output row.
func count(t *testing.T, out, key string) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(key) + ` +(\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no %q row:\n%s", key, out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestRunAgainstFakeListening runs it as `go run` does, on a loopback
// listener, with a short loop.
func TestRunAgainstFakeListening(t *testing.T) {
	var buf bytes.Buffer
	args := []string{"-lifetime", "3s", "-duration", "300ms", "-interval", "10ms"}
	if err := run(context.Background(), &buf, args, noEnv); err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, buf.String())
	}
	if !strings.Contains(buf.String(), "  failures       0\n") {
		t.Errorf("output:\n%s", buf.String())
	}
}

func TestRunRealNeedsCredentials(t *testing.T) {
	err := run(context.Background(), &bytes.Buffer{}, []string{"-real"}, noEnv)
	if err == nil || !strings.Contains(err.Error(), "OS_APPLICATION_CREDENTIAL_ID") {
		t.Fatalf("run -real without credentials: %v", err)
	}
}
