package ksauth

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newStubTransport returns a Transport over a fresh session of a, sending to svc.
func newStubTransport(a *stubAuth, svc http.RoundTripper) *Transport {
	return &Transport{Session: NewSession(a, &SessionOptions{Logger: testLogger()}), Base: svc, Logger: testLogger()}
}

func get(t testing.TB, rt http.RoundTripper, rawURL string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	require.NoError(t, err)
	resp, err := rt.RoundTrip(req)
	recordErr(err)
	return resp, err
}

func readBody(t testing.TB, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	return string(b)
}

// countingBody is a request body that counts its Close calls.
type countingBody struct {
	io.Reader
	closes *atomic.Int32
}

func (b countingBody) Close() error {
	b.closes.Add(1)
	return nil
}

// bodyRequest returns a request with a counted body; with getBody, GetBody
// returns new counted bodies with the same content.
func bodyRequest(t testing.TB, method, rawURL, content string, getBody bool) (req *http.Request, closes, replays *atomic.Int32) {
	closes, replays = new(atomic.Int32), new(atomic.Int32)
	req, err := http.NewRequest(method, rawURL, countingBody{strings.NewReader(content), closes})
	require.NoError(t, err)
	req.GetBody = nil
	if getBody {
		req.GetBody = func() (io.ReadCloser, error) {
			return countingBody{strings.NewReader(content), replays}, nil
		}
	}
	return req, closes, replays
}

func TestTransport401StormReauthenticatesOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newStubAuth(time.Hour)
		gate := make(chan struct{})
		var old atomic.Pointer[Token]
		svc := &stubService{auth: a, hook: func(r *http.Request) *http.Response {
			if r.Header.Get("X-Auth-Token") == old.Load().ID {
				<-gate // hold every request carrying the old token
			}
			return nil
		}}
		tr := newStubTransport(a, svc)
		old.Store(mustToken(t, tr.Session))

		const n = 1000
		results := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				resp, err := get(t, tr, "https://keystone.test:5000/v3/auth/projects")
				if assert.NoError(t, err) {
					results[i] = resp.StatusCode
					resp.Body.Close()
				}
			})
		}
		synctest.Wait() // all 1000 sent the old token
		a.revoke(old.Load())
		close(gate) // ... and all get a 401 for it
		wg.Wait()

		for i := range n {
			require.Equal(t, http.StatusOK, results[i])
		}
		assert.Equal(t, 2, a.callCount(), "the first token and one renewal")
		assert.Equal(t, n, svc.count(http.StatusUnauthorized))
		assert.Equal(t, n, svc.count(http.StatusOK))
	})
}

func TestTransportLate401CausesNoReauthentication(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newStubAuth(time.Hour)
		gate := make(chan struct{})
		var oldID string
		svc := &stubService{auth: a, hook: func(r *http.Request) *http.Response {
			if r.Header.Get("X-Late") != "" && r.Header.Get("X-Auth-Token") == oldID {
				<-gate // answered after the token was replaced: a 401
			}
			return nil
		}}
		tr := newStubTransport(a, svc)
		old := mustToken(t, tr.Session)
		oldID = old.ID

		late := make(chan *http.Response, 1)
		go func() {
			req, _ := http.NewRequest(http.MethodGet, "https://keystone.test:5000/v3/slow", nil)
			req.Header.Set("X-Late", "1")
			resp, err := tr.RoundTrip(req)
			assert.NoError(t, err)
			late <- resp
		}()
		synctest.Wait() // the late request is out with the old token

		a.revoke(old)
		resp, err := get(t, tr, "https://keystone.test:5000/v3/auth/projects")
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, 2, a.callCount())
		fresh := mustToken(t, tr.Session)

		close(gate) // the late 401 for the replaced token arrives
		resp = <-late
		assert.Equal(t, http.StatusOK, resp.StatusCode, "resent with the current token")
		assert.Equal(t, 2, a.callCount(), "no authentication for a replaced token")
		assert.Same(t, fresh, mustToken(t, tr.Session))
		assert.Equal(t, 2, svc.count(http.StatusUnauthorized))
	})
}

func TestTransport401ResendsOnceNeverLoops(t *testing.T) {
	a := newStubAuth(time.Hour)
	svc := &stubService{hook: func(r *http.Request) *http.Response {
		return textResponse(r, http.StatusUnauthorized, "always")
	}}
	tr := newStubTransport(a, svc)
	resp, err := get(t, tr, "https://keystone.test:5000/v3/x")
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the second 401 as it is")
	assert.Equal(t, "always", readBody(t, resp))
	reqs := svc.requests()
	require.Len(t, reqs, 2)
	assert.NotEqual(t, reqs[0].Header.Get("X-Auth-Token"), reqs[1].Header.Get("X-Auth-Token"))
	assert.Equal(t, 2, a.callCount())
}

func TestTransport401NoResendWhenTheRenewalCannotHelp(t *testing.T) {
	t.Run("same token again", func(t *testing.T) {
		tok := &Token{ID: "static-token-abcdef", authHost: "keystone.test:5000"}
		registerSecret(tok.ID)
		var calls atomic.Int32
		s := NewSession(AuthenticatorFunc(func(context.Context) (*Token, error) { calls.Add(1); return tok, nil }), nil)
		svc := &stubService{hook: func(r *http.Request) *http.Response { return textResponse(r, http.StatusUnauthorized, "no") }}
		resp, err := get(t, &Transport{Session: s, Base: svc}, "https://keystone.test:5000/v3/x")
		require.NoError(t, err)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.Len(t, svc.requests(), 1, "resending the token that was just rejected is pointless")
		assert.Equal(t, int32(2), calls.Load())
	})
	t.Run("host no longer trusted", func(t *testing.T) {
		a := newStubAuth(time.Hour)
		svc := &stubService{auth: a}
		tr := newStubTransport(a, svc)
		a.revoke(mustToken(t, tr.Session))
		a.mu.Lock()
		a.catalog = nil // the renewed token's catalog no longer lists compute.test
		a.mu.Unlock()
		resp, err := get(t, tr, "https://compute.test:8774/v2.1/servers")
		require.NoError(t, err)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.Len(t, svc.requests(), 1, "the renewed token does not go to a host it is not trusted with")
	})
}

func TestTransport401ReplaysBodyWithGetBody(t *testing.T) {
	a := newStubAuth(time.Hour)
	svc := &stubService{auth: a}
	tr := newStubTransport(a, svc)
	a.revoke(mustToken(t, tr.Session))

	req, closes, replays := bodyRequest(t, http.MethodPost, "https://compute.test:8774/v2.1/servers", `{"server":{}}`, true)
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, []string{`{"server":{}}`, `{"server":{}}`}, svc.bodies, "the body is resent in full")
	assert.Equal(t, int32(1), closes.Load())
	assert.Equal(t, int32(1), replays.Load())
}

func TestTransport401WithUnreplayableBodyReturnsIt(t *testing.T) {
	a := newStubAuth(time.Hour)
	svc := &stubService{auth: a}
	tr := newStubTransport(a, svc)
	old := mustToken(t, tr.Session)
	a.revoke(old)

	req, closes, _ := bodyRequest(t, http.MethodPost, "https://compute.test:8774/v2.1/servers", `{"server":{}}`, false)
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, "token rejected", readBody(t, resp), "the original 401, body intact")
	assert.Len(t, svc.requests(), 1, "never resent (it would go out empty)")
	assert.Equal(t, int32(1), closes.Load())
	assert.NotEqual(t, old.ID, mustToken(t, tr.Session).ID, "the rejected token was dropped all the same")
}

func TestTransportReauthFailureIsReported(t *testing.T) {
	a := newStubAuth(time.Hour)
	a.okCalls = 1
	svc := &stubService{auth: a}
	tr := newStubTransport(a, svc)
	a.revoke(mustToken(t, tr.Session))
	a.failing.Store(true)

	_, err := get(t, tr, "https://keystone.test:5000/v3/x")
	require.ErrorIs(t, err, errStubAuth)
	require.ErrorIs(t, err, ErrUnauthorized, "the original 401 is matched too")
	var re *ReauthError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, http.StatusUnauthorized, re.StatusCode)
	assert.Equal(t, "https://keystone.test:5000/v3/x", re.URL)
	assert.Contains(t, err.Error(), "the token was rejected and getting a new one failed")
}

func TestTransportCallerTokenPassesThrough(t *testing.T) {
	a := newStubAuth(time.Hour)
	svc := &stubService{hook: func(r *http.Request) *http.Response {
		return textResponse(r, http.StatusUnauthorized, "no")
	}}
	tr := newStubTransport(a, svc)
	tok := mustToken(t, tr.Session)

	req, _ := http.NewRequest(http.MethodGet, "https://keystone.test:5000/v3/auth/tokens", nil)
	req.Header.Set("X-Auth-Token", "caller-own-token-1234")
	req.Header.Set("X-Subject-Token", "subject")
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the caller's 401 is the caller's business")
	reqs := svc.requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, []string{"caller-own-token-1234"}, reqs[0].Header.Values("X-Auth-Token"))
	assert.Same(t, tok, mustToken(t, tr.Session), "the session's token is not invalidated")
	assert.Equal(t, 1, a.callCount())
}

func TestTransportHostScoping(t *testing.T) {
	allowed := []string{"extra.test", "Other.test:8443", "https://url.test:9000/some/path", "http://plain.test", "[::1]", "10.0.0.7"}
	for _, tc := range []struct {
		url      string
		insecure bool
		trusted  bool
	}{
		{"https://keystone.test:5000/v3/x", false, true}, // the auth host
		{"https://KEYSTONE.Test:5000/v3/x", false, true}, // without case
		{"https://keystone.test/v3", false, false},       // another port
		{"https://keystone.test:5001/", false, false},
		{"https://compute.test:8774/v2.1/servers", false, true}, // in the catalog
		{"https://compute.test/", false, false},
		{"https://evil.test/", false, false},
		{"https://keystone.test.evil.test:5000/", false, false},
		{"https://extra.test/", false, true}, // bare host: the scheme's default port
		{"https://extra.test:443/", false, true},
		{"http://extra.test/", true, true},
		{"https://extra.test:8443/", false, false},
		{"http://extra.test:443/", true, false},
		{"https://other.test:8443/", false, true}, // host:port
		{"https://other.test/", false, false},
		{"https://url.test:9000/", false, true}, // URL
		{"https://url.test/", false, false},
		{"http://plain.test/", true, true},
		{"https://plain.test:80/", false, true},
		{"https://plain.test/", false, false},
		{"https://[::1]/", false, true},
		{"https://[::1]:8443/", false, false},
		{"https://10.0.0.7/", false, true},
	} {
		t.Run(tc.url, func(t *testing.T) {
			a := newStubAuth(time.Hour)
			svc := &stubService{}
			tr := newStubTransport(a, svc)
			tr.AllowedHosts, tr.AllowInsecureHTTP = allowed, tc.insecure
			req, closes, _ := bodyRequest(t, http.MethodPut, tc.url, "payload", true)
			resp, err := tr.RoundTrip(req)
			recordErr(err)
			assert.Equal(t, int32(1), closes.Load(), "body closed once")
			if !tc.trusted {
				require.ErrorIs(t, err, ErrUntrustedHost)
				assert.Empty(t, svc.requests(), "nothing sent")
				return
			}
			require.NoError(t, err)
			resp.Body.Close()
			reqs := svc.requests()
			require.Len(t, reqs, 1)
			assert.Equal(t, mustToken(t, tr.Session).ID, reqs[0].Header.Get("X-Auth-Token"))
		})
	}
}

func TestTransportRejectsBadAllowedHosts(t *testing.T) {
	for _, bad := range []string{"", "https://", "a b", "host:", "user@host", "ftp://files.test", "https://[::1"} {
		t.Run(bad, func(t *testing.T) {
			svc := &stubService{}
			tr := newStubTransport(newStubAuth(time.Hour), svc)
			tr.AllowedHosts = []string{"fine.test", bad}
			req, closes, _ := bodyRequest(t, http.MethodPost, "https://keystone.test:5000/v3/x", "x", false)
			_, err := tr.RoundTrip(req)
			recordErr(err)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, "Transport.AllowedHosts", ve.Field)
			assert.Equal(t, int32(1), closes.Load())
			assert.Empty(t, svc.requests())
		})
	}
}

func TestTransportRefusesPlainHTTP(t *testing.T) {
	for _, tc := range []struct {
		url      string
		insecure bool
		refused  bool
	}{
		{"http://keystone.test:5000/v3", false, true}, // trusted host, but in clear text
		{"http://keystone.test:5000/v3", true, false},
		{"http://localhost:5000/v3", false, false}, // loopback
		{"http://127.0.0.1:5000/v3", false, false},
		{"http://[::1]:5000/v3", false, false},
		{"http://evil.test/", false, true},
	} {
		t.Run(fmt.Sprint(tc.url, tc.insecure), func(t *testing.T) {
			a := newStubAuth(time.Hour)
			svc := &stubService{}
			tr := newStubTransport(a, svc)
			tr.AllowInsecureHTTP = tc.insecure
			tr.AllowedHosts = []string{"localhost:5000", "127.0.0.1:5000", "[::1]:5000"}
			resp, err := get(t, tr, tc.url)
			if tc.refused {
				require.ErrorIs(t, err, ErrInsecureTransport)
				assert.Empty(t, svc.requests())
				assert.Zero(t, a.callCount(), "refused before asking for a token")
				return
			}
			require.NoError(t, err)
			resp.Body.Close()
		})
	}
}

func TestTransportRedirects(t *testing.T) {
	var mu sync.Mutex
	seen := map[string][]string{} // path -> X-Auth-Token values received
	record := func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Host+r.URL.Path] = r.Header.Values("X-Auth-Token")
		mu.Unlock()
		_, _ = io.Copy(io.Discard, r.Body)
	}
	other := httptest.NewServer(http.HandlerFunc(record))
	defer other.Close()
	var self *httptest.Server
	self = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to-other":
			http.Redirect(w, r, other.URL+"/landing-"+r.Method, http.StatusTemporaryRedirect)
		case "/to-self":
			http.Redirect(w, r, self.URL+"/landing", http.StatusFound)
		default:
			record(w, r)
		}
	}))
	defer self.Close()
	selfURL, _ := url.Parse(self.URL)
	otherURL, _ := url.Parse(other.URL)

	a := newStubAuth(time.Hour)
	a.host = hostKey(selfURL) // another port of 127.0.0.1 is another host
	tr := newStubTransport(a, nil)
	client := &http.Client{Transport: tr}
	tok := mustToken(t, tr.Session)

	resp, err := client.Post(self.URL+"/to-other", "text/plain", strings.NewReader("body"))
	require.NoError(t, err, "a redirect to an untrusted host is followed, not an error")
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	req, _ := http.NewRequest(http.MethodGet, self.URL+"/to-other", nil)
	req.Header.Set("X-Auth-Token", "caller-own-token-5678")
	resp, err = client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()

	resp, err = client.Get(self.URL + "/to-self")
	require.NoError(t, err)
	resp.Body.Close()

	mu.Lock()
	defer mu.Unlock()
	for _, path := range []string{"/landing-POST", "/landing-GET"} {
		require.Contains(t, seen, otherURL.Host+path)
		assert.Empty(t, seen[otherURL.Host+path], "no token, neither the session's nor the caller's, to the other host")
	}
	assert.Equal(t, []string{tok.ID}, seen[selfURL.Host+"/landing"], "a redirect within the trusted host keeps it")
}

func TestTransportRefusesRedirectToPlainHTTP(t *testing.T) {
	a := newStubAuth(time.Hour)
	svc := &stubService{hook: func(r *http.Request) *http.Response {
		if r.URL.Scheme == "https" {
			return textResponse(r, http.StatusFound, "", "Location", "http://keystone.test:5000/v3/x")
		}
		return nil
	}}
	client := &http.Client{Transport: newStubTransport(a, svc)}
	_, err := client.Get("https://keystone.test:5000/v3/x")
	recordErr(err)
	require.ErrorIs(t, err, ErrInsecureTransport)
	assert.Len(t, svc.requests(), 1)
}

func TestTransportDoesNotMutateTheRequest(t *testing.T) {
	a := newStubAuth(time.Hour)
	svc := &stubService{auth: a, hook: func(r *http.Request) *http.Response {
		r.Header.Set("Accept", "changed by the base") // a rude base transport
		r.Header.Add("X-Multi", "added by the base")
		r.Header["X-Spare"] = append(r.Header["X-Spare"], "appended by the base")
		return nil
	}}
	tr := newStubTransport(a, svc)
	a.revoke(mustToken(t, tr.Session)) // take the 401 path too

	req, _, _ := bodyRequest(t, http.MethodPost, "https://keystone.test:5000/v3/x?q=1", "content", true)
	req.Header.Set("Accept", "application/json")
	req.Header["X-Multi"] = []string{"1", "2"}
	spare := make([]string, 1, 4) // room after the value: a base's append must not use it
	spare[0] = "s"
	req.Header["X-Spare"] = spare
	header, urlString, body, ctx := req.Header.Clone(), req.URL.String(), req.Body, req.Context()
	headerMap := req.Header

	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Len(t, svc.requests(), 2)
	assert.Equal(t, header, req.Header)
	assert.Equal(t, []string{"s", ""}, spare[:2], "the caller's spare capacity untouched")
	assert.Equal(t, fmt.Sprintf("%p", headerMap), fmt.Sprintf("%p", req.Header))
	assert.Empty(t, req.Header.Get("X-Auth-Token"))
	assert.Equal(t, urlString, req.URL.String())
	assert.Equal(t, body, req.Body)
	assert.Equal(t, ctx, req.Context())
	assert.Nil(t, req.Response)
}

func TestTransportClosesTheBodyOnce(t *testing.T) {
	for name, tc := range map[string]struct {
		url     string
		getBody bool
		setup   func(*stubAuth, *stubService, *Transport)
		failed  bool
	}{
		"sent":           {url: "https://keystone.test:5000/v3/x"},
		"untrusted host": {url: "https://evil.test/", failed: true},
		"plain http":     {url: "http://keystone.test:5000/", failed: true},
		"no token": {url: "https://keystone.test:5000/", failed: true, setup: func(a *stubAuth, _ *stubService, _ *Transport) {
			a.failing.Store(true)
		}},
		"no session": {url: "https://keystone.test:5000/", failed: true, setup: func(_ *stubAuth, _ *stubService, tr *Transport) {
			tr.Session = nil
		}},
		"401 not replayable": {url: "https://keystone.test:5000/", setup: revokeFirst},
		"401 replayed":       {url: "https://keystone.test:5000/", getBody: true, setup: revokeFirst},
		"503 retried": {url: "https://keystone.test:5000/", getBody: true, setup: func(_ *stubAuth, svc *stubService, _ *Transport) {
			var once sync.Once
			svc.hook = func(r *http.Request) (resp *http.Response) {
				once.Do(func() { resp = textResponse(r, http.StatusServiceUnavailable, "busy", "Retry-After", "0") })
				return resp
			}
		}},
	} {
		t.Run(name, func(t *testing.T) {
			a := newStubAuth(time.Hour)
			svc := &stubService{auth: a}
			tr := newStubTransport(a, svc)
			if tc.setup != nil {
				tc.setup(a, svc, tr)
			}
			req, closes, replays := bodyRequest(t, http.MethodPut, tc.url, "content", tc.getBody)
			resp, err := tr.RoundTrip(req)
			recordErr(err)
			assert.Equal(t, int32(1), closes.Load(), "the caller's body")
			if tc.failed {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, int32(len(svc.requests())-1), replays.Load(), "each replayed body once")
		})
	}
}

func revokeFirst(a *stubAuth, _ *stubService, tr *Transport) {
	tok, _ := tr.Session.Token(context.Background())
	a.revoke(tok)
}

func TestTransportRetriesWithTheToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newStubAuth(time.Hour)
		var calls atomic.Int32
		svc := &stubService{auth: a, hook: func(r *http.Request) *http.Response {
			if calls.Add(1) == 1 {
				return textResponse(r, http.StatusTooManyRequests, "slow down", "Retry-After", "2")
			}
			return nil
		}}
		tr := newStubTransport(a, svc)
		start := time.Now()
		resp, err := get(t, tr, "https://keystone.test:5000/v3/x")
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, 2*time.Second, time.Since(start))
		for _, r := range svc.requests() {
			assert.Equal(t, mustToken(t, tr.Session).ID, r.Header.Get("X-Auth-Token"))
		}

		calls.Store(0)
		tr.Retry = &RetryPolicy{MaxAttempts: 1}
		resp, err = get(t, tr, "https://keystone.test:5000/v3/x")
		require.NoError(t, err)
		assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "retries off")
	})
}

func TestTransportDefaultBase(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Header.Get("X-Auth-Token"))
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	a := newStubAuth(time.Hour)
	a.host = hostKey(u)
	s := NewSession(a, &SessionOptions{Logger: testLogger()})
	resp, err := s.Client().Get(srv.URL)
	require.NoError(t, err)
	assert.Equal(t, mustToken(t, s).ID, readBody(t, resp))
}

func TestTransportErrorsShowNoToken(t *testing.T) {
	a := newStubAuth(time.Hour)
	tr := newStubTransport(a, &stubService{})
	tok := mustToken(t, tr.Session)
	_, err := get(t, tr, "https://evil.test/?token="+tok.ID)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), tok.ID)
	assert.Contains(t, err.Error(), "evil.test:443")
}

func TestAppendHostKeyMatchesHostKey(t *testing.T) {
	for _, raw := range []string{
		"https://Keystone.Example.COM/v3", "http://h", "https://h:8443", "HTTP://H:80/", "https://[::1]/x",
		"https://[FE80::1%25eth0]:5000/", "https://ÉCOLE.test/", "ftp://h/", "https://h:/", "//h",
	} {
		u, err := url.Parse(raw)
		require.NoError(t, err)
		assert.Equal(t, hostKey(u), string(appendHostKey(nil, u)), raw)
	}
}

func TestTrustedHostsReadsKeystoneCatalogURLs(t *testing.T) {
	tok := &Token{authHost: "id.test:5000", Catalog: Catalog{{Endpoints: []Endpoint{
		{URL: "http://internal.regiontwo.example.test:8776/v3/%(project_id)s"},
		{URL: "https://Object.Test/v1/AUTH_%(tenant_id)s?x=%zz"},
		{URL: "not a url"},
		{URL: ""},
	}}}}
	assert.Equal(t, hostSet{
		"id.test:5000": true, "internal.regiontwo.example.test:8776": true, "object.test:443": true,
	}, trustedHosts(tok).keys)
}

// TestTransportConcurrentUse runs many requests, refreshes and invalidations
// at once for the race detector, with real goroutine scheduling.
func TestTransportConcurrentUse(t *testing.T) {
	a := newStubAuth(time.Hour)
	svc := &stubService{auth: a}
	tr := newStubTransport(a, svc)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			for j := range 20 {
				req, _, _ := bodyRequest(t, http.MethodPost, "https://keystone.test:5000/v3/x", "body", true)
				resp, err := tr.RoundTrip(req)
				if !assert.NoError(t, err) {
					return
				}
				// A 401 only if the renewed token was revoked too before the resend.
				assert.Contains(t, []int{http.StatusOK, http.StatusUnauthorized}, resp.StatusCode)
				resp.Body.Close()
				if (i+j)%25 == 0 {
					if tok, err := tr.Session.Token(context.Background()); err == nil {
						a.revoke(tok)
					}
				}
			}
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, a.callCount(), 41, "renewals only for the 40 revoked tokens")
}
