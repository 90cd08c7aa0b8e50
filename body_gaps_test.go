package ksauth

// Issue 6 gaps in body reads and the Transport's cost: the 1 MiB limit
// measured in memory ("Tests and CI hygiene"), buffers sized from
// Content-Length and the allocations per request (item 13).

import (
	"context"
	"io"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// spaceBody is a body of n spaces produced on demand: a huge body costs
// the test no memory.
type spaceBody struct{ left int64 }

func (b *spaceBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.EOF
	}
	n := min(int64(len(p)), b.left)
	for i := range p[:n] {
		p[i] = ' '
	}
	b.left -= n
	return int(n), nil
}

func (b *spaceBody) Close() error { return nil }

// allocatedBytes is how many bytes f allocates (the whole process's count:
// the suite runs no test in parallel).
func allocatedBytes(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestAuthenticateDoesNotReadAHugeBodyWhole: invariant 9 and "Tests and CI
// hygiene". A 50 MiB token response (and a 50 MiB error body), with and
// without Content-Length, is refused with a typed error after at most the
// 1 MiB limit was read: the memory allocated stays far below 50 MiB.
func TestAuthenticateDoesNotReadAHugeBodyWhole(t *testing.T) {
	const huge = 50 << 20
	for _, tc := range []struct {
		name          string
		status        int
		contentLength int64
	}{
		{"201 with Content-Length", http.StatusCreated, huge},
		{"201 without Content-Length", http.StatusCreated, -1},
		{"500 with Content-Length", http.StatusInternalServerError, huge},
		{"500 without Content-Length", http.StatusInternalServerError, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := &spaceBody{left: huge}
			k := &Keystone{
				AuthURL:     "https://keystone.test:5000/v3",
				Credentials: Password{UserID: "u", Password: "alice-secret"},
				Retry:       &RetryPolicy{MaxAttempts: 1},
				HTTPClient: &http.Client{Transport: rtFunc(func(r *http.Request) (*http.Response, error) {
					_, _ = io.Copy(io.Discard, r.Body)
					return &http.Response{StatusCode: tc.status, Request: r, Body: body, ContentLength: tc.contentLength,
						Header: http.Header{"Content-Type": {"application/json"}, "X-Subject-Token": {"huge-body-tok-1"}}}, nil
				})},
			}
			var tok *Token
			var err error
			n := allocatedBytes(func() { tok, err = k.Authenticate(context.Background()) })
			recordErr(err)
			assert.Nil(t, tok)
			var me *MalformedResponseError
			require.ErrorAs(t, err, &me)
			assert.Equal(t, tc.status, me.StatusCode)
			assert.Contains(t, err.Error(), "larger than 1048576 bytes")
			t.Logf("%d bytes allocated", n)
			assert.Less(t, n, uint64(4<<20), "bytes allocated for a %d-byte body", huge)
			assert.GreaterOrEqual(t, body.left, int64(huge-(1<<20)-64<<10), "at most about 1 MiB read")
		})
	}
}

// TestBodyReadIsSizedFromContentLength: item 13. A body whose length the
// server announced is read into one buffer of that size (plus the EOF
// probe), not grown by doubling.
func TestBodyReadIsSizedFromContentLength(t *testing.T) {
	const size = 600 << 10
	read := func(contentLength int64) uint64 {
		var total uint64
		for range 5 {
			resp := &http.Response{Body: &spaceBody{left: size}, ContentLength: contentLength}
			total += allocatedBytes(func() {
				b, err := readLimited(context.Background(), resp)
				require.NoError(t, err)
				require.Len(t, b, size)
			})
		}
		return total / 5
	}
	sized, unsized := read(size), read(-1)
	t.Logf("bytes allocated reading %d bytes: %d with Content-Length, %d without", size, sized, unsized)
	assert.Less(t, sized, uint64(size+size/10), "one buffer of the announced size")
	assert.Greater(t, unsized, sized, "without a length the buffer grows")
}

// TestTransportRoundTripAllocations: item 13's target, at most 3
// allocations per request through the Transport (BenchmarkRoundTripNoIO's
// setup).
func TestTransportRoundTripAllocations(t *testing.T) {
	resp := &http.Response{StatusCode: http.StatusOK, Body: http.NoBody}
	base := rtFunc(func(*http.Request) (*http.Response, error) { return resp, nil })
	tok := &Token{ID: "alloc-token-0123456789abcdef", ExpiresAt: time.Now().Add(time.Hour), authHost: "api.test:443"}
	s := NewSession(AuthenticatorFunc(func(context.Context) (*Token, error) { return tok, nil }), nil)
	mustToken(t, s)
	tr := &Transport{Session: s, Base: base}
	req, err := http.NewRequest(http.MethodGet, "https://api.test/v2.1/servers/detail", nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "alloc")
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := tr.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
	})
	assert.LessOrEqual(t, allocs, 3.0)
}
