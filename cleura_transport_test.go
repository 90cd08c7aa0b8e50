package ksauth

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cleuraClient is a Session and Transport over the fake: what a user of
// Cleura's REST API builds.
func cleuraClient(t *testing.T, f *fakeCleura, c *Cleura) (*Session, *http.Client) {
	t.Helper()
	s := NewSession(c, &SessionOptions{Logger: testLogger()})
	return s, &http.Client{Transport: &Transport{Session: s, Base: f.mock}}
}

const domainsURL = fxCleuraBase + "/accesscontrol/v1/openstack/domains"

// TestCleuraTransportRenewsAnInvalidToken: a 403 "Invalid token" costs one
// re-login, with the SMS code asked again, and one resend; the caller gets
// the final answer's full body.
func TestCleuraTransportRenewsAnInvalidToken(t *testing.T) {
	f := newFakeCleura(t, CleuraV2)
	f.factor = "sms"
	long := `[{"id":"d1","area":{"regions":[` + strings.Repeat(`{"id":"sto2"},`, 500) + `{"id":"fra1"}]}}]`
	f.service = func(w http.ResponseWriter, r *http.Request, valid bool) {
		if !valid {
			cleuraError(w, http.StatusForbidden, "Invalid token", nil)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, long)
	}
	c := f.cleura(fxCleuraCode)
	var asked atomic.Int32
	c.TwoFactor = func(context.Context, TwoFactorChallenge) (string, error) {
		asked.Add(1)
		return fxCleuraCode, nil
	}
	_, client := cleuraClient(t, f, c)

	assert.Equal(t, long, getBody(t, client, domainsURL, http.StatusOK))
	f.revokeAll()
	assert.Equal(t, long, getBody(t, client, domainsURL, http.StatusOK))

	logins, sms, issued := f.counts()
	assert.Equal(t, 2, logins)
	assert.Equal(t, 2, sms)
	assert.Equal(t, 2, issued)
	assert.EqualValues(t, 2, asked.Load(), "TwoFactor asked again for the re-login")
	var service []fakeRequest
	for _, r := range f.received() {
		if r.Path == "/accesscontrol/v1/openstack/domains" {
			service = append(service, r)
		}
	}
	require.Len(t, service, 3, "first call, the refused one, its resend")
	assert.Equal(t, fxCleuraLogin, service[2].Login)
	assert.Equal(t, "cleura-token-0002-8d1f", service[2].Token)
}

// TestCleuraTransportReturnsRealRefusals: a 403 that is not about the token
// is the caller's, body intact, with no re-login.
func TestCleuraTransportReturnsRealRefusals(t *testing.T) {
	for _, message := range []string{"No access: compute.server.create", "Forbidden IP"} {
		t.Run(message, func(t *testing.T) {
			f := newFakeCleura(t, CleuraV2)
			padding := strings.Repeat("x", 3*refusalPeek) // longer than the look at it
			body := `{"error":{"code":403,"message":"` + message + `","errors":[{"key":"padding","value":"` + padding + `"}]}}`
			f.service = func(w http.ResponseWriter, _ *http.Request, _ bool) {
				w.WriteHeader(http.StatusForbidden)
				_, _ = io.WriteString(w, body)
			}
			_, client := cleuraClient(t, f, f.cleura(""))
			assert.Equal(t, body, getBody(t, client, domainsURL, http.StatusForbidden))
			logins, _, _ := f.counts()
			assert.Equal(t, 1, logins)
		})
	}
}

// TestCleuraTransport403StormReauthenticatesOnce: 1000 concurrent requests
// refused with the same old token cause exactly one re-login.
func TestCleuraTransport403StormReauthenticatesOnce(t *testing.T) {
	f := newFakeCleura(t, CleuraV2)
	_, client := cleuraClient(t, f, f.cleura(""))
	getBody(t, client, domainsURL, http.StatusNoContent)
	f.revokeAll()

	var wg sync.WaitGroup
	statuses := make([]int, 1000)
	for i := range statuses {
		wg.Go(func() {
			resp, err := client.Get(domainsURL)
			if !assert.NoError(t, err) {
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	wg.Wait()
	logins, _, issued := f.counts()
	assert.Equal(t, 2, logins, "one login, one re-login")
	assert.Equal(t, 2, issued)
	for i, s := range statuses {
		assert.Equal(t, http.StatusNoContent, s, "request %d", i)
	}
}

// TestCleuraAndKeystoneTokensThroughOneTransportType: a Keystone token's
// 403 is a refusal (no re-login), its header is X-Auth-Token alone; a
// Cleura token's carries the login too.
func TestCleuraAndKeystoneTokensThroughOneTransportType(t *testing.T) {
	a := newStubAuth(0)
	var seen http.Header
	var refusals atomic.Int32
	base := rtFunc(func(r *http.Request) (*http.Response, error) {
		seen = r.Header.Clone()
		refusals.Add(1)
		return textResponse(r, http.StatusForbidden, `{"error":{"code":403,"message":"Invalid token"}}`), nil
	})
	s := NewSession(a, &SessionOptions{Logger: testLogger()})
	resp, err := (&Transport{Session: s, Base: base}).RoundTrip(mustRequest(t, "https://keystone.test:5000/v3/x"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "a Keystone token is refused with a 401 only")
	assert.Equal(t, 1, a.callCount(), "no re-authentication")
	assert.EqualValues(t, 1, refusals.Load())
	assert.Empty(t, seen.Get("X-Auth-Login"))
	assert.NotEmpty(t, seen.Get("X-Auth-Token"))
}

// TestCleuraTokenTrustsItsOwnHostOnly: no catalog, so only the login host
// and AllowedHosts see the token.
func TestCleuraTokenTrustsItsOwnHostOnly(t *testing.T) {
	f := newFakeCleura(t, CleuraV2)
	s, _ := cleuraClient(t, f, f.cleura(""))
	tr := &Transport{Session: s, Base: f.mock}
	_, err := tr.RoundTrip(mustRequest(t, "https://other.cleura.test/x"))
	assert.ErrorIs(t, err, ErrUntrustedHost)
	_, err = tr.RoundTrip(mustRequest(t, "https://rest.cleura.test:8443/x"))
	assert.ErrorIs(t, err, ErrUntrustedHost, "another port is another host")

	tr = &Transport{Session: s, Base: f.mock, AllowedHosts: []string{"other.cleura.test"}}
	resp, err := tr.RoundTrip(mustRequest(t, "https://other.cleura.test/x"))
	require.NoError(t, err)
	resp.Body.Close()
	r := f.received()
	assert.Equal(t, fxCleuraLogin, r[len(r)-1].Login)
}

func getBody(t *testing.T, client *http.Client, url string, status int) string {
	t.Helper()
	resp, err := client.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, status, resp.StatusCode)
	return string(body)
}

func mustRequest(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	return req
}
