package ksauth

// Tests written from a deliberate-bug check of credentials_manage.go and
// ec2.go: each fails on a small change the other tests let through.

import (
	"net/http"
	"testing"
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
