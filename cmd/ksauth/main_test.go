package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ksauth/ksauth"
	"github.com/ksauth/ksauth/keystonetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	tokenPOST = "POST /v3/auth/tokens"
	tokenGET  = "GET /v3/auth/tokens"
	// tokenPrefix starts every keystonetest token: the leak scan looks for it.
	tokenPrefix = "gAAAAAB"
)

// fixture is a fake Keystone, a clouds.yaml pointing at it and a private
// cache directory.
type fixture struct {
	t   testing.TB
	srv *keystonetest.Server
	dir string
	env []string
	// terminal makes isTerminal answer true.
	terminal bool
}

const cloudsYAML = `clouds:
  demo:
    auth:
      auth_url: %[1]s
      username: demo
      password: %[2]s
      project_name: demo
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
  nopw:
    auth:
      auth_url: %[1]s
      username: demo
      project_name: demo
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
  down:
    auth:
      auth_url: http://127.0.0.1:1/v3
      username: demo
      password: %[2]s
      project_name: demo
      user_domain_name: Default
      project_domain_name: Default
`

func newFixture(t testing.TB) *fixture {
	t.Helper()
	srv := keystonetest.NewServer()
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	path := filepath.Join(dir, "clouds.yaml")
	require.NoError(t, os.WriteFile(path, fmt.Appendf(nil, cloudsYAML, srv.AuthURL(), keystonetest.DemoPassword), 0o600))
	f := &fixture{t: t, srv: srv, dir: dir, env: []string{
		"OS_CLIENT_CONFIG_FILE=" + path,
		"XDG_CACHE_HOME=" + filepath.Join(dir, "cache"),
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "config"),
		"HOME=" + dir,
		"OS_CLOUD=demo",
	}}
	old := isTerminal
	isTerminal = func(any) bool { return f.terminal }
	t.Cleanup(func() { isTerminal = old })
	return f
}

// result is one run of the command.
type result struct {
	code           int
	stdout, stderr string
}

// run runs ksauth with args and stdin and scans its output for secrets: the
// password always, tokens unless the token is the requested output.
func (f *fixture) run(stdin string, args ...string) result {
	f.t.Helper()
	return f.runFrom(strings.NewReader(stdin), args...)
}

// runFrom is run with stdin read from in.
func (f *fixture) runFrom(in io.Reader, args ...string) result {
	f.t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, f.env, in, &out, &errOut)
	r := result{code, out.String(), errOut.String()}
	for _, secret := range []string{keystonetest.DemoPassword, keystonetest.DemoAppCredSecret,
		keystonetest.CleuraPassword, keystonetest.CleuraAPIPassword} {
		assert.NotContains(f.t, r.stdout+r.stderr, secret, "a secret leaked: ksauth %v", args)
	}
	assert.NotContains(f.t, r.stderr, tokenPrefix, "a token on stderr: ksauth %v", args)
	if !printsToken(args) {
		assert.NotContains(f.t, r.stdout, tokenPrefix, "a token on stdout: ksauth %v", args)
	}
	return r
}

// printsToken: the commands whose requested output is the token itself.
func printsToken(args []string) bool {
	for _, a := range args {
		switch a {
		case "inspect", "revoke", "help":
			return false
		case "token", "env", "exec-credential":
			return true
		}
	}
	return false
}

func (f *fixture) mustRun(stdin string, args ...string) result {
	f.t.Helper()
	r := f.run(stdin, args...)
	require.Equal(f.t, 0, r.code, "ksauth %v: stderr %q", args, r.stderr)
	return r
}

// oneLineError checks an error exit: the code and one line on stderr.
func oneLineError(t *testing.T, r result, code int, contains string) {
	t.Helper()
	assert.Equal(t, code, r.code, "stderr: %q", r.stderr)
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	assert.Contains(t, lines[0], contains)
	assert.True(t, strings.HasPrefix(lines[0], "ksauth"), "names the program: %q", lines[0])
	assert.NotContains(t, r.stderr, "goroutine", "no stack trace")
}

func TestNoArgumentsHelpOnStderr(t *testing.T) {
	f := newFixture(t)
	r := f.run("")
	assert.Equal(t, exitUsage, r.code)
	assert.Empty(t, r.stdout)
	assert.Contains(t, r.stderr, "Usage: ksauth")
	assert.Contains(t, r.stderr, "Exit codes")
}

func TestHelpOnStdout(t *testing.T) {
	f := newFixture(t)
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}} {
		r := f.run("", args...)
		assert.Equal(t, 0, r.code, "%v", args)
		assert.Contains(t, r.stdout, "Usage: ksauth", "%v", args)
		assert.Contains(t, r.stdout, "64  usage error")
		assert.Empty(t, r.stderr)
	}
	r := f.mustRun("", "help", "token")
	assert.Contains(t, r.stdout, "--min-valid")
	r = f.mustRun("", "help", "token", "inspect")
	assert.Contains(t, r.stdout, "--online")
	r = f.mustRun("", "token", "-h")
	assert.Contains(t, r.stdout, "--refresh")
	oneLineError(t, f.run("", "help", "nonesuch"), exitUsage, "no command")
}

// TestHelpListsOnlyBuiltCommands: every command help lists runs (no stub).
func TestHelpListsOnlyBuiltCommands(t *testing.T) {
	for _, c := range commands() {
		assert.NotNil(t, c.run != nil || len(c.subs) > 0, c.name)
		assert.Contains(t, helpText(), c.usage)
	}
}

func TestUsageErrors(t *testing.T) {
	f := newFixture(t)
	for _, args := range [][]string{
		{"nonesuch"},
		{"token", "--nonesuch"},
		{"--nonesuch", "token"},
		{"token", "--min-valid", "soon"},
		{"token", "-o", "table"},
		{"token", "extra"},
		{"token", "inspect", "--refresh"},
		{"login", "-o", "json"},
		{"token", "--min-valid=-1m"},
	} {
		r := f.run("", args...)
		assert.Equal(t, exitUsage, r.code, "%v: %q", args, r.stderr)
		assert.True(t, strings.HasPrefix(r.stderr, "ksauth"), "%v: %q", args, r.stderr)
		assert.Empty(t, r.stdout, "%v", args)
		assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
	}
	assert.Zero(t, f.srv.Requests(tokenPOST), "nothing sent")
}

// TestSecretFlagsRefused: a secret on the command line is refused, with
// a message that does not repeat it.
func TestSecretFlagsRefused(t *testing.T) {
	f := newFixture(t)
	for _, args := range [][]string{
		{"token", "--os-password", keystonetest.DemoPassword},
		{"--os-password=" + keystonetest.DemoPassword, "token"},
		{"token", "--os-token", "gAAAAABsecret"},
		{"token", "-os-application-credential-secret=" + keystonetest.DemoAppCredSecret},
		{"login", "--os-passcode", "123456"},
		{"login", "--password", keystonetest.DemoPassword},
	} {
		r := f.run("", args...)
		assert.Equal(t, exitUsage, r.code, "%v", args)
		assert.Contains(t, r.stderr, "is refused", "%v", args)
		assert.NotContains(t, r.stderr, "123456")
	}
	// After "--" nothing is a flag (and token takes no arguments anyway).
	assert.Equal(t, exitUsage, f.run("", "token", "--", "--os-password").code)
	assert.Zero(t, f.srv.Requests(tokenPOST))
}

func TestTokenFreshThenCached(t *testing.T) {
	f := newFixture(t)
	first := f.mustRun("", "token")
	id := strings.TrimSpace(first.stdout)
	assert.True(t, strings.HasPrefix(id, tokenPrefix))
	assert.Equal(t, id+"\n", first.stdout, "only the id")
	assert.Empty(t, first.stderr)
	assert.Equal(t, 1, f.srv.Requests(tokenPOST))

	second := f.mustRun("", "token", "-o", "value")
	assert.Equal(t, first.stdout, second.stdout, "from the cache")
	assert.Equal(t, 1, f.srv.Requests(tokenPOST), "no new login")
	assert.Equal(t, 1, len(f.srv.RequestCounts()), "no request at all but the first login: %v", f.srv.RequestCounts())

	// Flags before the command and global flags after it.
	third := f.mustRun("", "--os-cloud", "demo", "token", "--os-region-name", "RegionOne")
	assert.Equal(t, first.stdout, third.stdout)
	assert.Equal(t, 1, f.srv.Requests(tokenPOST))
}

func TestTokenNoCache(t *testing.T) {
	f := newFixture(t)
	a := f.mustRun("", "token", "--no-cache")
	b := f.mustRun("", "--no-cache", "token")
	assert.NotEqual(t, a.stdout, b.stdout)
	assert.Equal(t, 2, f.srv.Requests(tokenPOST))
	_, err := os.Stat(filepath.Join(f.dir, "cache", "ksauth"))
	assert.ErrorIs(t, err, os.ErrNotExist, "the cache is not even created")
	c := f.mustRun("", "token")
	assert.NotEqual(t, a.stdout, c.stdout, "--no-cache wrote nothing")
}

func TestTokenRefresh(t *testing.T) {
	f := newFixture(t)
	a := f.mustRun("", "token")
	b := f.mustRun("", "token", "--refresh")
	assert.NotEqual(t, a.stdout, b.stdout)
	assert.Equal(t, 2, f.srv.Requests(tokenPOST))
	c := f.mustRun("", "token")
	assert.Equal(t, b.stdout, c.stdout, "the refreshed token was stored")
	assert.Equal(t, 2, f.srv.Requests(tokenPOST))
	// --refresh on an empty cache logs in once.
	g := newFixture(t)
	g.mustRun("", "token", "--refresh")
	assert.Equal(t, 1, g.srv.Requests(tokenPOST))
}

func TestTokenMinValid(t *testing.T) {
	f := newFixture(t)
	f.srv.SetTokenLifetime(20 * time.Minute)
	a := f.mustRun("", "token")
	b := f.mustRun("", "token", "--min-valid", "10m")
	assert.Equal(t, a.stdout, b.stdout, "20 minutes left is enough")
	assert.Equal(t, 1, f.srv.Requests(tokenPOST))

	// A cached token with less than --min-valid left is replaced.
	f.srv.SetTokenLifetime(time.Hour)
	c := f.mustRun("", "token", "--min-valid", "25m")
	assert.NotEqual(t, a.stdout, c.stdout)
	assert.Equal(t, 2, f.srv.Requests(tokenPOST))
	d := f.mustRun("", "token", "--min-valid", "25m")
	assert.Equal(t, c.stdout, d.stdout, "and the new one stored")
	assert.Equal(t, 2, f.srv.Requests(tokenPOST))

	// Keystone's tokens cannot last that long: exit 1 naming the lifetime.
	r := f.run("", "token", "--min-valid", "2h")
	oneLineError(t, r, exitError, "Keystone's tokens last 1h0m0s, less than --min-valid 2h0m0s")
	assert.Empty(t, r.stdout)
}

func TestTokenJSON(t *testing.T) {
	f := newFixture(t)
	r := f.mustRun("", "token", "-o", "json")
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got))
	for _, k := range []string{"version", "id", "expires_at", "issued_at", "user", "project", "domain", "system", "roles", "methods", "audit_ids", "auth_url", "region"} {
		assert.Contains(t, got, k)
	}
	assert.EqualValues(t, 1, got["version"])
	assert.Nil(t, got["domain"])
	assert.Equal(t, false, got["system"])
	assert.Equal(t, "RegionOne", got["region"])
	assert.Equal(t, f.srv.AuthURL(), got["auth_url"])
	var tok jsonToken
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &tok))
	assert.True(t, strings.HasPrefix(tok.ID, tokenPrefix))
	assert.Equal(t, keystonetest.DemoUserID, tok.User.ID)
	assert.Equal(t, "demo", tok.User.Name)
	assert.Equal(t, jsonDomain{"default", "Default"}, tok.User.Domain)
	require.NotNil(t, tok.Project)
	assert.Equal(t, keystonetest.DemoProjectID, tok.Project.ID)
	assert.Equal(t, "Default", tok.Project.Domain.Name)
	assert.Equal(t, []string{"password"}, tok.Methods)
	assert.NotEmpty(t, tok.AuditIDs)
	assert.NotEmpty(t, tok.Roles)
	exp, err := time.Parse(time.RFC3339, tok.ExpiresAt)
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now().Add(time.Hour), exp, 2*time.Minute)
	_, err = time.Parse(time.RFC3339, tok.IssuedAt)
	require.NoError(t, err)
}

func TestPasswordStdin(t *testing.T) {
	f := newFixture(t)
	r := f.mustRun(keystonetest.DemoPassword+"\n", "token", "--os-cloud", "nopw", "--password-stdin")
	assert.True(t, strings.HasPrefix(r.stdout, tokenPrefix))
	// Without it: no usable credentials.
	r = f.run("", "token", "--os-cloud", "nopw")
	assert.NotEqual(t, 0, r.code)
	// An empty stdin is input that is not available.
	oneLineError(t, f.run("", "token", "--os-cloud", "nopw", "--password-stdin"), exitNoInput, "--password-stdin")
	// No line ending at the end of stdin: the line still counts.
	f.mustRun(keystonetest.DemoPassword, "token", "--os-cloud", "nopw", "--password-stdin", "--refresh")
}

// TestStdinLineBounded: a stdin of zeros (no newline, no end) is refused
// after maxLine bytes, not read forever.
func TestStdinLineBounded(t *testing.T) {
	f := newFixture(t)
	r := f.runFrom(zeros{}, "token", "--os-cloud", "nopw", "--password-stdin")
	oneLineError(t, r, exitNoInput, "the first line of stdin is longer than 64 KiB")
	r = f.runFrom(zeros{}, "appcred", "create", "x", "--secret-stdin")
	oneLineError(t, r, exitNoInput, "--secret-stdin: the first line of stdin is longer than 64 KiB")
	// Carriage returns are no line ending until a newline follows them.
	r = f.runFrom(&endless{b: '\r', limit: 1 << 20}, "token", "--os-cloud", "nopw", "--password-stdin")
	oneLineError(t, r, exitNoInput, "the first line of stdin is longer than 64 KiB")
	assert.Zero(t, f.srv.Requests(tokenPOST))
}

// endless is a stream of b that fails once limit bytes have been read: a
// read that ought to have stopped before then.
type endless struct {
	b     byte
	limit int
	read  int
}

func (e *endless) Read(p []byte) (int, error) {
	if e.read >= e.limit {
		return 0, errors.New("read past the bound")
	}
	for i := range p {
		p[i] = e.b
	}
	e.read += len(p)
	return len(p), nil
}

// zeros is /dev/zero.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestWrongPasswordExit3(t *testing.T) {
	f := newFixture(t)
	r := f.run("wrong-password\n", "token", "--os-cloud", "nopw", "--password-stdin")
	oneLineError(t, r, exitRejected, "401")
	assert.NotContains(t, r.stderr, "wrong-password")
}

// TestWrongPasswordNeverGetsCachedToken: the cache is sealed with the
// credential's secret.
func TestWrongPasswordNeverGetsCachedToken(t *testing.T) {
	f := newFixture(t)
	f.mustRun(keystonetest.DemoPassword+"\n", "token", "--os-cloud", "nopw", "--password-stdin")
	r := f.run("wrong-password\n", "token", "--os-cloud", "nopw", "--password-stdin")
	assert.Equal(t, exitRejected, r.code)
	assert.Empty(t, r.stdout)
}

func TestUnknownCloudExit4(t *testing.T) {
	f := newFixture(t)
	r := f.run("", "token", "--os-cloud", "nonesuch")
	oneLineError(t, r, exitNotFound, `no cloud "nonesuch"`)
	assert.Contains(t, r.stderr, "demo", "lists the known ones")
}

func TestKeystoneDownExit1(t *testing.T) {
	f := newFixture(t)
	r := f.run("", "token", "--os-cloud", "down")
	oneLineError(t, r, exitError, "127.0.0.1:1")
	assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
}

func TestCorruptedCacheIgnored(t *testing.T) {
	f := newFixture(t)
	a := f.mustRun("", "token")
	dir := filepath.Join(f.dir, "cache", "ksauth")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	n := 0
	for _, e := range entries {
		if !strings.Contains(e.Name(), ".") {
			require.NoError(t, os.WriteFile(filepath.Join(dir, e.Name()), []byte("KSFS garbage"), 0o600))
			n++
		}
	}
	require.Equal(t, 1, n, "one data file")
	b := f.mustRun("", "token")
	assert.NotEqual(t, a.stdout, b.stdout, "a new token")
	assert.Equal(t, 2, f.srv.Requests(tokenPOST))
	c := f.mustRun("", "token")
	assert.Equal(t, b.stdout, c.stdout, "stored again")
}

func TestUnsafeCacheDirWarnsAndWorksUncached(t *testing.T) {
	f := newFixture(t)
	dir := filepath.Join(f.dir, "cache", "ksauth")
	require.NoError(t, os.MkdirAll(dir, 0o700))
	require.NoError(t, os.Chmod(dir, 0o777))
	r := f.mustRun("", "token")
	assert.Contains(t, r.stderr, "warning")
	assert.Contains(t, r.stderr, "working without the token cache")
	assert.True(t, strings.HasPrefix(r.stdout, tokenPrefix))
	f.mustRun("", "token")
	assert.Equal(t, 2, f.srv.Requests(tokenPOST), "uncached")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing written there")
}

func TestVerboseLogsRedacted(t *testing.T) {
	f := newFixture(t)
	r := f.mustRun("", "token", "-v")
	assert.Contains(t, r.stderr, "level=DEBUG")
	assert.Contains(t, r.stderr, "ksauth: token refreshed")
	// run's scan checked stderr holds neither the password nor the token.
}

func TestTokenInspect(t *testing.T) {
	f := newFixture(t)
	oneLineError(t, f.run("", "token", "inspect"), exitNoInput, "no cached token")
	f.mustRun("", "token")
	r := f.mustRun("", "token", "inspect")
	assert.Contains(t, r.stdout, "user:       demo ("+keystonetest.DemoUserID+")")
	assert.Contains(t, r.stdout, "project:    demo")
	assert.Contains(t, r.stdout, "expires_at:")
	r = f.mustRun("", "token", "inspect", "-o", "json")
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got))
	assert.NotContains(t, got, "id")
	assert.EqualValues(t, 1, got["version"])
	assert.Equal(t, 1, f.srv.Requests(tokenPOST))
	assert.Zero(t, f.srv.Requests(tokenGET), "offline")

	r = f.mustRun("", "token", "inspect", "--online")
	assert.Contains(t, r.stdout, "online:     valid")
	assert.Equal(t, 1, f.srv.Requests(tokenGET))

	f.srv.RevokeAll()
	oneLineError(t, f.run("", "token", "inspect", "--online"), exitRejected, "does not accept the cached token")
	assert.Equal(t, 1, f.srv.Requests(tokenPOST))
}

func TestTokenRevoke(t *testing.T) {
	f := newFixture(t)
	oneLineError(t, f.run("", "token", "revoke"), exitNoInput, "no cached token")
	id := strings.TrimSpace(f.mustRun("", "token").stdout)
	r := f.mustRun("", "token", "revoke")
	assert.Empty(t, r.stdout)
	assert.Equal(t, 1, f.srv.Requests("DELETE /v3/auth/tokens"))
	// Revoked at Keystone: validating it fails.
	k := &ksauth.Keystone{AuthURL: f.srv.AuthURL(), HTTPClient: f.srv.Client(),
		Credentials: ksauth.Password{UserID: keystonetest.DemoUserID, Password: keystonetest.DemoPassword}}
	admin, err := k.Authenticate(context.Background())
	require.NoError(t, err)
	_, err = k.ValidateToken(context.Background(), admin, id, nil)
	assert.ErrorIs(t, err, ksauth.ErrNotFound)
	// And gone from the cache.
	oneLineError(t, f.run("", "token", "inspect"), exitNoInput, "no cached token")
	next := strings.TrimSpace(f.mustRun("", "token").stdout)
	assert.NotEqual(t, id, next)
}

func TestLoginLogout(t *testing.T) {
	f := newFixture(t)
	r := f.mustRun("", "login")
	assert.Empty(t, r.stdout)
	assert.Contains(t, r.stderr, "logged in as demo on project demo")
	assert.Equal(t, 1, f.srv.Requests(tokenPOST))
	f.mustRun("", "token")
	assert.Equal(t, 1, f.srv.Requests(tokenPOST), "login stored its token")
	f.mustRun("", "login")
	assert.Equal(t, 2, f.srv.Requests(tokenPOST), "login always logs in")

	f.mustRun("", "logout")
	assert.Equal(t, 1, f.srv.Requests("DELETE /v3/auth/tokens"))
	oneLineError(t, f.run("", "token", "inspect"), exitNoInput, "no cached token")
	f.mustRun("", "logout") // nothing to do
	assert.Equal(t, 1, f.srv.Requests("DELETE /v3/auth/tokens"))
}

// mfaFixture adds a user whose rules need a password and a TOTP passcode.
func mfaFixture(t *testing.T) (*fixture, string) {
	f := newFixture(t)
	const secret = "JBSWY3DPEHPK3PXP"
	f.srv.AddUser(keystonetest.User{Name: "mfa", Password: "mfa-password", DefaultProjectID: keystonetest.DemoProjectID,
		ProjectRoles: map[string][]string{keystonetest.DemoProjectID: {"member"}},
		TOTPSecret:   secret, MFARules: [][]string{{"password", "totp"}}})
	path := filepath.Join(f.dir, "mfa.yaml")
	require.NoError(t, os.WriteFile(path, fmt.Appendf(nil, `clouds:
  mfa:
    auth:
      auth_url: %s
      username: mfa
      project_name: demo
      user_domain_name: Default
      project_domain_name: Default
`, f.srv.AuthURL()), 0o600))
	f.env = append(f.env, "OS_CLIENT_CONFIG_FILE="+path, "OS_CLOUD=mfa")
	return f, secret
}

func TestLoginTOTPPrompt(t *testing.T) {
	f, secret := mfaFixture(t)
	// No terminal: exit 2, nothing asked.
	r := f.run("mfa-password\n", "login", "--password-stdin")
	oneLineError(t, r, exitNoInput, "")
	assert.NotContains(t, r.stderr, "TOTP passcode:")

	f.terminal = true
	code, err := ksauth.TOTPPasscode(secret, time.Now())
	require.NoError(t, err)
	r = f.run("mfa-password\n"+code+"\n", "login", "--password-stdin")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "TOTP passcode: ")
	assert.NotContains(t, r.stderr, code)
	assert.Contains(t, r.stderr, "logged in as mfa")

	// The token is cached: no prompt, no login.
	posts := f.srv.Requests(tokenPOST)
	f.terminal = false
	f.mustRun("mfa-password\n", "token", "--password-stdin")
	assert.Equal(t, posts, f.srv.Requests(tokenPOST))
}

func TestExitCodeMapping(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
	}{
		{usagef("x"), exitUsage},
		{&inputError{"x"}, exitNoInput},
		{&ksauth.MFARequiredError{}, exitNoInput},
		{&ksauth.MFARequiredError{Err: &ksauth.HTTPError{StatusCode: 401}}, exitRejected},
		{&ksauth.TwoFactorRequiredError{}, exitNoInput},
		{&ksauth.HTTPError{StatusCode: 401}, exitRejected},
		{&ksauth.HTTPError{StatusCode: 403}, exitRejected},
		{&ksauth.HTTPError{StatusCode: 404}, exitNotFound},
		{&ksauth.HTTPError{StatusCode: 429}, exitRateLimited},
		{&ksauth.HTTPError{StatusCode: 500}, exitError},
		{&ksauth.EndpointNotFoundError{}, exitNotFound},
		{&ksauth.ConfigError{Reason: `no cloud "x" (known: a)`}, exitNotFound},
		{&ksauth.ConfigError{Field: "auth_url", Reason: "missing (auth.auth_url)"}, exitNoInput},
		{&ksauth.ConfigError{Source: "f", Reason: "not valid YAML"}, exitError},
		{&ksauth.ValidationError{Field: "Password", Reason: "empty"}, exitNoInput},
		{io.ErrUnexpectedEOF, exitError},
	} {
		assert.Equal(t, tc.code, exitCode(tc.err), "%T %v", tc.err, tc.err)
	}
}

// TestRateLimitedExit5: Keystone asks for a wait longer than the library
// waits (MaxRetryAfter), so the 429 comes back at once.
func TestRateLimitedExit5(t *testing.T) {
	f := newFixture(t)
	f.srv.RateLimitNext(10, 2*time.Minute)
	r := f.run("", "token")
	oneLineError(t, r, exitRateLimited, "429")
	assert.Empty(t, r.stdout)
}
