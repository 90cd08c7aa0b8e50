package ksauth

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConfigFilesBounded: a configuration that names a device, a directory
// or a file larger than maxConfigFileSize (as clouds.yaml, a CA bundle or a
// client certificate) is a *ConfigError naming it, at once: never an
// endless read of /dev/zero, never the whole of a runaway file in memory.
func TestConfigFilesBounded(t *testing.T) {
	registerSecret("secret-pw")
	huge := filepath.Join(t.TempDir(), "huge.yaml")
	require.NoError(t, os.WriteFile(huge, []byte("clouds: {}\n"+strings.Repeat("#", maxConfigFileSize)), 0o600))
	auth := []string{"OS_AUTH_URL=https://k.test/v3", "OS_USER_ID=u", "OS_PASSWORD=secret-pw"}
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"clouds.yaml is /dev/zero", []string{"OS_CLIENT_CONFIG_FILE=/dev/zero"}, "/dev/zero: not a regular file or a pipe"},
		{"clouds.yaml is a directory", []string{"OS_CLIENT_CONFIG_FILE=" + t.TempDir()}, "not a regular file or a pipe"},
		{"clouds.yaml too large", []string{"OS_CLIENT_CONFIG_FILE=" + huge}, "huge.yaml: larger than 4 MiB"},
		{"secure.yaml is /dev/urandom", []string{"OS_CLIENT_SECURE_FILE=/dev/urandom"}, "/dev/urandom: not a regular file or a pipe"},
		{"cacert is /dev/zero", append(auth, "OS_CACERT=/dev/zero"), "cacert: /dev/zero: not a regular file or a pipe"},
		{"cacert too large", append(auth, "OS_CACERT="+huge), "cacert: " + huge + ": larger than 4 MiB"},
		{"cert is /dev/zero", append(auth, "OS_CERT=/dev/zero", "OS_KEY=/dev/zero"), "cert: /dev/zero: not a regular file or a pipe"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantConfigError(t, nil, ConfigOptions{}, tc.want, tc.env...)
		})
	}
}

// TestConfigFileFromPipe: a pipe, as a shell's <(...) passes one, is read.
func TestConfigFileFromPipe(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc/self/fd")
	}
	registerSecret("secret-pw")
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	go func() {
		fmt.Fprint(w, "clouds:\n  p:\n    auth: {auth_url: 'https://k.test/v3', user_id: u, password: secret-pw}\n")
		w.Close()
	}()
	c, err := loadIn(t, nil, ConfigOptions{Cloud: "p"}, fmt.Sprintf("OS_CLIENT_CONFIG_FILE=/proc/self/fd/%d", r.Fd()))
	require.NoError(t, err)
	assert.Equal(t, "https://k.test/v3", c.AuthURL())
}
