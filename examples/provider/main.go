// Command provider shows how a Terraform-style provider uses ksauth: the
// provider block's arguments (providerConfig, as a user writes them in
// HCL) become explicit ksauth.Settings, with no environment and no
// clouds.yaml in the way; one Session is built from them and shared by
// every resource, which finds its service endpoint in the token's catalog
// with Session.Endpoint. Printing the configuration, with fmt or slog,
// shows no secret.
//
//	go run ./examples/provider                      # against keystonetest, in-process
//	go run ./examples/provider -config provider.json # against a real cloud
//
// provider.json holds the provider block as JSON, e.g.
//
//	{"auth_url": "https://keystone.example.com:5000/v3", "user_name": "alice",
//	 "password": "...", "user_domain_name": "Default", "tenant_name": "demo",
//	 "project_domain_name": "Default", "region": "RegionOne"}
//
// or an application credential (application_credential_id and
// application_credential_secret). Against a real cloud it only reads.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"

	"github.com/ksauth/ksauth"
	"github.com/ksauth/ksauth/keystonetest"
)

// newFake starts the in-process Keystone; tests replace it to keep a hold
// of the server.
var newFake = keystonetest.NewServer

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Args[1:], os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "provider:", err)
		os.Exit(1)
	}
}

// sensitive is a secret argument, as Terraform marks them: fmt, slog and
// encoding/json show it as REDACTED. A plain string field would be printed
// as it is: ksauth can mask its own types, not the provider's.
type sensitive string

const redacted = "REDACTED"

// String returns REDACTED (or "" when unset).
func (s sensitive) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// Format prints String for every verb, so %#v and %x do not show it either.
func (s sensitive) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// LogValue shows String in slog records.
func (s sensitive) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON encodes String.
func (s sensitive) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads the secret itself (MarshalJSON's counterpart would
// lose it).
func (s *sensitive) UnmarshalJSON(b []byte) error {
	var v string
	err := json.Unmarshal(b, &v)
	*s = sensitive(v)
	return err
}

// providerConfig is the provider block, as the HCL decoder fills it.
type providerConfig struct {
	AuthURL                     string    `json:"auth_url"`
	UserName                    string    `json:"user_name"`
	Password                    sensitive `json:"password"`
	UserDomainName              string    `json:"user_domain_name"`
	TenantName                  string    `json:"tenant_name"`
	ProjectDomainName           string    `json:"project_domain_name"`
	ApplicationCredentialID     string    `json:"application_credential_id"`
	ApplicationCredentialSecret sensitive `json:"application_credential_secret"`
	Region                      string    `json:"region"`
	EndpointType                string    `json:"endpoint_type"` // public, internal or admin
	CACertFile                  string    `json:"cacert_file"`
	Insecure                    *bool     `json:"insecure"`
}

// settings converts the block to ksauth's explicit settings.
func (c providerConfig) settings() ksauth.Settings {
	return ksauth.Settings{
		AuthURL:                     c.AuthURL,
		Username:                    c.UserName,
		Password:                    string(c.Password),
		UserDomainName:              c.UserDomainName,
		ProjectName:                 c.TenantName,
		ProjectDomainName:           c.ProjectDomainName,
		ApplicationCredentialID:     c.ApplicationCredentialID,
		ApplicationCredentialSecret: string(c.ApplicationCredentialSecret),
		Region:                      c.Region,
		Interface:                   c.EndpointType,
		CACert:                      c.CACertFile,
		Insecure:                    c.Insecure,
	}
}

// providerMeta is what the provider's Configure hands every resource: one
// Session, so one login however many resources there are.
type providerMeta struct {
	session *ksauth.Session
	client  *http.Client
	region  string
	iface   string
}

// configure builds the provider's session from its block. Env is empty
// (not nil, which would read the process's), so no OS_* variable, OS_CLOUD
// or OS_CLIENT_CONFIG_FILE applies; the explicit auth_url keeps a
// clouds.yaml out unless it is the only cloud in ~/.config/openstack or
// /etc/openstack (HOME is not set either, so only the latter).
func configure(pc providerConfig, base http.RoundTripper, keystoneClient *http.Client) (*providerMeta, error) {
	cfg, err := ksauth.LoadConfig(&ksauth.ConfigOptions{Settings: pc.settings(), Env: []string{}})
	if err != nil {
		return nil, err
	}
	if keystoneClient != nil { // the in-process fake's client
		cfg.Keystone.HTTPClient = keystoneClient
	}
	session := cfg.NewSession(nil)
	client := session.Client()
	if base != nil {
		client = &http.Client{Transport: &ksauth.Transport{Session: session, Base: base}}
	}
	return &providerMeta{session: session, client: client, region: cfg.Region, iface: cfg.Interface}, nil
}

// resource is one resource type of the provider, reading from its service.
type resource struct {
	name        string // e.g. "example_compute_instance"
	serviceType string // the catalog type of its API
}

// read resolves the resource's endpoint and sends a GET, as a Read
// function would.
func (r resource) read(ctx context.Context, meta *providerMeta) (endpoint, status string, err error) {
	endpoint, err = meta.session.Endpoint(ctx, ksauth.EndpointOpts{
		Type: r.serviceType, Region: meta.region, Interfaces: []string{meta.iface},
	})
	if err != nil {
		return "", "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return "", "", err
	}
	resp, err := meta.client.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return endpoint, resp.Status, nil
}

// run reads the provider block (the fake's, or -config's), configures the
// provider and reads each resource.
func run(ctx context.Context, out io.Writer, args []string, _ func(string) string) error {
	fs := flag.NewFlagSet("provider", flag.ContinueOnError)
	fs.SetOutput(out)
	configFile := fs.String("config", "", "a JSON file holding the provider block (a real cloud); \"\": the in-process fake")
	if err := fs.Parse(args); err != nil {
		return err
	}
	src, err := providerBlock(*configFile)
	if err != nil {
		return err
	}
	if src.srv != nil {
		defer src.srv.Close()
	}
	pc := src.pc
	if pc.Password == "" && pc.ApplicationCredentialSecret == "" {
		return errors.New("the provider block has neither password nor application_credential_secret")
	}
	showProviderBlock(out, pc)
	meta, err := configure(pc, src.base, src.keystoneClient)
	if err != nil {
		return err
	}
	settings := pc.settings()
	fmt.Fprintf(out, "  ksauth.Settings  %s\n", setFields(fmt.Sprintf("%+v", settings)))

	fmt.Fprintln(out, "\n== resources (one shared session)")
	resources := []resource{
		{"example_compute_instance", "compute"},
		{"example_compute_keypair", "compute"},
		{"example_objectstorage_container", "object-store"},
	}
	for _, r := range resources {
		endpoint, status, err := r.read(ctx, meta)
		if err != nil {
			return fmt.Errorf("%s: %w", r.name, err)
		}
		fmt.Fprintf(out, "  %-32s %-13s %s  %s\n", r.name, r.serviceType, status, endpoint)
	}
	if src.srv != nil {
		fmt.Fprintf(out, "\n  logins %d for %d resources\n", src.srv.Requests("POST /v3/auth/tokens"), len(resources))
	}
	return nil
}

// source is where the provider block comes from, and how to reach its
// cloud.
type source struct {
	pc             providerConfig
	srv            *keystonetest.Server // the in-process fake; nil for a real cloud
	base           http.RoundTripper    // nil: the default
	keystoneClient *http.Client         // nil: the default
}

// providerBlock reads the provider block from configFile, or starts the
// in-process fake and writes one for it when configFile is "".
func providerBlock(configFile string) (*source, error) {
	if configFile != "" {
		var src source
		data, err := os.ReadFile(configFile)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(data, &src.pc); err != nil {
			return nil, fmt.Errorf("%s: %w", configFile, err)
		}
		return &src, nil
	}
	srv := newFake()
	return &source{
		srv:            srv,
		base:           srv.Transport(),
		keystoneClient: srv.Client(),
		pc: providerConfig{
			AuthURL:           srv.AuthURL(),
			UserName:          keystonetest.DemoUserName,
			Password:          keystonetest.DemoPassword,
			UserDomainName:    keystonetest.DefaultDomainName,
			TenantName:        keystonetest.DemoProjectName,
			ProjectDomainName: keystonetest.DefaultDomainName,
			Region:            keystonetest.DefaultRegion,
		},
	}, nil
}

// showProviderBlock prints pc with %+v and through slog: its secrets
// print masked.
func showProviderBlock(out io.Writer, pc providerConfig) {
	fmt.Fprintln(out, "== provider block (secrets never printed)")
	fmt.Fprintf(out, "  %%+v   %s\n", setFields(fmt.Sprintf("%+v", pc)))
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{ReplaceAttr: dropTime})).Info("configure", "provider", pc)
	fmt.Fprintf(out, "  slog  %s", logged.String())
}

// dropTime removes slog's time attribute, for a stable line.
func dropTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

// setFields keeps the fields of a %+v rendering of a flat struct that are
// set, for a shorter line: "{A:x B: C:<nil>}" becomes "A:x".
func setFields(s string) string {
	var kept []string
	for _, f := range strings.Fields(strings.Trim(s, "{}")) {
		if !strings.HasSuffix(f, ":") && !strings.HasSuffix(f, ":<nil>") && !strings.HasSuffix(f, ":[]") && !strings.HasSuffix(f, ":0s") {
			kept = append(kept, f)
		}
	}
	return strings.Join(kept, " ")
}
