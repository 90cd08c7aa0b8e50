package ksauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The JSON shapes of Keystone v3 requests and responses. Only this file
// knows them; the rest of the package uses the public types.

// --- requests ---------------------------------------------------------------

type wireAuthRequest struct {
	Auth wireAuth `json:"auth"`
}

type wireAuth struct {
	Identity wireIdentity `json:"identity"`
	Scope    any          `json:"scope,omitempty"`
}

type wireIdentity struct {
	Methods               []string         `json:"methods"`
	Password              *wireUserMethod  `json:"password,omitempty"`
	Token                 *wireTokenMethod `json:"token,omitempty"`
	ApplicationCredential *wireAppCred     `json:"application_credential,omitempty"`
	TOTP                  *wireUserMethod  `json:"totp,omitempty"`
}

type wireUserMethod struct {
	User *wireUser `json:"user"`
}

type wireUser struct {
	ID       string   `json:"id,omitempty"`
	Name     string   `json:"name,omitempty"`
	Domain   *wireRef `json:"domain,omitempty"`
	Password string   `json:"password,omitempty"`
	Passcode string   `json:"passcode,omitempty"`
}

type wireTokenMethod struct {
	ID string `json:"id"`
}

type wireAppCred struct {
	ID     string    `json:"id,omitempty"`
	Name   string    `json:"name,omitempty"`
	User   *wireUser `json:"user,omitempty"`
	Secret string    `json:"secret"`
}

// secrets lists the secrets in the request, to be redacted from whatever
// the server echoes in an error.
func (r *wireAuthRequest) secrets() []string {
	var out []string
	id := r.Auth.Identity
	for _, m := range []*wireUserMethod{id.Password, id.TOTP} {
		if m != nil && m.User != nil {
			out = append(out, m.User.Password, m.User.Passcode)
		}
	}
	if id.Token != nil {
		out = append(out, id.Token.ID)
	}
	if id.ApplicationCredential != nil {
		out = append(out, id.ApplicationCredential.Secret)
	}
	return out
}

// wireRef is an {id} or {name, domain} reference (users, projects, domains, trusts).
type wireRef struct {
	ID     string   `json:"id,omitempty"`
	Name   string   `json:"name,omitempty"`
	Domain *wireRef `json:"domain,omitempty"`
}

// --- responses ----------------------------------------------------------------

type wireTokenResponse struct {
	Token *wireToken `json:"token"`
}

type wireToken struct {
	Methods               []string            `json:"methods"`
	User                  wireTokenUser       `json:"user"`
	AuditIDs              []string            `json:"audit_ids"`
	ExpiresAt             keystoneTime        `json:"expires_at"`
	IssuedAt              keystoneTime        `json:"issued_at"`
	Project               *wireProject        `json:"project"`
	Domain                *Domain             `json:"domain"`
	System                *struct{ All bool } `json:"system"`
	IsDomain              bool                `json:"is_domain"`
	Roles                 []Role              `json:"roles"`
	Catalog               Catalog             `json:"catalog"`
	Trust                 *wireTrust          `json:"OS-TRUST:trust"`
	ApplicationCredential *wireAppCredRef     `json:"application_credential"`
}

type wireTokenUser struct {
	ID                string       `json:"id"`
	Name              string       `json:"name"`
	Domain            Domain       `json:"domain"`
	PasswordExpiresAt keystoneTime `json:"password_expires_at"`
}

type wireProject struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Domain Domain `json:"domain"`
}

type wireTrust struct {
	ID            string              `json:"id"`
	Impersonation bool                `json:"impersonation"`
	TrustorUser   struct{ ID string } `json:"trustor_user"`
	TrusteeUser   struct{ ID string } `json:"trustee_user"`
}

type wireAppCredRef struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Restricted  bool         `json:"restricted"`
	AccessRules []AccessRule `json:"access_rules"`
}

type wireReceiptResponse struct {
	Receipt struct {
		Methods   []string      `json:"methods"`
		User      wireTokenUser `json:"user"`
		ExpiresAt keystoneTime  `json:"expires_at"`
	} `json:"receipt"`
	RequiredAuthMethods [][]string `json:"required_auth_methods"`
}

type wireError struct {
	Error *struct {
		Code    int    `json:"code"`
		Title   string `json:"title"`
		Message string `json:"message"`
		// Errors is Cleura's list of what was wrong, field by field.
		Errors []struct {
			Key   string          `json:"key"`
			Value json.RawMessage `json:"value"`
		} `json:"errors"`
	} `json:"error"`
}

// keystoneTime parses every timestamp form Keystone sends: with or without
// a fraction and a "Z" (no zone means UTC), and null (the zero time).
type keystoneTime struct{ time.Time }

var keystoneTimeLayouts = []string{
	time.RFC3339Nano,                // 2026-11-23T07:43:09.000000Z
	"2006-01-02T15:04:05.999999999", // 2026-11-23T07:03:13, 2026-11-24T06:43:06.000000
}

func (t *keystoneTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		t.Time = time.Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	parsed, err := parseKeystoneTime(s)
	if err != nil {
		return err
	}
	t.Time = parsed
	return nil
}

func parseKeystoneTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range keystoneTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return nonZero(t.UTC())
		}
	}
	return time.Time{}, fmt.Errorf("timestamp %s is not in a Keystone format", excerpt(s))
}

// nonZero refuses the zero time (0001-01-01T00:00:00Z): it means "never"
// in a Token, which only Keystone's null may say.
func nonZero(t time.Time) (time.Time, error) {
	if t.IsZero() {
		return t, errors.New("timestamp 0001-01-01T00:00:00Z is the zero time, not a real one (null means none)")
	}
	return t, nil
}

// excerpt quotes a malformed timestamp only when it is short and made of
// the characters timestamps are made of; anything else (a server echoing a
// secret into the field, say) is described by its length alone.
func excerpt(s string) string {
	if len(s) > 40 || strings.Trim(s, "0123456789-:.TZtz+ ") != "" {
		return fmt.Sprintf("(a %d-byte string, not shown)", len(s))
	}
	return strconv.Quote(s)
}
