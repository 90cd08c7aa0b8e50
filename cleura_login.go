package ksauth

// Cleura's login conversation, in both API versions: the password, then,
// when the account has a second factor, an SMS code.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
)

// cleuraLogin is one login: the configuration, the parsed base URL, and
// the secrets seen so far (redacted from whatever the server echoes).
type cleuraLogin struct {
	c       *Cleura
	base    *url.URL
	api     CleuraAPIVersion
	secrets []string
}

// cleuraAnswer is the answer to a login step; v1 and v2 use the same names.
type cleuraAnswer struct {
	Result       string   `json:"result"` // login_ok, twofactor_required or twofactor_options
	Token        string   `json:"token"`
	Type         string   `json:"type"` // the second factor asked for: "sms"
	Verification string   `json:"verification"`
	Options      []string `json:"options"` // the second factors offered
}

// Login results.
const (
	cleuraLoginOK           = "login_ok"
	cleuraTwoFactorRequired = "twofactor_required"
	cleuraTwoFactorOptions  = "twofactor_options"
)

func (l *cleuraLogin) run(ctx context.Context) (*Token, error) {
	l.secrets = []string{l.c.Password}
	ans, ex, err := l.login(ctx, "")
	if err != nil {
		return nil, err
	}
	if ans.Result == cleuraTwoFactorOptions {
		if err := l.canAnswer("", ans.Options); err != nil {
			return nil, err
		}
		options := ans.Options
		debug(ctx, l.c.Logger, "ksauth: Cleura offers second factors; choosing sms", slog.String("login", l.c.Login))
		if ans, ex, err = l.login(ctx, "sms"); err != nil {
			return nil, err
		}
		if ans.Options == nil {
			ans.Options = options
		}
	}
	switch ans.Result {
	case cleuraLoginOK:
		return l.token(ex, ans.Token, false)
	case cleuraTwoFactorRequired:
		return l.secondFactor(ctx, ans, ex)
	}
	return nil, ex.malformed(fmt.Sprintf("unexpected login result %q", serverText(ans.Result, 40, l.secrets)), nil)
}

// login posts the password, naming the second factor when method is set.
func (l *cleuraLogin) login(ctx context.Context, method string) (*cleuraAnswer, *exchange, error) {
	var body any
	if l.api == CleuraV1 {
		type auth struct {
			Login    string `json:"login"`
			Password string `json:"password"`
			Method   string `json:"twofa_method,omitempty"`
		}
		body = struct {
			Auth auth `json:"auth"`
		}{auth{l.c.Login, l.c.Password, method}}
	} else {
		body = struct {
			Login    string `json:"login"`
			Password string `json:"password"`
			Method   string `json:"two_factor_method,omitempty"`
		}{l.c.Login, l.c.Password, method}
	}
	return l.post(ctx, "tokens", body)
}

// secondFactor asks Cleura to send the SMS, gets the code from TwoFactor
// and sends it.
func (l *cleuraLogin) secondFactor(ctx context.Context, ans *cleuraAnswer, ex *exchange) (*Token, error) {
	method := ans.Type
	if method == "" {
		method = "sms" // v1 names no type: SMS is its only factor
	}
	if err := l.canAnswer(method, ans.Options); err != nil {
		return nil, err
	}
	if ans.Verification == "" {
		return nil, ex.malformed("two-factor answer without a verification", nil)
	}
	l.secrets = append(l.secrets, ans.Verification)
	debug(ctx, l.c.Logger, "ksauth: Cleura asks for an SMS code; requesting it", slog.String("login", l.c.Login))
	if err := l.requestSMS(ctx, ans.Verification); err != nil {
		return nil, err
	}
	challenge := TwoFactorChallenge{Login: l.c.Login, Method: method, Options: ans.Options, Verification: ans.Verification}
	code, err := l.c.TwoFactor(ctx, challenge)
	if err != nil {
		return nil, fmt.Errorf("ksauth: Cleura.TwoFactor: %w", &redactedError{text: redact(err.Error(), l.secrets...), err: err})
	}
	l.secrets = append(l.secrets, code)
	n, err := parseSMSCode(code)
	if err != nil {
		return nil, err
	}
	return l.verify(ctx, ans.Verification, n)
}

// canAnswer checks that the second factor asked for (method, or one of
// options when method is "") is one ksauth can give, and that TwoFactor is
// set to give it.
func (l *cleuraLogin) canAnswer(method string, options []string) error {
	sms := method == "sms" || method == "" && smsOffered(options)
	switch {
	case !sms:
		offered := options
		if method != "" {
			offered = []string{method}
		}
		return &UnsupportedTwoFactorError{Login: l.c.Login, Offered: offered}
	case l.c.TwoFactor == nil:
		return &TwoFactorRequiredError{Login: l.c.Login, Method: "sms", Options: options}
	}
	return nil
}

// requestSMS asks Cleura to send the code.
func (l *cleuraLogin) requestSMS(ctx context.Context, verification string) error {
	var path string
	var body any
	if l.api == CleuraV1 {
		type request struct {
			Login        string `json:"login"`
			Verification string `json:"verification"`
		}
		path, body = "tokens/request2facode", struct {
			Request request `json:"request2fa"`
		}{request{l.c.Login, verification}}
	} else {
		path, body = "request-sms-code", struct {
			Login        string `json:"login"`
			Verification string `json:"verification"`
			Language     string `json:"language_code,omitempty"`
		}{l.c.Login, verification, l.c.SMSLanguage}
	}
	ex, err := l.send(ctx, path, body)
	if err != nil {
		return err
	}
	if ex.status < 200 || ex.status > 299 {
		return ex.httpError()
	}
	return nil
}

// verify sends the code, a JSON integer, and returns the token.
func (l *cleuraLogin) verify(ctx context.Context, verification string, code int64) (*Token, error) {
	type verify struct {
		Login        string `json:"login"`
		Verification string `json:"verification"`
		Code         int64  `json:"code"`
	}
	path, body := "tokens-by-sms-code", any(verify{l.c.Login, verification, code})
	if l.api == CleuraV1 {
		path, body = "tokens/verify2fa", struct {
			Verify verify `json:"verify2fa"`
		}{verify{l.c.Login, verification, code}}
	}
	ans, ex, err := l.post(ctx, path, body)
	if err != nil {
		return nil, err
	}
	if ans.Result != "" && ans.Result != cleuraLoginOK {
		return nil, ex.malformed(fmt.Sprintf("unexpected result %q after the SMS code", serverText(ans.Result, 40, l.secrets)), nil)
	}
	return l.token(ex, ans.Token, true)
}

// post sends one login step and decodes its answer; an error status is an
// *HTTPError.
func (l *cleuraLogin) post(ctx context.Context, path string, body any) (*cleuraAnswer, *exchange, error) {
	ex, err := l.send(ctx, path, body)
	if err != nil {
		return nil, nil, err
	}
	if ex.status < 200 || ex.status > 299 {
		return nil, nil, ex.httpError()
	}
	var ans cleuraAnswer
	if err := ex.decode(&ans); err != nil {
		return nil, nil, err
	}
	if ans.Token != "" { // a token is a secret: nothing printed later may quote it
		l.secrets = append(l.secrets, ans.Token)
		ex.secrets = l.secrets
	}
	ans.Type = l.factorName(ans.Type)
	for i, o := range ans.Options {
		ans.Options[i] = l.factorName(o)
	}
	return &ans, ex, nil
}

// cleuraFactors are the second factors Cleura names: shown as they are.
var cleuraFactors = []string{"sms", "webauthn"}

// factorName is a second factor's name from Cleura's answer, fit to print
// in an error or a TwoFactorChallenge: any but Cleura's own is redacted of
// the login's secrets and cut short.
func (l *cleuraLogin) factorName(name string) string {
	if name == "" || slices.Contains(cleuraFactors, name) {
		return name
	}
	return serverText(name, 40, l.secrets)
}

func (l *cleuraLogin) send(ctx context.Context, path string, body any) (*exchange, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("ksauth: encoding the Cleura request: %w", err)
	}
	return l.c.caller().call(ctx, http.MethodPost, l.url(path), nil, data, l.secrets...)
}

func (l *cleuraLogin) url(path string) *url.URL {
	return l.base.JoinPath("auth", string(l.api), path)
}

// token makes the Token of a finished login. Cleura sends no expiry: it is
// the time the last request was sent plus MaxAge, on the local clock.
func (l *cleuraLogin) token(ex *exchange, id string, twoFactor bool) (*Token, error) {
	if id == "" {
		return nil, ex.malformed("no token in the answer", nil)
	}
	issued := ex.sent
	if date, err := http.ParseTime(ex.header.Get("Date")); err == nil {
		issued = date
	}
	age := l.c.maxAge()
	return &Token{
		ID:        id,
		ExpiresAt: ex.sent.Add(age),
		IssuedAt:  issued.UTC(),
		Methods:   cleuraAuthMethods(twoFactor),
		User:      User{Name: l.c.Login},
		authHost:  hostKey(l.base),
		lifetime:  age,
		kind:      cleuraTokens,
	}, nil
}
