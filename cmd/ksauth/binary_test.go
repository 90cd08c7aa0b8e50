package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/ksauth/ksauth/keystonetest"

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
	bin := buildBinary(t)
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

// buildBinary builds the command into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ksauth")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, string(out))
	return bin
}

// TestBinaryPasswordPromptOnATerminal: on a real pseudo-terminal (script
// from util-linux), login asks for the missing password with the echo off
// (the password typed is not shown) and turns the echo back on.
func TestBinaryPasswordPromptOnATerminal(t *testing.T) {
	script, err := exec.LookPath("script")
	if testing.Short() || err != nil || runtime.GOOS != "linux" {
		t.Skip("needs script(1) from util-linux")
	}
	f := newFixture(t)
	bin := buildBinary(t)
	cmd := exec.Command(script, "-qec", "'"+bin+"' login --os-cloud nopw; stty -a", "/dev/null")
	cmd.Env = append(f.env, "PATH="+os.Getenv("PATH"), "TERM=dumb")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	var seen bytes.Buffer
	prompted := false
	buf := make([]byte, 4096)
	for { // everything the terminal shows, typing the password once asked
		n, err := stdout.Read(buf)
		seen.Write(buf[:n])
		if !prompted && strings.Contains(seen.String(), `Password (cloud "nopw"): `) {
			prompted = true
			_, werr := io.WriteString(stdin, keystonetest.DemoPassword+"\n")
			require.NoError(t, werr)
		}
		if err != nil {
			break
		}
	}
	require.NoError(t, cmd.Wait(), seen.String())
	out := seen.String()
	assert.True(t, prompted, out)
	assert.Contains(t, out, "logged in as demo")
	assert.NotContains(t, out, keystonetest.DemoPassword, "the password was echoed")
	assert.Regexp(t, `(^|\s)echo(\s|;|$)`, out, "the echo is back on")
}
