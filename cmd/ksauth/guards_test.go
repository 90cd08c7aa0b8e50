package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ksauth/ksauth/keystonetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// Tests written from a deliberate-bug check: each fails on a small change of
// the command that broke a promise of ksauth help or the README, which the
// other tests let through.

// withoutEnv returns env without the variables named.
func withoutEnv(env []string, names ...string) []string {
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if !strings.Contains(" "+strings.Join(names, " ")+" ", " "+k+" ") {
			out = append(out, kv)
		}
	}
	return out
}

// TestGuardConfigExitCodes: a region the cloud does not have is "not found"
// (4); several clouds and none named is input needed (2).
func TestGuardConfigExitCodes(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(f.dir, "regions.yaml")
	require.NoError(t, os.WriteFile(path, fmt.Appendf(nil, `clouds:
  multi:
    auth:
      auth_url: %s
      username: demo
      password: %s
      project_name: demo
      user_domain_name: Default
      project_domain_name: Default
    regions: [RegionOne, RegionTwo]
  other:
    auth:
      auth_url: %[1]s
      username: demo
`, f.srv.AuthURL(), keystonetest.DemoPassword), 0o600))
	f.env = append(f.env, "OS_CLIENT_CONFIG_FILE="+path)
	r := f.run("", "token", "--os-cloud", "multi", "--os-region-name", "Nowhere")
	oneLineError(t, r, exitNotFound, `region "Nowhere" is not one of this cloud's regions`)

	f.env = withoutEnv(f.env, "OS_CLOUD")
	r = f.run("", "token")
	oneLineError(t, r, exitNoInput, "clouds are defined")
	assert.Zero(t, f.srv.Requests(tokenPOST))
}

// TestGuardUsageErrorNamesCommandHelp: a usage error of a command points at
// that command's help.
func TestGuardUsageErrorNamesCommandHelp(t *testing.T) {
	f := newFixture(t)
	oneLineError(t, f.run("", "token", "--nonesuch"), exitUsage, "(see ksauth help token)")
	oneLineError(t, f.run("", "appcred", "show"), exitUsage, "(see ksauth help appcred show)")
	r := f.run("", "nonesuch")
	oneLineError(t, r, exitUsage, "see ksauth help")
	assert.Equal(t, 1, strings.Count(r.stderr, "ksauth help"), "named once: %q", r.stderr)
}

// TestGuardSecretFlagSpellings: a secret flag is refused however it is
// spelled (case, one dash), but after "--" an argument is only an argument.
func TestGuardSecretFlagSpellings(t *testing.T) {
	f := newFixture(t)
	for _, args := range [][]string{
		{"token", "--OS-Password=" + keystonetest.DemoPassword},
		{"token", "-Os-Token", "gAAAAABsecret"},
	} {
		r := f.run("", args...)
		oneLineError(t, r, exitUsage, "is refused")
	}
	// "--secret" after "--" is an access key, not the --secret flag: the
	// command runs (and Keystone has no such key).
	r := f.run("", "ec2", "delete", "--", "--secret")
	oneLineError(t, r, exitNotFound, "")
	assert.NotContains(t, r.stderr, "is refused")
}

// TestGuardPromptsNeedBothTerminals: a prompt needs stdin and stderr to be
// terminals: with only one of them, a missing password exits 2, unasked.
func TestGuardPromptsNeedBothTerminals(t *testing.T) {
	f := newFixture(t)
	var echoOff int
	oldEcho := noEcho
	noEcho = func(io.Reader) (func(), error) { echoOff++; return func() {}, nil }
	t.Cleanup(func() { noEcho = oldEcho })
	for name, stdinIsTerminal := range map[string]bool{"stdin only": true, "stderr only": false} {
		oldTerm := isTerminal
		isTerminal = func(f any) bool {
			_, isStderr := f.(*bytes.Buffer) // the fixture's stderr
			return isStderr != stdinIsTerminal
		}
		r := f.run(keystonetest.DemoPassword+"\n", "login", "--os-cloud", "nopw")
		isTerminal = oldTerm
		oneLineError(t, r, exitNoInput, "auth.password")
		assert.NotContains(t, r.stderr, "Password", name)
		assert.Zero(t, echoOff, name)
	}
	assert.Zero(t, f.srv.Requests(tokenPOST))
}

// readLineOf is readLine on stdin s.
func readLineOf(s string) (string, error) {
	a := &app{stdin: bufio.NewReader(strings.NewReader(s))}
	return a.readLine("--password-stdin")
}

// TestGuardReadLine: one line without its ending (LF or CRLF), the last
// one without a newline too; nothing at all is an error; at most 64 KiB.
func TestGuardReadLine(t *testing.T) {
	for in, want := range map[string]string{
		"pw\n": "pw", "pw\r\n": "pw", "pw": "pw", "pw\nnext\n": "pw", "\n": "",
	} {
		got, err := readLineOf(in)
		require.NoError(t, err, "%q", in)
		assert.Equal(t, want, got, "%q", in)
	}
	_, err := readLineOf("")
	var ie *inputError
	require.ErrorAs(t, err, &ie)
	assert.Contains(t, err.Error(), "nothing on stdin")

	long := strings.Repeat("x", maxLine+1)
	for _, in := range []string{long, long + "\n"} {
		_, err = readLineOf(in)
		require.ErrorAs(t, err, &ie, "%d bytes", len(in))
		assert.Contains(t, err.Error(), "longer than 64 KiB")
	}
}

// TestGuardEmptyPasswordStdinLine: an empty first line is not a password:
// exit 2, not a silent fallback to the configured one.
func TestGuardEmptyPasswordStdinLine(t *testing.T) {
	f := newFixture(t)
	oneLineError(t, f.run("\n", "token", "--password-stdin"), exitNoInput, "--password-stdin: the first line of stdin is empty")
	assert.Zero(t, f.srv.Requests(tokenPOST))
}

// TestGuardReadLineExactly64KiB: a line of exactly 64 KiB is not "longer
// than 64 KiB", whether a newline ends it or not.
func TestGuardReadLineExactly64KiB(t *testing.T) {
	exact := strings.Repeat("x", maxLine)
	for _, in := range []string{exact, exact + "\n", exact + "\r\n"} {
		got, err := readLineOf(in)
		require.NoError(t, err, "%d bytes", len(in))
		assert.Equal(t, exact, got)
	}
}

// TestGuardEchoRestoredWhenThePromptFails: the terminal's echo is turned
// back on however the password prompt ends: nothing typed (end of input)
// or Ctrl-C.
func TestGuardEchoRestoredWhenThePromptFails(t *testing.T) {
	f := newFixture(t)
	f.terminal = true
	var echoOff, echoOn int
	old := noEcho
	noEcho = func(io.Reader) (func(), error) { echoOff++; return func() { echoOn++ }, nil }
	t.Cleanup(func() { noEcho = old })

	oneLineError(t, afterPrompt(t, f.run("", "login", "--os-cloud", "nopw")), exitNoInput, "nothing on stdin")
	assert.Equal(t, 1, echoOff)
	assert.Equal(t, 1, echoOn, "echo back on after end of input")

	// Ctrl-C while the prompt waits for a line that never comes (in a
	// bubble: a prompt that ignored Ctrl-C is a deadlock, not a hang).
	synctest.Test(t, func(t *testing.T) {
		in, typist := io.Pipe()
		defer typist.Close()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var out, errOut bytes.Buffer
		code := run(ctx, []string{"login", "--os-cloud", "nopw"}, f.env, in, &out, &errOut)
		assert.NotEqual(t, exitOK, code, errOut.String())
		r := afterPrompt(t, result{code, out.String(), errOut.String()})
		oneLineError(t, r, code, "canceled") // named "ksauth:" too
		typist.Close()
	})
	assert.Equal(t, 2, echoOff)
	assert.Equal(t, 2, echoOn, "echo back on after Ctrl-C")
	assert.Zero(t, f.srv.Requests(tokenPOST))
}

// TestGuardRelativeXDGCacheHomeIgnored: a relative XDG_CACHE_HOME is
// ignored, as the XDG spec has it: the cache is ~/.cache/ksauth.
func TestGuardRelativeXDGCacheHomeIgnored(t *testing.T) {
	f := newFixture(t)
	f.env = append(withoutEnv(f.env, "XDG_CACHE_HOME"), "XDG_CACHE_HOME=relative/cache")
	var st struct{ Dir string }
	require.NoError(t, json.Unmarshal([]byte(f.mustRun("", "cache", "status", "-o", "json").stdout), &st))
	assert.Equal(t, filepath.Join(f.dir, ".cache", "ksauth"), st.Dir)
}

// TestGuardMultiLineErrorOnOneLine: an error whose text spans lines (YAML's
// list of type errors) is still one line on stderr.
func TestGuardMultiLineErrorOnOneLine(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(f.dir, "list.yaml")
	require.NoError(t, os.WriteFile(path, []byte("- a\n- b\n"), 0o600))
	f.env = append(f.env, "OS_CLIENT_CONFIG_FILE="+path)
	r := f.run("", "token")
	oneLineError(t, r, exitError, "not valid YAML")
	assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
}

// TestGuardCacheCommandsRefuseNoCache: the commands that work on the cache
// refuse --no-cache (exit 64) rather than finding nothing in it.
func TestGuardCacheCommandsRefuseNoCache(t *testing.T) {
	f := newFixture(t)
	f.mustRun("", "token")
	for _, args := range [][]string{{"token", "inspect"}, {"token", "revoke"}, {"logout"}} {
		oneLineError(t, f.run("", append(args, "--no-cache")...), exitUsage, "--no-cache makes no sense here")
	}
	assert.Zero(t, f.srv.Requests("DELETE /v3/auth/tokens"))
	f.mustRun("", "token", "inspect") // still cached
}

// TestGuardLogoutOfARevokedToken: logging out of a token Keystone already
// revoked succeeds and empties the cache.
func TestGuardLogoutOfARevokedToken(t *testing.T) {
	f := newFixture(t)
	f.mustRun("", "token")
	f.srv.RevokeAll()
	f.mustRun("", "logout")
	oneLineError(t, f.run("", "token", "inspect"), exitNoInput, "no cached token")
}

// TestGuardTimesInUTC: the JSON times are UTC whatever the local zone.
func TestGuardTimesInUTC(t *testing.T) {
	old := time.Local
	time.Local = time.FixedZone("UTC+5", 5*3600)
	t.Cleanup(func() { time.Local = old })
	f := newFixture(t)
	var tok jsonToken
	require.NoError(t, json.Unmarshal([]byte(f.mustRun("", "token", "-o", "json").stdout), &tok))
	var st struct{ Entries []jsonCacheEntry }
	require.NoError(t, json.Unmarshal([]byte(f.mustRun("", "cache", "status", "-o", "json").stdout), &st))
	require.Len(t, st.Entries, 1)
	require.NotNil(t, st.Entries[0].Expires)
	for _, ts := range []string{tok.ExpiresAt, tok.IssuedAt, st.Entries[0].Modified, *st.Entries[0].Expires} {
		assert.True(t, strings.HasSuffix(ts, "Z"), "%q is not UTC", ts)
	}
}

// execCredentialOf runs exec-credential and returns its token and expiry.
func execCredentialOf(t *testing.T, f *fixture) (string, time.Time) {
	t.Helper()
	var ec execCredential
	require.NoError(t, json.Unmarshal([]byte(f.mustRun("", "exec-credential").stdout), &ec))
	exp, err := time.Parse(time.RFC3339, ec.Status.ExpirationTimestamp)
	require.NoError(t, err)
	return ec.Status.Token, exp
}

// TestGuardExecCredentialShortTokens: a cached token with less than 5
// minutes left is not handed to kubectl; a token too short for the
// 3-minute window is announced half its lifetime early.
func TestGuardExecCredentialShortTokens(t *testing.T) {
	f := newFixture(t)
	f.env = append(f.env, execInfoFor(execV1, false))
	f.srv.SetTokenLifetime(4 * time.Minute)
	short := strings.TrimSpace(f.mustRun("", "token", "--min-valid", "0").stdout)

	f.srv.SetTokenLifetime(5*time.Minute + 30*time.Second)
	tok, exp := execCredentialOf(t, f)
	assert.NotEqual(t, short, tok, "a token with 4 minutes left is replaced")
	var j jsonToken
	require.NoError(t, json.Unmarshal([]byte(f.mustRun("", "token", "-o", "json").stdout), &j))
	require.Equal(t, tok, j.ID)
	expires, err := time.Parse(time.RFC3339, j.ExpiresAt)
	require.NoError(t, err)
	// Half of 5m30s, not the 3 minutes of longer tokens.
	assert.WithinDuration(t, expires.Add(-165*time.Second), exp, 2*time.Second)
}

// TestGuardKubeconfigArgs: the exec user gets the cloud (from --os-cloud or
// OS_CLOUD) and the region; --server must be an http(s) URL.
func TestGuardKubeconfigArgs(t *testing.T) {
	f := newFixture(t)
	var kc kubeconfig
	r := f.mustRun("", "kubeconfig", "--cluster", "prod", "--server", "https://k8s.example.com", "--os-region-name", "RegionOne")
	require.NoError(t, yaml.Unmarshal([]byte(r.stdout), &kc))
	require.Len(t, kc.Users, 1)
	assert.Equal(t, []string{"exec-credential", "--os-cloud", "demo", "--os-region-name", "RegionOne"}, kc.Users[0].User.Exec.Args,
		"the cloud from OS_CLOUD")
	for _, server := range []string{"ftp://k8s.example.com", "file:///etc/passwd"} {
		oneLineError(t, f.run("", "kubeconfig", "--cluster", "p", "--server", server), exitUsage, "not an http(s) URL")
	}
}

// TestGuardEnvMinValid: ksauth env replaces a cached token with less than
// --min-valid left.
func TestGuardEnvMinValid(t *testing.T) {
	f := newFixture(t)
	f.srv.SetTokenLifetime(20 * time.Minute)
	cached := strings.TrimSpace(f.mustRun("", "token").stdout)
	f.srv.SetTokenLifetime(time.Hour)
	out := f.mustRun("", "env", "--min-valid", "30m").stdout
	assert.NotContains(t, out, cached)
	assert.Equal(t, 2, f.srv.Requests(tokenPOST))
}

// TestGuardEnvDomainScope: a domain-scoped token exports OS_DOMAIN_ID.
func TestGuardEnvDomainScope(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(f.dir, "domain.yaml")
	require.NoError(t, os.WriteFile(path, fmt.Appendf(nil, `clouds:
  dom:
    auth:
      auth_url: %s
      username: demo
      password: %s
      user_domain_name: Default
      domain_name: Default
`, f.srv.AuthURL(), keystonetest.DemoPassword), 0o600))
	f.env = append(f.env, "OS_CLIENT_CONFIG_FILE="+path, "OS_CLOUD=dom")
	out := f.mustRun("", "env").stdout
	assert.Contains(t, out, "\nexport OS_DOMAIN_ID='"+keystonetest.DefaultDomainID+"'\n")
	assert.NotContains(t, out, "export OS_PROJECT_ID")
}

// TestGuardAppCredCreateFlags: --roles, --unrestricted and --expires-at
// reach Keystone; a bad --expires-at, or both stdin flags, is a usage error
// before anything is sent.
func TestGuardAppCredCreateFlags(t *testing.T) {
	f := newFixture(t)
	f.mustRun("", "appcred", "create", "narrow", "--roles", "reader", "--unrestricted", "--expires-at", "2099-01-02T03:04:05Z")
	var j jsonAppCred
	require.NoError(t, json.Unmarshal([]byte(f.mustRun("", "appcred", "show", "narrow", "-o", "json").stdout), &j))
	require.Len(t, j.Roles, 1)
	assert.Equal(t, "reader", j.Roles[0].Name)
	assert.True(t, j.Unrestricted)
	require.NotNil(t, j.ExpiresAt)
	assert.Equal(t, "2099-01-02T03:04:05Z", *j.ExpiresAt)

	posts := f.srv.Requests("POST /v3/users/" + keystonetest.DemoUserID + "/application_credentials")
	oneLineError(t, f.run("", "appcred", "create", "x", "--expires-at", "tomorrow"), exitUsage, "not an RFC 3339 time")
	oneLineError(t, f.run("s\n", "appcred", "create", "x", "--secret-stdin", "--password-stdin"), exitUsage, "cannot both read stdin")
	assert.Equal(t, posts, f.srv.Requests("POST /v3/users/"+keystonetest.DemoUserID+"/application_credentials"))
}

// TestGuardAppCredCloudsYAMLKeepsTheSecretThere: with --clouds-yaml the
// secret is in the file only (-o json too), and a failed creation leaves no
// file behind.
func TestGuardAppCredCloudsYAMLKeepsTheSecretThere(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(f.dir, "ac.yaml")
	r := f.mustRun("", "appcred", "create", "ci", "--clouds-yaml", path, "-o", "json")
	var doc struct {
		Clouds map[string]struct {
			Auth map[string]string
		}
	}
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	secret := doc.Clouds["ci"].Auth["application_credential_secret"]
	require.NotEmpty(t, secret)
	assert.NotContains(t, r.stdout+r.stderr, secret)
	var j jsonAppCred
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &j))
	assert.Equal(t, "ci", j.Name)

	failed := filepath.Join(f.dir, "failed.yaml")
	r = f.run("wrong\n", "appcred", "create", "ci2", "--clouds-yaml", failed, "--os-cloud", "nopw", "--password-stdin")
	oneLineError(t, r, exitRejected, "")
	_, err = os.Stat(failed)
	assert.ErrorIs(t, err, os.ErrNotExist, "no empty file left")
}

// TestGuardEC2ListHidesSecrets: ec2 list shows access keys, never secrets,
// in JSON too.
func TestGuardEC2ListHidesSecrets(t *testing.T) {
	f := newFixture(t)
	var c map[string]string
	require.NoError(t, json.Unmarshal([]byte(f.mustRun("", "ec2", "create", "-o", "json").stdout), &c))
	require.NotEmpty(t, c["secret"])
	out := f.mustRun("", "ec2", "list", "-o", "json").stdout
	assert.Contains(t, out, c["access"])
	assert.NotContains(t, out, c["secret"])
}

// TestGuardEmptySecretStdinLine: --secret-stdin with an empty first line is
// refused (exit 2), not a credential whose secret Keystone generates.
func TestGuardEmptySecretStdinLine(t *testing.T) {
	f := newFixture(t)
	for _, stdin := range []string{"", "\n", "\r\n"} {
		oneLineError(t, f.run(stdin, "appcred", "create", "chosen", "--secret-stdin"), exitNoInput, "--secret-stdin")
	}
	assert.Zero(t, f.srv.Requests("POST /v3/users/"+keystonetest.DemoUserID+"/application_credentials"))
}

// addCloud writes a clouds.yaml holding only the entry name (body: its
// lines, indented) and points the fixture's OS_CLIENT_CONFIG_FILE at it.
func addCloud(t *testing.T, f *fixture, name, body string) {
	t.Helper()
	path := filepath.Join(f.dir, name+".yaml")
	require.NoError(t, os.WriteFile(path, []byte("clouds:\n  "+name+":\n"+body), 0o600))
	f.env = append(f.env, "OS_CLIENT_CONFIG_FILE="+path)
}

// proxied puts a proxy in front of f's Keystone, edit changing what it
// answers, and adds a cloud "proxied" (the demo user) logging in through it.
func proxied(t *testing.T, f *fixture, edit func(r *http.Request, status int, body []byte) (int, []byte)) {
	t.Helper()
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := http.NewRequestWithContext(r.Context(), r.Method, f.srv.URL+r.URL.RequestURI(), r.Body)
		require.NoError(t, err)
		req.Header = r.Header.Clone()
		resp, err := f.srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		status, body := edit(r, resp.StatusCode, body)
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(proxy.Close)
	addCloud(t, f, "proxied", fmt.Sprintf(`    auth:
      auth_url: %s/v3
      username: demo
      password: %s
      project_name: demo
      user_domain_name: Default
      project_domain_name: Default
`, proxy.URL, keystonetest.DemoPassword))
}

// TestGuardCredentialProcessPicksItsOwnKind: credential-process reuses only
// a credential of the project and not bound to a trust; else it creates one.
func TestGuardCredentialProcessPicksItsOwnKind(t *testing.T) {
	f := newFixture(t)
	proxied(t, f, func(r *http.Request, status int, body []byte) (int, []byte) {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/credentials/OS-EC2") || status != http.StatusOK {
			return status, body
		}
		var page map[string]any
		require.NoError(t, json.Unmarshal(body, &page))
		injected := []any{
			map[string]any{"access": "AKtrust", "secret": "trust-bound-secret", "user_id": keystonetest.DemoUserID,
				"tenant_id": keystonetest.DemoProjectID, "trust_id": "a-trust"},
			map[string]any{"access": "AKother", "secret": "other-project-secret", "user_id": keystonetest.DemoUserID,
				"tenant_id": keystonetest.AdminProjectID, "trust_id": nil},
		}
		page["credentials"] = append(injected, page["credentials"].([]any)...)
		body, err := json.Marshal(page)
		require.NoError(t, err)
		return status, body
	})
	var got awsCredential
	require.NoError(t, json.Unmarshal([]byte(f.mustRun("", "credential-process", "--os-cloud", "proxied").stdout), &got))
	created := f.srv.EC2Credentials(keystonetest.DemoUserID)
	require.Len(t, created, 1, "a new one, for the project, without a trust")
	assert.Equal(t, created[0].Access, got.AccessKeyID)
	assert.Equal(t, keystonetest.DemoProjectID, created[0].ProjectID)
}

// TestGuardInspectOnlineNotFoundIsRejected: a Keystone that answers 404 to
// the validation of the cached token (revoked) exits 3, as a 401 does.
func TestGuardInspectOnlineNotFoundIsRejected(t *testing.T) {
	f := newFixture(t)
	proxied(t, f, func(r *http.Request, status int, body []byte) (int, []byte) {
		if r.Method == http.MethodGet && r.URL.Path == "/v3/auth/tokens" {
			return http.StatusNotFound, []byte(`{"error": {"code": 404, "title": "Not Found", "message": "Could not find token."}}`)
		}
		return status, body
	})
	f.mustRun("", "token", "--os-cloud", "proxied")
	oneLineError(t, f.run("", "token", "inspect", "--online", "--os-cloud", "proxied"), exitRejected, "does not accept the cached token")
}

// TestGuardProjectResolution: an unscoped token and no --project is a usage
// error; so is a project name two of the user's projects share.
func TestGuardProjectResolution(t *testing.T) {
	f := newFixture(t)
	other := f.srv.AddDomain(keystonetest.Domain{Name: "Other"})
	twin := f.srv.AddProject(keystonetest.Project{Name: keystonetest.DemoProjectName, DomainID: other.ID})
	ops := f.srv.AddProject(keystonetest.Project{Name: "ops", DomainID: keystonetest.DefaultDomainID})
	f.srv.AddUser(keystonetest.User{Name: "twin", Password: "twin-password", DefaultProjectID: ops.ID,
		ProjectRoles: map[string][]string{keystonetest.DemoProjectID: {"member"}, twin.ID: {"member"}, ops.ID: {"member"}}})
	f.srv.AddUser(keystonetest.User{Name: "loner", Password: "loner-password"})
	addCloud(t, f, "twin", fmt.Sprintf("    auth:\n      auth_url: %s\n      username: twin\n      password: twin-password\n      user_domain_name: Default\n", f.srv.AuthURL()))
	for _, args := range [][]string{{"ec2", "create"}, {"credential-process"}} {
		oneLineError(t, f.run("", append(args, "--os-cloud", "twin", "--project", keystonetest.DemoProjectName)...),
			exitUsage, `2 projects are named "demo": give the id`)
	}
	addCloud(t, f, "loner", fmt.Sprintf("    auth:\n      auth_url: %s\n      username: loner\n      password: loner-password\n      user_domain_name: Default\n", f.srv.AuthURL()))
	for _, args := range [][]string{{"ec2", "create"}, {"credential-process"}} {
		oneLineError(t, f.run("", append(args, "--os-cloud", "loner")...), exitUsage, "the token is not project-scoped: give --project")
	}
	assert.Empty(t, f.srv.EC2Credentials(""))
}

// TestGuardEndpointUsesTheCloudsInterface: without --interface, endpoint
// looks up the cloud's interface.
func TestGuardEndpointUsesTheCloudsInterface(t *testing.T) {
	f := newFixture(t)
	catalog := f.srv.Catalog()
	for i := range catalog {
		for j := range catalog[i].Endpoints {
			catalog[i].Endpoints[j].URL += "/" + catalog[i].Endpoints[j].Interface
		}
	}
	f.srv.SetCatalog(catalog)
	addCloud(t, f, "internal", fmt.Sprintf(`    auth:
      auth_url: %s
      username: demo
      password: %s
      project_name: demo
      user_domain_name: Default
      project_domain_name: Default
    interface: internal
`, f.srv.AuthURL(), keystonetest.DemoPassword))
	assert.Equal(t, f.srv.URL+"/compute/v2.1/internal\n", f.mustRun("", "endpoint", "compute", "--os-cloud", "internal").stdout)
	assert.Equal(t, f.srv.URL+"/compute/v2.1/admin\n", f.mustRun("", "endpoint", "compute", "--os-cloud", "internal", "--interface", "admin").stdout)
}

// TestGuardHelpListsEveryExitCode: ksauth help lists every exit code of
// the contract.
func TestGuardHelpListsEveryExitCode(t *testing.T) {
	out := newFixture(t).mustRun("", "help").stdout
	for _, code := range []int{exitOK, exitError, exitNoInput, exitRejected, exitNotFound, exitRateLimited, exitUsage} {
		assert.Regexp(t, fmt.Sprintf(`(?m)^  %-3d \S`, code), out)
	}
}

// TestGuardPasswordPromptOnlyForAMissingPassword: a configuration lacking
// something else than the password is not "fixed" by asking for one.
func TestGuardPasswordPromptOnlyForAMissingPassword(t *testing.T) {
	f := newFixture(t)
	f.terminal = true
	var echoOff int
	old := noEcho
	noEcho = func(io.Reader) (func(), error) { echoOff++; return func() {}, nil }
	t.Cleanup(func() { noEcho = old })
	addCloud(t, f, "nouser", fmt.Sprintf("    auth:\n      auth_url: %s\n      project_name: demo\n      project_domain_name: Default\n", f.srv.AuthURL()))
	r := f.run(keystonetest.DemoPassword+"\n", "login", "--os-cloud", "nouser")
	assert.Equal(t, exitNoInput, r.code, r.stderr)
	assert.NotContains(t, r.stderr, "Password")
	assert.Zero(t, echoOff)
}

// TestGuardNoSubcommandAfterAnArgument: a subcommand's name after an
// argument is an argument (token takes none), not the subcommand.
func TestGuardNoSubcommandAfterAnArgument(t *testing.T) {
	f := newFixture(t)
	oneLineError(t, f.run("", "token", "extra", "inspect"), exitUsage, "wrong number of arguments")
	assert.Zero(t, f.srv.Requests(tokenPOST))
}

// TestGuardEnvExportsTheInterface: ksauth env exports OS_INTERFACE.
func TestGuardEnvExportsTheInterface(t *testing.T) {
	f := newFixture(t)
	assert.Contains(t, f.mustRun("", "env").stdout, "\nexport OS_INTERFACE='public'\n")
	assert.Contains(t, f.mustRun("", "env", "--shell", "fish").stdout, "\nset -gx OS_INTERFACE 'public'\n")
}
