//go:build integration

package ksauth

// LoadConfig → NewSession → Client() against the real Keystone: from the
// clouds.yaml scripts/keystone/up.sh writes, and from Xloud's OpenRC
// variables.

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// projectsThroughConfig authenticates from env and lists the token's
// projects through the session's client.
func projectsThroughConfig(t *testing.T, opts *ConfigOptions) (*Token, []string) {
	t.Helper()
	opts.Logger = testLogger()
	c, err := LoadConfig(opts)
	require.NoError(t, err)
	s := c.NewSession(&SessionOptions{Logger: testLogger()})
	ctx := context.Background()
	tok, err := s.Token(ctx)
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ksMain.AuthURL+"/auth/projects", nil)
	require.NoError(t, err)
	resp, err := s.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var page struct {
		Projects []struct{ Name string } `json:"projects"`
	}
	require.NoError(t, json.Unmarshal(body, &page))
	var names []string
	for _, p := range page.Projects {
		names = append(names, p.Name)
	}
	return tok, names
}

func TestIntegrationConfigCloudsYAML(t *testing.T) {
	ks := ksMain
	env := []string{"OS_CLIENT_CONFIG_FILE=" + filepath.Join(ks.StateDir, "clouds.yaml"), "HOME=" + t.TempDir(), "XDG_CONFIG_HOME=" + t.TempDir()}
	tests := []struct {
		cloud   string
		project string // the token's project; "": none
		system  bool
	}{
		{"alice", "demo", false},
		{"bob", "ops", false},
		{"alice-appcred", "demo", false},
		{"admin-system", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.cloud, func(t *testing.T) {
			tok, projects := projectsThroughConfig(t, &ConfigOptions{Cloud: tc.cloud, Env: env, Dir: t.TempDir()})
			assert.Equal(t, tc.system, tok.System)
			if tc.project == "" {
				assert.Nil(t, tok.Project)
				return
			}
			require.NotNil(t, tok.Project)
			assert.Equal(t, tc.project, tok.Project.Name)
			assert.Contains(t, projects, tc.project)
		})
	}
}

func TestIntegrationConfigOpenRC(t *testing.T) {
	ks := ksMain
	env := []string{ // the variables of the OpenRC file Horizon writes
		"OS_AUTH_URL=" + ks.AuthURL,
		"OS_PROJECT_ID=" + ks.Projects.Demo.ID,
		"OS_PROJECT_NAME=demo",
		"OS_USER_DOMAIN_NAME=Default",
		"OS_PROJECT_DOMAIN_ID=default",
		"OS_USERNAME=alice",
		"OS_PASSWORD=" + ks.Users.Alice.Password,
		"OS_REGION_NAME=RegionOne",
		"OS_INTERFACE=public",
		"OS_IDENTITY_API_VERSION=3",
		"HOME=" + t.TempDir(),
		"XDG_CONFIG_HOME=" + t.TempDir(),
	}
	tok, projects := projectsThroughConfig(t, &ConfigOptions{Env: env, Dir: t.TempDir()})
	require.NotNil(t, tok.Project)
	assert.Equal(t, ks.Projects.Demo.ID, tok.Project.ID)
	assert.Contains(t, projects, "demo")
}
