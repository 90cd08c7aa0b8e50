package main

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/ksauth/ksauth"
	"github.com/ksauth/ksauth/keystonetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func (f *fixture) ec2List(t *testing.T) []ksauth.EC2Credential {
	k := &ksauth.Keystone{AuthURL: f.srv.AuthURL(), HTTPClient: f.srv.Client(),
		Credentials: ksauth.Password{UserID: keystonetest.DemoUserID, Password: keystonetest.DemoPassword},
		Scope:       ksauth.ProjectScope{ID: keystonetest.DemoProjectID}}
	tok, err := k.Authenticate(context.Background())
	require.NoError(t, err)
	list, err := k.EC2Credentials(context.Background(), tok, "")
	require.NoError(t, err)
	return list
}

func TestCredentialProcessCreatesOnceThenReuses(t *testing.T) {
	f := newFixture(t)
	r := f.mustRun("", "credential-process")
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got))
	assert.ElementsMatch(t, []string{"Version", "AccessKeyId", "SecretAccessKey"}, keys(got))
	assert.EqualValues(t, 1, got["Version"])
	list := f.ec2List(t)
	require.Len(t, list, 1)
	assert.Equal(t, list[0].Access, got["AccessKeyId"])
	assert.Equal(t, list[0].Secret, got["SecretAccessKey"])
	assert.Equal(t, keystonetest.DemoProjectID, list[0].ProjectID)

	again := f.mustRun("", "credential-process", "--project", "demo")
	assert.Equal(t, r.stdout, again.stdout, "reused")
	assert.Len(t, f.ec2List(t), 1, "not created again")
	assert.Equal(t, 3, f.srv.Requests(tokenPOST), "one login of the command, two of the test")
}

func TestCredentialProcessUnknownProject(t *testing.T) {
	f := newFixture(t)
	oneLineError(t, f.run("", "credential-process", "--project", "nonesuch"), exitNotFound, `no project "nonesuch"`)
}
