package redisstore

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func startMiniredis(t *testing.T) server {
	mr := miniredis.RunT(t)
	return server{
		addr:    mr.Addr(),
		forward: func(_ *testing.T, d time.Duration) { mr.FastForward(d) },
	}
}

func TestBehavioursMiniredis(t *testing.T) {
	runBehaviours(t, startMiniredis)
}

func TestNewOptions(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer client.Close()

	_, err := New(nil, Options{Secret: testSecret})
	assert.ErrorContains(t, err, "nil client")

	for _, secret := range [][]byte{nil, {}, []byte(strings.Repeat("s", MinSecret-1))} {
		_, err := New(client, Options{Secret: secret})
		var se *SecretError
		require.ErrorAs(t, err, &se, "%d bytes", len(secret))
		assert.Equal(t, len(secret), se.Len)
		assert.Contains(t, err.Error(), "Options.Secret")
		requireClean(t, err, secret)
	}

	_, err = New(client, Options{Secret: testSecret, Timeout: -time.Second})
	assert.ErrorContains(t, err, "negative Options.Timeout")

	s, err := New(client, Options{Secret: testSecret[:MinSecret]})
	require.NoError(t, err)
	assert.Equal(t, DefaultPrefix, s.prefix)
	assert.Equal(t, "ksauth:", s.prefix)
	assert.Equal(t, DefaultTimeout, s.timeout)
	assert.Equal(t, 500*time.Millisecond, s.timeout)

	s, err = New(client, Options{Secret: testSecret, Prefix: "p:", Timeout: time.Second})
	require.NoError(t, err)
	assert.Equal(t, "p:", s.prefix)
	assert.Equal(t, time.Second, s.timeout)
}

func TestSecretIsACopy(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer client.Close()
	secret := append([]byte(nil), testSecret...)
	s, err := New(client, Options{Secret: secret})
	require.NoError(t, err)
	secret[0] ^= 0xff // the caller reuses its buffer

	got, err := s.Secret(context.Background())
	require.NoError(t, err)
	assert.Equal(t, testSecret, got)
	got[1] ^= 0xff // the Session scribbles on it
	again, err := s.Secret(context.Background())
	require.NoError(t, err)
	assert.Equal(t, testSecret, again)
}

func TestBadArguments(t *testing.T) {
	ctx := context.Background()
	mr := miniredis.RunT(t)
	s := newStore(t, mr.Addr(), Options{})
	for _, key := range []string{"", "K", "a:b", "a b", "a_b", "a/b", "é", "a\x00"} {
		_, _, err := s.Get(ctx, key)
		assert.ErrorContains(t, err, "redisstore: get: ", "%q", key)
		assert.ErrorContains(t, s.Put(ctx, key, []byte("v"), time.Minute), "redisstore: put: ", "%q", key)
		_, err = s.CompareAndDelete(ctx, key, []byte("v"))
		assert.ErrorContains(t, err, "redisstore: compare-and-delete: ", "%q", key)
		_, _, err = s.TryLock(ctx, key, time.Minute)
		assert.ErrorContains(t, err, "redisstore: lock: ", "%q", key)
		if len(key) > 1 {
			assert.NotContains(t, err.Error(), key)
		}
	}
	assert.ErrorContains(t, s.Put(ctx, "k", []byte("v"), 0), "not positive")
	assert.ErrorContains(t, s.Put(ctx, "k", []byte("v"), -time.Second), "not positive")
	assert.ErrorContains(t, s.Put(ctx, "k", nil, time.Minute), "empty value")
	_, _, err := s.TryLock(ctx, "k", 0)
	assert.ErrorContains(t, err, "not positive")
	assert.Empty(t, mr.Keys())

	ok, err := s.CompareAndDelete(ctx, "abc-019", []byte("v"))
	require.NoError(t, err, "every allowed character")
	assert.False(t, ok)
}

func TestTTLRoundsUpToAMillisecond(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Nanosecond:         "1",
		time.Millisecond:        "1",
		1500 * time.Microsecond: "2",
		10 * time.Second:        "10000",
	} {
		assert.Equal(t, want, millis(d), "%s", d)
	}
	ctx := context.Background()
	mr := miniredis.RunT(t)
	s := newStore(t, mr.Addr(), Options{})
	require.NoError(t, s.Put(ctx, "k", []byte("v"), time.Nanosecond))
	assert.Equal(t, time.Millisecond, mr.TTL("ksauth:k"))
	_, ok, err := s.TryLock(ctx, "k", 2500*time.Microsecond)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, 3*time.Millisecond, mr.TTL("ksauth:k:lock"))
}

// allOps runs every call of s that reaches Redis and returns their errors.
func allOps(t *testing.T, s *Store) []error {
	ctx := context.Background()
	_, _, errGet := s.Get(ctx, "k")
	errPut := s.Put(ctx, "k", []byte("put-value-123"), time.Minute)
	_, errCAD := s.CompareAndDelete(ctx, "k", []byte("cad-value-123"))
	_, _, errLock := s.TryLock(ctx, "k", time.Minute)
	errs := []error{errGet, errPut, errCAD, errLock}
	for i, op := range []string{"get", "put", "compare-and-delete", "lock"} {
		require.Error(t, errs[i], op)
		assert.True(t, strings.HasPrefix(errs[i].Error(), "redisstore: "+op+": "), "%v", errs[i])
		requireClean(t, errs[i], []byte("put-value-123"), []byte("cad-value-123"))
	}
	return errs
}

func TestRedisDown(t *testing.T) {
	ctx := context.Background()
	mr := miniredis.RunT(t)
	s := newStore(t, mr.Addr(), Options{})
	// The client's defaults retry the dial (5 times, 100 ms apart) and the
	// command (3 times): Timeout ends that.
	quick := newStore(t, mr.Addr(), Options{Timeout: 50 * time.Millisecond})
	// A client that does not retry fails at once, with the dial's error.
	lean, err := New(redis.NewClient(&redis.Options{Addr: mr.Addr(), DialerRetries: 1, MaxRetries: -1}), Options{Secret: testSecret, Timeout: 10 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { lean.client.Close() })

	require.NoError(t, s.Put(ctx, "k", []byte("entry-1"), time.Minute))
	release, ok, err := lean.TryLock(ctx, "held", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)

	mr.Close()
	for _, err := range allOps(t, quick) {
		t.Log(err)
	}
	for _, err := range allOps(t, lean) {
		assert.ErrorIs(t, err, syscall.ECONNREFUSED)
		assert.NotErrorIs(t, err, context.DeadlineExceeded)
	}
	err = release(ctx)
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
	assert.True(t, strings.HasPrefix(err.Error(), "redisstore: unlock: "), "%v", err)

	// Back up (miniredis keeps its data): the stores work again.
	require.NoError(t, mr.Restart())
	v, _, err := s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, []byte("entry-1"), v)
	require.NoError(t, release(ctx))
	_, ok, err = s.TryLock(ctx, "held", time.Minute)
	require.NoError(t, err)
	assert.True(t, ok, "released")
}

// silentServer accepts connections and never answers.
func silentServer(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go io.Copy(io.Discard, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

// A Redis that never answers costs Options.Timeout or the context's
// deadline, whatever the client's own timeouts (a minute here: were they
// what bounded the calls, the errors would be i/o timeouts, not
// context.DeadlineExceeded).
func TestSlowRedis(t *testing.T) {
	addr := silentServer(t)
	for _, ctxTimeouts := range []bool{true, false} {
		client := redis.NewClient(&redis.Options{
			Addr: addr, ContextTimeoutEnabled: ctxTimeouts,
			DialTimeout: time.Minute, ReadTimeout: time.Minute, WriteTimeout: time.Minute,
		})
		t.Cleanup(func() { client.Close() })

		s, err := New(client, Options{Secret: testSecret, Timeout: 20 * time.Millisecond})
		require.NoError(t, err)
		for _, err := range allOps(t, s) {
			assert.ErrorIs(t, err, context.DeadlineExceeded, "ContextTimeoutEnabled %v", ctxTimeouts)
		}

		// The context's deadline, when sooner than Timeout, bounds it too.
		s, err = New(client, Options{Secret: testSecret, Timeout: time.Hour})
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		_, _, err = s.Get(ctx, "k")
		cancel()
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		ctx, cancel = context.WithCancel(context.Background())
		cancel()
		_, _, err = s.Get(ctx, "k")
		assert.ErrorIs(t, err, context.Canceled)
	}
}

// pausableProxy forwards TCP to target; while paused, it holds the
// server's replies.
type pausableProxy struct {
	addr string
	mu   sync.Mutex // held while paused
}

func newPausableProxy(t *testing.T, target string) *pausableProxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &pausableProxy{addr: l.Addr().String()}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, up)
			mu.Unlock()
			go io.Copy(up, c)
			go func() {
				buf := make([]byte, 32<<10)
				for {
					n, err := up.Read(buf)
					if n > 0 {
						p.mu.Lock()
						p.mu.Unlock() //nolint:staticcheck // a gate
						if _, err := c.Write(buf[:n]); err != nil {
							return
						}
					}
					if err != nil {
						c.Close()
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return p
}

// A lock that Redis grants after TryLock gave up (its reply came too late)
// is given back, so that the others need not wait out its ttl.
func TestLockGrantedAfterTimeoutIsReleased(t *testing.T) {
	ctx := context.Background()
	mr := miniredis.RunT(t)
	proxy := newPausableProxy(t, mr.Addr())
	// Without ContextTimeoutEnabled the client waits for the late reply.
	client := redis.NewClient(&redis.Options{Addr: proxy.addr, ReadTimeout: time.Minute, MaxRetries: -1})
	t.Cleanup(func() { client.Close() })
	require.NoError(t, client.Ping(ctx).Err()) // one connection, ready
	// TryLock gives up after Timeout, as the reply is held; the follow-up
	// unlock has the same Timeout.
	s, err := New(client, Options{Secret: testSecret, Timeout: 300 * time.Millisecond})
	require.NoError(t, err)

	followUp := make(chan any, 1)
	testHookAbandoned = func(v any) { followUp <- v }
	t.Cleanup(func() { testHookAbandoned = nil })

	proxy.mu.Lock()
	_, ok, err := s.TryLock(ctx, "k", time.Hour)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.False(t, ok)
	proxy.mu.Unlock()

	assert.Equal(t, true, <-followUp, "the lock was granted late")
	assert.False(t, mr.Exists("ksauth:k:lock"), "and given back")
	rel, ok, err := newStore(t, mr.Addr(), Options{}).TryLock(ctx, "k", time.Hour)
	require.NoError(t, err)
	assert.True(t, ok)
	require.NoError(t, rel(ctx))
}

// call, on a fake clock.
func TestCall(t *testing.T) {
	errBoom := errors.New("boom")
	t.Run("result", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			v, err := call(t.Context(), time.Second, func(ctx context.Context) (int, error) {
				_, ok := ctx.Deadline()
				assert.True(t, ok, "fn's context has a deadline")
				return 7, nil
			}, nil)
			assert.NoError(t, err)
			assert.Equal(t, 7, v)
			_, err = call(t.Context(), time.Second, func(context.Context) (int, error) { return 0, errBoom }, nil)
			assert.Same(t, errBoom, err, "returned as is before the deadline")
		})
	})
	t.Run("timeout then late result", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			unblock := make(chan struct{})
			var got []int
			start := time.Now()
			v, err := call(t.Context(), time.Second, func(context.Context) (int, error) {
				<-unblock // a client that ignores its context
				return 7, nil
			}, func(v int) { got = append(got, v) })
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Zero(t, v)
			assert.Equal(t, time.Second, time.Since(start))
			synctest.Wait()
			assert.Empty(t, got, "abandoned before fn returns")
			close(unblock)
			synctest.Wait()
			assert.Equal(t, []int{7}, got)
		})
	})
	t.Run("timeout then late error", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			unblock := make(chan struct{})
			called := false
			_, err := call(t.Context(), time.Second, func(context.Context) (int, error) {
				<-unblock
				return 7, errBoom
			}, func(int) { called = true })
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			close(unblock)
			synctest.Wait()
			assert.False(t, called)
		})
	})
	t.Run("context sooner", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err := call(ctx, time.Hour, func(ctx context.Context) (int, error) {
				<-ctx.Done() // a client that honours its context
				return 0, errors.New("i/o timeout")
			}, nil)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Equal(t, 100*time.Millisecond, time.Since(start))
		})
	})
	t.Run("fn error after the deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			_, err := call(t.Context(), time.Second, func(ctx context.Context) (int, error) {
				<-ctx.Done()
				return 0, errBoom
			}, nil)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
		})
	})
	t.Run("canceled", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			_, err := call(ctx, time.Hour, func(ctx context.Context) (int, error) {
				<-ctx.Done()
				return 0, ctx.Err()
			}, nil)
			assert.ErrorIs(t, err, context.Canceled)
		})
	})
}

// deadlineOnly is a context whose deadline has passed but whose timer has
// not fired yet.
type deadlineOnly struct{ context.Context }

func (deadlineOnly) Deadline() (time.Time, bool) { return time.Unix(1, 0), true }

func TestCtxErr(t *testing.T) {
	assert.NoError(t, ctxErr(context.Background()))
	assert.ErrorIs(t, ctxErr(deadlineOnly{context.Background()}), context.DeadlineExceeded)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, ctxErr(ctx), context.Canceled)
	ctx, cancel = context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	assert.NoError(t, ctxErr(ctx))
}
