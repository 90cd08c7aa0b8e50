package ksauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
)

// Authenticator obtains a new token. Implementations must be safe for
// concurrent use; a [Session] calls Authenticate one at a time anyway.
type Authenticator interface {
	Authenticate(ctx context.Context) (*Token, error)
}

// Keystone authenticates against an OpenStack Keystone v3 endpoint with
// POST /v3/auth/tokens. Set AuthURL and Credentials; every other field has a
// usable zero value. Use a *Keystone: it caches version discovery.
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
	// then continues with the receipt and the passcode. nil: such answers are
	// returned as *MFARequiredError.
	Passcode func(ctx context.Context) (string, error)
	// Receipt, when set, is sent as Openstack-Auth-Receipt to complete a
	// multi-factor login by hand (from MFARequiredError.Receipt). A secret.
	Receipt string
	// NoCatalog asks for a token without the service catalog (?nocatalog),
	// a smaller response for callers that do not look up endpoints.
	NoCatalog bool
	// HTTPClient sends the requests. nil: a client with connect, TLS and
	// response-header timeouts. Redirects to another host are always refused.
	HTTPClient *http.Client
	// Retry governs retries of Keystone's 429/503 answers. nil: the defaults.
	Retry *RetryPolicy
	// AllowInsecureHTTP permits an http:// AuthURL on a host other than
	// loopback. Credentials then cross the network in clear text.
	AllowInsecureHTTP bool
	// Logger receives debug records (never a secret). nil: silent.
	Logger *slog.Logger

	mu        sync.Mutex
	discovery struct { // the last discovery, for AuthURL
		authURL  string
		endpoint *url.URL
		err      error // why discovery failed, when endpoint is the fallback
	}
}

// Format prints the configuration with the receipt masked (credentials mask
// their own secrets) and without internal state.
func (k *Keystone) Format(f fmt.State, verb rune) {
	type keystone struct {
		AuthURL           string
		Credentials       Credential
		Scope             Scope
		Receipt           string
		NoCatalog         bool
		AllowInsecureHTTP bool
	}
	formatRedacted(f, verb, keystone{k.AuthURL, k.Credentials, k.Scope, mask(k.Receipt), k.NoCatalog, k.AllowInsecureHTTP})
}

// LogValue shows the configuration in slog records as Format does.
func (k *Keystone) LogValue() slog.Value {
	if k == nil {
		return slog.StringValue("<nil>")
	}
	return redactedLogValue(k)
}

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
	tok, err := k.authenticate(ctx, endpoint, k.request(), k.Receipt)
	var mfa *MFARequiredError
	if errors.As(err, &mfa) && k.Passcode != nil && needsTOTP(mfa) {
		tok, err = k.continueWithPasscode(ctx, endpoint, mfa)
	}
	if err != nil {
		if discoveryErr != nil && wrongEndpoint(err) {
			err = &DiscoveryError{AuthURL: safeURL(endpoint.JoinPath("..")), Discovery: discoveryErr, Err: err}
		}
		return nil, err
	}
	debug(ctx, k.Logger, "ksauth: authenticated", slog.Any("token", tok), slog.Duration("took", time.Since(start)))
	return tok, nil
}

// wrongEndpoint reports an error that suggests the URL was not Keystone v3's.
func wrongEndpoint(err error) bool {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.StatusCode == http.StatusNotFound || he.StatusCode == http.StatusMethodNotAllowed
	}
	var re *ResponseError
	var qe *RequestError
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
		if hasAppCred(k.Credentials) {
			return invalid("Scope", "must be nil with an application credential: it carries its own project")
		}
		return k.Scope.validate()
	}
	return nil
}

func hasAppCred(c Credential) bool {
	switch c := c.(type) {
	case ApplicationCredential, *ApplicationCredential:
		return true
	case MultiFactor:
		return slices.ContainsFunc(c, hasAppCred)
	case *MultiFactor:
		return slices.ContainsFunc(*c, hasAppCred)
	}
	return false
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
// *MFARequiredError.
func (k *Keystone) authenticate(ctx context.Context, endpoint *url.URL, r *wireAuthRequest, receipt string) (*Token, error) {
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
	ex, err := k.caller().call(ctx, http.MethodPost, u, header, body)
	if err != nil {
		return nil, err
	}
	switch {
	case ex.status == http.StatusCreated || ex.status == http.StatusOK:
		tok, err := ex.token(ex.header.Get("X-Subject-Token"), true)
		if err != nil {
			return nil, err
		}
		tok.authHost = hostKey(endpoint)
		return tok, nil
	case ex.status == http.StatusUnauthorized && ex.header.Get("Openstack-Auth-Receipt") != "":
		return nil, ex.receiptError()
	}
	return nil, ex.httpError(append(r.secrets(), receipt)...)
}

// token decodes a token response. fresh: the token was just issued, so its
// issued_at is the server's "now"; otherwise the Date header is.
func (ex *exchange) token(id string, fresh bool) (*Token, error) {
	if id == "" {
		return nil, ex.responseError("missing X-Subject-Token header", nil)
	}
	var w wireTokenResponse
	if err := ex.decode(&w); err != nil {
		return nil, err
	}
	if w.Token == nil {
		return nil, ex.responseError(`no "token" object in the body`, nil)
	}
	serverNow := w.Token.IssuedAt.Time
	if !fresh {
		serverNow, _ = http.ParseTime(ex.header.Get("Date"))
	}
	return newToken(id, w.Token, ex.sent, serverNow), nil
}

func (ex *exchange) receiptError() error {
	var w wireReceiptResponse
	if err := ex.decode(&w); err != nil {
		return err
	}
	u := w.Receipt.User
	return &MFARequiredError{
		Receipt:         ex.header.Get("Openstack-Auth-Receipt"),
		RequiredMethods: w.RequiredAuthMethods,
		Methods:         w.Receipt.Methods,
		User:            User{ID: u.ID, Name: u.Name, Domain: u.Domain},
		ExpiresAt:       w.Receipt.ExpiresAt.Time,
	}
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
// passcode for the receipt's user, and the scope again.
func (k *Keystone) continueWithPasscode(ctx context.Context, endpoint *url.URL, mfa *MFARequiredError) (*Token, error) {
	if mfa.User.ID == "" { // a malformed receipt body: no one to send the passcode for
		mfa.Err = errors.New("the receipt names no user id; cannot continue with a passcode")
		return nil, mfa
	}
	code, err := k.Passcode(ctx)
	if err == nil && code == "" {
		err = errors.New("empty")
	}
	if err != nil {
		mfa.Err = fmt.Errorf("passcode: %w", err)
		return nil, mfa
	}
	debug(ctx, k.Logger, "ksauth: continuing multi-factor login with a passcode", slog.Any("required", mfa.RequiredMethods))
	r := &wireAuthRequest{}
	TOTP{UserID: mfa.User.ID, Passcode: code}.addTo(&r.Auth.Identity)
	if k.Scope != nil {
		r.Auth.Scope = k.Scope.wire()
	}
	tok, err := k.authenticate(ctx, endpoint, r, mfa.Receipt)
	if err != nil {
		return nil, redactErr(err, code)
	}
	return tok, nil
}

// redactErr guards against a server that echoes a passcode: the error text
// is rebuilt without it.
func redactErr(err error, secrets ...string) error {
	var he *HTTPError
	if errors.As(err, &he) {
		he.Message = redact(he.Message, secrets...)
	}
	return err
}

// Endpoint returns the v3 identity endpoint AuthURL leads to (running version
// discovery on first use), e.g. https://h:5000/v3.
func (k *Keystone) Endpoint(ctx context.Context) (*url.URL, error) {
	u, _, err := k.endpoint(ctx)
	return u, err
}

// endpoint is Endpoint that also returns why discovery failed when the
// endpoint is only the AuthURL + "/v3" fallback.
func (k *Keystone) endpoint(ctx context.Context) (u *url.URL, discoveryErr, err error) {
	if u, err = parseAuthURL(k.AuthURL); err != nil {
		return nil, nil, err
	}
	if err = checkScheme(u, k.AllowInsecureHTTP); err != nil || isV3Path(u.Path) {
		return u, nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if d := k.discovery; d.authURL == k.AuthURL {
		copied := *d.endpoint
		return &copied, d.err, nil
	}
	found, derr := k.discoverV3(ctx, u)
	switch {
	case derr == nil:
		debug(ctx, k.Logger, "ksauth: discovered identity v3", slog.String("url", safeURL(found)))
	case isContextErr(derr):
		return nil, nil, derr
	default:
		found = u.JoinPath("v3")
		debug(ctx, k.Logger, "ksauth: version discovery failed; trying /v3", slog.String("error", derr.Error()))
	}
	var unreachable *RequestError
	if !errors.As(derr, &unreachable) { // an unreachable server may be back soon: discover again then
		k.discovery.authURL, k.discovery.endpoint, k.discovery.err = k.AuthURL, found, derr
	}
	copied := *found
	return &copied, derr, nil
}

// parseAuthURL checks an AuthURL and strips trailing slashes from its path.
func parseAuthURL(raw string) (*url.URL, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, invalid("AuthURL", "empty")
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		// url.Error repeats the whole URL, user info (a password) included:
		// keep only the reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, invalid("AuthURL", "not a URL: %v", redact(err.Error()))
	}
	if u.Host == "" || u.Scheme == "" {
		return nil, invalid("AuthURL", "%q needs a scheme and a host, e.g. https://keystone.example.com:5000", safeURL(u))
	}
	if u.User != nil {
		return nil, invalid("AuthURL", "must not carry user info")
	}
	if u.Scheme != "https" && u.Scheme != "http" { // url.Parse lower-cases it
		return nil, invalid("AuthURL", "scheme %q is not http or https", u.Scheme)
	}
	// Clean the path as url.JoinPath will when the request URL is built
	// ("/v3/." and "/v3//" are "/v3"), so that the v3 test, discovery's
	// fallback and Endpoint all see the path that is used.
	if u.Path != "" {
		u.Path = strings.TrimRight(path.Clean(u.Path), "/")
	}
	u.RawPath = ""
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

func isV3Path(p string) bool {
	return p == "/v3" || strings.HasSuffix(p, "/v3")
}

// wireVersions is a version discovery document: a 300 with a list (in a
// "values" wrapper or not) or a 200 with one version.
type wireVersions struct {
	Versions json.RawMessage `json:"versions"`
	Version  *wireVersion    `json:"version"`
}

type wireVersion struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Links  []struct {
		Rel  string `json:"rel"`
		Href string `json:"href"`
	} `json:"links"`
}

// discoverV3 reads the version document at base and returns the v3 self
// link, which must be on base's scheme, host and port.
func (k *Keystone) discoverV3(ctx context.Context, base *url.URL) (*url.URL, error) {
	ex, err := k.caller().call(ctx, http.MethodGet, base, nil, nil)
	if err != nil {
		return nil, err
	}
	if ex.status != http.StatusOK && ex.status != http.StatusMultipleChoices {
		return nil, ex.httpError()
	}
	var doc wireVersions
	if err := ex.decode(&doc); err != nil {
		return nil, err
	}
	versions, err := doc.list()
	if err != nil {
		return nil, ex.responseError("malformed version list", err)
	}
	for _, v := range versions {
		if href := v.selfLink(); strings.HasPrefix(v.ID, "v3") && href != "" && v.Status != "deprecated" {
			u, err := parseAuthURL(href)
			if err != nil {
				return nil, ex.responseError("bad v3 self link", err)
			}
			// Credentials go only where AuthURL points: a link to another
			// host or scheme (often an internal name leaking through a
			// proxy) is not followed; the /v3 fallback is used instead.
			if hostKey(u) != hostKey(base) || u.Scheme != base.Scheme {
				return nil, ex.responseError("v3 self link "+safeURL(u)+" is not on the AuthURL's host", nil)
			}
			return u, nil
		}
	}
	return nil, ex.responseError("no v3 version advertised", nil)
}

func (d *wireVersions) list() ([]wireVersion, error) {
	if d.Version != nil {
		return []wireVersion{*d.Version}, nil
	}
	if len(d.Versions) == 0 {
		return nil, errors.New(`no "versions" or "version"`)
	}
	var wrapped struct{ Values []wireVersion }
	if err := json.Unmarshal(d.Versions, &wrapped); err == nil && wrapped.Values != nil {
		return wrapped.Values, nil
	}
	var plain []wireVersion
	err := json.Unmarshal(d.Versions, &plain)
	return plain, err
}

func (v wireVersion) selfLink() string {
	for _, l := range v.Links {
		if l.Rel == "self" {
			return l.Href
		}
	}
	return ""
}
