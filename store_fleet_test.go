package ksauth

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ksauth/ksauth/keystonetest"
	"github.com/stretchr/testify/assert"
)

// fleetLogins runs replicas sessions (separate memory caches, as separate
// processes have) asking for a token every 100 ms across three 10 s token
// lifetimes, sharing store (nil: none), and returns the token POSTs. Each
// renews its token expireEarly before it expires (with 10 s tokens the
// default 3 min is capped at half the lifetime, a renewal every ~4.5 s;
// 2 s is the proportion of a real cloud's 3 min before 1 h).
func fleetLogins(t *testing.T, replicas int, expireEarly time.Duration, store func() TokenStore) (logins int) {
	synctest.Test(t, func(t *testing.T) {
		srv := keystonetest.NewInMemoryServer()
		srv.SetTokenLifetime(10 * time.Second)
		srv.SetLatency(50 * time.Millisecond)
		var shared TokenStore
		if store != nil {
			shared = store()
		}
		ctx := context.Background()
		var wg sync.WaitGroup
		for range replicas {
			wg.Go(func() {
				s := NewSession(demoKeystone(srv), &SessionOptions{Store: shared, ExpireEarly: expireEarly})
				for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
					tok, err := s.Token(ctx)
					if !assert.NoError(t, err) || !assert.True(t, tok.Valid(time.Now())) {
						return
					}
					time.Sleep(100 * time.Millisecond)
				}
			})
		}
		wg.Wait()
		logins = srv.Requests(tokenPOST)
	})
	return logins
}

// TestFleetSharesOneTokenPerLifetime (issue 11, item 7): 100 replicas
// sharing a store log in about once per token lifetime; without it, each
// logs in itself.
func TestFleetSharesOneTokenPerLifetime(t *testing.T) {
	const replicas, lifetimes = 100, 3
	store := func() TokenStore { return newMemStore() }
	without := fleetLogins(t, replicas, 2*time.Second, nil)
	with := fleetLogins(t, replicas, 2*time.Second, store)
	t.Logf("100 replicas, 3 lifetimes of 10 s, renewal 2 s before expiry: %d token POSTs with a shared store, %d without", with, without)
	assert.LessOrEqual(t, with, 2*lifetimes, "≈ 1 login per lifetime (≤ 2)")
	assert.GreaterOrEqual(t, without, replicas*lifetimes)

	// The default window, half of a 10 s lifetime: one login per renewal
	// for the whole fleet, instead of one per replica.
	without = fleetLogins(t, replicas, 0, nil)
	with = fleetLogins(t, replicas, 0, store)
	t.Logf("the same with the default ExpireEarly (renewal at half the lifetime): %d with, %d without", with, without)
	assert.LessOrEqual(t, with*replicas/2, without, "at least 50× fewer logins")
}

// TestFileStoreSequentialProcesses (issue 11, item 7): 20 runs of a CLI
// one after another (each a fresh Session over a fresh FileStore on the
// same directory, as separate processes are) log in once.
func TestFileStoreSequentialProcesses(t *testing.T) {
	srv := keystonetest.NewServer()
	defer srv.Close()
	dir := t.TempDir() + "/cache"
	var first string
	for i := range 20 {
		store, err := NewFileStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		tok := mustToken(t, NewSession(demoKeystone(srv), &SessionOptions{Store: store, Logger: testLogger()}))
		if i == 0 {
			first = tok.ID
		}
		assert.Equal(t, first, tok.ID, "run %d", i)
	}
	t.Logf("20 sequential processes sharing a FileStore: %d token POST(s)", srv.Requests(tokenPOST))
	assert.Equal(t, 1, srv.Requests(tokenPOST))
}
