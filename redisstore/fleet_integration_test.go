//go:build integration

package redisstore

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ksauth/ksauth"
	"github.com/ksauth/ksauth/keystonetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFleetOnRealRedis (issue 11, item 7): 100 sessions, each with its own
// memory cache as separate processes have, share one real Redis over three
// lifetimes of keystonetest's 5 s tokens (renewed 0.5 s before expiry, a
// proportion of 3 min before 1 h): about one login per lifetime. Time is
// real here (Redis keeps its own clock); the bound leaves room for a slow
// machine.
func TestFleetOnRealRedis(t *testing.T) {
	startReal(t)
	srv := keystonetest.NewServer()
	defer srv.Close()
	srv.SetTokenLifetime(5 * time.Second)
	secret := make([]byte, 32)
	for i := range secret {
		secret[i] = byte(i)
	}
	const replicas, lifetimes = 100, 3
	ctx := context.Background()
	var wg sync.WaitGroup
	for range replicas {
		store, err := New(newClient(t, mainRedis.addr), Options{Secret: secret, Timeout: 5 * time.Second})
		require.NoError(t, err)
		wg.Go(func() {
			k := &ksauth.Keystone{AuthURL: srv.AuthURL(), HTTPClient: srv.Client(),
				Credentials: ksauth.Password{UserID: keystonetest.DemoUserID, Password: keystonetest.DemoPassword}}
			s := ksauth.NewSession(k, &ksauth.SessionOptions{Store: store, ExpireEarly: 500 * time.Millisecond})
			ticker := time.NewTicker(100 * time.Millisecond)
			defer ticker.Stop()
			for deadline := time.Now().Add(lifetimes * 5 * time.Second); time.Now().Before(deadline); <-ticker.C {
				tok, err := s.Token(ctx)
				if !assert.NoError(t, err) || !assert.True(t, tok.Valid(time.Now())) {
					return
				}
			}
		})
	}
	wg.Wait()
	logins := srv.Requests("POST /v3/auth/tokens")
	t.Logf("%d replicas sharing a real Redis, %d lifetimes of 5 s tokens: %d token POSTs (without the store each replica logs in at least once per lifetime: ≥ %d)",
		replicas, lifetimes, logins, replicas*lifetimes)
	assert.LessOrEqual(t, logins, 2*lifetimes, "≈ 1 login per lifetime")
}
