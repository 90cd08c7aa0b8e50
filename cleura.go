package ksauth

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Cleura Cloud's REST API base URLs.
const (
	CleuraURL          = "https://rest.cleura.cloud"           // Cleura Public Cloud
	CleuraCompliantURL = "https://rest.compliant.cleura.cloud" // Cleura Compliant Cloud
)

// CleuraAPIVersion selects the version of Cleura's login API.
type CleuraAPIVersion string

// The login API versions Cleura serves.
const (
	CleuraV2 CleuraAPIVersion = "v2" // current; what Cleura's CLI and Terraform provider use
	CleuraV1 CleuraAPIVersion = "v1" // the documented curl flow
)

// DefaultCleuraMaxAge is how long a Cleura token is taken to live when
// Cleura.MaxAge is zero. Cleura's answers carry no expiry; its own tools
// treat a token older than 20 h as stale.
const DefaultCleuraMaxAge = 20 * time.Hour

// Cleura logs in to Cleura Cloud's REST API (not Keystone) with a login and
// password, and a second factor by SMS when the account has one. Its tokens
// travel as X-AUTH-LOGIN and X-AUTH-TOKEN; a [Session] and a [Transport]
// use them as they use Keystone's, and renew them when a service answers
// 401 or 403 "Invalid token". Set Login and Password; every other field has
// a usable zero value. A Cleura is a plain value: copy it to change a
// field; do not change it while a call on it is running.
type Cleura struct {
	// BaseURL is the REST API. "": CleuraURL.
	BaseURL string
	// Login is the user name.
	Login string
	// Password is the user's password. A secret.
	Password string
	// APIVersion is the login API to use. "": CleuraV2.
	APIVersion CleuraAPIVersion
	// TwoFactor supplies the code Cleura sent by SMS, when the account has
	// a second factor; it is called on every login, background renewals
	// included. [PromptTwoFactor] asks on a terminal. nil: a login that
	// needs a code fails with *TwoFactorRequiredError.
	TwoFactor func(ctx context.Context, c TwoFactorChallenge) (code string, err error)
	// SMSLanguage is the language of the SMS ("en", "sv", ...; v2 only).
	// "": Cleura's default.
	SMSLanguage string
	// MaxAge is how long a token is taken to live, from login: an estimate,
	// since Cleura says nothing of its tokens' lifetime. The session renews
	// the token before then. 0: DefaultCleuraMaxAge.
	MaxAge time.Duration
	// HTTPClient sends the requests. nil: the same default client as
	// Keystone's. Redirects to another host are always refused.
	HTTPClient *http.Client
	// Retry governs retries of 429/503 answers. nil: the defaults.
	Retry *RetryPolicy
	// AllowInsecureHTTP permits an http:// BaseURL on a host other than
	// loopback. The password then crosses the network in clear text.
	AllowInsecureHTTP bool
	// Logger receives debug records (never a secret). nil: silent.
	Logger *slog.Logger
}

// cleuraView is what fmt, slog and encoding/json show of a Cleura.
type cleuraView struct {
	BaseURL           string
	Login             string
	Password          string
	APIVersion        CleuraAPIVersion
	TwoFactor         bool
	SMSLanguage       string
	MaxAge            time.Duration
	AllowInsecureHTTP bool
}

func (c Cleura) view() cleuraView {
	return cleuraView{redactURL(c.BaseURL), c.Login, mask(c.Password), c.APIVersion, c.TwoFactor != nil,
		c.SMSLanguage, c.MaxAge, c.AllowInsecureHTTP}
}

// Format prints the configuration with the password masked, for every verb.
func (c Cleura) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c.view()) }

// LogValue shows the configuration in slog records as Format does.
func (c Cleura) LogValue() slog.Value { return redactedLogValue(c) }

// MarshalJSON encodes the configuration as Format shows it.
func (c Cleura) MarshalJSON() ([]byte, error) { return json.Marshal(c.view()) }

// Authenticate logs in, completing an SMS second factor through TwoFactor
// when Cleura asks for one, and returns the token. Its ExpiresAt is the
// login time plus MaxAge (an estimate), its User.Name the login.
func (c *Cleura) Authenticate(ctx context.Context) (*Token, error) {
	base, err := c.check()
	if err != nil {
		return nil, err
	}
	l := &cleuraLogin{c: c, base: base, api: c.api()}
	return l.run(ctx)
}

// Validate reports whether Cleura still accepts tok (POST
// /auth/{version}/tokens/validate): true on 2xx, false when the token is
// refused (401, or 403 "Invalid token"), an error on anything else.
func (c *Cleura) Validate(ctx context.Context, tok *Token) (bool, error) {
	ex, err := c.tokenCall(ctx, http.MethodPost, "tokens/validate", tok)
	switch {
	case err != nil:
		return false, err
	case ex.status >= 200 && ex.status <= 299:
		return true, nil
	case cleuraRefusal(ex.status, ex.body):
		return false, nil
	}
	return false, ex.httpError()
}

// Revoke logs tok out (DELETE /auth/{version}/tokens).
func (c *Cleura) Revoke(ctx context.Context, tok *Token) error {
	ex, err := c.tokenCall(ctx, http.MethodDelete, "tokens", tok)
	if err != nil {
		return err
	}
	if ex.status < 200 || ex.status > 299 {
		return ex.httpError()
	}
	return nil
}

// tokenCall sends a request about tok, carrying tok's own headers.
func (c *Cleura) tokenCall(ctx context.Context, method, path string, tok *Token) (*exchange, error) {
	base, err := c.check()
	if err != nil {
		return nil, err
	}
	if tok == nil || tok.ID == "" {
		return nil, invalid("tok", "nil or empty token")
	}
	h := http.Header{}
	tok.SetHeaders(h)
	u := base.JoinPath("auth", string(c.api()), path)
	return c.caller().call(ctx, method, u, h, nil, tok.ID)
}

// check validates the configuration and returns the parsed BaseURL.
func (c *Cleura) check() (*url.URL, error) {
	switch {
	case c.Login == "":
		return nil, invalid("Cleura.Login", "empty")
	case c.Password == "":
		return nil, invalid("Cleura.Password", "empty")
	case c.APIVersion != "" && c.APIVersion != CleuraV1 && c.APIVersion != CleuraV2:
		return nil, invalid("Cleura.APIVersion", "%q is not %q or %q", c.APIVersion, CleuraV1, CleuraV2)
	case c.MaxAge < 0:
		return nil, invalid("Cleura.MaxAge", "negative")
	}
	raw := c.BaseURL
	if raw == "" {
		raw = CleuraURL
	}
	u, err := parseServiceURL("Cleura.BaseURL", raw, CleuraURL)
	if err != nil {
		return nil, err
	}
	return u, checkScheme(u, c.AllowInsecureHTTP)
}

func (c *Cleura) api() CleuraAPIVersion {
	if c.APIVersion == "" {
		return CleuraV2
	}
	return c.APIVersion
}

func (c *Cleura) maxAge() time.Duration {
	if c.MaxAge == 0 {
		return DefaultCleuraMaxAge
	}
	return c.MaxAge
}

func (c *Cleura) caller() caller {
	return caller{client: c.HTTPClient, retry: c.Retry, log: c.Logger}
}

// cleuraTokens travel as X-Auth-Login and X-Auth-Token (Cleura's
// X-AUTH-LOGIN and X-AUTH-TOKEN) and are refused with a 401, or with a 403
// whose message says the token is invalid.
var cleuraTokens = &tokenKind{
	headers: func(t *Token) []headerField {
		return []headerField{{"X-Auth-Login", t.User.Name}, {authTokenHeader, t.ID}}
	},
	rejects: func(resp *http.Response) bool {
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			return true
		case http.StatusForbidden:
			return cleuraRefusal(resp.StatusCode, peekBody(resp, refusalPeek))
		}
		return false
	},
	scope: "Cleura REST API",
}

// refusalPeek is how much of a 403's body is read to tell an invalid token
// from a missing privilege; Cleura's error bodies are far shorter.
const refusalPeek = 4 << 10

// cleuraRefusal reports whether an answer says the token is not accepted: a
// 401, or a 403 whose error message says the token is invalid or expired.
// Every other 403 ("No access: ...", "Forbidden IP") is a real refusal that
// a new token would not change.
func cleuraRefusal(status int, body []byte) bool {
	switch status {
	case http.StatusUnauthorized:
		return true
	case http.StatusForbidden:
		var w wireError
		if json.Unmarshal(body, &w) != nil || w.Error == nil {
			return false
		}
		return invalidTokenMessage(w.Error.Message)
	}
	return false
}

// invalidTokenMessage reports whether a 403's message says the token itself
// is not accepted ("Invalid token", "Token expired", ...).
func invalidTokenMessage(message string) bool {
	m := strings.ToLower(message)
	for _, s := range []string{"invalid token", "token is invalid", "token expired", "expired token", "token has expired"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// cleuraAuthMethods are the methods a Cleura token proves.
func cleuraAuthMethods(twoFactor bool) []string {
	if twoFactor {
		return []string{"password", "sms"}
	}
	return []string{"password"}
}

// smsOffered reports whether Cleura offers the SMS factor among options.
func smsOffered(options []string) bool { return slices.Contains(options, "sms") }
