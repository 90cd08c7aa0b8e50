package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

func execInfoFor(version string, interactive bool) string {
	b, _ := json.Marshal(map[string]any{"apiVersion": version, "kind": "ExecCredential",
		"spec": map[string]any{"interactive": interactive}})
	return "KUBERNETES_EXEC_INFO=" + string(b)
}

func TestExecCredential(t *testing.T) {
	for _, version := range []string{execV1, execV1beta1} {
		t.Run(version, func(t *testing.T) {
			f := newFixture(t)
			f.env = append(f.env, execInfoFor(version, false))
			r := f.mustRun("", "exec-credential")
			var got map[string]any
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &got))
			assert.ElementsMatch(t, []string{"apiVersion", "kind", "status"}, keys(got))
			assert.Equal(t, version, got["apiVersion"])
			assert.Equal(t, "ExecCredential", got["kind"])
			status := got["status"].(map[string]any)
			assert.ElementsMatch(t, []string{"token", "expirationTimestamp"}, keys(status))
			id := strings.TrimSpace(f.mustRun("", "token").stdout)
			assert.Equal(t, id, status["token"])
			exp, err := time.Parse(time.RFC3339, status["expirationTimestamp"].(string))
			require.NoError(t, err)
			// A 1-hour token: kubectl asks again 3 minutes before its expiry.
			assert.WithinDuration(t, time.Now().Add(57*time.Minute), exp, 5*time.Second)
			// Cached: a second call sends nothing.
			f.mustRun("", "exec-credential")
			assert.Equal(t, 1, f.srv.Requests(tokenPOST))
		})
	}
}

func TestExecCredentialBadInfo(t *testing.T) {
	for _, info := range []string{"", "KUBERNETES_EXEC_INFO=", "KUBERNETES_EXEC_INFO={not json",
		`KUBERNETES_EXEC_INFO={"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1alpha1"}`,
		`KUBERNETES_EXEC_INFO={"kind":"Pod","apiVersion":"client.authentication.k8s.io/v1"}`} {
		f := newFixture(t)
		if info != "" {
			f.env = append(f.env, info)
		}
		r := f.run("", "exec-credential")
		oneLineError(t, r, exitError, "KUBERNETES_EXEC_INFO")
		assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "%s: %q", info, r.stderr)
		assert.Empty(t, r.stdout)
		assert.Zero(t, f.srv.Requests(tokenPOST))
	}
}

func TestExecCredentialRejectedIsNotEmpty(t *testing.T) {
	f := newFixture(t)
	f.env = append(f.env, execInfoFor(execV1, false))
	r := f.run("wrong\n", "exec-credential", "--os-cloud", "nopw", "--password-stdin")
	oneLineError(t, r, exitRejected, "401")
	assert.Empty(t, r.stdout)
}

func TestExecCredentialPromptsOnlyIfInteractive(t *testing.T) {
	f, _ := mfaFixture(t)
	f.terminal = true
	f.env = append(f.env, execInfoFor(execV1, false))
	r := f.run("mfa-password\n123456\n", "exec-credential", "--password-stdin")
	assert.Equal(t, exitNoInput, r.code, r.stderr)
	assert.NotContains(t, r.stderr, "TOTP passcode:")
}

func TestKubeconfig(t *testing.T) {
	f := newFixture(t)
	r := f.mustRun("", "kubeconfig", "--cluster", "prod", "--server", "https://k8s.example.com:6443", "--os-cloud", "demo")
	var kc struct {
		Users []struct {
			Name string
			User struct {
				Exec struct {
					APIVersion      string   `yaml:"apiVersion"`
					Command         string   `yaml:"command"`
					Args            []string `yaml:"args"`
					InteractiveMode string   `yaml:"interactiveMode"`
				} `yaml:"exec"`
			} `yaml:"user"`
		} `yaml:"users"`
		Clusters []struct {
			Name    string
			Cluster struct{ Server string }
		}
		CurrentContext string `yaml:"current-context"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(r.stdout), &kc))
	require.Len(t, kc.Users, 1)
	exec := kc.Users[0].User.Exec
	assert.Equal(t, execV1, exec.APIVersion)
	assert.Equal(t, "ksauth", exec.Command)
	assert.Equal(t, []string{"exec-credential", "--os-cloud", "demo"}, exec.Args)
	assert.Equal(t, "IfAvailable", exec.InteractiveMode)
	assert.Equal(t, "https://k8s.example.com:6443", kc.Clusters[0].Cluster.Server)
	assert.Equal(t, "prod", kc.CurrentContext)
	assert.Contains(t, r.stdout, "\nusers:\n")
	assert.Zero(t, f.srv.Requests(tokenPOST), "nothing sent")

	oneLineError(t, f.run("", "kubeconfig", "--cluster", "prod"), exitUsage, "--cluster and --server")
	oneLineError(t, f.run("", "kubeconfig", "--cluster", "p", "--server", "k8s:6443"), exitUsage, "not an http(s) URL")
}
