package ksauth

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

// TOTP parameters Keystone checks passcodes with (keystone/auth/plugins/totp.py).
const (
	totpDigits = 6
	totpStep   = 30 // seconds
)

// TOTPPasscode returns the RFC 6238 passcode (HMAC-SHA1, 6 digits, 30-second
// steps, as Keystone checks them) for a base32 secret as Keystone stores it
// (the blob of a "totp" credential) at time t.
//
// Like `oathtool --totp -b`, it accepts the secret in lower or upper case,
// with spaces in it, and with all, some or none of its "=" padding; the
// padding is completed and the result decoded strictly, as Keystone does
// (oathtool also takes some odd placements of "=", such as mid-string). An empty
// or non-base32 secret gives a [*ValidationError] with Field "secret" whose
// text holds no part of the secret; so does a t before 1970 (Field "t").
// Keystone itself only accepts secrets of at least 16 bytes (26 base32
// characters); shorter ones still get a passcode here, as with oathtool.
func TOTPPasscode(secret string, t time.Time) (string, error) {
	key, err := decodeTOTPSecret(secret)
	if err != nil {
		return "", err
	}
	return totpAt(key, t)
}

// TOTPSource returns a [Keystone.Passcode] function computing the current
// passcode for secret (see [TOTPPasscode] for the accepted forms). The secret
// is decoded once, here; if it is not valid base32, every call returns the
// [*ValidationError]. A call with a context already done returns its error.
func TOTPSource(secret string) func(ctx context.Context) (string, error) {
	key, keyErr := decodeTOTPSecret(secret)
	return func(ctx context.Context) (string, error) {
		if keyErr != nil {
			return "", keyErr
		}
		if err := ctx.Err(); err != nil {
			return "", err
		}
		return totpAt(key, time.Now())
	}
}

// decodeTOTPSecret decodes a base32 secret: case and spaces ignored (as by
// oathtool), padding completed then checked strictly (as by Keystone's
// base64.b32decode). Its errors never quote the secret.
func decodeTOTPSecret(secret string) ([]byte, error) {
	s := strings.ToUpper(strings.ReplaceAll(secret, " ", ""))
	if strings.TrimRight(s, "=") == "" {
		return nil, invalid("secret", "empty TOTP secret")
	}
	// A length with no whole number of bytes, or "=" anywhere but in the
	// padding, fails.
	if n := len(s) % 8; n != 0 {
		s += strings.Repeat("=", 8-n)
	}
	key, err := base32.StdEncoding.DecodeString(s)
	if err != nil || len(key) == 0 {
		// Not the decoder's error: its text is harmless today (a byte offset),
		// but this one is guaranteed to say nothing about the secret.
		return nil, invalid("secret", "TOTP secret is not base32 (RFC 4648: letters A-Z and digits 2-7)")
	}
	return key, nil
}

// totpAt is RFC 6238 with RFC 4226's dynamic truncation.
func totpAt(key []byte, t time.Time) (string, error) {
	unix := t.Unix()
	if unix < 0 {
		return "", invalid("t", "time %s is before 1970", t.UTC().Format(time.RFC3339))
	}
	var counter [8]byte
	binary.BigEndian.PutUint64(counter[:], uint64(unix/totpStep))
	mac := hmac.New(sha1.New, key)
	mac.Write(counter[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	code := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%0*d", totpDigits, code%1_000_000), nil
}
