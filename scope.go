package ksauth

import "encoding/json"

// Scope says what a token is for: [ProjectScope], [DomainScope],
// [SystemScope], [TrustScope], or [Unscoped]. A nil Scope sends none and lets
// Keystone decide (the user's default project, if any, else unscoped).
type Scope interface {
	validate() error
	// wire returns the value of the request's "scope" key.
	wire() any
}

// ProjectScope asks for a project token: by ID, or by Name with the
// project's Domain (ID or Name).
type ProjectScope struct {
	ID     string // "": the project is Name in Domain
	Name   string // used only when ID is ""
	Domain Domain // Name's domain; required with Name
}

func (s ProjectScope) validate() error {
	switch {
	case s.ID != "":
		return nil
	case s.Name == "":
		return invalid("Scope.ID", "set ID, or Name with Domain")
	case s.Domain.isZero():
		return invalid("Scope.Domain", "a project given by name needs its domain (ID or Name)")
	}
	return nil
}

func (s ProjectScope) wire() any {
	if s.ID != "" {
		return map[string]any{"project": wireRef{ID: s.ID}}
	}
	return map[string]any{"project": wireRef{Name: s.Name, Domain: s.Domain.wire()}}
}

// DomainScope asks for a domain token, by ID or Name.
type DomainScope struct {
	ID   string // "": the domain is Name
	Name string // used only when ID is ""
}

func (s DomainScope) validate() error {
	if s.ID == "" && s.Name == "" {
		return invalid("Scope.ID", "set ID or Name")
	}
	return nil
}

func (s DomainScope) wire() any {
	return map[string]any{"domain": Domain(s).wire()}
}

// SystemScope asks for a system-scoped token ({"system":{"all":true}}), used
// for deployment-wide administration.
type SystemScope struct{}

func (SystemScope) validate() error { return nil }
func (SystemScope) wire() any {
	return map[string]any{"system": map[string]bool{"all": true}}
}

// TrustScope asks for a token that acts on a trust (OS-TRUST) given to the
// authenticating user.
type TrustScope struct {
	ID string // the trust's ID; required
}

func (s TrustScope) validate() error {
	if s.ID == "" {
		return invalid("Scope.ID", "empty trust id")
	}
	return nil
}

func (s TrustScope) wire() any {
	return map[string]any{"OS-TRUST:trust": wireRef{ID: s.ID}}
}

// Unscoped asks for an unscoped token explicitly ("scope": "unscoped"), even
// for a user with a default project. Use it to list projects
// ([Keystone.Projects]) and then exchange the token for a scoped one.
type Unscoped struct{}

func (Unscoped) validate() error { return nil }
func (Unscoped) wire() any       { return json.RawMessage(`"unscoped"`) }
