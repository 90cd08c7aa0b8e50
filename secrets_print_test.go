package ksauth

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestSecretsHiddenHoweverPrinted: invariants 1 and 10. Every secret-holding
// value, as a value, a pointer, nested in a user's struct (exported fields)
// and slice, with every verb, both slog handlers and encoding/json. fmt
// cannot call methods on values reached through unexported fields, a Go
// limitation the package documentation states; those are not tested.
func TestSecretsHiddenHoweverPrinted(t *testing.T) {
	secrets := []string{"pw-secret-1", "654321", "receipt-secret-1", "hunter2", "tok-secret-1", "ac-secret-1",
		"cleura-pw-1", "verif-secret-1", "cleura-tok-1", "cfg-pw-1", "cfg-ac-1", "cfg-tok-1", "cfg-pass-1", "PRIVATE-KEY-BODY",
		"acinfo-secret-1", "newac-secret-1", "ec2-secret-1"}
	mf := MultiFactor{Password{UserID: "u", Password: "pw-secret-1"}, TOTP{UserID: "u", Passcode: "654321"}}
	k := Keystone{AuthURL: "https://bob:hunter2@h/v3", Credentials: mf, Receipt: "receipt-secret-1"}
	tok := Token{ID: "tok-secret-1", ExpiresAt: time.Now().Add(time.Hour)}
	mfa := MFARequiredError{Receipt: "receipt-secret-1"}
	ac := ApplicationCredential{ID: "x", Secret: "ac-secret-1"}
	cl := Cleura{BaseURL: "https://carla:hunter2@rest.cleura.test", Login: "carla", Password: "cleura-pw-1"}
	ch := TwoFactorChallenge{Login: "carla", Method: "sms", Verification: "verif-secret-1"}
	ctok := Token{ID: "cleura-tok-1", User: User{Name: "carla"}, kind: cleuraTokens}
	st := Settings{AuthURL: "https://bob:hunter2@k.test/v3", Password: "cfg-pw-1", ApplicationCredentialSecret: "cfg-ac-1", Token: "cfg-tok-1",
		Passcode: "cfg-pass-1", Key: "-----BEGIN PRIVATE KEY-----\nPRIVATE-KEY-BODY\n-----END PRIVATE KEY-----"}
	cfg := Config{Cloud: "c", Keystone: &Keystone{AuthURL: st.AuthURL, Credentials: Password{UserID: "u", Password: "cfg-pw-1"}}, Settings: st}
	ccfg := Config{Cloud: "cc", Cleura: &cl, Settings: Settings{AuthType: AuthTypeCleura, Username: "carla", Password: "cleura-pw-1"}}
	info := ApplicationCredentialInfo{ID: "ac", Name: "ci", Secret: "acinfo-secret-1", Roles: []Role{{Name: "member"}}}
	newAC := NewApplicationCredential{Name: "ci", Secret: "newac-secret-1"}
	ec2 := EC2Credential{Access: "ak", Secret: "ec2-secret-1"}
	type config struct {
		K    Keystone
		PK   *Keystone
		MF   *MultiFactor
		Tok  Token
		PTok *Token
		MFA  MFARequiredError
		PMFA *MFARequiredError
		AC   ApplicationCredential
		CL   Cleura
		PCL  *Cleura
		CH   TwoFactorChallenge
		CTok *Token
		Info ApplicationCredentialInfo
		PInf *ApplicationCredentialInfo
		New  NewApplicationCredential
		EC2  []EC2Credential
		All  []any
		Map  map[string]any
	}
	c := config{K: k, PK: &k, MF: &mf, Tok: tok, PTok: &tok, MFA: mfa, PMFA: &mfa, AC: ac, CL: cl, PCL: &cl, CH: ch, CTok: &ctok,
		Info: info, PInf: &info, New: newAC, EC2: []EC2Credential{ec2},
		All: []any{k, &k, mf, &mf, tok, mfa, &mfa, ac, TokenExchange{Token: "tok-secret-1"}, cl, &cl, ch, &ch, ctok, info, &info, newAC, &newAC, ec2, &ec2},
		Map: map[string]any{"k": k, "mfa": mfa}}
	values := map[string]any{"config": c, "*config": &c, "Keystone": k, "*Keystone": &k, "MultiFactor": mf,
		"*MultiFactor": &mf, "MFARequiredError": mfa, "*MFARequiredError": &mfa, "[]Keystone": []Keystone{k},
		"Settings": st, "*Settings": &st, "Config": cfg, "*Config": &cfg, "Config(Cleura)": ccfg, "*Config(Cleura)": &ccfg,
		"Cleura": cl, "*Cleura": &cl, "TwoFactorChallenge": ch, "*TwoFactorChallenge": &ch, "[]TwoFactorChallenge": []TwoFactorChallenge{ch},
		"ApplicationCredentialInfo": info, "*ApplicationCredentialInfo": &info, "[]ApplicationCredentialInfo": []ApplicationCredentialInfo{info},
		"NewApplicationCredential": newAC, "*NewApplicationCredential": &newAC, "EC2Credential": ec2, "*EC2Credential": &ec2,
		"[]EC2Credential": []EC2Credential{ec2}, "[]*EC2Credential": []*EC2Credential{&ec2}}
	check := func(t *testing.T, what, out string) {
		t.Helper()
		for _, s := range secrets {
			assert.NotContains(t, out, s, what)
			assert.NotContains(t, strings.ToLower(out), hex.EncodeToString([]byte(s)), what)
		}
	}
	for name, v := range values {
		t.Run(name, func(t *testing.T) {
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
				check(t, verb, fmt.Sprintf(verb, v))
			}
			check(t, "Sprint", fmt.Sprint(v)+fmt.Sprintln(v))
			var buf bytes.Buffer
			slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "v", v)
			slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "v", v)
			check(t, "slog", buf.String())
			if b, err := json.Marshal(v); err == nil {
				check(t, "json", string(b))
			}
		})
	}
}
