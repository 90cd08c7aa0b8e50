package ksauth

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/ksauth/ksauth/keystonetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStoredToken: a session reads another's stored token without logging
// in and without adopting it; a wrong password or no store reads nothing.
func TestStoredToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := keystonetest.NewInMemoryServer()
		store := newMemStore()
		ctx := context.Background()

		reader := NewSession(demoKeystone(srv), &SessionOptions{Store: store})
		tok, err := reader.StoredToken(ctx)
		require.NoError(t, err)
		assert.Nil(t, tok, "empty store")

		first := mustToken(t, NewSession(demoKeystone(srv), &SessionOptions{Store: store}))
		tok, err = reader.StoredToken(ctx)
		require.NoError(t, err)
		require.NotNil(t, tok)
		assert.Equal(t, first.ID, tok.ID)
		assert.Equal(t, first.User, tok.User)
		assert.Equal(t, 1, srv.Requests(tokenPOST), "no login")
		assert.Nil(t, reader.cur.Load(), "not adopted")

		wrong := demoKeystone(srv)
		wrong.Credentials = Password{UserID: keystonetest.DemoUserID, Password: "not-the-password"}
		tok, err = NewSession(wrong, &SessionOptions{Store: store}).StoredToken(ctx)
		require.NoError(t, err)
		assert.Nil(t, tok, "another credential opens nothing")

		tok, err = NewSession(demoKeystone(srv), nil).StoredToken(ctx)
		require.NoError(t, err)
		assert.Nil(t, tok, "no store")

		store.fail = assert.AnError
		_, err = NewSession(demoKeystone(srv), &SessionOptions{Store: store}).StoredToken(ctx)
		assert.Error(t, err, "a failing store is an error, not a miss")
	})
}

// TestDeleteStoredToken removes the stored token, but never another one.
func TestDeleteStoredToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := keystonetest.NewInMemoryServer()
		store := newMemStore()
		ctx := context.Background()
		first := mustToken(t, NewSession(demoKeystone(srv), &SessionOptions{Store: store}))
		s := NewSession(demoKeystone(srv), &SessionOptions{Store: store})

		ok, err := s.DeleteStoredToken(ctx, &Token{ID: "another"})
		require.NoError(t, err)
		assert.False(t, ok, "not the stored token")

		ok, err = s.DeleteStoredToken(ctx, first)
		require.NoError(t, err)
		assert.True(t, ok)
		tok, err := s.StoredToken(ctx)
		require.NoError(t, err)
		assert.Nil(t, tok)

		ok, err = s.DeleteStoredToken(ctx, first)
		require.NoError(t, err)
		assert.False(t, ok, "already gone")
	})
}
