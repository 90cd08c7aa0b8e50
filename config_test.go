package ksauth

import (
	"context"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// configDir writes files into a fresh directory and returns it with an
// environment whose HOME and XDG_CONFIG_HOME point inside it, so that no
// file of the machine's is read.
func configDir(t *testing.T, files map[string]string, env ...string) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	}
	return dir, append([]string{"HOME=" + filepath.Join(dir, "home"), "XDG_CONFIG_HOME=" + filepath.Join(dir, "xdg")}, env...)
}

func loadIn(t *testing.T, files map[string]string, opts ConfigOptions, env ...string) (*Config, error) {
	t.Helper()
	opts.Dir, opts.Env = configDir(t, files, env...)
	opts.Logger = testLogger()
	c, err := LoadConfig(&opts)
	recordErr(err)
	return c, err
}

// xloudOpenRC is the OpenRC file Horizon generates (Project → API Access).
var xloudOpenRC = []string{
	"OS_AUTH_URL=https://api.xloud.test/identity/v3",
	"OS_PROJECT_ID=0c4e939acacf4376bdcd1129f1a054ad",
	"OS_PROJECT_NAME=demo",
	"OS_USER_DOMAIN_NAME=Default",
	"OS_PROJECT_DOMAIN_ID=default",
	"OS_USERNAME=alice",
	"OS_PASSWORD=secret-pw",
	"OS_REGION_NAME=RegionOne",
	"OS_INTERFACE=public",
	"OS_IDENTITY_API_VERSION=3",
}

func TestConfigOpenRC(t *testing.T) {
	registerSecret("secret-pw")
	c, err := loadIn(t, nil, ConfigOptions{}, xloudOpenRC...)
	require.NoError(t, err)
	assert.Equal(t, "", c.Cloud)
	assert.Equal(t, "RegionOne", c.Region)
	assert.Equal(t, "public", c.Interface)
	k := c.Keystone
	assert.Equal(t, "https://api.xloud.test/identity/v3", k.AuthURL)
	assert.Equal(t, Password{Username: "alice", UserDomain: Domain{Name: "Default"}, Password: "secret-pw"}, k.Credentials)
	assert.Equal(t, ProjectScope{ID: "0c4e939acacf4376bdcd1129f1a054ad"}, k.Scope, "the project ID wins over its name")
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v", c.Settings, c.Settings, c.Keystone), "secret-pw")

	t.Run("by name", func(t *testing.T) {
		c, err := loadIn(t, nil, ConfigOptions{}, "OS_AUTH_URL=https://k.test:5000/v3", "OS_USERNAME=alice", "OS_PASSWORD=secret-pw",
			"OS_USER_DOMAIN_NAME=Default", "OS_TENANT_NAME=demo", "OS_PROJECT_DOMAIN_NAME=Default", "OS_ENDPOINT_TYPE=internalURL")
		require.NoError(t, err)
		assert.Equal(t, ProjectScope{Name: "demo", Domain: Domain{Name: "Default"}}, c.Keystone.Scope, "legacy OS_TENANT_NAME")
		assert.Equal(t, "internal", c.Interface)
	})
}

const twoClouds = `
clouds:
  alpha:
    auth:
      auth_url: https://alpha.test:5000/v3
      username: alice
      password: secret-pw
      user_domain_name: Default
      project_name: demo
      project_domain_name: Default
    region_name: RegionOne
  beta:
    auth_type: v3applicationcredential
    auth:
      auth_url: https://beta.test:5000
      application_credential_id: ac-1
      application_credential_secret: secret-ac
      project_name: stray
`

func TestConfigCloudSelection(t *testing.T) {
	registerSecret("secret-ac")
	files := map[string]string{"clouds.yaml": twoClouds}

	c, err := loadIn(t, files, ConfigOptions{Cloud: "alpha"}, "OS_REGION_NAME=Elsewhere", "OS_USERNAME=mallory")
	require.NoError(t, err)
	assert.Equal(t, "alpha", c.Cloud)
	assert.Equal(t, "RegionOne", c.Region, "OS_REGION_NAME does not leak into a named cloud")
	assert.Equal(t, "alice", c.Settings.Username)

	c, err = loadIn(t, files, ConfigOptions{}, "OS_CLOUD=beta")
	require.NoError(t, err)
	assert.Equal(t, "beta", c.Cloud)
	assert.Equal(t, ApplicationCredential{ID: "ac-1", Secret: "secret-ac"}, c.Keystone.Credentials)
	assert.Nil(t, c.Keystone.Scope, "an application credential's stray project is dropped")

	c, err = loadIn(t, files, ConfigOptions{Cloud: "alpha"}, "OS_CLOUD=beta")
	require.NoError(t, err)
	assert.Equal(t, "alpha", c.Cloud, "explicit beats OS_CLOUD")

	_, err = loadIn(t, files, ConfigOptions{})
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, err.Error(), "alpha, beta")

	_, err = loadIn(t, files, ConfigOptions{Cloud: "gamma"})
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, err.Error(), `no cloud "gamma" (known: alpha, beta)`)

	one := map[string]string{"clouds.yaml": "clouds:\n  only:\n    auth: {auth_url: 'https://o.test/v3', user_id: u1, password: secret-pw}\n"}
	c, err = loadIn(t, one, ConfigOptions{})
	require.NoError(t, err)
	assert.Equal(t, "only", c.Cloud, "the only cloud is the default")

	c, err = loadIn(t, one, ConfigOptions{}, xloudOpenRC...)
	require.NoError(t, err)
	assert.Equal(t, "", c.Cloud, "OS_* auth variables are their own cloud when none is named")
}

func TestConfigSettingsWin(t *testing.T) {
	files := map[string]string{"clouds.yaml": twoClouds}
	c, err := loadIn(t, files, ConfigOptions{Cloud: "alpha", Region: "RegionTwo",
		Settings: Settings{ProjectName: "other", Interface: "internal", APITimeout: 30 * time.Second}})
	require.NoError(t, err)
	assert.Equal(t, ProjectScope{Name: "other", Domain: Domain{Name: "Default"}}, c.Keystone.Scope)
	assert.Equal(t, "RegionTwo", c.Region)
	assert.Equal(t, "internal", c.Interface)
	assert.Equal(t, 30*time.Second, c.Keystone.HTTPClient.Timeout)

	c, err = loadIn(t, nil, ConfigOptions{Settings: Settings{AuthURL: "https://p.test/v3", UserID: "u1", Password: "secret-pw", ProjectID: "p1"}})
	require.NoError(t, err, "a provider's arguments alone are a configuration")
	assert.Equal(t, Password{UserID: "u1", Password: "secret-pw"}, c.Keystone.Credentials)
}

func TestConfigFilesMerge(t *testing.T) {
	files := map[string]string{
		"xdg/openstack/clouds.yml":  "clouds:\n  c:\n    profile: mycloud\n    auth: {username: alice, user_domain_name: Default, project_name: demo, project_domain_name: Default}\n",
		"xdg/openstack/secure.yaml": "clouds:\n  c:\n    auth: {password: secret-pw}\n",
		"clouds-public.yaml":        "public-clouds:\n  mycloud:\n    auth: {auth_url: 'https://{region_name}.my.test:5000/v3'}\n    regions: [north, south]\n",
	}
	c, err := loadIn(t, files, ConfigOptions{Cloud: "c"})
	require.NoError(t, err)
	assert.Equal(t, "https://north.my.test:5000/v3", c.Keystone.AuthURL, "profile, first region, templated")
	assert.Equal(t, "secret-pw", c.Settings.Password, "secure.yaml merged")

	c, err = loadIn(t, files, ConfigOptions{Cloud: "c", Region: "south"})
	require.NoError(t, err)
	assert.Equal(t, "https://south.my.test:5000/v3", c.Keystone.AuthURL)

	_, err = loadIn(t, files, ConfigOptions{Cloud: "c", Region: "North"})
	assert.ErrorContains(t, err, `region "North" is not one of this cloud's regions (north, south); names are case-sensitive`)

	c, err = loadIn(t, map[string]string{"clouds.json": `{"clouds":{"cc":{"profile":"cleura","region_name":"Sto2","auth":{"user_id":"u","password":"secret-pw","project_id":"p"}}}}`},
		ConfigOptions{})
	require.NoError(t, err)
	assert.Equal(t, "https://Sto2.citycloud.com:5000/v3/", c.Keystone.AuthURL, "built-in profile, clouds.json")

	c, err = loadIn(t, map[string]string{"clouds.yaml": "clouds:\n  cc:\n    profile: citycloud\n    auth: {user_id: u, password: secret-pw}\n"}, ConfigOptions{Region: "dx1"})
	require.NoError(t, err, "openstacksdk 0.101's citycloud regions")
	assert.Equal(t, "https://dx1.citycloud.com:5000/v3/", c.Keystone.AuthURL)
}

func TestConfigRegionValues(t *testing.T) {
	files := map[string]string{"clouds.yaml": `
clouds:
  r:
    auth: {auth_url: 'https://k.test/v3', user_id: u, password: secret-pw, project_id: p}
    regions:
      - name: one
      - name: two
        values:
          interface: internal
          auth: {auth_url: 'https://k2.test/v3'}
`}
	c, err := loadIn(t, files, ConfigOptions{Region: "two"})
	require.NoError(t, err)
	assert.Equal(t, "https://k2.test/v3", c.Keystone.AuthURL)
	assert.Equal(t, "internal", c.Interface)
	assert.Equal(t, "u", c.Settings.UserID, "the region's values merge over the entry")
}

func TestConfigAuthTypes(t *testing.T) {
	base := []string{"OS_AUTH_URL=https://k.test/v3"}
	tests := []struct {
		name string
		env  []string
		want Credential
	}{
		{"token", []string{"OS_AUTH_TYPE=token", "OS_TOKEN=secret-tok"}, TokenExchange{Token: "secret-tok"}},
		{"v3token via OS_AUTH_TOKEN", []string{"OS_AUTH_TYPE=v3token", "OS_AUTH_TOKEN=secret-tok"}, TokenExchange{Token: "secret-tok"}},
		{"totp", []string{"OS_AUTH_TYPE=v3totp", "OS_USER_ID=u", "OS_PASSCODE=123456"}, TOTP{UserID: "u", Passcode: "123456"}},
		{"multifactor", []string{"OS_AUTH_TYPE=v3multifactor", "OS_AUTH_METHODS=v3password, v3totp", "OS_USER_ID=u", "OS_PASSWORD=secret-pw", "OS_PASSCODE=123456"},
			MultiFactor{Password{UserID: "u", Password: "secret-pw"}, TOTP{UserID: "u", Passcode: "123456"}}},
		{"app credential without auth type", []string{"OS_APPLICATION_CREDENTIAL_ID=ac", "OS_APPLICATION_CREDENTIAL_SECRET=secret-ac"},
			ApplicationCredential{ID: "ac", Secret: "secret-ac"}},
		{"default domain", []string{"OS_USERNAME=alice", "OS_PASSWORD=secret-pw", "OS_DEFAULT_DOMAIN=default"},
			Password{Username: "alice", UserDomain: Domain{ID: "default"}, Password: "secret-pw"}},
	}
	registerSecret("secret-tok")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := loadIn(t, nil, ConfigOptions{}, append(base, tc.env...)...)
			require.NoError(t, err)
			assert.Equal(t, tc.want, c.Keystone.Credentials)
		})
	}
	t.Run("scopes", func(t *testing.T) {
		for env, want := range map[string]Scope{
			"OS_SYSTEM_SCOPE=all": SystemScope{}, "OS_DOMAIN_NAME=ops": DomainScope{Name: "ops"},
			"OS_TRUST_ID=t1": TrustScope{ID: "t1"}, "OS_DOMAIN_ID=d1": DomainScope{ID: "d1"},
		} {
			c, err := loadIn(t, nil, ConfigOptions{}, append(base, "OS_USER_ID=u", "OS_PASSWORD=secret-pw", env)...)
			require.NoError(t, err, env)
			assert.Equal(t, want, c.Keystone.Scope, env)
		}
	})
	t.Run("domain fans out to a project login", func(t *testing.T) {
		c, err := loadIn(t, nil, ConfigOptions{}, append(base, "OS_USERNAME=alice", "OS_PASSWORD=secret-pw", "OS_PROJECT_NAME=demo", "OS_DOMAIN_NAME=ops")...)
		require.NoError(t, err)
		assert.Equal(t, ProjectScope{Name: "demo", Domain: Domain{Name: "ops"}}, c.Keystone.Scope)
		assert.Equal(t, Domain{Name: "ops"}, c.Keystone.Credentials.(Password).UserDomain)
	})
	// As openstacksdk and keystoneauth1's generic plugins fill the domains
	// (found by the oracle, testdata/config/cases/*domain*).
	t.Run("default domain ID and name", func(t *testing.T) {
		user := append(base, "OS_USERNAME=alice", "OS_PASSWORD=secret-pw", "OS_PROJECT_NAME=demo")
		for _, tc := range []struct {
			env         []string
			user, scope Domain
		}{
			{[]string{"OS_DEFAULT_DOMAIN_ID=d1"}, Domain{ID: "d1"}, Domain{ID: "d1"}},
			{[]string{"OS_DEFAULT_DOMAIN_NAME=Shared", "OS_USER_DOMAIN_NAME=Users"}, Domain{Name: "Users"}, Domain{Name: "Shared"}},
			{[]string{"OS_DEFAULT_DOMAIN_ID=d1", "OS_USER_DOMAIN_NAME=Users"}, Domain{ID: "d1"}, Domain{ID: "d1"}},
			{[]string{"OS_DOMAIN_ID=d2", "OS_USER_DOMAIN_NAME=Users", "OS_DEFAULT_DOMAIN_ID=d1"}, Domain{ID: "d2"}, Domain{ID: "d2"}},
			{[]string{"OS_DEFAULT_DOMAIN_ID=d1", "OS_DEFAULT_DOMAIN=d0"}, Domain{ID: "d1"}, Domain{ID: "d1"}},
		} {
			c, err := loadIn(t, nil, ConfigOptions{}, append(user, tc.env...)...)
			require.NoError(t, err, tc.env)
			assert.Equal(t, tc.user, c.Keystone.Credentials.(Password).UserDomain, tc.env)
			assert.Equal(t, ProjectScope{Name: "demo", Domain: tc.scope}, c.Keystone.Scope, tc.env)
		}
		c, err := loadIn(t, map[string]string{"clouds.yaml": "clouds:\n  a:\n    auth: {auth_url: 'https://k.test/v3', username: alice, password: secret-pw, project_name: demo, default_domain_name: Shared}\n"}, ConfigOptions{})
		require.NoError(t, err)
		assert.Equal(t, Domain{Name: "Shared"}, c.Keystone.Credentials.(Password).UserDomain, "auth.default_domain_name")
		assert.Equal(t, "Shared", c.Settings.DefaultDomainName)
	})
	t.Run("trust before system, as keystoneauth1 orders them", func(t *testing.T) {
		c, err := loadIn(t, nil, ConfigOptions{}, append(base, "OS_USER_ID=u", "OS_PASSWORD=secret-pw", "OS_TRUST_ID=t1", "OS_SYSTEM_SCOPE=all")...)
		require.NoError(t, err)
		assert.Equal(t, TrustScope{ID: "t1"}, c.Keystone.Scope)
	})
}

// TestConfigBadInput: every kind of bad configuration is a *ConfigError
// naming its source and field, without the secrets.
func TestConfigBadInput(t *testing.T) {
	good := "OS_AUTH_URL=https://k.test/v3"
	tests := []struct {
		name  string
		files map[string]string
		env   []string
		opts  ConfigOptions
		want  string
	}{
		{"yaml syntax", map[string]string{"clouds.yaml": "clouds:\n  a:\n    auth: {auth_url: x\n"}, nil, ConfigOptions{}, "clouds.yaml: not valid YAML: yaml: line"},
		{"explicit file missing", nil, []string{"OS_CLIENT_CONFIG_FILE=/nonexistent/clouds.yaml"}, ConfigOptions{}, "/nonexistent/clouds.yaml: no such file"},
		{"clouds not a mapping", map[string]string{"clouds.yaml": "clouds: [a, b]\n"}, nil, ConfigOptions{}, "clouds: not a mapping"},
		{"bad boolean", map[string]string{"clouds.yaml": "clouds:\n  a:\n    verify: maybe\n    auth: {auth_url: 'https://k.test/v3', user_id: u, password: secret-pw}\n"}, nil, ConfigOptions{}, "verify: maybe is not a boolean"},
		{"bad OS_INSECURE", nil, []string{good, "OS_INSECURE=perhaps"}, ConfigOptions{}, `OS_INSECURE: "perhaps" is not a boolean`},
		{"no auth url", nil, []string{"OS_USERNAME=alice", "OS_PASSWORD=secret-pw"}, ConfigOptions{}, "auth_url: missing"},
		{"password without user", nil, []string{good, "OS_PASSWORD=secret-pw"}, ConfigOptions{}, "auth"},
		{"username without domain", nil, []string{good, "OS_USERNAME=alice", "OS_PASSWORD=secret-pw"}, ConfigOptions{}, "auth.user_domain_name/user_domain_id"},
		{"unsupported auth type", nil, []string{good, "OS_AUTH_TYPE=v3oidcpassword"}, ConfigOptions{}, `auth_type: "v3oidcpassword" is not supported`},
		{"multifactor without methods", nil, []string{good, "OS_AUTH_TYPE=v3multifactor"}, ConfigOptions{}, "auth_methods"},
		{"identity v2", nil, []string{good, "OS_IDENTITY_API_VERSION=2.0", "OS_USER_ID=u", "OS_PASSWORD=secret-pw"}, ConfigOptions{}, "only Keystone v3"},
		{"cert without key", nil, []string{good, "OS_USER_ID=u", "OS_PASSWORD=secret-pw", "OS_CERT=/x.pem"}, ConfigOptions{}, "cert/key: a client certificate needs both"},
		{"cacert unreadable", nil, []string{good, "OS_USER_ID=u", "OS_PASSWORD=secret-pw", "OS_CACERT=/nonexistent/ca.pem"}, ConfigOptions{}, "cacert: cannot read /nonexistent/ca.pem"},
		{"cacert not PEM", nil, []string{good, "OS_USER_ID=u", "OS_PASSWORD=secret-pw", "OS_CACERT=-----BEGIN nothing"}, ConfigOptions{}, "cacert: holds no PEM certificate"},
		{"unknown profile", map[string]string{"clouds.yaml": "clouds:\n  a:\n    profile: nowhere\n"}, nil, ConfigOptions{}, `profile: unknown profile "nowhere"`},
		{"bad regions", map[string]string{"clouds.yaml": "clouds:\n  a:\n    regions: {one: 1}\n"}, nil, ConfigOptions{}, "regions: not a list"},
		{"bad timeout", map[string]string{"clouds.yaml": "clouds:\n  a:\n    api_timeout: soon\n"}, nil, ConfigOptions{}, "api_timeout: not a number of seconds"},
		{"bad auth url", nil, []string{"OS_AUTH_URL=k.test", "OS_USER_ID=u", "OS_PASSWORD=secret-pw"}, ConfigOptions{}, "auth_url"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantConfigError(t, tc.files, tc.opts, tc.want, tc.env...)
		})
	}
}

// wantConfigError loads the configuration and checks that it fails with a
// *ConfigError whose text has want and not the tests' password.
func wantConfigError(t *testing.T, files map[string]string, opts ConfigOptions, want string, env ...string) {
	t.Helper()
	c, err := loadIn(t, files, opts, env...)
	assert.Nil(t, c)
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, err.Error(), want)
	assert.NotContains(t, fmt.Sprintf("%v %+v", err, err), "secret-pw")
}

// TestConfigPrivateCA: a session from a configuration with cacert reaches a
// server signed by that CA, through both the Keystone and Client().
func TestConfigPrivateCA(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v3/auth/tokens" {
			w.Header().Set("X-Subject-Token", "secret-ca-token")
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, `{"token":{"expires_at":"2099-01-01T00:00:00Z","issued_at":"2026-12-06T00:00:00Z","methods":["password"],"user":{"id":"u","name":"alice","domain":{"id":"default","name":"Default"}}}}`)
			return
		}
		fmt.Fprint(w, r.Header.Get("X-Auth-Token") != "")
	}))
	defer srv.Close()
	registerSecret("secret-ca-token")
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	for name, cacert := range map[string]string{"path": "ca.pem", "inline": string(caPEM)} {
		t.Run(name, func(t *testing.T) {
			dir, env := configDir(t, map[string]string{"ca.pem": string(caPEM)})
			if name == "path" {
				cacert = filepath.Join(dir, cacert)
			}
			env = append(env, "OS_AUTH_URL="+srv.URL+"/v3", "OS_USER_ID=u", "OS_PASSWORD=secret-pw", "OS_CACERT="+cacert)
			c, err := LoadConfig(&ConfigOptions{Env: env, Dir: dir, Logger: testLogger()})
			require.NoError(t, err)
			body := getBody(t, c.NewSession(&SessionOptions{Logger: testLogger()}).Client(), srv.URL+"/servers", http.StatusOK)
			assert.Equal(t, "true", body)
		})
	}
	t.Run("without the CA", func(t *testing.T) {
		dir, env := configDir(t, nil)
		c, err := LoadConfig(&ConfigOptions{Env: append(env, "OS_AUTH_URL="+srv.URL+"/v3", "OS_USER_ID=u", "OS_PASSWORD=secret-pw"), Dir: dir})
		require.NoError(t, err)
		_, err = c.Keystone.Authenticate(context.Background())
		recordErr(err)
		assert.ErrorContains(t, err, "certificate")
	})
}

func TestConfigInsecureWarns(t *testing.T) {
	var logs lockedBuffer
	dir, env := configDir(t, map[string]string{"clouds.yaml": "clouds:\n  a:\n    verify: false\n    auth: {auth_url: 'https://k.test/v3', user_id: u, password: secret-pw}\n"})
	c, err := LoadConfig(&ConfigOptions{Env: env, Dir: dir, Logger: teeLogger(&logs)})
	require.NoError(t, err)
	assert.True(t, c.Keystone.HTTPClient.Transport.(*http.Transport).TLSClientConfig.InsecureSkipVerify)
	assert.Equal(t, 1, strings.Count(logs.String(), `"level":"WARN"`))
}

func TestUseProxy(t *testing.T) {
	tests := []struct {
		url, noProxy string
		want         bool
	}{
		{"https://k.test/v3", "", true},
		{"https://127.0.0.1:5000/", "", false},
		{"https://localhost/", "", false},
		{"https://k.test/", "*", false},
		{"https://k.test/", "other.test, k.test", false},
		{"https://api.k.test/", "k.test", false},
		{"https://api.k.test/", ".k.test", false},
		{"https://api.k.test/", "*.k.test", false},
		{"https://notk.test/", "k.test", true},
		{"https://k.test/", "k.test:8443", true},
		{"https://k.test:8443/", "k.test:8443", false},
		{"https://10.1.2.3/", "10.0.0.0/8", false},
		{"https://11.1.2.3/", "10.0.0.0/8", true},
	}
	for _, tc := range tests {
		u, err := url.Parse(tc.url)
		require.NoError(t, err)
		assert.Equal(t, tc.want, useProxy(u, tc.noProxy), "%s with NO_PROXY=%q", tc.url, tc.noProxy)
	}
	proxy := proxyFromEnv(map[string]string{"https_proxy": "proxy.test:3128", "NO_PROXY": "direct.test"})
	req := httptest.NewRequest(http.MethodGet, "https://k.test/", nil)
	u, err := proxy(req)
	require.NoError(t, err)
	assert.Equal(t, "http://proxy.test:3128", u.String())
	u, err = proxy(httptest.NewRequest(http.MethodGet, "https://direct.test/", nil))
	require.NoError(t, err)
	assert.Nil(t, u)
}

// TestConfigEntrySpellings: the spellings openstacksdk accepts in a cloud
// entry (found by the oracle): dashed keys, auth keys at the top level
// (auth: wins), auth_token.
func TestConfigEntrySpellings(t *testing.T) {
	c, err := loadIn(t, map[string]string{"clouds.yaml": `
clouds:
  a:
    region-name: R1
    username: alice
    password: top-secret-pw
    project_id: p-top
    domain_name: Dom
    auth:
      auth-url: https://k.test/v3
      password: secret-pw
`}, ConfigOptions{})
	require.NoError(t, err)
	assert.Equal(t, "https://k.test/v3", c.Keystone.AuthURL)
	assert.Equal(t, "R1", c.Region)
	assert.Equal(t, Password{Username: "alice", UserDomain: Domain{Name: "Dom"}, Password: "secret-pw"}, c.Keystone.Credentials)
	assert.Equal(t, ProjectScope{ID: "p-top"}, c.Keystone.Scope)

	c, err = loadIn(t, map[string]string{"clouds.yaml": "clouds:\n  a:\n    auth_type: v3token\n    auth: {auth_url: 'https://k.test/v3', auth_token: secret-tok}\n"}, ConfigOptions{})
	require.NoError(t, err)
	assert.Equal(t, TokenExchange{Token: "secret-tok"}, c.Keystone.Credentials)
}

// TestConfigSettingsRegion: a region in the settings chooses the cloud's
// region as ConfigOptions.Region does (its values, {region_name}, the
// check), as openstacksdk's get_one(region_name=) does (found by the
// oracle); an auth_url in the settings is templated too.
func TestConfigSettingsRegion(t *testing.T) {
	files := map[string]string{"clouds.yaml": `
clouds:
  r:
    auth: {auth_url: 'https://{region_name}.k.test/v3', user_id: u, password: secret-pw, project_id: p}
    regions:
      - one
      - name: two
        values:
          interface: internal
`}
	c, err := loadIn(t, files, ConfigOptions{Settings: Settings{Region: "two"}})
	require.NoError(t, err)
	assert.Equal(t, "https://two.k.test/v3", c.Keystone.AuthURL)
	assert.Equal(t, "internal", c.Interface)
	assert.Equal(t, "two", c.Region)

	c, err = loadIn(t, files, ConfigOptions{Region: "one", Settings: Settings{Region: "two"}})
	require.NoError(t, err)
	assert.Equal(t, "https://one.k.test/v3", c.Keystone.AuthURL, "ConfigOptions.Region wins")

	_, err = loadIn(t, files, ConfigOptions{Settings: Settings{Region: "three"}})
	assert.ErrorContains(t, err, `region "three" is not one of this cloud's regions (one, two)`)

	c, err = loadIn(t, nil, ConfigOptions{Region: "r2", Settings: Settings{AuthURL: "https://{region_name}.k.test/v3", UserID: "u", Password: "secret-pw"}})
	require.NoError(t, err)
	assert.Equal(t, "https://r2.k.test/v3", c.Keystone.AuthURL)
}

// TestConfigVerifyOrInsecure: either key turns verification off, whatever
// the other says, as in openstacksdk (found by the oracle).
func TestConfigVerifyOrInsecure(t *testing.T) {
	for keys, want := range map[string]bool{
		"verify: false, insecure: false": true, "insecure: false, verify: false": true,
		"verify: true, insecure: true": true, "verify: true, insecure: false": false,
		"verify: false": true, "insecure: false": false,
	} {
		c, err := loadIn(t, map[string]string{"clouds.yaml": "clouds:\n  a: {" + keys + ", auth: {auth_url: 'https://k.test/v3', user_id: u, password: secret-pw}}\n"}, ConfigOptions{})
		require.NoError(t, err, keys)
		require.NotNil(t, c.Settings.Insecure, keys)
		assert.Equal(t, want, *c.Settings.Insecure, keys)
		assert.Equal(t, want, c.Keystone.HTTPClient.Transport.(*http.Transport).TLSClientConfig.InsecureSkipVerify, keys)
	}
}
