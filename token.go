package ksauth

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"time"
)

// Token is an authentication result: the secret ID that goes in request
// headers, its expiry, who it belongs to, what it is scoped to, and the
// service catalog. A Token is immutable once returned; share it freely.
type Token struct {
	// ID is the token itself, a secret: String, every fmt verb and
	// LogValue show only a SHA-256 fingerprint of it.
	ID string
	// ExpiresAt is when the token stops working, on the local clock: the
	// server's remaining lifetime (expires_at − issued_at) added to the local
	// time the request was sent, so a skewed client clock does not matter;
	// less up to a second when issued_at is a whole second, as Keystone
	// writes it (the token may be that much older than issued_at says).
	// Zero means it never expires (Keystone null) or the expiry is unknown.
	ExpiresAt time.Time
	// IssuedAt is the server's issued_at, on the server clock.
	IssuedAt time.Time
	// Methods are the identity methods the token proves (order not
	// significant: Keystone keeps them in a set).
	Methods []string
	User    User
	Project *Project // set when project-scoped
	Domain  *Domain  // set when domain-scoped
	System  bool     // set when system-scoped
	// IsDomain is Keystone's is_domain: the scoped project acts as a domain.
	IsDomain bool
	Trust    *Trust // set when trust-scoped
	Roles    []Role
	// Catalog is empty for unscoped tokens and NoCatalog requests.
	Catalog  Catalog
	AuditIDs []string
	// ApplicationCredential is set when the token came from one.
	ApplicationCredential *ApplicationCredentialRef

	// authHost is the host:port the token was obtained from; the session
	// trusts it with the token. Empty for tokens made outside ksauth.
	authHost string
	// lifetime is expires_at − issued_at as the server sent them.
	lifetime time.Duration
	// exchanged marks a token obtained by exchanging another (TokenExchange):
	// it cannot outlive that one, so authenticating again renews nothing.
	exchanged bool
	// kind says which headers carry the token and how a service refuses it.
	// nil: Keystone's.
	kind *tokenKind
	// echoes are the secrets of the request that obtained the token which
	// the server wrote into its fields (a user or project name, a catalog
	// URL): every way of printing the token redacts them.
	echoes []string
}

// User is the token's owner.
type User struct {
	ID     string
	Name   string
	Domain Domain
	// PasswordExpiresAt is zero when the password does not expire.
	PasswordExpiresAt time.Time
}

// Project is the project a token is scoped to.
type Project struct {
	ID     string
	Name   string
	Domain Domain
}

// Role is a role the token carries on its scope.
type Role struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Trust is the OS-TRUST trust a token acts on.
type Trust struct {
	ID            string
	TrustorUserID string
	TrusteeUserID string
	Impersonation bool
}

// ApplicationCredentialRef describes the application credential a token was
// issued for.
type ApplicationCredentialRef struct {
	ID          string
	Name        string
	Restricted  bool // the credential may not create other credentials or trusts
	AccessRules []AccessRule
}

// AccessRule limits an application credential to some API calls. Keystone
// does not enforce them; the services' keystonemiddleware does.
type AccessRule struct {
	ID      string `json:"id"`
	Service string `json:"service"`
	Method  string `json:"method"`
	Path    string `json:"path"`
}

// Valid reports whether t is non-nil, has an ID, and is not expired at now.
// Both clocks must agree: Go's monotonic clock stops while a machine
// sleeps, so a token is unexpired only while the wall clock says so too.
func (t *Token) Valid(now time.Time) bool {
	return t != nil && t.ID != "" && (t.ExpiresAt.IsZero() || bothBefore(now, t.ExpiresAt))
}

// bothBefore reports whether a is before b on the monotonic clock (when both
// carry a reading) and on the wall clock.
func bothBefore(a, b time.Time) bool {
	return a.Before(b) && a.Round(0).Before(b.Round(0))
}

// Lifetime is how long the token was issued for (ExpiresAt − IssuedAt,
// measured as the server measured it); zero when it never expires or when
// IssuedAt is unknown. ExpiresAt is on the local clock and IssuedAt on the
// server's, so subtracting them by hand would add the clocks' skew.
func (t *Token) Lifetime() time.Duration {
	if t == nil || t.ExpiresAt.IsZero() || t.IssuedAt.IsZero() {
		return 0
	}
	return t.lifetime
}

// Token returns t itself, so that a *Token can be passed wherever a
// [TokenSource] is taken (a fixed token, never renewed).
func (t *Token) Token(context.Context) (*Token, error) { return t, nil }

// authTokenHeader is X-Auth-Token in canonical form: indexing the header
// map with it directly saves canonicalising the key on every request. Every
// kind of token travels in it (Cleura's X-AUTH-TOKEN is the same header), so
// a request that already has one carries a token of the caller's.
const authTokenHeader = "X-Auth-Token"

// tokenKind is what sets one provider's tokens apart on the wire: the
// headers that carry a token, and how a service says that it no longer
// accepts one. The Transport and the Session know tokens only through it.
type tokenKind struct {
	headers func(t *Token) []headerField
	rejects func(resp *http.Response) bool
	scope   string // what String says the token is for, when it has no Keystone scope
}

// headerField is one header and its value.
type headerField struct{ key, value string }

// keystoneTokens travel as X-Auth-Token and are refused with a 401.
var keystoneTokens = &tokenKind{
	headers: func(t *Token) []headerField { return []headerField{{authTokenHeader, t.ID}} },
	rejects: func(resp *http.Response) bool { return resp.StatusCode == http.StatusUnauthorized },
}

// kindOf is t's kind; a Token made outside ksauth is a Keystone token.
func (t *Token) kindOf() *tokenKind {
	if t.kind == nil {
		return keystoneTokens
	}
	return t.kind
}

// SetHeaders puts the token on a request's headers: X-Auth-Token for a
// Keystone token; X-Auth-Login and X-Auth-Token for a Cleura token.
func (t *Token) SetHeaders(h http.Header) {
	for _, f := range t.kindOf().headers(t) {
		h[f.key] = []string{f.value}
	}
}

// dropHeaders removes the headers SetHeaders sets, so that a request going
// to a host not trusted with a token carries none.
func (t *Token) dropHeaders(h http.Header) {
	for _, f := range t.kindOf().headers(t) {
		delete(h, f.key)
	}
}

// rejected reports whether resp says the server refused this token, so the
// caller should authenticate again: a 401, or for a Cleura token a 403
// saying the token is invalid. resp.Body is left whole for the caller.
func (t *Token) rejected(resp *http.Response) bool {
	return t.kindOf().rejects(resp)
}

// scopeString is a short description of what the token is scoped to.
func (t *Token) scopeString() string {
	switch {
	case t.Project != nil:
		return "project " + t.Project.Name + " (" + t.Project.ID + ")"
	case t.Domain != nil:
		return "domain " + t.Domain.Name + " (" + t.Domain.ID + ")"
	case t.System:
		return "system"
	case t.Trust != nil:
		return "trust " + t.Trust.ID
	case t.kind != nil && t.kind.scope != "":
		return t.kind.scope
	}
	return "unscoped"
}

// String describes the token without revealing it.
func (t *Token) String() string {
	if t == nil {
		return "Token(nil)"
	}
	t = t.shown()
	exp := "never"
	if !t.ExpiresAt.IsZero() {
		exp = t.ExpiresAt.Format(time.RFC3339)
	}
	return fmt.Sprintf("Token(%s, user %s, %s, expires %s)", fingerprint(t.ID), t.User.Name, t.scopeString(), exp)
}

// Format prints String for %v and %s, and the fields with the ID replaced by
// its fingerprint for %+v and %#v. Its value receiver keeps a Token value
// (a struct field, say) redacted too; fmt prints a nil *Token as <nil>.
func (t Token) Format(f fmt.State, verb rune) {
	if verb != 'v' || !f.Flag('+') && !f.Flag('#') {
		fmt.Fprint(f, t.String())
		return
	}
	type token Token
	c := token(*(&t).shown())
	c.ID = fingerprint(t.ID)
	formatRedacted(f, verb, &c)
}

// MarshalJSON encodes the token with its ID replaced by its fingerprint, as
// %+v shows it, so that a JSON log handler never writes the secret (slog's
// JSON handler uses encoding/json for a Token value or a slice of tokens).
func (t Token) MarshalJSON() ([]byte, error) {
	type token Token
	c := token(*(&t).shown())
	c.ID = fingerprint(t.ID)
	return json.Marshal(c)
}

// LogValue shows the token in slog records as its fingerprint, scope and expiry.
func (t *Token) LogValue() slog.Value {
	if t == nil {
		return slog.StringValue("<nil>")
	}
	t = t.shown()
	return slog.GroupValue(
		slog.String("id", fingerprint(t.ID)),
		slog.String("user", t.User.Name),
		slog.String("scope", t.scopeString()),
		slog.Time("expires_at", t.ExpiresAt),
	)
}

// shown is t as it is printed: t itself or, when its server echoed secrets
// of the request into it, a copy with them redacted from every string
// field but the ID (printed as its fingerprint anyway).
func (t *Token) shown() *Token {
	if len(t.echoes) == 0 {
		return t
	}
	c := *t
	c.echoes = nil
	v := reflect.ValueOf(&c).Elem()
	for i := range v.NumField() {
		if v.Type().Field(i).IsExported() {
			v.Field(i).Set(redactStrings(v.Field(i), t.echoes))
		}
	}
	c.ID = t.ID
	return &c
}

// redactStrings returns a copy of v with every string in it (in exported
// struct fields, slices and pointees) redacted of secrets.
func redactStrings(v reflect.Value, secrets []string) reflect.Value {
	switch v.Kind() {
	case reflect.String:
		r := reflect.New(v.Type()).Elem()
		r.SetString(redact(v.String(), secrets...))
		return r
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		p := reflect.New(v.Type().Elem())
		p.Elem().Set(redactStrings(v.Elem(), secrets))
		return p
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		s := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			s.Index(i).Set(redactStrings(v.Index(i), secrets))
		}
		return s
	case reflect.Struct:
		s := reflect.New(v.Type()).Elem()
		s.Set(v)
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				s.Field(i).Set(redactStrings(v.Field(i), secrets))
			}
		}
		return s
	}
	return v
}

// echoedSecrets are those of secrets (a request's) that the server wrote
// into t's fields.
func echoedSecrets(t *Token, secrets []string) []string {
	data, err := t.MarshalJSON()
	if err != nil {
		return secrets
	}
	text := redact(string(data))
	var out []string
	for _, s := range secrets {
		if redact(text, s) != text && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// newToken converts a decoded token body. sent is the local time the request
// was sent; serverNow is the server's idea of that moment (issued_at for a
// fresh token, the Date header for a validated one, zero if unknown).
func newToken(id string, w *wireToken, sent, serverNow time.Time) *Token {
	t := &Token{
		ID:        id,
		IssuedAt:  w.IssuedAt.Time,
		Methods:   w.Methods,
		User:      User{ID: w.User.ID, Name: w.User.Name, Domain: w.User.Domain, PasswordExpiresAt: w.User.PasswordExpiresAt.Time},
		Domain:    w.Domain,
		System:    w.System != nil && w.System.All,
		IsDomain:  w.IsDomain,
		Roles:     w.Roles,
		Catalog:   w.Catalog,
		AuditIDs:  w.AuditIDs,
		ExpiresAt: localExpiry(w.ExpiresAt.Time, serverNow, sent),
	}
	if !w.ExpiresAt.IsZero() && !w.IssuedAt.IsZero() {
		t.lifetime = w.ExpiresAt.Sub(w.IssuedAt.Time)
	}
	if p := w.Project; p != nil {
		t.Project = &Project{ID: p.ID, Name: p.Name, Domain: p.Domain}
	}
	if tr := w.Trust; tr != nil {
		t.Trust = &Trust{ID: tr.ID, TrustorUserID: tr.TrustorUser.ID, TrusteeUserID: tr.TrusteeUser.ID, Impersonation: tr.Impersonation}
	}
	if ac := w.ApplicationCredential; ac != nil {
		t.ApplicationCredential = &ApplicationCredentialRef{ID: ac.ID, Name: ac.Name, Restricted: ac.Restricted, AccessRules: ac.AccessRules}
	}
	return t
}

// localExpiry moves a server-clock expiry onto the local clock: the lifetime
// left on the server (expires − serverNow) counted from localNow. Without a
// server time it trusts the clocks to agree.
//
// Keystone writes issued_at to the whole second, as HTTP writes Date, and
// expires the token at that second plus its lifetime: a serverNow with no
// fraction may be up to a second before the real moment, which would make
// the token look up to a second longer-lived than it is. That second is
// taken off (at most half the time left, so that a token of 2 s or less
// keeps a lifetime), so that a short-lived token is renewed before the
// server stops taking it.
func localExpiry(expires, serverNow, localNow time.Time) time.Time {
	switch {
	case expires.IsZero():
		return time.Time{}
	case serverNow.IsZero():
		return expires
	}
	left := expires.Sub(serverNow)
	if left > 0 && serverNow.Nanosecond() == 0 {
		left -= min(time.Second, left/2)
	}
	return localNow.Add(left)
}
