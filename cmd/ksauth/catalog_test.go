package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ksauth/ksauth"
	"github.com/ksauth/ksauth/keystonetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEndpointFound(t *testing.T) {
	f := newFixture(t)
	r := f.mustRun("", "endpoint", "compute")
	assert.Equal(t, f.srv.URL+"/compute/v2.1\n", r.stdout)
	assert.Empty(t, r.stderr)
	// Flags after the argument and before it.
	assert.Equal(t, r.stdout, f.mustRun("", "endpoint", "compute", "--interface", "internal").stdout)
	assert.Equal(t, r.stdout, f.mustRun("", "--os-cloud", "demo", "endpoint", "--interface=admin", "compute").stdout)
	// Aliases as the library resolves them.
	assert.Equal(t, f.srv.URL+"/v3\n", f.mustRun("", "endpoint", "identity").stdout)
	assert.Equal(t, 1, f.srv.Requests(tokenPOST), "the cached token's catalog")
}

func TestEndpointNotFound(t *testing.T) {
	f := newFixture(t)
	r := f.run("", "endpoint", "dns")
	oneLineError(t, r, exitNotFound, `no endpoint for service type "dns"`)
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	require.Len(t, lines, 2)
	assert.Equal(t, "  service types in the catalog: compute identity object-store", lines[1])
	assert.Empty(t, r.stdout)

	r = f.run("", "endpoint", "compute", "--os-region-name", "RegionTwo")
	oneLineError(t, r, exitNotFound, `in region "RegionTwo"`)
	assert.Contains(t, r.stderr, "\n  available: public RegionOne "+f.srv.URL+"/compute/v2.1\n")
	assert.Contains(t, r.stderr, "\n  available: internal RegionOne ")

	oneLineError(t, f.run("", "endpoint"), exitUsage, "wrong number of arguments")
	oneLineError(t, f.run("", "endpoint", "a", "b"), exitUsage, "wrong number of arguments")
}

func TestCatalogTable(t *testing.T) {
	f := newFixture(t)
	r := f.mustRun("", "catalog")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, lines, 10, r.stdout)
	assert.Regexp(t, `^TYPE +NAME +INTERFACE +REGION +URL$`, lines[0])
	assert.Regexp(t, `^compute +nova +public +RegionOne +`+f.srv.URL+`/compute/v2.1$`, lines[4])
}

func TestCatalogJSON(t *testing.T) {
	f := newFixture(t)
	r := f.mustRun("", "catalog", "-o", "json")
	var raw []map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &raw))
	require.Len(t, raw, 3)
	for _, svc := range raw {
		assert.ElementsMatch(t, []string{"id", "type", "name", "endpoints"}, keys(svc))
		for _, ep := range svc["endpoints"].([]any) {
			assert.ElementsMatch(t, []string{"id", "interface", "region", "region_id", "url"}, keys(ep.(map[string]any)))
		}
	}
	var cat ksauth.Catalog
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &cat))
	url, err := cat.Endpoint(ksauth.EndpointOpts{Type: "compute"})
	require.NoError(t, err)
	assert.Equal(t, f.srv.URL+"/compute/v2.1", url)
	assert.Equal(t, keystonetest.DefaultRegion, cat[0].Endpoints[0].RegionID)
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
