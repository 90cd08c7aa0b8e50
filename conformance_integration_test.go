//go:build integration

package ksauth

import (
	"net/http"
	"testing"
)

// liveConformanceTarget is the real Keystone of the integration run.
func liveConformanceTarget(ks *keystoneFixtures) *confTarget {
	u := ks.Users
	f := confFixtures{acmeID: ks.Domains.Acme.ID, demoID: ks.Projects.Demo.ID, opsID: ks.Projects.Ops.ID,
		adminID: u.Admin.ID, aliceID: u.Alice.ID, bobID: u.Bob.ID, carolID: u.Carol.ID,
		adminPW: u.Admin.Password, alicePW: u.Alice.Password, bobPW: u.Bob.Password, carolPW: u.Carol.Password,
		bobTOTP: u.Bob.TOTPSecret, carolTOTP: u.Carol.TOTPSecret,
		acID: ks.ApplicationCredentials.Alice.ID, acSecret: ks.ApplicationCredentials.Alice.Secret,
		acrID: ks.ApplicationCredentials.AliceRestricted.ID, acrSecret: ks.ApplicationCredentials.AliceRestricted.Secret,
		trustID: ks.Trusts.AliceToBob.ID}
	return &confTarget{name: "Keystone", base: ks.Endpoint, client: &http.Client{}, f: f, tokens: map[string]string{}}
}

// TestIntegrationConformance runs the conformance table against the fake
// and the real Keystone side by side: the same statuses and headers, and
// bodies of the same shape.
func TestIntegrationConformance(t *testing.T) {
	runConformance(t, fakeConformanceTarget(t), liveConformanceTarget(ksMain))
}
