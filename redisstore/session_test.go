package redisstore

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/ksauth/ksauth"
	"github.com/ksauth/ksauth/keystonetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lockedBuffer collects log output from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSessionsShareThroughRedis: two sessions (processes) share one login
// through the store; with Redis gone, sessions still log in, the outage is
// logged once; with Redis back, sharing resumes.
func TestSessionsShareThroughRedis(t *testing.T) {
	mr := miniredis.RunT(t)
	srv := keystonetest.NewServer()
	defer srv.Close()
	secret := bytes.Repeat([]byte{42}, 32)
	addr := mr.Addr() // kept: the restarted server listens there again
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	session := func() *ksauth.Session {
		store, err := New(newClient(t, addr), Options{Secret: secret, Timeout: 500 * time.Millisecond})
		require.NoError(t, err)
		k := &ksauth.Keystone{AuthURL: srv.AuthURL(), HTTPClient: srv.Client(),
			Credentials: ksauth.Password{UserID: keystonetest.DemoUserID, Password: keystonetest.DemoPassword}}
		return ksauth.NewSession(k, &ksauth.SessionOptions{Store: store, Logger: log})
	}
	ctx := context.Background()
	token := func(s *ksauth.Session) *ksauth.Token {
		tok, err := s.Token(ctx)
		require.NoError(t, err, "the store never makes a request fail")
		return tok
	}
	first := token(session())
	assert.Equal(t, first.ID, token(session()).ID)
	assert.Equal(t, 1, srv.Requests("POST /v3/auth/tokens"))
	keys := mr.Keys()
	require.Len(t, keys, 1)
	v, err := mr.Get(keys[0])
	require.NoError(t, err)
	assert.NotContains(t, v, first.ID, "Redis sees ciphertext only")
	assert.NotContains(t, keys[0], keystonetest.DemoUserID)

	mr.Close() // Redis down
	for range 3 {
		token(session())
	}
	assert.Equal(t, 4, srv.Requests("POST /v3/auth/tokens"))
	assert.Equal(t, 3, strings.Count(logs.String(), "token store unavailable"), "once per session (process)")

	require.NoError(t, mr.Restart()) // back (miniredis keeps its data): emptied, as a restarted Redis without persistence is
	mr.FlushAll()
	a := session()
	tok := token(a)
	assert.Equal(t, tok.ID, token(session()).ID)
	assert.Equal(t, 5, srv.Requests("POST /v3/auth/tokens"))
}
