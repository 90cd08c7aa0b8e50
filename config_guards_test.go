package ksauth

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConfigCleuraRefusesEveryKeystoneSetting: each Keystone setting a
// Cleura entry has no use for (a scope, another identity method, a
// passcode, auth methods) is refused naming the field, not dropped.
func TestConfigCleuraRefusesEveryKeystoneSetting(t *testing.T) {
	registerSecret("secret-pw")
	base := []string{"OS_AUTH_TYPE=cleura", "OS_USERNAME=carla", "OS_PASSWORD=secret-pw"}
	for _, tc := range []struct{ env, want string }{
		{"OS_USER_ID=u", "auth.user_id"},
		{"OS_PROJECT_ID=p", "auth.project_name/project_id"},
		{"OS_DOMAIN_NAME=Default", "auth.domain_name/domain_id"},
		{"OS_DOMAIN_ID=default", "auth.domain_name/domain_id"},
		{"OS_SYSTEM_SCOPE=all", "auth.system_scope"},
		{"OS_TRUST_ID=t", "auth.trust_id"},
		{"OS_APPLICATION_CREDENTIAL_NAME=ac", "auth.application_credential_id/application_credential_name"},
		{"OS_PASSCODE=123456", "auth.passcode"},
		{"OS_AUTH_METHODS=password,totp", "auth_methods"},
	} {
		t.Run(tc.env, func(t *testing.T) {
			wantConfigError(t, nil, ConfigOptions{}, tc.want+": not used by auth_type cleura", append(base, tc.env)...)
		})
	}
}

// TestGuardConfigFileOfExactlyTheBound: a clouds.yaml of exactly
// maxConfigFileSize bytes is not "larger than 4 MiB".
func TestGuardConfigFileOfExactlyTheBound(t *testing.T) {
	registerSecret("secret-pw")
	head := "clouds:\n  p:\n    auth: {auth_url: 'https://k.test/v3', user_id: u, password: secret-pw}\n#"
	doc := head + strings.Repeat("#", maxConfigFileSize-len(head))
	require.Len(t, doc, maxConfigFileSize)
	c, err := loadIn(t, map[string]string{"clouds.yaml": doc}, ConfigOptions{Cloud: "p"})
	require.NoError(t, err)
	assert.Equal(t, "https://k.test/v3", c.AuthURL())
}

// TestGuardConfigPipeReadIsBounded: a pipe that never stops (a shell's
// <(yes)) is read only up to the bound, then refused: the writer is not
// drained to its end.
func TestGuardConfigPipeReadIsBounded(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc/self/fd")
	}
	r, w, err := os.Pipe()
	require.NoError(t, err)
	const endless = 64 << 20
	written := make(chan int)
	go func() {
		chunk := []byte("clouds: {}\n" + strings.Repeat("#", 64<<10))
		n := 0
		for n < endless {
			k, err := w.Write(chunk)
			n += k
			if err != nil {
				break // the reader is gone
			}
		}
		w.Close()
		written <- n
	}()
	_, err = loadIn(t, nil, ConfigOptions{}, fmt.Sprintf("OS_CLIENT_CONFIG_FILE=/proc/self/fd/%d", r.Fd()))
	r.Close()
	n := <-written
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, err.Error(), "larger than 4 MiB")
	assert.Less(t, n, 2*maxConfigFileSize, "read %d bytes of an endless pipe", n)
}

// TestGuardConfigUnderscoreKeyWins: of project_name and its dashed twin
// project-name, the underscore spelling wins, every time.
func TestGuardConfigUnderscoreKeyWins(t *testing.T) {
	registerSecret("secret-pw")
	files := map[string]string{"clouds.yaml": `clouds:
  p:
    auth:
      auth_url: https://k.test/v3
      user_id: u
      password: secret-pw
      project-name: dashed
      project_name: underscored
      project-domain-id: dashed
      project_domain_id: underscored
`}
	for range 32 { // map order varies from one load to the next
		c, err := loadIn(t, files, ConfigOptions{Cloud: "p"})
		require.NoError(t, err)
		require.Equal(t, "underscored", c.Settings.ProjectName)
		require.Equal(t, "underscored", c.Settings.ProjectDomainID)
	}
}
