package ksauth

// The shared token cache's storage contract: what a TokenStore must do.
// How a Session uses one (keys, entries, encryption, locking) is in
// store_entry.go and session_store.go.

import (
	"context"
	"time"
)

// TokenStore keeps tokens for several processes: on one machine
// ([FileStore]) or a fleet (the redisstore module). A [Session] with
// [SessionOptions.Store] reads it when it has no token of its own or its
// token is due for refresh, writes each token it obtains, and retires a
// token a server rejected. Keys are made of lowercase letters, digits and
// '-' and reveal nothing of the identity; values are opaque, encrypted
// entries. A store must be safe for concurrent use by many goroutines and
// processes, and should bound its own calls (a slow store must not stall
// logins: the Session also bounds each call by its context).
type TokenStore interface {
	// Get returns the value stored under key and the time it has left
	// before it expires, or a nil value (and no error) when there is none.
	Get(ctx context.Context, key string) (value []byte, ttl time.Duration, err error)
	// Put stores value under key for ttl (> 0), replacing any value.
	Put(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// CompareAndDelete deletes key's value only if it is still old (byte
	// for byte), and reports whether it did: so a process retiring a
	// rejected token never deletes the new one another process stored.
	CompareAndDelete(ctx context.Context, key string, old []byte) (bool, error)
	// Secret returns the store's secret: at least 32 random bytes, the same
	// for every process sharing the store. Keys are keyed hashes under it
	// and entries are encrypted with keys derived from it and the
	// credential's own secret.
	Secret(ctx context.Context) ([]byte, error)
}

// TokenStoreLocker is a [TokenStore] that can also lock a key across
// processes, so that when no token is stored one process authenticates
// while the others wait briefly for its result (then, if none came, they
// authenticate themselves).
type TokenStoreLocker interface {
	TokenStore
	// TryLock takes key's lock without waiting, for at most ttl: the lock
	// expires by itself if its holder dies. It returns ok false (and no
	// error) when another holder has it. release gives it back; releasing
	// a lock that expired and was taken by another must not free theirs.
	TryLock(ctx context.Context, key string, ttl time.Duration) (release func(context.Context) error, ok bool, err error)
}

// minStoreSecret is the shortest store secret a Session accepts.
const minStoreSecret = 32
