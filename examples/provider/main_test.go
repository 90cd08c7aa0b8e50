package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
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
	for _, want := range []string{
		"  %+v   AuthURL:" + srv.AuthURL() + " UserName:demo Password:REDACTED UserDomainName:Default TenantName:demo ProjectDomainName:Default Region:RegionOne\n",
		`  slog  level=INFO msg=configure provider="{AuthURL:` + srv.AuthURL() + " UserName:demo Password:REDACTED ",
		"  ksauth.Settings  AuthURL:" + srv.AuthURL() + " Username:demo Password:REDACTED ",
		"  example_compute_instance         compute       200 OK  " + srv.URL + "/compute/v2.1\n",
		"  example_compute_keypair          compute       200 OK  " + srv.URL + "/compute/v2.1\n",
		"  example_objectstorage_container  object-store  200 OK  " + srv.URL + "/object-store/v1/AUTH_" + keystonetest.DemoProjectID + "\n",
		"  logins 1 for 3 resources\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, keystonetest.DemoPassword) {
		t.Error("the output shows the password")
	}
	for route, want := range map[string]int{
		"POST /v3/auth/tokens": 1, // one session for all the resources
		"GET /compute/":        2,
		"GET /object-store/":   1,
	} {
		if got := srv.Requests(route); got != want {
			t.Errorf("%s: %d requests, want %d (all: %v)", route, got, want, srv.RequestCounts())
		}
	}
}

// TestRunConfigFile runs the -config path (the real-cloud one) against a
// listening fake, with an application credential.
func TestRunConfigFile(t *testing.T) {
	srv := keystonetest.NewServer()
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "provider.json")
	block := fmt.Sprintf(`{"auth_url": %q, "application_credential_id": %q, "application_credential_secret": %q}`,
		srv.AuthURL(), keystonetest.DemoAppCredID, keystonetest.DemoAppCredSecret)
	if err := os.WriteFile(file, []byte(block), 0o600); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := run(context.Background(), &buf, []string{"-config", file}, noEnv); err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, buf.String())
	}
	out := buf.String()
	if !strings.Contains(out, "ApplicationCredentialSecret:REDACTED") || strings.Contains(out, keystonetest.DemoAppCredSecret) {
		t.Errorf("the secret is not masked:\n%s", out)
	}
	if got := strings.Count(out, " 200 OK "); got != 3 {
		t.Errorf("%d resources read, want 3:\n%s", got, out)
	}
	if got := srv.Requests("POST /v3/auth/tokens"); got != 1 {
		t.Errorf("%d logins, want 1", got)
	}
}

// TestProviderConfigPrintsNoSecret prints the block every way a provider
// might log it.
func TestProviderConfigPrintsNoSecret(t *testing.T) {
	pc := providerConfig{UserName: "alice", Password: "pw-secret-1", ApplicationCredentialSecret: "ac-secret-2"}
	var printed []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		printed = append(printed, fmt.Sprintf(verb, pc), fmt.Sprintf(verb, &pc))
	}
	js, err := json.Marshal(pc)
	if err != nil {
		t.Fatal(err)
	}
	printed = append(printed, string(js))
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "pc", pc, "ptr", &pc)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "pc", pc, "ptr", &pc)
	printed = append(printed, logs.String())
	for _, p := range printed {
		if strings.Contains(p, "pw-secret-1") || strings.Contains(p, "ac-secret-2") ||
			strings.Contains(p, fmt.Sprintf("%x", "pw-secret-1")) {
			t.Errorf("a secret is shown: %s", p)
		}
	}
	// And the block still carries them to ksauth.
	if s := pc.settings(); s.Password != "pw-secret-1" || s.ApplicationCredentialSecret != "ac-secret-2" {
		t.Errorf("settings lost the secrets")
	}
	var back providerConfig
	if err := json.Unmarshal([]byte(`{"password":"pw"}`), &back); err != nil || back.Password != "pw" {
		t.Errorf("unmarshal: %v, %q", err, string(back.Password))
	}
}
