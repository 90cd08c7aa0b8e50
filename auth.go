package ksauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Authenticator obtains a new token. Implementations must be safe for
// concurrent use; a [Session] calls Authenticate one at a time anyway.
type Authenticator interface {
	Authenticate(ctx context.Context) (*Token, error)
}

// AuthenticatorFunc adapts a function to [Authenticator], as
// [http.HandlerFunc] does for handlers.
type AuthenticatorFunc func(ctx context.Context) (*Token, error)

// Authenticate calls f.
func (f AuthenticatorFunc) Authenticate(ctx context.Context) (*Token, error) { return f(ctx) }

// Keystone authenticates against an OpenStack Keystone v3 endpoint with
// POST /v3/auth/tokens. Set AuthURL and Credentials; every other field has a
// usable zero value.
//
// A Keystone is a plain value: copy it to change a field, e.g. the same
// credentials with another Scope (version discovery is cached per AuthURL
// and HTTPClient, not in the value). Do not change a Keystone while a call
// on it is running.
type Keystone struct {
	// AuthURL is the identity endpoint. "https://h:5000", "https://h:5000/v3",
	// "https://h/identity" and "https://h/identity/v3" all work: a URL whose
	// path does not end in /v3 goes through version discovery once.
	AuthURL string
	// Credentials are the identity method(s): Password, ApplicationCredential,
	// TokenExchange, TOTP or MultiFactor.
	Credentials Credential
	// Scope of the token. nil: Keystone's default (the user's default project,
	// else unscoped). Must be nil with an ApplicationCredential.
	Scope Scope
	// Passcode, when set, is called if Keystone answers that the user's
	// multi-factor rules need a TOTP passcode (a 401 with a receipt); the login
	// then continues with the receipt and the passcode. [TOTPSource] makes
	// one from a TOTP secret. nil: such answers are returned as
	// *MFARequiredError.
	Passcode func(ctx context.Context) (string, error)
	// Receipt, when set, is sent as Openstack-Auth-Receipt to complete a
	// multi-factor login by hand (from MFARequiredError.Receipt). A secret.
	Receipt string
	// NoCatalog asks for a token without the service catalog (?nocatalog),
	// a smaller response for callers that do not look up endpoints.
	NoCatalog bool
	// HTTPClient sends the requests. nil: a client with a 10 s connect
	// timeout, a 10 s TLS handshake timeout and a 60 s response-header
	// timeout. Redirects to another host are always refused.
	HTTPClient *http.Client
	// Retry governs retries of Keystone's 429/503 answers. nil: the defaults.
	Retry *RetryPolicy
	// AllowInsecureHTTP permits an http:// AuthURL on a host other than
	// loopback. Credentials then cross the network in clear text.
	AllowInsecureHTTP bool
	// Logger receives debug records (never a secret). nil: silent.
	Logger *slog.Logger
}

// keystoneView is what fmt, slog and encoding/json show of a Keystone: the
// configuration with the receipt masked and the AuthURL without user info
// (credentials mask their own secrets).
type keystoneView struct {
	AuthURL           string
	Credentials       Credential
	Scope             Scope
	Receipt           string
	NoCatalog         bool
	AllowInsecureHTTP bool
}

func (k Keystone) view() keystoneView {
	return keystoneView{redactURL(k.AuthURL), k.Credentials, k.Scope, mask(k.Receipt), k.NoCatalog, k.AllowInsecureHTTP}
}

// Format prints the configuration with its secrets masked, for every verb.
// Its value receiver keeps a Keystone value (a field of a config struct,
// say) masked too.
func (k Keystone) Format(f fmt.State, verb rune) { formatRedacted(f, verb, k.view()) }

// LogValue shows the configuration in slog records as Format does.
func (k Keystone) LogValue() slog.Value { return redactedLogValue(k) }

// MarshalJSON encodes the configuration as Format shows it, so a JSON log
// handler never writes a secret.
func (k Keystone) MarshalJSON() ([]byte, error) { return json.Marshal(k.view()) }

// Authenticate sends the credentials and returns the new token.
func (k *Keystone) Authenticate(ctx context.Context) (*Token, error) {
	if err := k.validate(); err != nil {
		return nil, err
	}
	endpoint, discoveryErr, err := k.endpoint(ctx)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	r := k.request()
	secrets := append(r.secrets(), k.Receipt) // the first request's, redacted from every later answer too
	tok, err := k.authenticate(ctx, endpoint, r, k.Receipt)
	var mfa *MFARequiredError
	if errors.As(err, &mfa) && k.Passcode != nil && needsTOTP(mfa) {
		tok, err = k.continueWithPasscode(ctx, endpoint, mfa, secrets)
	}
	if err != nil {
		if discoveryErr != nil && wrongEndpoint(err) {
			err = &DiscoveryError{AuthURL: safeURL(endpoint.JoinPath("..")), Discovery: scrubbed(discoveryErr, secrets...), Err: err}
		}
		return nil, err
	}
	tok.exchanged = exchangesToken(k.Credentials)
	debug(ctx, k.Logger, "ksauth: authenticated", slog.Any("token", tok), slog.Duration("took", time.Since(start)))
	return tok, nil
}

// wrongEndpoint reports an error that suggests the URL was not Keystone v3's.
func wrongEndpoint(err error) bool {
	var he *HTTPError
	if errors.As(err, &he) {
		refused := errors.Is(err, ErrUnauthorized) // a Keystone 404 that refuses the login (see authenticate)
		return !refused && (he.StatusCode == http.StatusNotFound || he.StatusCode == http.StatusMethodNotAllowed)
	}
	var re *MalformedResponseError
	var qe *RequestSendError
	return errors.As(err, &re) || errors.As(err, &qe)
}

func (k *Keystone) validate() error {
	if k.Credentials == nil || isNilPointer(k.Credentials) {
		return invalid("Credentials", "nil: set Password, ApplicationCredential, TokenExchange, TOTP or MultiFactor")
	}
	if err := k.Credentials.validate("Credentials"); err != nil {
		return err
	}
	if k.Scope != nil {
		if isNilPointer(k.Scope) {
			return invalid("Scope", "nil pointer: use a nil Scope for Keystone's default")
		}
		if slices.Contains(methodsOf(k.Credentials), "application_credential") {
			return invalid("Scope", "must be nil with an application credential: it carries its own project")
		}
		return k.Scope.validate()
	}
	return nil
}

// exchangesToken reports credentials that only exchange an existing token:
// the new token cannot outlive that one, so renewing it gains nothing.
func exchangesToken(c Credential) bool {
	return slices.Equal(methodsOf(c), []string{"token"})
}

// request builds the auth request body for k's credentials and scope.
func (k *Keystone) request() *wireAuthRequest {
	var r wireAuthRequest
	k.Credentials.addTo(&r.Auth.Identity)
	if k.Scope != nil {
		r.Auth.Scope = k.Scope.wire()
	}
	return &r
}

func (k *Keystone) caller() caller {
	return caller{client: k.HTTPClient, retry: k.Retry, log: k.Logger}
}

// authenticate posts one auth request. A 401 with a receipt comes back as
// *MFARequiredError. Nothing the server answers shows the request's
// secrets, or earlier (those of the login's earlier requests).
func (k *Keystone) authenticate(ctx context.Context, endpoint *url.URL, r *wireAuthRequest, receipt string, earlier ...string) (*Token, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("ksauth: encoding the auth request: %w", err)
	}
	u := endpoint.JoinPath("auth", "tokens")
	if k.NoCatalog {
		u.RawQuery = "nocatalog"
	}
	header := http.Header{}
	if receipt != "" {
		header.Set("Openstack-Auth-Receipt", receipt)
	}
	ex, err := k.caller().call(ctx, http.MethodPost, u, header, body, append(append(r.secrets(), receipt), earlier...)...)
	if err != nil {
		return nil, err
	}
	switch {
	case ex.status == http.StatusCreated || ex.status == http.StatusOK:
		tok, err := ex.issuedToken(ex.header.Get("X-Subject-Token"))
		if err != nil {
			return nil, err
		}
		tok.authHost = hostKey(endpoint)
		return tok, nil
	case ex.status == http.StatusUnauthorized && ex.header.Get("Openstack-Auth-Receipt") != "":
		return nil, ex.receiptError()
	}
	e := ex.httpError()
	if e.StatusCode == http.StatusNotFound && strings.HasPrefix(e.Message, "Could not find Application Credential") {
		// An application credential Keystone does not know: a refused
		// login, not a wrong URL.
		e.sentinel = ErrUnauthorized
		e.Hint = "the application credential does not exist (deleted, or never created): the login was refused"
	}
	return nil, e
}

// issuedToken decodes the token Keystone just issued: its issued_at is the
// server's "now".
func (ex *exchange) issuedToken(id string) (*Token, error) {
	w, err := ex.tokenBody(id)
	if err != nil {
		return nil, err
	}
	tok := newToken(id, w, ex.sent, w.IssuedAt.Time)
	tok.echoes = echoedSecrets(tok, ex.secrets)
	return tok, nil
}

// validatedToken decodes a token Keystone describes (validation): the Date
// header is the server's "now".
func (ex *exchange) validatedToken(id string) (*Token, error) {
	w, err := ex.tokenBody(id)
	if err != nil {
		return nil, err
	}
	serverNow, _ := http.ParseTime(ex.header.Get("Date"))
	tok := newToken(id, w, ex.sent, serverNow)
	tok.echoes = echoedSecrets(tok, ex.secrets)
	return tok, nil
}

func (ex *exchange) tokenBody(id string) (*wireToken, error) {
	if id == "" {
		return nil, ex.malformed("missing X-Subject-Token header", nil)
	}
	ex.secrets = append(ex.secrets, id) // a body quoting the new token must not print it
	var w wireTokenResponse
	if err := ex.decode(&w); err != nil {
		return nil, err
	}
	if w.Token == nil {
		return nil, ex.malformed(`no "token" object in the body`, nil)
	}
	return w.Token, nil
}

// receiptError decodes a 401 with a receipt. The method names are the
// server's: any but Keystone's own is redacted of the request's secrets
// (and of the receipt) and cut short, for they are printed.
func (ex *exchange) receiptError() error {
	receipt := ex.header.Get("Openstack-Auth-Receipt")
	ex.secrets = append(ex.secrets, receipt)
	var w wireReceiptResponse
	if err := ex.decode(&w); err != nil {
		return err
	}
	u := w.Receipt.User
	required := make([][]string, len(w.RequiredAuthMethods))
	for i, set := range w.RequiredAuthMethods {
		required[i] = ex.methodNames(set)
	}
	return &MFARequiredError{
		Receipt:         receipt,
		RequiredMethods: required,
		Methods:         ex.methodNames(w.Receipt.Methods),
		User:            User{ID: u.ID, Name: u.Name, Domain: u.Domain},
		ExpiresAt:       w.Receipt.ExpiresAt.Time,
	}
}

// keystoneMethods are the auth method names Keystone knows: shown as they
// are, whatever the secrets (a password "token" must not hide the method).
var keystoneMethods = []string{"password", "token", "totp", "application_credential", "mapped", "openid",
	"saml2", "oauth1", "oauth2", "external", "kerberos", "x509"}

// methodNames are method names from the server, fit to print.
func (ex *exchange) methodNames(methods []string) []string {
	if methods == nil {
		return nil
	}
	out := make([]string, len(methods))
	for i, m := range methods {
		if out[i] = m; !slices.Contains(keystoneMethods, m) {
			out[i] = serverText(m, 40, ex.secrets)
		}
	}
	return out
}

// needsTOTP reports whether some accepted method set would be complete with
// the receipt's methods plus totp.
func needsTOTP(e *MFARequiredError) bool {
	if slices.Contains(e.Methods, "totp") {
		return false
	}
	for _, set := range e.RequiredMethods {
		complete := slices.Contains(set, "totp")
		for _, m := range set {
			complete = complete && (m == "totp" || slices.Contains(e.Methods, m))
		}
		if complete {
			return true
		}
	}
	return false
}

// continueWithPasscode completes a multi-factor login: the receipt, a TOTP
// passcode for the receipt's user, and the scope again. A failure is the
// receipt's *MFARequiredError with Err saying which step failed. earlier
// are the first request's secrets: the second request's answer may echo
// them too.
func (k *Keystone) continueWithPasscode(ctx context.Context, endpoint *url.URL, mfa *MFARequiredError, earlier []string) (*Token, error) {
	if mfa.User.ID == "" { // a malformed receipt body: no one to send the passcode for
		return nil, mfa.failed(errors.New("the receipt names no user id; cannot continue with a passcode"))
	}
	code, err := k.Passcode(ctx)
	if err == nil && code == "" {
		err = errors.New("empty")
	}
	if err != nil {
		return nil, mfa.failed(fmt.Errorf("passcode: %w", scrubbed(err, append(earlier, mfa.Receipt)...)))
	}
	debug(ctx, k.Logger, "ksauth: continuing multi-factor login with a passcode", slog.Any("required", mfa.RequiredMethods))
	r := &wireAuthRequest{}
	TOTP{UserID: mfa.User.ID, Passcode: code}.addTo(&r.Auth.Identity)
	if k.Scope != nil {
		r.Auth.Scope = k.Scope.wire()
	}
	tok, err := k.authenticate(ctx, endpoint, r, mfa.Receipt, earlier...)
	if err != nil {
		return nil, mfa.failed(fmt.Errorf("the login with the passcode failed: %w", err))
	}
	return tok, nil
}

// MFARequiredError is Keystone's answer when the user's multi-factor rules
// need more methods than were sent: a 401 with an Openstack-Auth-Receipt.
// Complete the login by setting Keystone.Passcode, or by hand: set
// Keystone.Receipt to Receipt and Credentials to the missing method.
type MFARequiredError struct {
	// Receipt is the Openstack-Auth-Receipt value, a secret for its lifetime.
	// Error, fmt, slog and encoding/json never show it.
	Receipt string
	// RequiredMethods lists the accepted method sets, e.g. [[password totp]].
	RequiredMethods [][]string
	// Methods are the methods the receipt already proves.
	Methods   []string
	User      User
	ExpiresAt time.Time // receipt expiry, server clock
	// Err is set when ksauth tried to continue by itself (Keystone.Passcode)
	// and that failed.
	Err error
}

// failed returns a copy of e whose Err says why continuing failed.
func (e *MFARequiredError) failed(err error) *MFARequiredError {
	c := *e
	c.Err = err
	return &c
}

// Error lists the method sets that would complete the login.
func (e *MFARequiredError) Error() string {
	sets := make([]string, len(e.RequiredMethods))
	for i, s := range e.RequiredMethods {
		sets[i] = strings.Join(s, "+")
	}
	msg := "ksauth: multi-factor authentication required: one of [" + strings.Join(sets, ", ") + "]"
	if len(e.Methods) > 0 {
		msg += ", have [" + strings.Join(e.Methods, "+") + "]"
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns ErrUnauthorized and, when set, Err.
func (e *MFARequiredError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrUnauthorized, e.Err}
	}
	return []error{ErrUnauthorized}
}

// Format prints Error for every verb. Its value receiver keeps an
// MFARequiredError value masked too.
func (e MFARequiredError) Format(f fmt.State, verb rune) { fmt.Fprint(f, e.Error()) }

// LogValue shows the error in slog records as its Error text.
func (e MFARequiredError) LogValue() slog.Value { return slog.StringValue(e.Error()) }

// MarshalJSON encodes the error as its Error text.
func (e MFARequiredError) MarshalJSON() ([]byte, error) { return json.Marshal(e.Error()) }
