package ksauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCleuraLoginRequests checks the exact requests of every login path in
// both API versions: the bodies, the code as a JSON number, the token's
// headers and estimated expiry.
func TestCleuraLoginRequests(t *testing.T) {
	type step struct{ method, path, body string }
	const login = `"login":"carla","password":"cleura-Pa55-word"`
	const verification = `"login":"carla","verification":"cleura-verif-7f3a9"`
	tests := []struct {
		name    string
		api     CleuraAPIVersion
		factor  string
		options []string
		want    []step
	}{
		{name: "v2 password only", api: CleuraV2, want: []step{
			{"POST", "/auth/v2/tokens", `{` + login + `}`},
		}},
		{name: "v2 sms", api: CleuraV2, factor: "sms", want: []step{
			{"POST", "/auth/v2/tokens", `{` + login + `}`},
			{"POST", "/auth/v2/request-sms-code", `{` + verification + `,"language_code":"sv"}`},
			{"POST", "/auth/v2/tokens-by-sms-code", `{` + verification + `,"code":48213907}`},
		}},
		{name: "v2 options", api: CleuraV2, factor: "sms", options: []string{"webauthn", "sms"}, want: []step{
			{"POST", "/auth/v2/tokens", `{` + login + `}`},
			{"POST", "/auth/v2/tokens", `{` + login + `,"two_factor_method":"sms"}`},
			{"POST", "/auth/v2/request-sms-code", `{` + verification + `,"language_code":"sv"}`},
			{"POST", "/auth/v2/tokens-by-sms-code", `{` + verification + `,"code":48213907}`},
		}},
		{name: "v1 password only", api: CleuraV1, want: []step{
			{"POST", "/auth/v1/tokens", `{"auth":{` + login + `}}`},
		}},
		{name: "v1 sms", api: CleuraV1, factor: "sms", want: []step{
			{"POST", "/auth/v1/tokens", `{"auth":{` + login + `}}`},
			{"POST", "/auth/v1/tokens/request2facode", `{"request2fa":{` + verification + `}}`},
			{"POST", "/auth/v1/tokens/verify2fa", `{"verify2fa":{` + verification + `,"code":48213907}}`},
		}},
		{name: "v1 options", api: CleuraV1, factor: "sms", options: []string{"sms"}, want: []step{
			{"POST", "/auth/v1/tokens", `{"auth":{` + login + `}}`},
			{"POST", "/auth/v1/tokens", `{"auth":{` + login + `,"twofa_method":"sms"}}`},
			{"POST", "/auth/v1/tokens/request2facode", `{"request2fa":{` + verification + `}}`},
			{"POST", "/auth/v1/tokens/verify2fa", `{"verify2fa":{` + verification + `,"code":48213907}}`},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCleura(t, tc.api)
			f.factor, f.options = tc.factor, tc.options
			c := f.cleura(fxCleuraCode)
			c.SMSLanguage = "sv"
			var challenges []TwoFactorChallenge
			c.TwoFactor = func(_ context.Context, ch TwoFactorChallenge) (string, error) {
				challenges = append(challenges, ch)
				return " " + fxCleuraCode + "\n", nil // spaces around the code are ignored
			}
			before := time.Now()
			tok, err := c.Authenticate(context.Background())
			require.NoError(t, err)

			var got []step
			for _, r := range f.received() {
				got = append(got, step{r.Method, r.Path, strings.TrimSpace(r.Body)})
			}
			assert.Equal(t, tc.want, got)
			assert.Equal(t, "cleura-token-0001-8d1f", tok.ID)
			assert.Equal(t, fxCleuraLogin, tok.User.Name)
			assert.WithinRange(t, tok.ExpiresAt, before.Add(DefaultCleuraMaxAge), time.Now().Add(DefaultCleuraMaxAge))
			assert.Equal(t, DefaultCleuraMaxAge, tok.Lifetime())
			h := http.Header{}
			tok.SetHeaders(h)
			assert.Equal(t, http.Header{"X-Auth-Login": {fxCleuraLogin}, "X-Auth-Token": {tok.ID}}, h)
			if tc.factor == "" {
				assert.Empty(t, challenges)
				assert.Equal(t, []string{"password"}, tok.Methods)
				return
			}
			require.Len(t, challenges, 1)
			assert.Equal(t, TwoFactorChallenge{Login: fxCleuraLogin, Method: "sms", Options: tc.options, Verification: fxCleuraVerification}, challenges[0])
			assert.Equal(t, []string{"password", "sms"}, tok.Methods)
		})
	}
}

func TestCleuraMaxAge(t *testing.T) {
	f := newFakeCleura(t, CleuraV2)
	c := f.cleura("")
	c.MaxAge = time.Hour
	before := time.Now()
	tok, err := c.Authenticate(context.Background())
	require.NoError(t, err)
	assert.WithinRange(t, tok.ExpiresAt, before.Add(time.Hour), time.Now().Add(time.Hour))
	assert.Contains(t, tok.String(), "Cleura REST API")
}

// TestCleuraTwoFactorRefusals: second factors ksauth cannot give, and codes
// it will not send. Each stops before the request that would need them.
func TestCleuraTwoFactorRefusals(t *testing.T) {
	boom := errors.New("no terminal")
	tests := []struct {
		name      string
		factor    string
		options   []string
		twoFactor func(context.Context, TwoFactorChallenge) (string, error)
		requests  int // how many reached the server
		check     func(t *testing.T, err error)
	}{
		{name: "webauthn only offered", options: []string{"webauthn"}, requests: 1,
			twoFactor: func(context.Context, TwoFactorChallenge) (string, error) { return fxCleuraCode, nil },
			check: func(t *testing.T, err error) {
				var u *UnsupportedTwoFactorError
				require.ErrorAs(t, err, &u)
				assert.Equal(t, []string{"webauthn"}, u.Offered)
				assert.Contains(t, err.Error(), "API user")
			}},
		{name: "webauthn required", factor: "webauthn", requests: 1,
			twoFactor: func(context.Context, TwoFactorChallenge) (string, error) { return fxCleuraCode, nil },
			check: func(t *testing.T, err error) {
				var u *UnsupportedTwoFactorError
				require.ErrorAs(t, err, &u)
				assert.Equal(t, []string{"webauthn"}, u.Offered)
			}},
		{name: "TwoFactor nil", factor: "sms", requests: 1, check: func(t *testing.T, err error) {
			var r *TwoFactorRequiredError
			require.ErrorAs(t, err, &r)
			assert.Equal(t, "sms", r.Method)
			assert.Contains(t, err.Error(), "Cleura.TwoFactor")
		}},
		{name: "TwoFactor nil with options", options: []string{"sms", "webauthn"}, requests: 1, check: func(t *testing.T, err error) {
			var r *TwoFactorRequiredError
			require.ErrorAs(t, err, &r)
			assert.Equal(t, []string{"sms", "webauthn"}, r.Options)
		}},
		{name: "TwoFactor fails", factor: "sms", requests: 2,
			twoFactor: func(context.Context, TwoFactorChallenge) (string, error) { return "", boom },
			check:     func(t *testing.T, err error) { assert.ErrorIs(t, err, boom) }},
		{name: "code not numeric", factor: "sms", requests: 2,
			twoFactor: func(context.Context, TwoFactorChallenge) (string, error) { return "48a13", nil },
			check:     assertCodeRefused},
		{name: "code too short", factor: "sms", requests: 2,
			twoFactor: func(context.Context, TwoFactorChallenge) (string, error) { return "482", nil },
			check:     assertCodeRefused},
		{name: "code too long", factor: "sms", requests: 2,
			twoFactor: func(context.Context, TwoFactorChallenge) (string, error) { return "48213907123", nil },
			check:     assertCodeRefused},
		{name: "code negative", factor: "sms", requests: 2,
			twoFactor: func(context.Context, TwoFactorChallenge) (string, error) { return "-4821", nil },
			check:     assertCodeRefused},
		{name: "wrong code", factor: "sms", requests: 3,
			twoFactor: func(context.Context, TwoFactorChallenge) (string, error) { return "1111", nil },
			check: func(t *testing.T, err error) {
				assert.ErrorIs(t, err, ErrUnauthorized)
				assert.Contains(t, err.Error(), "Wrong code")
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCleura(t, CleuraV2)
			f.factor, f.options = tc.factor, tc.options
			c := f.cleura("")
			c.TwoFactor = tc.twoFactor
			tok, err := c.Authenticate(context.Background())
			recordErr(err)
			assert.Nil(t, tok)
			require.Error(t, err)
			tc.check(t, err)
			assert.Len(t, f.received(), tc.requests)
		})
	}
}

func assertCodeRefused(t *testing.T, err error) {
	var v *ValidationError
	require.ErrorAs(t, err, &v)
	assert.Equal(t, "Cleura.TwoFactor", v.Field)
	assert.Contains(t, v.Reason, "4 to 10 digits")
}

// TestCleuraLoginFailures: error answers and broken bodies are typed errors
// naming the cause, never a panic.
func TestCleuraLoginFailures(t *testing.T) {
	huge := `{"result":"login_ok","token":"` + strings.Repeat("a", 2<<20) + `"}`
	tests := []struct {
		name   string
		status int
		body   string
		check  func(t *testing.T, err error)
	}{
		{"wrong password 401", 401, `{"error":{"code":401,"message":"Invalid login or password"}}`, func(t *testing.T, err error) {
			assert.ErrorIs(t, err, ErrUnauthorized)
			assert.Contains(t, err.Error(), "Invalid login or password")
		}},
		{"wrong password 400 with field errors", 400,
			`{"error":{"code":400,"message":"Validation failed","errors":[{"key":"password","value":"wrong for cleura-Pa55-word"},{"key":"login","value":7}]}}`,
			func(t *testing.T, err error) {
				assert.ErrorIs(t, err, ErrBadRequest)
				var h *HTTPError
				require.ErrorAs(t, err, &h)
				assert.Equal(t, []ErrorDetail{{"password", "wrong for REDACTED"}, {"login", "7"}}, h.Details)
				assert.Contains(t, err.Error(), "(password: wrong for REDACTED; login: 7)")
			}},
		{"malformed", 201, `{"result":`, assertMalformed},
		{"truncated", 201, `{"result":"login_ok","tok`, assertMalformed},
		{"not an object", 201, `["login_ok"]`, assertMalformed},
		{"missing token", 201, `{"result":"login_ok"}`, func(t *testing.T, err error) {
			assertMalformed(t, err)
			assert.Contains(t, err.Error(), "no token")
		}},
		{"unknown result", 201, `{"result":"maybe"}`, func(t *testing.T, err error) {
			assertMalformed(t, err)
			assert.Contains(t, err.Error(), `"maybe"`)
		}},
		{"two-factor without verification", 201, `{"result":"twofactor_required","type":"sms"}`, func(t *testing.T, err error) {
			assertMalformed(t, err)
			assert.Contains(t, err.Error(), "verification")
		}},
		{"huge body", 201, huge, func(t *testing.T, err error) {
			assertMalformed(t, err)
			assert.Contains(t, err.Error(), "larger than")
		}},
		{"server error", 503, `upstream down`, func(t *testing.T, err error) { assert.ErrorIs(t, err, ErrServer) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mock := httpmock.NewMockTransport()
			mock.RegisterResponder("POST", fxCleuraBase+"/auth/v2/tokens", httpmock.NewStringResponder(tc.status, tc.body))
			c := &Cleura{BaseURL: fxCleuraBase, Login: fxCleuraLogin, Password: fxCleuraPassword, Logger: testLogger(),
				TwoFactor:  func(context.Context, TwoFactorChallenge) (string, error) { return fxCleuraCode, nil },
				HTTPClient: &http.Client{Transport: mock}, Retry: &RetryPolicy{MaxAttempts: 1}}
			tok, err := c.Authenticate(context.Background())
			recordErr(err)
			assert.Nil(t, tok)
			require.Error(t, err)
			assert.NotContains(t, fmt.Sprintf("%v %+v", err, err), fxCleuraPassword)
			tc.check(t, err)
		})
	}
}

func assertMalformed(t *testing.T, err error) {
	t.Helper()
	var m *MalformedResponseError
	assert.ErrorAs(t, err, &m)
}

func TestCleuraConfigValidation(t *testing.T) {
	tests := map[string]struct {
		edit  func(*Cleura)
		field string
	}{
		"no login":         {func(c *Cleura) { c.Login = "" }, "Cleura.Login"},
		"no password":      {func(c *Cleura) { c.Password = "" }, "Cleura.Password"},
		"bad api version":  {func(c *Cleura) { c.APIVersion = "v3" }, "Cleura.APIVersion"},
		"negative max age": {func(c *Cleura) { c.MaxAge = -time.Second }, "Cleura.MaxAge"},
		"not a URL":        {func(c *Cleura) { c.BaseURL = "rest.cleura.cloud" }, "Cleura.BaseURL"},
		"ftp":              {func(c *Cleura) { c.BaseURL = "ftp://rest.cleura.cloud" }, "Cleura.BaseURL"},
		"user info":        {func(c *Cleura) { c.BaseURL = "https://carla:" + fxCleuraPassword + "@rest.cleura.cloud" }, "Cleura.BaseURL"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFakeCleura(t, CleuraV2)
			c := f.cleura("")
			tc.edit(c)
			_, err := c.Authenticate(context.Background())
			recordErr(err)
			var v *ValidationError
			require.ErrorAs(t, err, &v)
			assert.Equal(t, tc.field, v.Field)
			assert.Empty(t, f.received(), "nothing sent")
		})
	}
	t.Run("plain http", func(t *testing.T) {
		f := newFakeCleura(t, CleuraV2)
		c := f.cleura("")
		c.BaseURL = "http://rest.cleura.test"
		_, err := c.Authenticate(context.Background())
		assert.ErrorIs(t, err, ErrInsecureTransport)
		assert.Empty(t, f.received())
	})
	t.Run("default base URL", func(t *testing.T) {
		mock := httpmock.NewMockTransport()
		mock.RegisterResponder("POST", CleuraURL+"/auth/v2/tokens", httpmock.NewStringResponder(201, `{"result":"login_ok","token":"cleura-token-default"}`))
		registerSecret("cleura-token-default")
		tok, err := (&Cleura{Login: "carla", Password: fxCleuraPassword, HTTPClient: &http.Client{Transport: mock}}).Authenticate(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "cleura-token-default", tok.ID)
		assert.Equal(t, "rest.cleura.cloud:443", tok.authHost)
	})
}

func TestCleuraValidateAndRevoke(t *testing.T) {
	for _, api := range []CleuraAPIVersion{CleuraV2, CleuraV1} {
		t.Run(string(api), func(t *testing.T) {
			f := newFakeCleura(t, api)
			c := f.cleura("")
			ctx := context.Background()
			tok, err := c.Authenticate(ctx)
			require.NoError(t, err)

			ok, err := c.Validate(ctx, tok)
			require.NoError(t, err)
			assert.True(t, ok)
			require.NoError(t, c.Revoke(ctx, tok))
			ok, err = c.Validate(ctx, tok)
			require.NoError(t, err)
			assert.False(t, ok, "403 Invalid token: not valid, no error")

			err = c.Revoke(ctx, tok)
			recordErr(err)
			assert.ErrorIs(t, err, ErrForbidden)
			assert.Contains(t, err.Error(), "Invalid token")

			reqs := f.received()
			p := "/auth/" + string(api) + "/tokens"
			assert.Equal(t, []fakeRequest{
				{Method: "POST", Path: p + "/validate", Login: fxCleuraLogin, Token: tok.ID},
				{Method: "DELETE", Path: p, Login: fxCleuraLogin, Token: tok.ID},
				{Method: "POST", Path: p + "/validate", Login: fxCleuraLogin, Token: tok.ID},
				{Method: "DELETE", Path: p, Login: fxCleuraLogin, Token: tok.ID},
			}, reqs[1:])

			_, err = c.Validate(ctx, nil)
			var v *ValidationError
			assert.ErrorAs(t, err, &v)
		})
	}
	t.Run("no access is an error", func(t *testing.T) {
		f := newFakeCleura(t, CleuraV2)
		c := f.cleura("")
		tok, err := c.Authenticate(context.Background())
		require.NoError(t, err)
		mock := httpmock.NewMockTransport()
		mock.RegisterResponder("POST", fxCleuraBase+"/auth/v2/tokens/validate",
			httpmock.NewStringResponder(403, `{"error":{"code":403,"message":"Forbidden IP"}}`))
		c.HTTPClient = &http.Client{Transport: mock}
		ok, err := c.Validate(context.Background(), tok)
		assert.False(t, ok)
		assert.ErrorIs(t, err, ErrForbidden)
		assert.Contains(t, err.Error(), "Forbidden IP")
	})
}

func TestCleuraRefusal(t *testing.T) {
	tests := []struct {
		status int
		body   string
		want   bool
	}{
		{401, ``, true},
		{403, `{"error":{"code":403,"message":"Invalid token"}}`, true},
		{403, `{"error":{"code":403,"message":"invalid token: expired"}}`, true},
		{403, `{"error":{"code":403,"message":"Token expired"}}`, true},
		{403, `{"error":{"code":403,"message":"No access: compute.server.create"}}`, false},
		{403, `{"error":{"code":403,"message":"Forbidden IP"}}`, false},
		{403, `Invalid token`, false}, // not Cleura's error body: a proxy's refusal
		{403, ``, false},
		{404, `{"error":{"code":404,"message":"Invalid token"}}`, false},
		{200, `{"error":{"message":"Invalid token"}}`, false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.status, tc.body), func(t *testing.T) {
			assert.Equal(t, tc.want, cleuraRefusal(tc.status, []byte(tc.body)))
			resp := &http.Response{StatusCode: tc.status, Body: io.NopCloser(strings.NewReader(tc.body))}
			assert.Equal(t, tc.want, (&Token{kind: cleuraTokens}).rejected(resp))
			rest, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, tc.body, string(rest), "the body is whole after the look")
		})
	}
}

// TestPeekBodyKeepsTheWholeBody: a body longer than the look, one that
// fails half-way, and none at all.
func TestPeekBodyKeepsTheWholeBody(t *testing.T) {
	long := strings.Repeat("0123456789", 1000)
	resp := &http.Response{Body: io.NopCloser(strings.NewReader(long))}
	assert.Equal(t, long[:refusalPeek], string(peekBody(resp, refusalPeek)))
	all, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, long, string(all))

	boom := errors.New("connection reset")
	resp = &http.Response{Body: io.NopCloser(io.MultiReader(strings.NewReader("abc"), errReader{boom}))}
	assert.Equal(t, "abc", string(peekBody(resp, refusalPeek)))
	all, err = io.ReadAll(resp.Body)
	assert.Equal(t, "abc", string(all))
	assert.ErrorIs(t, err, boom, "the read error reaches the caller")

	resp = &http.Response{Body: http.NoBody}
	assert.Nil(t, peekBody(resp, refusalPeek))
	assert.Equal(t, http.NoBody, resp.Body)
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
