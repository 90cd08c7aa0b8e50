package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ksauth/ksauth"
)

const defaultMinValid = 5 * time.Minute

// jsonDomain, jsonUser, jsonProject and jsonToken are the versioned JSON
// of token -o json: fields are only ever added.
type jsonDomain struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type jsonUser struct {
	ID     string     `json:"id"`
	Name   string     `json:"name"`
	Domain jsonDomain `json:"domain"`
}

type jsonProject struct {
	ID     string     `json:"id"`
	Name   string     `json:"name"`
	Domain jsonDomain `json:"domain"`
}

type jsonToken struct {
	Version   int           `json:"version"`
	ID        string        `json:"id,omitempty"` // left out by token inspect
	ExpiresAt string        `json:"expires_at"`
	IssuedAt  string        `json:"issued_at"`
	User      jsonUser      `json:"user"`
	Project   *jsonProject  `json:"project"`
	Domain    *jsonDomain   `json:"domain"`
	System    bool          `json:"system"`
	Roles     []ksauth.Role `json:"roles"`
	Methods   []string      `json:"methods"`
	AuditIDs  []string      `json:"audit_ids"`
	AuthURL   string        `json:"auth_url"`
	Region    string        `json:"region"`
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func tokenJSON(tok *ksauth.Token, cfg *ksauth.Config, withID bool) jsonToken {
	j := jsonToken{
		Version: 1, ExpiresAt: rfc3339(tok.ExpiresAt), IssuedAt: rfc3339(tok.IssuedAt),
		User:   jsonUser{tok.User.ID, tok.User.Name, jsonDomain{tok.User.Domain.ID, tok.User.Domain.Name}},
		System: tok.System, Roles: orEmpty(tok.Roles), Methods: orEmpty(tok.Methods), AuditIDs: orEmpty(tok.AuditIDs),
		AuthURL: cfg.AuthURL(), Region: cfg.Region,
	}
	if withID {
		j.ID = tok.ID
	}
	if p := tok.Project; p != nil {
		j.Project = &jsonProject{p.ID, p.Name, jsonDomain{p.Domain.ID, p.Domain.Name}}
	}
	if d := tok.Domain; d != nil {
		j.Domain = &jsonDomain{d.ID, d.Name}
	}
	return j
}

func jsonEncode(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) }

func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// freshToken is a token with at least minValid left: the session's (from
// the cache) or, when that has less, a new one; with refresh, always a new
// one (the cached one, if it was served, is replaced).
func (a *app) freshToken(s *ksauth.Session, minValid time.Duration, refresh bool) (*ksauth.Token, error) {
	var stored *ksauth.Token
	if refresh {
		var err error
		if stored, err = s.StoredToken(a.ctx); err != nil {
			return nil, err
		}
	}
	tok, err := s.Token(a.ctx)
	if err != nil {
		return nil, err
	}
	if refresh && stored != nil && stored.ID == tok.ID || !lasts(tok, minValid) {
		s.Invalidate(tok) // retires it from the cache too
		if tok, err = s.Token(a.ctx); err != nil {
			return nil, err
		}
	}
	if !lasts(tok, minValid) {
		return nil, fmt.Errorf("ksauth: Keystone's tokens last %s, less than --min-valid %s", tok.Lifetime().Round(time.Second), minValid)
	}
	return tok, nil
}

// roleNames is the roles' names, separated by spaces.
func roleNames(roles []ksauth.Role) string {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = r.Name
	}
	return strings.Join(names, " ")
}

func lasts(tok *ksauth.Token, d time.Duration) bool {
	return tok.ExpiresAt.IsZero() || tok.ExpiresAt.Sub(time.Now()) >= d
}

func (a *app) cmdToken(_ []string) error {
	if a.f.minValid < 0 {
		return usagef("ksauth token: --min-valid must not be negative")
	}
	cfg, s, err := a.session()
	if err != nil {
		return err
	}
	tok, err := a.freshToken(s, a.f.minValid, a.f.refresh)
	if err != nil {
		return err
	}
	if a.g.output == "json" {
		return a.printJSON(tokenJSON(tok, cfg, true))
	}
	_, err = fmt.Fprintln(a.stdout, tok.ID)
	return err
}

// storedToken is the cached token for the configured identity; none
// exits 2.
func (a *app) storedToken() (*ksauth.Config, *ksauth.Session, *ksauth.Token, error) {
	if a.g.noCache {
		return nil, nil, nil, usagef("ksauth %s: works on the cache: --no-cache makes no sense here", a.cmd.path)
	}
	cfg, s, err := a.session()
	if err != nil {
		return nil, nil, nil, err
	}
	tok, err := s.StoredToken(a.ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	if tok == nil {
		return nil, nil, nil, &inputError{msg: "ksauth: no cached token for this identity (ksauth token or ksauth login gets one)"}
	}
	return cfg, s, tok, nil
}

func (a *app) cmdTokenInspect(_ []string) error {
	cfg, _, tok, err := a.storedToken()
	if err != nil {
		return err
	}
	if a.f.online {
		if err := a.validate(cfg, tok); err != nil {
			return err
		}
	}
	j := tokenJSON(tok, cfg, false)
	if a.g.output == "json" {
		return a.printJSON(j)
	}
	var b strings.Builder
	if cfg.Cleura != nil {
		fmt.Fprintf(&b, "user:       %s\nscope:      Cleura's REST API\n", j.User.Name)
	} else {
		fmt.Fprintf(&b, "user:       %s (%s) in domain %s (%s)\n", j.User.Name, j.User.ID, j.User.Domain.Name, j.User.Domain.ID)
	}
	switch {
	case cfg.Cleura != nil:
	case j.Project != nil:
		fmt.Fprintf(&b, "project:    %s (%s) in domain %s (%s)\n", j.Project.Name, j.Project.ID, j.Project.Domain.Name, j.Project.Domain.ID)
	case j.Domain != nil:
		fmt.Fprintf(&b, "domain:     %s (%s)\n", j.Domain.Name, j.Domain.ID)
	case j.System:
		fmt.Fprintf(&b, "system:     all\n")
	default:
		fmt.Fprintf(&b, "scope:      unscoped\n")
	}
	fmt.Fprintf(&b, "roles:      %s\n", roleNames(j.Roles))
	fmt.Fprintf(&b, "methods:    %s\n", strings.Join(j.Methods, " "))
	fmt.Fprintf(&b, "audit_ids:  %s\n", strings.Join(j.AuditIDs, " "))
	fmt.Fprintf(&b, "issued_at:  %s\n", j.IssuedAt)
	fmt.Fprintf(&b, "expires_at: %s (in %s)\n", j.ExpiresAt, tok.ExpiresAt.Sub(time.Now()).Round(time.Second))
	fmt.Fprintf(&b, "auth_url:   %s\n", j.AuthURL)
	fmt.Fprintf(&b, "region:     %s\n", j.Region)
	if a.f.online {
		b.WriteString("online:     valid\n")
	}
	_, err = fmt.Fprint(a.stdout, b.String())
	return err
}

// validate asks the server whether it still accepts tok: a refusal exits 3.
func (a *app) validate(cfg *ksauth.Config, tok *ksauth.Token) error {
	if cfg.Cleura != nil {
		ok, err := cfg.Cleura.Validate(a.ctx, tok)
		if err == nil && !ok {
			return &rejectedError{msg: "ksauth: Cleura does not accept the cached token (logged out or expired)"}
		}
		return err
	}
	_, err := cfg.Keystone.ValidateToken(a.ctx, tok, tok.ID, &ksauth.ValidateOptions{NoCatalog: true})
	if errors.Is(err, ksauth.ErrNotFound) || errors.Is(err, ksauth.ErrUnauthorized) {
		return &rejectedError{msg: "ksauth: Keystone does not accept the cached token (revoked or expired): " + oneLine(err.Error()), err: err}
	}
	return err
}

// revoke revokes tok (already revoked or expired is fine) and removes it
// from the cache.
func (a *app) revoke(cfg *ksauth.Config, s *ksauth.Session, tok *ksauth.Token) error {
	var err error
	if cfg.Cleura != nil {
		if err = cfg.Cleura.Revoke(a.ctx, tok); err != nil {
			if ok, verr := cfg.Cleura.Validate(a.ctx, tok); verr == nil && !ok {
				err = nil // refused because it is no longer valid: already logged out
			}
		}
	} else {
		err = cfg.Keystone.RevokeToken(a.ctx, tok, tok.ID)
	}
	if err != nil && !errors.Is(err, ksauth.ErrNotFound) && !errors.Is(err, ksauth.ErrUnauthorized) {
		return err
	}
	_, err = s.DeleteStoredToken(a.ctx, tok)
	return err
}

func (a *app) cmdTokenRevoke(_ []string) error {
	cfg, s, tok, err := a.storedToken()
	if err != nil {
		return err
	}
	return a.revoke(cfg, s, tok)
}

func (a *app) cmdLogin(_ []string) error {
	cfg, s, err := a.session()
	if err != nil {
		return err
	}
	tok, err := a.freshToken(s, 0, true)
	if err != nil {
		return err
	}
	scope := "unscoped"
	switch {
	case cfg.Cleura != nil:
		scope = "Cleura's REST API"
	case tok.Project != nil:
		scope = "project " + tok.Project.Name
	case tok.Domain != nil:
		scope = "domain " + tok.Domain.Name
	case tok.System:
		scope = "the system"
	}
	until := rfc3339(tok.ExpiresAt)
	if cfg.Cleura != nil {
		until += " (an estimate: Cleura does not say)"
	}
	fmt.Fprintf(a.stderr, "ksauth: logged in as %s on %s until %s\n", tok.User.Name, scope, until)
	return nil
}

func (a *app) cmdLogout(_ []string) error {
	if a.g.noCache {
		return usagef("ksauth logout: works on the cache: --no-cache makes no sense here")
	}
	cfg, s, err := a.session()
	if err != nil {
		return err
	}
	tok, err := s.StoredToken(a.ctx)
	if err != nil || tok == nil {
		return err
	}
	return a.revoke(cfg, s, tok)
}
