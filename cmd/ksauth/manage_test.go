package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksauth/ksauth/keystonetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppCredRoundTrip(t *testing.T) {
	f := newFixture(t)
	r := f.mustRun("", "appcred", "create", "ci", "--description", "for CI")
	assert.Contains(t, r.stderr, "shown only this once")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, lines, 3)
	id := strings.TrimSpace(strings.TrimPrefix(lines[0], "id:"))
	secret := strings.TrimSpace(strings.TrimPrefix(lines[2], "secret:"))
	require.NotEmpty(t, secret)

	list := f.mustRun("", "appcred", "list")
	assert.Contains(t, list.stdout, id)
	assert.Contains(t, list.stdout, keystonetest.DemoAppCredName)
	assert.NotContains(t, list.stdout, secret)

	for _, ref := range []string{id, "ci"} {
		show := f.mustRun("", "appcred", "show", ref, "-o", "json")
		var j jsonAppCred
		require.NoError(t, json.Unmarshal([]byte(show.stdout), &j))
		assert.Equal(t, id, j.ID)
		assert.Equal(t, "for CI", j.Description)
		assert.Empty(t, j.Secret)
		assert.NotContains(t, show.stdout, secret)
	}
	f.mustRun("", "appcred", "delete", "ci")
	oneLineError(t, f.run("", "appcred", "show", "ci"), exitNotFound, `no application credential "ci"`)
	oneLineError(t, f.run("", "appcred", "delete", id), exitNotFound, "")
	oneLineError(t, f.run("", "appcred"), exitUsage, "a subcommand is needed")
	oneLineError(t, f.run("", "appcred", "frob"), exitUsage, `unknown subcommand "frob"`)
}

func TestAppCredCloudsYAML(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(f.dir, "ac.yaml")
	r := f.mustRun("", "appcred", "create", "ci", "--clouds-yaml", path)
	assert.Empty(t, r.stdout, "the secret went to the file only")
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	doc, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(doc), "application_credential_secret")

	// The entry logs in.
	g := *f
	g.env = append(append([]string{}, f.env...), "OS_CLIENT_CONFIG_FILE="+path, "OS_CLOUD=ci")
	tok := g.mustRun("", "token", "-o", "json")
	var j jsonToken
	require.NoError(t, json.Unmarshal([]byte(tok.stdout), &j))
	assert.Equal(t, []string{"application_credential"}, j.Methods)

	// Never over an existing file.
	oneLineError(t, f.run("", "appcred", "create", "ci2", "--clouds-yaml", path), exitError, "file exists")
}

func TestAppCredSecretStdin(t *testing.T) {
	f := newFixture(t)
	r := f.mustRun("my-chosen-secret\n", "appcred", "create", "chosen", "--secret-stdin", "-o", "json")
	var j jsonAppCred
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &j))
	assert.Equal(t, "my-chosen-secret", j.Secret)
	oneLineError(t, f.run("", "appcred", "create", "x", "--secret", "s"), exitUsage, "is refused")
}

func TestEC2RoundTrip(t *testing.T) {
	f := newFixture(t)
	r := f.mustRun("", "ec2", "create", "-o", "json")
	var c map[string]string
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &c))
	assert.Equal(t, keystonetest.DemoProjectID, c["project_id"])
	require.NotEmpty(t, c["secret"])
	list := f.mustRun("", "ec2", "list")
	assert.Contains(t, list.stdout, c["access"])
	assert.NotContains(t, list.stdout, c["secret"])
	f.mustRun("", "ec2", "delete", c["access"])
	assert.NotContains(t, f.mustRun("", "ec2", "list").stdout, c["access"])
	oneLineError(t, f.run("", "ec2", "delete", c["access"]), exitNotFound, "")
	oneLineError(t, f.run("", "ec2", "create", "--project", "nonesuch"), exitNotFound, "no project")
}
