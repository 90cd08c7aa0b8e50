package ksauth

// Tests of multi-factor logins: receipts, the Passcode continuation, receipts by hand.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAuthenticateMFAReceipt(t *testing.T) {
	m := newKSMock(t)
	m.expectNamed("auth_mfa_carol_password_only_401_receipt")
	k := m.keystone(fxCarolPassword, fxOpsByName)
	tok, err, _, _ := authenticateCapture(t, k)
	require.Nil(t, tok)
	var mfa *MFARequiredError
	require.ErrorAs(t, err, &mfa)
	assert.ErrorIs(t, err, ErrUnauthorized)
	assert.Equal(t, fxCarolReceipt, mfa.Receipt)
	assert.Equal(t, [][]string{{"totp", "password"}}, mfa.RequiredMethods)
	assert.Equal(t, []string{"password"}, mfa.Methods)
	assert.Equal(t, User{ID: fxCarolID, Name: "carol", Domain: fxAcmeDomain}, mfa.User)
	assert.Equal(t, ts(t, "2026-11-23T06:48:12Z"), mfa.ExpiresAt)
	assert.NoError(t, mfa.Err)
	msg := err.Error()
	assert.Contains(t, msg, "totp+password")
	assert.Contains(t, msg, "have [password]")
	for _, s := range []string{fxCarolReceipt, "gAAAAA", "carol-secret"} {
		assert.NotContains(t, msg, s)
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			assert.NotContains(t, fmt.Sprintf(verb, err), s, verb)
		}
	}
}

// TestAuthenticateMFAContinuesWithPasscode: with Passcode set the login goes
// on by itself: the receipt header, the totp method for the receipt's user,
// and the scope again.
func TestAuthenticateMFAContinuesWithPasscode(t *testing.T) {
	m := newKSMock(t)
	second := loadCapture(t, "auth_mfa_carol_receipt_plus_totp")
	// ksauth names the user by the receipt's user id (unambiguous); the
	// capture named it by name + domain. Both are Keystone's wire format.
	second.Request.Body = []byte(`{"auth":{"identity":{"methods":["totp"],"totp":{"user":{"id":"` + fxCarolID + `","passcode":"` + fxCarolPasscode + `"}}},
		"scope":{"project":{"name":"ops","domain":{"name":"acme"}}}}}`)
	m.expect(loadCapture(t, "auth_mfa_carol_password_only_401_receipt"), second)
	k := m.keystone(fxCarolPassword, fxOpsByName)
	var asked int
	k.Passcode = func(ctx context.Context) (string, error) {
		asked++
		return fxCarolPasscode, nil
	}
	tok, err, before, after := authenticateCapture(t, k)
	require.NoError(t, err)
	assert.Equal(t, "gAAAAAB-placeholder-auth_mfa_carol_receipt_plus_totp", tok.ID)
	assert.ElementsMatch(t, []string{"totp", "password"}, tok.Methods)
	assert.Equal(t, fxOpsID, tok.Project.ID)
	assertLocalExpiry(t, tok, time.Hour, before, after)
	assert.Equal(t, 1, asked)
	assert.Equal(t, []string{"auth_mfa_carol_password_only_401_receipt", "auth_mfa_carol_receipt_plus_totp"}, m.servedNames())
}

// TestAuthenticateMFAReceiptByHand completes the login the way the error's
// documentation says: Receipt from the error, Credentials the missing method.
// The request is exactly the recorded one.
func TestAuthenticateMFAReceiptByHand(t *testing.T) {
	m := newKSMock(t)
	m.expectNamed("auth_mfa_carol_password_only_401_receipt", "auth_mfa_carol_receipt_plus_totp")
	k := m.keystone(fxCarolPassword, fxOpsByName)
	_, err, _, _ := authenticateCapture(t, k)
	var mfa *MFARequiredError
	require.ErrorAs(t, err, &mfa)

	k2 := m.keystone(fxCarolTOTP, fxOpsByName)
	k2.Receipt = mfa.Receipt
	tok, err, _, _ := authenticateCapture(t, k2)
	require.NoError(t, err)
	assert.Equal(t, "gAAAAAB-placeholder-auth_mfa_carol_receipt_plus_totp", tok.ID)
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v %s", k2, k2, k2, k2), mfa.Receipt)
}

func TestAuthenticateMFAPasscodeFails(t *testing.T) {
	m := newKSMock(t)
	m.expectNamed("auth_mfa_carol_password_only_401_receipt")
	k := m.keystone(fxCarolPassword, fxOpsByName)
	boom := errors.New("no authenticator app at hand")
	k.Passcode = func(ctx context.Context) (string, error) { return "", boom }
	_, err, _, _ := authenticateCapture(t, k)
	var mfa *MFARequiredError
	require.ErrorAs(t, err, &mfa)
	assert.ErrorIs(t, err, boom)
	assert.ErrorIs(t, err, ErrUnauthorized)
	assert.Equal(t, fxCarolReceipt, mfa.Receipt, "the receipt stays usable by hand")
	assert.Contains(t, err.Error(), "no authenticator app at hand")
	assert.NotContains(t, err.Error(), "gAAAAA")
}

// TestAuthenticateMFAWithoutTOTPRule: a receipt whose rules do not need TOTP
// is returned as is; Passcode is not asked.
func TestAuthenticateMFAWithoutTOTPRule(t *testing.T) {
	m := newKSMock(t)
	c := loadCapture(t, "auth_mfa_carol_password_only_401_receipt")
	body := c.responseJSON(t)
	body["required_auth_methods"] = [][]string{{"password", "application_credential"}}
	c.setResponseJSON(t, body)
	m.expect(c)
	k := m.keystone(fxCarolPassword, fxOpsByName)
	k.Passcode = func(ctx context.Context) (string, error) {
		t.Error("Passcode called although no rule needs totp")
		return fxCarolPasscode, nil
	}
	_, err, _, _ := authenticateCapture(t, k)
	var mfa *MFARequiredError
	require.ErrorAs(t, err, &mfa)
	assert.Equal(t, [][]string{{"password", "application_credential"}}, mfa.RequiredMethods)
	assert.Contains(t, err.Error(), "password+application_credential")
}

// TestAuthenticateMFABadReceiptRedacted: Keystone echoes an unknown receipt in
// its 401 message; neither the error text nor the logs may show it.
func TestAuthenticateMFABadReceiptRedacted(t *testing.T) {
	m := newKSMock(t)
	echo := `{"error":{"code":401,"message":"Could not find auth receipt: ` + fxCarolReceipt + `. Passcode ` + fxCarolPasscode + ` is wrong","title":"Unauthorized"}}`
	m.respond("POST", mockBase+"/v3/auth/tokens", func(req *http.Request) (*http.Response, error) {
		if req.Header.Get("Openstack-Auth-Receipt") == "" {
			return loadCapture(t, "auth_mfa_carol_password_only_401_receipt").response(req), nil
		}
		return jsonResponder(401, echo, "x-openstack-request-id", "req-echo")(req)
	})
	k := m.keystone(fxCarolPassword, fxOpsByName)
	k.Passcode = func(ctx context.Context) (string, error) { return fxCarolPasscode, nil }
	_, err, _, _ := authenticateCapture(t, k)
	var he *HTTPError
	require.ErrorAs(t, err, &he)
	assert.ErrorIs(t, err, ErrUnauthorized)
	assert.Equal(t, "req-echo", he.RequestID)
	assert.Contains(t, he.Message, "Could not find auth receipt: ")
	for _, s := range []string{fxCarolReceipt, "gAAAAA", fxCarolPasscode} {
		assert.NotContains(t, err.Error(), s)
		assert.NotContains(t, fmt.Sprintf("%#v", err), s)
	}
}

// TestAuthenticateMFAMalformedReceipt: a receipt body without a user, or a
// Passcode returning "", ends the login with an *MFARequiredError (found by
// FuzzReceiptResponse: the continuation used to dereference a nil user).
func TestAuthenticateMFAMalformedReceipt(t *testing.T) {
	t.Run("receipt without user", func(t *testing.T) {
		m := newKSMock(t)
		c := loadCapture(t, "auth_mfa_carol_password_only_401_receipt")
		body := c.responseJSON(t)
		delete(body["receipt"].(map[string]any), "user")
		c.setResponseJSON(t, body)
		m.expect(c)
		k := m.keystone(fxCarolPassword, fxOpsByName)
		k.Passcode = func(context.Context) (string, error) {
			t.Error("Passcode asked although the login cannot continue")
			return fxCarolPasscode, nil
		}
		var err error
		require.NotPanics(t, func() { _, err, _, _ = authenticateCapture(t, k) })
		var mfa *MFARequiredError
		require.ErrorAs(t, err, &mfa)
		require.Error(t, mfa.Err)
		assert.Contains(t, err.Error(), "no user id")
		assert.Equal(t, 1, m.calls())
	})
	t.Run("empty passcode", func(t *testing.T) {
		m := newKSMock(t)
		m.expectNamed("auth_mfa_carol_password_only_401_receipt")
		k := m.keystone(fxCarolPassword, fxOpsByName)
		k.Passcode = func(context.Context) (string, error) { return "", nil }
		_, err, _, _ := authenticateCapture(t, k)
		var mfa *MFARequiredError
		require.ErrorAs(t, err, &mfa)
		assert.Contains(t, err.Error(), "passcode: empty")
		assert.Equal(t, 1, m.calls(), "an empty passcode is not sent")
	})
}
