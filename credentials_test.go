package ksauth

import (
	"context"
	"io"
	"net/http"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Hand-written wire forms of each identity method and scope, as Keystone's
// API reference (and the captures) spell them.
var identityGolden = []struct {
	name string
	cred Credential
	json string
}{
	{"password by user id", Password{UserID: fxAliceID, Password: "alice-secret"},
		`{"methods":["password"],"password":{"user":{"id":"` + fxAliceID + `","password":"alice-secret"}}}`},
	{"password by name + domain id", Password{Username: "alice", UserDomain: Domain{ID: "default"}, Password: "alice-secret"},
		`{"methods":["password"],"password":{"user":{"name":"alice","domain":{"id":"default"},"password":"alice-secret"}}}`},
	{"password by name + domain name", fxAlicePassword,
		`{"methods":["password"],"password":{"user":{"name":"alice","domain":{"name":"Default"},"password":"alice-secret"}}}`},
	{"password id wins over name, domain id over name", Password{UserID: fxAliceID, Username: "alice", UserDomain: Domain{ID: "default", Name: "Default"}, Password: "alice-secret"},
		`{"methods":["password"],"password":{"user":{"id":"` + fxAliceID + `","password":"alice-secret"}}}`},
	{"password name + domain with both id and name", Password{Username: "alice", UserDomain: Domain{ID: "default", Name: "Default"}, Password: "alice-secret"},
		`{"methods":["password"],"password":{"user":{"name":"alice","domain":{"id":"default"},"password":"alice-secret"}}}`},
	{"app cred by id", ApplicationCredential{ID: fxAliceACID, Secret: "alice-ac-secret"},
		`{"methods":["application_credential"],"application_credential":{"id":"` + fxAliceACID + `","secret":"alice-ac-secret"}}`},
	{"app cred id wins over name and user", ApplicationCredential{ID: fxAliceACID, Name: "alice-ac", UserID: fxAliceID, Secret: "alice-ac-secret"},
		`{"methods":["application_credential"],"application_credential":{"id":"` + fxAliceACID + `","secret":"alice-ac-secret"}}`},
	{"app cred by name + user id", ApplicationCredential{Name: "alice-ac", UserID: fxAliceID, Secret: "alice-ac-secret"},
		`{"methods":["application_credential"],"application_credential":{"name":"alice-ac","user":{"id":"` + fxAliceID + `"},"secret":"alice-ac-secret"}}`},
	{"app cred by name + user name + domain name", ApplicationCredential{Name: "alice-ac", Username: "alice", UserDomain: Domain{Name: "Default"}, Secret: "alice-ac-secret"},
		`{"methods":["application_credential"],"application_credential":{"name":"alice-ac","user":{"name":"alice","domain":{"name":"Default"}},"secret":"alice-ac-secret"}}`},
	{"app cred by name + user name + domain id", ApplicationCredential{Name: "alice-ac", Username: "alice", UserDomain: Domain{ID: "default"}, Secret: "alice-ac-secret"},
		`{"methods":["application_credential"],"application_credential":{"name":"alice-ac","user":{"name":"alice","domain":{"id":"default"}},"secret":"alice-ac-secret"}}`},
	{"token exchange", TokenExchange{Token: fxUnscopedToken},
		`{"methods":["token"],"token":{"id":"` + fxUnscopedToken + `"}}`},
	{"totp by user id", TOTP{UserID: fxBobID, Passcode: fxBobPasscode},
		`{"methods":["totp"],"totp":{"user":{"id":"` + fxBobID + `","passcode":"` + fxBobPasscode + `"}}}`},
	{"totp by name + domain name", TOTP{Username: "bob", UserDomain: Domain{Name: "acme"}, Passcode: fxBobPasscode},
		`{"methods":["totp"],"totp":{"user":{"name":"bob","domain":{"name":"acme"},"passcode":"` + fxBobPasscode + `"}}}`},
	{"totp by name + domain id", TOTP{Username: "bob", UserDomain: Domain{ID: fxAcmeDomainID}, Passcode: fxBobPasscode},
		`{"methods":["totp"],"totp":{"user":{"name":"bob","domain":{"id":"` + fxAcmeDomainID + `"},"passcode":"` + fxBobPasscode + `"}}}`},
	{"multi-factor password + totp", MultiFactor{fxCarolPassword, fxCarolTOTP},
		`{"methods":["password","totp"],
		  "password":{"user":{"name":"carol","domain":{"name":"acme"},"password":"carol-secret"}},
		  "totp":{"user":{"name":"carol","domain":{"name":"acme"},"passcode":"` + fxCarolPasscode + `"}}}`},
	{"multi-factor totp + password keeps the order", MultiFactor{TOTP{UserID: fxCarolID, Passcode: fxCarolPasscode}, Password{UserID: fxCarolID, Password: "carol-secret"}},
		`{"methods":["totp","password"],
		  "password":{"user":{"id":"` + fxCarolID + `","password":"carol-secret"}},
		  "totp":{"user":{"id":"` + fxCarolID + `","passcode":"` + fxCarolPasscode + `"}}}`},
	{"multi-factor of one", MultiFactor{TokenExchange{Token: fxUnscopedToken}},
		`{"methods":["token"],"token":{"id":"` + fxUnscopedToken + `"}}`},
	{"multi-factor token + totp", MultiFactor{TokenExchange{Token: fxUnscopedToken}, TOTP{UserID: fxBobID, Passcode: fxBobPasscode}},
		`{"methods":["token","totp"],"token":{"id":"` + fxUnscopedToken + `"},"totp":{"user":{"id":"` + fxBobID + `","passcode":"` + fxBobPasscode + `"}}}`},
}

var scopeGolden = []struct {
	name  string
	scope Scope
	json  string // "" = no "scope" key at all
}{
	{"nil (server default)", nil, ""},
	{"project by id", ProjectScope{ID: fxDemoID}, `{"project":{"id":"` + fxDemoID + `"}}`},
	{"project id wins over name", ProjectScope{ID: fxDemoID, Name: "demo", Domain: Domain{Name: "Default"}}, `{"project":{"id":"` + fxDemoID + `"}}`},
	{"project by name + domain id", ProjectScope{Name: "demo", Domain: Domain{ID: "default"}}, `{"project":{"name":"demo","domain":{"id":"default"}}}`},
	{"project by name + domain name", fxDemoByName, `{"project":{"name":"demo","domain":{"name":"Default"}}}`},
	{"domain by id", DomainScope{ID: "default"}, `{"domain":{"id":"default"}}`},
	{"domain by name", DomainScope{Name: "Default"}, `{"domain":{"name":"Default"}}`},
	{"domain id wins over name", DomainScope{ID: "default", Name: "Default"}, `{"domain":{"id":"default"}}`},
	{"system", SystemScope{}, `{"system":{"all":true}}`},
	{"trust", TrustScope{ID: fxTrustID}, `{"OS-TRUST:trust":{"id":"` + fxTrustID + `"}}`},
	{"explicitly unscoped", Unscoped{}, `"unscoped"`},
}

func goldenRequest(identity, scope string) string {
	if scope == "" {
		return `{"auth":{"identity":` + identity + `}}`
	}
	return `{"auth":{"identity":` + identity + `,"scope":` + scope + `}}`
}

// TestRequestJSONEveryCredentialAndScope sends every credential × scope
// combination and compares the body on the wire with the golden JSON. An
// application credential with any scope must be refused before sending.
func TestRequestJSONEveryCredentialAndScope(t *testing.T) {
	resp := loadCapture(t, "auth_password_project_id")
	for _, id := range identityGolden {
		for _, sc := range scopeGolden {
			t.Run(id.name+"/"+sc.name, func(t *testing.T) {
				m := newKSMock(t)
				var body []byte
				m.respond("POST", mockBase+"/v3/auth/tokens", func(req *http.Request) (*http.Response, error) {
					body, _ = io.ReadAll(req.Body)
					assert.Equal(t, "application/json", req.Header.Get("Content-Type"))
					assert.Equal(t, "application/json", req.Header.Get("Accept"))
					assert.Empty(t, req.Header.Get("X-Auth-Token"))
					assert.Empty(t, req.Header.Get("Openstack-Auth-Receipt"))
					assert.Equal(t, "/v3/auth/tokens", req.URL.RequestURI())
					return resp.response(req), nil
				})
				tok, err, _, _ := authenticateCapture(t, m.keystone(id.cred, sc.scope))
				if slices.Contains(methodsOf(id.cred), "application_credential") && sc.scope != nil {
					var ve *ValidationError
					require.ErrorAs(t, err, &ve)
					assert.Equal(t, "Scope", ve.Field)
					assert.Zero(t, m.calls())
					return
				}
				require.NoError(t, err)
				require.NotNil(t, tok)
				assert.JSONEq(t, goldenRequest(id.json, sc.json), string(body))
				if sc.scope == nil {
					assert.NotContains(t, string(body), `"scope"`)
				}
			})
		}
	}
}

func TestCredentialValidation(t *testing.T) {
	okPassword := Password{UserID: fxAliceID, Password: "alice-secret"}
	tests := []struct {
		name  string
		cred  Credential
		scope Scope
		field string
	}{
		{"nil credentials", nil, nil, "Credentials"},
		{"password: no user", Password{Password: "alice-secret"}, nil, "Credentials.UserID"},
		{"password: domain but no user", Password{UserDomain: Domain{Name: "Default"}, Password: "alice-secret"}, nil, "Credentials.UserID"},
		{"password: name without domain", Password{Username: "alice", Password: "alice-secret"}, nil, "Credentials.UserDomain"},
		{"password: by id, empty password", Password{UserID: fxAliceID}, nil, "Credentials.Password"},
		{"password: by name, empty password", Password{Username: "alice", UserDomain: Domain{Name: "Default"}}, nil, "Credentials.Password"},
		{"app cred: empty", ApplicationCredential{}, nil, "Credentials.ID"},
		{"app cred: secret only", ApplicationCredential{Secret: "alice-ac-secret"}, nil, "Credentials.ID"},
		{"app cred: id without secret", ApplicationCredential{ID: fxAliceACID}, nil, "Credentials.Secret"},
		{"app cred: name without user", ApplicationCredential{Name: "alice-ac", Secret: "alice-ac-secret"}, nil, "Credentials.UserID"},
		{"app cred: name + user name without domain", ApplicationCredential{Name: "alice-ac", Username: "alice", Secret: "alice-ac-secret"}, nil, "Credentials.UserDomain"},
		{"app cred: name + user without secret", ApplicationCredential{Name: "alice-ac", UserID: fxAliceID}, nil, "Credentials.Secret"},
		{"app cred with project scope", ApplicationCredential{ID: fxAliceACID, Secret: "alice-ac-secret"}, ProjectScope{ID: fxDemoID}, "Scope"},
		{"app cred with unscoped", ApplicationCredential{ID: fxAliceACID, Secret: "alice-ac-secret"}, Unscoped{}, "Scope"},
		{"app cred with an invalid scope names the app cred conflict", ApplicationCredential{ID: fxAliceACID, Secret: "alice-ac-secret"}, ProjectScope{}, "Scope"},
		{"token exchange: empty", TokenExchange{}, nil, "Credentials.Token"},
		{"totp: empty", TOTP{}, nil, "Credentials.UserID"},
		{"totp: name without domain", TOTP{Username: "bob", Passcode: fxBobPasscode}, nil, "Credentials.UserDomain"},
		{"totp: no passcode", TOTP{UserID: fxBobID}, nil, "Credentials.Passcode"},
		{"multi-factor: empty", MultiFactor{}, nil, "Credentials"},
		{"multi-factor: nil element", MultiFactor{okPassword, nil}, nil, "Credentials[1]"},
		{"multi-factor: invalid element", MultiFactor{okPassword, TOTP{Username: "carol", Passcode: fxCarolPasscode}}, nil, "Credentials[1].UserDomain"},
		{"multi-factor: first element invalid", MultiFactor{Password{UserID: fxAliceID}, fxCarolTOTP}, nil, "Credentials[0].Password"},
		{"multi-factor: nested", MultiFactor{MultiFactor{okPassword}}, nil, "Credentials[0]"},
		{"multi-factor: method twice", MultiFactor{okPassword, fxCarolPassword}, nil, "Credentials[1]"},
		{"multi-factor with app cred and scope", MultiFactor{okPassword, ApplicationCredential{ID: fxAliceACID, Secret: "alice-ac-secret"}}, SystemScope{}, "Scope"},
		{"project scope: empty", okPassword, ProjectScope{}, "Scope.ID"},
		{"project scope: domain only", okPassword, ProjectScope{Domain: Domain{ID: "default"}}, "Scope.ID"},
		{"project scope: name without domain", okPassword, ProjectScope{Name: "demo"}, "Scope.Domain"},
		{"domain scope: empty", okPassword, DomainScope{}, "Scope.ID"},
		{"trust scope: empty", okPassword, TrustScope{}, "Scope.ID"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newKSMock(t)
			tok, err, _, _ := authenticateCapture(t, m.keystone(tc.cred, tc.scope))
			assert.Nil(t, tok)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.field, ve.Field)
			assert.NotEmpty(t, ve.Reason)
			assert.Contains(t, err.Error(), "invalid "+tc.field+":")
			for _, s := range []string{"alice-secret", "alice-ac-secret", fxBobPasscode, fxCarolPasscode, "carol-secret"} {
				assert.NotContains(t, err.Error(), s)
			}
			assert.Zero(t, m.calls(), "validation happens before any request")
		})
	}
}

// TestValidationBeforeDiscovery: a bad credential is reported even when the
// AuthURL would need discovery, without any request.
func TestValidationBeforeDiscovery(t *testing.T) {
	m := newKSMock(t)
	k := m.keystone(Password{Username: "alice", Password: "alice-secret"}, nil)
	k.AuthURL = mockBase
	_, err := k.Authenticate(context.Background())
	recordErr(err)
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "Credentials.UserDomain", ve.Field)
	assert.Zero(t, m.calls())
}

// TestPointerCredentialsAndScopes: pointers to the credential and scope
// types work like the values, and are checked the same way; a typed nil is
// a validation error, not a panic.
func TestPointerCredentialsAndScopes(t *testing.T) {
	resp := loadCapture(t, "auth_password_project_id")
	t.Run("pointers are sent like values", func(t *testing.T) {
		for _, tc := range []struct {
			cred  Credential
			scope Scope
		}{
			{&Password{UserID: fxAliceID, Password: "alice-secret"}, &ProjectScope{ID: fxDemoID}},
			{&ApplicationCredential{ID: fxAliceACID, Secret: "alice-ac-secret"}, nil},
			{&MultiFactor{fxCarolPassword, &fxCarolTOTP}, &DomainScope{ID: "default"}},
		} {
			m := newKSMock(t)
			var body []byte
			m.respond("POST", mockBase+"/v3/auth/tokens", func(req *http.Request) (*http.Response, error) {
				body, _ = io.ReadAll(req.Body)
				return resp.response(req), nil
			})
			_, err, _, _ := authenticateCapture(t, m.keystone(tc.cred, tc.scope))
			require.NoError(t, err, "%T %T", tc.cred, tc.scope)
			assert.Contains(t, string(body), `"methods":[`)
		}
	})
	tests := []struct {
		name  string
		cred  Credential
		scope Scope
		field string
	}{
		{"*ApplicationCredential with scope", &ApplicationCredential{ID: fxAliceACID, Secret: "alice-ac-secret"}, ProjectScope{ID: fxDemoID}, "Scope"},
		{"*MultiFactor with app cred and scope", &MultiFactor{fxAlicePassword, &ApplicationCredential{ID: fxAliceACID, Secret: "alice-ac-secret"}}, SystemScope{}, "Scope"},
		{"nested *MultiFactor", MultiFactor{&MultiFactor{fxAlicePassword}}, nil, "Credentials[0]"},
		{"invalid *Password", &Password{UserID: fxAliceID}, nil, "Credentials.Password"},
		{"nil *Password", (*Password)(nil), nil, "Credentials"},
		{"nil *MultiFactor", (*MultiFactor)(nil), nil, "Credentials"},
		{"nil *TOTP in MultiFactor", MultiFactor{fxAlicePassword, (*TOTP)(nil)}, nil, "Credentials[1]"},
		{"nil *ProjectScope", fxAlicePassword, (*ProjectScope)(nil), "Scope"},
		{"nil *Unscoped", fxAlicePassword, (*Unscoped)(nil), "Scope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newKSMock(t)
			var err error
			require.NotPanics(t, func() { _, err, _, _ = authenticateCapture(t, m.keystone(tc.cred, tc.scope)) })
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.field, ve.Field)
			assert.Zero(t, m.calls())
		})
	}
}
