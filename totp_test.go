package ksauth

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rfc6238Secret is base32 of the RFC 6238 appendix B SHA1 key, ASCII "12345678901234567890".
const rfc6238Secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

// rfc6238Vectors are RFC 6238 appendix B's SHA1 rows: 8-digit values there;
// the 6-digit passcode is the same value mod 10^6.
var rfc6238Vectors = []struct {
	unix   int64
	eight  string
	passcd string
}{
	{59, "94287082", "287082"},
	{1111111109, "07081804", "081804"},
	{1111111111, "14050471", "050471"},
	{1234567890, "89005924", "005924"},
	{2000000000, "69279037", "279037"},
	{20000000000, "65353130", "353130"},
}

func TestTOTPPasscodeRFC6238Vectors(t *testing.T) {
	for _, v := range rfc6238Vectors {
		if v.eight[2:] != v.passcd {
			t.Fatalf("bad table row %+v", v)
		}
		got, err := TOTPPasscode(rfc6238Secret, time.Unix(v.unix, 0))
		if err != nil || got != v.passcd {
			t.Errorf("TOTPPasscode(RFC key, %d) = %q, %v; want %s", v.unix, got, err, v.passcd)
		}
	}
}

func TestTOTPPasscodeSecretForms(t *testing.T) {
	at := time.Unix(1111111109, 0)
	for _, s := range []string{
		rfc6238Secret,
		strings.ToLower(rfc6238Secret),
		"gezdGNBVgy3tqojqGEZDgnbvgy3tqojq",
		"GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ",   // grouped, as apps show it
		" gezd gnbv gy3t qojq gezd gnbv gy3t qojq ", // lower case, spaces
	} {
		if got, err := TOTPPasscode(s, at); err != nil || got != "081804" {
			t.Errorf("TOTPPasscode(%q) = %q, %v; want 081804", s, got, err)
		}
	}
	// A 16-byte key (Keystone's minimum) is 26 base32 chars + "======";
	// oathtool and Keystone complete missing or partial padding.
	key := []byte("0123456789abcdef")
	padded := base32.StdEncoding.EncodeToString(key)
	if !strings.HasSuffix(padded, "======") {
		t.Fatalf("test setup: %q", padded)
	}
	a, err1 := TOTPPasscode(padded, at)
	b, err2 := TOTPPasscode(strings.TrimRight(padded, "="), at)
	c, err3 := TOTPPasscode(strings.TrimSuffix(padded, "==="), at)
	if err1 != nil || err2 != nil || err3 != nil || a != b || a != c {
		t.Errorf("padded %q, %v vs unpadded %q, %v vs half-padded %q, %v", a, err1, b, err2, c, err3)
	}
}

func TestTOTPPasscodeWindows(t *testing.T) {
	code := func(unix int64) string { return totpCode(rfc6238Secret, time.Unix(unix, 0)) }
	if code(60) != code(89) {
		t.Errorf("60 s and 89 s are one 30 s window but give %s and %s", code(60), code(89))
	}
	if code(59) == code(60) {
		t.Errorf("codes of adjacent windows are equal: %s", code(59))
	}
	// Time zone and monotonic reading do not matter.
	now := time.Now()
	if a, b := totpCode(rfc6238Secret, now), totpCode(rfc6238Secret, now.In(time.FixedZone("X", 5*3600)).Round(0)); a != b {
		t.Errorf("same instant, different zone: %s vs %s", a, b)
	}
}

// badTOTPSecrets are rejected, as by Keystone's base64.b32decode (after it
// completes the padding); all but the empty ones by oathtool as well
// (oathtool takes an empty secret as an empty key).
var badTOTPSecrets = []string{
	"",
	"   ",
	"====",
	"  == ",
	"GEZDGNBVGY3TQOJ1", // 1 is not base32
	"GEZDGNBVGY3TQOJ8",
	"GEZDGNBV-Y3TQOJQ",
	"GEZDGNBVGY3TQOJQ0",                    // 0 is not base32, and 17 chars is no valid length
	"GEZDGNBVG",                            // 9 chars: no whole byte at the end
	"GEZD=GNBVGY3TQOJQ",                    // padding in the middle
	"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ====", // padding where none is due
	"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ========", // a whole block of it
	"GEZDGNBVGY3=====",                         // 11 chars, padded
	"GEZDGNBVGY3",                              // 11 chars: no whole byte at the end
	"GEZDGNBVGY3TQO",                           // 14 chars: same
	"GEZDGNBVGY3TQOJQ\t",                       // a tab is not a space
	"bm90IGJhc2UzMg==",                         // base64
	"ÄEZDGNBVGY3TQOJQ",
}

func TestTOTPPasscodeBadSecret(t *testing.T) {
	for _, s := range badTOTPSecrets {
		code, err := TOTPPasscode(s, time.Unix(59, 0))
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != "secret" || code != "" {
			t.Errorf("TOTPPasscode(%q) = %q, %#v; want a *ValidationError for secret", s, code, err)
			continue
		}
		checkNoSecretIn(t, s, err.Error())
	}
}

// checkNoSecretIn fails if text holds the secret or any 3-character piece of it
// beyond what the fixed message itself says.
func checkNoSecretIn(t *testing.T, secret, text string) {
	t.Helper()
	const msg = "ksauth: invalid secret: TOTP secret is not base32 (RFC 4648: letters A-Z and digits 2-7)"
	if text != msg && text != "ksauth: invalid secret: empty TOTP secret" {
		t.Errorf("unexpected error text %q for secret %q", text, secret)
	}
	if s := strings.TrimSpace(secret); s != "" && strings.Contains(text, s) {
		t.Errorf("error text %q contains the secret", text)
	}
}

func TestTOTPPasscodeBefore1970(t *testing.T) {
	_, err := TOTPPasscode(rfc6238Secret, time.Unix(-1, 0))
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Field != "t" || strings.Contains(err.Error(), rfc6238Secret) {
		t.Errorf("before 1970: %#v", err)
	}
}

func TestTOTPSource(t *testing.T) {
	src := TOTPSource(strings.ToLower(rfc6238Secret))
	for range 3 { // may straddle a window boundary once
		before := totpCode(rfc6238Secret, time.Now())
		got, err := src(context.Background())
		after := totpCode(rfc6238Secret, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if got == before && got == after {
			break
		}
		if got != before && got != after {
			t.Fatalf("TOTPSource() = %s, want %s or %s", got, before, after)
		}
	}

	bad := TOTPSource("not base32!")
	for range 2 {
		code, err := bad(context.Background())
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != "secret" || code != "" {
			t.Fatalf("bad secret: %q, %#v", code, err)
		}
		checkNoSecretIn(t, "not base32!", err.Error())
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := src(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

// TestTOTPPasscodeOathtool cross-checks with oathtool (skipped without it):
// the RFC key and random keys of several lengths, in the forms oathtool takes.
func TestTOTPPasscodeOathtool(t *testing.T) {
	oathtool, err := exec.LookPath("oathtool")
	if err != nil {
		t.Skip("oathtool not installed (apt-get install oathtool)")
	}
	oath := func(secret string, unix int64) string {
		t.Helper()
		out, err := exec.Command(oathtool, "--totp", "-b", "-N", "@"+strconv.FormatInt(unix, 10), secret).CombinedOutput()
		if err != nil {
			t.Fatalf("oathtool %q @%d: %v: %s", secret, unix, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	secrets := []string{rfc6238Secret, strings.ToLower(rfc6238Secret), "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ"}
	for _, n := range []int{10, 16, 20, 32, 64} {
		key := make([]byte, n)
		rand.Read(key)
		enc := base32.StdEncoding.EncodeToString(key)
		secrets = append(secrets, enc, strings.TrimRight(enc, "="))
	}
	times := []int64{59, 1111111109, 1234567890, 2000000000, time.Now().Unix()}
	for _, v := range rfc6238Vectors[:4] {
		if got := oath(rfc6238Secret, v.unix); got != v.passcd {
			t.Errorf("oathtool disagrees with RFC 6238 at %d: %s, want %s", v.unix, got, v.passcd)
		}
	}
	for _, s := range badTOTPSecrets {
		if strings.Trim(s, " =") == "" {
			continue
		}
		if out, err := exec.Command(oathtool, "--totp", "-b", "-N", "@59", s).CombinedOutput(); err == nil {
			t.Errorf("oathtool accepts %q (%s) but TOTPPasscode rejects it", s, strings.TrimSpace(string(out)))
		}
	}
	for _, s := range secrets {
		for _, unix := range times {
			want := oath(s, unix)
			if got, err := TOTPPasscode(s, time.Unix(unix, 0)); err != nil || got != want {
				t.Errorf("TOTPPasscode(%q, %d) = %q, %v; oathtool says %s", s, unix, got, err, want)
			}
		}
	}
}
