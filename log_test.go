package ksauth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fxSecrets are the secret values the formatting tests plant.
var fxSecrets = []string{
	"alice-secret", "alice-ac-secret", "carol-secret", fxBobPasscode, fxCarolPasscode,
	fxProjectToken, fxUnscopedToken, fxCarolReceipt, "gAAAAA",
}

// formattedValues are ksauth values holding every kind of secret.
func formattedValues() map[string]any {
	tok := &Token{
		ID: fxProjectToken, ExpiresAt: time.Date(2026, 11, 23, 7, 43, 9, 0, time.UTC),
		User: User{ID: fxAliceID, Name: "alice", Domain: fxDefaultDomain}, Project: fxDemoProject,
		Roles: fxReaderAndMember, Methods: []string{"password"}, authHost: "keystone.test:5000",
		Catalog: Catalog{{Type: "compute", Endpoints: []Endpoint{{Interface: "public", URL: "https://nova"}}}},
	}
	mfa := MultiFactor{fxCarolPassword, fxCarolTOTP, TokenExchange{Token: fxUnscopedToken}, ApplicationCredential{ID: fxAliceACID, Secret: "alice-ac-secret"}}
	k := &Keystone{
		AuthURL: mockBase, Credentials: mfa, Scope: fxOpsByName, Receipt: fxCarolReceipt,
		Passcode: func(context.Context) (string, error) { return fxCarolPasscode, nil },
	}
	return map[string]any{
		"*Token":                 tok,
		"Token":                  *tok,
		"[]*Token":               []*Token{tok},
		"Password":               fxAlicePassword,
		"*Password":              &fxAlicePassword,
		"ApplicationCredential":  ApplicationCredential{Name: "alice-ac", UserID: fxAliceID, Secret: "alice-ac-secret"},
		"*ApplicationCredential": &ApplicationCredential{ID: fxAliceACID, Secret: "alice-ac-secret"},
		"TokenExchange":          TokenExchange{Token: fxUnscopedToken},
		"TOTP":                   TOTP{UserID: fxBobID, Passcode: fxBobPasscode},
		"MultiFactor":            mfa,
		"Credential":             []Credential{fxCarolPassword},
		"*Keystone":              k,
		"*MFARequiredError":      &MFARequiredError{Receipt: fxCarolReceipt, RequiredMethods: [][]string{{"totp", "password"}}, Methods: []string{"password"}, User: User{ID: fxCarolID}},
		"*HTTPError":             &HTTPError{Method: "POST", URL: mockBase + "/v3/auth/tokens", StatusCode: 401, Message: redact("Could not find auth receipt: " + fxCarolReceipt)},
	}
}

// TestFormattingNeverShowsSecrets prints every ksauth value holding a secret
// with each fmt verb and through slog's JSON and text handlers.
func TestFormattingNeverShowsSecrets(t *testing.T) {
	for name, v := range formattedValues() {
		t.Run(name, func(t *testing.T) {
			outputs := map[string]string{}
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%10v"} {
				outputs[verb] = fmt.Sprintf(verb, v)
			}
			outputs["Sprint"] = fmt.Sprint(v)
			outputs["Sprintln"] = fmt.Sprintln(v)
			for _, h := range []struct {
				name string
				new  func(io.Writer) slog.Handler
			}{
				{"json", func(w io.Writer) slog.Handler {
					return slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})
				}},
				{"text", func(w io.Writer) slog.Handler {
					return slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})
				}},
			} {
				var buf bytes.Buffer
				l := slog.New(h.new(io.MultiWriter(&buf, suiteLog)))
				l.Debug("value", "v", v)
				l.Info("any", slog.Any("v", v))
				l.WithGroup("g").Info("group", slog.Group("inner", slog.Any("v", v)))
				l.With("v", v).Warn("with")
				outputs["slog "+h.name] = buf.String()
			}
			for how, out := range outputs {
				require.NotEmpty(t, out, how)
				for _, s := range fxSecrets {
					assert.NotContains(t, out, s, "%s shows a secret: %s", how, out)
				}
				assert.NotContains(t, out, "!ERROR", "%s: %s", how, out)
				assert.NotContains(t, out, "panicked", "%s: %s", how, out)
			}
		})
	}
}

// TestFormattingKeepsUsefulFields: redaction does not hide what a reader of
// the log needs (and shows whether a secret was set).
func TestFormattingKeepsUsefulFields(t *testing.T) {
	v := formattedValues()
	tok := v["*Token"].(*Token)
	assert.Contains(t, fmt.Sprintf("%v", tok), fingerprint(fxProjectToken))
	assert.Contains(t, fmt.Sprintf("%+v", tok), "alice")
	assert.Contains(t, fmt.Sprintf("%#v", tok), fxRoleReader)
	assert.Contains(t, fmt.Sprintf("%+v", tok), "https://nova")
	assert.Equal(t, tok.String(), fmt.Sprintf("%s", tok))

	p := fmt.Sprintf("%+v", fxAlicePassword)
	assert.Contains(t, p, "alice")
	assert.Contains(t, p, "Default")
	assert.Contains(t, p, redacted)
	assert.NotContains(t, fmt.Sprintf("%+v", Password{Username: "alice"}), redacted, "an empty secret shows as empty")

	k := fmt.Sprintf("%+v", v["*Keystone"])
	assert.Contains(t, k, mockBase)
	assert.Contains(t, k, "carol")
	assert.Contains(t, k, "ops")

	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "token", tok)
	assert.Contains(t, buf.String(), fingerprint(fxProjectToken))
	assert.Contains(t, buf.String(), fxDemoID)
}

func TestRedact(t *testing.T) {
	tests := []struct {
		in      string
		secrets []string
		want    string
	}{
		{"Could not find auth receipt: gAAAAABnX2Yz_-abc=", nil, "Could not find auth receipt: REDACTED"},
		{"token gAAAAAB-placeholder-auth_password_project_id.", nil, "token REDACTED."},
		{"two gAAAAA1 and gAAAAA2", nil, "two REDACTED and REDACTED"},
		{"password alice-secret here", []string{"alice-secret"}, "password REDACTED here"},
		{"pin 123 stays", []string{"123"}, "pin 123 stays"}, // too short to redact safely
		{"empty secret", []string{""}, "empty secret"},
		{"gAAAA is not fernet-like", nil, "gAAAA is not fernet-like"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, redact(tc.in, tc.secrets...), tc.in)
	}
}

// TestFlowsLeakNoSecret runs succeeding and failing flows with a debug
// logger, collects every log line and error text, and looks for every
// fixture secret in them. The texts also go to the suite-wide check.
func TestFlowsLeakNoSecret(t *testing.T) {
	var buf lockedBuffer
	logger := slog.New(slog.NewJSONHandler(io.MultiWriter(&buf, suiteLog), &slog.HandlerOptions{Level: slog.LevelDebug}))
	var texts []string
	collect := func(vals ...any) {
		for _, v := range vals {
			if v == nil {
				continue
			}
			if err, ok := v.(error); ok && err == nil {
				continue
			}
			if tok, ok := v.(*Token); ok && tok == nil {
				continue
			}
			texts = append(texts, fmt.Sprintf("%v|%+v|%#v|%s", v, v, v, v))
			if err, ok := v.(error); ok {
				recordErr(err)
			}
		}
	}
	ctx := context.Background()
	newK := func(m *ksMock, cred Credential, scope Scope) *Keystone {
		k := m.keystone(cred, scope)
		k.Logger = logger
		return k
	}

	// Every successful auth capture, through discovery.
	for _, name := range []string{"auth_password_project_name", "auth_appcred_id", "auth_totp_bob", "auth_mfa_carol_password_and_totp", "auth_token_rescope_unscoped_to_project"} {
		m := newKSMock(t)
		m.respond("GET", mockBase, discoveryAt(t, 300, mockBase))
		c := loadCapture(t, name)
		m.respond("POST", mockBase+"/v3/auth/tokens", func(req *http.Request) (*http.Response, error) { return c.response(req), nil })
		k := newK(m, fxAlicePassword, nil)
		k.AuthURL = mockBase
		tok, err := k.Authenticate(ctx)
		require.NoError(t, err, name)
		collect(tok, err)
		registerSecret(tok.ID)
	}

	// MFA: receipt error, automatic continuation, failing passcode, bad receipt echo.
	m := newKSMock(t)
	second := loadCapture(t, "auth_mfa_carol_receipt_plus_totp")
	second.Request.Body = []byte(`{"auth":{"identity":{"methods":["totp"],"totp":{"user":{"id":"` + fxCarolID + `","passcode":"` + fxCarolPasscode + `"}}},"scope":{"project":{"name":"ops","domain":{"name":"acme"}}}}}`)
	receipt := func() *ksCapture { return loadCapture(t, "auth_mfa_carol_password_only_401_receipt") }
	m.expect(receipt(), receipt(), second, receipt())
	k := newK(m, fxCarolPassword, fxOpsByName)
	tok, err := k.Authenticate(ctx)
	collect(tok, err)
	require.Error(t, err)
	k.Passcode = func(context.Context) (string, error) { return fxCarolPasscode, nil }
	tok, err = k.Authenticate(ctx)
	require.NoError(t, err)
	collect(tok, err, k)
	k.Passcode = func(context.Context) (string, error) { return "", errors.New("no device") }
	tok, err = k.Authenticate(ctx)
	collect(tok, err, k)
	require.Error(t, err)

	// Failures: wrong password, server errors echoing secrets, transport errors, malformed bodies.
	m = newKSMock(t)
	m.expectNamed("auth_wrong_password_401")
	tok, err = newK(m, Password{Username: "alice", UserDomain: Domain{Name: "Default"}, Password: "wrong-password"}, fxDemoByName).Authenticate(ctx)
	collect(tok, err)
	require.Error(t, err)

	// The server echoes the secret it was sent (and tokens).
	creds := map[string]Credential{
		"alice-secret":    fxAlicePassword,
		"alice-ac-secret": ApplicationCredential{ID: fxAliceACID, Secret: "alice-ac-secret"},
		fxBobPasscode:     TOTP{UserID: fxBobID, Passcode: fxBobPasscode},
		fxUnscopedToken:   TokenExchange{Token: fxUnscopedToken},
	}
	for echo, cred := range creds {
		for _, r := range []func(*http.Request) (*http.Response, error){
			jsonResponder(400, `{"error":{"code":400,"message":"bad `+echo+` `+fxUnscopedToken+`","title":"x"}}`),
			jsonResponder(503, echo+" gAAAAAB-x", "Content-Type", "text/plain", "Retry-After", "0"),
			jsonResponder(201, `{"token":{"expires_at":"`+fxUnscopedToken+`"}}`, "X-Subject-Token", fxProjectToken),
			jsonResponder(201, `{"token":{}}`),
			func(*http.Request) (*http.Response, error) { return nil, errors.New("reset " + fxProjectToken) },
		} {
			m = newKSMock(t)
			m.respond("GET", mockBase, jsonResponder(503, `{}`, "Retry-After", "0"))
			m.respond("POST", mockBase+"/v3/auth/tokens", r)
			k := newK(m, cred, nil)
			k.AuthURL = mockBase
			k.Retry = &RetryPolicy{MaxAttempts: 2}
			tok, err = k.Authenticate(ctx)
			collect(tok, err, k)
			require.Error(t, err)
		}
	}

	// Identity calls, good and bad.
	m = newKSMock(t)
	m.expectNamed("validate_token", "check_token_head", "revoke_token_delete", "validate_revoked_token_404", "auth_catalog_unscoped_token", "auth_projects_unscoped_token")
	k = newK(m, nil, nil)
	tok, err = k.ValidateToken(ctx, fxSystemAuth, fxNameToken, nil)
	collect(tok, err)
	ok, err := k.CheckToken(ctx, fxSystemAuth, fxNameToken)
	collect(ok, err)
	err = k.RevokeToken(ctx, fxSystemAuth, fxNameToken)
	collect(err)
	tok, err = k.ValidateToken(ctx, fxSystemAuth, fxNameToken, nil)
	collect(tok, err)
	require.Error(t, err)
	cat, err := k.Catalog(ctx, fxUnscopedAuth)
	collect(cat, err)
	require.Error(t, err)
	projects, err := k.Projects(ctx, fxUnscopedAuth)
	collect(projects, err)

	all := buf.String() + strings.Join(texts, "\n")
	require.Contains(t, buf.String(), "authenticated", "the logger must have seen the flows")
	require.Greater(t, len(texts), 40)
	for _, s := range append(fxSecrets, "bob-secret", "admin-secret", "wrong-password", fxSystemToken, fxNameToken) {
		assert.NotContains(t, all, s)
	}
}
