package ksauth

import (
	"context"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tests of RetryPolicy.do, in synctest bubbles: waits take fake time, so
// the tests check them exactly and do not sleep.

// script is a send function that answers from a list, one per attempt, and
// keeps what it was sent.
type script struct {
	mu      sync.Mutex
	answers []func(*http.Request) (*http.Response, error)
	bodies  []string
	sentAt  []time.Time
	closed  []*atomic.Int32 // Close counts of the response bodies handed out
}

func (s *script) send(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		_ = r.Body.Close()
	}
	s.bodies = append(s.bodies, string(body))
	s.sentAt = append(s.sentAt, time.Now())
	answer := s.answers[min(len(s.sentAt), len(s.answers))-1]
	resp, err := answer(r)
	if resp != nil {
		n := new(atomic.Int32)
		s.closed = append(s.closed, n)
		resp.Body = countingBody{resp.Body, n}
	}
	return resp, err
}

func (s *script) attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sentAt)
}

func status(code int, header ...string) func(*http.Request) (*http.Response, error) {
	return func(r *http.Request) (*http.Response, error) {
		return textResponse(r, code, http.StatusText(code), header...), nil
	}
}

func failure(err error) func(*http.Request) (*http.Response, error) {
	return func(*http.Request) (*http.Response, error) { return nil, err }
}

var (
	errReset = errors.New("connection reset by peer")
	errDial  = &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
)

func newRetryRequest(t testing.TB, ctx context.Context, method, body string) *http.Request {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body) // NewRequest sets GetBody for it
	}
	req, err := http.NewRequestWithContext(ctx, method, "https://api.test/v1/things", r)
	require.NoError(t, err)
	return req
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	for name, tc := range map[string]struct {
		code   int
		header []string
		wait   time.Duration
	}{
		"seconds":           {429, []string{"Retry-After", "7"}, 7 * time.Second},
		"zero":              {429, []string{"Retry-After", "0"}, 0},
		"HTTP-date":         {429, []string{"Retry-After", "in 12s"}, 12 * time.Second},
		"HTTP-date past":    {429, []string{"Retry-After", "in -1h"}, 0},
		"X-Retry-After":     {429, []string{"X-Retry-After", "3"}, 3 * time.Second},
		"garbage, fallback": {429, []string{"Retry-After", "soon", "X-Retry-After", "4"}, 4 * time.Second},
		"the cap itself":    {429, []string{"Retry-After", "60"}, 60 * time.Second},
		"Retry-After first": {429, []string{"Retry-After", "2", "X-Retry-After", "9"}, 2 * time.Second},
		"503":               {503, []string{"Retry-After", "5"}, 5 * time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				header := slices.Clone(tc.header)
				if v, ok := strings.CutPrefix(header[1], "in "); ok { // an HTTP-date that far from now
					d, err := time.ParseDuration(v)
					require.NoError(t, err)
					header[1] = time.Now().Add(d).UTC().Format(http.TimeFormat)
				}
				s := &script{answers: []func(*http.Request) (*http.Response, error){status(tc.code, header...), status(http.StatusOK)}}
				start := time.Now()
				resp, _, err := (*RetryPolicy)(nil).do(newRetryRequest(t, context.Background(), http.MethodPost, "x"), s.send, testLogger())
				require.NoError(t, err)
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Equal(t, tc.wait, time.Since(start))
				assert.Equal(t, 2, s.attempts())
				assert.Equal(t, int32(1), s.closed[0].Load(), "the discarded response was closed")
			})
		})
	}
}

func TestRetryWithoutRetryAfterBacksOffWithJitter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &RetryPolicy{MaxAttempts: 6, BackoffBase: time.Second, BackoffMax: 5 * time.Second}
		var waits [5][]time.Duration
		for range 200 {
			s := &script{answers: []func(*http.Request) (*http.Response, error){status(http.StatusServiceUnavailable)}}
			resp, _, err := p.do(newRetryRequest(t, context.Background(), http.MethodGet, ""), s.send, nil)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, 6, s.attempts())
			for i := range 5 {
				waits[i] = append(waits[i], s.sentAt[i+1].Sub(s.sentAt[i]))
			}
		}
		for i, ceiling := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second} {
			distinct := map[time.Duration]bool{}
			for _, w := range waits[i] {
				require.GreaterOrEqual(t, w, time.Duration(0))
				require.Less(t, w, ceiling, "attempt %d", i+1)
				distinct[w] = true
			}
			assert.Greater(t, len(distinct), 100, "full jitter: waits spread over [0, %v)", ceiling)
		}
	})
}

func TestRetryAfterOverTheCapReturnsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, p := range []*RetryPolicy{nil, {MaxRetryAfter: 10 * time.Second}} {
			s := &script{answers: []func(*http.Request) (*http.Response, error){
				status(http.StatusTooManyRequests, "Retry-After", "61"), status(http.StatusOK),
			}}
			if p != nil {
				s.answers[0] = status(http.StatusTooManyRequests, "Retry-After", "11")
			}
			start := time.Now()
			resp, _, err := p.do(newRetryRequest(t, context.Background(), http.MethodGet, ""), s.send, nil)
			require.NoError(t, err)
			assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
			assert.Equal(t, "Too Many Requests", readBody(t, resp), "returned unread")
			assert.Zero(t, time.Since(start))
			assert.Equal(t, 1, s.attempts())
		}
	})
}

func TestRetryWaitEndsWithTheContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &script{answers: []func(*http.Request) (*http.Response, error){status(http.StatusServiceUnavailable, "Retry-After", "30")}}
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(2*time.Second, cancel)
		start := time.Now()
		resp, _, err := (*RetryPolicy)(nil).do(newRetryRequest(t, ctx, http.MethodGet, ""), s.send, nil)
		require.ErrorIs(t, err, context.Canceled)
		assert.Nil(t, resp)
		assert.Equal(t, 2*time.Second, time.Since(start), "returned when cancelled, not after 30 s")
		assert.Equal(t, 1, s.attempts())
		assert.Equal(t, int32(1), s.closed[0].Load())
	})
}

func TestRetryWaitPastTheDeadlineReturnsTheResponse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &script{answers: []func(*http.Request) (*http.Response, error){status(http.StatusServiceUnavailable, "Retry-After", "30")}}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		resp, _, err := (*RetryPolicy)(nil).do(newRetryRequest(t, ctx, http.MethodGet, ""), s.send, nil)
		require.NoError(t, err)
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		assert.Zero(t, time.Since(start))
	})
}

func TestRetryAttemptsExhaustedReturnsTheLastResponse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n atomic.Int32
		s := &script{answers: []func(*http.Request) (*http.Response, error){func(r *http.Request) (*http.Response, error) {
			return textResponse(r, http.StatusServiceUnavailable, "attempt "+string(rune('0'+n.Add(1))), "Retry-After", "1"), nil
		}}}
		resp, _, err := (*RetryPolicy)(nil).do(newRetryRequest(t, context.Background(), http.MethodGet, ""), s.send, testLogger())
		require.NoError(t, err)
		assert.Equal(t, DefaultMaxAttempts, s.attempts())
		assert.Equal(t, "attempt 4", readBody(t, resp))
		for i, c := range s.closed {
			assert.Equal(t, int32(1), c.Load(), "response %d closed once", i+1)
		}

		s = &script{answers: s.answers}
		_, _, err = (&RetryPolicy{MaxAttempts: 2}).do(newRetryRequest(t, context.Background(), http.MethodGet, ""), s.send, nil)
		require.NoError(t, err)
		assert.Equal(t, 2, s.attempts())

		s = &script{answers: []func(*http.Request) (*http.Response, error){failure(errReset)}}
		_, _, err = (*RetryPolicy)(nil).do(newRetryRequest(t, context.Background(), http.MethodGet, ""), s.send, nil)
		require.ErrorIs(t, err, errReset, "the last error")
		assert.Equal(t, DefaultMaxAttempts, s.attempts())
	})
}

func TestRetryReplaysTheBody(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &script{answers: []func(*http.Request) (*http.Response, error){
			status(http.StatusTooManyRequests), status(http.StatusServiceUnavailable), status(http.StatusCreated),
		}}
		req, closes, replays := bodyRequest(t, http.MethodPost, "https://api.test/v1/things", `{"name":"x"}`, true)
		resp, _, err := (*RetryPolicy)(nil).do(req, s.send, nil)
		require.NoError(t, err)
		assert.Equal(t, http.StatusCreated, resp.StatusCode)
		assert.Equal(t, []string{`{"name":"x"}`, `{"name":"x"}`, `{"name":"x"}`}, s.bodies, "never resent empty")
		assert.Equal(t, int32(1), closes.Load())
		assert.Equal(t, int32(2), replays.Load())
	})
}

func TestRetryNeverResendsAnUnreplayableBody(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &script{answers: []func(*http.Request) (*http.Response, error){status(http.StatusServiceUnavailable), status(http.StatusOK)}}
		req, closes, _ := bodyRequest(t, http.MethodPut, "https://api.test/v1/things", "content", false)
		resp, _, err := (*RetryPolicy)(nil).do(req, s.send, nil)
		require.NoError(t, err)
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		assert.Equal(t, 1, s.attempts())
		assert.Equal(t, int32(1), closes.Load())
	})
}

func TestRetryByMethodAndFailure(t *testing.T) {
	for _, tc := range []struct {
		method string
		answer func(*http.Request) (*http.Response, error)
		retry  bool
	}{
		{http.MethodPost, status(http.StatusBadGateway), false},
		{http.MethodPost, status(http.StatusGatewayTimeout), false},
		{http.MethodPatch, status(http.StatusBadGateway), false},
		{http.MethodGet, status(http.StatusBadGateway), true},
		{http.MethodPut, status(http.StatusGatewayTimeout), true},
		{http.MethodDelete, status(http.StatusBadGateway), true},
		{http.MethodPost, status(http.StatusTooManyRequests), true},
		{http.MethodPost, status(http.StatusServiceUnavailable), true},
		{http.MethodGet, status(http.StatusInternalServerError), false},
		{http.MethodGet, status(http.StatusUnauthorized), false},
		{http.MethodGet, status(http.StatusNotFound), false},
		{http.MethodGet, failure(errReset), true},
		{http.MethodPost, failure(errReset), false}, // may have reached the server
		{http.MethodPost, failure(errDial), true},   // never connected
		{http.MethodGet, failure(context.Canceled), false},
		{http.MethodGet, failure(context.DeadlineExceeded), false},
	} {
		synctest.Test(t, func(t *testing.T) { // one bubble per case, sequentially
			s := &script{answers: []func(*http.Request) (*http.Response, error){tc.answer, status(http.StatusOK)}}
			resp, _, err := (*RetryPolicy)(nil).do(newRetryRequest(t, context.Background(), tc.method, "body"), s.send, nil)
			if tc.retry {
				require.NoError(t, err)
				assert.Equal(t, http.StatusOK, resp.StatusCode, tc.method)
				assert.Equal(t, 2, s.attempts(), "%s retried", tc.method)
				return
			}
			assert.Equal(t, 1, s.attempts(), "%s not retried", tc.method)
			if err == nil {
				assert.NotEqual(t, http.StatusOK, resp.StatusCode)
			}
		})
	}
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		header []string
		want   time.Duration
		ok     bool
	}{
		{nil, 0, false},
		{[]string{"Retry-After", " 10 "}, 10 * time.Second, true},
		{[]string{"Retry-After", "-1"}, 0, false},
		{[]string{"Retry-After", "1.5"}, 0, false},
		{[]string{"Retry-After", "Fri, 02 Jan 2026 03:04:35 GMT"}, 30 * time.Second, true},
		{[]string{"Retry-After", "Friday, 02-Jan-26 03:04:15 GMT"}, 10 * time.Second, true}, // RFC 850
		{[]string{"Retry-After", "99999999999999999999"}, math.MaxInt64, true},              // beyond int64: longer than any cap, not absent
		{[]string{"Retry-After", "9999999999999"}, math.MaxInt64, true},                     // beyond a Duration
		{[]string{"Retry-After", "+5"}, 0, false},
		{[]string{"X-Retry-After", "99999999999999999999"}, math.MaxInt64, true},
		{[]string{"X-Retry-After", "5"}, 5 * time.Second, true},
	} {
		h := http.Header{}
		for i := 0; i+1 < len(tc.header); i += 2 {
			h.Set(tc.header[i], tc.header[i+1])
		}
		got, ok := retryAfter(h, now)
		assert.Equal(t, tc.ok, ok, "%v", tc.header)
		assert.Equal(t, tc.want, got, "%v", tc.header)
	}
}

func TestRetryLogsEachRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs lockedBuffer
		s := &script{answers: []func(*http.Request) (*http.Response, error){status(http.StatusTooManyRequests, "Retry-After", "3"), status(http.StatusOK)}}
		req := newRetryRequest(t, context.Background(), http.MethodGet, "")
		req.URL.RawQuery = "token=gAAAAAsecret"
		_, _, err := (*RetryPolicy)(nil).do(req, s.send, teeLogger(&logs))
		require.NoError(t, err)
		out := logs.String()
		for _, want := range []string{`"msg":"ksauth: retrying"`, `"status":429`, `"attempt":1`, `"wait":3000000000`} {
			assert.Contains(t, out, want)
		}
		assert.NotContains(t, out, "gAAAAAsecret", "no query string in logs")
	})
}
