package main

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/ksauth/ksauth"
	"github.com/ksauth/ksauth/keystonetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shEval evals script in sh with env and returns the environment after.
func shEval(t *testing.T, env []string, script string) map[string]string {
	t.Helper()
	cmd := exec.Command("sh", "-c", `eval "$KSAUTH_SCRIPT" && env`)
	cmd.Env = append(env, "KSAUTH_SCRIPT="+script)
	out, err := cmd.Output()
	require.NoError(t, err)
	m := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && k != "KSAUTH_SCRIPT" {
			m[k] = v
		}
	}
	return m
}

func TestEnvEvaldInShAuthenticates(t *testing.T) {
	f := newFixture(t)
	r := f.mustRun("", "env")
	id := strings.TrimSpace(f.mustRun("", "token").stdout)
	assert.Contains(t, r.stdout, "export OS_TOKEN='"+id+"'\n")
	assert.Contains(t, r.stdout, "\nunset OS_CLOUD OS_USERNAME ")

	before := append([]string{"PATH=/usr/bin:/bin", "OS_PASSWORD=" + keystonetest.DemoPassword, "OS_USERNAME=demo",
		"OS_APPLICATION_CREDENTIAL_SECRET=x", "OS_PROJECT_NAME=admin"}, f.env...)
	after := shEval(t, before, r.stdout)
	for _, k := range []string{"OS_CLOUD", "OS_PASSWORD", "OS_USERNAME", "OS_APPLICATION_CREDENTIAL_SECRET", "OS_PROJECT_NAME"} {
		assert.NotContains(t, after, k)
	}
	assert.Equal(t, "token", after["OS_AUTH_TYPE"])
	assert.Equal(t, id, after["OS_TOKEN"])
	assert.Equal(t, f.srv.AuthURL(), after["OS_AUTH_URL"])
	assert.Equal(t, keystonetest.DemoProjectID, after["OS_PROJECT_ID"])
	assert.Equal(t, "RegionOne", after["OS_REGION_NAME"])
	assert.Equal(t, "false", after["OS_ALLOW_REAUTH"])

	// The library, configured from that environment alone, logs in with
	// the token.
	var env []string
	for k, v := range after {
		if k != "OS_CLIENT_CONFIG_FILE" {
			env = append(env, k+"="+v)
		}
	}
	cfg, err := ksauth.LoadConfig(&ksauth.ConfigOptions{Env: env})
	require.NoError(t, err)
	tok, err := cfg.Keystone.Authenticate(context.Background())
	require.NoError(t, err)
	assert.Equal(t, keystonetest.DemoUserID, tok.User.ID)
	assert.Equal(t, keystonetest.DemoProjectID, tok.Project.ID)
	assert.Contains(t, tok.Methods, "token", "a token login")
}

func TestEnvQuoting(t *testing.T) {
	for _, v := range []string{"", "plain", "it's", `a"b`, "$(echo pwned)", "`x`", `back\slash`, "new\nline", "'''", "; rm -rf /"} {
		got := shEval(t, []string{"PATH=/usr/bin:/bin"}, "export V="+shQuote(v))
		if !strings.Contains(v, "\n") {
			assert.Equal(t, v, got["V"], "%q", v)
		}
		assert.NotContains(t, got, "pwned")
	}
	assert.Equal(t, `'it'\''s'`, shQuote("it's"))
	assert.Equal(t, `'it\'s \\ x'`, fishQuote(`it's \ x`))
}

func TestEnvFish(t *testing.T) {
	f := newFixture(t)
	r := f.mustRun("", "env", "--shell", "fish")
	assert.Contains(t, r.stdout, "set -e OS_CLOUD\n")
	assert.Contains(t, r.stdout, "set -gx OS_AUTH_TYPE 'token'\n")
	assert.Contains(t, r.stdout, "set -gx OS_PROJECT_ID '"+keystonetest.DemoProjectID+"'\n")
	assert.NotContains(t, r.stdout, "export ")
	oneLineError(t, f.run("", "env", "--shell", "csh"), exitUsage, "sh or fish")
}
