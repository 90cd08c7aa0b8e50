package ksauth

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
)

// Credential is a Keystone v3 identity method: [Password],
// [ApplicationCredential], [TokenExchange], [TOTP], or several of them in a
// [MultiFactor]. The set is closed; fmt and slog never show its secrets.
type Credential interface {
	// validate checks the fields before anything is sent; field names
	// in its error are prefixed with prefix ("Credentials").
	validate(prefix string) error
	// addTo writes the method into the identity block of an auth request.
	addTo(id *wireIdentity)
	// methods names the identity method(s), as Keystone does.
	methods() []string
}

// methodsOf names the identity methods of c.
func methodsOf(c Credential) []string {
	if c == nil || isNilPointer(c) {
		return nil
	}
	return c.methods()
}

// Domain names a Keystone domain by ID or by Name; ID wins when both are set.
type Domain struct {
	ID   string // "": the domain is Name
	Name string // used only when ID is ""
}

func (d Domain) isZero() bool { return d.ID == "" && d.Name == "" }

func (d Domain) wire() *wireRef {
	if d.ID != "" {
		return &wireRef{ID: d.ID}
	}
	return &wireRef{Name: d.Name}
}

// userRef validates and builds the "user" object shared by password, TOTP and
// application-credential methods: an ID, or a Name with its domain.
func userRef(prefix, id, name string, domain Domain) (*wireUser, error) {
	switch {
	case id != "":
		return &wireUser{ID: id}, nil
	case name == "":
		return nil, invalid(prefix+".UserID", "set UserID, or Username with UserDomain")
	case domain.isZero():
		return nil, invalid(prefix+".UserDomain", "a user given by name needs its domain (ID or Name)")
	}
	return &wireUser{Name: name, Domain: domain.wire()}, nil
}

// Password is the "password" method: a user by UserID, or by Username and
// UserDomain, and the password.
type Password struct {
	UserID     string // the user's ID; "": the user is Username in UserDomain
	Username   string // used only when UserID is ""
	UserDomain Domain // Username's domain; required with Username
	Password   string // secret; required
}

func (p Password) validate(prefix string) error {
	if _, err := userRef(prefix, p.UserID, p.Username, p.UserDomain); err != nil {
		return err
	}
	if p.Password == "" {
		return invalid(prefix+".Password", "empty")
	}
	return nil
}

func (Password) methods() []string { return []string{"password"} }

func (p Password) addTo(id *wireIdentity) {
	u, _ := userRef("", p.UserID, p.Username, p.UserDomain)
	u.Password = p.Password
	id.Methods = append(id.Methods, "password")
	id.Password = &wireUserMethod{User: u}
}

// masked is a copy of the credential with the password replaced, of a type
// without methods: what fmt, slog and encoding/json print.
func (p Password) masked() any {
	type password Password
	p.Password = mask(p.Password)
	return password(p)
}

// Format prints the credential with the password replaced.
func (p Password) Format(f fmt.State, verb rune) { formatRedacted(f, verb, p.masked()) }

// LogValue shows the credential in slog records as Format does.
func (p Password) LogValue() slog.Value { return redactedLogValue(p) }

// MarshalJSON encodes the credential with the password masked, so a JSON log
// handler never writes it.
func (p Password) MarshalJSON() ([]byte, error) { return json.Marshal(p.masked()) }

// ApplicationCredential is the "application_credential" method: ID and
// Secret, or Name and Secret with the owning user (UserID, or Username and
// UserDomain). An application credential carries its own project: Keystone
// refuses a scope sent with it, and so does ksauth, before sending.
type ApplicationCredential struct {
	ID         string // "": the credential is Name, of the owner below
	Name       string // used only when ID is ""
	Secret     string // secret; required
	UserID     string // the owner, used only with Name; "": Username in UserDomain
	Username   string // used only with Name when UserID is ""
	UserDomain Domain // Username's domain; required with Username
}

func (a ApplicationCredential) validate(prefix string) error {
	if a.ID == "" && a.Name == "" {
		return invalid(prefix+".ID", "set ID, or Name with the user")
	}
	if a.ID == "" {
		if _, err := userRef(prefix, a.UserID, a.Username, a.UserDomain); err != nil {
			return err
		}
	}
	if a.Secret == "" {
		return invalid(prefix+".Secret", "empty")
	}
	return nil
}

func (ApplicationCredential) methods() []string { return []string{"application_credential"} }

func (a ApplicationCredential) addTo(id *wireIdentity) {
	w := &wireAppCred{ID: a.ID, Secret: a.Secret}
	if a.ID == "" {
		w.Name = a.Name
		w.User, _ = userRef("", a.UserID, a.Username, a.UserDomain)
	}
	id.Methods = append(id.Methods, "application_credential")
	id.ApplicationCredential = w
}

// masked is a copy of the credential with the secret replaced, of a type
// without methods: what fmt, slog and encoding/json print.
func (a ApplicationCredential) masked() any {
	type applicationCredential ApplicationCredential
	a.Secret = mask(a.Secret)
	return applicationCredential(a)
}

// Format prints the credential with the secret replaced.
func (a ApplicationCredential) Format(f fmt.State, verb rune) { formatRedacted(f, verb, a.masked()) }

// LogValue shows the credential in slog records as Format does.
func (a ApplicationCredential) LogValue() slog.Value { return redactedLogValue(a) }

// MarshalJSON encodes the credential with the secret masked, so a JSON log
// handler never writes it.
func (a ApplicationCredential) MarshalJSON() ([]byte, error) { return json.Marshal(a.masked()) }

// TokenExchange is the "token" method: a new token for an existing one,
// usually with another scope (unscoped → project, project → other project).
// The new token keeps the old token's expiry: rescoping never extends a
// session. Keystone answers 404, not 401, when Token is expired or revoked.
type TokenExchange struct {
	Token string // secret: the existing token id
}

func (t TokenExchange) validate(prefix string) error {
	if t.Token == "" {
		return invalid(prefix+".Token", "empty")
	}
	return nil
}

func (TokenExchange) methods() []string { return []string{"token"} }

func (t TokenExchange) addTo(id *wireIdentity) {
	id.Methods = append(id.Methods, "token")
	id.Token = &wireTokenMethod{ID: t.Token}
}

// masked is a copy of the credential with the token replaced, of a type
// without methods: what fmt, slog and encoding/json print.
func (t TokenExchange) masked() any {
	type tokenExchange TokenExchange
	t.Token = mask(t.Token)
	return tokenExchange(t)
}

// Format prints the credential with the token replaced.
func (t TokenExchange) Format(f fmt.State, verb rune) { formatRedacted(f, verb, t.masked()) }

// LogValue shows the credential in slog records as Format does.
func (t TokenExchange) LogValue() slog.Value { return redactedLogValue(t) }

// MarshalJSON encodes the credential with the token masked, so a JSON log
// handler never writes it.
func (t TokenExchange) MarshalJSON() ([]byte, error) { return json.Marshal(t.masked()) }

// TOTP is the "totp" method: a user (UserID, or Username and UserDomain) and
// a time-based one-time passcode.
type TOTP struct {
	UserID     string // the user's ID; "": the user is Username in UserDomain
	Username   string // used only when UserID is ""
	UserDomain Domain // Username's domain; required with Username
	Passcode   string // secret; required: the current code (see TOTPPasscode)
}

func (t TOTP) validate(prefix string) error {
	if _, err := userRef(prefix, t.UserID, t.Username, t.UserDomain); err != nil {
		return err
	}
	if t.Passcode == "" {
		return invalid(prefix+".Passcode", "empty")
	}
	return nil
}

func (TOTP) methods() []string { return []string{"totp"} }

func (t TOTP) addTo(id *wireIdentity) {
	u, _ := userRef("", t.UserID, t.Username, t.UserDomain)
	u.Passcode = t.Passcode
	id.Methods = append(id.Methods, "totp")
	id.TOTP = &wireUserMethod{User: u}
}

// masked is a copy of the credential with the passcode replaced, of a type
// without methods: what fmt, slog and encoding/json print.
func (t TOTP) masked() any {
	type totp TOTP
	t.Passcode = mask(t.Passcode)
	return totp(t)
}

// Format prints the credential with the passcode replaced.
func (t TOTP) Format(f fmt.State, verb rune) { formatRedacted(f, verb, t.masked()) }

// LogValue shows the credential in slog records as Format does.
func (t TOTP) LogValue() slog.Value { return redactedLogValue(t) }

// MarshalJSON encodes the credential with the passcode masked, so a JSON log
// handler never writes it.
func (t TOTP) MarshalJSON() ([]byte, error) { return json.Marshal(t.masked()) }

// MultiFactor sends several methods in one request, e.g. Password and TOTP
// for a user whose rules require both. Each method may appear once.
type MultiFactor []Credential

func (m MultiFactor) validate(prefix string) error {
	if len(m) == 0 {
		return invalid(prefix, "MultiFactor needs at least one method")
	}
	var seen []string
	for i, c := range m {
		field := fmt.Sprintf("%s[%d]", prefix, i)
		if c == nil || isNilPointer(c) {
			return invalid(field, "nil credential")
		}
		switch c.(type) {
		case MultiFactor, *MultiFactor:
			return invalid(field, "MultiFactor cannot be nested")
		}
		if err := c.validate(field); err != nil {
			return err
		}
		method := c.methods()[0]
		if slices.Contains(seen, method) {
			return invalid(field, "method %q given twice", method)
		}
		seen = append(seen, method)
	}
	return nil
}

func (m MultiFactor) methods() []string {
	var out []string
	for _, c := range m {
		out = append(out, methodsOf(c)...)
	}
	return out
}

// Format prints the methods with their secrets masked, for every verb: each
// method masks its own, and this method keeps a *MultiFactor nested in a
// struct from being printed by fmt's fallback, which ignores Format methods.
func (m MultiFactor) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, []Credential(m))
}

// LogValue shows the methods in slog records, secrets masked.
func (m MultiFactor) LogValue() slog.Value { return redactedLogValue(m) }

func (m MultiFactor) addTo(id *wireIdentity) {
	for _, c := range m {
		c.addTo(id)
	}
}

// isNilPointer reports a typed nil pointer held in an interface, such as a
// (*Password)(nil) Credential, whose value methods would panic.
func isNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}
