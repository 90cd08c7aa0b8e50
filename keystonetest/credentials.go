package keystonetest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Credential management: application credentials, their access rules, and
// EC2 credentials, under /v3/users/{user_id}/, with Keystone's status
// codes and messages.

// newSecret returns a secret as Keystone generates one for an application
// credential: 64 random bytes, url-safe base64 without padding.
func newSecret() string {
	var b [64]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// policy says whether caller, holding roles, may act on the credentials of
// user userID (the {user_id} of the path): Keystone's policy rule for the
// route.
type policy func(caller *token, roles []string, userID string) bool

// authorized returns the valid caller token of a request under
// /v3/users/{user_id}/ when allow lets it do action, or writes the 401 or
// the 403 naming action.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request, action string, allow policy) (*token, bool) {
	caller := s.callerToken(w, r)
	if caller == nil {
		return nil, false
	}
	s.mu.Lock()
	roles := s.dir.roleNames(s.dir.rolesByID(caller.roleIDs))
	s.mu.Unlock()
	if !allow(caller, roles, r.PathValue("user_id")) {
		s.forbiddenAction(w, action)
		return nil, false
	}
	return caller, true
}

// isOwner: only the user itself (creating an application credential).
func isOwner(caller *token, _ []string, userID string) bool { return caller.userID == userID }

// isOwnerOrAdmin: the user itself or an admin (deletions).
func isOwnerOrAdmin(caller *token, roles []string, userID string) bool {
	return caller.userID == userID || isAdmin(roles)
}

// mayManageEC2: an admin, or the user itself with the member role.
func mayManageEC2(caller *token, roles []string, userID string) bool {
	return isAdmin(roles) || (slices.Contains(roles, "member") && caller.userID == userID)
}

// isAdmin is Keystone's admin_required: the admin role, on any scope.
func isAdmin(roles []string) bool { return slices.Contains(roles, "admin") }

// isSystemReader is Keystone's "role:reader and system_scope:all".
func isSystemReader(caller *token, roles []string) bool {
	return caller.system && slices.Contains(roles, "reader")
}

// --- application credentials ------------------------------------------------------

// appCredJSON is an application credential as Keystone shows it (without
// its secret). s.mu is held.
func (s *Server) appCredJSON(ac *ApplicationCredential) map[string]any {
	roles := []map[string]any{}
	for _, name := range ac.Roles {
		if r := s.dir.roleByName(name); r != nil {
			roles = append(roles, fullRole(*r))
		}
	}
	var expires any // microseconds kept, unlike a token's times
	if !ac.ExpiresAt.IsZero() {
		expires = ac.ExpiresAt.UTC().Format(layoutNoZone)
	}
	m := map[string]any{
		"id": ac.ID, "name": ac.Name, "description": nullableString(ac.Description), "user_id": ac.UserID,
		"project_id": nullableString(ac.ProjectID), "system": nil,
		"expires_at": expires, "unrestricted": nil, "roles": roles,
		"links": map[string]string{"self": s.URL + "/v3/application_credentials/" + ac.ID},
	}
	if ac.Unrestricted {
		m["unrestricted"] = true
	}
	if len(ac.AccessRules) > 0 {
		rules := make([]wireAccessRule, len(ac.AccessRules))
		for i, r := range ac.AccessRules {
			rules[i] = wireAccessRule{r.ID, r.Service, r.Path, r.Method}
		}
		m["access_rules"] = rules
	}
	return m
}

func nullableString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// appCredCreate is the body of POST …/application_credentials.
type appCredCreate struct {
	ApplicationCredential *appCredFields `json:"application_credential"`
}

// appCredFields are the fields a new application credential may be given.
type appCredFields struct {
	Name         *string `json:"name"`
	Description  *string `json:"description"`
	Secret       *string `json:"secret"`
	ExpiresAt    *string `json:"expires_at"`
	Unrestricted *bool   `json:"unrestricted"`
	Roles        []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"roles"`
	AccessRules []struct {
		ID      string  `json:"id"`
		Service string  `json:"service"`
		Method  string  `json:"method"`
		Path    *string `json:"path"`
	} `json:"access_rules"`
}

// apiError is an error answer: decided under the lock, written after it.
type apiError struct {
	status  int
	message string
}

var accessRuleMethod = regexp.MustCompile(`^(POST|GET|HEAD|PATCH|PUT|DELETE)$`)

// msgMalformed ends Keystone's 400 answers to a malformed value.
const msgMalformed = "The server could not comply with the request since it is either malformed or otherwise incorrect. " +
	"The client is assumed to be in error."

// handleCreateAppCred is POST /v3/users/{user_id}/application_credentials:
// 201 with the secret (the only answer that shows it), 409 for a name the
// user already has. The checks come in the order Keystone makes them.
func (s *Server) handleCreateAppCred(w http.ResponseWriter, r *http.Request) {
	caller, ok := s.authorized(w, r, "identity:create_application_credential", isOwner)
	if !ok {
		return
	}
	raw, _ := io.ReadAll(r.Body)
	var req appCredCreate
	if err := json.Unmarshal(raw, &req); err != nil {
		s.keystoneError(w, http.StatusBadRequest, msgBadJSON, nil)
		return
	}
	in := req.ApplicationCredential
	e := s.checkAppCredCreate(in, caller)
	var body map[string]any
	if e == nil {
		body, e = s.createAppCred(in, caller, r.PathValue("user_id"))
	}
	if e != nil {
		s.keystoneError(w, e.status, e.message, nil)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"application_credential": body})
}

// checkAppCredCreate refuses what Keystone refuses before looking anything
// up: no name, a malformed access rule, and a caller that may not create
// credentials (a restricted application credential's token, a trust's).
func (s *Server) checkAppCredCreate(in *appCredFields, caller *token) *apiError {
	if in == nil || in.Name == nil || *in.Name == "" {
		return &apiError{http.StatusBadRequest, "'name' is a required property"}
	}
	for i, rule := range in.AccessRules {
		if rule.ID == "" && (!accessRuleMethod.MatchString(rule.Method) || rule.Path == nil || len(*rule.Path) > 225 ||
			len(*rule.Path) > 0 && (*rule.Path)[0] != '/' || *rule.Path == "" || rule.Service == "") {
			return &apiError{http.StatusBadRequest, "Invalid input for field 'access_rules/" + itoa(i) +
				"': the rule needs a service, a method (POST, GET, HEAD, PATCH, PUT or DELETE) and a path starting with /"}
		}
	}
	if slices.Contains(caller.methods, "application_credential") {
		s.mu.Lock()
		ac := s.dir.appCred(caller.appCredID)
		unrestricted := ac != nil && ac.Unrestricted
		s.mu.Unlock()
		if !unrestricted {
			return &apiError{http.StatusForbidden, forbiddenActionMessage(
				"Using method 'application_credential' is not allowed for managing additional application credentials.")}
		}
	}
	if caller.trustID != "" {
		return &apiError{http.StatusForbidden, msgForbidden}
	}
	return nil
}

// createAppCred makes the credential: it checks the expiry, the roles
// (each one the caller's token carries; none asked: all of them), the
// access rules given by ID and the name, then stores it. The answer shows
// the secret.
func (s *Server) createAppCred(in *appCredFields, caller *token, userID string) (map[string]any, *apiError) {
	ac, e := s.appCredFrom(in, caller, userID)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ac.Roles, e = s.grantedRoles(in, caller); e != nil {
		return nil, e
	}
	for _, rule := range ac.AccessRules {
		if rule.ID != "" && !slices.ContainsFunc(s.dir.accessRules[userID], func(r AccessRule) bool { return r.ID == rule.ID }) {
			return nil, &apiError{http.StatusNotFound, "Could not find Access Rule: " + rule.ID + "."}
		}
	}
	if s.dir.appCredByName(ac.Name, userID) != nil {
		return nil, &apiError{http.StatusConflict, "Conflict occurred attempting to store application_credential - " +
			"Duplicate entry found with name " + ac.Name + "."}
	}
	created, _ := s.dir.addAppCred(ac)
	body := s.appCredJSON(&created)
	body["secret"] = created.Secret
	return body, nil
}

// appCredFrom is the credential in's fields describe, without its roles.
func (s *Server) appCredFrom(in *appCredFields, caller *token, userID string) (ApplicationCredential, *apiError) {
	ac := ApplicationCredential{Name: *in.Name, UserID: userID, ProjectID: caller.projectID}
	if in.Description != nil {
		ac.Description = *in.Description
	}
	if in.Secret != nil {
		ac.Secret = *in.Secret
	}
	if in.Unrestricted != nil {
		ac.Unrestricted = *in.Unrestricted
	}
	if in.ExpiresAt != nil && *in.ExpiresAt != "" {
		t, ok := parseExpiry(*in.ExpiresAt)
		switch {
		case !ok:
			return ac, &apiError{http.StatusBadRequest, "Timestamp not in expected format. " + msgMalformed}
		case !t.After(s.Now()):
			return ac, &apiError{http.StatusBadRequest, "The 'expires_at' must not be before now. " + msgMalformed}
		}
		ac.ExpiresAt = t
	}
	for _, rule := range in.AccessRules {
		path := ""
		if rule.Path != nil {
			path = *rule.Path
		}
		ac.AccessRules = append(ac.AccessRules, AccessRule{ID: rule.ID, Service: rule.Service, Method: rule.Method, Path: path})
	}
	return ac, nil
}

// grantedRoles are the names of the roles in asks for, each of which the
// caller's token must carry; all the token's roles when in asks for none.
// The caller holds s.mu.
func (s *Server) grantedRoles(in *appCredFields, caller *token) ([]string, *apiError) {
	tokenRoles := s.dir.roleNames(s.dir.rolesByID(caller.roleIDs))
	if len(in.Roles) == 0 {
		return tokenRoles, nil
	}
	var names []string
	for _, want := range in.Roles {
		role := s.dir.roleByName(want.Name)
		if want.ID != "" {
			role = s.dir.role(want.ID)
		}
		switch {
		case role == nil:
			return nil, &apiError{http.StatusNotFound, "Could not find role: " + want.Name + want.ID + "."}
		case !slices.Contains(tokenRoles, role.Name):
			return nil, &apiError{http.StatusBadRequest,
				"Invalid application credential: Cannot create an application credential with unassigned role"}
		}
		names = append(names, role.Name)
	}
	return names, nil
}

// parseExpiry reads an expires_at as Keystone accepts it: ISO 8601, with
// or without a fraction and a zone (none means UTC).
func parseExpiry(v string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05.999999999Z07"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// mayRead reports whether caller may read userID's credentials: the owner,
// an admin, or a system reader.
func mayRead(caller *token, roles []string, userID string) bool {
	return caller.userID == userID || isAdmin(roles) || isSystemReader(caller, roles)
}

// handleListAppCreds is GET /v3/users/{user_id}/application_credentials[?name=].
func (s *Server) handleListAppCreds(w http.ResponseWriter, r *http.Request) {
	caller, ok := s.authorized(w, r, "identity:list_application_credentials", mayRead)
	if !ok {
		return
	}
	userID := r.PathValue("user_id")
	if caller.trustID != "" {
		s.keystoneError(w, http.StatusForbidden, msgForbidden, nil)
		return
	}
	name, filtered := r.URL.Query()["name"]
	s.mu.Lock()
	var creds []*ApplicationCredential
	for i := range s.dir.appCreds {
		ac := &s.dir.appCreds[i]
		if ac.UserID == userID && (!filtered || ac.Name == name[0]) {
			creds = append(creds, ac)
		}
	}
	// In name order, not in the order of creation: so Keystone 22 lists
	// them (testdata/keystone/cred_appcred_list.json).
	slices.SortFunc(creds, func(a, b *ApplicationCredential) int { return strings.Compare(a.Name, b.Name) })
	list := []map[string]any{}
	for _, ac := range creds {
		list = append(list, s.appCredJSON(ac))
	}
	s.mu.Unlock()
	self := "/v3/users/" + userID + "/application_credentials"
	if r.URL.RawQuery != "" {
		self += "?" + r.URL.RawQuery
	}
	writeJSON(w, http.StatusOK, map[string]any{"application_credentials": list, "links": s.links(self, true)})
}

// userAppCred returns the user's application credential of the path, or
// writes the 404. s.mu is not held.
func (s *Server) userAppCred(w http.ResponseWriter, r *http.Request) (ApplicationCredential, bool) {
	id := r.PathValue("id")
	s.mu.Lock()
	ac := s.dir.appCred(id)
	ok := ac != nil && ac.UserID == r.PathValue("user_id")
	var out ApplicationCredential
	if ok {
		out = ac.clone()
	}
	s.mu.Unlock()
	if !ok {
		s.keystoneError(w, http.StatusNotFound, "Could not find Application Credential: "+id+".", nil)
	}
	return out, ok
}

// handleGetAppCred is GET /v3/users/{user_id}/application_credentials/{id}:
// the credential without its secret.
func (s *Server) handleGetAppCred(w http.ResponseWriter, r *http.Request) {
	_, ok := s.authorized(w, r, "identity:get_application_credential", mayRead)
	if !ok {
		return
	}
	ac, ok := s.userAppCred(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	body := s.appCredJSON(&ac)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"application_credential": body})
}

// handleDeleteAppCred is DELETE /v3/users/{user_id}/application_credentials/{id}:
// 204, and every token issued from the credential is revoked.
func (s *Server) handleDeleteAppCred(w http.ResponseWriter, r *http.Request) {
	caller, ok := s.authorized(w, r, "identity:delete_application_credential", isOwnerOrAdmin)
	if !ok {
		return
	}
	ac, ok := s.userAppCred(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	restricted := false
	if caller.appCredID != "" {
		own := s.dir.appCred(caller.appCredID)
		restricted = own == nil || !own.Unrestricted
	}
	if !restricted {
		s.dir.appCreds = slices.DeleteFunc(s.dir.appCreds, func(c ApplicationCredential) bool { return c.ID == ac.ID })
		for _, t := range s.tokens {
			if t.appCredID == ac.ID {
				t.revoked = true
			}
		}
	}
	s.mu.Unlock()
	if restricted {
		s.forbiddenAction(w, "Using method 'application_credential' is not allowed for managing additional application credentials.")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// --- access rules ------------------------------------------------------------------------

// accessRuleJSON is an access rule as Keystone shows it: its links.self is
// /v3/access_rules/{id}, without the user, as in Keystone's answers.
func (s *Server) accessRuleJSON(r AccessRule) map[string]any {
	return map[string]any{"id": r.ID, "service": r.Service, "path": r.Path, "method": r.Method,
		"links": map[string]string{"self": s.URL + "/v3/access_rules/" + r.ID}}
}

// handleListAccessRules is GET /v3/users/{user_id}/access_rules.
func (s *Server) handleListAccessRules(w http.ResponseWriter, r *http.Request) {
	_, ok := s.authorized(w, r, "identity:list_access_rules", mayRead)
	if !ok {
		return
	}
	userID := r.PathValue("user_id")
	s.mu.Lock()
	list := []map[string]any{}
	for _, rule := range s.dir.accessRules[userID] {
		list = append(list, s.accessRuleJSON(rule))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_rules": list, "links": s.links("/v3/users/"+userID+"/access_rules", true)})
}

// userAccessRule returns the access rule of the path, or writes the 404.
func (s *Server) userAccessRule(w http.ResponseWriter, r *http.Request) (AccessRule, bool) {
	id, userID := r.PathValue("id"), r.PathValue("user_id")
	s.mu.Lock()
	i := slices.IndexFunc(s.dir.accessRules[userID], func(a AccessRule) bool { return a.ID == id })
	var rule AccessRule
	if i >= 0 {
		rule = s.dir.accessRules[userID][i]
	}
	s.mu.Unlock()
	if i < 0 {
		s.keystoneError(w, http.StatusNotFound, "Could not find Access Rule: "+id+".", nil)
	}
	return rule, i >= 0
}

// handleGetAccessRule is GET /v3/users/{user_id}/access_rules/{id}.
func (s *Server) handleGetAccessRule(w http.ResponseWriter, r *http.Request) {
	_, ok := s.authorized(w, r, "identity:get_access_rule", mayRead)
	if !ok {
		return
	}
	rule, ok := s.userAccessRule(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_rule": s.accessRuleJSON(rule)})
}

// handleDeleteAccessRule is DELETE /v3/users/{user_id}/access_rules/{id}:
// 204, or 403 while an application credential uses the rule.
func (s *Server) handleDeleteAccessRule(w http.ResponseWriter, r *http.Request) {
	_, ok := s.authorized(w, r, "identity:delete_access_rule", isOwnerOrAdmin)
	if !ok {
		return
	}
	userID := r.PathValue("user_id")
	rule, ok := s.userAccessRule(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	inUse := slices.ContainsFunc(s.dir.appCreds, func(ac ApplicationCredential) bool {
		return ac.UserID == userID && slices.ContainsFunc(ac.AccessRules, func(a AccessRule) bool { return a.ID == rule.ID })
	})
	if !inUse {
		s.dir.accessRules[userID] = slices.DeleteFunc(s.dir.accessRules[userID], func(a AccessRule) bool { return a.ID == rule.ID })
	}
	s.mu.Unlock()
	if inUse {
		s.keystoneError(w, http.StatusForbidden, "May not delete access rule in use", nil)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// --- EC2 credentials ------------------------------------------------------------------------

// ec2Credential is an EC2 credential; every access holds Server.mu.
type ec2Credential struct {
	userID, projectID, access, secret, trustID string
}

// EC2Credential is an EC2/S3 credential as the server holds it.
type EC2Credential struct {
	UserID    string
	ProjectID string
	Access    string
	Secret    string
}

// EC2Credentials lists the EC2 credentials of a user ("": of every user).
func (s *Server) EC2Credentials(userID string) []EC2Credential {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []EC2Credential
	for _, c := range s.ec2 {
		if userID == "" || c.userID == userID {
			out = append(out, EC2Credential{c.userID, c.projectID, c.access, c.secret})
		}
	}
	return out
}

func (s *Server) ec2JSON(c *ec2Credential) map[string]any {
	return map[string]any{"user_id": c.userID, "tenant_id": c.projectID, "access": c.access, "secret": c.secret,
		"trust_id": nullableString(c.trustID),
		"links":    map[string]string{"self": s.URL + "/v3/users/" + c.userID + "/credentials/OS-EC2/" + c.access}}
}

// delegated reports a token that may not touch EC2 credentials: one of a
// trust or an application credential.
func delegated(t *token) bool { return t.trustID != "" || t.appCredID != "" }

const msgDelegatedEC2 = "Delegated tokens cannot access credentials directly"

// handleCreateEC2 is POST /v3/users/{user_id}/credentials/OS-EC2
// {"tenant_id": project}: 201 with access and secret.
func (s *Server) handleCreateEC2(w http.ResponseWriter, r *http.Request) {
	caller, ok := s.authorized(w, r, "identity:ec2_create_credential", mayManageEC2)
	if !ok {
		return
	}
	userID := r.PathValue("user_id")
	var req struct {
		TenantID *string `json:"tenant_id"`
	}
	raw, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(raw, &req); err != nil {
		s.keystoneError(w, http.StatusBadRequest, msgBadJSON, nil)
		return
	}
	s.mu.Lock()
	userOK := s.dir.user(userID) != nil
	projectOK := req.TenantID != nil && s.dir.project(*req.TenantID) != nil
	var c *ec2Credential
	if userOK && projectOK && !delegated(caller) {
		c = &ec2Credential{userID: userID, projectID: *req.TenantID, access: newID(), secret: newID()}
		s.ec2 = append(s.ec2, c)
	}
	var body map[string]any
	if c != nil {
		body = s.ec2JSON(c)
	}
	s.mu.Unlock()
	switch {
	case !userOK:
		s.keystoneError(w, http.StatusNotFound, "Could not find user: "+userID+".", nil)
	case !projectOK:
		id := "None"
		if req.TenantID != nil {
			id = *req.TenantID
		}
		s.keystoneError(w, http.StatusNotFound, "Could not find project: "+id+".", nil)
	case c == nil:
		s.forbiddenAction(w, msgDelegatedEC2)
	default:
		writeJSON(w, http.StatusCreated, map[string]any{"credential": body})
	}
}

// handleListEC2 is GET /v3/users/{user_id}/credentials/OS-EC2.
func (s *Server) handleListEC2(w http.ResponseWriter, r *http.Request) {
	caller, ok := s.authorized(w, r, "identity:ec2_list_credentials", mayManageEC2)
	if !ok {
		return
	}
	userID := r.PathValue("user_id")
	if delegated(caller) {
		s.forbiddenAction(w, msgDelegatedEC2)
		return
	}
	s.mu.Lock()
	list := []map[string]any{}
	for _, c := range s.ec2 {
		if c.userID == userID {
			list = append(list, s.ec2JSON(c))
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"credentials": list, "links": s.links("/v3/users/"+userID+"/credentials/OS-EC2", true)})
}

// userEC2 returns the credential of the path, or writes the error
// Keystone gives: an unknown access key is a 404 naming the credential id
// Keystone derives from it (the SHA-256 of the key, in hex), as the real
// server answers (not the 401 "EC2 access key not found" of its code and
// api-ref, which only a non-EC2 credential with that id would get); a
// key of another user's is a 403.
func (s *Server) userEC2(w http.ResponseWriter, r *http.Request, action string) *ec2Credential {
	access, userID := r.PathValue("access"), r.PathValue("user_id")
	s.mu.Lock()
	var found *ec2Credential
	for _, c := range s.ec2 {
		if c.access == access {
			found = c
		}
	}
	s.mu.Unlock()
	switch {
	case found == nil:
		sum := sha256.Sum256([]byte(access))
		s.keystoneError(w, http.StatusNotFound, "Could not find credential: "+hex.EncodeToString(sum[:])+".", nil)
		return nil
	case found.userID != userID:
		s.forbiddenAction(w, action)
		return nil
	}
	return found
}

// handleGetEC2 is GET /v3/users/{user_id}/credentials/OS-EC2/{access}.
func (s *Server) handleGetEC2(w http.ResponseWriter, r *http.Request) {
	caller, ok := s.authorized(w, r, "identity:ec2_get_credential", mayRead)
	if !ok {
		return
	}
	c := s.userEC2(w, r, "identity:ec2_get_credential")
	if c == nil {
		return
	}
	if delegated(caller) {
		s.forbiddenAction(w, msgDelegatedEC2)
		return
	}
	s.mu.Lock()
	body := s.ec2JSON(c)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"credential": body})
}

// handleDeleteEC2 is DELETE /v3/users/{user_id}/credentials/OS-EC2/{access}.
func (s *Server) handleDeleteEC2(w http.ResponseWriter, r *http.Request) {
	caller, ok := s.authorized(w, r, "identity:ec2_delete_credential", isOwnerOrAdmin)
	if !ok {
		return
	}
	c := s.userEC2(w, r, "identity:ec2_delete_credential")
	if c == nil {
		return
	}
	if delegated(caller) {
		s.forbiddenAction(w, msgDelegatedEC2)
		return
	}
	s.mu.Lock()
	s.ec2 = slices.DeleteFunc(s.ec2, func(x *ec2Credential) bool { return x == c })
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}
