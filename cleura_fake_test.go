package ksauth

// fakeCleura: an in-process Cleura REST API for the Cleura tests, served
// through httpmock. It follows the v1 and v2 login conversations strictly
// (an unknown field or a code sent as a string is a 400), records every
// request, and answers authenticated calls like Cleura: 204, or 403
// "Invalid token".

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/jarcoal/httpmock"
)

const (
	fxCleuraBase         = "https://rest.cleura.test"
	fxCleuraLogin        = "carla"
	fxCleuraPassword     = "cleura-Pa55-word"
	fxCleuraVerification = "cleura-verif-7f3a9"
	fxCleuraCode         = "48213907"
)

// fakeCleura is the server side: its account, its tokens, what it received.
type fakeCleura struct {
	t        testing.TB
	api      CleuraAPIVersion
	factor   string   // "": none; "sms": twofactor_required
	options  []string // non-nil: the first login answers twofactor_options
	mock     *httpmock.MockTransport
	mu       sync.Mutex
	requests []fakeRequest
	tokens   map[string]bool // issued token -> still valid
	issued   int
	logins   int
	smsSent  int
	// service answers the non-auth routes; nil: 204 for a valid token,
	// 403 "Invalid token" otherwise.
	service func(w http.ResponseWriter, r *http.Request, valid bool)
}

type fakeRequest struct {
	Method, Path, Body string
	Login, Token       string // X-AUTH-LOGIN, X-AUTH-TOKEN
}

func newFakeCleura(t testing.TB, api CleuraAPIVersion) *fakeCleura {
	f := &fakeCleura{t: t, api: api, tokens: map[string]bool{}, mock: httpmock.NewMockTransport()}
	f.mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		rec := httptest.NewRecorder()
		f.ServeHTTP(rec, r)
		resp := rec.Result()
		resp.Request = r
		return resp, nil
	})
	registerSecret(fxCleuraPassword)
	registerSecret(fxCleuraVerification)
	registerSecret(fxCleuraCode)
	return f
}

// cleura returns an authenticator for the fake, answering TwoFactor with
// code (nil TwoFactor when code is "").
func (f *fakeCleura) cleura(code string) *Cleura {
	c := &Cleura{BaseURL: fxCleuraBase, Login: fxCleuraLogin, Password: fxCleuraPassword, APIVersion: f.api,
		HTTPClient: &http.Client{Transport: f.mock}, Retry: &RetryPolicy{MaxAttempts: 1}, Logger: testLogger()}
	if code != "" {
		c.TwoFactor = func(context.Context, TwoFactorChallenge) (string, error) { return code, nil }
	}
	return c
}

func (f *fakeCleura) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
	}
	f.mu.Lock()
	f.requests = append(f.requests, fakeRequest{r.Method, r.URL.Path, string(body), r.Header.Get("X-AUTH-LOGIN"), r.Header.Get("X-AUTH-TOKEN")})
	f.mu.Unlock()
	p := "/auth/" + string(f.api) + "/"
	switch {
	case r.Method == http.MethodPost && r.URL.Path == p+"tokens":
		f.login(w, body)
	case r.Method == http.MethodPost && (r.URL.Path == p+"request-sms-code" && f.api == CleuraV2 || r.URL.Path == p+"tokens/request2facode" && f.api == CleuraV1):
		f.requestSMS(w, body)
	case r.Method == http.MethodPost && (r.URL.Path == p+"tokens-by-sms-code" && f.api == CleuraV2 || r.URL.Path == p+"tokens/verify2fa" && f.api == CleuraV1):
		f.verify(w, body)
	case r.Method == http.MethodPost && r.URL.Path == p+"tokens/validate":
		f.authenticated(w, r, func(string) { w.WriteHeader(http.StatusNoContent) })
	case r.Method == http.MethodDelete && r.URL.Path == p+"tokens":
		f.authenticated(w, r, func(tok string) {
			f.mu.Lock()
			f.tokens[tok] = false
			f.mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
		})
	case strings.HasPrefix(r.URL.Path, "/auth/"):
		cleuraError(w, http.StatusNotFound, "No such route", nil)
	default:
		f.mu.Lock()
		valid := r.Header.Get("X-AUTH-LOGIN") == fxCleuraLogin && f.tokens[r.Header.Get("X-AUTH-TOKEN")]
		service := f.service
		f.mu.Unlock()
		if service != nil {
			service(w, r, valid)
			return
		}
		if !valid {
			cleuraError(w, http.StatusForbidden, "Invalid token", nil)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// strictDecode decodes body into v, refusing unknown fields and trailing data.
func strictDecode(body []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return fmt.Errorf("trailing data")
	}
	return nil
}

type fakeLoginV2 struct {
	Login    string `json:"login"`
	Password string `json:"password"`
	Method   string `json:"two_factor_method"`
}

func (f *fakeCleura) login(w http.ResponseWriter, body []byte) {
	var in fakeLoginV2
	var err error
	if f.api == CleuraV1 {
		var v1 struct {
			Auth struct {
				Login    string `json:"login"`
				Password string `json:"password"`
				Method   string `json:"twofa_method"`
			} `json:"auth"`
		}
		err = strictDecode(body, &v1)
		in = fakeLoginV2{v1.Auth.Login, v1.Auth.Password, v1.Auth.Method}
	} else {
		err = strictDecode(body, &in)
	}
	switch {
	case err != nil:
		cleuraError(w, http.StatusBadRequest, "Bad request", []map[string]string{{"key": "body", "value": err.Error()}})
		return
	case in.Login != fxCleuraLogin || in.Password != fxCleuraPassword:
		cleuraError(w, http.StatusUnauthorized, "Invalid login or password", nil)
		return
	}
	f.mu.Lock()
	f.logins++
	f.mu.Unlock()
	switch {
	case f.options != nil && in.Method == "":
		writeJSON(w, http.StatusCreated, map[string]any{"result": "twofactor_options", "options": f.options})
	case f.factor == "" && f.options == nil:
		writeJSON(w, http.StatusCreated, map[string]any{"result": "login_ok", "token": f.issue()})
	case f.factor == "webauthn":
		writeJSON(w, http.StatusCreated, map[string]any{"result": "twofactor_required", "type": "webauthn", "verification": fxCleuraVerification})
	default:
		ans := map[string]any{"result": "twofactor_required", "verification": fxCleuraVerification}
		if f.api == CleuraV2 {
			ans["type"] = "sms"
		}
		writeJSON(w, http.StatusCreated, ans)
	}
}

func (f *fakeCleura) requestSMS(w http.ResponseWriter, body []byte) {
	var in struct {
		Login        string `json:"login"`
		Verification string `json:"verification"`
		Language     string `json:"language_code"`
	}
	var err error
	if f.api == CleuraV1 {
		var v1 struct {
			Request struct {
				Login        string `json:"login"`
				Verification string `json:"verification"`
			} `json:"request2fa"`
		}
		err = strictDecode(body, &v1)
		in.Login, in.Verification = v1.Request.Login, v1.Request.Verification
	} else {
		err = strictDecode(body, &in)
	}
	if err != nil || in.Login != fxCleuraLogin || in.Verification != fxCleuraVerification {
		cleuraError(w, http.StatusBadRequest, "Bad request", nil)
		return
	}
	f.mu.Lock()
	f.smsSent++
	f.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (f *fakeCleura) verify(w http.ResponseWriter, body []byte) {
	type verify struct {
		Login        string `json:"login"`
		Verification string `json:"verification"`
		Code         int64  `json:"code"` // a string fails to decode: Cleura wants a number
	}
	var in verify
	var err error
	if f.api == CleuraV1 {
		var v1 struct {
			Verify verify `json:"verify2fa"`
		}
		err = strictDecode(body, &v1)
		in = v1.Verify
	} else {
		err = strictDecode(body, &in)
	}
	switch {
	case err != nil || in.Login != fxCleuraLogin || in.Verification != fxCleuraVerification:
		cleuraError(w, http.StatusBadRequest, "Bad request", nil)
	case fmt.Sprint(in.Code) != fxCleuraCode:
		cleuraError(w, http.StatusUnauthorized, "Wrong code", nil)
	case f.api == CleuraV1:
		writeJSON(w, http.StatusOK, map[string]any{"result": "login_ok", "token": f.issue()})
	default:
		writeJSON(w, http.StatusOK, map[string]any{"token": f.issue()})
	}
}

// authenticated runs ok for a request carrying a valid token, and answers
// 403 "Invalid token" otherwise.
func (f *fakeCleura) authenticated(w http.ResponseWriter, r *http.Request, ok func(tok string)) {
	tok := r.Header.Get("X-AUTH-TOKEN")
	f.mu.Lock()
	valid := r.Header.Get("X-AUTH-LOGIN") == fxCleuraLogin && f.tokens[tok]
	f.mu.Unlock()
	if !valid {
		cleuraError(w, http.StatusForbidden, "Invalid token", nil)
		return
	}
	ok(tok)
}

func (f *fakeCleura) issue() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.issued++
	tok := fmt.Sprintf("cleura-token-%04d-8d1f", f.issued)
	f.tokens[tok] = true
	registerSecret(tok)
	return tok
}

// revokeAll invalidates every token issued so far.
func (f *fakeCleura) revokeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for tok := range f.tokens {
		f.tokens[tok] = false
	}
}

func (f *fakeCleura) received() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeRequest(nil), f.requests...)
}

func (f *fakeCleura) counts() (logins, sms, issued int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.logins, f.smsSent, f.issued
}

func cleuraError(w http.ResponseWriter, status int, message string, errs []map[string]string) {
	e := map[string]any{"code": status, "message": message}
	if errs != nil {
		e["errors"] = errs
	}
	writeJSON(w, status, map[string]any{"error": e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
