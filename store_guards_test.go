package ksauth

// Guards found by a deliberate-bug check of the token store: each test
// here fails on a plausible bug in store.go, store_entry.go,
// session_store.go or session_stored.go that no other test noticed.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ksauth/ksauth/keystonetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// guardStore is a memStore whose operations ("secret", "get", "put",
// "delete", "lock") can be made to fail or to block until their context
// ends, and which counts the calls made to it (failed ones included).
// onLock, if set, runs before each TryLock is handed to the memStore.
type guardStore struct {
	*memStore
	mu     sync.Mutex
	fail   map[string]error
	block  map[string]bool
	calls  map[string]int
	onLock func()
}

func newGuardStore() *guardStore {
	return &guardStore{memStore: newMemStore(), fail: map[string]error{}, block: map[string]bool{}, calls: map[string]int{}}
}

func (g *guardStore) enter(ctx context.Context, op string) error {
	g.mu.Lock()
	g.calls[op]++
	block, err := g.block[op], g.fail[op]
	g.mu.Unlock()
	if block {
		<-ctx.Done()
		return ctx.Err()
	}
	return err
}

func (g *guardStore) count(op string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.calls[op]
}

func (g *guardStore) Get(ctx context.Context, key string) ([]byte, time.Duration, error) {
	if err := g.enter(ctx, "get"); err != nil {
		return nil, 0, err
	}
	return g.memStore.Get(ctx, key)
}

func (g *guardStore) Put(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	if err := g.enter(ctx, "put"); err != nil {
		return err
	}
	return g.memStore.Put(ctx, key, v, ttl)
}

func (g *guardStore) CompareAndDelete(ctx context.Context, key string, old []byte) (bool, error) {
	if err := g.enter(ctx, "delete"); err != nil {
		return false, err
	}
	return g.memStore.CompareAndDelete(ctx, key, old)
}

func (g *guardStore) Secret(ctx context.Context) ([]byte, error) {
	if err := g.enter(ctx, "secret"); err != nil {
		return nil, err
	}
	return g.memStore.Secret(ctx)
}

func (g *guardStore) TryLock(ctx context.Context, key string, ttl time.Duration) (func(context.Context) error, bool, error) {
	if err := g.enter(ctx, "lock"); err != nil {
		return nil, false, err
	}
	if g.onLock != nil {
		g.onLock()
	}
	return g.memStore.TryLock(ctx, key, ttl)
}

// guardKeys are the store keys of the demo user's identity under store's
// secret.
func guardKeys(t *testing.T, store *memStore, srv *keystonetest.Server) *storeKeys {
	t.Helper()
	ids, secrets, ok := demoKeystone(srv).storeIdentity()
	require.True(t, ok)
	keys, err := deriveStoreKeys(store.secret, ids, secrets)
	require.NoError(t, err)
	return keys
}

// TestStoreGuardEntryKeepsEveryField: a sealed entry restores every field
// of a token, whatever its scope: domain, system, trust, application
// credential, password expiry. The fixture sets every exported field, so a
// field added to Token and forgotten by the entry fails here.
func TestStoreGuardEntryKeepsEveryField(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := keystonetest.NewInMemoryServer()
		base := mustToken(t, NewSession(demoKeystone(srv), nil))
		tok := *base
		tok.Domain = &Domain{ID: "d1", Name: "dom"}
		tok.System = true
		tok.IsDomain = true
		tok.Trust = &Trust{ID: "tr", TrustorUserID: "u1", TrusteeUserID: "u2", Impersonation: true}
		tok.ApplicationCredential = &ApplicationCredentialRef{ID: "ac", Name: "ci", Restricted: true,
			AccessRules: []AccessRule{{ID: "r", Service: "compute", Method: "GET", Path: "/servers"}}}
		tok.User.PasswordExpiresAt = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		v := reflect.ValueOf(tok)
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				require.False(t, v.Field(i).IsZero(), "the fixture leaves %s unset", v.Type().Field(i).Name)
			}
		}
		require.NotEmpty(t, tok.authHost)
		require.NotZero(t, tok.lifetime)

		keys := guardKeys(t, newMemStore(), srv)
		now := time.Now()
		ttl := time.Until(tok.ExpiresAt) / 2
		value, err := keys.sealToken(&tok, now, ttl)
		require.NoError(t, err)
		got, err := keys.openToken(value, now, ttl)
		require.NoError(t, err)
		assert.WithinDuration(t, tok.ExpiresAt, got.ExpiresAt, time.Millisecond)
		got.ExpiresAt = tok.ExpiresAt
		assert.Equal(t, tok.User, got.User)
		assert.Equal(t, tok.Domain, got.Domain)
		assert.Equal(t, tok.Trust, got.Trust)
		assert.Equal(t, tok.ApplicationCredential, got.ApplicationCredential)
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if f.IsExported() {
				assert.Equal(t, v.Field(i).Interface(), reflect.ValueOf(*got).Field(i).Interface(), "field %s", f.Name)
			}
		}
		assert.Equal(t, tok.authHost, got.authHost)
		assert.Equal(t, tok.lifetime, got.lifetime)
	})
}

// TestStoreGuardRestoredTokenRedactsEchoedSecrets: a server that wrote the
// password into the token (a user named like it) cannot make a restored
// token print it: every way of printing the restored token redacts it, as
// it does for the token the login returned.
func TestStoreGuardRestoredTokenRedactsEchoedSecrets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := keystonetest.NewInMemoryServer()
		tok := *mustToken(t, NewSession(demoKeystone(srv), nil))
		tok.User.Name = keystonetest.DemoPassword // echoed by the server
		keys := guardKeys(t, newMemStore(), srv)
		require.Contains(t, keys.secrets, keystonetest.DemoPassword)
		now := time.Now()
		ttl := time.Until(tok.ExpiresAt) / 2
		value, err := keys.sealToken(&tok, now, ttl)
		require.NoError(t, err)
		got, err := keys.openToken(value, now, ttl)
		require.NoError(t, err)
		require.Equal(t, keystonetest.DemoPassword, got.User.Name, "the field itself is kept")

		js, err := json.Marshal(got)
		require.NoError(t, err)
		var logs bytes.Buffer
		slog.New(slog.NewJSONHandler(&logs, nil)).Info("t", slog.Any("token", got))
		for _, out := range []string{fmt.Sprintf("%v|%+v|%s|%#v", got, got, got, got), string(js), logs.String()} {
			assert.NotContains(t, out, keystonetest.DemoPassword)
		}
	})
}

// TestStoreGuardSecretsAreSeparated: the credential's secrets enter the
// sealing key each with its length, so ("ab", "c") and ("a", "bc"), the
// same identity's key, do not open each other's entries.
func TestStoreGuardSecretsAreSeparated(t *testing.T) {
	secret := bytes.Repeat([]byte{3}, 32)
	identity := []byte(`{"provider":"keystone"}`)
	ab, err := deriveStoreKeys(secret, identity, []string{"ab", "c"})
	require.NoError(t, err)
	a, err := deriveStoreKeys(secret, identity, []string{"a", "bc"})
	require.NoError(t, err)
	require.Equal(t, ab.key, a.key, "the key names the identity only")
	_, err = a.open(ab.seal([]byte(`{}`)))
	assert.ErrorIs(t, err, errStoreEntry)
	_, err = ab.open(a.seal([]byte(`{}`)))
	assert.ErrorIs(t, err, errStoreEntry)
}

// TestStoreGuardNoncesAreFresh: every sealed value has its own random
// nonce (AES-GCM must never reuse one under a key).
func TestStoreGuardNoncesAreFresh(t *testing.T) {
	keys, err := deriveStoreKeys(bytes.Repeat([]byte{5}, 32), []byte("id"), []string{"pw"})
	require.NoError(t, err)
	n := len(storeMagic) + keys.aead.NonceSize()
	seen := map[string]bool{}
	for range 8 {
		v := keys.seal([]byte(`{"same":"plaintext"}`))
		nonce := string(v[len(storeMagic):n])
		assert.NotEqual(t, string(make([]byte, keys.aead.NonceSize())), nonce, "an all-zero nonce")
		assert.False(t, seen[nonce], "a nonce used twice")
		seen[nonce] = true
	}
}

// TestStoreGuardBadEntryFieldsAreMisses: an entry that opens but is of
// another version, or lacks its token or auth host, is a miss even when
// the rest of it is a valid token: the session logs in.
func TestStoreGuardBadEntryFieldsAreMisses(t *testing.T) {
	for name, edit := range map[string]func(m map[string]any){
		"future version": func(m map[string]any) { m["version"] = 2 },
		"no version":     func(m map[string]any) { delete(m, "version") },
		"no auth host":   func(m map[string]any) { m["auth_host"] = "" },
		"no token":       func(m map[string]any) { m["id"] = "" },
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := keystonetest.NewInMemoryServer()
				store := newMemStore()
				first := mustToken(t, NewSession(demoKeystone(srv), &SessionOptions{Store: store}))
				key, value := store.only(t)
				keys := guardKeys(t, store, srv)
				plain, err := keys.open(value)
				require.NoError(t, err)
				var m map[string]any
				require.NoError(t, json.Unmarshal(plain, &m))
				edit(m)
				plain, err = json.Marshal(m)
				require.NoError(t, err)
				bad := keys.seal(plain)
				store.set(func(s *memStore) { s.entries[key] = memEntry{bad, time.Now().Add(time.Hour)} })

				got := mustToken(t, NewSession(demoKeystone(srv), &SessionOptions{Store: store}))
				assert.NotEqual(t, first.ID, got.ID)
				assert.Equal(t, 2, srv.Requests(tokenPOST), "a miss: logged in")
			})
		})
	}
}

// TestStoreGuardKeyIgnoresTheApplicationCredentialSecret: the key names an
// application credential by its id, never by its secret (a rotated secret
// keeps the key), and the secret still seals the entry.
func TestStoreGuardKeyIgnoresTheApplicationCredentialSecret(t *testing.T) {
	secret := bytes.Repeat([]byte{1}, 32)
	keysOf := func(a storable) *storeKeys {
		t.Helper()
		id, secrets, ok := a.storeIdentity()
		require.True(t, ok)
		assert.NotContains(t, string(id), "s3cr3t")
		keys, err := deriveStoreKeys(secret, id, secrets)
		require.NoError(t, err)
		return keys
	}
	one := keysOf(&Keystone{AuthURL: "https://k.test/v3", Credentials: ApplicationCredential{ID: "ac", Secret: "s3cr3t-1"}})
	two := keysOf(&Keystone{AuthURL: "https://k.test/v3", Credentials: ApplicationCredential{ID: "ac", Secret: "s3cr3t-2"}})
	assert.Equal(t, one.key, two.key)
	_, err := two.open(one.seal([]byte(`{}`)))
	assert.ErrorIs(t, err, errStoreEntry)
}

// TestStoreGuardCleuraKeyAndSealing: a Cleura key names the REST API's
// URL, and a Cleura entry opens only with the login's password.
func TestStoreGuardCleuraKeyAndSealing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		secret := bytes.Repeat([]byte{1}, 32)
		keyOf := func(c *Cleura) string {
			id, secrets, ok := c.storeIdentity()
			require.True(t, ok)
			keys, err := deriveStoreKeys(secret, id, secrets)
			require.NoError(t, err)
			return keys.key
		}
		assert.NotEqual(t, keyOf(&Cleura{Login: "carla", Password: "pw"}),
			keyOf(&Cleura{BaseURL: "https://rest.other.test", Login: "carla", Password: "pw"}))

		srv := keystonetest.NewInMemoryServer()
		store := newMemStore()
		cl := func(password string) *Cleura {
			return &Cleura{BaseURL: srv.URL, Login: keystonetest.CleuraAPILogin, Password: password, HTTPClient: srv.Client()}
		}
		mustToken(t, NewSession(cl(keystonetest.CleuraAPIPassword), &SessionOptions{Store: store}))
		_, _ = store.only(t)
		tok, err := NewSession(cl("not-the-password"), &SessionOptions{Store: store}).StoredToken(context.Background())
		require.NoError(t, err)
		assert.Nil(t, tok, "another password opens nothing")
		tok, err = NewSession(cl(keystonetest.CleuraAPIPassword), &SessionOptions{Store: store}).StoredToken(context.Background())
		require.NoError(t, err)
		assert.NotNil(t, tok, "the right one does")
	})
}

// TestStoreGuardEachCallIsBounded: a store call that never returns costs a
// login at most storeCallTimeout, whichever call it is, and StoredToken
// and DeleteStoredToken give up as soon.
func TestStoreGuardEachCallIsBounded(t *testing.T) {
	for _, op := range []string{"secret", "get", "lock", "put"} {
		t.Run(op, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := keystonetest.NewInMemoryServer()
				g := newGuardStore()
				g.block[op] = true
				s := NewSession(demoKeystone(srv), &SessionOptions{Store: g, Logger: testLogger()})
				start := time.Now()
				tok, err := s.Token(context.Background())
				require.NoError(t, err)
				assert.NotEmpty(t, tok.ID)
				assert.LessOrEqual(t, time.Since(start), storeCallTimeout, "fake clock")
				assert.Equal(t, 1, g.count(op))
			})
		})
	}
	t.Run("StoredToken", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			srv := keystonetest.NewInMemoryServer()
			g := newGuardStore()
			g.block["get"] = true
			start := time.Now()
			_, err := NewSession(demoKeystone(srv), &SessionOptions{Store: g}).StoredToken(context.Background())
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.LessOrEqual(t, time.Since(start), storeCallTimeout)
		})
	})
	t.Run("DeleteStoredToken", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			srv := keystonetest.NewInMemoryServer()
			g := newGuardStore()
			tok := mustToken(t, NewSession(demoKeystone(srv), &SessionOptions{Store: g}))
			g.block["delete"] = true
			start := time.Now()
			ok, err := NewSession(demoKeystone(srv), &SessionOptions{Store: g}).DeleteStoredToken(context.Background(), tok)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.False(t, ok)
			assert.LessOrEqual(t, time.Since(start), storeCallTimeout)
		})
	})
}

// TestStoreGuardFailedCallEndsTheStoreForTheLogin: whichever store call
// fails, the request succeeds, the failure is logged at Warn naming the
// call, and the login does not go on using the store (no lock or write
// after a failed read, no write after a failed lock).
func TestStoreGuardFailedCallEndsTheStoreForTheLogin(t *testing.T) {
	for _, c := range []struct {
		op          string
		locks, puts int
	}{
		{"secret", 0, 0},
		{"get", 0, 0},
		{"lock", 1, 0},
		{"put", 1, 1},
	} {
		t.Run(c.op, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := keystonetest.NewInMemoryServer()
				g := newGuardStore()
				g.fail[c.op] = errors.New("store down")
				var logs lockedBuffer
				log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
				tok, err := NewSession(demoKeystone(srv), &SessionOptions{Store: g, Logger: log}).Token(context.Background())
				require.NoError(t, err)
				assert.NotEmpty(t, tok.ID)
				assert.Equal(t, 1, strings.Count(logs.String(), "level=WARN"), logs.String())
				assert.Contains(t, logs.String(), "op="+c.op)
				assert.Equal(t, c.locks, g.count("lock"), "locks")
				assert.Equal(t, c.puts, g.count("put"), "puts")
			})
		})
	}
}

// TestStoreGuardTokenStoredWhileTakingTheLock: a token another process
// stored just before this one got the lock is taken (no login), and the
// lock is given back.
func TestStoreGuardTokenStoredWhileTakingTheLock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := keystonetest.NewInMemoryServer()
		g := newGuardStore()
		other := mustToken(t, NewSession(demoKeystone(srv), &SessionOptions{Store: plainStore{g.memStore}}))
		key, value := g.only(t)
		g.set(func(m *memStore) { delete(m.entries, key) })
		var once sync.Once
		g.onLock = func() { // the other process stores its token now
			once.Do(func() {
				g.set(func(m *memStore) { m.entries[key] = memEntry{value, time.Now().Add(time.Hour)} })
			})
		}
		got := mustToken(t, NewSession(demoKeystone(srv), &SessionOptions{Store: g}))
		assert.Equal(t, other.ID, got.ID)
		assert.Equal(t, 1, srv.Requests(tokenPOST), "no login of its own")
		_, ok, err := g.memStore.TryLock(context.Background(), key, time.Minute)
		require.NoError(t, err)
		assert.True(t, ok, "the lock was released")
	})
}

// TestStoreGuardLoginReleasesTheLock: after a login under the store's
// lock, the lock is free for the next process at once.
func TestStoreGuardLoginReleasesTheLock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := keystonetest.NewInMemoryServer()
		store := newMemStore()
		mustToken(t, NewSession(demoKeystone(srv), &SessionOptions{Store: store}))
		require.Equal(t, 1, store.count("lock"))
		_, ok, err := store.TryLock(context.Background(), holderKey(t, store, demoKeystone(srv)), time.Minute)
		require.NoError(t, err)
		assert.True(t, ok)
	})
}

// TestStoreGuardWaiterTakesTheTokenBeforeTheLockIsFree: a waiter takes the
// token the lock's holder stored as soon as it is there, not only once the
// holder releases the lock (a holder that stored its token and then hangs
// or dies costs no second login).
func TestStoreGuardWaiterTakesTheTokenBeforeTheLockIsFree(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := keystonetest.NewInMemoryServer()
		store := newMemStore()
		_, ok, err := store.TryLock(context.Background(), holderKey(t, store, demoKeystone(srv)), time.Hour) // never released
		require.NoError(t, err)
		require.True(t, ok)
		waiter := NewSession(demoKeystone(srv), &SessionOptions{Store: store, StoreWait: 10 * time.Second})
		var got *Token
		done := make(chan struct{})
		start := time.Now()
		go func() { defer close(done); got = mustToken(t, waiter) }()
		time.Sleep(time.Second)
		want := mustToken(t, NewSession(demoKeystone(srv), &SessionOptions{Store: plainStore{store}}))
		<-done
		assert.Equal(t, want.ID, got.ID)
		assert.Equal(t, 1, srv.Requests(tokenPOST))
		assert.Less(t, time.Since(start), 2*time.Second)
	})
}

// TestStoreGuardShortTokenNotStored: a token with less than a second to
// share (its TTL in the store) is not written.
func TestStoreGuardShortTokenNotStored(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := keystonetest.NewInMemoryServer()
		srv.SetTokenLifetime(1800 * time.Millisecond)
		store := newMemStore()
		tok := mustToken(t, NewSession(demoKeystone(srv), &SessionOptions{Store: store}))
		require.Less(t, time.Until(tok.ExpiresAt), 2*time.Second)
		assert.Zero(t, store.count("put"))
	})
}

// TestStoreGuardRejectedTokenLeavesTheStore: once a session invalidates a
// token, the store no longer holds it, so no other process starting then
// is handed a token a server rejected.
func TestStoreGuardRejectedTokenLeavesTheStore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := keystonetest.NewInMemoryServer()
		store := newMemStore()
		a := NewSession(demoKeystone(srv), &SessionOptions{Store: store})
		old := mustToken(t, a)
		time.Sleep(time.Minute)
		require.True(t, a.Invalidate(old))
		synctest.Wait()
		tok, err := NewSession(demoKeystone(srv), &SessionOptions{Store: store}).StoredToken(context.Background())
		require.NoError(t, err)
		assert.Nil(t, tok, "the rejected token was retired")
		got := mustToken(t, NewSession(demoKeystone(srv), &SessionOptions{Store: store}))
		assert.NotEqual(t, old.ID, got.ID)
	})
}

// TestStoreGuardInvalidateDoesNotWaitForTheStore: retiring a rejected
// token in the store happens in the background: a store that hangs does
// not hold up Invalidate (whose caller holds the session).
func TestStoreGuardInvalidateDoesNotWaitForTheStore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := keystonetest.NewInMemoryServer()
		g := newGuardStore()
		a := NewSession(demoKeystone(srv), &SessionOptions{Store: g, Logger: testLogger()})
		old := mustToken(t, a)
		time.Sleep(time.Minute)
		g.block["delete"] = true
		start := time.Now()
		require.True(t, a.Invalidate(old))
		assert.Zero(t, time.Since(start), "fake clock: no wait")
		synctest.Wait()
		assert.Equal(t, 1, g.count("delete"))
		time.Sleep(storeCallTimeout) // the retirement gives up
		synctest.Wait()
	})
}

// TestStoreGuardTypedNilStoreIsNoStore: a nil *FileStore in
// SessionOptions.Store is no store, not a panic.
func TestStoreGuardTypedNilStoreIsNoStore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := keystonetest.NewInMemoryServer()
		var fs *FileStore
		s := NewSession(demoKeystone(srv), &SessionOptions{Store: fs})
		tok, err := s.Token(context.Background())
		require.NoError(t, err)
		assert.NotEmpty(t, tok.ID)
		stored, err := s.StoredToken(context.Background())
		require.NoError(t, err)
		assert.Nil(t, stored)
	})
}

// TestStoreGuardStoredTokenErrors: StoredToken reports a store that cannot
// be read (its secret readable, its Get failing) as an error, not a miss;
// DeleteStoredToken of no token deletes nothing and calls no store.
func TestStoreGuardStoredTokenErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := keystonetest.NewInMemoryServer()
		g := newGuardStore()
		g.fail["get"] = errors.New("store down")
		s := NewSession(demoKeystone(srv), &SessionOptions{Store: g})
		_, err := s.StoredToken(context.Background())
		assert.ErrorContains(t, err, "store down")

		for _, tok := range []*Token{nil, {}} {
			ok, err := s.DeleteStoredToken(context.Background(), tok)
			assert.NoError(t, err)
			assert.False(t, ok)
		}
		assert.Zero(t, g.count("delete"))
	})
}

// TestStoreGuardRefreshDoesNotTakeBackTheSameToken: a session whose token
// (taken from the store) is due refreshes it with a new login, even though
// the store, written by a session with a smaller ExpireEarly, still holds
// that same token.
func TestStoreGuardRefreshDoesNotTakeBackTheSameToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := keystonetest.NewInMemoryServer()
		srv.SetTokenLifetime(time.Hour)
		store := newMemStore()
		first := mustToken(t, NewSession(demoKeystone(srv), &SessionOptions{Store: store, ExpireEarly: time.Minute}))
		b := NewSession(demoKeystone(srv), &SessionOptions{Store: store, ExpireEarly: 30 * time.Minute, DisableBackgroundRefresh: true})
		require.Equal(t, first.ID, mustToken(t, b).ID)
		time.Sleep(35 * time.Minute) // due for b; still in the store (59 min)
		mustToken(t, b)
		synctest.Wait()
		got := mustToken(t, b)
		assert.NotEqual(t, first.ID, got.ID, "refreshed")
		assert.Equal(t, 2, srv.Requests(tokenPOST))
	})
}

// TestStoreGuardOutageEndsOnARead: a store outage ends (logged at Info)
// with the first call that works, even when that is a read that finds a
// token and so needs no lock and no write.
func TestStoreGuardOutageEndsOnARead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := keystonetest.NewInMemoryServer()
		srv.SetTokenLifetime(10 * time.Second)
		g := newGuardStore()
		var logs lockedBuffer
		log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
		s := NewSession(demoKeystone(srv), &SessionOptions{Store: g, Logger: log, DisableBackgroundRefresh: true})
		g.fail["get"] = errors.New("store down")
		mustToken(t, s)
		require.Equal(t, 1, strings.Count(logs.String(), "level=WARN"), logs.String())

		g.mu.Lock()
		delete(g.fail, "get")
		g.mu.Unlock()
		time.Sleep(10 * time.Second) // s's token has expired
		other := mustToken(t, NewSession(demoKeystone(srv), &SessionOptions{Store: plainStore{g.memStore}}))
		locks, puts := g.count("lock"), g.count("put")
		assert.Equal(t, other.ID, mustToken(t, s).ID, "from the store")
		assert.Equal(t, locks, g.count("lock"))
		assert.Equal(t, puts, g.count("put"))
		assert.Equal(t, 1, strings.Count(logs.String(), "token store reachable again"), logs.String())
	})
}

// TestStoreGuardWaitEndsWithTheRefresh: waiting for another process's
// login ends when the refresh's own bound (RefreshTimeout) does, even if
// StoreWait is longer.
func TestStoreGuardWaitEndsWithTheRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := keystonetest.NewInMemoryServer()
		store := newMemStore()
		_, ok, err := store.TryLock(context.Background(), holderKey(t, store, demoKeystone(srv)), time.Hour) // never released
		require.NoError(t, err)
		require.True(t, ok)
		s := NewSession(demoKeystone(srv), &SessionOptions{Store: store, StoreWait: time.Hour, RefreshTimeout: 5 * time.Second})
		start := time.Now()
		_, _ = s.Token(context.Background())
		assert.LessOrEqual(t, time.Since(start), 5*time.Second)
	})
}

// TestStoreGuardFileStoreWritersTakeTheWriteLock: while another process
// holds a key's write lock (mid Put or CompareAndDelete), a Put and a
// CompareAndDelete of that key wait for it: given up when their context
// ends, they leave the old value and no temporary file behind, and the
// lock free once its holder gives it back.
func TestStoreGuardFileStoreWritersTakeTheWriteLock(t *testing.T) {
	s := newTestFileStore(t)
	other, err := NewFileStore(s.Dir())
	require.NoError(t, err)
	ctx := t.Context()
	require.NoError(t, s.Put(ctx, "k", []byte("old"), time.Hour))
	unlock, err := other.writeLock(ctx, "k")
	require.NoError(t, err)

	// A deadline, not a cancel: the calls must get as far as the lock. Both
	// outcomes are certain: the lock is held throughout.
	put, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, s.Put(put, "k", []byte("new"), time.Hour), context.DeadlineExceeded)
	cad, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	ok, err := s.CompareAndDelete(cad, "k", []byte("old"))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.False(t, ok)
	unlock()

	assert.Empty(t, tempFiles(t, s.Dir()))
	v, _, err := s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, []byte("old"), v)
	// The abandoned waits do not keep the lock once they get it (a bug
	// here hangs this Put).
	require.NoError(t, s.Put(ctx, "k", []byte("new"), time.Hour))
	_, err = s.CompareAndDelete(ctx, "k", []byte("new"))
	require.NoError(t, err)
}

// TestStoreGuardFileStoreRefusesOtherPunctuation: a key is [a-z0-9-]
// only: no other punctuation either.
func TestStoreGuardFileStoreRefusesOtherPunctuation(t *testing.T) {
	s := newTestFileStore(t)
	for _, key := range []string{"a_b", "a~", "a+b", "a:b", "a=b", "a%2f", "a*", "a@b", "[", "`", "{"} {
		err := s.Put(t.Context(), key, []byte("v"), time.Hour)
		requireFileStoreError(t, err, s.Dir(), "invalid key")
	}
	entries, err := os.ReadDir(s.Dir())
	require.NoError(t, err)
	assert.Empty(t, entries)
}

// TestStoreGuardFileStoreLongestTTL: a ttl too long to add to now keeps
// the entry, and lists it, with an expiry that saturates rather than
// wrapping into the past.
func TestStoreGuardFileStoreLongestTTL(t *testing.T) {
	s := newTestFileStore(t)
	require.NoError(t, s.Put(t.Context(), "k", []byte("v"), time.Duration(math.MaxInt64)))
	v, ttl, err := s.Get(t.Context(), "k")
	require.NoError(t, err)
	assert.Equal(t, []byte("v"), v)
	assert.Greater(t, ttl, 100*365*24*time.Hour)
	entries, err := s.Entries(t.Context())
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.True(t, entries[0].Expires.After(time.Now().Add(100*365*24*time.Hour)), "expires %v", entries[0].Expires)
}

// TestStoreGuardFileStoreOversizedEntryIsAMiss: a well-formed entry (right
// length, right checksum) whose value is larger than 4 MiB, written by
// something other than Put, is a miss.
func TestStoreGuardFileStoreOversizedEntryIsAMiss(t *testing.T) {
	s := newTestFileStore(t)
	big := bytes.Repeat([]byte{'x'}, fileStoreMaxValue+1)
	writeEntryFile(t, s.Dir(), "big", encodeFileEntry(big, time.Now().Add(time.Hour).UnixNano()))
	v, ttl, err := s.Get(t.Context(), "big")
	require.NoError(t, err)
	assert.Nil(t, v)
	assert.Zero(t, ttl)
	ok, err := s.CompareAndDelete(t.Context(), "big", big)
	require.NoError(t, err)
	assert.False(t, ok)
}

// TestStoreGuardFileStoreEntriesAreFiles: Entries lists data files only,
// not a directory that happens to be named like a key.
func TestStoreGuardFileStoreEntriesAreFiles(t *testing.T) {
	s := newTestFileStore(t)
	require.NoError(t, s.Put(t.Context(), "k", []byte("v"), time.Hour))
	require.NoError(t, os.Mkdir(filepath.Join(s.Dir(), "adir"), 0o700))
	entries, err := s.Entries(t.Context())
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, "k", entries[0].Key)
}

// TestStoreGuardFileStoreListingHonoursContext: Entries and Purge refuse a
// done context, and Purge then removes nothing.
func TestStoreGuardFileStoreListingHonoursContext(t *testing.T) {
	s := newTestFileStore(t)
	require.NoError(t, s.Put(t.Context(), "k", []byte("v"), time.Hour))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.Entries(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	n, err := s.Purge(ctx, true)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, n)
	v, _, err := s.Get(t.Context(), "k")
	require.NoError(t, err)
	assert.Equal(t, []byte("v"), v)
}

// TestStoreGuardFileStoreEntriesShowNoExpiryForBadFiles: a data file whose
// header does not match its length (truncated) is listed with a zero
// Expires, as it is a miss for Get.
func TestStoreGuardFileStoreEntriesShowNoExpiryForBadFiles(t *testing.T) {
	s := newTestFileStore(t)
	good := encodeFileEntry([]byte("the value"), time.Now().Add(time.Hour).UnixNano())
	writeEntryFile(t, s.Dir(), "cut", good[:len(good)-1])
	writeEntryFile(t, s.Dir(), "good", good)
	entries, err := s.Entries(t.Context())
	require.NoError(t, err)
	require.Len(t, entries, 2)
	assert.Equal(t, "cut", entries[0].Key)
	assert.True(t, entries[0].Expires.IsZero(), "a truncated file has no expiry")
	assert.False(t, entries[1].Expires.IsZero())
}

// TestStoreGuardFileStorePurgeReportsWhatItCannotRemove: an entry Purge
// cannot remove (here a non-empty directory named like a key) is an error
// naming it, and is not counted as removed.
func TestStoreGuardFileStorePurgeReportsWhatItCannotRemove(t *testing.T) {
	s := newTestFileStore(t)
	require.NoError(t, s.Put(t.Context(), "k", []byte("v"), time.Hour))
	stuck := filepath.Join(s.Dir(), "stuck")
	require.NoError(t, os.Mkdir(stuck, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(stuck, "inside"), nil, 0o600))
	n, err := s.Purge(t.Context(), false)
	assert.Equal(t, 1, n)
	requireFileStoreError(t, err, stuck, "cannot remove")
}
