package keystonetest

import (
	"net/http"
	"testing"
	"time"
)

// RFC 6238 appendix B, SHA1 (the 8-digit values, of which Keystone's
// passcodes are the last 6 digits).
func TestTOTPPasscodeRFC6238(t *testing.T) {
	secret := "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" // "12345678901234567890"
	for unix, want := range map[int64]string{59: "287082", 1111111109: "081804", 1111111111: "050471",
		1234567890: "005924", 2000000000: "279037", 20000000000: "353130"} {
		got, err := TOTPPasscode(secret, time.Unix(unix, 0))
		if err != nil || got != want {
			t.Errorf("t=%d: %q, %v; want %q", unix, got, err, want)
		}
	}
	if got, _ := TOTPPasscode("gezd gnbv gy3t qojq gezd gnbv gy3t qojq", time.Unix(59, 0)); got != "287082" {
		t.Errorf("lower case with spaces: %q", got)
	}
	if _, err := TOTPPasscode("not base32!", time.Now()); err == nil {
		t.Error("a bad secret gave a passcode")
	}
}

const carolSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

func mfaServer(t *testing.T) (*Server, *time.Time, User) {
	s := newTestServer(t)
	now := time.Date(2030, 1, 1, 12, 0, 10, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	carol := s.AddUser(User{Name: "carol", Password: "carol-pw", TOTPSecret: carolSecret, DefaultProjectID: DemoProjectID,
		ProjectRoles: map[string][]string{DemoProjectID: {"member"}}, MFARules: [][]string{{"password", "totp"}}})
	return s, &now, carol
}

func totpAuth(userID, passcode string) map[string]any {
	return map[string]any{"auth": map[string]any{"identity": map[string]any{"methods": []string{"totp"},
		"totp": map[string]any{"user": map[string]any{"id": userID, "passcode": passcode}}}}}
}

func TestMFAReceipt(t *testing.T) {
	s, now, carol := mfaServer(t)
	post := func(body any, headers ...string) result {
		return call(t, s, "POST", "/v3/auth/tokens", body, headers...)
	}

	r := post(passwordAuth("carol", DefaultDomainID, "carol-pw", nil)).want(t, http.StatusUnauthorized)
	rec := r.header.Get("Openstack-Auth-Receipt")
	if rec == "" || r.header.Get("WWW-Authenticate") != "" || has(r.body, "error") {
		t.Fatalf("receipt %q, WWW-Authenticate %q, body %s", rec, r.header.Get("WWW-Authenticate"), r.raw)
	}
	equal(t, "methods", get(r.body, "receipt", "methods"), []any{"password"})
	equal(t, "user", get(r.body, "receipt", "user"), map[string]any{"id": carol.ID, "name": "carol",
		"domain": map[string]any{"id": DefaultDomainID, "name": DefaultDomainName}})
	equal(t, "expires_at", get(r.body, "receipt", "expires_at"), "2030-01-01T12:05:10.000000Z")
	equal(t, "required", get(r.body, "required_auth_methods"), []any{[]any{"password", "totp"}})

	code, _ := TOTPPasscode(carolSecret, *now)
	r = post(totpAuth(carol.ID, code), "Openstack-Auth-Receipt", rec).want(t, http.StatusCreated)
	equal(t, "token methods", get(r.body, "token", "methods"), []any{"totp", "password"})
	equal(t, "default project", get(r.body, "token", "project", "id"), DemoProjectID)
	post(totpAuth(carol.ID, code), "Openstack-Auth-Receipt", rec).want(t, http.StatusCreated) // reusable

	// TOTP alone: a receipt asking for the password.
	r = post(totpAuth(carol.ID, code)).want(t, http.StatusUnauthorized)
	equal(t, "totp receipt", get(r.body, "receipt", "methods"), []any{"totp"})
	// A wrong passcode: a plain 401, no receipt.
	r = post(totpAuth(carol.ID, "000000"), "Openstack-Auth-Receipt", rec).wantError(t, http.StatusUnauthorized, msgUnauthorized)
	equal(t, "no new receipt", r.header.Get("Openstack-Auth-Receipt"), "")
	// Another user's receipt, an unknown one, an expired one: echoed, as Keystone does.
	post(passwordAuth(DemoUserName, DefaultDomainID, DemoPassword, nil), "Openstack-Auth-Receipt", rec).
		wantError(t, http.StatusUnauthorized, "Could not find auth receipt: "+rec+".")
	post(totpAuth(carol.ID, code), "Openstack-Auth-Receipt", "bogus").wantError(t, http.StatusUnauthorized, "Could not find auth receipt: bogus.")
	*now = now.Add(DefaultReceiptLifetime)
	code, _ = TOTPPasscode(carolSecret, *now)
	post(totpAuth(carol.ID, code), "Openstack-Auth-Receipt", rec).wantError(t, http.StatusUnauthorized, "Could not find auth receipt: "+rec+".")

	// Both methods at once.
	body := passwordAuth("carol", DefaultDomainID, "carol-pw", nil)
	id := get(body, "auth", "identity").(map[string]any)
	id["methods"] = []string{"password", "totp"}
	id["totp"] = map[string]any{"user": map[string]any{"name": "carol", "domain": map[string]string{"name": "Default"}, "passcode": code}}
	post(body).want(t, http.StatusCreated)

	s.SetReceiptLifetime(time.Minute)
	r = post(passwordAuth("carol", DefaultDomainID, "carol-pw", nil)).want(t, http.StatusUnauthorized)
	equal(t, "short receipt", get(r.body, "receipt", "expires_at"), "2030-01-01T12:06:10.000000Z")
}

func TestTOTPWindows(t *testing.T) {
	s, now, _ := mfaServer(t)
	bob := s.AddUser(User{Name: "bob", TOTPSecret: carolSecret, ProjectRoles: map[string][]string{DemoProjectID: {"reader"}}})
	current, _ := TOTPPasscode(carolSecret, *now)
	previous, _ := TOTPPasscode(carolSecret, now.Add(-30*time.Second))
	older, _ := TOTPPasscode(carolSecret, now.Add(-60*time.Second))
	next, _ := TOTPPasscode(carolSecret, now.Add(30*time.Second))
	for code, status := range map[string]int{current: 201, previous: 201, older: 401, next: 401, "": 401} {
		if r := call(t, s, "POST", "/v3/auth/tokens", totpAuth(bob.ID, code)); r.status != status {
			t.Errorf("passcode %q: %d, want %d", code, r.status, status)
		}
	}
	// A user without a TOTP secret never passes.
	call(t, s, "POST", "/v3/auth/tokens", totpAuth(DemoUserID, current)).want(t, 401)
}
