package ksauth

// Guards found by a deliberate-bug check of the token store: each test
// here fails on a plausible bug in store.go, store_entry.go,
// session_store.go or session_stored.go that no other test noticed.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
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
