package ksauth

// Differential test of LoadConfig against openstacksdk. Each directory of
// testdata/config/cases holds a case.json (the cloud, region, environment
// and explicit settings), the files it needs (clouds.yaml, secure.yaml,
// clouds-public.yaml, under home/ or xdg/ for the user's directories) and
// expected.json: what openstacksdk 0.101.0 with keystoneauth1 5.0.0 (the
// Debian bookworm packages) resolved, including the body of the login
// request keystoneauth1 would send. testdata/config/oracle.py writes the
// goldens (testdata/config/regenerate.sh runs it); no Python is needed to
// run this test.
//
// A case may list "differences": fields where ksauth deliberately resolves
// otherwise, with ksauth's value and the reason. The test expects ksauth's
// value there, and that openstacksdk's differs (a difference that no
// longer differs is stale).

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const oracleCases = "testdata/config/cases"

type oracleCase struct {
	Description string            `json:"description"`
	Cloud       string            `json:"cloud"`
	Region      string            `json:"region"`
	Env         map[string]string `json:"env"`
	Settings    map[string]any    `json:"settings"`
	Differences []struct {
		Field  string `json:"field"`
		KSAuth any    `json:"ksauth"`
		Reason string `json:"reason"`
	} `json:"differences"`
}

// oracleFields maps what openstacksdk resolved (expected.json's keys, and
// the normalisation of its value) to where ksauth keeps it. "request" is
// the login body: every identity and scope field, as each would send it.
var oracleFields = []struct {
	name   string
	sdk    func(v any) any // openstacksdk's value, normalised (nil: as is)
	ksauth func(c *Config) any
}{
	{"cloud", sdkCloud, func(c *Config) any { return c.Cloud }},
	{"region_name", nil, func(c *Config) any { return c.Region }},
	{"auth_type", sdkAuthType, func(c *Config) any { return credentialKind(c.Keystone.Credentials) }},
	{"auth_url", nil, func(c *Config) any { return c.Keystone.AuthURL }},
	{"interface", sdkInterface, func(c *Config) any { return c.Interface }},
	{"verify", nil, ksauthVerify},
	{"cacert", nullString, func(c *Config) any { return c.Settings.CACert }},
	{"cert", nullString, func(c *Config) any { return c.Settings.Cert }},
	{"key", nullString, func(c *Config) any { return c.Settings.Key }},
	{"api_timeout", sdkTimeout, func(c *Config) any { return c.Keystone.HTTPClient.Timeout.Seconds() }},
	{"request", nil, func(c *Config) any { return jsonValue(c.Keystone.request().Auth) }},
}

// oracleAuthFields maps the auth fields openstacksdk passes through as
// they are to the merged Settings. The domain fields are not here:
// openstacksdk rewrites them (domain_id fills user_domain_id, ...), and
// what both make of them is compared in "request".
var oracleAuthFields = map[string]func(s *Settings) string{
	"auth_url":                      func(s *Settings) string { return s.AuthURL },
	"username":                      func(s *Settings) string { return s.Username },
	"user_id":                       func(s *Settings) string { return s.UserID },
	"password":                      func(s *Settings) string { return s.Password },
	"project_id":                    func(s *Settings) string { return s.ProjectID },
	"project_name":                  func(s *Settings) string { return s.ProjectName },
	"application_credential_id":     func(s *Settings) string { return s.ApplicationCredentialID },
	"application_credential_name":   func(s *Settings) string { return s.ApplicationCredentialName },
	"application_credential_secret": func(s *Settings) string { return s.ApplicationCredentialSecret },
	"token":                         func(s *Settings) string { return s.Token },
	"passcode":                      func(s *Settings) string { return s.Passcode },
	"trust_id":                      func(s *Settings) string { return s.TrustID },
	"system_scope":                  func(s *Settings) string { return s.SystemScope },
	"default_domain_id":             func(s *Settings) string { return s.DefaultDomain },
	"default_domain_name":           func(s *Settings) string { return s.DefaultDomainName },
}

// oracleSettings maps case.json's settings (clouds.yaml key names, as
// passed to get_one) to Settings fields.
var oracleSettings = map[string]func(s *Settings, v any){
	"auth_url":     func(s *Settings, v any) { s.AuthURL = v.(string) },
	"auth_type":    func(s *Settings, v any) { s.AuthType = v.(string) },
	"username":     func(s *Settings, v any) { s.Username = v.(string) },
	"user_id":      func(s *Settings, v any) { s.UserID = v.(string) },
	"password":     func(s *Settings, v any) { s.Password = v.(string) },
	"project_name": func(s *Settings, v any) { s.ProjectName = v.(string) },
	"project_id":   func(s *Settings, v any) { s.ProjectID = v.(string) },
	"region_name":  func(s *Settings, v any) { s.Region = v.(string) },
	"interface":    func(s *Settings, v any) { s.Interface = v.(string) },
	"token":        func(s *Settings, v any) { s.Token = v.(string) },
	"verify":       func(s *Settings, v any) { b := !v.(bool); s.Insecure = &b },
}

func TestConfigOracle(t *testing.T) {
	if _, err := os.Stat("/etc/openstack"); err == nil {
		t.Skip("/etc/openstack exists: LoadConfig would read it, the goldens were made without it")
	}
	pki, err := filepath.Abs("testdata/config/pki")
	require.NoError(t, err)
	entries, err := os.ReadDir(oracleCases)
	require.NoError(t, err)
	for _, s := range []string{"secret-pw", "secret-a", "secret-b", "secret-ac", "secret-token",
		"secret-settings", "secret-from-secure", "secret-cs"} {
		registerSecret(s)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	require.GreaterOrEqual(t, len(names), 30)
	differing := 0
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			if checkOracleCase(t, name, pki) > 0 {
				differing++
			}
		})
	}
	t.Logf("%d cases against openstacksdk 0.101.0, %d of them with deliberate differences", len(names), differing)
}

// checkOracleCase resolves one case and compares it with the golden; it
// returns the number of deliberate differences.
func checkOracleCase(t *testing.T, name, pki string) int {
	dir := filepath.Join(t.TempDir(), "case")
	copyOracleCase(t, filepath.Join(oracleCases, name), dir, pki)
	var c oracleCase
	readJSON(t, filepath.Join(dir, "case.json"), &c)
	var want map[string]any
	readJSON(t, filepath.Join(oracleCases, name, "expected.json"), &want)
	want = expandOracle(want, dir, pki).(map[string]any)
	require.Equal(t, "0.101.0", want["openstacksdk"])

	env := []string{"HOME=" + filepath.Join(dir, "home"), "XDG_CONFIG_HOME=" + filepath.Join(dir, "xdg")}
	for _, k := range sortedKeys(c.Env) {
		env = append(env, k+"="+c.Env[k])
	}
	opts := ConfigOptions{Cloud: c.Cloud, Region: c.Region, Env: env, Dir: dir, Logger: testLogger()}
	for _, k := range sortedKeys(c.Settings) {
		set, ok := oracleSettings[k]
		require.True(t, ok, "setting %q has no mapping onto Settings", k)
		set(&opts.Settings, c.Settings[k])
	}
	got, err := LoadConfig(&opts)
	recordErr(err)

	deliberate := map[string]any{}
	for _, d := range c.Differences {
		require.NotEmpty(t, d.Reason, "difference in %s without a reason", d.Field)
		deliberate[d.Field] = d.KSAuth
	}
	sdkErr, _ := want["error"].(bool)
	wantErr := sdkErr
	if v, ok := deliberate["error"]; ok {
		assert.NotEqual(t, sdkErr, v, "stale difference: openstacksdk agrees on error")
		wantErr = v.(bool)
	}
	if wantErr {
		var ce *ConfigError
		require.Error(t, err, "openstacksdk: %v", want["message"])
		assert.True(t, errors.As(err, &ce), "a *ConfigError: %v", err)
		return len(c.Differences)
	}
	require.NoError(t, err, "%s", c.Description)
	for _, f := range oracleFields {
		sdk, ok := want[f.name]
		if sdkErr {
			sdk, ok = nil, false // openstacksdk refused: only the listed values are known
		} else if f.sdk != nil {
			sdk = f.sdk(sdk)
		}
		mine := f.ksauth(got)
		if v, diff := deliberate[f.name]; diff {
			assert.NotEqual(t, sdk, v, "stale difference in %s: openstacksdk agrees", f.name)
			assert.Equal(t, v, mine, "%s: ksauth's deliberate value", f.name)
			continue
		}
		if !ok {
			continue
		}
		assert.Equal(t, sdk, mine, "%s (%s)", f.name, c.Description)
	}
	if auth, ok := want["auth"].(map[string]any); ok && !sdkErr {
		for _, k := range sortedKeys(oracleAuthFields) {
			sdk, _ := auth[k].(string)
			assert.Equal(t, sdk, oracleAuthFields[k](&got.Settings), "auth.%s (%s)", k, c.Description)
		}
	}
	checkOracleTLS(t, got)
	return len(c.Differences)
}

// checkOracleTLS checks that the HTTP client carries the TLS settings the
// fields promise.
func checkOracleTLS(t *testing.T, c *Config) {
	tr, ok := c.Keystone.HTTPClient.Transport.(*http.Transport)
	require.True(t, ok)
	assert.Equal(t, c.Settings.Cert != "", len(tr.TLSClientConfig.Certificates) == 1, "client certificate loaded")
	assert.Equal(t, c.Settings.CACert != "", tr.TLSClientConfig.RootCAs != nil, "CA pool loaded")
}

// ksauthVerify says what the client checks, in openstacksdk's terms
// (CloudRegion.get_requests_verify_args): false, true, or the CA file.
func ksauthVerify(c *Config) any {
	tls := c.Keystone.HTTPClient.Transport.(*http.Transport).TLSClientConfig
	switch {
	case tls.InsecureSkipVerify:
		return false
	case tls.RootCAs != nil:
		return c.Settings.CACert
	}
	return true
}

// sdkCloud: openstacksdk names the OS_* cloud "envvars" and the empty one
// "defaults"; ksauth leaves Config.Cloud empty for both.
func sdkCloud(v any) any {
	if v == "envvars" || v == "defaults" {
		return ""
	}
	return v
}

// sdkInterface normalises as keystoneauth1 does when it reads the catalog
// (ServiceCatalogV3: interface.rstrip('URL')): internalURL is internal.
func sdkInterface(v any) any {
	s, _ := v.(string)
	return strings.TrimSuffix(strings.ToLower(s), "url")
}

// sdkAuthType maps keystoneauth1 plugin names to the kind of credential.
func sdkAuthType(v any) any {
	switch v {
	case "password", "v3password":
		return "password"
	case "token", "v3token":
		return "token"
	case "v3applicationcredential":
		return "application_credential"
	case "v3totp":
		return "totp"
	case "v3multifactor":
		return "multifactor"
	}
	return fmt.Sprint(v)
}

func credentialKind(c Credential) string {
	switch c.(type) {
	case Password:
		return "password"
	case TokenExchange:
		return "token"
	case ApplicationCredential:
		return "application_credential"
	case TOTP:
		return "totp"
	case MultiFactor:
		return "multifactor"
	}
	return fmt.Sprintf("%T", c)
}

func sdkTimeout(v any) any {
	f, _ := v.(float64) // JSON numbers; null: no timeout
	return f
}

func nullString(v any) any {
	s, _ := v.(string)
	return s
}

// jsonValue is v as encoding/json decodes its encoding: comparable with a
// golden's value.
func jsonValue(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, v), path)
}

// copyOracleCase copies a case directory as oracle.py does: ${CASE} is the
// copy's path and ${PKI} testdata/config/pki's, in every file.
func copyOracleCase(t *testing.T, src, dst, pki string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if rel == "expected.json" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), []byte(expandPlaceholders(string(b), dst, pki)), 0o600)
	})
	require.NoError(t, err)
}

func expandPlaceholders(s, dir, pki string) string {
	return strings.NewReplacer("${CASE}", dir, "${PKI}", pki).Replace(s)
}

// expandOracle expands the placeholders in every string of a golden.
func expandOracle(v any, dir, pki string) any {
	switch v := v.(type) {
	case string:
		return expandPlaceholders(v, dir, pki)
	case []any:
		for i := range v {
			v[i] = expandOracle(v[i], dir, pki)
		}
	case map[string]any:
		for k := range v {
			v[k] = expandOracle(v[k], dir, pki)
		}
	}
	return v
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
