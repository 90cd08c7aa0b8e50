package ksauth

// Settings: one struct for every configuration value, whichever source it
// came from, and the table that maps clouds.yaml keys and OS_* variables
// onto it.

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Settings holds every setting ksauth reads from a clouds.yaml entry, the
// OS_* environment or a provider's arguments, named after clouds.yaml's
// keys. The zero value of a field means "not set": a set value from a
// source of higher precedence wins (see [LoadConfig]). Printing Settings
// masks the secrets.
type Settings struct {
	AuthURL  string // auth.auth_url, OS_AUTH_URL
	AuthType string // auth_type, OS_AUTH_TYPE: password, v3applicationcredential, token, v3totp, v3multifactor, ...; cleura (AuthTypeCleura) for Cleura's REST API

	Username       string // auth.username, OS_USERNAME
	UserID         string // auth.user_id, OS_USER_ID
	Password       string // auth.password, OS_PASSWORD; a secret
	UserDomainName string // auth.user_domain_name, OS_USER_DOMAIN_NAME
	UserDomainID   string // auth.user_domain_id, OS_USER_DOMAIN_ID

	ProjectName       string // auth.project_name (or tenant_name), OS_PROJECT_NAME (OS_TENANT_NAME)
	ProjectID         string // auth.project_id (or tenant_id), OS_PROJECT_ID (OS_TENANT_ID)
	ProjectDomainName string // auth.project_domain_name, OS_PROJECT_DOMAIN_NAME
	ProjectDomainID   string // auth.project_domain_id, OS_PROJECT_DOMAIN_ID
	DomainName        string // auth.domain_name, OS_DOMAIN_NAME: a domain scope, or both domains of a project-scoped login
	DomainID          string // auth.domain_id, OS_DOMAIN_ID
	// DefaultDomain is the ID of the user's and the project's domain where
	// those are not given (auth.default_domain_id, OS_DEFAULT_DOMAIN_ID;
	// python-openstackclient's default_domain, OS_DEFAULT_DOMAIN).
	DefaultDomain     string
	DefaultDomainName string // auth.default_domain_name, OS_DEFAULT_DOMAIN_NAME: the same by name
	SystemScope       string // auth.system_scope, OS_SYSTEM_SCOPE: "all"
	TrustID           string // auth.trust_id, OS_TRUST_ID

	ApplicationCredentialID     string // auth.application_credential_id, OS_APPLICATION_CREDENTIAL_ID
	ApplicationCredentialName   string // auth.application_credential_name, OS_APPLICATION_CREDENTIAL_NAME
	ApplicationCredentialSecret string // auth.application_credential_secret, OS_APPLICATION_CREDENTIAL_SECRET; a secret

	Token       string   // auth.token, OS_TOKEN (OS_AUTH_TOKEN); a secret
	Passcode    string   // auth.passcode, OS_PASSCODE: a TOTP code; a secret
	AuthMethods []string // auth_methods, OS_AUTH_METHODS (comma-separated): the methods of v3multifactor

	Region             string // region_name, OS_REGION_NAME; as a setting, it chooses among the cloud's regions: like ConfigOptions.Region
	Interface          string // interface, OS_INTERFACE (OS_ENDPOINT_TYPE): public, internal or admin
	IdentityAPIVersion string // identity_api_version, OS_IDENTITY_API_VERSION: only 3 is supported

	// Insecure turns TLS verification off (verify: false, insecure: true,
	// OS_INSECURE). nil: not set (verification on).
	Insecure   *bool
	CACert     string        // cacert, OS_CACERT: a path or PEM text
	Cert       string        // cert, OS_CERT: client certificate, a path or PEM text
	Key        string        // key, OS_KEY: its private key, a path or PEM text; a secret when PEM text
	APITimeout time.Duration // api_timeout (seconds), OS_API_TIMEOUT: the whole-request timeout; 0: none
}

// merge sets every field of s that o sets: o takes precedence.
func (s *Settings) merge(o Settings) {
	for _, k := range settingKeys {
		if v := *k.field(&o); v != "" {
			*k.field(s) = v
		}
	}
	if o.AuthMethods != nil {
		s.AuthMethods = slices.Clone(o.AuthMethods)
	}
	if o.Insecure != nil {
		v := *o.Insecure
		s.Insecure = &v
	}
	if o.APITimeout != 0 {
		s.APITimeout = o.APITimeout
	}
}

// settingsView is what fmt, slog and encoding/json show of Settings.
type settingsView Settings

func (s Settings) view() settingsView {
	s.Password, s.ApplicationCredentialSecret = mask(s.Password), mask(s.ApplicationCredentialSecret)
	s.Token, s.Passcode = mask(s.Token), mask(s.Passcode)
	s.AuthURL = redactURL(s.AuthURL)
	if strings.Contains(s.Key, "-----BEGIN") {
		s.Key = redacted
	}
	return settingsView(s)
}

// Format prints the settings with the secrets masked, for every verb.
func (s Settings) Format(f fmt.State, verb rune) { formatRedacted(f, verb, s.view()) }

// LogValue shows the settings in slog records as Format does.
func (s Settings) LogValue() slog.Value { return redactedLogValue(s) }

// MarshalJSON encodes the settings as Format shows them.
func (s Settings) MarshalJSON() ([]byte, error) { return json.Marshal(s.view()) }

// settingKey maps one string setting to its clouds.yaml key (under auth:
// when auth is set) and its environment variables, first the one that wins.
type settingKey struct {
	key   string
	auth  bool
	env   []string
	field func(*Settings) *string
}

var settingKeys = []settingKey{
	{"auth_url", true, []string{"OS_AUTH_URL"}, func(s *Settings) *string { return &s.AuthURL }},
	{"auth_type", false, []string{"OS_AUTH_TYPE", "OS_AUTH_PLUGIN"}, func(s *Settings) *string { return &s.AuthType }},
	{"username", true, []string{"OS_USERNAME"}, func(s *Settings) *string { return &s.Username }},
	{"user_id", true, []string{"OS_USER_ID"}, func(s *Settings) *string { return &s.UserID }},
	{"password", true, []string{"OS_PASSWORD"}, func(s *Settings) *string { return &s.Password }},
	{"user_domain_name", true, []string{"OS_USER_DOMAIN_NAME"}, func(s *Settings) *string { return &s.UserDomainName }},
	{"user_domain_id", true, []string{"OS_USER_DOMAIN_ID"}, func(s *Settings) *string { return &s.UserDomainID }},
	{"project_name", true, []string{"OS_PROJECT_NAME", "OS_TENANT_NAME"}, func(s *Settings) *string { return &s.ProjectName }},
	{"project_id", true, []string{"OS_PROJECT_ID", "OS_TENANT_ID"}, func(s *Settings) *string { return &s.ProjectID }},
	{"project_domain_name", true, []string{"OS_PROJECT_DOMAIN_NAME"}, func(s *Settings) *string { return &s.ProjectDomainName }},
	{"project_domain_id", true, []string{"OS_PROJECT_DOMAIN_ID"}, func(s *Settings) *string { return &s.ProjectDomainID }},
	{"domain_name", true, []string{"OS_DOMAIN_NAME"}, func(s *Settings) *string { return &s.DomainName }},
	{"domain_id", true, []string{"OS_DOMAIN_ID"}, func(s *Settings) *string { return &s.DomainID }},
	{"default_domain_id", true, []string{"OS_DEFAULT_DOMAIN_ID", "OS_DEFAULT_DOMAIN"}, func(s *Settings) *string { return &s.DefaultDomain }},
	{"default_domain_name", true, []string{"OS_DEFAULT_DOMAIN_NAME"}, func(s *Settings) *string { return &s.DefaultDomainName }},
	{"system_scope", true, []string{"OS_SYSTEM_SCOPE"}, func(s *Settings) *string { return &s.SystemScope }},
	{"trust_id", true, []string{"OS_TRUST_ID"}, func(s *Settings) *string { return &s.TrustID }},
	{"application_credential_id", true, []string{"OS_APPLICATION_CREDENTIAL_ID"}, func(s *Settings) *string { return &s.ApplicationCredentialID }},
	{"application_credential_name", true, []string{"OS_APPLICATION_CREDENTIAL_NAME"}, func(s *Settings) *string { return &s.ApplicationCredentialName }},
	{"application_credential_secret", true, []string{"OS_APPLICATION_CREDENTIAL_SECRET"}, func(s *Settings) *string { return &s.ApplicationCredentialSecret }},
	{"token", true, []string{"OS_TOKEN", "OS_AUTH_TOKEN"}, func(s *Settings) *string { return &s.Token }},
	{"passcode", true, []string{"OS_PASSCODE"}, func(s *Settings) *string { return &s.Passcode }},
	{"region_name", false, []string{"OS_REGION_NAME"}, func(s *Settings) *string { return &s.Region }},
	{"interface", false, []string{"OS_INTERFACE", "OS_ENDPOINT_TYPE"}, func(s *Settings) *string { return &s.Interface }},
	{"identity_api_version", false, []string{"OS_IDENTITY_API_VERSION"}, func(s *Settings) *string { return &s.IdentityAPIVersion }},
	{"cacert", false, []string{"OS_CACERT"}, func(s *Settings) *string { return &s.CACert }},
	{"cert", false, []string{"OS_CERT"}, func(s *Settings) *string { return &s.Cert }},
	{"key", false, []string{"OS_KEY"}, func(s *Settings) *string { return &s.Key }},
}

// legacyAuthKeys are older clouds.yaml spellings of auth keys.
var legacyAuthKeys = map[string]string{"tenant_name": "project_name", "tenant_id": "project_id",
	"default_domain": "default_domain_id", "auth_token": "token"}

// fromEnv reads the OS_* variables. auth reports whether any of them is an
// auth setting (openstacksdk then treats them as a cloud of their own).
func fromEnv(env map[string]string) (s Settings, auth bool, err error) {
	for _, k := range settingKeys {
		for _, name := range k.env {
			if v := env[name]; v != "" {
				*k.field(&s) = v
				auth = auth || k.auth || k.key == "auth_type"
				break
			}
		}
	}
	if v := env["OS_AUTH_METHODS"]; v != "" {
		s.AuthMethods = splitList(v)
	}
	if v := env["OS_INSECURE"]; v != "" {
		b, ok := parseBool(v)
		if !ok {
			return s, auth, &ConfigError{Source: "environment", Field: "OS_INSECURE", Reason: fmt.Sprintf("%q is not a boolean", v)}
		}
		s.Insecure = &b
	}
	if v := env["OS_API_TIMEOUT"]; v != "" {
		d, ok := parseTimeout(v)
		if !ok {
			return s, auth, &ConfigError{Source: "environment", Field: "OS_API_TIMEOUT", Reason: fmt.Sprintf("%q is not a number of seconds", v)}
		}
		s.APITimeout = d
	}
	return s, auth, nil
}

// splitList splits a comma-separated list, dropping blanks.
func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parseBool reads the booleans clouds.yaml and OS_* variables use.
func parseBool(v string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "yes", "1", "on":
		return true, true
	case "false", "no", "0", "off":
		return false, true
	}
	return false, false
}

// parseTimeout reads a timeout in seconds, fractions allowed.
func parseTimeout(v string) (time.Duration, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f < 0 || f > 1e9 {
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}
