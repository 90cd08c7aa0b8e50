//go:build integration

package main

// Integration tests of the command against a real Keystone: the one that
// KSAUTH_KEYSTONE_FIXTURES names (never stopped here), else one this
// TestMain starts with scripts/keystone/up.sh on a free loopback port and
// stops with down.sh (see scripts/keystone/README.md).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ksauth/ksauth"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ksFixtures is the part of fixtures.json these tests use.
type ksFixtures struct {
	AuthURL  string `json:"auth_url"`
	StateDir string `json:"state_dir"`
	Users    struct {
		Alice struct {
			ID       string `json:"id"`
			Password string `json:"password"`
		} `json:"alice"`
		Carol struct {
			Password   string `json:"password"`
			TOTPSecret string `json:"totp_secret"`
		} `json:"carol"`
	} `json:"users"`
	Projects struct {
		Demo struct {
			ID string `json:"id"`
		} `json:"demo"`
		Ops struct {
			ID string `json:"id"`
		} `json:"ops"`
	} `json:"projects"`
	ApplicationCredentials struct {
		Alice struct {
			Secret string `json:"secret"`
		} `json:"alice"`
	} `json:"application_credentials"`
	TokenExpirationSeconds int `json:"token_expiration_seconds"`
}

var ks *ksFixtures

func TestMain(m *testing.M) {
	os.Exit(integrationMain(m))
}

func integrationMain(m *testing.M) int {
	path := os.Getenv("KSAUTH_KEYSTONE_FIXTURES")
	if path == "" {
		dir, err := os.MkdirTemp("", "ksauth-cmd-keystone-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		port, err := freePort()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		env := []string{"KEYSTONE_DIR=" + dir, fmt.Sprintf("KEYSTONE_PORT=%d", port), fmt.Sprintf("KEYSTONE_PARENT_PID=%d", os.Getpid())}
		defer script("down.sh", env)
		if err := script("up.sh", env); err != nil {
			fmt.Fprintln(os.Stderr, "starting Keystone:", err)
			return 1
		}
		path = filepath.Join(dir, "fixtures.json")
	}
	data, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(data, &ks)
	}
	if err != nil || ks.AuthURL == "" || ks.Users.Alice.Password == "" {
		fmt.Fprintln(os.Stderr, "keystone fixtures", path, "unusable:", err)
		return 1
	}
	return m.Run()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func script(name string, env []string) error {
	cmd := exec.Command("bash", filepath.Join("..", "..", "scripts", "keystone", name))
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.WaitDelay = 10 * time.Second
	return cmd.Run()
}

// ksEnv is a run environment for cloud alice with a private cache.
type ksEnv struct {
	t   *testing.T
	env []string
	dir string
}

func newKS(t *testing.T) *ksEnv {
	dir := t.TempDir()
	return &ksEnv{t: t, dir: dir, env: []string{
		"OS_CLIENT_CONFIG_FILE=" + filepath.Join(ks.StateDir, "clouds.yaml"),
		"OS_CLOUD=alice", "HOME=" + dir, "XDG_CACHE_HOME=" + filepath.Join(dir, "cache"),
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "config"), "PATH=" + os.Getenv("PATH"),
	}}
}

// run runs the command in-process, scanning its output for the fixtures'
// secrets (and tokens, unless one is the requested output).
func (k *ksEnv) run(stdin string, args ...string) result {
	k.t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, k.env, strings.NewReader(stdin), &out, &errOut)
	r := result{code, out.String(), errOut.String()}
	for _, s := range []string{ks.Users.Alice.Password, ks.Users.Carol.Password, ks.ApplicationCredentials.Alice.Secret} {
		assert.NotContains(k.t, r.stdout+r.stderr, s, "a secret leaked: ksauth %v", args)
	}
	assert.NotContains(k.t, r.stderr, "gAAAAA", "a token on stderr: ksauth %v", args)
	if !printsToken(args) {
		assert.NotContains(k.t, r.stdout, "gAAAAA", "a token on stdout: ksauth %v", args)
	}
	return r
}

func (k *ksEnv) mustRun(stdin string, args ...string) result {
	k.t.Helper()
	r := k.run(stdin, args...)
	require.Equal(k.t, 0, r.code, "ksauth %v: %s", args, r.stderr)
	return r
}

// validate asks Keystone about id with a token of alice's own.
func validate(t *testing.T, id string) error {
	k := &ksauth.Keystone{AuthURL: ks.AuthURL, Credentials: ksauth.Password{UserID: ks.Users.Alice.ID, Password: ks.Users.Alice.Password}}
	tok, err := k.Authenticate(context.Background())
	require.NoError(t, err)
	_, err = k.ValidateToken(context.Background(), tok, id, nil)
	return err
}

func TestIntegrationToken(t *testing.T) {
	k := newKS(t)
	a := k.mustRun("", "token")
	require.True(t, strings.HasPrefix(a.stdout, "gAAAAA"))
	b := k.mustRun("", "token", "-o", "value")
	assert.Equal(t, a.stdout, b.stdout, "cached")
	c := k.mustRun("", "token", "--refresh")
	assert.NotEqual(t, a.stdout, c.stdout)
	assert.Equal(t, c.stdout, k.mustRun("", "token").stdout, "the refreshed one was stored")
	assert.NotEqual(t, c.stdout, k.mustRun("", "token", "--no-cache").stdout)
	var j jsonToken
	require.NoError(t, json.Unmarshal([]byte(k.mustRun("", "token", "-o", "json").stdout), &j))
	assert.Equal(t, ks.Users.Alice.ID, j.User.ID)
	assert.Equal(t, ks.Projects.Demo.ID, j.Project.ID)
	assert.Equal(t, strings.TrimSpace(c.stdout), j.ID)
	require.NoError(t, validate(t, j.ID))

	// Keystone's tokens cannot last that long (the attempt stores the new
	// token it got).
	r := k.run("", "token", "--min-valid", fmt.Sprintf("%ds", ks.TokenExpirationSeconds+60))
	oneLineError(t, r, exitError, fmt.Sprintf("Keystone's tokens last %s", time.Duration(ks.TokenExpirationSeconds)*time.Second))
}

func TestIntegrationInspectRevoke(t *testing.T) {
	k := newKS(t)
	oneLineError(t, k.run("", "token", "inspect"), exitNoInput, "no cached token")
	id := strings.TrimSpace(k.mustRun("", "token").stdout)
	r := k.mustRun("", "token", "inspect", "--online")
	assert.Contains(t, r.stdout, "online:     valid")
	k.mustRun("", "token", "revoke")
	assert.ErrorIs(t, validate(t, id), ksauth.ErrNotFound, "revoked")
	oneLineError(t, k.run("", "token", "revoke"), exitNoInput, "no cached token")
}

func TestIntegrationBadInput(t *testing.T) {
	k := newKS(t)
	oneLineError(t, k.run("", "token", "--os-cloud", "nonesuch"), exitNotFound, `no cloud "nonesuch"`)
	empty := filepath.Join(k.dir, "empty.yaml")
	require.NoError(t, os.WriteFile(empty, []byte("clouds: {}\n"), 0o600))
	k.env = append(k.env, "OS_CLIENT_CONFIG_FILE="+empty, "OS_CLOUD=", "OS_AUTH_URL="+ks.AuthURL,
		"OS_USERNAME=alice", "OS_USER_DOMAIN_NAME=Default", "OS_PROJECT_NAME=demo", "OS_PROJECT_DOMAIN_NAME=Default")
	oneLineError(t, k.run("wrong-password\n", "token", "--password-stdin"), exitRejected, "401")
	k.mustRun(ks.Users.Alice.Password+"\n", "token", "--password-stdin")
}

func TestIntegrationEndpointCatalog(t *testing.T) {
	k := newKS(t)
	r := k.mustRun("", "endpoint", "identity")
	assert.Contains(t, r.stdout, "127.0.0.1")
	oneLineError(t, k.run("", "endpoint", "nonesuch"), exitNotFound, "nonesuch")
	var cat []map[string]any
	require.NoError(t, json.Unmarshal([]byte(k.mustRun("", "catalog", "-o", "json").stdout), &cat))
	assert.NotEmpty(t, cat)
	assert.Contains(t, k.mustRun("", "catalog").stdout, "identity")
}

func TestIntegrationExecCredential(t *testing.T) {
	for _, v := range []string{execV1, execV1beta1} {
		k := newKS(t)
		k.env = append(k.env, execInfoFor(v, false))
		var got execCredential
		require.NoError(t, json.Unmarshal([]byte(k.mustRun("", "exec-credential").stdout), &got))
		assert.Equal(t, v, got.APIVersion)
		assert.Equal(t, "ExecCredential", got.Kind)
		exp, err := time.Parse(time.RFC3339, got.Status.ExpirationTimestamp)
		require.NoError(t, err)
		assert.True(t, exp.After(time.Now()))
		require.NoError(t, validate(t, got.Status.Token))
	}
}

func TestIntegrationEnvOpenstack(t *testing.T) {
	if _, err := exec.LookPath("openstack"); err != nil {
		t.Skip("no openstack client")
	}
	k := newKS(t)
	r := k.mustRun("", "env")
	cmd := exec.Command("sh", "-c", `eval "$KSAUTH_ENV" && openstack token issue -f value -c project_id`)
	cmd.Env = append(append([]string{}, k.env...), "KSAUTH_ENV="+r.stdout)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Equal(t, ks.Projects.Demo.ID, strings.TrimSpace(string(out)))
}

func TestIntegrationCredentialProcessAndEC2(t *testing.T) {
	k := newKS(t)
	var c awsCredential
	require.NoError(t, json.Unmarshal([]byte(k.mustRun("", "credential-process").stdout), &c))
	assert.Equal(t, 1, c.Version)
	list := k.mustRun("", "ec2", "list").stdout
	assert.Contains(t, list, c.AccessKeyID)
	var again awsCredential
	require.NoError(t, json.Unmarshal([]byte(k.mustRun("", "credential-process").stdout), &again))
	assert.Equal(t, c, again, "reused")

	var created map[string]string
	require.NoError(t, json.Unmarshal([]byte(k.mustRun("", "ec2", "create", "-o", "json").stdout), &created))
	k.mustRun("", "ec2", "delete", created["access"])
	k.mustRun("", "ec2", "delete", c.AccessKeyID)
	assert.NotContains(t, k.mustRun("", "ec2", "list").stdout, c.AccessKeyID)
}

func TestIntegrationAppCred(t *testing.T) {
	k := newKS(t)
	name := fmt.Sprintf("ksauth-cmd-%d", time.Now().UnixNano())
	path := filepath.Join(k.dir, "ac.yaml")
	k.mustRun("", "appcred", "create", name, "--clouds-yaml", path)
	t.Cleanup(func() { k.run("", "appcred", "delete", name) })
	assert.Contains(t, k.mustRun("", "appcred", "list").stdout, name)
	assert.Contains(t, k.mustRun("", "appcred", "show", name).stdout, name)
	ac := newKS(t)
	ac.env = append(ac.env, "OS_CLIENT_CONFIG_FILE="+path, "OS_CLOUD="+name)
	var j jsonToken
	require.NoError(t, json.Unmarshal([]byte(ac.mustRun("", "token", "-o", "json").stdout), &j))
	assert.Equal(t, []string{"application_credential"}, j.Methods)
	k.mustRun("", "appcred", "delete", name)
	oneLineError(t, k.run("", "appcred", "show", name), exitNotFound, name)
}

// TestIntegrationLoginTOTP: carol's rules need a password and a TOTP
// passcode: without a terminal exit 2, on one the passcode is asked for.
func TestIntegrationLoginTOTP(t *testing.T) {
	k := newKS(t)
	empty := filepath.Join(k.dir, "empty.yaml")
	require.NoError(t, os.WriteFile(empty, []byte("clouds: {}\n"), 0o600))
	k.env = append(k.env, "OS_CLIENT_CONFIG_FILE="+empty, "OS_CLOUD=", "OS_AUTH_URL="+ks.AuthURL,
		"OS_USERNAME=carol", "OS_USER_DOMAIN_NAME=acme", "OS_PROJECT_ID="+ks.Projects.Ops.ID)
	old := isTerminal
	defer func() { isTerminal = old }()
	terminal := false
	isTerminal = func(any) bool { return terminal }

	r := k.run(ks.Users.Carol.Password+"\n", "login", "--password-stdin")
	oneLineError(t, r, exitNoInput, "multi-factor")

	terminal = true
	code, err := ksauth.TOTPPasscode(ks.Users.Carol.TOTPSecret, time.Now())
	require.NoError(t, err)
	r = k.run(ks.Users.Carol.Password+"\n"+code+"\n", "login", "--password-stdin")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "TOTP passcode: ")
	assert.Contains(t, r.stderr, "logged in as carol")
	assert.NotContains(t, r.stderr, code)

	terminal = false
	inspect := k.mustRun(ks.Users.Carol.Password+"\n", "token", "inspect", "--password-stdin", "-o", "json")
	assert.Contains(t, inspect.stdout, "totp")
}
