package redisstore

// The behaviours every Redis must show, run on miniredis (store_test.go) and
// on a real redis-server (integration_test.go).

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testSecret is distinctive, so that a leak into an error is found.
var testSecret = []byte("test-secret:0123456789abcdef-XYZ!")

// server is a Redis under test, emptied for each test.
type server struct {
	addr string
	// forward moves the server's clock on by d (expiring keys).
	forward func(t *testing.T, d time.Duration)
}

// newClient returns a client of addr, closed when t ends.
func newClient(t *testing.T, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	return c
}

// newStore returns a Store with testSecret on a new client of addr, and a
// Timeout of 10 s unless opts has one (calls that must succeed, on a loaded
// machine).
func newStore(t *testing.T, addr string, opts Options) *Store {
	t.Helper()
	if opts.Secret == nil {
		opts.Secret = testSecret
	}
	if opts.Timeout == 0 {
		opts.Timeout = 10 * time.Second
	}
	s, err := New(newClient(t, addr), opts)
	require.NoError(t, err)
	return s
}

// requireClean fails if err shows the secret or one of the values, in any
// usual encoding.
func requireClean(t *testing.T, err error, values ...[]byte) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	for _, v := range append(values, testSecret) {
		for _, enc := range []string{
			string(v),
			hex.EncodeToString(v),
			base64.StdEncoding.EncodeToString(v),
			strings.Trim(strconv.Quote(string(v)), `"`),
			fmt.Sprint(v),
		} {
			if len(enc) >= 8 && strings.Contains(msg, enc) {
				t.Fatalf("error %q shows a value or the secret", msg)
			}
		}
	}
}

// allBytes is a value with every byte, NUL and invalid UTF-8 included.
func allBytes() []byte {
	v := make([]byte, 256)
	for i := range v {
		v[i] = byte(i)
	}
	return v
}

func runBehaviours(t *testing.T, start func(t *testing.T) server) {
	ctx := context.Background()

	t.Run("get put ttl", func(t *testing.T) {
		srv := start(t)
		s := newStore(t, srv.addr, Options{})
		v, ttl, err := s.Get(ctx, "k1")
		require.NoError(t, err)
		assert.Nil(t, v)
		assert.Zero(t, ttl)

		require.NoError(t, s.Put(ctx, "k1", []byte("entry-1"), 10*time.Second))
		v, ttl, err = s.Get(ctx, "k1")
		require.NoError(t, err)
		assert.Equal(t, []byte("entry-1"), v)
		assert.True(t, ttl > 9*time.Second && ttl <= 10*time.Second, "ttl %s", ttl)

		srv.forward(t, 4*time.Second)
		v, ttl, err = s.Get(ctx, "k1")
		require.NoError(t, err)
		assert.Equal(t, []byte("entry-1"), v)
		assert.True(t, ttl > 5*time.Second && ttl <= 6*time.Second, "ttl %s", ttl)

		srv.forward(t, 7*time.Second)
		v, ttl, err = s.Get(ctx, "k1")
		require.NoError(t, err)
		assert.Nil(t, v, "expired")
		assert.Zero(t, ttl)
	})

	t.Run("put replaces value and ttl", func(t *testing.T) {
		srv := start(t)
		s := newStore(t, srv.addr, Options{})
		require.NoError(t, s.Put(ctx, "k", []byte("old-entry"), time.Hour))
		require.NoError(t, s.Put(ctx, "k", []byte("new-entry"), 20*time.Second))
		v, ttl, err := s.Get(ctx, "k")
		require.NoError(t, err)
		assert.Equal(t, []byte("new-entry"), v)
		assert.True(t, ttl > 19*time.Second && ttl <= 20*time.Second, "ttl %s", ttl)
	})

	t.Run("binary values", func(t *testing.T) {
		srv := start(t)
		s := newStore(t, srv.addr, Options{})
		v := allBytes()
		require.NoError(t, s.Put(ctx, "bin", v, time.Minute))
		got, _, err := s.Get(ctx, "bin")
		require.NoError(t, err)
		assert.Equal(t, v, got)

		almost := append([]byte(nil), v...)
		almost[255] ^= 1
		ok, err := s.CompareAndDelete(ctx, "bin", almost)
		require.NoError(t, err)
		assert.False(t, ok, "differs in the last byte")
		ok, err = s.CompareAndDelete(ctx, "bin", v[:255])
		require.NoError(t, err)
		assert.False(t, ok, "a prefix")
		ok, err = s.CompareAndDelete(ctx, "bin", v)
		require.NoError(t, err)
		assert.True(t, ok)
	})

	t.Run("compare and delete", func(t *testing.T) {
		srv := start(t)
		s := newStore(t, srv.addr, Options{})
		ok, err := s.CompareAndDelete(ctx, "k", []byte("entry-1"))
		require.NoError(t, err)
		assert.False(t, ok, "missing")

		require.NoError(t, s.Put(ctx, "k", []byte("entry-1"), time.Minute))
		ok, err = s.CompareAndDelete(ctx, "k", []byte("entry-2"))
		require.NoError(t, err)
		assert.False(t, ok, "another value")
		v, _, _ := s.Get(ctx, "k")
		assert.Equal(t, []byte("entry-1"), v, "kept")

		ok, err = s.CompareAndDelete(ctx, "k", []byte("entry-1"))
		require.NoError(t, err)
		assert.True(t, ok)
		v, _, _ = s.Get(ctx, "k")
		assert.Nil(t, v, "deleted")

		ok, err = s.CompareAndDelete(ctx, "k", []byte("entry-1"))
		require.NoError(t, err)
		assert.False(t, ok, "already deleted")
		ok, err = s.CompareAndDelete(ctx, "k", nil)
		require.NoError(t, err)
		assert.False(t, ok, "nil old")
	})

	t.Run("compare and delete keeps a newer entry", func(t *testing.T) {
		srv := start(t)
		s := newStore(t, srv.addr, Options{})
		other := newStore(t, srv.addr, Options{}) // another process
		require.NoError(t, s.Put(ctx, "k", []byte("rejected-token"), time.Minute))
		require.NoError(t, other.Put(ctx, "k", []byte("fresh-token"), time.Minute))
		ok, err := s.CompareAndDelete(ctx, "k", []byte("rejected-token"))
		require.NoError(t, err)
		assert.False(t, ok)
		v, _, err := other.Get(ctx, "k")
		require.NoError(t, err)
		assert.Equal(t, []byte("fresh-token"), v)
	})

	t.Run("lock contention and release", func(t *testing.T) {
		srv := start(t)
		a := newStore(t, srv.addr, Options{})
		b := newStore(t, srv.addr, Options{})
		releaseA, ok, err := a.TryLock(ctx, "k", time.Minute)
		require.NoError(t, err)
		require.True(t, ok)
		require.NotNil(t, releaseA)

		rel, ok, err := b.TryLock(ctx, "k", time.Minute)
		require.NoError(t, err)
		assert.False(t, ok, "held by a")
		assert.Nil(t, rel)
		_, ok, err = a.TryLock(ctx, "k", time.Minute)
		require.NoError(t, err)
		assert.False(t, ok, "not reentrant")

		relOther, ok, err := b.TryLock(ctx, "other", time.Minute)
		require.NoError(t, err)
		assert.True(t, ok, "another key's lock")
		require.NoError(t, relOther(ctx))

		require.NoError(t, releaseA(ctx))
		releaseB, ok, err := b.TryLock(ctx, "k", time.Minute)
		require.NoError(t, err)
		require.True(t, ok, "released")

		require.NoError(t, releaseA(ctx), "a second release")
		_, ok, err = a.TryLock(ctx, "k", time.Minute)
		require.NoError(t, err)
		assert.False(t, ok, "a's second release freed b's lock")
		require.NoError(t, releaseB(ctx))
	})

	t.Run("lock expires and a late release keeps the new holder's", func(t *testing.T) {
		srv := start(t)
		a := newStore(t, srv.addr, Options{})
		b := newStore(t, srv.addr, Options{})
		releaseA, ok, err := a.TryLock(ctx, "k", 5*time.Second)
		require.NoError(t, err)
		require.True(t, ok)

		srv.forward(t, 4*time.Second)
		_, ok, err = b.TryLock(ctx, "k", 5*time.Second)
		require.NoError(t, err)
		assert.False(t, ok, "not expired yet")

		srv.forward(t, 2*time.Second) // a died holding it
		releaseB, ok, err := b.TryLock(ctx, "k", 5*time.Second)
		require.NoError(t, err)
		require.True(t, ok, "expired")

		require.NoError(t, releaseA(ctx)) // a comes back late
		_, ok, err = a.TryLock(ctx, "k", 5*time.Second)
		require.NoError(t, err)
		assert.False(t, ok, "a's late release freed b's lock")

		require.NoError(t, releaseB(ctx))
		rel, ok, err := a.TryLock(ctx, "k", 5*time.Second)
		require.NoError(t, err)
		assert.True(t, ok)
		require.NoError(t, rel(ctx))
	})

	t.Run("lock and entry are separate", func(t *testing.T) {
		srv := start(t)
		s := newStore(t, srv.addr, Options{})
		require.NoError(t, s.Put(ctx, "k", []byte("entry-1"), time.Minute))
		release, ok, err := s.TryLock(ctx, "k", time.Minute)
		require.NoError(t, err)
		require.True(t, ok, "an entry is not a lock")
		v, _, err := s.Get(ctx, "k")
		require.NoError(t, err)
		assert.Equal(t, []byte("entry-1"), v)
		ok, err = s.CompareAndDelete(ctx, "k", []byte("entry-1"))
		require.NoError(t, err)
		require.True(t, ok)
		_, ok, err = s.TryLock(ctx, "k", time.Minute)
		require.NoError(t, err)
		assert.False(t, ok, "deleting the entry freed the lock")
		require.NoError(t, release(ctx))
	})

	t.Run("prefix", func(t *testing.T) {
		srv := start(t)
		raw := newClient(t, srv.addr)
		def := newStore(t, srv.addr, Options{})
		app := newStore(t, srv.addr, Options{Prefix: "app1/"})
		require.NoError(t, def.Put(ctx, "k", []byte("default-entry"), time.Minute))
		require.NoError(t, app.Put(ctx, "k", []byte("app-entry"), time.Minute))
		_, ok, err := app.TryLock(ctx, "k", time.Minute)
		require.NoError(t, err)
		require.True(t, ok)
		keys, err := raw.Keys(ctx, "*").Result()
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{"ksauth:k", "app1/k", "app1/k:lock"}, keys)

		v, _, err := def.Get(ctx, "k")
		require.NoError(t, err)
		assert.Equal(t, []byte("default-entry"), v)
		v, _, err = app.Get(ctx, "k")
		require.NoError(t, err)
		assert.Equal(t, []byte("app-entry"), v)
		_, ok, err = def.TryLock(ctx, "k", time.Minute)
		require.NoError(t, err)
		assert.True(t, ok, "another prefix's lock")
	})

	t.Run("flushall mid-run", func(t *testing.T) {
		srv := start(t)
		raw := newClient(t, srv.addr)
		s := newStore(t, srv.addr, Options{})
		require.NoError(t, s.Put(ctx, "k", []byte("entry-1"), time.Minute))
		release, ok, err := s.TryLock(ctx, "k", time.Minute)
		require.NoError(t, err)
		require.True(t, ok)

		require.NoError(t, raw.FlushAll(ctx).Err())
		v, ttl, err := s.Get(ctx, "k")
		require.NoError(t, err)
		assert.Nil(t, v)
		assert.Zero(t, ttl)
		ok, err = s.CompareAndDelete(ctx, "k", []byte("entry-1"))
		require.NoError(t, err)
		assert.False(t, ok)
		require.NoError(t, release(ctx))
		rel, ok, err := s.TryLock(ctx, "k", time.Minute)
		require.NoError(t, err)
		assert.True(t, ok)
		require.NoError(t, rel(ctx))
		require.NoError(t, s.Put(ctx, "k", []byte("entry-2"), time.Minute))
		v, _, err = s.Get(ctx, "k")
		require.NoError(t, err)
		assert.Equal(t, []byte("entry-2"), v)
	})

	t.Run("foreign values are misses or errors", func(t *testing.T) {
		srv := start(t)
		raw := newClient(t, srv.addr)
		s := newStore(t, srv.addr, Options{})
		require.NoError(t, raw.Set(ctx, "ksauth:persistent", "no-expiry-value", 0).Err())
		v, ttl, err := s.Get(ctx, "persistent")
		require.NoError(t, err)
		assert.Nil(t, v, "a key without expiry")
		assert.Zero(t, ttl)

		require.NoError(t, raw.Set(ctx, "ksauth:empty", "", time.Minute).Err())
		v, _, err = s.Get(ctx, "empty")
		require.NoError(t, err)
		assert.Nil(t, v, "an empty value")

		require.NoError(t, raw.HSet(ctx, "ksauth:hash", "field", "hash-value-1").Err())
		_, _, err = s.Get(ctx, "hash")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "redisstore: get: ")
		assert.Contains(t, err.Error(), "WRONGTYPE")
		requireClean(t, err, []byte("hash-value-1"))
		_, err = s.CompareAndDelete(ctx, "hash", []byte("hash-value-1"))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "redisstore: compare-and-delete: ")
		requireClean(t, err, []byte("hash-value-1"))
	})

	t.Run("racing lockers", func(t *testing.T) {
		srv := start(t)
		const n = 50
		stores := make([]*Store, n)
		for i := range stores {
			stores[i] = newStore(t, srv.addr, Options{})
			// Connect first, so that the race is on the lock, not the dial.
			require.NoError(t, stores[i].client.Ping(ctx).Err())
		}
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			wins  int
			errs  []error
			start = make(chan struct{})
		)
		for _, s := range stores {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, ok, err := s.TryLock(ctx, "k", time.Minute)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
				}
				if ok {
					wins++
				}
			}()
		}
		close(start)
		wg.Wait()
		assert.Empty(t, errs)
		assert.Equal(t, 1, wins)
	})
}
