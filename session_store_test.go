package ksauth

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ksauth/ksauth/keystonetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// memStore is an in-memory TokenStoreLocker whose entries expire on
// time.Now (the fake clock in a synctest bubble). fail makes every call
// fail; block makes Get wait for its context.
type memStore struct {
	mu      sync.Mutex
	secret  []byte
	entries map[string]memEntry
	locks   map[string]time.Time // key → lock expiry
	fail    error
	block   bool
	calls   map[string]int
}

type memEntry struct {
	value   []byte
	expires time.Time
}

func newMemStore() *memStore {
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	return &memStore{secret: secret, entries: map[string]memEntry{}, locks: map[string]time.Time{}, calls: map[string]int{}}
}

func (m *memStore) enter(op string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls[op]++
	return m.fail
}

func (m *memStore) Get(ctx context.Context, key string) ([]byte, time.Duration, error) {
	if err := m.enter("get"); err != nil {
		return nil, 0, err
	}
	m.mu.Lock()
	block := m.block
	m.mu.Unlock()
	if block {
		<-ctx.Done()
		return nil, 0, ctx.Err()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[key]
	if !ok || !time.Now().Before(e.expires) {
		return nil, 0, nil
	}
	return bytes.Clone(e.value), time.Until(e.expires), nil
}

func (m *memStore) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := m.enter("put"); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries[key] = memEntry{bytes.Clone(value), time.Now().Add(ttl)}
	return nil
}

func (m *memStore) CompareAndDelete(ctx context.Context, key string, old []byte) (bool, error) {
	if err := m.enter("delete"); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.entries[key]; ok && bytes.Equal(e.value, old) {
		delete(m.entries, key)
		return true, nil
	}
	return false, nil
}

func (m *memStore) Secret(ctx context.Context) ([]byte, error) {
	if err := m.enter("secret"); err != nil {
		return nil, err
	}
	return m.secret, nil
}

func (m *memStore) TryLock(ctx context.Context, key string, ttl time.Duration) (func(context.Context) error, bool, error) {
	if err := m.enter("lock"); err != nil {
		return nil, false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if exp, held := m.locks[key]; held && time.Now().Before(exp) {
		return nil, false, nil
	}
	exp := time.Now().Add(ttl)
	m.locks[key] = exp
	return func(context.Context) error {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.locks[key] == exp {
			delete(m.locks, key)
		}
		return nil
	}, true, nil
}

func (m *memStore) set(f func(m *memStore)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(m)
}

func (m *memStore) count(op string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls[op]
}

// only returns the store's single entry.
func (m *memStore) only(t *testing.T) (string, []byte) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	require.Len(t, m.entries, 1)
	for k, e := range m.entries {
		return k, e.value
	}
	return "", nil
}

// plainStore is a TokenStore without a lock.
type plainStore struct{ m *memStore }

func (p plainStore) Get(ctx context.Context, key string) ([]byte, time.Duration, error) {
	return p.m.Get(ctx, key)
}
func (p plainStore) Put(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	return p.m.Put(ctx, key, v, ttl)
}
func (p plainStore) CompareAndDelete(ctx context.Context, key string, old []byte) (bool, error) {
	return p.m.CompareAndDelete(ctx, key, old)
}
func (p plainStore) Secret(ctx context.Context) ([]byte, error) { return p.m.Secret(ctx) }

// demoKeystone logs in as keystonetest's demo user, project-scoped.
func demoKeystone(srv *keystonetest.Server) *Keystone {
	return &Keystone{AuthURL: srv.AuthURL(), HTTPClient: srv.Client(), Logger: testLogger(),
		Credentials: Password{UserID: keystonetest.DemoUserID, Password: keystonetest.DemoPassword},
		Scope:       ProjectScope{ID: keystonetest.DemoProjectID}}
}

const tokenPOST = "POST /v3/auth/tokens"

// TestStoreSharesOneLogin: a second session (another process) with the
// same identity takes the first one's token from the store: one login.
func TestStoreSharesOneLogin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := keystonetest.NewInMemoryServer()
		store := newMemStore()
		ctx := context.Background()
		a := NewSession(demoKeystone(srv), &SessionOptions{Store: store, Logger: testLogger()})
		first := mustToken(t, a)
		b := NewSession(demoKeystone(srv), &SessionOptions{Store: store, Logger: testLogger()})
		second, err := b.Token(ctx)
		require.NoError(t, err)
		assert.Equal(t, first.ID, second.ID)
		assert.Equal(t, 1, srv.Requests(tokenPOST))

		// What was restored: everything a request and a lookup need.
		assert.Equal(t, first.User, second.User)
		assert.Equal(t, first.Project, second.Project)
		assert.Equal(t, first.Roles, second.Roles)
		assert.Equal(t, first.Catalog, second.Catalog)
		assert.Equal(t, first.AuditIDs, second.AuditIDs)
		assert.Equal(t, first.Methods, second.Methods)
		assert.Equal(t, first.IssuedAt, second.IssuedAt)
		assert.Equal(t, first.lifetime, second.lifetime)
		assert.Equal(t, first.authHost, second.authHost, "host trust survives the round trip")
		assert.WithinDuration(t, first.ExpiresAt, second.ExpiresAt, time.Millisecond)
		url, err := b.Endpoint(ctx, EndpointOpts{Type: "compute"})
		require.NoError(t, err)
		assert.NotEmpty(t, url)

		// A request through b's Transport carries the token to the auth host.
		req, _ := http.NewRequest(http.MethodGet, srv.AuthURL()+"/auth/projects", nil)
		resp, err := (&http.Client{Transport: &Transport{Session: b, Base: srv.Transport()}}).Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	})
}

// TestStoreEntryIsSealed: the key reveals nothing of the identity and the
// value nothing of the token; a rotated password opens no old entry.
func TestStoreEntryIsSealed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := keystonetest.NewInMemoryServer()
		store := newMemStore()
		k := demoKeystone(srv)
		tok := mustToken(t, NewSession(k, &SessionOptions{Store: store}))
		key, value := store.only(t)
		assert.Regexp(t, `^t1-[0-9a-f]{64}$`, key)
		for _, s := range []string{tok.ID, keystonetest.DemoPassword, keystonetest.DemoUserID, keystonetest.DemoProjectID, "demo", "compute"} {
			assert.NotContains(t, string(value), s)
			assert.NotContains(t, key, s)
		}
		assert.True(t, bytes.HasPrefix(value, []byte("KST1")))

		// The same identity with another password: the same key, a miss.
		other := *k
		other.Credentials = Password{UserID: keystonetest.DemoUserID, Password: "rotated"}
		ids, secrets, ok := other.storeIdentity()
		require.True(t, ok)
		keys, err := deriveStoreKeys(store.secret, ids, secrets)
		require.NoError(t, err)
		assert.Equal(t, key, keys.key)
		_, err = keys.openToken(value, time.Now(), time.Minute)
		assert.ErrorIs(t, err, errStoreEntry)

		// Another store secret: another key, and the entry does not open.
		ids, secrets, _ = k.storeIdentity()
		keys, err = deriveStoreKeys(bytes.Repeat([]byte{7}, 32), ids, secrets)
		require.NoError(t, err)
		assert.NotEqual(t, key, keys.key)
		_, err = keys.openToken(value, time.Now(), time.Minute)
		assert.ErrorIs(t, err, errStoreEntry)
	})
}

// TestStoreKeyNamesTheIdentity: the key changes with every part of the
// identity and never with a secret or a passcode.
func TestStoreKeyNamesTheIdentity(t *testing.T) {
	secret := bytes.Repeat([]byte{1}, 32)
	keyOf := func(a storable) string {
		t.Helper()
		id, secrets, ok := a.storeIdentity()
		require.True(t, ok)
		keys, err := deriveStoreKeys(secret, id, secrets)
		require.NoError(t, err)
		return keys.key
	}
	pw := Password{UserID: "u", Password: "p"}
	base := &Keystone{AuthURL: "https://k.test/v3", Credentials: pw, Scope: ProjectScope{ID: "p1"}}
	with := func(f func(k *Keystone)) *Keystone { c := *base; f(&c); return &c }
	same := []*Keystone{
		with(func(k *Keystone) { k.Credentials = Password{UserID: "u", Password: "other"} }),
		with(func(k *Keystone) { k.AuthURL = "https://k.test/v3/" }),
		with(func(k *Keystone) {
			k.Credentials = MultiFactor{pw, TOTP{UserID: "u", Passcode: "123456"}}
		}),
	}
	mfa := keyOf(same[2])
	assert.Equal(t, mfa, keyOf(with(func(k *Keystone) { k.Credentials = MultiFactor{pw, TOTP{UserID: "u", Passcode: "654321"}} })),
		"a passcode is not part of the key")
	assert.Equal(t, keyOf(base), keyOf(same[0]), "a secret is not part of the key")
	assert.Equal(t, keyOf(base), keyOf(same[1]))
	different := []*Keystone{
		with(func(k *Keystone) { k.AuthURL = "https://other.test/v3" }),
		with(func(k *Keystone) { k.Scope = ProjectScope{ID: "p2"} }),
		with(func(k *Keystone) { k.Scope = nil }),
		with(func(k *Keystone) { k.Scope = SystemScope{} }),
		with(func(k *Keystone) { k.Scope = TrustScope{ID: "t"} }),
		with(func(k *Keystone) { k.Credentials = Password{UserID: "v", Password: "p"} }),
		with(func(k *Keystone) { k.NoCatalog = true }),
		{AuthURL: "https://k.test/v3", Credentials: ApplicationCredential{ID: "ac", Secret: "s"}},
		{AuthURL: "https://k.test/v3", Credentials: ApplicationCredential{ID: "ac2", Secret: "s"}},
	}
	seen := map[string]int{keyOf(base): -1, mfa: -2}
	for i, k := range different {
		key := keyOf(k)
		_, dup := seen[key]
		assert.False(t, dup, "case %d shares a key", i)
		seen[key] = i
	}
	cl := &Cleura{Login: "carla", Password: "pw"}
	assert.Equal(t, keyOf(cl), keyOf(&Cleura{Login: "carla", Password: "changed"}))
	assert.NotEqual(t, keyOf(cl), keyOf(&Cleura{Login: "carla", Password: "pw", APIVersion: CleuraV1}))
	assert.NotEqual(t, keyOf(cl), keyOf(&Cleura{Login: "carl", Password: "pw"}))
}

// TestStoreNotUsedForUnsharableTokens: token exchange, a passcode alone, a
// receipt, a custom Authenticator: the store is never touched.
func TestStoreNotUsedForUnsharableTokens(t *testing.T) {
	for name, a := range map[string]Authenticator{
		"token exchange": &Keystone{AuthURL: "https://k.test/v3", Credentials: TokenExchange{Token: "t"}},
		"totp alone":     &Keystone{AuthURL: "https://k.test/v3", Credentials: TOTP{UserID: "u", Passcode: "123456"}},
		"receipt":        &Keystone{AuthURL: "https://k.test/v3", Credentials: Password{UserID: "u", Password: "p"}, Receipt: "r"},
		"invalid":        &Keystone{AuthURL: "https://k.test/v3"},
		"custom":         newStubAuth(time.Hour),
	} {
		t.Run(name, func(t *testing.T) {
			assert.Nil(t, NewSession(a, &SessionOptions{Store: newMemStore()}).shared)
		})
	}
}

// TestStoreUnusableEntriesAreMisses: a tampered, truncated, foreign or
// future-version entry is a miss: the session logs in and overwrites it.
func TestStoreUnusableEntriesAreMisses(t *testing.T) {
	corrupt := map[string]func(key string, v []byte, keys *storeKeys) []byte{
		"flipped bit": func(_ string, v []byte, _ *storeKeys) []byte { v[len(v)-1] ^= 1; return v },
		"truncated":   func(_ string, v []byte, _ *storeKeys) []byte { return v[:len(v)/2] },
		"too short":   func(_ string, v []byte, _ *storeKeys) []byte { return v[:3] },
		"foreign":     func(_ string, _ []byte, _ *storeKeys) []byte { return []byte(`{"token":"x"}`) },
		"empty":       func(_ string, _ []byte, _ *storeKeys) []byte { return []byte{} },
		"future version": func(_ string, _ []byte, k *storeKeys) []byte {
			return k.seal([]byte(`{"version":2,"id":"x","auth_host":"h"}`))
		},
		"not json": func(_ string, _ []byte, k *storeKeys) []byte { return k.seal([]byte(`not json`)) },
		"no token": func(_ string, _ []byte, k *storeKeys) []byte {
			return k.seal([]byte(`{"version":1,"provider":"keystone"}`))
		},
		"provider": func(_ string, _ []byte, k *storeKeys) []byte {
			return k.seal([]byte(`{"version":1,"provider":"x","id":"x","auth_host":"h"}`))
		},
		"wrong magic": func(_ string, v []byte, _ *storeKeys) []byte { copy(v, "KST9"); return v },
	}
	for name, f := range corrupt {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := keystonetest.NewInMemoryServer()
				store := newMemStore()
				mustToken(t, NewSession(demoKeystone(srv), &SessionOptions{Store: store}))
				key, value := store.only(t)
				ids, secrets, _ := demoKeystone(srv).storeIdentity()
				keys, err := deriveStoreKeys(store.secret, ids, secrets)
				require.NoError(t, err)
				bad := f(key, bytes.Clone(value), keys)
				store.set(func(m *memStore) { m.entries[key] = memEntry{bad, time.Now().Add(time.Minute)} })

				s := NewSession(demoKeystone(srv), &SessionOptions{Store: store})
				tok, err := s.Token(context.Background())
				require.NoError(t, err, "never an error for the caller")
				assert.NotEmpty(t, tok.ID)
				assert.Equal(t, 2, srv.Requests(tokenPOST), "a miss: logged in")
				_, now := store.only(t)
				assert.NotEqual(t, bad, now, "overwritten")
			})
		})
	}
}

// TestStoreExpiryOnTheStoresClock: the store's TTL is what is left minus
// the refresh window, and a reader's expiry is its now + the TTL left +
// the writer's margin, whatever the writer's clock said.
func TestStoreExpiryOnTheStoresClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := keystonetest.NewInMemoryServer()
		srv.SetTokenLifetime(time.Hour)
		store := newMemStore()
		opts := &SessionOptions{Store: store, ExpireEarly: 5 * time.Minute}
		first := mustToken(t, NewSession(demoKeystone(srv), opts))
		key, _ := store.only(t)
		store.mu.Lock()
		stored := store.entries[key].expires
		store.mu.Unlock()
		left := time.Until(first.ExpiresAt)
		assert.Equal(t, left-5*time.Minute, time.Until(stored), "TTL = left − min(ExpireEarly, left/2)")

		time.Sleep(20 * time.Minute) // fake time
		second := mustToken(t, NewSession(demoKeystone(srv), opts))
		assert.Equal(t, first.ID, second.ID)
		assert.WithinDuration(t, first.ExpiresAt, second.ExpiresAt, time.Millisecond)

		time.Sleep(36 * time.Minute) // past the store's TTL: a miss, a login
		third := mustToken(t, NewSession(demoKeystone(srv), opts))
		assert.NotEqual(t, first.ID, third.ID)
		assert.Equal(t, 2, srv.Requests(tokenPOST))
	})
}

// TestStoreShortTokensShared: a token whose window is half its lifetime
// (10 s tokens, the default 3 min ExpireEarly) is still shared.
func TestStoreShortTokensShared(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := keystonetest.NewInMemoryServer()
		srv.SetTokenLifetime(10 * time.Second)
		store := newMemStore()
		first := mustToken(t, NewSession(demoKeystone(srv), &SessionOptions{Store: store}))
		time.Sleep(2 * time.Second)
		second := mustToken(t, NewSession(demoKeystone(srv), &SessionOptions{Store: store}))
		assert.Equal(t, first.ID, second.ID)
		assert.Equal(t, 1, srv.Requests(tokenPOST))
	})
}

// TestStoreRejectedTokenRetiredOnce: a 401 anywhere retires the token
// everywhere, with one login: the first session to see it deletes the
// stored value (compare-and-delete) and stores the new token, which the
// other session takes when it sees the 401 in turn.
func TestStoreRejectedTokenRetiredOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := keystonetest.NewInMemoryServer()
		store := newMemStore()
		a := NewSession(demoKeystone(srv), &SessionOptions{Store: store})
		b := NewSession(demoKeystone(srv), &SessionOptions{Store: store})
		old := mustToken(t, a)
		require.Equal(t, old.ID, mustToken(t, b).ID)
		_, stale := store.only(t)
		time.Sleep(time.Minute) // not a young token: a genuine revocation

		require.True(t, a.Invalidate(old))
		synctest.Wait() // the compare-and-delete goroutine
		fresh := mustToken(t, a)
		assert.NotEqual(t, old.ID, fresh.ID)
		_, now := store.only(t)
		assert.NotEqual(t, stale, now)

		require.True(t, b.Invalidate(old))
		synctest.Wait()
		assert.Equal(t, fresh.ID, mustToken(t, b).ID, "b takes a's new token")
		assert.Equal(t, 2, srv.Requests(tokenPOST), "one login for the 401, in all")
		_, still := store.only(t)
		assert.Equal(t, now, still, "b's retirement did not delete a's new token")
	})
}

// TestStoreRejectedValueNotRestored: a session that invalidated a token
// does not take it back from the store, even if deleting it failed.
func TestStoreRejectedValueNotRestored(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := keystonetest.NewInMemoryServer()
		m := newMemStore()
		store := &failingDelete{m}
		a := NewSession(demoKeystone(srv), &SessionOptions{Store: store, Logger: testLogger()})
		old := mustToken(t, a)
		time.Sleep(time.Minute)
		require.True(t, a.Invalidate(old))
		synctest.Wait()
		assert.NotEqual(t, old.ID, mustToken(t, a).ID)
		assert.Equal(t, 2, srv.Requests(tokenPOST))
	})
}

type failingDelete struct{ *memStore }

func (f *failingDelete) CompareAndDelete(context.Context, string, []byte) (bool, error) {
	return false, errors.New("delete failed")
}

// TestStoreOutage: a failing store makes no request fail; the outage is
// logged at Warn once, its end at Info once.
func TestStoreOutage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := keystonetest.NewInMemoryServer()
		srv.SetTokenLifetime(10 * time.Second)
		store := newMemStore()
		store.set(func(m *memStore) { m.fail = errors.New("connection refused to 10.0.0.1:6379 password=hunter2") })
		var logs lockedBuffer
		log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
		s := NewSession(demoKeystone(srv), &SessionOptions{Store: store, Logger: log, DisableBackgroundRefresh: true})
		for range 5 { // several logins during the outage
			mustToken(t, s)
			time.Sleep(10 * time.Second)
		}
		assert.Equal(t, 5, srv.Requests(tokenPOST))
		assert.Equal(t, 1, strings.Count(logs.String(), "level=WARN"), logs.String())
		assert.Contains(t, logs.String(), "token store unavailable")

		store.set(func(m *memStore) { m.fail = nil })
		mustToken(t, s)
		assert.Equal(t, 1, strings.Count(logs.String(), "token store reachable again"), logs.String())
		_, _ = store.only(t)
	})
}

// TestStoreSlowIsBounded: a store that never answers costs a login at most
// storeCallTimeout per call, and the login still succeeds.
func TestStoreSlowIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := keystonetest.NewInMemoryServer()
		store := newMemStore()
		store.set(func(m *memStore) { m.block = true })
		s := NewSession(demoKeystone(srv), &SessionOptions{Store: store})
		start := time.Now()
		tok, err := s.Token(context.Background())
		require.NoError(t, err)
		assert.NotEmpty(t, tok.ID)
		assert.LessOrEqual(t, time.Since(start), storeCallTimeout, "one Get timed out, then the login (fake clock)")
	})
}

// TestStoreWaitsForTheLockHolder: while another process holds the lock, a
// session waits and takes the token it stores; when none comes within
// StoreWait, it logs in itself.
func TestStoreWaitsForTheLockHolder(t *testing.T) {
	t.Run("the holder stores a token", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			srv := keystonetest.NewInMemoryServer()
			store := newMemStore()
			holder := NewSession(demoKeystone(srv), &SessionOptions{Store: plainStore{store}}) // writes without locking
			waiter := NewSession(demoKeystone(srv), &SessionOptions{Store: store})
			key := holderKey(t, store, demoKeystone(srv))
			release, ok, err := store.TryLock(context.Background(), key, time.Minute)
			require.True(t, ok)
			require.NoError(t, err)

			var got *Token
			done := make(chan struct{})
			go func() { defer close(done); got = mustToken(t, waiter) }()
			time.Sleep(3 * time.Second) // the holder's login takes 3 s
			want := mustToken(t, holder)
			_ = release(context.Background())
			<-done
			assert.Equal(t, want.ID, got.ID)
			assert.Equal(t, 1, srv.Requests(tokenPOST))
		})
	})
	t.Run("the holder dies", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			srv := keystonetest.NewInMemoryServer()
			store := newMemStore()
			key := holderKey(t, store, demoKeystone(srv))
			_, ok, _ := store.TryLock(context.Background(), key, time.Hour) // never released
			require.True(t, ok)
			start := time.Now()
			s := NewSession(demoKeystone(srv), &SessionOptions{Store: store, StoreWait: 4 * time.Second})
			mustToken(t, s)
			waited := time.Since(start)
			assert.GreaterOrEqual(t, waited, 4*time.Second)
			assert.Less(t, waited, 5*time.Second)
			assert.Equal(t, 1, srv.Requests(tokenPOST))
			_, _ = store.only(t) // and stored it
		})
	})
	t.Run("the lock expires", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			srv := keystonetest.NewInMemoryServer()
			store := newMemStore()
			key := holderKey(t, store, demoKeystone(srv))
			_, ok, _ := store.TryLock(context.Background(), key, 2*time.Second)
			require.True(t, ok)
			start := time.Now()
			mustToken(t, NewSession(demoKeystone(srv), &SessionOptions{Store: store}))
			assert.Less(t, time.Since(start), 3*time.Second, "took the lock once it expired")
			assert.Equal(t, 1, srv.Requests(tokenPOST))
		})
	})
}

func holderKey(t *testing.T, store *memStore, k *Keystone) string {
	ids, secrets, ok := k.storeIdentity()
	require.True(t, ok)
	keys, err := deriveStoreKeys(store.secret, ids, secrets)
	require.NoError(t, err)
	return keys.key
}

// TestStoreConcurrentSessions: 50 sessions (processes) starting at once
// with an empty store: the lock lets one log in.
func TestStoreConcurrentSessions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := keystonetest.NewInMemoryServer()
		srv.SetLatency(200 * time.Millisecond)
		store := newMemStore()
		var wg sync.WaitGroup
		ids := make([]string, 50)
		for i := range ids {
			wg.Go(func() {
				ids[i] = mustToken(t, NewSession(demoKeystone(srv), &SessionOptions{Store: store})).ID
			})
		}
		wg.Wait()
		for _, id := range ids {
			assert.Equal(t, ids[0], id)
		}
		assert.Equal(t, 1, srv.Requests(tokenPOST))
	})
}

// TestStoreSecretRefused: a store secret shorter than 32 bytes is refused
// (logged), and the session logs in without the store.
func TestStoreSecretRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := keystonetest.NewInMemoryServer()
		store := newMemStore()
		store.secret = store.secret[:31]
		var logs lockedBuffer
		s := NewSession(demoKeystone(srv), &SessionOptions{Store: store, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		mustToken(t, s)
		assert.Contains(t, logs.String(), "fewer than 32")
		assert.Zero(t, store.count("put"))
	})
}

// TestStoreFastPathUnchanged: with a store, a cached token still costs no
// allocation and no store call.
func TestStoreFastPathUnchanged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := keystonetest.NewInMemoryServer()
		store := newMemStore()
		s := NewSession(demoKeystone(srv), &SessionOptions{Store: store})
		mustToken(t, s)
		gets := store.count("get")
		ctx := context.Background()
		allocs := testing.AllocsPerRun(100, func() { _, _ = s.Token(ctx) })
		assert.Zero(t, allocs)
		assert.Equal(t, gets, store.count("get"))
	})
}

// TestStoreCleura: Cleura's tokens round-trip too, with their headers.
func TestStoreCleura(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := keystonetest.NewInMemoryServer()
		store := newMemStore()
		cl := func() *Cleura {
			return &Cleura{BaseURL: srv.URL, Login: keystonetest.CleuraAPILogin, Password: keystonetest.CleuraAPIPassword, HTTPClient: srv.Client()}
		}
		first := mustToken(t, NewSession(cl(), &SessionOptions{Store: store}))
		second := mustToken(t, NewSession(cl(), &SessionOptions{Store: store}))
		assert.Equal(t, first.ID, second.ID)
		assert.Same(t, cleuraTokens, second.kind)
		h := http.Header{}
		second.SetHeaders(h)
		assert.Equal(t, keystonetest.CleuraAPILogin, h.Get("X-Auth-Login"))
		assert.Equal(t, 1, srv.Requests("POST /auth/v2/tokens"))
	})
}

// TestStoreSecretsNeverLogged: a failing store's error is redacted of the
// credential's secrets, and no record shows the token.
func TestStoreSecretsNeverLogged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := keystonetest.NewInMemoryServer()
		store := newMemStore()
		store.set(func(m *memStore) { m.fail = fmt.Errorf("store said: bad auth %s", keystonetest.DemoPassword) })
		var logs lockedBuffer
		s := NewSession(demoKeystone(srv), &SessionOptions{Store: store, Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
		tok := mustToken(t, s)
		store.set(func(m *memStore) { m.fail = nil })
		time.Sleep(time.Minute)
		s.Invalidate(tok)
		mustToken(t, NewSession(demoKeystone(srv), &SessionOptions{Store: store, Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}))
		assert.NotContains(t, logs.String(), keystonetest.DemoPassword)
		assert.NotContains(t, logs.String(), tok.ID)
		assert.Contains(t, logs.String(), "REDACTED")
	})
}

// TestStoreWrongSecretGetsNoToken: a session whose password is wrong does
// not get the token a session with the right one stored, though both have
// the same identity and so the same key: Keystone is asked, and refuses.
func TestStoreWrongSecretGetsNoToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := keystonetest.NewInMemoryServer()
		store := newMemStore()
		mustToken(t, NewSession(demoKeystone(srv), &SessionOptions{Store: store}))
		wrong := demoKeystone(srv)
		wrong.Credentials = Password{UserID: keystonetest.DemoUserID, Password: "not-the-password"}
		_, err := NewSession(wrong, &SessionOptions{Store: store}).Token(context.Background())
		assert.ErrorIs(t, err, ErrUnauthorized)
		assert.Equal(t, 2, srv.Requests(tokenPOST))
		_, _ = store.only(t) // the right one's entry is still there
	})
}
