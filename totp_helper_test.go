package ksauth

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

// totpCode returns the RFC 6238 TOTP passcode (HMAC-SHA1, 6 digits, 30 s step)
// for a base32 secret (case-insensitive, padding and spaces optional) at time t,
// the way Keystone and `oathtool --totp -b SECRET` compute it. It panics on a
// secret that is not base32.
func totpCode(secret string, t time.Time) string {
	s := strings.ToUpper(strings.NewReplacer(" ", "", "=", "").Replace(secret))
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	if err != nil {
		panic(fmt.Sprintf("totpCode: secret is not base32: %v", err))
	}
	var counter [8]byte
	binary.BigEndian.PutUint64(counter[:], uint64(t.Unix()/30))
	mac := hmac.New(sha1.New, key)
	mac.Write(counter[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f // RFC 4226 dynamic truncation
	code := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", code%1_000_000)
}
