package ksauth

import (
	"context"
	"errors"
)

// errNoStoreKeys is StoredToken's error when the store's secret cannot be
// had (the store's own error has been logged).
var errNoStoreKeys = errors.New("ksauth: token store: its secret cannot be read")

// StoredToken returns the token the session's [SessionOptions.Store] holds
// for the session's identity, without logging in and without making it
// the session's token: nil and no error when the session has no store,
// when the store has no entry for the identity, or when the entry cannot
// be used with this credential (a wrong password, a corrupted entry). The
// token may be due for refresh; it is not expired by the store's reckoning.
// A command line uses it to show or revoke the cached token.
func (s *Session) StoredToken(ctx context.Context) (*Token, error) {
	tok, _, err := s.storedValue(ctx)
	return tok, err
}

// DeleteStoredToken removes tok from the session's store if the store
// still holds it for the session's identity (compare-and-delete: never a
// newer token another process stored), and reports whether it did. A
// session without a store deletes nothing.
func (s *Session) DeleteStoredToken(ctx context.Context, tok *Token) (bool, error) {
	if tok == nil || tok.ID == "" {
		return false, nil
	}
	stored, value, err := s.storedValue(ctx)
	if err != nil || stored == nil || stored.ID != tok.ID {
		return false, err
	}
	keys := s.shared.keysFor(ctx) // derived by storedValue: no store call
	cctx, cancel := context.WithTimeout(ctx, storeCallTimeout)
	defer cancel()
	return s.shared.store.CompareAndDelete(cctx, keys.key, value)
}

// storedValue reads and opens the store's entry for the session's identity.
func (s *Session) storedValue(ctx context.Context) (*Token, []byte, error) {
	sh := s.shared
	if sh == nil {
		return nil, nil, nil
	}
	keys := sh.keysFor(ctx)
	if keys == nil {
		return nil, nil, errNoStoreKeys
	}
	cctx, cancel := context.WithTimeout(ctx, storeCallTimeout)
	value, ttl, err := sh.store.Get(cctx, keys.key)
	cancel()
	if err != nil {
		return nil, nil, err
	}
	if value == nil || ttl <= 0 {
		return nil, nil, nil
	}
	tok, err := keys.openToken(value, s.clock(), ttl)
	if err != nil {
		return nil, nil, nil // not this credential's, or corrupted: a miss
	}
	return tok, value, nil
}
