package ksauth

// From merged Settings to a Keystone: the credentials auth_type names, the
// scope, and the HTTP client with the TLS settings.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
)

// keystoneOf builds the Keystone the settings describe, checked as
// Keystone.Authenticate would check it.
func keystoneOf(s Settings, source string, env map[string]string, log *slog.Logger) (*Keystone, error) {
	if s.AuthURL == "" {
		return nil, &ConfigError{Source: source, Field: "auth_url", Reason: "missing (auth.auth_url, OS_AUTH_URL or Settings.AuthURL)"}
	}
	if v := s.IdentityAPIVersion; v != "" && v != "3" && !strings.HasPrefix(v, "3.") {
		return nil, &ConfigError{Source: source, Field: "identity_api_version", Reason: fmt.Sprintf("%q: only Keystone v3 is supported", v)}
	}
	cred, err := credentialOf(s)
	if err != nil {
		return nil, withSource(err, source)
	}
	scope := scopeOf(s)
	if scope != nil && slices.Contains(methodsOf(cred), "application_credential") {
		debug(context.Background(), log, "ksauth: dropping the scope of an application-credential login: the credential carries its own project",
			slog.String("scope", fmt.Sprint(scope)))
		scope = nil
	}
	client, err := httpClientOf(s, env, log)
	if err != nil {
		return nil, withSource(err, source)
	}
	k := &Keystone{AuthURL: s.AuthURL, Credentials: cred, Scope: scope, HTTPClient: client, Logger: log}
	if err := k.validate(); err != nil {
		var v *ValidationError
		if errors.As(err, &v) {
			return nil, &ConfigError{Source: source, Field: configField(v.Field), Reason: v.Reason, Err: err}
		}
		return nil, err
	}
	if _, err := parseAuthURL(s.AuthURL); err != nil {
		return nil, &ConfigError{Source: source, Field: "auth_url", Reason: err.(*ValidationError).Reason, Err: err}
	}
	return k, nil
}

// configField names a Keystone field by the setting that fills it.
func configField(field string) string {
	r := strings.NewReplacer(
		"Credentials.UserDomain", "auth.user_domain_name/user_domain_id",
		"Credentials.UserID", "auth.user_id/username",
		"Credentials.Password", "auth.password",
		"Credentials.Secret", "auth.application_credential_secret",
		"Credentials.Passcode", "auth.passcode",
		"Credentials.Token", "auth.token",
		"Scope.Domain", "auth.project_domain_name/project_domain_id",
		"Credentials", "auth",
		"Scope", "auth (scope)")
	return r.Replace(field)
}

// credentialOf returns the credential auth_type names. With no auth_type, a
// password login, unless only an application credential or only a token is
// given.
func credentialOf(s Settings) (Credential, error) {
	authType := strings.ToLower(s.AuthType)
	if authType == "" {
		switch {
		case s.Password == "" && (s.ApplicationCredentialID != "" || s.ApplicationCredentialName != ""):
			authType = "v3applicationcredential"
		case s.Password == "" && s.Token != "":
			authType = "v3token"
		}
	}
	if authType != "v3multifactor" {
		return methodCredential(s, authType)
	}
	if len(s.AuthMethods) == 0 {
		return nil, &ConfigError{Field: "auth_methods", Reason: "v3multifactor needs auth_methods (e.g. v3password, v3totp)"}
	}
	var mf MultiFactor
	for _, m := range s.AuthMethods {
		c, err := methodCredential(s, strings.ToLower(m))
		if err != nil {
			return nil, err
		}
		mf = append(mf, c)
	}
	return mf, nil
}

// methodCredential is the credential of one auth method.
func methodCredential(s Settings, method string) (Credential, error) {
	user := userDomain(s)
	switch method {
	case "", "password", "v3password":
		return Password{UserID: s.UserID, Username: s.Username, UserDomain: user, Password: s.Password}, nil
	case "v3applicationcredential", "applicationcredential", "application_credential":
		return ApplicationCredential{ID: s.ApplicationCredentialID, Name: s.ApplicationCredentialName,
			Secret: s.ApplicationCredentialSecret, UserID: s.UserID, Username: s.Username, UserDomain: user}, nil
	case "token", "v3token":
		return TokenExchange{Token: s.Token}, nil
	case "v3totp", "totp":
		return TOTP{UserID: s.UserID, Username: s.Username, UserDomain: user, Passcode: s.Passcode}, nil
	}
	return nil, &ConfigError{Field: "auth_type", Reason: fmt.Sprintf(
		"%q is not supported (password, v3applicationcredential, token, v3totp and v3multifactor are, and cleura for Cleura's REST API)", method)}
}

// The domains, as openstacksdk and keystoneauth1 fill them in: in a
// project-scoped login, domain_id and domain_name stand for the user's and
// the project's domain ID and name where those are not set, then
// default_domain_id and default_domain_name do (keystoneauth1's generic
// plugins). ID and name are filled each on its own, and the ID is what is
// sent when both end up set: a user_domain_name beside a domain_id is sent
// as the domain_id, exactly as openstacksdk sends it.

// projectScoped reports a project-scoped login (domain_* are then the
// user's and project's domain, not a domain scope).
func projectScoped(s Settings) bool { return s.ProjectID != "" || s.ProjectName != "" }

// userDomain is the user's domain.
func userDomain(s Settings) Domain {
	d := Domain{ID: s.UserDomainID, Name: s.UserDomainName}
	if projectScoped(s) {
		d = Domain{ID: firstSet(d.ID, s.DomainID), Name: firstSet(d.Name, s.DomainName)}
	}
	return Domain{ID: firstSet(d.ID, s.DefaultDomain), Name: firstSet(d.Name, s.DefaultDomainName)}.normal()
}

// normal keeps what is sent of a domain: the ID when set, else the name.
func (d Domain) normal() Domain {
	if d.ID != "" {
		return Domain{ID: d.ID}
	}
	return d
}

// scopeOf returns the scope the settings ask for, in keystoneauth1's
// order: a project (by ID, or by name in its domain), else a domain, else
// a trust, else the system; nil for none.
func scopeOf(s Settings) Scope {
	switch {
	case s.ProjectID != "":
		return ProjectScope{ID: s.ProjectID}
	case s.ProjectName != "":
		d := Domain{ID: firstSet(s.ProjectDomainID, s.DomainID, s.DefaultDomain),
			Name: firstSet(s.ProjectDomainName, s.DomainName, s.DefaultDomainName)}
		return ProjectScope{Name: s.ProjectName, Domain: d.normal()}
	case s.DomainID != "" || s.DomainName != "":
		return DomainScope{ID: s.DomainID, Name: s.DomainName}
	case s.TrustID != "":
		return TrustScope{ID: s.TrustID}
	case s.SystemScope != "":
		return SystemScope{}
	}
	return nil
}

func firstSet(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// withSource names the source of a *ConfigError that has none.
func withSource(err error, source string) error {
	if ce, ok := err.(*ConfigError); ok && ce.Source == "" {
		ce.Source = source
	}
	return err
}
