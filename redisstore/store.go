package redisstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/ksauth/ksauth"
	"github.com/redis/go-redis/v9"
)

// MinSecret is the shortest [Options.Secret] that [New] accepts, in bytes.
const MinSecret = 32

// DefaultPrefix is the prefix of every key when [Options.Prefix] is empty.
const DefaultPrefix = "ksauth:"

// DefaultTimeout bounds each call when [Options.Timeout] is zero.
const DefaultTimeout = 500 * time.Millisecond

// lockSuffix turns a key into its lock's key. Store keys have no ':', so a
// lock's key is never another entry's.
const lockSuffix = ":lock"

// Options configures a [Store]. Every process sharing a store must use the
// same Secret and Prefix.
type Options struct {
	// Secret is the store's secret: at least [MinSecret] random bytes, the
	// same for every process of the fleet (from a secret manager, never
	// from Redis). The Session hashes keys and derives the entries'
	// encryption keys from it. Required: nil, or shorter than MinSecret,
	// makes New fail with a [*SecretError]. New keeps a copy.
	Secret []byte
	// Prefix is put before every key, to share a Redis (or a Redis ACL
	// user's key pattern) with other data. Empty means [DefaultPrefix],
	// "ksauth:".
	Prefix string
	// Timeout bounds each call to Redis (the context's deadline, when
	// sooner, too), so that a slow or unreachable Redis costs a login at
	// most that long. Zero means [DefaultTimeout], 500 ms; negative is an
	// error.
	Timeout time.Duration
}

// SecretError is the error of [New] when [Options.Secret] is missing or
// shorter than [MinSecret]: a network store without a secret refuses to
// start.
type SecretError struct {
	// Len is the length of the secret given, in bytes (0 when nil).
	Len int
}

// Error tells how long the secret was and must be (never its bytes).
func (e *SecretError) Error() string {
	if e.Len == 0 {
		return fmt.Sprintf("redisstore: Options.Secret is required (at least %d random bytes, the same for the whole fleet): a network store without a secret refuses to start", MinSecret)
	}
	return fmt.Sprintf("redisstore: Options.Secret has %d bytes, need at least %d random bytes", e.Len, MinSecret)
}

// Store is a [ksauth.TokenStoreLocker] on a Redis client. It is safe for
// concurrent use. It does not own the client: close the client when done.
type Store struct {
	client  redis.UniversalClient
	secret  []byte
	prefix  string
	timeout time.Duration
}

var _ ksauth.TokenStoreLocker = (*Store)(nil)

// New returns a Store on client. It fails on a nil client, a missing or
// short [Options.Secret] ([*SecretError]) or a negative [Options.Timeout].
// It does not contact Redis: a Redis that is down at start is an error of
// the first calls, not of New.
//
// Configure the client with ContextTimeoutEnabled: true. The Store returns
// when its Timeout or the context ends either way, but without that option
// the client goes on waiting for the abandoned command, holding a
// connection, until its own ReadTimeout.
func New(client redis.UniversalClient, opts Options) (*Store, error) {
	if client == nil {
		return nil, errors.New("redisstore: nil client")
	}
	if len(opts.Secret) < MinSecret {
		return nil, &SecretError{Len: len(opts.Secret)}
	}
	if opts.Timeout < 0 {
		return nil, fmt.Errorf("redisstore: negative Options.Timeout %s", opts.Timeout)
	}
	s := &Store{
		client:  client,
		secret:  append([]byte(nil), opts.Secret...),
		prefix:  opts.Prefix,
		timeout: opts.Timeout,
	}
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	if s.timeout == 0 {
		s.timeout = DefaultTimeout
	}
	return s, nil
}

// compareAndDelete deletes KEYS[1] if it still holds ARGV[1], byte for byte
// (Lua strings are binary), in one atomic step, and returns the number
// deleted. It is also the lock's release, with the holder's token.
var compareAndDelete = redis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`)

// Get returns the value under key and the time it has left, read together
// (MULTI GET PTTL EXEC), or (nil, 0, nil) when there is none. A value
// always comes with a ttl > 0: an empty value, a key without an expiry
// (neither written by [Store.Put]) or one about to expire is a miss.
func (s *Store) Get(ctx context.Context, key string) ([]byte, time.Duration, error) {
	if err := checkKey(key); err != nil {
		return nil, 0, fmt.Errorf("redisstore: get: %w", err)
	}
	k := s.prefix + key
	type result struct {
		value []byte
		ttl   time.Duration
	}
	r, err := call(ctx, s.timeout, func(ctx context.Context) (result, error) {
		var get *redis.StringCmd
		var pttl *redis.DurationCmd
		_, err := s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
			get = p.Get(ctx, k)
			pttl = p.PTTL(ctx, k)
			return nil
		})
		// The commands' own errors first: Exec's may only say that the
		// transaction was aborted (EXECABORT), or be the GET's Nil.
		if gerr := get.Err(); errors.Is(gerr, redis.Nil) {
			return result{}, nil // a miss
		} else if gerr != nil {
			return result{}, gerr
		}
		if perr := pttl.Err(); perr != nil {
			return result{}, perr
		}
		if err != nil {
			return result{}, err
		}
		value, err := get.Bytes()
		if err != nil {
			return result{}, err
		}
		return result{value, pttl.Val()}, nil
	}, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("redisstore: get: %w", err)
	}
	if len(r.value) == 0 || r.ttl <= 0 {
		return nil, 0, nil
	}
	return r.value, r.ttl, nil
}

// Put stores value (not empty) under key for ttl (> 0, rounded up to a
// millisecond): SET key value PX ttl.
func (s *Store) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("redisstore: put: %w", err)
	}
	if len(value) == 0 {
		return errors.New("redisstore: put: empty value")
	}
	if ttl <= 0 {
		return fmt.Errorf("redisstore: put: ttl %s is not positive", ttl)
	}
	k := s.prefix + key
	_, err := call(ctx, s.timeout, func(ctx context.Context) (struct{}, error) {
		cmd := redis.NewStatusCmd(ctx, "set", k, value, "px", millis(ttl))
		_ = s.client.Process(ctx, cmd)
		return struct{}{}, cmd.Err()
	}, nil)
	if err != nil {
		return fmt.Errorf("redisstore: put: %w", err)
	}
	return nil
}

// CompareAndDelete deletes key's value if it is still old, byte for byte,
// in one Lua script, and reports whether it did.
func (s *Store) CompareAndDelete(ctx context.Context, key string, old []byte) (bool, error) {
	if err := checkKey(key); err != nil {
		return false, fmt.Errorf("redisstore: compare-and-delete: %w", err)
	}
	if len(old) == 0 {
		return false, nil // Put stores no empty value
	}
	deleted, err := s.compareAndDelete(ctx, s.prefix+key, old)
	if err != nil {
		return false, fmt.Errorf("redisstore: compare-and-delete: %w", err)
	}
	return deleted, nil
}

// compareAndDelete runs the script on the full key k, bounded by s.timeout.
func (s *Store) compareAndDelete(ctx context.Context, k string, old []byte) (bool, error) {
	return call(ctx, s.timeout, func(ctx context.Context) (bool, error) {
		n, err := compareAndDelete.Run(ctx, s.client, []string{k}, old).Int64()
		return n == 1, err
	}, nil)
}

// TryLock takes key's lock for ttl (> 0, rounded up to a millisecond)
// without waiting: SET key:lock token NX PX ttl, with a random token. It
// returns ok false when another holder has it. release deletes the lock
// only if it still holds this token (a Lua compare-and-delete), so a
// holder whose lock expired and was taken by another never frees theirs;
// it is bounded like every call, and safe to call more than once.
func (s *Store) TryLock(ctx context.Context, key string, ttl time.Duration) (release func(context.Context) error, ok bool, err error) {
	if err := checkKey(key); err != nil {
		return nil, false, fmt.Errorf("redisstore: lock: %w", err)
	}
	if ttl <= 0 {
		return nil, false, fmt.Errorf("redisstore: lock: ttl %s is not positive", ttl)
	}
	k := s.prefix + key + lockSuffix
	token := []byte(rand.Text())
	unlock := func(ctx context.Context) error {
		_, err := s.compareAndDelete(ctx, k, token)
		return err
	}
	ok, err = call(ctx, s.timeout, func(ctx context.Context) (bool, error) {
		cmd := redis.NewBoolCmd(ctx, "set", k, token, "px", millis(ttl), "nx")
		_ = s.client.Process(ctx, cmd)
		return cmd.Val(), cmd.Err()
	}, func(ok bool) {
		// The caller gave up (timeout) but the lock was taken after all:
		// give it back rather than make the others wait out its ttl.
		if ok {
			_ = unlock(context.Background())
		}
	})
	if err != nil {
		return nil, false, fmt.Errorf("redisstore: lock: %w", err)
	}
	if !ok {
		return nil, false, nil
	}
	return func(ctx context.Context) error {
		if err := unlock(ctx); err != nil {
			return fmt.Errorf("redisstore: unlock: %w", err)
		}
		return nil
	}, true, nil
}

// Secret returns a copy of [Options.Secret]. It does not contact Redis.
func (s *Store) Secret(context.Context) ([]byte, error) {
	return append([]byte(nil), s.secret...), nil
}

// call runs fn with a context bounded by timeout and returns its result, or
// the context's error as soon as that context ends, even if fn (the client)
// goes on waiting. abandoned, if not nil, gets fn's result when fn returns
// without error after call gave up. An error of fn once the context has
// ended (or its deadline passed) wraps the context's error too, so that
// errors.Is(err, context.DeadlineExceeded) holds for every timeout.
func call[T any](ctx context.Context, timeout time.Duration, fn func(context.Context) (T, error), abandoned func(T)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	var (
		mu   sync.Mutex // orders the result's delivery with giving up
		gone bool
		done = make(chan result, 1)
	)
	go func() {
		v, err := fn(ctx)
		mu.Lock()
		defer mu.Unlock()
		if !gone {
			done <- result{v, err}
			return
		}
		if err == nil && abandoned != nil {
			go func() {
				abandoned(v)
				if testHookAbandoned != nil {
					testHookAbandoned(v)
				}
			}()
		}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		mu.Lock()
		select {
		case r = <-done: // finished meanwhile: take its result
		default:
			gone = true
			r.err = ctx.Err()
		}
		mu.Unlock()
	}
	if r.err != nil {
		if cerr := ctxErr(ctx); cerr != nil && !errors.Is(r.err, cerr) {
			r.err = fmt.Errorf("%w: %w", cerr, r.err)
		}
	}
	return r.v, r.err
}

// ctxErr is ctx.Err(), or context.DeadlineExceeded once ctx's deadline has
// passed even if its timer has not fired yet: a client that sets its
// socket's deadline to the context's may time out first.
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

// testHookAbandoned, set by tests only, is called with the result of an
// abandoned call once abandoned has run.
var testHookAbandoned func(any)

// millis is d in whole milliseconds, rounded up (PX takes milliseconds; a
// lock or entry must not expire sooner than asked).
func millis(d time.Duration) string {
	return strconv.FormatInt(int64((d+time.Millisecond-1)/time.Millisecond), 10)
}

// checkKey refuses keys the TokenStore contract does not allow: empty, or
// with a character other than a-z, 0-9 and '-'. The key is not quoted in
// the error.
func checkKey(key string) error {
	if key == "" {
		return errors.New("empty key")
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return fmt.Errorf("invalid key (%d bytes): only a-z, 0-9 and '-' are allowed", len(key))
		}
	}
	return nil
}
