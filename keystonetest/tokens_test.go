package keystonetest

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestIssueShapes(t *testing.T) {
	s := newTestServer(t)
	// No scope, no default project: unscoped, without roles, catalog, project.
	u := s.AddUser(User{Name: "nodefault", Password: "pw", ProjectRoles: map[string][]string{DemoProjectID: {"reader"}}})
	_, r := passwordLogin(t, s, u.Name, "pw", nil)
	for _, k := range []string{"roles", "catalog", "project", "is_domain", "domain", "system"} {
		if has(r.body, k, "token") {
			t.Errorf("unscoped token has %q", k)
		}
	}
	equal(t, "user", get(r.body, "token", "user", "name"), "nodefault")
	equal(t, "password_expires_at", has(r.body, "password_expires_at", "token", "user"), true)

	// The default project.
	_, r = passwordLogin(t, s, DemoUserName, DemoPassword, nil)
	equal(t, "project", get(r.body, "token", "project", "id"), DemoProjectID)
	equal(t, "project domain", get(r.body, "token", "project", "domain", "name"), DefaultDomainName)
	equal(t, "is_domain", get(r.body, "token", "is_domain"), false)
	equal(t, "roles", len(get(r.body, "token", "roles").([]any)), 2)
	equal(t, "swift", get(r.body, "token", "catalog", 2, "endpoints", 0, "url"), s.URL+"/object-store/v1/AUTH_"+DemoProjectID)
	equal(t, "region_id", get(r.body, "token", "catalog", 0, "endpoints", 0, "region_id"), DefaultRegion)

	// "scope": "unscoped" despite the default project.
	_, r = passwordLogin(t, s, DemoUserName, DemoPassword, "unscoped")
	equal(t, "explicit unscoped", has(r.body, "project", "token"), false)

	// Domain: no is_domain; endpoints needing a project left out.
	_, r = passwordLogin(t, s, DemoUserName, DemoPassword, map[string]any{"domain": map[string]string{"name": "Default"}})
	equal(t, "domain", get(r.body, "token", "domain", "id"), DefaultDomainID)
	equal(t, "domain is_domain", has(r.body, "is_domain", "token"), false)
	equal(t, "domain swift endpoints", get(r.body, "token", "catalog", 2, "endpoints"), []any{})
	equal(t, "domain roles", get(r.body, "token", "roles", 0, "name"), "reader")

	// System, with implied roles.
	_, r = passwordLogin(t, s, AdminUserName, AdminPassword, map[string]any{"system": map[string]bool{"all": true}})
	equal(t, "system", get(r.body, "token", "system"), map[string]any{"all": true})
	var names []string
	for _, role := range get(r.body, "token", "roles").([]any) {
		names = append(names, get(role, "name").(string))
	}
	equal(t, "system roles", names, []string{"admin", "member", "reader"})

	// ?nocatalog, and a project by name.
	r = call(t, s, "POST", "/v3/auth/tokens?nocatalog", passwordAuth(DemoUserName, DefaultDomainID, DemoPassword,
		map[string]any{"project": map[string]any{"name": DemoProjectName, "domain": map[string]string{"name": "Default"}}})).want(t, http.StatusCreated)
	equal(t, "nocatalog", has(r.body, "catalog", "token"), false)
	equal(t, "by name", get(r.body, "token", "project", "id"), DemoProjectID)
	if tok := r.header.Get("X-Subject-Token"); !strings.HasPrefix(tok, "gAAAAAB") || len(tok) < 100 {
		t.Errorf("token %q does not look like a fernet token", tok)
	}
	if ts := get(r.body, "token", "expires_at").(string); !strings.HasSuffix(ts, ".000000Z") {
		t.Errorf("expires_at %q", ts)
	}
}

func TestIssueErrors(t *testing.T) {
	s := newTestServer(t)
	post := func(body any) result { return call(t, s, "POST", "/v3/auth/tokens", body) }
	post(`{"auth": {"identity": {"methods": ["password"],`).wantError(t, 400, msgBadJSON)
	post(`{"auth": {"identity": {"methods": ["password"]}}}`).wantError(t, 400,
		"Expecting to find password in identity. The server could not comply with the request since it is either malformed or "+
			"otherwise incorrect. The client is assumed to be in error.")
	if r := post(`{"auth": {}}`); r.status != 400 || !strings.Contains(get(r.body, "error", "message").(string), "identity") {
		t.Errorf("no identity: %d %s", r.status, r.raw)
	}
	r := post(`{"auth": {"identity": {"methods": ["kerberos"], "kerberos": {}}}}`).wantError(t, 401,
		"Attempted to authenticate with an unsupported method.")
	equal(t, "supported methods", len(get(r.body, "error", "identity", "methods").([]any)), 4)
	post(`{"auth": {"identity": {"methods": []}}}`).wantError(t, 401, msgUnauthorized)
	post(passwordAuth(DemoUserName, DefaultDomainID, "wrong", nil)).wantError(t, 401, msgUnauthorized)
	post(passwordAuth("nobody", DefaultDomainID, "pw", nil)).wantError(t, 401, msgUnauthorized)
	post(passwordAuth(DemoUserName, "nodomain", DemoPassword, nil)).wantError(t, 401, msgUnauthorized)
	if r := post(`{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "demo", "password": "x"}}}}}`); r.status != 400 {
		t.Errorf("a user name without a domain: %d", r.status)
	}
	post(passwordAuth(DemoUserName, DefaultDomainID, DemoPassword, projectScope("nope"))).wantError(t, 401, msgUnauthorized)
	post(passwordAuth(DemoUserName, DefaultDomainID, DemoPassword, projectScope(AdminProjectID))).wantError(t, 401, msgUnauthorized)
	post(passwordAuth(DemoUserName, DefaultDomainID, DemoPassword, map[string]any{"system": map[string]bool{"all": true}})).
		wantError(t, 401, msgUnauthorized)
	if r := post(passwordAuth(DemoUserName, DefaultDomainID, DemoPassword, map[string]any{"project": map[string]string{"id": DemoProjectID},
		"domain": map[string]string{"id": "default"}})); r.status != 400 {
		t.Errorf("two scopes: %d", r.status)
	}
	// Two methods naming different users.
	post(map[string]any{"auth": map[string]any{"identity": map[string]any{"methods": []string{"password", "application_credential"},
		"password":               map[string]any{"user": map[string]any{"id": AdminUserID, "password": AdminPassword}},
		"application_credential": map[string]any{"id": DemoAppCredID, "secret": DemoAppCredSecret}}}}).wantError(t, 401, msgUnauthorized)
	equal(t, "no token issued", len(s.tokens), 0)
}

func appCredAuth(ac map[string]any, scope any) map[string]any {
	auth := map[string]any{"identity": map[string]any{"methods": []string{"application_credential"}, "application_credential": ac}}
	if scope != nil {
		auth["scope"] = scope
	}
	return map[string]any{"auth": auth}
}

func TestApplicationCredentialAuth(t *testing.T) {
	s := newTestServer(t)
	post := func(body any) result { return call(t, s, "POST", "/v3/auth/tokens", body) }
	byID := map[string]any{"id": DemoAppCredID, "secret": DemoAppCredSecret}

	r := post(appCredAuth(byID, nil)).want(t, 201)
	equal(t, "methods", get(r.body, "token", "methods"), []any{"application_credential"})
	equal(t, "app cred", get(r.body, "token", "application_credential"), map[string]any{"id": DemoAppCredID, "name": DemoAppCredName, "restricted": true})
	equal(t, "project", get(r.body, "token", "project", "id"), DemoProjectID)
	r = post(appCredAuth(map[string]any{"name": DemoAppCredName, "user": map[string]any{"name": DemoUserName, "domain": map[string]string{"id": "default"}},
		"secret": DemoAppCredSecret}, nil)).want(t, 201)
	equal(t, "by name", get(r.body, "token", "application_credential", "id"), DemoAppCredID)

	for _, scope := range []any{projectScope(DemoProjectID), "unscoped"} {
		r = post(appCredAuth(byID, scope)).wantError(t, 401,
			"Error authenticating with application credential: Application credentials cannot request a scope.")
		equal(t, "identity", get(r.body, "error", "identity"), map[string]any{})
	}
	post(appCredAuth(map[string]any{"id": "nope", "secret": "x"}, nil)).wantError(t, 404, "Could not find Application Credential: nope.")
	post(appCredAuth(map[string]any{"name": "nope", "user": map[string]any{"id": DemoUserID}, "secret": "x"}, nil)).wantError(t, 401, msgUnauthorized)
	post(appCredAuth(map[string]any{"id": DemoAppCredID, "secret": "wrong"}, nil)).wantError(t, 401, msgUnauthorized)
	post(appCredAuth(map[string]any{"id": DemoAppCredID}, nil)).wantError(t, 401, msgUnauthorized)

	// Restricted, with an access rule and an expiry: capped, in Keystone's format.
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	ac := s.AddApplicationCredential(ApplicationCredential{Name: "short", UserID: DemoUserID, ProjectID: DemoProjectID, Roles: []string{"reader"},
		ExpiresAt: now.Add(20 * time.Minute), AccessRules: []AccessRule{{Service: "compute", Method: "GET", Path: "/v2.1/servers"}}})
	r = post(appCredAuth(map[string]any{"id": ac.ID, "secret": ac.Secret}, nil)).want(t, 201)
	equal(t, "capped expires_at", get(r.body, "token", "expires_at"), "2030-01-02T03:24:05")
	equal(t, "issued_at", get(r.body, "token", "issued_at"), "2030-01-02T03:04:05.000000Z")
	equal(t, "roles", get(r.body, "token", "roles"), []any{map[string]any{"id": ReaderRoleID, "name": "reader"}})
	equal(t, "access rule", get(r.body, "token", "application_credential", "access_rules", 0, "path"), "/v2.1/servers")
	tok := r.header.Get("X-Subject-Token")
	call(t, s, "GET", "/v3/auth/tokens", nil, "X-Auth-Token", tok, "X-Subject-Token", tok).
		wantError(t, 404, msgFailedValidate) // access rules: only for a caller that says it enforces them
	call(t, s, "HEAD", "/v3/auth/tokens", nil, "X-Auth-Token", tok, "X-Subject-Token", tok, "Openstack-Identity-Access-Rules", "0.9").
		want(t, 404)
	v := call(t, s, "GET", "/v3/auth/tokens", nil, "X-Auth-Token", tok, "X-Subject-Token", tok,
		"Openstack-Identity-Access-Rules", "1.0").want(t, 200)
	equal(t, "validated expires_at", get(v.body, "token", "expires_at"), "2030-01-02T03:24:05.000000Z")
	now = now.Add(21 * time.Minute)
	post(appCredAuth(map[string]any{"id": ac.ID, "secret": ac.Secret}, nil)).wantError(t, 401, msgUnauthorized)
}

func TestRescope(t *testing.T) {
	s := newTestServer(t)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	unscoped, r := passwordLogin(t, s, DemoUserName, DemoPassword, "unscoped")
	audit := get(r.body, "token", "audit_ids", 0)
	now = now.Add(10 * time.Minute)
	exchange := func(tok string, scope any) result {
		return call(t, s, "POST", "/v3/auth/tokens", map[string]any{"auth": map[string]any{
			"identity": map[string]any{"methods": []string{"token"}, "token": map[string]string{"id": tok}}, "scope": scope}})
	}
	r = exchange(unscoped, projectScope(DemoProjectID)).want(t, 201)
	equal(t, "expires_at kept", get(r.body, "token", "expires_at"), "2030-01-01T01:00:00.000000Z")
	equal(t, "issued_at", get(r.body, "token", "issued_at"), "2030-01-01T00:10:00.000000Z")
	equal(t, "methods", get(r.body, "token", "methods"), []any{"token", "password"})
	equal(t, "audit chain", get(r.body, "token", "audit_ids", 1), audit)

	exchange("garbage", projectScope(DemoProjectID)).wantError(t, 404, msgBadFernet)
	s.Revoke(unscoped)
	exchange(unscoped, projectScope(DemoProjectID)).wantError(t, 404, msgFailedValidate)

	sys := adminToken(t, s)
	exchange(sys, projectScope(AdminProjectID)).wantError(t, 403, "You are not authorized to perform the requested action: "+
		"Using a system-scoped token to create a project-scoped or domain-scoped token is not allowed..")
	ac := call(t, s, "POST", "/v3/auth/tokens", appCredAuth(map[string]any{"id": DemoAppCredID, "secret": DemoAppCredSecret}, nil)).want(t, 201)
	exchange(ac.header.Get("X-Subject-Token"), projectScope(DemoProjectID)).wantError(t, 403,
		"You are not authorized to perform the requested action: Using a delegated token to create another token is not allowed..")

	bob := s.AddUser(User{Name: "bob", Password: "bob-pw"})
	tr := s.AddTrust(Trust{TrustorUserID: DemoUserID, TrusteeUserID: bob.ID, ProjectID: DemoProjectID, Roles: []string{"member"}})
	r = call(t, s, "POST", "/v3/auth/tokens", passwordAuth("bob", DefaultDomainID, "bob-pw",
		map[string]any{"OS-TRUST:trust": map[string]string{"id": tr.ID}})).want(t, 201)
	equal(t, "trust", get(r.body, "token", "OS-TRUST:trust"), map[string]any{"id": tr.ID, "impersonation": false,
		"trustor_user": map[string]any{"id": DemoUserID}, "trustee_user": map[string]any{"id": bob.ID}})
	equal(t, "trust is_domain", has(r.body, "is_domain", "token"), false)
	equal(t, "full roles", get(r.body, "token", "roles", 0, "options"), map[string]any{"immutable": true})
	exchange(r.header.Get("X-Subject-Token"), projectScope(DemoProjectID)).want(t, 403)
	// The trustor itself may not use the trust; an unknown trust is a 401.
	call(t, s, "POST", "/v3/auth/tokens", passwordAuth(DemoUserName, DefaultDomainID, DemoPassword,
		map[string]any{"OS-TRUST:trust": map[string]string{"id": tr.ID}})).wantError(t, 403, msgForbidden)
	call(t, s, "POST", "/v3/auth/tokens", passwordAuth("bob", DefaultDomainID, "bob-pw",
		map[string]any{"OS-TRUST:trust": map[string]string{"id": "nope"}})).wantError(t, 401, msgUnauthorized)
}

func TestLifetimeClockAndAllowExpired(t *testing.T) {
	s := newTestServer(t)
	now := time.Date(2030, 1, 1, 0, 0, 0, 500_000_000, time.UTC)
	s.SetClock(func() time.Time { return now })
	s.SetTokenLifetime(5 * time.Minute)
	tok, r := passwordLogin(t, s, DemoUserName, DemoPassword, nil)
	equal(t, "issued_at", get(r.body, "token", "issued_at"), "2030-01-01T00:00:00.000000Z")
	equal(t, "expires_at", get(r.body, "token", "expires_at"), "2030-01-01T00:05:00.000000Z")
	s.SetTokenLifetime(0)
	admin := adminToken(t, s)
	info, _ := s.LookupToken(tok)
	equal(t, "info expiry", info.ExpiresAt, time.Date(2030, 1, 1, 0, 5, 0, 0, time.UTC))

	now = now.Add(5 * time.Minute)
	call(t, s, "GET", "/v3/auth/projects", nil, "X-Auth-Token", tok).wantError(t, 401, msgUnauthorized)
	call(t, s, "GET", "/v3/auth/tokens", nil, "X-Auth-Token", admin, "X-Subject-Token", tok).wantError(t, 404, msgFailedValidate)
	call(t, s, "GET", "/v3/auth/tokens?allow_expired=1", nil, "X-Auth-Token", admin, "X-Subject-Token", tok).want(t, 200)
	now = now.Add(AllowExpiredWindow)
	admin = adminToken(t, s)
	call(t, s, "GET", "/v3/auth/tokens?allow_expired=1", nil, "X-Auth-Token", admin, "X-Subject-Token", tok).wantError(t, 404, msgFailedValidate)
	s.SetClock(nil)
	if d := time.Since(s.Now()); d < 0 || d > time.Minute {
		t.Errorf("Now after SetClock(nil) is %v off", d)
	}
}

func TestValidateCheckRevoke(t *testing.T) {
	s := newTestServer(t)
	admin := adminToken(t, s)
	tok := demoToken(t, s)
	r := call(t, s, "GET", "/v3/auth/tokens", nil, "X-Auth-Token", admin, "X-Subject-Token", tok).want(t, 200)
	equal(t, "X-Subject-Token", r.header.Get("X-Subject-Token"), tok)
	equal(t, "user", get(r.body, "token", "user", "id"), DemoUserID)
	equal(t, "catalog", has(r.body, "catalog", "token"), true)
	r = call(t, s, "GET", "/v3/auth/tokens?nocatalog", nil, "X-Auth-Token", admin, "X-Subject-Token", tok).want(t, 200)
	equal(t, "nocatalog", has(r.body, "catalog", "token"), false)
	r = call(t, s, "HEAD", "/v3/auth/tokens", nil, "X-Auth-Token", admin, "X-Subject-Token", tok).want(t, 200)
	equal(t, "HEAD body", len(r.raw), 0)
	equal(t, "HEAD Content-Type", r.header.Get("Content-Type"), "application/json")

	// Its own token may validate it; another user's unprivileged one not.
	call(t, s, "GET", "/v3/auth/tokens", nil, "X-Auth-Token", tok, "X-Subject-Token", tok).want(t, 200)
	other := s.AddUser(User{Name: "other", Password: "pw", ProjectRoles: map[string][]string{DemoProjectID: {"member"}}})
	otherTok, _ := passwordLogin(t, s, other.Name, "pw", projectScope(DemoProjectID))
	call(t, s, "GET", "/v3/auth/tokens", nil, "X-Auth-Token", otherTok, "X-Subject-Token", tok).wantError(t, 403,
		"You are not authorized to perform the requested action: identity:validate_token.")
	call(t, s, "DELETE", "/v3/auth/tokens", nil, "X-Auth-Token", otherTok, "X-Subject-Token", tok).wantError(t, 403,
		"You are not authorized to perform the requested action: identity:revoke_token.")

	call(t, s, "GET", "/v3/auth/tokens", nil, "X-Subject-Token", tok).wantError(t, 401, msgUnauthorized)
	call(t, s, "GET", "/v3/auth/tokens", nil, "X-Auth-Token", "garbage", "X-Subject-Token", tok).wantError(t, 401, msgUnauthorized)
	call(t, s, "GET", "/v3/auth/tokens", nil, "X-Auth-Token", admin).wantError(t, 404, "No token in the request")
	call(t, s, "GET", "/v3/auth/tokens", nil, "X-Auth-Token", admin, "X-Subject-Token", "this-is-not-a-token").wantError(t, 404, msgBadFernet)

	r = call(t, s, "DELETE", "/v3/auth/tokens", nil, "X-Auth-Token", admin, "X-Subject-Token", tok).want(t, 204)
	equal(t, "DELETE body", len(r.raw), 0)
	info, _ := s.LookupToken(tok)
	equal(t, "revoked", info.Revoked, true)
	call(t, s, "GET", "/v3/auth/tokens", nil, "X-Auth-Token", admin, "X-Subject-Token", tok).wantError(t, 404, msgFailedValidate)
	call(t, s, "GET", "/v3/auth/tokens?allow_expired=1", nil, "X-Auth-Token", admin, "X-Subject-Token", tok).wantError(t, 404, msgFailedValidate)
	call(t, s, "HEAD", "/v3/auth/tokens", nil, "X-Auth-Token", admin, "X-Subject-Token", tok).want(t, 404)
	call(t, s, "GET", "/v3/auth/projects", nil, "X-Auth-Token", tok).wantError(t, 401, msgUnauthorized)

	// A token may revoke itself.
	self := demoToken(t, s)
	call(t, s, "DELETE", "/v3/auth/tokens", nil, "X-Auth-Token", self, "X-Subject-Token", self).want(t, 204)
	if _, ok := s.LookupToken("nope"); ok || s.Revoke("nope") {
		t.Error("an unknown token looked up or revoked")
	}
}

func TestAuthListings(t *testing.T) {
	s := newTestServer(t)
	unscoped, _ := passwordLogin(t, s, DemoUserName, DemoPassword, "unscoped")
	scoped := demoToken(t, s)
	dom, _ := passwordLogin(t, s, DemoUserName, DemoPassword, map[string]any{"domain": map[string]string{"id": "default"}})
	for _, tok := range []string{unscoped, scoped} {
		r := call(t, s, "GET", "/v3/auth/projects", nil, "X-Auth-Token", tok).want(t, 200)
		equal(t, "projects", len(get(r.body, "projects").([]any)), 1)
		equal(t, "project", get(r.body, "projects", 0, "id"), DemoProjectID)
		equal(t, "links", get(r.body, "links"), map[string]any{"next": nil, "previous": nil, "self": s.URL + "/v3/auth/projects"})
		r = call(t, s, "GET", "/v3/auth/domains", nil, "X-Auth-Token", tok).want(t, 200)
		equal(t, "domain", get(r.body, "domains", 0, "name"), DefaultDomainName)
		r = call(t, s, "GET", "/v3/auth/system", nil, "X-Auth-Token", tok).want(t, 200)
		equal(t, "system", get(r.body, "system"), []any{})
	}
	r := call(t, s, "GET", "/v3/auth/system", nil, "X-Auth-Token", adminToken(t, s)).want(t, 200)
	equal(t, "admin system", get(r.body, "system"), []any{map[string]any{"all": true}})

	call(t, s, "GET", "/v3/auth/catalog", nil, "X-Auth-Token", unscoped).wantError(t, 403, msgForbidden)
	call(t, s, "GET", "/v3/auth/catalog", nil, "X-Auth-Token", dom).wantError(t, 403, msgForbidden)
	r = call(t, s, "GET", "/v3/auth/catalog", nil, "X-Auth-Token", scoped).want(t, 200)
	var types []string
	for _, svc := range get(r.body, "catalog").([]any) {
		types = append(types, get(svc, "type").(string))
	}
	equal(t, "catalog", types, []string{"identity", "compute", "object-store"})
	equal(t, "catalog links", get(r.body, "links"), map[string]any{"self": s.URL + "/v3/auth/catalog"})
	call(t, s, "GET", "/v3/auth/projects", nil).wantError(t, 401, msgUnauthorized)

	// Users: admins only.
	call(t, s, "GET", "/v3/users", nil, "X-Auth-Token", scoped).wantError(t, 403,
		"You are not authorized to perform the requested action: identity:list_users.")
	r = call(t, s, "GET", "/v3/users", nil, "X-Auth-Token", adminToken(t, s)).want(t, 200)
	equal(t, "users", len(get(r.body, "users").([]any)), 2)
}

func TestServiceRoutes(t *testing.T) {
	s := newTestServer(t)
	tok := demoToken(t, s)
	r := call(t, s, "GET", "/compute/v2.1/servers", nil, "X-Auth-Token", tok).want(t, 200)
	equal(t, "service", get(r.body, "service"), "compute")
	equal(t, "project", get(r.body, "project_id"), DemoProjectID)
	r = call(t, s, "PUT", "/object-store/v1/AUTH_"+DemoProjectID+"/c", nil, "X-Auth-Token", tok).want(t, 200)
	equal(t, "method", get(r.body, "method"), "PUT")
	call(t, s, "GET", "/compute/v2.1/servers", nil).wantError(t, 401, msgUnauthorized)
	equal(t, "counts", s.Requests("GET /compute/")+s.Requests("PUT /object-store/"), 3)
}

func TestDirectory(t *testing.T) {
	s := newTestServer(t)
	mustPanic := func(what string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", what)
			}
		}()
		f()
	}
	mustPanic("duplicate user", func() { s.AddUser(User{Name: DemoUserName}) })
	mustPanic("unknown role", func() { s.AddUser(User{Name: "x", SystemRoles: []string{"nope"}}) })
	mustPanic("unknown project", func() { s.AddUser(User{Name: "x", ProjectRoles: map[string][]string{"nope": {"reader"}}}) })
	mustPanic("bad TOTP secret", func() { s.AddUser(User{Name: "x", TOTPSecret: "not base32!"}) })
	mustPanic("unknown domain", func() { s.AddProject(Project{Name: "x", DomainID: "nope"}) })
	mustPanic("role not held", func() {
		s.AddApplicationCredential(ApplicationCredential{Name: "x", UserID: DemoUserID, ProjectID: DemoProjectID, Roles: []string{"admin"}})
	})
	mustPanic("trustor lacks role", func() {
		s.AddTrust(Trust{TrustorUserID: DemoUserID, TrusteeUserID: AdminUserID, ProjectID: DemoProjectID, Roles: []string{"admin"}})
	})
	u, ok := s.User(DemoUserName)
	equal(t, "user", ok && u.ID == DemoUserID, true)
	u.ProjectRoles[DemoProjectID] = append(u.ProjectRoles[DemoProjectID], "admin") // a copy
	u2, _ := s.User(DemoUserID)
	equal(t, "copy", u2.ProjectRoles[DemoProjectID], []string{"member"})
	p, _ := s.Project(DemoProjectName)
	equal(t, "project", p.ID, DemoProjectID)
	d, _ := s.Domain(DefaultDomainName)
	equal(t, "domain", d.ID, DefaultDomainID)
	ac, _ := s.ApplicationCredential(DemoAppCredName)
	equal(t, "app cred", ac.Secret, DemoAppCredSecret)
	role := s.AddRole(Role{Name: "auditor", Implies: []string{"reader"}})
	x := s.AddUser(User{Name: "x", Password: "pw", ProjectRoles: map[string][]string{DemoProjectID: {"auditor"}}})
	_, r := passwordLogin(t, s, x.Name, "pw", projectScope(DemoProjectID))
	equal(t, "implied", get(r.body, "token", "roles"), []any{map[string]any{"id": role.ID, "name": "auditor"},
		map[string]any{"id": ReaderRoleID, "name": "reader"}})

	s.SetCatalog([]Service{{Type: "network", Name: "neutron", Endpoints: []Endpoint{{Interface: "public", Region: "R", URL: "https://net.test/%(tenant_id)s"}}}})
	cat := s.Catalog()
	if len(cat) != 1 || cat[0].ID == "" || cat[0].Endpoints[0].ID == "" {
		t.Fatalf("catalog %+v", cat)
	}
	_, r = passwordLogin(t, s, DemoUserName, DemoPassword, nil)
	equal(t, "substituted", get(r.body, "token", "catalog", 0, "endpoints", 0, "url"), "https://net.test/"+DemoProjectID)

	s.Clear()
	if _, ok := s.User(DemoUserName); ok {
		t.Error("Clear kept the demo user")
	}
	if _, ok := s.Domain(DefaultDomainID); !ok {
		t.Error("Clear removed the Default domain")
	}
	call(t, s, "POST", "/v3/auth/tokens", passwordAuth(DemoUserName, DefaultDomainID, DemoPassword, nil)).want(t, 401)
	if len(DefaultCatalog("https://x")) != 3 || !slices.ContainsFunc(DefaultCatalog("https://x"), func(s Service) bool { return s.Type == "object-store" }) {
		t.Error("DefaultCatalog")
	}
}
