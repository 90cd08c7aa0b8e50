package ksauth

import (
	"testing"
	"time"
)

func TestTOTPCodeRFC6238Vectors(t *testing.T) {
	// RFC 6238 appendix B, SHA1, key ASCII "12345678901234567890": the 8-digit
	// values 94287082, 07081804, 89005924 end in these 6 digits.
	const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	for _, tc := range []struct {
		secret string
		unix   int64
		want   string
	}{
		{secret, 59, "287082"},
		{secret, 1111111109, "081804"},
		{secret, 1234567890, "005924"},
		{"gezdgnbvgy3tqojqgezdgnbvgy3tqojq", 59, "287082"},             // lower case
		{"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ====", 1111111109, "081804"}, // padded
		{secret, 60, totpCode(secret, time.Unix(89, 0))},               // same 30 s window
	} {
		if got := totpCode(tc.secret, time.Unix(tc.unix, 0)); got != tc.want {
			t.Errorf("totpCode(%q, %d) = %s, want %s", tc.secret, tc.unix, got, tc.want)
		}
	}
	if a, b := totpCode(secret, time.Unix(59, 0)), totpCode(secret, time.Unix(60, 0)); a == b {
		t.Errorf("codes of adjacent windows are equal: %s", a)
	}
}
