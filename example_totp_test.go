package ksauth_test

import (
	"fmt"
	"time"

	"github.com/ksauth/ksauth"
)

// The passcode for the RFC 6238 test key at a fixed time; in a client, set
// Keystone.Passcode to ksauth.TOTPSource(secret) instead.
func ExampleTOTPPasscode() {
	secret := "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" // the blob of a "totp" credential
	code, err := ksauth.TOTPPasscode(secret, time.Date(2005, 3, 18, 1, 58, 29, 0, time.UTC))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(code)

	_, err = ksauth.TOTPPasscode("not a secret!", time.Now())
	fmt.Println(err)
	// Output:
	// 081804
	// ksauth: invalid secret: TOTP secret is not base32 (RFC 4648: letters A-Z and digits 2-7)
}
