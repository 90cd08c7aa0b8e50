package ksauth

// From merged Settings to a Cleura login: auth_type "cleura", a ksauth
// extension of clouds.yaml for Cleura Cloud's REST API.

import (
	"errors"
	"log/slog"
	"strings"
)

// AuthTypeCleura is the auth_type (OS_AUTH_TYPE) of a clouds.yaml entry
// that logs in to Cleura Cloud's REST API instead of Keystone: auth.auth_url
// is the API's base URL ("": CleuraURL), auth.username the login and
// auth.password the password. [LoadConfig] then sets Config.Cleura, not
// Config.Keystone. openstacksdk does not know this auth_type: such an entry
// is for ksauth only.
const AuthTypeCleura = "cleura"

// cleuraIgnores are the settings a Cleura login has no use for: naming one
// is a mistake (a Keystone entry with the wrong auth_type), not something to
// drop silently.
var cleuraIgnores = []struct {
	field string
	value func(Settings) string
}{
	{"auth.user_id", func(s Settings) string { return s.UserID }},
	{"auth.project_name/project_id", func(s Settings) string { return s.ProjectName + s.ProjectID }},
	{"auth.domain_name/domain_id", func(s Settings) string { return s.DomainName + s.DomainID }},
	{"auth.system_scope", func(s Settings) string { return s.SystemScope }},
	{"auth.trust_id", func(s Settings) string { return s.TrustID }},
	{"auth.application_credential_id/application_credential_name", func(s Settings) string {
		return s.ApplicationCredentialID + s.ApplicationCredentialName
	}},
	{"auth.token", func(s Settings) string { return s.Token }},
	{"auth.passcode", func(s Settings) string { return s.Passcode }},
	{"auth_methods", func(s Settings) string { return strings.Join(s.AuthMethods, "") }},
}

// isCleura reports whether the settings ask for a Cleura login.
func isCleura(s Settings) bool { return strings.EqualFold(s.AuthType, AuthTypeCleura) }

// cleuraOf builds the Cleura login the settings describe, checked as
// Cleura.Authenticate would check it. TwoFactor is left nil: the program
// decides how to ask for an SMS code.
func cleuraOf(s Settings, source string, env map[string]string, log *slog.Logger) (*Cleura, error) {
	for _, ig := range cleuraIgnores {
		if ig.value(s) != "" {
			return nil, &ConfigError{Source: source, Field: ig.field,
				Reason: "not used by auth_type cleura: Cleura's REST login takes a username and a password only"}
		}
	}
	client, err := httpClientOf(s, env, log)
	if err != nil {
		return nil, withSource(err, source)
	}
	c := &Cleura{BaseURL: s.AuthURL, Login: s.Username, Password: s.Password, HTTPClient: client, Logger: log}
	if _, err := c.check(); err != nil {
		var v *ValidationError
		if errors.As(err, &v) {
			reason := v.Reason
			if reason == "empty" {
				reason = "missing"
			}
			return nil, &ConfigError{Source: source, Field: cleuraField(v.Field), Reason: reason, Err: err}
		}
		return nil, &ConfigError{Source: source, Field: "auth.auth_url", Reason: err.Error(), Err: err}
	}
	return c, nil
}

// cleuraField names a Cleura field by the setting that fills it.
func cleuraField(field string) string {
	switch field {
	case "Cleura.Login":
		return "auth.username"
	case "Cleura.Password":
		return "auth.password"
	}
	return "auth.auth_url"
}
