//go:build integration

package ksauth

// Session and Transport against a real Keystone whose tokens live 10 s
// (ksShort, see integration_main_test.go): a long run of concurrent requests
// must see no failure, refresh at the expected rate, and get over a revoked
// token with a single re-authentication.

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sessionEvents counts the Session's log records by message and reason and
// passes them on to the suite's logger.
type sessionEvents struct {
	slog.Handler
	mu        sync.Mutex
	counts    map[string]int
	refreshed chan struct{} // gets a value after each successful refresh
}

func newSessionEvents() *sessionEvents {
	return &sessionEvents{Handler: testLogger().Handler(), counts: map[string]int{}, refreshed: make(chan struct{}, 1)}
}

func (h *sessionEvents) Handle(ctx context.Context, r slog.Record) error {
	key := r.Message
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "reason" {
			key += " (" + a.Value.String() + ")"
		}
		return true
	})
	h.mu.Lock()
	h.counts[key]++
	h.mu.Unlock()
	if r.Message == "ksauth: token refreshed" {
		select {
		case h.refreshed <- struct{}{}:
		default:
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h *sessionEvents) count(key string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.counts[key]
}

func (h *sessionEvents) snapshot() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]int, len(h.counts))
	for k, v := range h.counts {
		out[k] = v
	}
	return out
}

// tokenPosts counts POST .../auth/tokens, the authentications.
type tokenPosts struct {
	base  http.RoundTripper
	count atomic.Int32
}

func (c *tokenPosts) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/auth/tokens") {
		c.count.Add(1)
	}
	return c.base.RoundTrip(r)
}

func TestIntegrationSessionLongRun(t *testing.T) {
	ks := shortKeystone(t)
	runFor := 65 * time.Second
	if testing.Short() {
		runFor = 15 * time.Second
	}
	const workers = 6
	posts := &tokenPosts{base: newDefaultTransport()}
	k := &Keystone{
		AuthURL:     ks.AuthURL,
		Credentials: Password{Username: ks.Users.Alice.Name, UserDomain: Domain{Name: ks.Users.Alice.DomainName}, Password: ks.Users.Alice.Password},
		Scope:       ProjectScope{ID: ks.Projects.Demo.ID},
		HTTPClient:  &http.Client{Transport: posts},
		Logger:      testLogger(),
	}
	events := newSessionEvents()
	s := NewSession(k, &SessionOptions{Logger: slog.New(events)})
	client := s.Client()
	target := strings.TrimSuffix(ks.AuthURL, "/") + "/auth/projects"

	start := time.Now()
	end := start.Add(runFor)
	var requests, failures atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for time.Now().Before(end) {
				requests.Add(1)
				if err := fetchOK(client, target); err != nil {
					recordErr(err)
					if failures.Add(1) <= 5 {
						t.Errorf("request failed after %s: %v", time.Since(start).Round(time.Millisecond), err)
					}
				}
			}
		})
	}

	// Mid-run, just after a refresh (so no early refresh is due for ~4.5 s),
	// revoke the current token: the 401s it earns must cost one re-auth.
	time.Sleep(runFor / 2)
	select {
	case <-events.refreshed: // drop a signal of an earlier refresh
	default:
	}
	<-events.refreshed
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	revoked, err := s.Token(ctx)
	require.NoError(t, err)
	require.NoError(t, k.RevokeToken(ctx, revoked, revoked.ID))
	revokedAt := time.Since(start)
	wg.Wait()
	elapsed := time.Since(start)

	// A refresh starts min(ExpireEarly, lifetime/2) = 5 s (+ up to 10 %
	// jitter) before expiry, counted from when the token arrived: one every
	// 4.5 s to 5 s + the authentication's own latency (allow 1 s).
	lifetime := time.Duration(ks.TokenExpirationSeconds) * time.Second
	fastest, slowest := lifetime/2-lifetime/20, lifetime/2+time.Second
	least, most := 2+int(elapsed/slowest)-1, 2+int(elapsed/fastest)+1 // + first token and revocation
	t.Logf("%s with %d workers: %d requests, %d failures, %d token POSTs (expected %d to %d), token revoked at %s; session events %v",
		elapsed.Round(time.Millisecond), workers, requests.Load(), failures.Load(), posts.count.Load(), least, most,
		revokedAt.Round(time.Millisecond), events.snapshot())

	assert.Zero(t, failures.Load(), "failed requests")
	assert.Greater(t, requests.Load(), int64(workers*10))
	assert.GreaterOrEqual(t, int(posts.count.Load()), least, "token POSTs")
	assert.LessOrEqual(t, int(posts.count.Load()), most, "token POSTs")
	assert.Equal(t, 1, events.count("ksauth: token invalidated"), "one invalidation for the revoked token")
	assert.Equal(t, 1, events.count("ksauth: token refreshed (invalidated)"), "one re-auth for the revoked token")
	assert.Zero(t, events.count("ksauth: token refresh failed (expiring soon)")+events.count("ksauth: token refresh failed (expired)"))
	fresh, err := s.Token(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, revoked.ID, fresh.ID)
}

// fetchOK GETs url through client and wants a 200.
func fetchOK(client *http.Client, url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return &HTTPError{Method: req.Method, URL: url, StatusCode: resp.StatusCode, Message: redact(truncate(string(body), 200))}
	}
	return nil
}
