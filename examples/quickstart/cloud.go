package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/ksauth/ksauth"
)

// cloud logs in to the cloud environ names and shows the token and the
// catalog. It only reads: one login (and version discovery), nothing else.
// It returns how many logins it sent.
func cloud(ctx context.Context, p *printer, rec *recorder, environ []string) (int, error) {
	cfg, err := ksauth.LoadConfig(&ksauth.ConfigOptions{Env: environ})
	if err != nil {
		return 0, fmt.Errorf("reading the cloud configuration: %w", err)
	}
	// Watch the configured client's requests (it carries the TLS settings).
	client := http.Client{}
	if cfg.Keystone.HTTPClient != nil {
		client = *cfg.Keystone.HTTPClient
	}
	rec.base = client.Transport
	client.Transport = rec
	cfg.Keystone.HTTPClient = &client

	source := "the cloud of the OS_* variables"
	if cfg.Cloud != "" {
		source = fmt.Sprintf("cloud %q of clouds.yaml", cfg.Cloud)
	}
	p.printf("ksauth quickstart: %s (read-only)", source)
	p.printf("%-10s %s", "Keystone", displayURL(cfg.Keystone.AuthURL))
	if cfg.Region != "" {
		p.printf("%-10s %s", "Region", cfg.Region)
	}

	p.title("Login")
	session := cfg.NewSession(nil)
	begin := time.Now()
	tok, err := session.Token(ctx)
	if err != nil {
		return countLogins(rec), fmt.Errorf("logging in: %w", err)
	}
	p.line("authenticated in %s (%s)", dur(time.Since(begin)), describeCredentials(cfg.Keystone.Credentials))

	p.title("Token")
	p.table(nil, tokenSummary(tok, time.Now()))

	p.title("Service catalog")
	if len(tok.Catalog) == 0 {
		p.line("the token has no catalog (an unscoped token): set a project to see one")
	} else {
		p.table([]string{"TYPE", "NAME", "INTERFACE", "REGION", "URL"}, catalogRows(tok.Catalog))
	}
	return countLogins(rec), p.err()
}

// countLogins is the number of POST .../auth/tokens rec saw.
func countLogins(rec *recorder) int {
	_, logins := rec.count()
	return logins
}

// describeCredentials names the identity method of c, never its secrets.
func describeCredentials(c ksauth.Credential) string {
	switch c := c.(type) {
	case ksauth.Password:
		if c.Username != "" {
			return "password of user " + c.Username
		}
		return "password of user " + c.UserID
	case ksauth.ApplicationCredential:
		return "application credential"
	case ksauth.TokenExchange:
		return "existing token"
	case ksauth.TOTP:
		return "TOTP passcode"
	case ksauth.MultiFactor:
		return "multi-factor"
	}
	return "configured credentials"
}
