package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksauth/ksauth/keystonetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const cleuraLogin = "POST /auth/v2/tokens"

// cleuraFixture adds two Cleura clouds (auth_type cleura) on the fake
// server: "cleura", whose account has an SMS second factor and whose entry
// has no password, and "cleura-api", an API user with its password.
func cleuraFixture(t *testing.T) *fixture {
	f := newFixture(t)
	path := filepath.Join(f.dir, "cleura.yaml")
	require.NoError(t, os.WriteFile(path, fmt.Appendf(nil, `clouds:
  cleura:
    auth_type: cleura
    auth:
      auth_url: %[1]s
      username: %[2]s
  cleura-api:
    auth_type: cleura
    auth:
      auth_url: %[1]s
      username: %[3]s
      password: %[4]s
`, f.srv.URL, keystonetest.CleuraLogin, keystonetest.CleuraAPILogin, keystonetest.CleuraAPIPassword), 0o600))
	f.env = append(f.env, "OS_CLIENT_CONFIG_FILE="+path, "OS_CLOUD=cleura")
	return f
}

// typing is a terminal's stdin: each Read returns the next line, computed
// when it is read (an SMS code exists only once the login asked for it).
type typing []func() string

func (t *typing) Read(p []byte) (int, error) {
	if len(*t) == 0 {
		return 0, io.EOF
	}
	line := (*t)[0]() + "\n"
	*t = (*t)[1:]
	return copy(p, line), nil
}

func lines(l ...func() string) *typing { t := typing(l); return &t }

func text(s string) func() string { return func() string { return s } }

func smsCode(f *fixture) func() string {
	return func() string {
		code, sent := f.srv.SMSCode(keystonetest.CleuraLogin)
		require.True(f.t, sent, "the SMS was requested before the code was asked for")
		return code
	}
}

// TestCleuraLoginSMS: ksauth login on a terminal asks for the SMS code
// Cleura sent; the token is cached, shown without its id, validated,
// revoked; without a terminal the login stops before any SMS is sent.
func TestCleuraLoginSMS(t *testing.T) {
	f := cleuraFixture(t)
	r := f.run(keystonetest.CleuraPassword+"\n", "login", "--password-stdin")
	oneLineError(t, r, exitNoInput, "needs an SMS code and there is no terminal")
	_, sent := f.srv.SMSCode(keystonetest.CleuraLogin)
	assert.False(t, sent, "no SMS sent when no one can type the code")

	f.terminal = true
	r = f.runFrom(lines(text(keystonetest.CleuraPassword), smsCode(f)), "login", "--password-stdin")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "Cleura sent an SMS code for carla. Code: ")
	assert.Contains(t, r.stderr, "logged in as carla on Cleura's REST API until ")
	assert.Contains(t, r.stderr, "(an estimate: Cleura does not say)")
	code, _ := f.srv.SMSCode(keystonetest.CleuraLogin)
	assert.NotContains(t, r.stderr, code)
	assert.Equal(t, 2, f.srv.Requests(cleuraLogin), "the refused one, then this one")

	// Cached: no terminal needed, no login.
	f.terminal = false
	tok := strings.TrimSpace(f.mustRun(keystonetest.CleuraPassword+"\n", "token", "--password-stdin").stdout)
	assert.True(t, f.srv.CleuraTokenValid(keystonetest.CleuraLogin, tok))
	var j struct {
		Version int
		User    struct{ Name string }
		Project *struct{}
		Methods []string
		AuthURL string `json:"auth_url"`
	}
	out := f.mustRun(keystonetest.CleuraPassword+"\n", "token", "-o", "json", "--password-stdin").stdout
	require.NoError(t, json.Unmarshal([]byte(out), &j))
	assert.Equal(t, 1, j.Version)
	assert.Equal(t, keystonetest.CleuraLogin, j.User.Name)
	assert.Nil(t, j.Project)
	assert.Equal(t, []string{"password", "sms"}, j.Methods)
	assert.Equal(t, f.srv.URL, j.AuthURL)
	assert.Equal(t, 2, f.srv.Requests(cleuraLogin))

	inspect := f.mustRun(keystonetest.CleuraPassword+"\n", "token", "inspect", "--online", "--password-stdin")
	assert.Contains(t, inspect.stdout, "online:     valid")
	assert.Contains(t, inspect.stdout, "user:       carla\nscope:      Cleura's REST API\n")
	assert.Contains(t, inspect.stdout, "methods:    password sms\n")
	assert.NotContains(t, inspect.stdout, tok)

	f.mustRun(keystonetest.CleuraPassword+"\n", "token", "revoke", "--password-stdin")
	assert.False(t, f.srv.CleuraTokenValid(keystonetest.CleuraLogin, tok))
	oneLineError(t, f.run(keystonetest.CleuraPassword+"\n", "token", "inspect", "--password-stdin"), exitNoInput, "no cached token")
	f.mustRun(keystonetest.CleuraPassword+"\n", "logout", "--password-stdin")
}

// TestCleuraAPIUser: an account without a second factor needs no terminal;
// inspect --online of a token Cleura no longer accepts exits 3, and logout
// of such a token still empties the cache.
func TestCleuraAPIUser(t *testing.T) {
	f := cleuraFixture(t)
	tok := strings.TrimSpace(f.mustRun("", "token", "--os-cloud", "cleura-api").stdout)
	assert.True(t, f.srv.CleuraTokenValid(keystonetest.CleuraAPILogin, tok))
	assert.Equal(t, tok, strings.TrimSpace(f.mustRun("", "token", "--os-cloud", "cleura-api").stdout), "cached")
	assert.Equal(t, 1, f.srv.Requests(cleuraLogin))

	f.srv.RevokeAll()
	oneLineError(t, f.run("", "token", "inspect", "--online", "--os-cloud", "cleura-api"), exitRejected, "Cleura does not accept the cached token")
	f.mustRun("", "logout", "--os-cloud", "cleura-api")
	oneLineError(t, f.run("", "token", "inspect", "--os-cloud", "cleura-api"), exitNoInput, "no cached token")

	tok = strings.TrimSpace(f.mustRun("", "token", "--os-cloud", "cleura-api").stdout)
	f.mustRun("", "logout", "--os-cloud", "cleura-api")
	assert.False(t, f.srv.CleuraTokenValid(keystonetest.CleuraAPILogin, tok), "logout revokes")
}

// TestCleuraKeystoneOnlyCommands: the commands that need Keystone's catalog
// or identity API say so, in one line, and send nothing.
func TestCleuraKeystoneOnlyCommands(t *testing.T) {
	f := cleuraFixture(t)
	f.env = append(f.env, execInfoFor(execV1, false))
	for _, args := range [][]string{
		{"endpoint", "compute"}, {"catalog"}, {"env"}, {"exec-credential"}, {"credential-process"},
		{"appcred", "list"}, {"ec2", "list"},
	} {
		r := f.run("", append(args, "--os-cloud", "cleura-api")...)
		oneLineError(t, r, exitError, "Cleura's REST API (auth_type cleura), which has no Keystone catalog")
		assert.Empty(t, r.stdout, "%v", args)
	}
	assert.Zero(t, f.srv.Requests(cleuraLogin))
}

// TestPasswordPrompt: with no password configured and a terminal, the
// password is asked for with the echo off (and back on after); without a
// terminal, or when the echo cannot be turned off, exit 2 naming
// --password-stdin.
func TestPasswordPrompt(t *testing.T) {
	f := newFixture(t)
	var echoOff, echoOn int
	old := noEcho
	noEcho = func(io.Reader) (func(), error) { echoOff++; return func() { echoOn++ }, nil }
	t.Cleanup(func() { noEcho = old })

	oneLineError(t, f.run(keystonetest.DemoPassword+"\n", "login", "--os-cloud", "nopw"), exitNoInput, "auth.password")
	assert.Zero(t, echoOff, "no prompt without a terminal")

	f.terminal = true
	r := f.run(keystonetest.DemoPassword+"\n", "login", "--os-cloud", "nopw")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, `Password (cloud "nopw"): `)
	assert.Contains(t, r.stderr, "logged in as demo")
	assert.Equal(t, 1, echoOff)
	assert.Equal(t, 1, echoOn, "the echo is turned back on")

	oneLineError(t, afterPrompt(t, f.run("\n", "login", "--os-cloud", "nopw")), exitNoInput, "no password given")
	assert.Equal(t, 2, echoOn)
	oneLineError(t, afterPrompt(t, f.run("wrong\n", "login", "--os-cloud", "nopw")), exitRejected, "")

	posts := f.srv.Requests(tokenPOST)
	f.mustRun(keystonetest.DemoPassword+"\n", "login", "--os-cloud", "demo")
	assert.Equal(t, 3, echoOff, "not asked when the configuration has the password")
	assert.Equal(t, posts+1, f.srv.Requests(tokenPOST))

	noEcho = func(io.Reader) (func(), error) { return nil, errors.New("stty: not a tty") }
	oneLineError(t, f.run(keystonetest.DemoPassword+"\n", "login", "--os-cloud", "nopw"), exitNoInput, "use --password-stdin")
}

// afterPrompt drops the password prompt's line from r's stderr.
func afterPrompt(t *testing.T, r result) result {
	t.Helper()
	prompt, rest, ok := strings.Cut(r.stderr, "\n")
	require.True(t, ok)
	assert.Equal(t, `Password (cloud "nopw"): `, prompt)
	r.stderr = rest
	return r
}

// TestExecCredentialAlwaysCached: --no-cache is refused (kubectl would run
// it for every request).
func TestExecCredentialAlwaysCached(t *testing.T) {
	f := newFixture(t)
	f.env = append(f.env, execInfoFor(execV1, false))
	oneLineError(t, f.run("", "exec-credential", "--no-cache"), exitUsage, "always uses the token cache")
	assert.Zero(t, f.srv.Requests(tokenPOST))
}
