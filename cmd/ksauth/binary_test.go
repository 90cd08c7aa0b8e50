package main

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBinary builds the command and runs it as a process: main's exit
// codes and streams are run's.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	f := newFixture(t)
	bin := filepath.Join(t.TempDir(), "ksauth")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, string(out))
	runBin := func(args ...string) (int, string, string) {
		cmd := exec.Command(bin, args...)
		cmd.Env = f.env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode(), stdout.String(), stderr.String()
		}
		require.NoError(t, err)
		return 0, stdout.String(), stderr.String()
	}
	code, stdout, stderr := runBin()
	assert.Equal(t, exitUsage, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, "Usage: ksauth")
	code, stdout, _ = runBin("token")
	assert.Equal(t, 0, code)
	assert.True(t, strings.HasPrefix(stdout, tokenPrefix))
	code, again, _ := runBin("token")
	assert.Equal(t, 0, code)
	assert.Equal(t, stdout, again)
	assert.Equal(t, 1, f.srv.Requests(tokenPOST), "the second process used the cache")
	code, _, stderr = runBin("endpoint", "dns")
	assert.Equal(t, exitNotFound, code, stderr)
}
