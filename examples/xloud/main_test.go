package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/ksauth/ksauth/keystonetest"
)

func noEnv(string) string { return "" }

func TestRunAgainstFake(t *testing.T) {
	var srv *keystonetest.Server
	newFake = func() *keystonetest.Server { srv = keystonetest.NewServer(); return srv }
	defer func() { newFake = keystonetest.NewServer }()
	var buf bytes.Buffer
	if err := run(context.Background(), &buf, nil, noEnv); err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, buf.String())
	}
	out := buf.String()
	project := "project demo (" + keystonetest.DemoProjectID + ")"
	for _, want := range []string{
		"== password login, scoped to a project\n  token         Token(sha256:",
		"  scope         " + project + ", roles [member reader], 3 services\n",
		"  scope         unscoped, roles [], 0 services\n",
		"    demo  " + keystonetest.DemoProjectID + "  domain default\n",
		"  same expiry   true (rescoping never extends a token)\n",
		"  validate      user demo, project demo, methods token,password\n",
		"  check         valid true\n",
		"  revoke        done\n",
		"  check         valid false (revoked)\n",
		"  validate      404 Not Found (revoked)\n",
		"  export OS_PASSWORD=REDACTED\n",
		"  settings      AuthURL:" + srv.AuthURL() + " Username:demo Password:REDACTED UserDomainName:Default ProjectName:demo ProjectDomainName:Default IdentityAPIVersion:3\n",
		"  same project  true\n",
		"  logins        4 (POST /v3/auth/tokens)\n",
		"  validations   2 GET, 2 HEAD, 1 DELETE\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, keystonetest.DemoPassword) {
		t.Error("the output shows the password")
	}
	for route, want := range map[string]int{
		"POST /v3/auth/tokens":   4, // scoped, unscoped, rescope, OpenRC
		"GET /v3/auth/projects":  1,
		"HEAD /v3/auth/tokens":   2,
		"DELETE /v3/auth/tokens": 1,
	} {
		if got := srv.Requests(route); got != want {
			t.Errorf("%s: %d requests, want %d (all: %v)", route, got, want, srv.RequestCounts())
		}
	}
}

func TestRunRealNeedsOpenRC(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), &out, []string{"-real"}, noEnv)
	if err == nil || !strings.Contains(err.Error(), "OS_AUTH_URL") {
		t.Fatalf("run -real without OS_*: %v", err)
	}
}
