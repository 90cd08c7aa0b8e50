// Package redisstore is a [ksauth.TokenStoreLocker] on Redis: the shared
// token cache of a fleet, so that many processes on many machines that log
// in with the same credential share one Keystone token instead of each
// authenticating on its own.
//
//	client := redis.NewClient(&redis.Options{Addr: "redis:6379", ContextTimeoutEnabled: true})
//	store, err := redisstore.New(client, redisstore.Options{Secret: secret})
//	if err != nil { ... }
//	// then SessionOptions{Store: store}
//
// It is a separate Go module (github.com/ksauth/ksauth/redisstore), so that
// the core ksauth module stays free of dependencies; it uses
// github.com/redis/go-redis/v9, and works with any of its clients
// (a single server, Sentinel, Cluster or Ring): every command touches one
// key.
//
// # Security model
//
// The Session encrypts every entry (AES-256-GCM) with a key derived from the
// store's secret ([Options.Secret], the same for every process of the fleet)
// and from the credential's own secret (password, application credential
// secret...), and names it with a keyed hash of the identity (auth URL, user,
// scope...). Redis sees only those opaque keys and ciphertext: a dump of it,
// or someone who can read it, learns neither a token nor who it belongs to,
// and cannot forge an entry without both secrets. A network store without a
// secret would let anyone who can write to Redis plant entries, so [New]
// refuses to start without one (keystonemiddleware's rule for its memcache
// cache). Redis itself still holds the fleet's tokens, encrypted, and its
// locks: protect it as any shared service (TLS, a network only the fleet
// reaches, an ACL user restricted to the prefix's keys and the commands the
// Store sends:
//
//	ACL SETUSER ksauth on >PASSWORD resetkeys ~ksauth:* resetchannels -@all +get +set +pttl +del +multi +exec +eval +evalsha
//
// ); someone who can write to it can delete entries or hold locks, which
// costs logins, never a wrong token.
//
// # Failures
//
// Every call is bounded by its context and by [Options.Timeout], whatever
// the client's own timeouts, and a Redis that is down, slow or flushed is
// an error or a miss, returned promptly: the Session then authenticates as
// if there were no store, and requests never fail because of the cache.
// Errors name the operation and wrap the client's error (errors.Is works
// with context.DeadlineExceeded, syscall.ECONNREFUSED...); they never hold
// a value or the secret.
//
// The client's own settings still matter within that bound: with
// ContextTimeoutEnabled: true it gives up an abandoned command at once
// (without, it holds a connection until its ReadTimeout); its dial and
// command retries (DialerRetries, MaxRetries) are spent inside
// [Options.Timeout], so with the defaults a refused connection costs the
// whole Timeout, and with DialerRetries: 1, MaxRetries: -1 it fails at
// once. After PoolSize failed dials go-redis fails fast by itself until
// Redis is back.
package redisstore
