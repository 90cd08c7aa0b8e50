package ksauth

// A Session sharing its tokens through a TokenStore (SessionOptions.Store):
// read when the session has no token or its token is due, written after
// each login, a rejected token retired by compare-and-delete. The store
// never makes a request fail: when it errs, the session logs it once per
// outage and logs in as if there were none.

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"time"
)

// DefaultStoreWait is how long a Session waits, by default, for another
// process that holds the store's lock to store its token.
const DefaultStoreWait = 10 * time.Second

// storeCallTimeout bounds each store call, within the refresh's own bound.
const storeCallTimeout = 2 * time.Second

// Delays between looks at the store while another process logs in.
const (
	firstStorePoll = 25 * time.Millisecond
	maxStorePoll   = 500 * time.Millisecond
)

// sharedStore ties a Session to its TokenStore.
type sharedStore struct {
	store    TokenStore
	identity []byte
	secrets  []string
	log      *slog.Logger

	mu       sync.Mutex
	keys     *storeKeys // derived on first use
	down     bool       // an outage is being reported
	rejected []byte     // the stored value of the token last invalidated
}

// newSharedStore is the store link of a session over a, nil when a's
// tokens cannot be shared.
func newSharedStore(a Authenticator, opts *SessionOptions) *sharedStore {
	if opts == nil || opts.Store == nil || isNilPointer(opts.Store) {
		return nil
	}
	st, ok := a.(storable)
	if !ok || isNilPointer(a) {
		return nil
	}
	identity, secrets, ok := st.storeIdentity()
	if !ok {
		return nil
	}
	return &sharedStore{store: opts.Store, identity: identity, secrets: secrets, log: opts.Logger}
}

// authenticate gets the session a token: one another process stored,
// else its own login (holding the store's lock, if the store has one,
// so that the others wait for it), which it then stores.
func (sh *sharedStore) authenticate(ctx context.Context, s *Session, old *entry) (*entry, error) {
	keys := sh.keysFor(ctx)
	if keys == nil {
		return s.login(ctx)
	}
	e, release, ok := sh.await(ctx, s, keys, old)
	if e != nil {
		return e, nil
	}
	if release != nil {
		defer release()
	}
	e, err := s.login(ctx)
	if err != nil {
		return nil, err
	}
	if ok { // a store that just failed is not tried again in this login
		sh.save(ctx, s, keys, e)
	}
	return e, nil
}

// keysFor derives the identity's keys on first use (nil when the store's
// secret cannot be had: logged as an outage).
func (sh *sharedStore) keysFor(ctx context.Context) *storeKeys {
	sh.mu.Lock()
	keys := sh.keys
	sh.mu.Unlock()
	if keys != nil {
		return keys
	}
	cctx, cancel := context.WithTimeout(ctx, storeCallTimeout)
	defer cancel()
	secret, err := sh.store.Secret(cctx)
	if err == nil {
		keys, err = deriveStoreKeys(secret, sh.identity, sh.secrets)
	}
	if err != nil {
		sh.failed(ctx, "secret", err)
		return nil
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.keys == nil {
		sh.keys = keys
	}
	return sh.keys
}

// await returns a token another process stored; otherwise it returns the
// store's lock, held (release), or nothing when the store has no lock or
// waiting for its holder's token took longer than StoreWait. ok is false
// once a store call failed: the login then does without the store.
func (sh *sharedStore) await(ctx context.Context, s *Session, keys *storeKeys, old *entry) (e *entry, release func(), ok bool) {
	if e, err := sh.load(ctx, s, keys, old); e != nil || err != nil {
		return e, nil, err == nil
	}
	locker, isLocker := sh.store.(TokenStoreLocker)
	if !isLocker {
		return nil, nil, true
	}
	wait := time.NewTimer(s.opts.storeWait())
	defer wait.Stop()
	for delay := firstStorePoll; ; delay = min(2*delay, maxStorePoll) {
		release, got, err := sh.tryLock(ctx, s, locker, keys)
		switch {
		case err != nil:
			return nil, nil, false
		case got:
			e, err := sh.load(ctx, s, keys, old) // stored while we waited?
			if e != nil {
				release()
				return e, nil, true
			}
			return nil, release, err == nil
		}
		poll := time.NewTimer(delay)
		select {
		case <-poll.C:
		case <-wait.C:
			poll.Stop()
			debug(ctx, sh.log, "ksauth: gave up waiting for another process's login", slog.Duration("waited", s.opts.storeWait()))
			return nil, nil, true
		case <-ctx.Done():
			poll.Stop()
			return nil, nil, true
		}
		if e, err := sh.load(ctx, s, keys, old); e != nil || err != nil {
			return e, nil, err == nil
		}
	}
}

// tryLock takes the identity's lock for as long as a login may take.
func (sh *sharedStore) tryLock(ctx context.Context, s *Session, locker TokenStoreLocker, keys *storeKeys) (func(), bool, error) {
	cctx, cancel := context.WithTimeout(ctx, storeCallTimeout)
	defer cancel()
	release, got, err := locker.TryLock(cctx, keys.key, s.opts.refreshTimeout())
	if err != nil {
		sh.failed(ctx, "lock", err)
		return nil, false, err
	}
	sh.reachable(ctx)
	if !got {
		return nil, false, nil
	}
	// Released on a context of its own: the login's may have ended.
	return func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeCallTimeout)
		defer cancel()
		if err := release(rctx); err != nil {
			sh.failed(ctx, "unlock", err)
		}
	}, true, nil
}

// load returns the stored token when it is one this session can use: it
// opens with this credential, is fresh by this session's reckoning, and is
// neither the token being replaced nor one a server rejected. Anything
// else is a miss (nil, nil); err is the store's failure (logged).
func (sh *sharedStore) load(ctx context.Context, s *Session, keys *storeKeys, old *entry) (*entry, error) {
	cctx, cancel := context.WithTimeout(ctx, storeCallTimeout)
	value, ttl, err := sh.store.Get(cctx, keys.key)
	cancel()
	if err != nil {
		sh.failed(ctx, "get", err)
		return nil, err
	}
	sh.reachable(ctx)
	if value == nil || ttl <= 0 || sh.isRejected(value) {
		return nil, nil
	}
	now := s.clock()
	tok, err := keys.openToken(value, now, ttl)
	if err != nil {
		debug(ctx, sh.log, "ksauth: token store entry not used", slog.String("reason", err.Error()))
		return nil, nil
	}
	if old.tokenID() == tok.ID {
		return nil, nil // the token this login replaces
	}
	e, err := newEntry(tok, now, s.opts.expireEarly())
	if err != nil || e.state(now) != fresh {
		return nil, nil
	}
	e.stored = value
	debug(ctx, sh.log, "ksauth: token from the store", slog.Any("token", tok), slog.Duration("store_ttl", ttl))
	return e, nil
}

// save stores e's token until its refresh is due (the store's TTL is what
// is left minus the refresh window, min(ExpireEarly, left/2)). A token that
// never expires, or with less than a second to share, is not stored.
func (sh *sharedStore) save(ctx context.Context, s *Session, keys *storeKeys, e *entry) {
	if e.tok.ExpiresAt.IsZero() || e.tok.exchanged {
		return
	}
	now := s.clock()
	left := e.tok.ExpiresAt.Sub(now)
	ttl := left - min(s.opts.expireEarly(), left/2)
	if ttl < time.Second {
		return
	}
	value, err := keys.sealToken(e.tok, now, ttl)
	if err != nil {
		sh.failed(ctx, "seal", err)
		return
	}
	cctx, cancel := context.WithTimeout(ctx, storeCallTimeout)
	defer cancel()
	if err := sh.store.Put(cctx, keys.key, value, ttl); err != nil {
		sh.failed(ctx, "put", err)
		return
	}
	sh.reachable(ctx)
	e.stored = value
	debug(ctx, sh.log, "ksauth: token stored", slog.Any("token", e.tok), slog.Duration("store_ttl", ttl))
}

// retire removes a rejected token's value from the store, unless another
// process has replaced it already. It runs on its own goroutine: the
// session's lock is held by the caller.
func (sh *sharedStore) retire(value []byte) {
	sh.mu.Lock()
	sh.rejected = value
	keys := sh.keys
	sh.mu.Unlock()
	if keys == nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), storeCallTimeout)
		defer cancel()
		if _, err := sh.store.CompareAndDelete(ctx, keys.key, value); err != nil {
			sh.failed(ctx, "delete", err)
		}
	}()
}

func (sh *sharedStore) isRejected(value []byte) bool {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.rejected != nil && bytes.Equal(sh.rejected, value)
}

// failed logs a store failure: at Warn for the first of an outage, so an
// operator sees that logins are no longer shared, then at Debug.
func (sh *sharedStore) failed(ctx context.Context, op string, err error) {
	sh.mu.Lock()
	first := !sh.down
	sh.down = true
	sh.mu.Unlock()
	level := slog.LevelDebug
	if first {
		level = slog.LevelWarn
	}
	logAt(ctx, sh.log, level, "ksauth: token store unavailable; logging in without it",
		slog.String("op", op), slog.String("error", redact(err.Error(), sh.secrets...)))
}

// reachable ends an outage, logging it.
func (sh *sharedStore) reachable(ctx context.Context) {
	sh.mu.Lock()
	was := sh.down
	sh.down = false
	sh.mu.Unlock()
	if was {
		logAt(ctx, sh.log, slog.LevelInfo, "ksauth: token store reachable again")
	}
}
