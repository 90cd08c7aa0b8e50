package ksauth

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConfigCleura: a clouds.yaml entry with auth_type cleura resolves to a
// Cleura login (and no Keystone) whose session logs in with the SMS code.
func TestConfigCleura(t *testing.T) {
	f := newFakeCleura(t, CleuraV2)
	f.factor = "sms"
	yaml := fmt.Sprintf("clouds:\n  cleura:\n    auth_type: cleura\n    auth:\n      auth_url: %s\n      username: %s\n      password: %s\n",
		fxCleuraBase, fxCleuraLogin, fxCleuraPassword)
	c, err := loadIn(t, map[string]string{"clouds.yaml": yaml}, ConfigOptions{})
	require.NoError(t, err)
	assert.Nil(t, c.Keystone)
	require.NotNil(t, c.Cleura)
	assert.Equal(t, "cleura", c.Cloud)
	assert.Equal(t, fxCleuraBase, c.Cleura.BaseURL)
	assert.Equal(t, fxCleuraLogin, c.Cleura.Login)
	assert.Equal(t, fxCleuraPassword, c.Cleura.Password)
	assert.Nil(t, c.Cleura.TwoFactor, "the program chooses how to ask for the code")
	assert.Same(t, c.Cleura, c.Authenticator())
	assert.Equal(t, fxCleuraBase, c.AuthURL())
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v %s", c, c, c, c), fxCleuraPassword)

	c.Cleura.HTTPClient = &http.Client{Transport: f.mock}
	c.Cleura.TwoFactor = func(context.Context, TwoFactorChallenge) (string, error) { return fxCleuraCode, nil }
	tok, err := c.NewSession(nil).Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, fxCleuraLogin, tok.User.Name)
	assert.Equal(t, []string{"password", "sms"}, tok.Methods)
}

// TestConfigCleuraFromEnv: OS_AUTH_TYPE=cleura with OS_USERNAME and
// OS_PASSWORD, no auth URL: Cleura Public Cloud.
func TestConfigCleuraFromEnv(t *testing.T) {
	registerSecret("secret-pw")
	c, err := loadIn(t, nil, ConfigOptions{}, "OS_AUTH_TYPE=Cleura", "OS_USERNAME=carla", "OS_PASSWORD=secret-pw")
	require.NoError(t, err)
	require.NotNil(t, c.Cleura)
	assert.Nil(t, c.Keystone)
	assert.Equal(t, CleuraURL, c.AuthURL())
	assert.Equal(t, "carla", c.Cleura.Login)
	k, err := loadIn(t, nil, ConfigOptions{}, xloudOpenRC...)
	require.NoError(t, err)
	assert.Equal(t, "https://api.xloud.test/identity/v3", k.AuthURL())
	assert.Same(t, k.Keystone, k.Authenticator())
}

// TestConfigCleuraBadInput: a Cleura entry missing its login or password,
// naming Keystone settings it has no use for, or sending the password over
// plain HTTP to another machine is a *ConfigError naming the field.
func TestConfigCleuraBadInput(t *testing.T) {
	registerSecret("secret-pw")
	base := []string{"OS_AUTH_TYPE=cleura", "OS_USERNAME=carla", "OS_PASSWORD=secret-pw"}
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"no username", []string{"OS_AUTH_TYPE=cleura", "OS_PASSWORD=secret-pw"}, "auth.username: missing"},
		{"no password", []string{"OS_AUTH_TYPE=cleura", "OS_USERNAME=carla"}, "auth.password: missing"},
		{"project", append(base, "OS_PROJECT_NAME=demo"), "auth.project_name/project_id: not used by auth_type cleura"},
		{"user id", append(base, "OS_USER_ID=u"), "auth.user_id: not used by auth_type cleura"},
		{"app credential", append(base, "OS_APPLICATION_CREDENTIAL_ID=ac"), "auth.application_credential_id"},
		{"token", append(base, "OS_TOKEN=secret-pw"), "auth.token: not used"},
		{"plain http", append(base, "OS_AUTH_URL=http://rest.cleura.test"), "auth.auth_url"},
		{"not a URL", append(base, "OS_AUTH_URL=rest.cleura.test"), "auth.auth_url"},
		{"bad cacert", append(base, "OS_CACERT=/nonexistent/ca.pem"), "cacert: cannot read"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantConfigError(t, nil, ConfigOptions{}, tc.want, tc.env...)
		})
	}
}

// TestConfigZeroValue: a Config with neither login (a zero value, or one a
// program emptied) has no authenticator and no auth URL, and its session
// fails with an error instead of panicking.
func TestConfigZeroValue(t *testing.T) {
	var c Config
	assert.Nil(t, c.Authenticator())
	assert.Equal(t, "", c.AuthURL())
	_, err := c.NewSession(nil).Token(context.Background())
	require.Error(t, err)
	k := Config{Keystone: &Keystone{AuthURL: "https://k.test/v3"}} // no HTTPClient
	assert.NotNil(t, k.NewSession(nil))
}
