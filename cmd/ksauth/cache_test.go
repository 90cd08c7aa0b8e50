package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksauth/ksauth/keystonetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCacheStatusAndPurge(t *testing.T) {
	f := newFixture(t)
	r := f.mustRun("", "cache", "status")
	assert.Contains(t, r.stdout, "(0 entries)")
	f.mustRun("", "token")
	f.mustRun(keystonetest.DemoPassword+"\n", "token", "--os-cloud", "nopw", "--password-stdin", "--refresh")
	r = f.mustRun("", "cache", "status")
	assert.Contains(t, r.stdout, "(1 entries)", "the same identity: one entry")
	assert.Regexp(t, `(?m)^[a-z0-9-]{16} +\d+ +\d+s +\S+ \(in 5\dm\d+s\) +valid$`, r.stdout)

	r = f.mustRun("", "cache", "status", "-o", "json")
	var st struct {
		Version int
		Dir     string
		Entries []jsonCacheEntry
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &st))
	assert.Equal(t, filepath.Join(f.dir, "cache", "ksauth"), st.Dir)
	require.Len(t, st.Entries, 1)
	assert.Equal(t, "valid", st.Entries[0].State)
	assert.NotNil(t, st.Entries[0].Expires)

	r = f.mustRun("", "cache", "purge")
	assert.Contains(t, r.stderr, "removed 1 cached tokens")
	assert.Contains(t, f.mustRun("", "cache", "status").stdout, "(0 entries)")
	_, err := os.Stat(filepath.Join(st.Dir, "secret.key"))
	assert.NoError(t, err, "the secret stays")
	f.mustRun("", "cache", "purge", "--secret-key")
	_, err = os.Stat(filepath.Join(st.Dir, "secret.key"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	f.mustRun("", "token")
	assert.Equal(t, 3, f.srv.Requests(tokenPOST), "purged: a new login (after the first and the --refresh)")
}

func TestCacheRefusedDirIsAnError(t *testing.T) {
	f := newFixture(t)
	dir := filepath.Join(f.dir, "cache", "ksauth")
	require.NoError(t, os.MkdirAll(dir, 0o700))
	require.NoError(t, os.Chmod(dir, 0o777))
	oneLineError(t, f.run("", "cache", "status"), exitError, dir)
}

func TestVersion(t *testing.T) {
	f := newFixture(t)
	assert.Regexp(t, `^ksauth \S+ go\S+ \S+/\S+\n$`, f.mustRun("", "version").stdout)
}

func TestCompletionBash(t *testing.T) {
	f := newFixture(t)
	script := f.mustRun("", "completion", "bash").stdout
	complete := func(words ...string) []string {
		t.Helper()
		line := strings.Join(words, " ")
		cmd := exec.Command("bash", "-c", script+`
COMP_WORDS=(`+line+`); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); _ksauth; printf '%s\n' "${COMPREPLY[@]}"`)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		return strings.Fields(string(out))
	}
	assert.Contains(t, complete("ksauth", "to"), "token")
	assert.ElementsMatch(t, []string{"inspect"}, complete("ksauth", "token", "in"))
	assert.Contains(t, complete("ksauth", "token", "inspect", "--o"), "--online")
	assert.Contains(t, complete("ksauth", "--os-cloud", "demo", "endpoint", "--i"), "--interface")
	assert.ElementsMatch(t, []string{"fish"}, complete("ksauth", "env", "--shell", "f"))
	assert.ElementsMatch(t, []string{"create"}, complete("ksauth", "appcred", "cr"))
	zsh := f.mustRun("", "completion", "zsh").stdout
	assert.Contains(t, zsh, "bashcompinit")
	oneLineError(t, f.run("", "completion", "fish"), exitUsage, "bash or zsh")
}

// TestHelpMentionsEveryCommand: help and help COMMAND for each.
func TestHelpEveryCommand(t *testing.T) {
	f := newFixture(t)
	for _, c := range commands() {
		r := f.mustRun("", "help", c.name)
		assert.Contains(t, r.stdout, "Usage: ksauth "+c.usage)
		for _, s := range c.subs {
			r := f.mustRun("", "help", c.name, s.name)
			assert.Contains(t, r.stdout, "Usage: ksauth "+s.usage)
		}
	}
}
