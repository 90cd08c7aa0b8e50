package ksauth

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPromptTwoFactor(t *testing.T) {
	var out bytes.Buffer
	ask := PromptTwoFactor(strings.NewReader(" 482139 \r\n77\n9911"), &out)
	ch := TwoFactorChallenge{Login: "carla", Method: "sms", Verification: fxCleuraVerification}
	for _, want := range []string{"482139", "77", "9911"} {
		code, err := ask(context.Background(), ch)
		require.NoError(t, err)
		assert.Equal(t, want, code)
	}
	_, err := ask(context.Background(), ch)
	assert.ErrorIs(t, err, io.EOF, "no more lines")
	assert.Equal(t, 4, strings.Count(out.String(), "Cleura sent an SMS code for carla. Code: "))
	assert.NotContains(t, out.String(), fxCleuraVerification)
}

// TestPromptTwoFactorGivesUpWithTheContext: a cancelled call returns at
// once; the line typed afterwards goes to the next call.
func TestPromptTwoFactorGivesUpWithTheContext(t *testing.T) {
	in, typed := io.Pipe()
	defer typed.Close()
	ask := PromptTwoFactor(in, io.Discard)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := ask(ctx, TwoFactorChallenge{Login: "carla"})
	assert.ErrorIs(t, err, context.Canceled)

	go func() { _, _ = io.WriteString(typed, "482139\n") }()
	code, err := ask(context.Background(), TwoFactorChallenge{Login: "carla"})
	require.NoError(t, err)
	assert.Equal(t, "482139", code)
}

// TestPromptTwoFactorBounded: an input without newlines (/dev/zero) is a
// *ValidationError after maxPromptLine bytes, not an endless read.
func TestPromptTwoFactorBounded(t *testing.T) {
	ask := PromptTwoFactor(io.LimitReader(zeroReader{}, 1<<30), io.Discard)
	_, err := ask(context.Background(), TwoFactorChallenge{Login: "carla", Method: "sms"})
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Contains(t, err.Error(), "longer than 1024 bytes")

	// Carriage returns are no line ending until a newline follows them.
	crs := &io.LimitedReader{R: crReader{}, N: 1 << 20}
	_, err = PromptTwoFactor(crs, io.Discard)(context.Background(), TwoFactorChallenge{Login: "carla", Method: "sms"})
	require.ErrorAs(t, err, &ve)
	assert.Contains(t, err.Error(), "longer than 1024 bytes")
	assert.Positive(t, crs.N, "read to the end of a 1 MiB line")
}

// crReader is an endless stream of carriage returns.
type crReader struct{}

func (crReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '\r'
	}
	return len(p), nil
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }
