package ksauth

import "time"

// totpCode is [TOTPPasscode] for tests: it panics on a bad secret (with the
// error's text, which never holds the secret).
func totpCode(secret string, t time.Time) string {
	code, err := TOTPPasscode(secret, t)
	if err != nil {
		panic("totpCode: " + err.Error())
	}
	return code
}
