package keystonetest

import (
	"strings"
	"testing"
	"time"
)

func appCredPath(userID string, rest ...string) string {
	return "/v3/users/" + userID + "/application_credentials" + strings.Join(rest, "")
}

func TestApplicationCredentialLifecycle(t *testing.T) {
	s := newTestServer(t)
	tok := demoToken(t, s)
	auth := []string{"X-Auth-Token", tok}
	r := call(t, s, "POST", appCredPath(DemoUserID), map[string]any{"application_credential": map[string]any{"name": "ci"}}, auth...).want(t, 201)
	ac := get(r.body, "application_credential").(map[string]any)
	id, secret := ac["id"].(string), ac["secret"].(string)
	if len(secret) < 80 || len(id) != 32 {
		t.Errorf("id %q, secret %q", id, secret)
	}
	equal(t, "project", ac["project_id"], DemoProjectID)
	equal(t, "expires_at", ac["expires_at"], nil)
	equal(t, "unrestricted", ac["unrestricted"], nil)
	equal(t, "roles", len(ac["roles"].([]any)), 2)
	equal(t, "links", get(ac, "links", "self"), s.URL+"/v3/application_credentials/"+id)
	equal(t, "no access rules", has(ac, "access_rules"), false)

	call(t, s, "POST", appCredPath(DemoUserID), map[string]any{"application_credential": map[string]any{"name": "ci"}}, auth...).
		wantError(t, 409, "Conflict occurred attempting to store application_credential - Duplicate entry found with name ci.")
	r = call(t, s, "GET", appCredPath(DemoUserID, "/", id), nil, auth...).want(t, 200)
	equal(t, "no secret", has(r.body, "secret", "application_credential"), false)
	r = call(t, s, "GET", appCredPath(DemoUserID, "?name=ci"), nil, auth...).want(t, 200)
	equal(t, "filtered", len(get(r.body, "application_credentials").([]any)), 1)
	r = call(t, s, "GET", appCredPath(DemoUserID), nil, auth...).want(t, 200)
	equal(t, "all", len(get(r.body, "application_credentials").([]any)), 2)

	login := call(t, s, "POST", "/v3/auth/tokens", appCredAuth(map[string]any{"id": id, "secret": secret}, nil)).want(t, 201)
	acTok := login.header.Get("X-Subject-Token")
	call(t, s, "DELETE", appCredPath(DemoUserID, "/", id), nil, auth...).want(t, 204)
	call(t, s, "GET", "/v3/auth/projects", nil, "X-Auth-Token", acTok).want(t, 401) // its tokens went with it
	call(t, s, "GET", appCredPath(DemoUserID, "/", id), nil, auth...).wantError(t, 404, "Could not find Application Credential: "+id+".")
	call(t, s, "DELETE", appCredPath(DemoUserID, "/", id), nil, auth...).want(t, 404)
	call(t, s, "POST", "/v3/auth/tokens", appCredAuth(map[string]any{"id": id, "secret": secret}, nil)).want(t, 404)
}

func TestApplicationCredentialCreateRules(t *testing.T) {
	s := newTestServer(t)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	tok := demoToken(t, s)
	auth := []string{"X-Auth-Token", tok}
	create := func(userID string, ac map[string]any, hdr ...string) result {
		return call(t, s, "POST", appCredPath(userID), map[string]any{"application_credential": ac}, hdr...)
	}
	create(AdminUserID, map[string]any{"name": "x"}, auth...).wantError(t, 403,
		"You are not authorized to perform the requested action: identity:create_application_credential.")
	create(DemoUserID, map[string]any{}, auth...).wantError(t, 400, "'name' is a required property")
	create(DemoUserID, map[string]any{"name": "x", "roles": []map[string]string{{"name": "admin"}}}, auth...).wantError(t, 400,
		"Invalid application credential: Cannot create an application credential with unassigned role")
	create(DemoUserID, map[string]any{"name": "x", "roles": []map[string]string{{"name": "nope"}}}, auth...).wantError(t, 404,
		"Could not find role: nope.")
	create(DemoUserID, map[string]any{"name": "x", "expires_at": "2029-12-31T00:00:00"}, auth...).want(t, 400)
	create(DemoUserID, map[string]any{"name": "x", "access_rules": []map[string]string{{"service": "compute", "method": "FETCH", "path": "/x"}}},
		auth...).want(t, 400)
	create(DemoUserID, map[string]any{"name": "x"}).want(t, 401)

	r := create(DemoUserID, map[string]any{"name": "reader-only", "secret": "my-secret", "description": "d", "expires_at": "2030-01-02T00:00:00Z",
		"roles": []map[string]string{{"id": ReaderRoleID}}, "access_rules": []map[string]string{{"service": "compute", "method": "GET", "path": "/v2.1/servers"}}},
		auth...).want(t, 201)
	ac := get(r.body, "application_credential")
	equal(t, "secret", get(ac, "secret"), "my-secret")
	equal(t, "description", get(ac, "description"), "d")
	equal(t, "expires_at", get(ac, "expires_at"), "2030-01-02T00:00:00.000000")
	equal(t, "roles", get(ac, "roles", 0, "name"), "reader")
	equal(t, "rule", get(ac, "access_rules", 0, "path"), "/v2.1/servers")

	// Its restricted token may not make another; an unrestricted one may.
	login := call(t, s, "POST", "/v3/auth/tokens", appCredAuth(map[string]any{"id": get(ac, "id"), "secret": "my-secret"}, nil)).want(t, 201)
	create(DemoUserID, map[string]any{"name": "y"}, "X-Auth-Token", login.header.Get("X-Subject-Token")).wantError(t, 403,
		"You are not authorized to perform the requested action: Using method 'application_credential' is not allowed for "+
			"managing additional application credentials..")
	free := s.AddApplicationCredential(ApplicationCredential{Name: "free", UserID: DemoUserID, ProjectID: DemoProjectID, Unrestricted: true})
	login = call(t, s, "POST", "/v3/auth/tokens", appCredAuth(map[string]any{"id": free.ID, "secret": free.Secret}, nil)).want(t, 201)
	r = create(DemoUserID, map[string]any{"name": "y"}, "X-Auth-Token", login.header.Get("X-Subject-Token")).want(t, 201)
	r = call(t, s, "GET", appCredPath(DemoUserID, "/", free.ID), nil, auth...).want(t, 200)
	equal(t, "unrestricted", get(r.body, "application_credential", "unrestricted"), true)

	// A trust token may not.
	bob := s.AddUser(User{Name: "bob", Password: "pw"})
	tr := s.AddTrust(Trust{TrustorUserID: DemoUserID, TrusteeUserID: bob.ID, ProjectID: DemoProjectID, Roles: []string{"member"}})
	trustTok, _ := passwordLogin(t, s, "bob", "pw", map[string]any{"OS-TRUST:trust": map[string]string{"id": tr.ID}})
	create(bob.ID, map[string]any{"name": "z"}, "X-Auth-Token", trustTok).wantError(t, 403, msgForbidden)

	// An unscoped token: a credential without project or roles.
	unscoped, _ := passwordLogin(t, s, DemoUserName, DemoPassword, "unscoped")
	r = create(DemoUserID, map[string]any{"name": "bare"}, "X-Auth-Token", unscoped).want(t, 201)
	equal(t, "no project", get(r.body, "application_credential", "project_id"), nil)
	equal(t, "no roles", get(r.body, "application_credential", "roles"), []any{})

	// Others may not read a user's credentials; the admin may.
	other := s.AddUser(User{Name: "other", Password: "pw", ProjectRoles: map[string][]string{DemoProjectID: {"member"}}})
	otherTok, _ := passwordLogin(t, s, other.Name, "pw", projectScope(DemoProjectID))
	call(t, s, "GET", appCredPath(DemoUserID), nil, "X-Auth-Token", otherTok).want(t, 403)
	call(t, s, "GET", appCredPath(DemoUserID, "/", free.ID), nil, "X-Auth-Token", otherTok).want(t, 403)
	call(t, s, "DELETE", appCredPath(DemoUserID, "/", free.ID), nil, "X-Auth-Token", otherTok).want(t, 403)
	call(t, s, "GET", appCredPath(DemoUserID), nil, "X-Auth-Token", adminToken(t, s)).want(t, 200)
}

func TestAccessRules(t *testing.T) {
	s := newTestServer(t)
	tok := demoToken(t, s)
	auth := []string{"X-Auth-Token", tok}
	rules := "/v3/users/" + DemoUserID + "/access_rules"
	r := call(t, s, "GET", rules, nil, auth...).want(t, 200)
	equal(t, "none", get(r.body, "access_rules"), []any{})
	rule := map[string]string{"service": "identity", "method": "GET", "path": "/v3/auth/projects"}
	r = call(t, s, "POST", appCredPath(DemoUserID), map[string]any{"application_credential": map[string]any{"name": "a", "access_rules": []any{rule}}},
		auth...).want(t, 201)
	acID := get(r.body, "application_credential", "id").(string)
	ruleID := get(r.body, "application_credential", "access_rules", 0, "id").(string)
	// The same rule again, or by id: reused.
	r = call(t, s, "POST", appCredPath(DemoUserID), map[string]any{"application_credential": map[string]any{"name": "b", "access_rules": []any{rule}}},
		auth...).want(t, 201)
	equal(t, "same rule", get(r.body, "application_credential", "access_rules", 0, "id"), ruleID)
	bID := get(r.body, "application_credential", "id").(string)
	call(t, s, "POST", appCredPath(DemoUserID), map[string]any{"application_credential": map[string]any{"name": "c",
		"access_rules": []any{map[string]string{"id": "nope"}}}}, auth...).wantError(t, 404, "Could not find Access Rule: nope.")

	r = call(t, s, "GET", rules, nil, auth...).want(t, 200)
	equal(t, "one rule", len(get(r.body, "access_rules").([]any)), 1)
	r = call(t, s, "GET", rules+"/"+ruleID, nil, auth...).want(t, 200)
	equal(t, "rule", get(r.body, "access_rule", "path"), "/v3/auth/projects")
	equal(t, "rule link", get(r.body, "access_rule", "links", "self"), s.URL+"/v3/access_rules/"+ruleID) // without the user, as Keystone has it
	call(t, s, "DELETE", rules+"/"+ruleID, nil, auth...).wantError(t, 403, "May not delete access rule in use")
	call(t, s, "DELETE", appCredPath(DemoUserID, "/", acID), nil, auth...).want(t, 204)
	call(t, s, "DELETE", appCredPath(DemoUserID, "/", bID), nil, auth...).want(t, 204)
	call(t, s, "DELETE", rules+"/"+ruleID, nil, auth...).want(t, 204)
	call(t, s, "GET", rules+"/"+ruleID, nil, auth...).wantError(t, 404, "Could not find Access Rule: "+ruleID+".")
}

func TestEC2Credentials(t *testing.T) {
	s := newTestServer(t)
	tok := demoToken(t, s)
	auth := []string{"X-Auth-Token", tok}
	ec2 := "/v3/users/" + DemoUserID + "/credentials/OS-EC2"
	r := call(t, s, "POST", ec2, map[string]string{"tenant_id": DemoProjectID}, auth...).want(t, 201)
	c := get(r.body, "credential").(map[string]any)
	access := c["access"].(string)
	equal(t, "shape", c, map[string]any{"user_id": DemoUserID, "tenant_id": DemoProjectID, "access": access, "secret": c["secret"],
		"trust_id": nil, "links": map[string]any{"self": s.URL + ec2 + "/" + access}})
	call(t, s, "POST", ec2, map[string]string{"tenant_id": "nope"}, auth...).wantError(t, 404, "Could not find project: nope.")
	r = call(t, s, "GET", ec2, nil, auth...).want(t, 200)
	equal(t, "list", len(get(r.body, "credentials").([]any)), 1)
	r = call(t, s, "GET", ec2+"/"+access, nil, auth...).want(t, 200)
	equal(t, "get", get(r.body, "credential", "secret"), c["secret"])
	equal(t, "EC2Credentials", len(s.EC2Credentials(DemoUserID)), 1)

	// An unknown key: 404 naming sha256(key), as the real Keystone answers.
	call(t, s, "GET", ec2+"/0123456789abcdef0123456789abcdef", nil, auth...).wantError(t, 404,
		"Could not find credential: 3eb1bd439947eb762998e566ccc2e099c791118b2f40579cc4f7da2b5061b7f9.")
	call(t, s, "DELETE", ec2+"/nope", nil, auth...).want(t, 404)

	// Delegated tokens may not; a reader (no member role) may not create.
	acTok := call(t, s, "POST", "/v3/auth/tokens", appCredAuth(map[string]any{"id": DemoAppCredID, "secret": DemoAppCredSecret}, nil)).
		want(t, 201).header.Get("X-Subject-Token")
	call(t, s, "POST", ec2, map[string]string{"tenant_id": DemoProjectID}, "X-Auth-Token", acTok).wantError(t, 403,
		"You are not authorized to perform the requested action: Delegated tokens cannot access credentials directly.")
	call(t, s, "GET", ec2, nil, "X-Auth-Token", acTok).want(t, 403)
	reader := s.AddUser(User{Name: "reader", Password: "pw", ProjectRoles: map[string][]string{DemoProjectID: {"reader"}}})
	readerTok, _ := passwordLogin(t, s, "reader", "pw", projectScope(DemoProjectID))
	call(t, s, "POST", "/v3/users/"+reader.ID+"/credentials/OS-EC2", map[string]string{"tenant_id": DemoProjectID},
		"X-Auth-Token", readerTok).wantError(t, 403, "You are not authorized to perform the requested action: identity:ec2_create_credential.")
	call(t, s, "GET", ec2+"/"+access, nil, "X-Auth-Token", readerTok).want(t, 403)
	// Another user's key under one's own path: refused too.
	call(t, s, "GET", "/v3/users/"+reader.ID+"/credentials/OS-EC2/"+access, nil, "X-Auth-Token", readerTok).wantError(t, 403,
		"You are not authorized to perform the requested action: identity:ec2_get_credential.")

	call(t, s, "DELETE", ec2+"/"+access, nil, auth...).want(t, 204)
	call(t, s, "GET", ec2+"/"+access, nil, auth...).want(t, 404)
	equal(t, "deleted", len(s.EC2Credentials("")), 0)
}
