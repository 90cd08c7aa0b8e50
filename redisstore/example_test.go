package redisstore_test

import (
	"context"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/ksauth/ksauth/redisstore"
	"github.com/redis/go-redis/v9"
)

func ExampleNew() {
	mr, err := miniredis.Run() // in production: your Redis, over TLS
	if err != nil {
		panic(err)
	}
	defer mr.Close()

	client := redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true})
	defer client.Close()
	// The fleet's secret: 32 random bytes or more, from a secret manager.
	secret := []byte("an example secret, 32 bytes long")
	store, err := redisstore.New(client, redisstore.Options{Secret: secret})
	if err != nil {
		panic(err)
	}
	// A Session uses it through SessionOptions.Store; by hand:
	ctx := context.Background()
	if err := store.Put(ctx, "k1", []byte("ciphertext"), time.Minute); err != nil {
		panic(err)
	}
	v, ttl, err := store.Get(ctx, "k1")
	fmt.Println(string(v), ttl, err)

	_, err = redisstore.New(client, redisstore.Options{})
	fmt.Println(err)
	// Output:
	// ciphertext 1m0s <nil>
	// redisstore: Options.Secret is required (at least 32 random bytes, the same for the whole fleet): a network store without a secret refuses to start
}
