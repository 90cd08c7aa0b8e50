package ksauth

import (
	"cmp"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
)

// ConfigOptions says which configuration [LoadConfig] reads. The zero
// value (or nil) reads the process's environment and the usual files.
type ConfigOptions struct {
	// Cloud is the clouds.yaml entry to use. "": OS_CLOUD; else the OS_*
	// variables when they hold auth settings (openstacksdk's "envvars"
	// cloud); else the only cloud defined.
	Cloud string
	// Region overrides region_name / OS_REGION_NAME (and Settings.Region).
	// For a cloud with regions: it must be one of them, and brings its
	// values, as Settings.Region does.
	Region string
	// Env holds "KEY=value" pairs read instead of os.Environ() for every
	// variable (OS_*, HOME, XDG_CONFIG_HOME, OS_CLIENT_CONFIG_FILE,
	// HTTPS_PROXY, ...). nil: os.Environ().
	Env []string
	// Dir is the working directory of the file search. "": the process's.
	Dir string
	// Settings are explicit values (a provider's arguments); every field
	// set wins over the cloud entry and the environment.
	Settings Settings
	// Logger receives a Warn when TLS verification is turned off, and debug
	// records of what was dropped. nil: silent.
	Logger *slog.Logger
}

// configOptionsView is what fmt, slog and encoding/json show of
// ConfigOptions.
type configOptionsView struct {
	Cloud, Region string
	Env           []string
	Dir           string
	Settings      Settings
}

// view masks every Env value: Env may be a whole environment, secrets and
// all (OS_PASSWORD, a proxy URL's password, other programs' keys).
func (o ConfigOptions) view() configOptionsView {
	var env []string
	for _, kv := range o.Env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			kv = k + "=" + mask(v)
		}
		env = append(env, kv)
	}
	return configOptionsView{o.Cloud, o.Region, env, o.Dir, o.Settings}
}

// Format prints the options with every Env value and the Settings' secrets
// masked, for every verb.
func (o ConfigOptions) Format(f fmt.State, verb rune) { formatRedacted(f, verb, o.view()) }

// LogValue shows the options in slog records as Format does.
func (o ConfigOptions) LogValue() slog.Value { return redactedLogValue(o) }

// MarshalJSON encodes the options as Format shows them.
func (o ConfigOptions) MarshalJSON() ([]byte, error) { return json.Marshal(o.view()) }

// Config is a resolved configuration, ready to authenticate.
type Config struct {
	Cloud     string // the cloud used ("" when from OS_* variables or Settings only)
	Region    string
	Interface string    // "public" unless set
	Keystone  *Keystone // ready to Authenticate: AuthURL, Credentials, Scope, HTTPClient with the TLS settings; nil when Cleura is set
	// Cleura is set instead of Keystone when auth_type is "cleura"
	// (AuthTypeCleura): ready to Authenticate once TwoFactor is set, if the
	// account has a second factor. nil otherwise.
	Cleura   *Cleura
	Settings Settings // the merged values, for inspection (secrets masked when printed)
}

// Authenticator is the login the configuration describes: Keystone, or
// Cleura for auth_type "cleura"; nil when neither is set.
func (c *Config) Authenticator() Authenticator {
	switch {
	case c.Cleura != nil:
		return c.Cleura
	case c.Keystone != nil:
		return c.Keystone
	}
	return nil
}

// AuthURL is where the configuration logs in: Keystone's auth URL, or
// Cleura's REST API base URL; "" when neither is set.
func (c *Config) AuthURL() string {
	switch {
	case c.Cleura != nil:
		return cmp.Or(c.Cleura.BaseURL, CleuraURL)
	case c.Keystone != nil:
		return c.Keystone.AuthURL
	}
	return ""
}

// configView is what fmt, slog and encoding/json show of a Config: the
// same fields, each masking its own secrets.
type configView Config

// Format prints the configuration with its secrets masked, for every verb.
// Without it, %s of a *Config nested in a struct would dump the Settings
// unmasked (fmt's bad-verb output calls no method).
func (c Config) Format(f fmt.State, verb rune) { formatRedacted(f, verb, configView(c)) }

// LogValue shows the configuration in slog records as Format does.
func (c Config) LogValue() slog.Value { return redactedLogValue(c) }

// MarshalJSON encodes the configuration as Format shows it.
func (c Config) MarshalJSON() ([]byte, error) { return json.Marshal(configView(c)) }

// NewSession returns a Session over c.Authenticator() whose Client sends
// through the same TLS settings.
func (c *Config) NewSession(opts *SessionOptions) *Session {
	s := NewSession(c.Authenticator(), opts)
	var client *http.Client
	switch {
	case c.Cleura != nil:
		client = c.Cleura.HTTPClient
	case c.Keystone != nil:
		client = c.Keystone.HTTPClient
	}
	if client != nil {
		s.base = client.Transport
	}
	return s
}

// ConfigError reports configuration that cannot be used: a file that is
// missing, unreadable or not YAML, an unknown cloud or region, a missing,
// conflicting or malformed setting. Its text names the source (a file, the
// environment or the settings) and the field, never a secret value.
type ConfigError struct {
	Source string // a file path, "environment", "settings", or a cloud ("cloud x")
	Field  string // the setting, e.g. "auth.username", "OS_INSECURE", "verify"
	Reason string
	Err    error // the underlying error, if any
}

// Error names where the setting came from, the setting and what is wrong.
func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("ksauth: configuration")
	if e.Source != "" {
		fmt.Fprintf(&b, " %s", e.Source)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": %s", e.Field)
	}
	fmt.Fprintf(&b, ": %s", e.Reason)
	return b.String()
}

// Unwrap returns the underlying error.
func (e *ConfigError) Unwrap() error { return e.Err }

// LoadConfig resolves a configuration as openstacksdk does, and returns a
// Keystone ready to authenticate (or a Cleura, for an entry whose auth_type
// is [AuthTypeCleura]). Precedence, highest first:
//
//  1. opts.Settings (and opts.Region);
//  2. the named cloud: secure.yaml over clouds.yaml over its profile,
//     then its region's values; the OS_* variables are not read for a
//     named cloud, not even OS_REGION_NAME (as in openstacksdk);
//  3. with no cloud named: the OS_* variables when they hold an auth
//     setting, else the only cloud defined.
//
// Files are searched in OS_CLIENT_CONFIG_FILE (OS_CLIENT_SECURE_FILE),
// then opts.Dir, $XDG_CONFIG_HOME/openstack (~/.config/openstack) and
// /etc/openstack, as clouds.yaml, clouds.yml or clouds.json; the first one
// found of each kind is used.
func LoadConfig(opts *ConfigOptions) (*Config, error) {
	if opts == nil {
		opts = &ConfigOptions{}
	}
	env := envMap(opts.Env)
	cloud, base, err := selectCloud(opts, env)
	if err != nil {
		return nil, err
	}
	s := base
	s.merge(opts.Settings)
	if opts.Region != "" {
		s.Region = opts.Region
	}
	if opts.Settings.AuthURL != "" { // templated as a cloud entry's is; an OS_AUTH_URL is not (as in openstacksdk)
		s.AuthURL = strings.ReplaceAll(s.AuthURL, "{region_name}", s.Region)
	}
	c := &Config{Cloud: cloud, Region: s.Region, Interface: interfaceOf(s.Interface), Settings: s}
	if isCleura(s) {
		c.Cleura, err = cleuraOf(s, describeSource(cloud), env, opts.Logger)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	if c.Keystone, err = keystoneOf(s, describeSource(cloud), env, opts.Logger); err != nil {
		return nil, err
	}
	return c, nil
}

// describeSource says where a configuration came from, for errors.
func describeSource(cloud string) string {
	if cloud != "" {
		return fmt.Sprintf("(cloud %q)", cloud)
	}
	return "(environment and settings)"
}

// envMap turns KEY=value pairs (nil: the process's) into a map.
func envMap(pairs []string) map[string]string {
	if pairs == nil {
		pairs = os.Environ()
	}
	env := make(map[string]string, len(pairs))
	for _, p := range pairs {
		if k, v, ok := strings.Cut(p, "="); ok {
			env[k] = v
		}
	}
	return env
}

// interfaceOf normalises interface names: internalURL is internal.
func interfaceOf(v string) string {
	v = strings.TrimSuffix(strings.ToLower(v), "url")
	if v == "" {
		return "public"
	}
	return v
}

// selectCloud picks the cloud and reads its settings.
func selectCloud(opts *ConfigOptions, env map[string]string) (string, Settings, error) {
	envSettings, envAuth, err := fromEnv(env)
	if err != nil {
		return "", Settings{}, err
	}
	search := newConfigSearch(env, opts.Dir)
	clouds, public, err := loadClouds(search)
	if err != nil {
		return "", Settings{}, err
	}
	name := opts.Cloud
	if name == "" {
		name = env["OS_CLOUD"]
	}
	switch {
	case name == "" && envAuth, name == "envvars" && envAuth && clouds.entries["envvars"] == nil:
		return "", envSettings, nil
	case name == "" && len(clouds.entries) == 1:
		name = cloudNames(clouds.entries)[0]
	case name == "" && (len(clouds.entries) == 0 || opts.Settings.AuthURL != ""):
		return "", envSettings, nil
	case name == "":
		return "", Settings{}, &ConfigError{Source: clouds.source, Reason: fmt.Sprintf(
			"%d clouds are defined (%s): name one (ConfigOptions.Cloud or OS_CLOUD)", len(clouds.entries), strings.Join(cloudNames(clouds.entries), ", "))}
	}
	s, err := clouds.settings(name, public, firstSet(opts.Region, opts.Settings.Region))
	return name, s, err
}
