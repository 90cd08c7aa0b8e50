package keystonetest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// token is an issued token, as the server remembers it. Fields are set
// once, except revoked; every access holds Server.mu.
type token struct {
	id        string
	userID    string
	methods   []string
	issuedAt  time.Time
	expiresAt time.Time
	capped    bool // expiry cut to the app credential's: issued as "…:SS" (Keystone's quirk)
	auditIDs  []string
	projectID string
	domainID  string
	system    bool
	trustID   string
	appCredID string
	roleIDs   []string
	catalog   []wireService // nil for unscoped tokens
	revoked   bool
}

// TokenInfo describes an issued token, for tests to check what the server
// holds.
type TokenInfo struct {
	ID       string
	UserID   string
	UserName string
	// Methods are the methods the token proves, e.g. ["password", "totp"].
	Methods   []string
	IssuedAt  time.Time
	ExpiresAt time.Time
	// ProjectID, DomainID, System: the scope; all empty for an unscoped token.
	ProjectID string
	DomainID  string
	System    bool
	// TrustID is set for a trust-scoped token.
	TrustID string
	// ApplicationCredentialID is set for a token of an application credential.
	ApplicationCredentialID string
	// Roles names the token's roles, implied ones included.
	Roles    []string
	AuditIDs []string
	// Revoked is set once the token was revoked (DELETE /v3/auth/tokens,
	// Revoke, RevokeAll, or its application credential's deletion).
	Revoked bool
}

// LookupToken returns what the server knows of token id, valid or not;
// false for an id it never issued.
func (s *Server) LookupToken(id string) (TokenInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tokens[id]
	if t == nil {
		return TokenInfo{}, false
	}
	info := TokenInfo{ID: t.id, UserID: t.userID, Methods: slices.Clone(t.methods), IssuedAt: t.issuedAt, ExpiresAt: t.expiresAt,
		ProjectID: t.projectID, DomainID: t.domainID, System: t.system, TrustID: t.trustID, ApplicationCredentialID: t.appCredID,
		Roles: s.dir.roleNames(s.dir.rolesByID(t.roleIDs)), AuditIDs: slices.Clone(t.auditIDs), Revoked: t.revoked}
	if u := s.dir.user(t.userID); u != nil {
		info.UserName = u.Name
	}
	return info, true
}

// Revoke revokes a token, as DELETE /v3/auth/tokens does; false if the
// server never issued it.
func (s *Server) Revoke(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tokens[id]
	if t != nil {
		t.revoked = true
	}
	return t != nil
}

// valid reports whether t may be used now.
func (s *Server) valid(t *token) bool {
	return t != nil && !t.revoked && s.clock().Before(t.expiresAt)
}

// newTokenID returns a random token id shaped like a fernet token
// ("gAAAAAB…", url-safe base64).
func newTokenID() string {
	var b [120]byte
	_, _ = rand.Read(b[:])
	return "gAAAAAB" + base64.RawURLEncoding.EncodeToString(b[:])
}

// newAuditID returns a random audit id: 16 bytes, url-safe base64, as
// Keystone makes them.
func newAuditID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// --- the auth request --------------------------------------------------------------

type authRequest struct {
	Auth *struct {
		Identity *identityRequest `json:"identity"`
		Scope    json.RawMessage  `json:"scope"`
	} `json:"auth"`
}

type identityRequest struct {
	Methods               []string        `json:"methods"`
	Password              *userMethod     `json:"password"`
	TOTP                  *userMethod     `json:"totp"`
	Token                 *tokenMethod    `json:"token"`
	ApplicationCredential *appCredRequest `json:"application_credential"`
}

type userMethod struct {
	User *userRequest `json:"user"`
}

type userRequest struct {
	ID       string      `json:"id"`
	Name     string      `json:"name"`
	Domain   *refRequest `json:"domain"`
	Password *string     `json:"password"`
	Passcode *string     `json:"passcode"`
}

type tokenMethod struct {
	ID *string `json:"id"`
}

type appCredRequest struct {
	ID     string       `json:"id"`
	Name   string       `json:"name"`
	Secret *string      `json:"secret"`
	User   *userRequest `json:"user"`
}

// refRequest is an {id} or {name, domain} reference.
type refRequest struct {
	ID     string      `json:"id"`
	Name   string      `json:"name"`
	Domain *refRequest `json:"domain"`
}

// supportedMethods are the identity methods the server implements.
var supportedMethods = []string{"password", "token", "application_credential", "totp"}

// authError is a failure of an auth request, written by write.
type authError struct {
	status  int
	message string
	extra   map[string]any
}

func (e *authError) Error() string { return e.message }

var errUnauthorized = &authError{status: http.StatusUnauthorized, message: msgUnauthorized}

func badRequest(attribute, target string) *authError {
	return &authError{status: http.StatusBadRequest, message: "Expecting to find " + attribute + " in " + target +
		". The server could not comply with the request since it is either malformed or otherwise incorrect. " +
		"The client is assumed to be in error."}
}

func forbiddenAction(action string) *authError {
	return &authError{status: http.StatusForbidden, message: "You are not authorized to perform the requested action: " + action + "."}
}

// scopeRequest is the requested scope, resolved.
type scopeRequest struct {
	given     bool // a scope was sent (an app credential's is implied, not given)
	unscoped  bool
	projectID string
	domainID  string
	system    bool
	trust     *Trust
}

// login is an auth request being processed: what the methods proved.
type login struct {
	userID    string
	methods   []string // the methods that succeeded, in order, with those of an exchanged token
	appCred   *ApplicationCredential
	exchanged *token // the token of the "token" method
}

// handleIssue is POST /v3/auth/tokens.
func (s *Server) handleIssue(w http.ResponseWriter, r *http.Request) {
	var req authRequest
	raw, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(raw, &req); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) || len(raw) == 0 {
			s.keystoneError(w, http.StatusBadRequest, msgBadJSON, nil)
			return
		}
		s.keystoneError(w, http.StatusBadRequest, "Invalid input for field 'auth': "+err.Error(), nil)
		return
	}
	s.mu.Lock()
	t, rec, err := s.issue(&req, r.Header.Get("Openstack-Auth-Receipt"))
	var body []byte
	switch {
	case err == nil:
		body = s.tokenJSON(t, !hasQuery(r, "nocatalog"), true)
	case rec != nil:
		body = s.receiptJSON(rec)
	}
	s.mu.Unlock()
	switch {
	case err == nil:
		w.Header()["X-Subject-Token"] = []string{t.id}
		writeRaw(w, http.StatusCreated, body)
	case rec != nil:
		w.Header()["Openstack-Auth-Receipt"] = []string{rec.id}
		writeRaw(w, http.StatusUnauthorized, body)
	default:
		var ae *authError
		if !errors.As(err, &ae) {
			ae = errUnauthorized
		}
		s.keystoneError(w, ae.status, ae.message, ae.extra)
	}
}

// issue authenticates req and issues its token, or returns the receipt
// of a login that needs more methods (with a non-nil error), or why it
// failed. s.mu is held.
func (s *Server) issue(req *authRequest, receiptID string) (*token, *receipt, error) {
	id, methods, err := requestedMethods(req)
	if err != nil {
		return nil, nil, err
	}
	var l login
	scope, err := s.scope(req.Auth.Scope, methods, id, &l)
	if err != nil {
		return nil, nil, err
	}
	for _, m := range methods {
		if err := s.authenticateMethod(m, id, &l); err != nil {
			return nil, nil, err
		}
	}
	if l.userID == "" {
		return nil, nil, errUnauthorized
	}
	user := s.dir.user(l.userID)
	if !scope.given && l.appCred == nil {
		s.defaultScope(user, &scope)
	}
	proved, err := s.provedWith(receiptID, l.userID, l.methods)
	if err != nil {
		return nil, nil, err
	}
	if !mfaSatisfied(user.MFARules, proved) {
		rec := s.newReceipt(user, proved)
		return nil, rec, errors.New("multi-factor authentication required")
	}
	t, err := s.newToken(user, proved, scope, &l)
	if err != nil {
		return nil, nil, err
	}
	return t, nil, nil
}

// requestedMethods checks the shape of req's identity and returns it with
// its methods, each once: every one supported, each with its object.
func requestedMethods(req *authRequest) (*identityRequest, []string, error) {
	if req.Auth == nil {
		return nil, nil, badRequest("auth", "request body")
	}
	id := req.Auth.Identity
	if id == nil {
		return nil, nil, badRequest("identity", "auth")
	}
	if id.Methods == nil {
		return nil, nil, badRequest("methods", "identity")
	}
	var methods []string
	for _, m := range id.Methods {
		if !slices.Contains(methods, m) {
			methods = append(methods, m)
		}
	}
	present := map[string]bool{"password": id.Password != nil, "totp": id.TOTP != nil, "token": id.Token != nil,
		"application_credential": id.ApplicationCredential != nil}
	for _, m := range methods {
		if !slices.Contains(supportedMethods, m) {
			return nil, nil, &authError{status: http.StatusUnauthorized, message: "Attempted to authenticate with an unsupported method.",
				extra: map[string]any{"identity": map[string]any{"methods": supportedMethods}}}
		}
		if !present[m] {
			return nil, nil, badRequest(m, "identity")
		}
	}
	return id, methods, nil
}

// provedWith adds to methods, proved by userID just now, those its
// receipt (receiptID, if any) proved before.
func (s *Server) provedWith(receiptID, userID string, methods []string) ([]string, error) {
	proved := slices.Clone(methods)
	if receiptID == "" {
		return proved, nil
	}
	rec := s.receipts[receiptID]
	if rec == nil || !s.clock().Before(rec.expiresAt) || rec.userID != userID {
		return nil, &authError{status: http.StatusUnauthorized, message: "Could not find auth receipt: " + receiptID + "."}
	}
	for _, m := range rec.methods {
		if !slices.Contains(proved, m) {
			proved = append(proved, m)
		}
	}
	return proved, nil
}

// scope resolves the requested scope, as Keystone does before it runs the
// methods: an application credential's project, or the scope sent.
func (s *Server) scope(raw json.RawMessage, methods []string, id *identityRequest, l *login) (scopeRequest, error) {
	given := len(raw) > 0 && string(raw) != "null"
	switch {
	case slices.Contains(methods, "application_credential"):
		return s.appCredScope(given, id, l)
	case !given:
		return scopeRequest{}, nil
	}
	var str string
	if json.Unmarshal(raw, &str) == nil {
		if str == "unscoped" {
			return scopeRequest{given: true, unscoped: true}, nil
		}
		return scopeRequest{}, badRequest("system, project, domain, OS-TRUST:trust or unscoped", "scope")
	}
	var sc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &sc); err != nil || len(sc) != 1 {
		return scopeRequest{}, badRequest("system, project, domain, OS-TRUST:trust or unscoped", "scope")
	}
	var key string
	for key = range sc { // its only key
	}
	return s.scopeOf(key, sc[key])
}

// appCredScope is an application credential's scope: its own project.
// Keystone refuses a scope sent with one.
func (s *Server) appCredScope(given bool, id *identityRequest, l *login) (scopeRequest, error) {
	if given {
		return scopeRequest{}, &authError{status: http.StatusUnauthorized,
			message: "Error authenticating with application credential: Application credentials cannot request a scope.",
			extra:   map[string]any{"identity": map[string]any{}}}
	}
	ac, err := s.lookupAppCred(id.ApplicationCredential)
	if err != nil {
		return scopeRequest{}, err
	}
	l.appCred = ac
	return scopeRequest{projectID: ac.ProjectID}, nil
}

// scopeOf resolves the scope object {key: v}.
func (s *Server) scopeOf(key string, v json.RawMessage) (scopeRequest, error) {
	out := scopeRequest{given: true}
	var ref refRequest
	switch key {
	case "system":
		var sys struct {
			All bool `json:"all"`
		}
		if json.Unmarshal(v, &sys) != nil || !sys.All {
			return out, badRequest("all", "system")
		}
		out.system = true
	case "unscoped":
		out.unscoped = true
	case "project":
		if json.Unmarshal(v, &ref) != nil {
			return out, badRequest("project", "scope")
		}
		p, err := s.lookupProject(&ref)
		if err != nil {
			return out, err
		}
		out.projectID = p.ID
	case "domain":
		if json.Unmarshal(v, &ref) != nil {
			return out, badRequest("domain", "scope")
		}
		d, err := s.lookupDomain(&ref)
		if err != nil {
			return out, err
		}
		out.domainID = d.ID
	case "OS-TRUST:trust":
		if json.Unmarshal(v, &ref) != nil || ref.ID == "" {
			return out, badRequest("trust_id", "trust")
		}
		tr := s.dir.trust(ref.ID)
		if tr == nil || !tr.ExpiresAt.IsZero() && !s.clock().Before(tr.ExpiresAt) {
			return out, errUnauthorized // TrustNotFound, turned into a 401
		}
		out.trust = tr
		out.projectID = tr.ProjectID
	default:
		return out, badRequest("system, project, domain, OS-TRUST:trust or unscoped", "scope")
	}
	return out, nil
}

// lookupDomain finds a domain by id or name; an unknown one is a 401.
func (s *Server) lookupDomain(ref *refRequest) (*Domain, error) {
	var d *Domain
	if ref.Name != "" {
		d = s.dir.domainByName(ref.Name)
	} else {
		d = s.dir.domain(ref.ID)
	}
	if d == nil {
		return nil, errUnauthorized
	}
	return d, nil
}

// lookupProject finds a project by id, or by name and domain; an unknown
// one is a 401.
func (s *Server) lookupProject(ref *refRequest) (*Project, error) {
	if ref.Name != "" {
		if ref.Domain == nil {
			return nil, badRequest("domain", "project")
		}
		d, err := s.lookupDomain(ref.Domain)
		if err != nil {
			return nil, err
		}
		if p := s.dir.projectByName(ref.Name, d.ID); p != nil {
			return p, nil
		}
		return nil, errUnauthorized
	}
	if p := s.dir.project(ref.ID); p != nil {
		return p, nil
	}
	return nil, errUnauthorized
}

// lookupUser finds the user of a method, for target ("password", "totp").
func (s *Server) lookupUser(u *userRequest, target string) (*User, error) {
	switch {
	case u == nil:
		return nil, badRequest("user", target)
	case u.ID == "" && u.Name == "":
		return nil, badRequest("id or name", "user")
	case u.ID != "":
		if user := s.dir.user(u.ID); user != nil {
			return user, nil
		}
		return nil, errUnauthorized
	case u.Domain == nil:
		return nil, badRequest("domain", "user")
	}
	d, err := s.lookupDomain(u.Domain)
	if err != nil {
		return nil, err
	}
	if user := s.dir.userByName(u.Name, d.ID); user != nil {
		return user, nil
	}
	return nil, errUnauthorized
}

// lookupAppCred finds the application credential of the method: by id (an
// unknown one is a 404) or by name and user (a 401).
func (s *Server) lookupAppCred(req *appCredRequest) (*ApplicationCredential, error) {
	if req.ID != "" {
		if ac := s.dir.appCred(req.ID); ac != nil {
			return ac, nil
		}
		return nil, &authError{status: http.StatusNotFound, message: "Could not find Application Credential: " + req.ID + "."}
	}
	switch {
	case req.Name == "":
		return nil, badRequest("name or ID", "application credential")
	case req.User == nil:
		return nil, badRequest("user", "application credential")
	}
	userID := req.User.ID
	if userID == "" {
		if req.User.Domain == nil {
			return nil, badRequest("domain", "user")
		}
		d, err := s.lookupDomain(req.User.Domain)
		if err != nil {
			return nil, err
		}
		u := s.dir.userByName(req.User.Name, d.ID)
		if u == nil {
			return nil, &authError{status: http.StatusNotFound, message: "Could not find user: " + req.User.Name + "."}
		}
		userID = u.ID
	}
	if ac := s.dir.appCredByName(req.Name, userID); ac != nil {
		return ac, nil
	}
	return nil, errUnauthorized
}

// authenticateMethod runs one method, adding what it proves to l.
func (s *Server) authenticateMethod(method string, id *identityRequest, l *login) error {
	var userID string
	switch method {
	case "password":
		u, err := s.lookupUser(id.Password.User, "password")
		if err != nil {
			return err
		}
		pw := id.Password.User.Password
		if pw == nil || u.Password == "" || *pw != u.Password {
			return errUnauthorized
		}
		userID = u.ID
	case "totp":
		u, err := s.lookupUser(id.TOTP.User, "totp")
		if err != nil {
			return err
		}
		code := id.TOTP.User.Passcode
		if code == nil || !validPasscode(u.TOTPSecret, *code, s.clock()) {
			return errUnauthorized
		}
		userID = u.ID
	case "token":
		t, err := s.exchangeable(id.Token)
		if err != nil {
			return err
		}
		l.exchanged = t
		userID = t.userID
		l.methods = append(l.methods, "token")
		for _, m := range t.methods {
			if !slices.Contains(l.methods, m) {
				l.methods = append(l.methods, m)
			}
		}
	case "application_credential":
		ac := l.appCred
		secret := id.ApplicationCredential.Secret
		if secret == nil || *secret != ac.Secret || !ac.ExpiresAt.IsZero() && !s.clock().Before(ac.ExpiresAt) {
			return errUnauthorized
		}
		userID = ac.UserID
	}
	if l.userID != "" && l.userID != userID {
		return errUnauthorized // the methods name different users
	}
	l.userID = userID
	if method != "token" && !slices.Contains(l.methods, method) {
		l.methods = append(l.methods, method)
	}
	return nil
}

// exchangeable checks the token of a "token" method: it must be valid
// (else 404, as on validation) and not a delegated one.
func (s *Server) exchangeable(m *tokenMethod) (*token, error) {
	if m.ID == nil {
		return nil, badRequest("id", "token")
	}
	t := s.tokens[*m.ID]
	switch {
	case t == nil:
		return nil, &authError{status: http.StatusNotFound, message: msgBadFernet}
	case !s.valid(t):
		return nil, &authError{status: http.StatusNotFound, message: msgFailedValidate}
	case t.trustID != "":
		return nil, forbiddenAction("Using trust-scoped token to create another token. Create a new trust-scoped token instead")
	case t.appCredID != "":
		return nil, forbiddenAction("Using a delegated token to create another token is not allowed.")
	}
	return t, nil
}

// defaultScope scopes a request sent without a scope to the user's
// default project, when the user has a role there.
func (s *Server) defaultScope(u *User, sc *scopeRequest) {
	if u.DefaultProjectID != "" && s.dir.project(u.DefaultProjectID) != nil && len(u.ProjectRoles[u.DefaultProjectID]) > 0 {
		sc.projectID = u.DefaultProjectID
	}
}

// newToken issues the token of a successful login. s.mu is held.
func (s *Server) newToken(u *User, methods []string, sc scopeRequest, l *login) (*token, error) {
	now := s.clock()
	t := &token{id: newTokenID(), userID: u.ID, methods: methods, issuedAt: now.UTC().Truncate(time.Second),
		auditIDs: []string{newAuditID()}}
	t.expiresAt = t.issuedAt.Add(s.tokenLifetime)
	if ex := l.exchanged; ex != nil {
		t.expiresAt = ex.expiresAt // rescoping never extends a token
		t.auditIDs = append(t.auditIDs, ex.auditIDs[len(ex.auditIDs)-1])
		if ex.system && (sc.projectID != "" || sc.domainID != "") {
			return nil, forbiddenAction("Using a system-scoped token to create a project-scoped or domain-scoped token is not allowed.")
		}
	}
	var roles []Role
	switch {
	case l.appCred != nil:
		roles = s.appCredToken(t, u, l.appCred)
	case sc.trust != nil:
		var err error
		if roles, err = s.trustToken(t, u, sc.trust); err != nil {
			return nil, err
		}
	case sc.projectID != "":
		t.projectID = sc.projectID
		roles = s.dir.effectiveRoles(u.ProjectRoles[sc.projectID])
	case sc.domainID != "":
		t.domainID = sc.domainID
		roles = s.dir.effectiveRoles(u.DomainRoles[sc.domainID])
	case sc.system:
		t.system = true
		roles = s.dir.effectiveRoles(u.SystemRoles)
	}
	scoped := t.projectID != "" || t.domainID != "" || t.system
	if scoped && len(roles) == 0 {
		return nil, errUnauthorized // no role on the scope
	}
	if scoped {
		t.roleIDs = roleIDs(roles)
		t.catalog = s.dir.catalogFor(t.projectID)
	}
	s.tokens[t.id] = t
	return t, nil
}

// appCredToken scopes t to ac's project and returns its roles: the
// credential's roles the user still holds there, as they are (unlike a
// trust's, the roles they imply are not added). ac's expiry caps t's.
func (s *Server) appCredToken(t *token, u *User, ac *ApplicationCredential) []Role {
	t.appCredID = ac.ID
	t.projectID = ac.ProjectID
	held := s.dir.roleNames(s.dir.effectiveRoles(u.ProjectRoles[ac.ProjectID]))
	var roles []Role
	for _, name := range ac.Roles {
		if r := s.dir.roleByName(name); r != nil && slices.Contains(held, r.Name) {
			roles = append(roles, *r)
		}
	}
	if !ac.ExpiresAt.IsZero() && ac.ExpiresAt.Before(t.expiresAt) {
		t.expiresAt, t.capped = ac.ExpiresAt.UTC().Truncate(time.Second), true
	}
	return roles
}

// trustToken scopes t to tr, which u must be the trustee of, and returns
// its roles: the trust's (with the roles they imply) that the trustor
// still holds on the project. tr's expiry caps t's.
func (s *Server) trustToken(t *token, u *User, tr *Trust) ([]Role, error) {
	if tr.TrusteeUserID != u.ID {
		return nil, &authError{status: http.StatusForbidden, message: msgForbidden}
	}
	t.trustID, t.projectID = tr.ID, tr.ProjectID
	var roles []Role
	if trustor := s.dir.user(tr.TrustorUserID); trustor != nil {
		held := s.dir.roleNames(s.dir.effectiveRoles(trustor.ProjectRoles[tr.ProjectID]))
		for _, r := range s.dir.effectiveRoles(tr.Roles) {
			if slices.Contains(held, r.Name) {
				roles = append(roles, r)
			}
		}
	}
	if !tr.ExpiresAt.IsZero() && tr.ExpiresAt.Before(t.expiresAt) {
		t.expiresAt = tr.ExpiresAt.UTC().Truncate(time.Second)
	}
	return roles, nil
}

// --- the token body ----------------------------------------------------------------

type wireTokenUser struct {
	Domain            wireRef `json:"domain"`
	ID                string  `json:"id"`
	Name              string  `json:"name"`
	PasswordExpiresAt any     `json:"password_expires_at"`
}

type wireProject struct {
	Domain wireRef `json:"domain"`
	ID     string  `json:"id"`
	Name   string  `json:"name"`
}

type wireTrust struct {
	ID            string `json:"id"`
	TrustorUser   wireID `json:"trustor_user"`
	TrusteeUser   wireID `json:"trustee_user"`
	Impersonation bool   `json:"impersonation"`
}

type wireID struct {
	ID string `json:"id"`
}

type wireAccessRule struct {
	ID      string `json:"id"`
	Service string `json:"service"`
	Path    string `json:"path"`
	Method  string `json:"method"`
}

type wireTokenAppCred struct {
	ID          string           `json:"id"`
	Name        string           `json:"name"`
	Restricted  bool             `json:"restricted"`
	AccessRules []wireAccessRule `json:"access_rules,omitempty"`
}

type wireToken struct {
	Methods   []string          `json:"methods"`
	User      wireTokenUser     `json:"user"`
	AuditIDs  []string          `json:"audit_ids"`
	ExpiresAt string            `json:"expires_at"`
	IssuedAt  string            `json:"issued_at"`
	Trust     *wireTrust        `json:"OS-TRUST:trust,omitempty"`
	Project   *wireProject      `json:"project,omitempty"`
	Domain    *wireRef          `json:"domain,omitempty"`
	IsDomain  *bool             `json:"is_domain,omitempty"`
	Roles     any               `json:"roles,omitempty"`
	System    map[string]bool   `json:"system,omitempty"`
	Catalog   *[]wireService    `json:"catalog,omitempty"`
	AppCred   *wireTokenAppCred `json:"application_credential,omitempty"`
}

// tokenJSON renders {"token": …}; issued marks the answer to the login
// (Keystone writes a capped expiry differently then). s.mu is held.
func (s *Server) tokenJSON(t *token, withCatalog, issued bool) []byte {
	w := wireToken{Methods: t.methods, AuditIDs: t.auditIDs,
		ExpiresAt: formatTime(t.expiresAt, layoutToken), IssuedAt: formatTime(t.issuedAt, layoutToken)}
	if issued && t.capped {
		w.ExpiresAt = formatTime(t.expiresAt, layoutSeconds)
	}
	if u := s.dir.user(t.userID); u != nil {
		w.User = wireTokenUser{Domain: s.dir.domainRef(u.DomainID), ID: u.ID, Name: u.Name,
			PasswordExpiresAt: nullableTime(u.PasswordExpiresAt, layoutToken)}
	}
	if t.trustID != "" {
		w.Trust = &wireTrust{ID: t.trustID}
		if tr := s.dir.trust(t.trustID); tr != nil {
			w.Trust = &wireTrust{tr.ID, wireID{tr.TrustorUserID}, wireID{tr.TrusteeUserID}, tr.Impersonation}
		}
	}
	if p := s.dir.project(t.projectID); p != nil {
		w.Project = &wireProject{Domain: s.dir.domainRef(p.DomainID), ID: p.ID, Name: p.Name}
		if t.trustID == "" {
			isDomain := false
			w.IsDomain = &isDomain
		}
	}
	if t.domainID != "" {
		ref := s.dir.domainRef(t.domainID)
		w.Domain = &ref
	}
	if t.system {
		w.System = map[string]bool{"all": true}
	}
	if t.roleIDs != nil {
		w.Roles = s.tokenRoles(t)
	}
	if withCatalog && t.catalog != nil {
		w.Catalog = &t.catalog
	}
	if t.appCredID != "" {
		w.AppCred = s.tokenAppCred(t)
	}
	b, err := marshal(map[string]any{"token": w})
	if err != nil {
		panic("keystonetest: encoding a token: " + err.Error())
	}
	return b
}

// tokenRoles is t's roles as Keystone writes them: a trust token's in
// full, any other's as id and name.
func (s *Server) tokenRoles(t *token) any {
	roles := s.dir.rolesByID(t.roleIDs)
	if t.trustID != "" {
		full := make([]map[string]any, len(roles))
		for i, r := range roles {
			full[i] = fullRole(r)
		}
		return full
	}
	short := make([]wireRole, len(roles))
	for i, r := range roles {
		short[i] = wireRole{r.ID, r.Name}
	}
	return short
}

// tokenAppCred is the application credential t was issued for; a deleted
// one shows only its ID.
func (s *Server) tokenAppCred(t *token) *wireTokenAppCred {
	w := &wireTokenAppCred{ID: t.appCredID, Restricted: true}
	if ac := s.dir.appCred(t.appCredID); ac != nil {
		w.Name, w.Restricted = ac.Name, !ac.Unrestricted
		for _, r := range ac.AccessRules {
			w.AccessRules = append(w.AccessRules, wireAccessRule{r.ID, r.Service, r.Path, r.Method})
		}
	}
	return w
}

// --- validation, check, revocation -------------------------------------------------------

// callerToken returns the valid token of the request's X-Auth-Token, or
// writes the 401 and returns nil.
func (s *Server) callerToken(w http.ResponseWriter, r *http.Request) *token {
	s.mu.Lock()
	t := s.tokens[r.Header.Get("X-Auth-Token")]
	ok := s.valid(t)
	s.mu.Unlock()
	if !ok {
		s.unauthorized(w)
		return nil
	}
	return t
}

// subjectToken returns the token of X-Subject-Token, or writes the 404
// Keystone gives: no token, an unknown one, or one revoked or expired
// (allowExpired admits one expired within AllowExpiredWindow).
func (s *Server) subjectToken(w http.ResponseWriter, r *http.Request, allowExpired bool) *token {
	id := r.Header.Get("X-Subject-Token")
	s.mu.Lock()
	t := s.tokens[id]
	now := s.clock()
	msg := ""
	switch {
	case id == "":
		msg = "No token in the request"
	case t == nil:
		msg = msgBadFernet
	case t.revoked:
		msg = msgFailedValidate
	case !now.Before(t.expiresAt) && !(allowExpired && now.Before(t.expiresAt.Add(AllowExpiredWindow))):
		msg = msgFailedValidate
	}
	s.mu.Unlock()
	if msg != "" {
		s.keystoneError(w, http.StatusNotFound, msg, nil)
		return nil
	}
	return t
}

// mayActOn reports whether caller may validate or revoke subject: its
// own user's token, or a caller with the admin or service role, or a
// system reader (Keystone's policy). s.mu is held.
func (s *Server) mayActOn(caller, subject *token) bool {
	if caller.userID == subject.userID {
		return true
	}
	names := s.dir.roleNames(s.dir.rolesByID(caller.roleIDs))
	return slices.Contains(names, "admin") || slices.Contains(names, "service") || caller.system && slices.Contains(names, "reader")
}

// accessRulesSupported reports whether a validation says that its caller
// enforces access rules: Openstack-Identity-Access-Rules with a version of
// 1.0 or later. Without it Keystone does not validate a token whose
// application credential has access rules: 404 "Failed to validate token".
func accessRulesSupported(r *http.Request) bool {
	v, err := strconv.ParseFloat(r.Header.Get("Openstack-Identity-Access-Rules"), 64)
	return err == nil && v >= 1.0
}

// handleValidate is GET (validate) and HEAD (check) /v3/auth/tokens: a
// token of an application credential with access rules only with
// Openstack-Identity-Access-Rules (see accessRulesSupported).
func (s *Server) handleValidate(w http.ResponseWriter, r *http.Request) {
	caller := s.callerToken(w, r)
	if caller == nil {
		return
	}
	subject := s.subjectToken(w, r, hasQuery(r, "allow_expired") && r.URL.Query().Get("allow_expired") != "0")
	if subject == nil {
		return
	}
	s.mu.Lock()
	ac := s.dir.appCred(subject.appCredID)
	hidden := ac != nil && len(ac.AccessRules) > 0 && !accessRulesSupported(r)
	s.mu.Unlock()
	if hidden {
		s.keystoneError(w, http.StatusNotFound, msgFailedValidate, nil)
		return
	}
	s.mu.Lock()
	allowed := s.mayActOn(caller, subject)
	var body []byte
	if allowed {
		body = s.tokenJSON(subject, !hasQuery(r, "nocatalog"), false)
	}
	s.mu.Unlock()
	if !allowed {
		s.forbiddenAction(w, "identity:validate_token")
		return
	}
	w.Header()["X-Subject-Token"] = []string{subject.id}
	if r.Method == http.MethodHead {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		return
	}
	writeRaw(w, http.StatusOK, body)
}

// handleRevoke is DELETE /v3/auth/tokens.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	caller := s.callerToken(w, r)
	if caller == nil {
		return
	}
	subject := s.subjectToken(w, r, false)
	if subject == nil {
		return
	}
	s.mu.Lock()
	allowed := s.mayActOn(caller, subject)
	if allowed {
		subject.revoked = true
	}
	s.mu.Unlock()
	if !allowed {
		s.forbiddenAction(w, "identity:revoke_token")
		return
	}
	w.Header().Set("Connection", "close")
	w.WriteHeader(http.StatusNoContent)
}

// --- /v3/auth/{projects,domains,system,catalog} ------------------------------------------

func (s *Server) links(path string, paged bool) map[string]any {
	if !paged {
		return map[string]any{"self": s.URL + path}
	}
	return map[string]any{"next": nil, "self": s.URL + path, "previous": nil}
}

// handleAuthProjects is GET /v3/auth/projects: the projects the token's
// user has a role on.
func (s *Server) handleAuthProjects(w http.ResponseWriter, r *http.Request) {
	caller := s.callerToken(w, r)
	if caller == nil {
		return
	}
	s.mu.Lock()
	projects := []map[string]any{}
	if u := s.dir.user(caller.userID); u != nil {
		for _, p := range s.dir.projects {
			if len(u.ProjectRoles[p.ID]) > 0 {
				projects = append(projects, map[string]any{"id": p.ID, "name": p.Name, "domain_id": p.DomainID,
					"description": p.Description, "enabled": true, "parent_id": p.DomainID, "is_domain": false,
					"tags": []string{}, "options": map[string]any{}, "links": map[string]string{"self": s.URL + "/v3/projects/" + p.ID}})
			}
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"projects": projects, "links": s.links("/v3/auth/projects", true)})
}

// handleAuthDomains is GET /v3/auth/domains: the domains the token's user
// has a role on.
func (s *Server) handleAuthDomains(w http.ResponseWriter, r *http.Request) {
	caller := s.callerToken(w, r)
	if caller == nil {
		return
	}
	s.mu.Lock()
	domains := []map[string]any{}
	if u := s.dir.user(caller.userID); u != nil {
		for _, d := range s.dir.domains {
			if len(u.DomainRoles[d.ID]) > 0 {
				domains = append(domains, map[string]any{"id": d.ID, "name": d.Name, "description": d.Description,
					"enabled": true, "tags": []string{}, "options": map[string]any{},
					"links": map[string]string{"self": s.URL + "/v3/domains/" + d.ID}})
			}
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"domains": domains, "links": s.links("/v3/auth/domains", true)})
}

// handleAuthSystem is GET /v3/auth/system: [{"all": true}] when the
// token's user has a role on the system, else [].
func (s *Server) handleAuthSystem(w http.ResponseWriter, r *http.Request) {
	caller := s.callerToken(w, r)
	if caller == nil {
		return
	}
	s.mu.Lock()
	system := []map[string]bool{}
	if u := s.dir.user(caller.userID); u != nil && len(u.SystemRoles) > 0 {
		system = append(system, map[string]bool{"all": true})
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"system": system, "links": s.links("/v3/auth/system", false)})
}

// handleAuthCatalog is GET /v3/auth/catalog: the catalog of a project
// token; 403 for any other.
func (s *Server) handleAuthCatalog(w http.ResponseWriter, r *http.Request) {
	caller := s.callerToken(w, r)
	if caller == nil {
		return
	}
	if caller.projectID == "" {
		s.keystoneError(w, http.StatusForbidden, msgForbidden, nil)
		return
	}
	s.mu.Lock()
	catalog := s.dir.catalogFor(caller.projectID)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"catalog": catalog, "links": s.links("/v3/auth/catalog", false)})
}

// handleListUsers is GET /v3/users, for an admin or a system reader (a
// 403 naming identity:list_users for others).
func (s *Server) handleListUsers(w http.ResponseWriter, r *http.Request) {
	caller := s.callerToken(w, r)
	if caller == nil {
		return
	}
	s.mu.Lock()
	roles := s.dir.roleNames(s.dir.rolesByID(caller.roleIDs))
	allowed := isAdmin(roles) || isSystemReader(caller, roles)
	users := []map[string]any{}
	for _, u := range s.dir.users {
		m := map[string]any{"id": u.ID, "name": u.Name, "domain_id": u.DomainID, "enabled": true,
			"password_expires_at": nullableTime(u.PasswordExpiresAt, layoutNoZone), "options": map[string]any{},
			"links": map[string]string{"self": s.URL + "/v3/users/" + u.ID}}
		if u.DefaultProjectID != "" {
			m["default_project_id"] = u.DefaultProjectID
		}
		users = append(users, m)
	}
	s.mu.Unlock()
	if !allowed {
		s.forbiddenAction(w, "identity:list_users")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": users, "links": s.links("/v3/users", true)})
}

// handleService answers the default catalog's compute and object-store
// endpoints: 200 with what the token is, or 401 for a missing or invalid
// token, as a service behind keystonemiddleware does.
func (s *Server) handleService(service string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		caller := s.callerToken(w, r)
		if caller == nil {
			return
		}
		s.mu.Lock()
		body := map[string]any{"service": service, "method": r.Method, "path": r.URL.Path,
			"user_id": caller.userID, "project_id": caller.projectID,
			"roles": s.dir.roleNames(s.dir.rolesByID(caller.roleIDs))}
		s.mu.Unlock()
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusOK)
			return
		}
		writeJSON(w, http.StatusOK, body)
	}
}

// --- helpers -------------------------------------------------------------------------------

// hasQuery reports whether the query has key, with or without a value
// ("?nocatalog").
func hasQuery(r *http.Request, key string) bool {
	_, ok := r.URL.Query()[key]
	return ok
}

// marshal encodes v without HTML escaping and without a final newline.
func marshal(v any) ([]byte, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return []byte(strings.TrimSuffix(b.String(), "\n")), nil
}

// writeRaw writes an encoded JSON body.
func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
