// Package keystonetest is a fake OpenStack Keystone v3 identity service,
// with Cleura Cloud's REST login beside it, that runs inside a test or an
// example: in the spirit of net/http/httptest, it lets code that
// authenticates against Keystone be tested without a cloud.
//
//	srv := keystonetest.NewServer()
//	defer srv.Close()
//	// point the code under test at srv.AuthURL() (or srv.URL), with srv.Client()
//
// It answers like the real server: the response bodies, status codes,
// headers (X-Subject-Token, Openstack-Auth-Receipt, WWW-Authenticate, Vary,
// x-openstack-request-id) and error messages are those of Keystone 22
// (Zed), checked by replaying the real captures of the ksauth repository
// (testdata/keystone) against it, quirks included: a 300 for version
// discovery, unscoped tokens without roles or catalog, domain and system
// catalogs without the endpoints that need a project, a rescoped token
// keeping the original expiry, an application credential's capped expiry
// written without a fraction or zone, 404 (not 401) for a revoked subject
// token, Flask's HTML 404 for an unknown path. The package uses the
// standard library only.
//
// # Servers
//
// [NewServer] listens on a loopback port over http, [NewTLSServer] over
// https (use [Server.Client], which trusts its certificate), and
// [NewInMemoryServer] not at all: its [Server.Client] hands each request
// to the handler in the calling goroutine, so that it works inside a
// testing/synctest bubble, where latency, Retry-After waits and token
// expiry then cost no real time.
//
// # The default directory
//
// A new server holds:
//
//   - domain Default (id "default");
//   - projects demo (DemoProjectID) and admin (AdminProjectID);
//   - roles admin, member and reader, each implying the next;
//   - user demo (DemoPassword): member on demo, its default project, and
//     reader on domain Default;
//   - user admin (AdminPassword): admin on the system, on project admin
//     (its default project) and on domain Default;
//   - application credential demo-ac of the demo user (DemoAppCredID,
//     DemoAppCredSecret): project demo, roles member and reader;
//   - the catalog of [DefaultCatalog]: identity at the server itself,
//     compute and object-store at paths of the server that answer any
//     request carrying a valid X-Auth-Token with a 200 describing the
//     token (and a 401 otherwise), so that a client's transport has a
//     service to call;
//   - Cleura accounts CleuraLogin (an SMS second factor) and
//     CleuraAPILogin (none).
//
// The Add methods (AddUser, AddProject, AddApplicationCredential,
// AddTrust, ...) add to it, [Server.SetCatalog] replaces the catalog, and
// [Server.Clear] empties it all but domain Default. Users carry their role
// assignments, their password, a TOTP secret and MFA rules.
//
// # Routes
//
// Keystone, under URL + "/v3" (version discovery also at URL itself):
//
//	GET    /                                          300, the versions
//	GET    /v3                                        200, v3.14
//	POST   /v3/auth/tokens                            log in: password, token, totp, application_credential,
//	                                                  any scope; ?nocatalog; MFA receipts (Openstack-Auth-Receipt)
//	GET    /v3/auth/tokens                            validate X-Subject-Token (?nocatalog, ?allow_expired=1); a token
//	                                                  with access rules only with Openstack-Identity-Access-Rules: 1.0
//	HEAD   /v3/auth/tokens                            check
//	DELETE /v3/auth/tokens                            revoke
//	GET    /v3/auth/projects, /domains, /system, /catalog
//	GET    /v3/users                                  admins only (others: 403 identity:list_users)
//	POST, GET        /v3/users/{user_id}/application_credentials      (?name=)
//	GET, DELETE      /v3/users/{user_id}/application_credentials/{id}
//	GET              /v3/users/{user_id}/access_rules
//	GET, DELETE      /v3/users/{user_id}/access_rules/{id}
//	POST, GET        /v3/users/{user_id}/credentials/OS-EC2
//	GET, DELETE      /v3/users/{user_id}/credentials/OS-EC2/{access}
//	any    /compute/..., /object-store/...            the sample services
//
// Cleura, at URL itself (its BaseURL), v1 and v2 as Cleura's REST API has
// them: POST /auth/v2/tokens, /auth/v2/request-sms-code,
// /auth/v2/tokens-by-sms-code, /auth/v2/tokens/validate, DELETE
// /auth/v2/tokens; POST /auth/v1/tokens, /auth/v1/tokens/request2facode,
// /auth/v1/tokens/verify2fa, /auth/v1/tokens/validate, DELETE
// /auth/v1/tokens; and GET /accesscontrol/v1/openstack/domains. The SMS
// is not sent anywhere: [Server.SMSCode] returns the code, for the test to
// type in. Authenticated calls need X-AUTH-LOGIN and X-AUTH-TOKEN; a bad
// token gets Cleura's 403 {"error":{"code":403,"message":"Invalid token"}}.
//
// # Counters
//
// [Server.Requests] counts the requests of a route, named by its method
// and the path pattern above: "POST /v3/auth/tokens", "HEAD
// /v3/auth/tokens" (apart from GET), "GET
// /v3/users/{user_id}/application_credentials/{id}", "POST
// /auth/v2/tokens", "GET /compute/", ...; an unknown path by its method and
// path. Faulted requests count too.
//
// # Faults and time
//
// [Server.RejectNext] refuses the next requests that carry a token (401,
// or Cleura's 403 "Invalid token"), [Server.RateLimitNext] answers 429
// with or without Retry-After, [Server.UnavailableNext] 503,
// [Server.MalformedNext] cuts response bodies in half, [Server.SetLatency]
// delays every request, and [Server.RevokeAll] revokes every token.
// [Server.SetClock] replaces the server's clock (token issue and expiry,
// receipts, TOTP), [Server.SetTokenLifetime] the token lifetime (default
// one hour).
//
// # Limits
//
// It is a fake: one process, no persistence, no policy file (the checks
// are Keystone's defaults, simplified: admin, system reader, owner), no
// federation, OAuth, groups or inherited roles, no pagination (every list
// fits one page, links.next is null), and access rules are recorded but
// not enforced (Keystone does not enforce them either). Every method of a
// Server is safe for concurrent use.
package keystonetest
