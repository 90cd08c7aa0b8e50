package ksauth

// Credential management: the application credentials and access rules of a
// user (/v3/users/{user_id}/application_credentials, …/access_rules). EC2
// credentials are in ec2.go. Each call takes a userID: "" means the user of
// the token sent.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// NewApplicationCredential is what [Keystone.CreateApplicationCredential]
// asks for. Only Name is required. The credential gets the project of the
// token that creates it: create it with a project-scoped token (an
// unscoped one yields a credential without a project or roles).
type NewApplicationCredential struct {
	// Name is required, unique among the user's application credentials
	// (at most 255 bytes).
	Name string
	// Description: "" means none.
	Description string
	// Secret is the credential's secret, a secret. "": Keystone generates
	// one, which only the answer to the creation shows.
	Secret string
	// ExpiresAt is when the credential stops working (tokens from it do
	// not outlive it). The zero time: never.
	ExpiresAt time.Time
	// Roles the credential delegates, each by ID or by Name: a subset of
	// the token's roles. nil: all the token's roles.
	Roles []Role
	// AccessRules limit the credential to these API calls: each a Service
	// (a catalog type), a Method (GET, HEAD, POST, PUT, PATCH or DELETE) and a
	// Path (starting with "/", "*" and "**" as wildcards), or the ID of one
	// of the user's existing rules. nil: any call its roles allow.
	// Keystone does not enforce them; the services' keystonemiddleware does.
	AccessRules []AccessRule
	// Unrestricted lets tokens from the credential create and delete
	// application credentials and trusts. false (Keystone's default, and
	// the safe choice): they cannot.
	Unrestricted bool
}

func (n NewApplicationCredential) validate(now time.Time) error {
	const prefix = "NewApplicationCredential."
	switch {
	case strings.TrimSpace(n.Name) == "":
		return invalid(prefix+"Name", "empty")
	case len(n.Name) > 255:
		return invalid(prefix+"Name", "%d bytes, more than 255", len(n.Name))
	case !n.ExpiresAt.IsZero() && !n.ExpiresAt.After(now):
		return invalid(prefix+"ExpiresAt", "%s is in the past", n.ExpiresAt.UTC().Format(time.RFC3339))
	}
	for i, r := range n.Roles {
		if r.ID == "" && r.Name == "" {
			return invalid(fmt.Sprintf("%sRoles[%d]", prefix, i), "set ID or Name")
		}
	}
	for i, r := range n.AccessRules {
		if err := validateAccessRule(fmt.Sprintf("%sAccessRules[%d]", prefix, i), r); err != nil {
			return err
		}
	}
	return nil
}

// accessRuleService is Keystone's pattern for a service type in a rule.
var accessRuleService = regexp.MustCompile(`^[a-zA-Z0-9-]{1,64}$`)

// validateAccessRule checks a rule to create: an existing rule's ID alone,
// or a service, a method and a path as Keystone's schema wants them.
func validateAccessRule(field string, r AccessRule) error {
	if r.ID != "" {
		if r.Service != "" || r.Method != "" || r.Path != "" {
			return invalid(field, "an existing rule is named by its ID alone")
		}
		return nil
	}
	switch {
	case !accessRuleService.MatchString(r.Service):
		return invalid(field+".Service", "%q is not a service type (letters, digits and -, at most 64)", r.Service)
	case !isAccessRuleMethod(r.Method):
		return invalid(field+".Method", "%q is not one of GET, HEAD, POST, PUT, PATCH, DELETE", r.Method)
	case !strings.HasPrefix(r.Path, "/"):
		return invalid(field+".Path", "%q does not start with /", r.Path)
	case len(r.Path) > 225:
		return invalid(field+".Path", "%d bytes, more than 225", len(r.Path))
	}
	return nil
}

func isAccessRuleMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// wire is the request body of the creation.
func (n NewApplicationCredential) wire() wireNewAppCred {
	w := wireNewAppCred{Name: n.Name, Description: n.Description, Secret: n.Secret, Unrestricted: n.Unrestricted}
	if !n.ExpiresAt.IsZero() {
		w.ExpiresAt = n.ExpiresAt.UTC().Format("2006-01-02T15:04:05.000000Z")
	}
	for _, r := range n.Roles {
		if r.ID != "" {
			r.Name = "" // Keystone takes one of the two
		}
		w.Roles = append(w.Roles, wireRef{ID: r.ID, Name: r.Name})
	}
	for _, r := range n.AccessRules {
		w.AccessRules = append(w.AccessRules, wireNewAccessRule(r))
	}
	return w
}

type wireNewAppCred struct {
	Name         string              `json:"name"`
	Description  string              `json:"description,omitempty"`
	Secret       string              `json:"secret,omitempty"`
	ExpiresAt    string              `json:"expires_at,omitempty"`
	Roles        []wireRef           `json:"roles,omitempty"`
	AccessRules  []wireNewAccessRule `json:"access_rules,omitempty"`
	Unrestricted bool                `json:"unrestricted,omitempty"`
}

type wireNewAccessRule struct {
	ID      string `json:"id,omitempty"`
	Service string `json:"service,omitempty"`
	Method  string `json:"method,omitempty"`
	Path    string `json:"path,omitempty"`
}

// masked is a copy without methods, the secret replaced: what fmt, slog and
// encoding/json print.
func (n NewApplicationCredential) masked() any {
	type newApplicationCredential NewApplicationCredential
	n.Secret = mask(n.Secret)
	return newApplicationCredential(n)
}

// Format prints the request with the secret replaced.
func (n NewApplicationCredential) Format(f fmt.State, verb rune) { formatRedacted(f, verb, n.masked()) }

// LogValue shows the request in slog records as Format does.
func (n NewApplicationCredential) LogValue() slog.Value { return redactedLogValue(n) }

// MarshalJSON encodes the request with the secret masked.
func (n NewApplicationCredential) MarshalJSON() ([]byte, error) { return json.Marshal(n.masked()) }

// ApplicationCredentialInfo is an application credential as Keystone shows
// it. Use it to log in with [ApplicationCredentialInfo.Credential].
type ApplicationCredentialInfo struct {
	ID          string
	Name        string
	Description string
	UserID      string
	// ProjectID is the project its tokens are scoped to; "" when it was
	// created with an unscoped token.
	ProjectID string
	// ExpiresAt is when it stops working; the zero time: never.
	ExpiresAt    time.Time
	Roles        []Role
	AccessRules  []AccessRule // nil: no limit but the roles
	Unrestricted bool         // its tokens may manage application credentials and trusts
	// Secret, a secret, is set only in the answer to
	// [Keystone.CreateApplicationCredential]: Keystone keeps only a hash of
	// it and never shows it again. fmt, slog and encoding/json mask it:
	// read the field itself.
	Secret string
}

// Credential returns the identity method that logs in with the credential
// (by ID, with its Secret), for [Keystone.Credentials].
func (a *ApplicationCredentialInfo) Credential() ApplicationCredential {
	return ApplicationCredential{ID: a.ID, Secret: a.Secret}
}

// CloudsYAML returns a clouds.yaml document with one cloud, name, that logs
// in at authURL with the credential (auth_type v3applicationcredential),
// and chooses region when not empty. The document holds the secret: write
// it readable by its owner only, as in
//
//	os.WriteFile(filepath.Join(dir, "clouds.yaml"), b, 0o600)
//
// It needs the Secret, so it works on the answer to the creation only.
func (a *ApplicationCredentialInfo) CloudsYAML(name, authURL, region string) ([]byte, error) {
	switch {
	case name == "":
		return nil, invalid("name", "empty cloud name")
	case a.ID == "":
		return nil, invalid("ApplicationCredentialInfo.ID", "empty")
	case a.Secret == "":
		return nil, invalid("ApplicationCredentialInfo.Secret", "empty: only the answer to CreateApplicationCredential has the secret")
	}
	if _, err := parseAuthURL(authURL); err != nil {
		return nil, err
	}
	type auth struct {
		AuthURL string `yaml:"auth_url"`
		ID      string `yaml:"application_credential_id"`
		Secret  string `yaml:"application_credential_secret"`
	}
	type cloud struct {
		AuthType string `yaml:"auth_type"`
		Auth     auth   `yaml:"auth"`
		Region   string `yaml:"region_name,omitempty"`
	}
	doc := struct {
		Clouds map[string]cloud `yaml:"clouds"`
	}{map[string]cloud{name: {"v3applicationcredential", auth{authURL, a.ID, a.Secret}, region}}}
	return yaml.Marshal(doc)
}

// masked is a copy without methods, the secret replaced.
func (a ApplicationCredentialInfo) masked() any {
	type applicationCredentialInfo ApplicationCredentialInfo
	a.Secret = mask(a.Secret)
	return applicationCredentialInfo(a)
}

// Format prints the credential with the secret replaced.
func (a ApplicationCredentialInfo) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, a.masked())
}

// LogValue shows the credential in slog records as Format does.
func (a ApplicationCredentialInfo) LogValue() slog.Value { return redactedLogValue(a) }

// MarshalJSON encodes the credential with the secret masked.
func (a ApplicationCredentialInfo) MarshalJSON() ([]byte, error) { return json.Marshal(a.masked()) }

// wireAppCredInfo is an application credential in Keystone's answers.
type wireAppCredInfo struct {
	ID           string       `json:"id"`
	Name         string       `json:"name"`
	Description  *string      `json:"description"`
	UserID       string       `json:"user_id"`
	ProjectID    *string      `json:"project_id"`
	ExpiresAt    keystoneTime `json:"expires_at"`
	Unrestricted *bool        `json:"unrestricted"`
	Roles        []Role       `json:"roles"`
	AccessRules  []AccessRule `json:"access_rules"`
	Secret       string       `json:"secret"`
}

func (w *wireAppCredInfo) info() ApplicationCredentialInfo {
	return ApplicationCredentialInfo{ID: w.ID, Name: w.Name, Description: deref(w.Description), UserID: w.UserID,
		ProjectID: deref(w.ProjectID), ExpiresAt: w.ExpiresAt.Time, Roles: w.Roles, AccessRules: w.AccessRules,
		Unrestricted: w.Unrestricted != nil && *w.Unrestricted, Secret: w.Secret}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// CreateApplicationCredential creates an application credential for userID
// ("": the token's user; Keystone lets a user create only its own) with the
// project and (by default) the roles of src's token (POST
// /v3/users/{user_id}/application_credentials). The answer is the only one
// that holds the Secret. A name the user already has is a 409, a role the
// token lacks a 400 (ErrBadRequest). A token from a restricted application
// credential, or a trust-scoped one, gets a 403 whose Hint says how to log
// in instead.
func (k *Keystone) CreateApplicationCredential(ctx context.Context, src TokenSource, userID string, req NewApplicationCredential) (*ApplicationCredentialInfo, error) {
	if err := req.validate(time.Now()); err != nil {
		return nil, err
	}
	u, err := k.userURL(ctx, src, userID, "application_credentials")
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(map[string]wireNewAppCred{"application_credential": req.wire()})
	if err != nil {
		return nil, fmt.Errorf("ksauth: encoding the application credential: %w", err)
	}
	var out struct {
		ApplicationCredential *wireAppCredInfo `json:"application_credential"`
	}
	if err := k.sendJSON(ctx, http.MethodPost, src, u, body, http.StatusCreated, appCredHint, &out, req.Secret); err != nil {
		return nil, err
	}
	return out.ApplicationCredential.checked(http.MethodPost, u, http.StatusCreated, "a created application credential", true)
}

// checked returns the credential of the answer to method on u (status),
// refusing one without an ID (or, when withSecret, without its secret).
func (w *wireAppCredInfo) checked(method string, u *url.URL, status int, what string, withSecret bool) (*ApplicationCredentialInfo, error) {
	if w == nil || w.ID == "" || (withSecret && w.Secret == "") {
		return nil, &MalformedResponseError{Method: method, URL: safeURL(u), StatusCode: status,
			Reason: what + " without an id or a secret"}
	}
	info := w.info()
	return &info, nil
}

// ApplicationCredentials lists the application credentials of userID ("":
// the token's user), all of them or (name not empty) the one of that name
// (GET /v3/users/{user_id}/application_credentials[?name=]), following
// links.next on the same host. They carry no secret.
func (k *Keystone) ApplicationCredentials(ctx context.Context, src TokenSource, userID, name string) ([]ApplicationCredentialInfo, error) {
	u, err := k.userURL(ctx, src, userID, "application_credentials")
	if err != nil {
		return nil, err
	}
	if name != "" {
		u.RawQuery = url.Values{"name": {name}}.Encode()
	}
	var out []ApplicationCredentialInfo
	err = k.listFrom(ctx, src, u, appCredHint, func(raw json.RawMessage) error {
		var page struct {
			ApplicationCredentials []wireAppCredInfo `json:"application_credentials"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return err
		}
		for _, w := range page.ApplicationCredentials {
			w.Secret = "" // never in a listing; never kept if a server sent one
			out = append(out, w.info())
		}
		return nil
	})
	return out, err
}

// GetApplicationCredential returns one application credential of userID
// ("": the token's user), without its secret (GET
// /v3/users/{user_id}/application_credentials/{id}). An unknown id is an
// *HTTPError matching ErrNotFound.
func (k *Keystone) GetApplicationCredential(ctx context.Context, src TokenSource, userID, id string) (*ApplicationCredentialInfo, error) {
	u, err := k.memberURL(ctx, src, userID, "id", id, "application_credentials")
	if err != nil {
		return nil, err
	}
	var out struct {
		ApplicationCredential *wireAppCredInfo `json:"application_credential"`
	}
	if err := k.sendJSON(ctx, http.MethodGet, src, u, nil, http.StatusOK, appCredHint, &out); err != nil {
		return nil, err
	}
	if out.ApplicationCredential != nil {
		out.ApplicationCredential.Secret = ""
	}
	return out.ApplicationCredential.checked(http.MethodGet, u, http.StatusOK, "an application credential", false)
}

// DeleteApplicationCredential deletes an application credential of userID
// ("": the token's user) (DELETE
// /v3/users/{user_id}/application_credentials/{id}). Its tokens stop
// working. An unknown id is an *HTTPError matching ErrNotFound.
func (k *Keystone) DeleteApplicationCredential(ctx context.Context, src TokenSource, userID, id string) error {
	return k.deleteUserResource(ctx, src, userID, appCredHint, "id", id, "application_credentials")
}

// AccessRules lists the access rules of userID ("": the token's user): the
// rules its application credentials use or used (GET
// /v3/users/{user_id}/access_rules).
func (k *Keystone) AccessRules(ctx context.Context, src TokenSource, userID string) ([]AccessRule, error) {
	u, err := k.userURL(ctx, src, userID, "access_rules")
	if err != nil {
		return nil, err
	}
	var out []AccessRule
	err = k.listFrom(ctx, src, u, appCredHint, func(raw json.RawMessage) error {
		var page struct {
			AccessRules []AccessRule `json:"access_rules"`
		}
		err := json.Unmarshal(raw, &page)
		out = append(out, page.AccessRules...)
		return err
	})
	return out, err
}

// GetAccessRule returns one access rule of userID ("": the token's user)
// (GET /v3/users/{user_id}/access_rules/{id}).
func (k *Keystone) GetAccessRule(ctx context.Context, src TokenSource, userID, id string) (*AccessRule, error) {
	u, err := k.memberURL(ctx, src, userID, "id", id, "access_rules")
	if err != nil {
		return nil, err
	}
	var out struct {
		AccessRule *AccessRule `json:"access_rule"`
	}
	if err := k.sendJSON(ctx, http.MethodGet, src, u, nil, http.StatusOK, appCredHint, &out); err != nil {
		return nil, err
	}
	if out.AccessRule == nil || out.AccessRule.ID == "" {
		return nil, &MalformedResponseError{Method: http.MethodGet, URL: safeURL(u), StatusCode: http.StatusOK, Reason: "no access_rule in the answer"}
	}
	return out.AccessRule, nil
}

// DeleteAccessRule deletes an access rule of userID ("": the token's user)
// (DELETE /v3/users/{user_id}/access_rules/{id}). Keystone refuses (403)
// while an application credential uses it: delete those first.
func (k *Keystone) DeleteAccessRule(ctx context.Context, src TokenSource, userID, id string) error {
	return k.deleteUserResource(ctx, src, userID, appCredHint, "id", id, "access_rules")
}

// appCredHint explains Keystone's refusals of application credential and
// access rule calls.
func appCredHint(e *HTTPError, tok *Token) string {
	if e.StatusCode != http.StatusForbidden {
		return ""
	}
	msg := e.Message
	own := tok == nil || strings.Contains(e.URL, "/users/"+url.PathEscape(tok.User.ID)+"/")
	// A restricted credential's token may read its user's credentials:
	// only its changes to them are refused for the restriction.
	restricted := tok != nil && tok.ApplicationCredential != nil && tok.ApplicationCredential.Restricted &&
		own && e.Method != http.MethodGet && e.Method != http.MethodHead
	switch {
	case strings.Contains(msg, "access rule in use"):
		return "delete the application credentials that use the rule first"
	case strings.Contains(msg, "not allowed for managing additional application credentials") || restricted:
		return "a token from a restricted application credential cannot manage application credentials: " + loginAdvice
	case strings.Contains(msg, "issued via delegation") || tok != nil && tok.Trust != nil:
		return "a trust-scoped (delegated) token cannot manage application credentials: " + loginAdvice
	case !own:
		return "only a user itself (or, to read and delete, an admin) may manage its application credentials: authenticate as that user"
	}
	return ""
}

const loginAdvice = "authenticate with a password or an unrestricted application credential"

// userURL is the v3 endpoint's users/{userID}/elem…, userID "" meaning the
// user of src's token. Each part is one path segment, escaped.
func (k *Keystone) userURL(ctx context.Context, src TokenSource, userID string, elem ...string) (*url.URL, error) {
	if userID == "" {
		tok, err := validToken(ctx, src)
		if err != nil {
			return nil, err
		}
		if userID = tok.User.ID; userID == "" {
			return nil, invalid("userID", "empty, and the token names no user")
		}
	}
	if err := checkSegment("userID", userID); err != nil {
		return nil, err
	}
	endpoint, _, err := k.endpoint(ctx)
	if err != nil {
		return nil, err
	}
	u := endpoint.JoinPath("users", url.PathEscape(userID))
	for _, e := range elem {
		u = u.JoinPath(url.PathEscape(e))
	}
	return u, nil
}

// memberURL is userURL of one member of a collection: its id (idField in
// a refusal) checked and escaped as the last segment.
func (k *Keystone) memberURL(ctx context.Context, src TokenSource, userID, idField, id string, collection ...string) (*url.URL, error) {
	if err := checkSegment(idField, id); err != nil {
		return nil, err
	}
	return k.userURL(ctx, src, userID, append(collection, id)...)
}

// checkSegment refuses an id that is not one path segment.
func checkSegment(field, v string) error {
	switch {
	case v == "":
		return invalid(field, "empty")
	case v == "." || v == "..":
		return invalid(field, "%q is not an id", v)
	}
	return nil
}

// validToken is src's current token, refused when nil or expired.
func validToken(ctx context.Context, src TokenSource) (*Token, error) {
	if src == nil || isNilPointer(src) {
		return nil, invalid("src", "nil TokenSource")
	}
	tok, err := src.Token(ctx)
	if err != nil {
		return nil, err
	}
	if !tok.Valid(time.Now()) {
		return nil, invalid("src", "nil, empty or expired token")
	}
	return tok, nil
}

// sendJSON sends body (nil: none) to u with src's token and decodes the
// answer into out when its status is want; any other status is an
// *HTTPError with hint's advice. secrets are redacted from the answer.
func (k *Keystone) sendJSON(ctx context.Context, method string, src TokenSource, u *url.URL, body []byte, want int, hint hinter, out any, secrets ...string) error {
	ex, err := k.sendToken(ctx, method, src, u, nil, body, secrets...)
	if err != nil {
		return err
	}
	if ex.status != want {
		return ex.httpErrorWith(hint)
	}
	if out == nil {
		return nil
	}
	return ex.decode(out)
}

// deleteUserResource deletes users/{userID}/{path…}/{id}: 204. idField
// names id in a refusal.
func (k *Keystone) deleteUserResource(ctx context.Context, src TokenSource, userID string, hint hinter, idField, id string, path ...string) error {
	u, err := k.memberURL(ctx, src, userID, idField, id, path...)
	if err != nil {
		return err
	}
	return k.sendJSON(ctx, http.MethodDelete, src, u, nil, http.StatusNoContent, hint, nil)
}
