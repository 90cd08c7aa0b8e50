package ksauth

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// captureCatalog returns the catalog of a recorded token response.
func captureCatalog(t testing.TB, name string) Catalog {
	t.Helper()
	var w wireTokenResponse
	require.NoError(t, json.Unmarshal(loadCapture(t, name).Response.Body, &w))
	require.NotNil(t, w.Token)
	return w.Token.Catalog
}

func eps(region, regionID string, urls map[string]string) []Endpoint {
	var out []Endpoint
	for _, iface := range []string{"public", "internal", "admin"} {
		if u, ok := urls[iface]; ok {
			out = append(out, Endpoint{ID: iface + "-" + regionID, Interface: iface, Region: region, RegionID: regionID, URL: u})
		}
	}
	return out
}

func TestCatalogEndpointRecorded(t *testing.T) {
	cat := captureCatalog(t, "auth_password_project_id")
	const demo = "172d9bc5ed114531a3e52e6787ef3db0"
	tests := []struct {
		opts EndpointOpts
		want string
	}{
		{EndpointOpts{Type: "compute"}, "http://public.regionone.example.test:8774/v2.1"},
		{EndpointOpts{Type: "compute", Region: "RegionTwo"}, "http://public.regiontwo.example.test:8774/v2.1"},
		{EndpointOpts{Type: "compute", Region: "RegionTwo", Interfaces: []string{"internal"}}, "http://internal.regiontwo.example.test:8774/v2.1"},
		{EndpointOpts{Type: "compute", Interfaces: []string{"internalURL"}}, "http://internal.regionone.example.test:8774/v2.1"},
		{EndpointOpts{Type: "compute", Interfaces: []string{"publicURL"}}, "http://public.regionone.example.test:8774/v2.1"},
		{EndpointOpts{Type: "compute", Interfaces: []string{"adminURL", "public"}}, "http://admin.regionone.example.test:8774/v2.1"},
		{EndpointOpts{Type: "compute", Interfaces: []string{"Internal"}}, "http://internal.regionone.example.test:8774/v2.1"},
		{EndpointOpts{Type: "compute", Interfaces: []string{"nonsense", "admin"}}, "http://admin.regionone.example.test:8774/v2.1"},
		{EndpointOpts{Type: "compute", Name: "nova"}, "http://public.regionone.example.test:8774/v2.1"},
		{EndpointOpts{Type: "identity"}, mockBase + "/v3"},
		{EndpointOpts{Type: "block-storage", Region: "RegionTwo"}, "http://public.regiontwo.example.test:8776/v3/" + demo},
		{EndpointOpts{Type: "volumev3", Name: "cinderv3"}, "http://public.regionone.example.test:8776/v3/" + demo},
		{EndpointOpts{Type: "block-storage", Name: "cinderv3"}, "http://public.regionone.example.test:8776/v3/" + demo},
		{EndpointOpts{Type: "volume", Name: "cinder"}, "http://public.regionone.example.test:8776/v3/" + demo},
		{EndpointOpts{Type: "object-store", Interfaces: []string{"internal"}}, "http://internal.regionone.example.test:8080/v1/AUTH_" + demo},
		{EndpointOpts{Type: "network", Region: "RegionTwo"}, "http://public.regiontwo.example.test:9696/"},
		{EndpointOpts{Type: "image", Region: "RegionOne", Interfaces: []string{"admin"}}, "http://admin.regionone.example.test:9292"},
	}
	for _, tc := range tests {
		got, err := cat.Endpoint(tc.opts)
		if assert.NoError(t, err, "%+v", tc.opts) {
			assert.Equal(t, tc.want, got, "%+v", tc.opts)
		}
	}
}

// TestCatalogServiceTypeAliases: each alias finds the service, and a service
// of exactly the requested type wins over an alias.
func TestCatalogServiceTypeAliases(t *testing.T) {
	all := Catalog{
		{Type: "volumev2", Name: "cinderv2", Endpoints: eps("R", "R", map[string]string{"public": "https://v2"})},
		{Type: "block-storage", Name: "cinder", Endpoints: eps("R", "R", map[string]string{"public": "https://bs"})},
		{Type: "volumev3", Name: "cinderv3", Endpoints: eps("R", "R", map[string]string{"public": "https://v3"})},
		{Type: "sharev2", Name: "manilav2", Endpoints: eps("R", "R", map[string]string{"public": "https://share"})},
		{Type: "metering", Name: "ceilometer", Endpoints: eps("R", "R", map[string]string{"public": "https://meter"})},
	}
	onlyV3 := Catalog{{Type: "volumev3", Endpoints: eps("R", "R", map[string]string{"public": "https://v3"})}}
	onlyOld := Catalog{{Type: "block-store", Endpoints: eps("R", "R", map[string]string{"public": "https://old"})}}
	tests := []struct {
		cat  Catalog
		typ  string
		want string
	}{
		{all, "block-storage", "https://bs"},
		{all, "volumev3", "https://v3"},
		{all, "volumev2", "https://v2"},
		{all, "volume", "https://bs"}, // no exact match: the official type first
		{all, "block-store", "https://bs"},
		{all, "shared-file-system", "https://share"},
		{all, "meter", "https://meter"},
		{onlyV3, "block-storage", "https://v3"},
		{onlyOld, "block-storage", "https://old"},
	}
	for _, tc := range tests {
		got, err := tc.cat.Endpoint(EndpointOpts{Type: tc.typ})
		if assert.NoError(t, err, tc.typ) {
			assert.Equal(t, tc.want, got, tc.typ)
		}
	}
	// Unrelated types are not aliases of each other.
	_, err := all.Endpoint(EndpointOpts{Type: "compute"})
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = onlyV3.Endpoint(EndpointOpts{Type: "object-store"})
	assert.ErrorIs(t, err, ErrNotFound)
	// Nor are two aliases of one official type (see TestCatalogVersionedAliases).
	for _, typ := range []string{"volume", "volumev2"} {
		_, err = onlyV3.Endpoint(EndpointOpts{Type: typ})
		assert.ErrorIs(t, err, ErrNotFound, typ)
	}
	for _, typ := range []string{"share", "telemetry"} { // sharev2, metering
		_, err = all.Endpoint(EndpointOpts{Type: typ})
		assert.ErrorIs(t, err, ErrNotFound, typ)
	}
	_, err = onlyOld.Endpoint(EndpointOpts{Type: "volumev3"})
	assert.ErrorIs(t, err, ErrNotFound)
}

// TestCatalogVersionedAliases: an alias names one API version, so asking
// for it never returns another alias's service (keystoneauth1 and
// os-service-types: an alias matches itself and its official type only),
// while the official type matches all of its aliases, in the table's order.
func TestCatalogVersionedAliases(t *testing.T) {
	svc := func(typ, url string) Service {
		return Service{Type: typ, Endpoints: eps("R", "R", map[string]string{"public": url})}
	}
	v1 := Catalog{svc("volume", "https://v1")}
	v2v3 := Catalog{svc("volumev2", "https://v2"), svc("volumev3", "https://v3")}
	shares := Catalog{svc("share", "https://share-v1"), svc("sharev2", "https://share-v2")}
	found := []struct {
		cat       Catalog
		typ, want string
	}{
		{v1, "volume", "https://v1"},
		{v1, "block-storage", "https://v1"},
		{v2v3, "block-storage", "https://v3"},
		{v2v3, "volumev2", "https://v2"},
		{v2v3, "volumev3", "https://v3"},
		{shares, "shared-file-system", "https://share-v2"},
		{shares, "share", "https://share-v1"},
	}
	for _, tc := range found {
		got, err := tc.cat.Endpoint(EndpointOpts{Type: tc.typ})
		if assert.NoError(t, err, tc.typ) {
			assert.Equal(t, tc.want, got, tc.typ)
		}
	}
	for _, tc := range []struct {
		cat Catalog
		typ string
	}{{v1, "volumev3"}, {v1, "volumev2"}, {v1, "block-store"}, {v2v3, "volume"}, {shares[:1], "sharev2"}} {
		_, err := tc.cat.Endpoint(EndpointOpts{Type: tc.typ})
		var nf *EndpointNotFoundError
		if assert.ErrorAs(t, err, &nf, tc.typ) {
			assert.Empty(t, nf.Available, "%s: another version's endpoints are not listed either", tc.typ)
		}
	}
}

// TestCatalogInterfacePreference: the first interface that exists in the
// region wins, in the caller's order; an alias service with the preferred
// interface does not beat the exact type with another.
func TestCatalogInterfacePreference(t *testing.T) {
	cat := Catalog{
		{Type: "compute", Endpoints: append(
			eps("One", "One", map[string]string{"public": "https://pub-1"}),
			eps("Two", "Two", map[string]string{"internal": "https://int-2", "public": "https://pub-2"})...)},
	}
	tests := []struct {
		opts EndpointOpts
		want string
	}{
		{EndpointOpts{Type: "compute", Interfaces: []string{"internal", "public"}}, "https://int-2"},
		{EndpointOpts{Type: "compute", Interfaces: []string{"internal", "public"}, Region: "One"}, "https://pub-1"},
		{EndpointOpts{Type: "compute", Interfaces: []string{"public", "internal"}, Region: "Two"}, "https://pub-2"},
		{EndpointOpts{Type: "compute", Region: "Two"}, "https://pub-2"},
	}
	for _, tc := range tests {
		got, err := cat.Endpoint(tc.opts)
		if assert.NoError(t, err, "%+v", tc.opts) {
			assert.Equal(t, tc.want, got, "%+v", tc.opts)
		}
	}
	_, err := cat.Endpoint(EndpointOpts{Type: "compute", Interfaces: []string{"internal"}, Region: "One"})
	assert.ErrorIs(t, err, ErrNotFound)
}

// TestCatalogRegionIDAndName: region matches the endpoint's region_id, or
// its region when it has no region_id, exactly, as keystoneauth1 does
// (Keystone sends both, equal; region is the deprecated spelling).
func TestCatalogRegionIDAndName(t *testing.T) {
	cat := Catalog{{Type: "compute", Endpoints: []Endpoint{
		{Interface: "public", RegionID: "r-1", Region: "Legacy", URL: "https://legacy"},
		{Interface: "public", RegionID: "RegionX", URL: "https://x"},
		{Interface: "public", Region: "OnlyName", URL: "https://name"},
	}}}
	for region, want := range map[string]string{"r-1": "https://legacy", "RegionX": "https://x", "OnlyName": "https://name"} {
		got, err := cat.Endpoint(EndpointOpts{Type: "compute", Region: region})
		if assert.NoError(t, err, region) {
			assert.Equal(t, want, got, region)
		}
	}
	for _, region := range []string{"Legacy", "legacy", "R-1", "regionx", "onlyname", " RegionX", "Region"} {
		_, err := cat.Endpoint(EndpointOpts{Type: "compute", Region: region})
		assert.ErrorIs(t, err, ErrNotFound, region)
	}
	_, err := cat.Endpoint(EndpointOpts{Type: "compute", Region: "legacy"})
	var nf *EndpointNotFoundError
	require.ErrorAs(t, err, &nf)
	assert.Empty(t, nf.Hint, "Legacy would not match either")
	assert.Contains(t, err.Error(), "regions [r-1 RegionX OnlyName]", "listed as they match")
}

// TestCatalogNamelessService: a service without a name (catalogs before
// Keystone v3.3) matches any Name, as in keystoneauth1, in catalog order.
func TestCatalogNamelessService(t *testing.T) {
	cat := Catalog{
		{Type: "compute", Endpoints: eps("R", "R", map[string]string{"public": "https://anon"})},
		{Type: "compute", Name: "nova", Endpoints: eps("R", "R", map[string]string{"public": "https://nova", "internal": "https://nova-int"})},
	}
	for _, tc := range []struct {
		opts EndpointOpts
		want string
	}{
		{EndpointOpts{Type: "compute", Name: "nova"}, "https://anon"},
		{EndpointOpts{Type: "compute", Name: "anything"}, "https://anon"},
		{EndpointOpts{Type: "compute", Name: "nova", Interfaces: []string{"internal", "public"}}, "https://nova-int"},
	} {
		got, err := cat.Endpoint(tc.opts)
		if assert.NoError(t, err, "%+v", tc.opts) {
			assert.Equal(t, tc.want, got, "%+v", tc.opts)
		}
	}
	_, err := cat.Endpoint(EndpointOpts{Type: "compute", Name: "anything", Interfaces: []string{"internal"}})
	assert.ErrorIs(t, err, ErrNotFound)
}

// TestCatalogEmptyURL: an endpoint without a URL is skipped, as in
// keystoneauth1, instead of returning "" without an error.
func TestCatalogEmptyURL(t *testing.T) {
	cat := Catalog{{Type: "compute", Endpoints: []Endpoint{
		{Interface: "public", RegionID: "R", URL: ""},
		{Interface: "internal", RegionID: "R", URL: "https://int"},
		{Interface: "public", RegionID: "R", URL: "https://pub"},
	}}}
	got, err := cat.Endpoint(EndpointOpts{Type: "compute", Interfaces: []string{"public", "internal"}})
	require.NoError(t, err)
	assert.Equal(t, "https://pub", got)
	cat[0].Endpoints = cat[0].Endpoints[:2]
	got, err = cat.Endpoint(EndpointOpts{Type: "compute", Interfaces: []string{"public", "internal"}})
	require.NoError(t, err)
	assert.Equal(t, "https://int", got)
	cat[0].Endpoints = cat[0].Endpoints[:1]
	_, err = cat.Endpoint(EndpointOpts{Type: "compute"})
	assert.ErrorIs(t, err, ErrNotFound)
}

func TestCatalogNotFoundError(t *testing.T) {
	cat := captureCatalog(t, "auth_password_project_id")

	_, err := cat.Endpoint(EndpointOpts{Type: "compute", Region: "RegionThree", Interfaces: []string{"internalURL"}})
	var nf *EndpointNotFoundError
	require.ErrorAs(t, err, &nf)
	assert.ErrorIs(t, err, ErrNotFound)
	assert.Len(t, nf.Available, 6)
	assert.Empty(t, nf.Hint)
	assert.Equal(t, `ksauth: no endpoint for service type "compute" in region "RegionThree" with interface internal; `+
		`the service has regions [RegionOne RegionTwo] and interfaces [public internal admin]`, err.Error())

	// A region that differs only in case gets a hint.
	_, err = cat.Endpoint(EndpointOpts{Type: "compute", Region: "regionone"})
	require.ErrorAs(t, err, &nf)
	assert.Contains(t, nf.Hint, `"regionone" differs only in case from "RegionOne"`)
	assert.Contains(t, err.Error(), "case-sensitive")

	// Aliases count: the error lists what the volumev3 and block-storage services have.
	_, err = cat.Endpoint(EndpointOpts{Type: "block-storage", Region: "Nowhere"})
	require.ErrorAs(t, err, &nf)
	assert.Len(t, nf.Available, 12)
	// An alias matches its official type, not the other aliases: block-storage only.
	_, err = cat.Endpoint(EndpointOpts{Type: "volume", Region: "Nowhere"})
	require.ErrorAs(t, err, &nf)
	assert.Len(t, nf.Available, 6)

	// A type the catalog does not have at all.
	_, err = cat.Endpoint(EndpointOpts{Type: "dns"})
	require.ErrorAs(t, err, &nf)
	assert.Empty(t, nf.Available)
	assert.Contains(t, err.Error(), `no endpoint for service type "dns"`)
	assert.Contains(t, err.Error(), "the catalog has no such service")

	// Name filter.
	_, err = cat.Endpoint(EndpointOpts{Type: "compute", Name: "nova-legacy"})
	require.ErrorAs(t, err, &nf)
	assert.Contains(t, err.Error(), `name "nova-legacy"`)
}

// TestCatalogNotFoundListsRegionIDs: an endpoint with only region_id is
// listed by it, not as an empty name.
func TestCatalogNotFoundListsRegionIDs(t *testing.T) {
	cat := Catalog{{Type: "compute", Endpoints: []Endpoint{
		{Interface: "public", RegionID: "RegionOne", URL: "https://one"},
		{Interface: "internal", RegionID: "RegionTwo", URL: "https://two"},
	}}}
	_, err := cat.Endpoint(EndpointOpts{Type: "compute", Region: "RegionThree"})
	require.ErrorIs(t, err, ErrNotFound)
	assert.Contains(t, err.Error(), "regions [RegionOne RegionTwo]")
}

// TestCatalogServiceWithoutEndpoints: domain- and system-scoped catalogs
// list services with "endpoints": [] (auth_password_domain_scoped).
func TestCatalogServiceWithoutEndpoints(t *testing.T) {
	cat := captureCatalog(t, "auth_password_domain_scoped")
	_, err := cat.Endpoint(EndpointOpts{Type: "block-storage"})
	var nf *EndpointNotFoundError
	require.ErrorAs(t, err, &nf)
	assert.Empty(t, nf.Available)
	assert.NotContains(t, err.Error(), "no such service", "the service is there, without endpoints")
	assert.Contains(t, err.Error(), "no endpoints")

	got, err := cat.Endpoint(EndpointOpts{Type: "compute"})
	require.NoError(t, err)
	assert.Equal(t, "http://public.regionone.example.test:8774/v2.1", got)
}

// TestCatalogCaseHints: a service type or name that differs only in case is
// pointed out.
func TestCatalogCaseHints(t *testing.T) {
	cat := captureCatalog(t, "auth_password_project_id")
	_, err := cat.Endpoint(EndpointOpts{Type: "Compute"})
	var nf *EndpointNotFoundError
	require.ErrorAs(t, err, &nf)
	assert.Contains(t, nf.Hint, `"Compute" differs only in case from "compute"`)

	_, err = cat.Endpoint(EndpointOpts{Type: "compute", Name: "Nova"})
	require.ErrorAs(t, err, &nf)
	assert.Contains(t, nf.Hint, `"Nova" differs only in case from "nova"`)
}

func TestCatalogEmpty(t *testing.T) {
	for _, cat := range []Catalog{nil, {}} {
		_, err := cat.Endpoint(EndpointOpts{Type: "compute"})
		assert.ErrorIs(t, err, ErrNoCatalog)
		assert.False(t, errors.Is(err, ErrNotFound), "an empty catalog is its own error")
		assert.Contains(t, err.Error(), "no catalog")
	}
	_, err := captureCatalog(t, "auth_password_project_id").Endpoint(EndpointOpts{})
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "EndpointOpts.Type", ve.Field)
}

func TestCandidateTypes(t *testing.T) {
	assert.Equal(t, []string{"block-storage", "volumev3", "volumev2", "volume", "block-store"}, candidateTypes("block-storage", nil))
	assert.Equal(t, []string{"volumev2", "block-storage"}, candidateTypes("volumev2", nil))
	assert.Equal(t, []string{"sharev2", "shared-file-system"}, candidateTypes("sharev2", nil))
	assert.Equal(t, []string{"compute"}, candidateTypes("compute", nil))
	assert.Equal(t, []string{"block-storage", "volumev3", "volumev2", "volume", "block-store"}, candidateTypes("block_storage", nil))
	assert.Equal(t, []string{"Object-Store"}, candidateTypes("Object_Store", nil))
	// Every known type has its candidates precomputed.
	assert.Len(t, serviceTypeCandidates, len(serviceTypeAliases)+len(owner(t)))
}

// owner maps each alias to its official type, checking that no alias
// belongs to two official types (the reverse map would then depend on
// which comes first) and that no alias is itself an official type.
func owner(t *testing.T) map[string]string {
	owner := map[string]string{}
	for official, aliases := range serviceTypeAliases {
		for _, a := range aliases {
			if o, dup := owner[a]; dup {
				t.Errorf("alias %q of both %q and %q", a, o, official)
			}
			owner[a] = official
			_, aliasIsOfficial := serviceTypeAliases[a]
			assert.False(t, aliasIsOfficial, "alias %q is also an official type", a)
		}
	}
	return owner
}

// TestCatalogInterfacePreferenceAcrossServices: as in keystoneauth1, the
// interface preference is applied across every service of the type, not
// service by service; within the best interface the first service in
// catalog order wins. The type still comes first: a service of the
// requested type with a less preferred interface beats an alias's service
// with a more preferred one.
func TestCatalogInterfacePreferenceAcrossServices(t *testing.T) {
	cat := Catalog{
		{Type: "compute", Name: "nova-a", Endpoints: eps("R", "R", map[string]string{"public": "https://a-pub"})},
		{Type: "compute", Name: "nova-b", Endpoints: eps("R", "R", map[string]string{"internal": "https://b-int", "public": "https://b-pub"})},
		{Type: "compute", Name: "nova-c", Endpoints: eps("R", "R", map[string]string{"internal": "https://c-int"})},
		{Type: "block-storage", Endpoints: eps("R", "R", map[string]string{"public": "https://bs-pub"})},
		{Type: "volumev3", Endpoints: eps("R", "R", map[string]string{"internal": "https://v3-int"})},
	}
	tests := []struct {
		opts EndpointOpts
		want string
	}{
		{EndpointOpts{Type: "compute", Interfaces: []string{"internal", "public"}}, "https://b-int"},
		{EndpointOpts{Type: "compute", Interfaces: []string{"admin", "internal"}}, "https://b-int"},
		{EndpointOpts{Type: "compute", Interfaces: []string{"internal"}}, "https://b-int"},
		{EndpointOpts{Type: "compute", Interfaces: []string{"public", "internal"}}, "https://a-pub"},
		{EndpointOpts{Type: "compute"}, "https://a-pub"},
		{EndpointOpts{Type: "compute", Name: "nova-c", Interfaces: []string{"public", "internal"}}, "https://c-int"},
		{EndpointOpts{Type: "compute", Name: "nova-a", Interfaces: []string{"internal", "public"}}, "https://a-pub"},
		{EndpointOpts{Type: "block-storage", Interfaces: []string{"internal", "public"}}, "https://bs-pub"},
		{EndpointOpts{Type: "volumev3", Interfaces: []string{"public", "internal"}}, "https://v3-int"},
	}
	for _, tc := range tests {
		got, err := cat.Endpoint(tc.opts)
		if assert.NoError(t, err, "%+v", tc.opts) {
			assert.Equal(t, tc.want, got, "%+v", tc.opts)
		}
	}
}

// BenchmarkCatalogEndpoint: a hit, an alias hit and a miss on a recorded
// project-scoped catalog.
func BenchmarkCatalogEndpoint(b *testing.B) {
	cat := captureCatalog(b, "auth_password_project_id")
	for _, bc := range []struct {
		name string
		opts EndpointOpts
	}{
		{"hit", EndpointOpts{Type: "network", Region: "RegionTwo", Interfaces: []string{"internal", "public"}}},
		{"alias", EndpointOpts{Type: "volume", Name: "cinder", Region: "RegionTwo"}},
		{"miss", EndpointOpts{Type: "image", Region: "RegionThree"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = cat.Endpoint(bc.opts)
			}
		})
	}
}

// TestCatalogUnderscoreTypes: the underscore spellings SDK attribute names
// use ("block_storage") are read as the hyphenated service types, as
// os-service-types normalises them; letter case is not normalised.
func TestCatalogUnderscoreTypes(t *testing.T) {
	svc := func(typ, url string) Service {
		return Service{Type: typ, Endpoints: eps("R", "R", map[string]string{"public": url})}
	}
	cat := Catalog{
		svc("volumev3", "https://v3"), svc("object-store", "https://swift"),
		svc("sharev2", "https://manila"), svc("application_deployment", "https://appdeploy"),
	}
	for typ, want := range map[string]string{
		"block_storage":          "https://v3",
		"object_store":           "https://swift",
		"shared_file_system":     "https://manila",
		"application_deployment": "https://appdeploy", // an alias spelt with "_" in the table
		"application-deployment": "https://appdeploy",
	} {
		got, err := cat.Endpoint(EndpointOpts{Type: typ})
		if assert.NoError(t, err, typ) {
			assert.Equal(t, want, got, typ)
		}
	}
	_, err := cat.Endpoint(EndpointOpts{Type: "Object_Store"})
	var nf *EndpointNotFoundError
	require.ErrorAs(t, err, &nf)
	assert.Equal(t, `service type "Object_Store" differs only in case from "object-store"; types are case-sensitive`, nf.Hint)
	assert.Contains(t, err.Error(), `no endpoint for service type "Object_Store"`, "the error names the type as given")
}
