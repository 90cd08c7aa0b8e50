package ksauth

// Tests written from a deliberate-bug check of credentials_manage.go and
// ec2.go: each fails on a small change the other tests let through.

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGuardEC2CreateProjectWithoutID: a token whose project has no id is
// not project-scoped enough to pick the project.
func TestGuardEC2CreateProjectWithoutID(t *testing.T) {
	m := newKSMock(t)
	tok := &Token{ID: "gAAAAAB-placeholder-noid", User: User{ID: crAliceID}, Project: &Project{Name: "demo"},
		ExpiresAt: time.Now().Add(time.Hour)}
	_, err := m.keystone(nil, nil).CreateEC2Credential(crCtx, tok, "", "")
	recordErr(err)
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "projectID", ve.Field)
	assert.Zero(t, m.calls())
}

// TestGuardCreateWantsItsStatus: an answer other than the 201 of a
// creation is an *HTTPError, even a 200 with a credential in it.
func TestGuardCreateWantsItsStatus(t *testing.T) {
	m := newKSMock(t)
	registerSecret("s3cr3t-ec2-200")
	m.respond("POST", crEC2, httpmock.NewStringResponder(http.StatusOK,
		`{"credential": {"access": "a", "secret": "s3cr3t-ec2-200", "user_id": "`+crAliceID+`", "tenant_id": "p-1"}}`))
	tok := &Token{ID: "gAAAAAB-placeholder-ok", User: User{ID: crAliceID}, ExpiresAt: time.Now().Add(time.Hour)}
	got, err := m.keystone(nil, nil).CreateEC2Credential(crCtx, tok, "", "p-1")
	recordErr(err)
	assert.Nil(t, got)
	var he *HTTPError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, http.StatusOK, he.StatusCode)
}

// TestGuardPromptTwoFactorAbandonedReadTakesTheNextLine: a call that gives
// up while its read waits leaves that read to the next call, which gets the
// next line (no second reader racing the first for it). In a bubble: a
// line lost to the abandoned read is a deadlock, not a hang.
func TestGuardPromptTwoFactorAbandonedReadTakesTheNextLine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in, typed := io.Pipe()
		defer typed.Close()
		ask := PromptTwoFactor(in, io.Discard)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err := ask(ctx, TwoFactorChallenge{Login: "carla"}) // its read is waiting when it gives up
		require.ErrorIs(t, err, context.DeadlineExceeded)

		go func() { _, _ = io.WriteString(typed, "482139\n") }()
		code, err := ask(context.Background(), TwoFactorChallenge{Login: "carla"})
		require.NoError(t, err)
		assert.Equal(t, "482139", code)
	})
}

// TestGuardPromptTwoFactorLineOfExactlyTheBound: a line of maxPromptLine
// bytes is not "longer than 1024 bytes", whatever ends it; one more byte is.
func TestGuardPromptTwoFactorLineOfExactlyTheBound(t *testing.T) {
	exact := strings.Repeat("7", maxPromptLine)
	for _, in := range []string{exact, exact + "\n", exact + "\r\n"} {
		code, err := PromptTwoFactor(strings.NewReader(in), io.Discard)(context.Background(), TwoFactorChallenge{Login: "carla"})
		require.NoError(t, err, "%d bytes", len(in))
		assert.Equal(t, exact, code)
	}
	_, err := PromptTwoFactor(strings.NewReader(exact+"7\n"), io.Discard)(context.Background(), TwoFactorChallenge{Login: "carla"})
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Contains(t, err.Error(), "longer than 1024 bytes")
}
