package keystonetest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Multi-factor authentication: TOTP passcodes as Keystone checks them, MFA
// rules, and the receipts of logins that need another method.

// TOTP parameters Keystone uses (keystone/auth/plugins/totp.py).
const (
	totpDigits = 6
	totpStep   = 30 * time.Second
	// totpPreviousWindows is Keystone's [totp] included_previous_windows:
	// the passcode of the step before the current one is accepted too.
	totpPreviousWindows = 1
)

// TOTPPasscode returns the RFC 6238 passcode (HMAC-SHA1, 6 digits,
// 30-second steps, as Keystone checks them) for a base32 secret at time t:
// what an authenticator app shows, and what a test sends for a user with
// a TOTPSecret. Pass the server's clock (Server.Now) when it is set.
func TOTPPasscode(secret string, t time.Time) (string, error) {
	key, err := decodeTOTPSecret(secret)
	if err != nil {
		return "", err
	}
	if t.Unix() < 0 {
		return "", errors.New("keystonetest: TOTP time before 1970")
	}
	return totpAt(key, t), nil
}

// decodeTOTPSecret decodes a base32 secret, case and spaces ignored and
// padding completed, as Keystone (and oathtool) read them. Its error does
// not quote the secret.
func decodeTOTPSecret(secret string) ([]byte, error) {
	s := strings.ToUpper(strings.ReplaceAll(secret, " ", ""))
	if n := len(s) % 8; n != 0 {
		s += strings.Repeat("=", 8-n)
	}
	key, err := base32.StdEncoding.DecodeString(s)
	if err != nil || len(key) == 0 {
		return nil, errors.New("keystonetest: the TOTP secret is not base32 (letters A-Z and digits 2-7)")
	}
	return key, nil
}

// totpAt is RFC 6238 with RFC 4226's dynamic truncation.
func totpAt(key []byte, t time.Time) string {
	var counter [8]byte
	binary.BigEndian.PutUint64(counter[:], uint64(t.Unix()/int64(totpStep/time.Second)))
	mac := hmac.New(sha1.New, key)
	mac.Write(counter[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	code := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%0*d", totpDigits, code%1_000_000)
}

// validPasscode reports whether passcode is the one for secret at now or
// in the previous step.
func validPasscode(secret, passcode string, now time.Time) bool {
	key, err := decodeTOTPSecret(secret)
	if err != nil || secret == "" {
		return false
	}
	for i := 0; i <= totpPreviousWindows; i++ {
		if hmac.Equal([]byte(totpAt(key, now.Add(-time.Duration(i)*totpStep))), []byte(passcode)) {
			return true
		}
	}
	return false
}

// mfaSatisfied reports whether the proved methods cover one of the rules
// (no rules: always).
func mfaSatisfied(rules [][]string, proved []string) bool {
	if len(rules) == 0 {
		return true
	}
	for _, rule := range rules {
		ok := true
		for _, m := range rule {
			ok = ok && slices.Contains(proved, m)
		}
		if ok {
			return true
		}
	}
	return false
}

// receipt is what a login that needed more methods proved so far. Every
// access holds Server.mu.
type receipt struct {
	id        string
	userID    string
	methods   []string
	rules     [][]string
	issuedAt  time.Time
	expiresAt time.Time
}

// newReceipt issues a receipt for what the login proved. s.mu is held.
func (s *Server) newReceipt(u *User, methods []string) *receipt {
	now := s.clock().UTC().Truncate(time.Second)
	rec := &receipt{id: newTokenID(), userID: u.ID, methods: methods, rules: u.clone().MFARules,
		issuedAt: now, expiresAt: now.Add(s.receiptLifetime)}
	s.receipts[rec.id] = rec
	return rec
}

// receiptJSON renders the body of the receipt's 401: no "error" key. s.mu
// is held.
func (s *Server) receiptJSON(rec *receipt) []byte {
	user := map[string]any{"id": rec.userID}
	if u := s.dir.user(rec.userID); u != nil {
		user = map[string]any{"id": u.ID, "name": u.Name, "domain": s.dir.domainRef(u.DomainID)}
	}
	b, err := marshal(map[string]any{
		"receipt": map[string]any{"methods": rec.methods, "user": user,
			"expires_at": formatTime(rec.expiresAt, layoutToken), "issued_at": formatTime(rec.issuedAt, layoutToken)},
		"required_auth_methods": rec.rules,
	})
	if err != nil {
		panic("keystonetest: encoding a receipt: " + err.Error())
	}
	return b
}
