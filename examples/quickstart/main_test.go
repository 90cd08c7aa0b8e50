package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ksauth/ksauth"
	"github.com/ksauth/ksauth/keystonetest"
)

// wire is an http.RoundTripper that remembers every token that crossed
// it: the X-Auth-Token of requests and the X-Subject-Token of answers.
type wire struct {
	mu       sync.Mutex
	requests int
	issued   map[string]bool // X-Subject-Token of successful logins
	tokens   map[string]bool // every token seen
}

func newWire() *wire { return &wire{issued: map[string]bool{}, tokens: map[string]bool{}} }

func (w *wire) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.requests++
	if t := req.Header.Get("X-Auth-Token"); t != "" {
		w.tokens[t] = true
	}
	if resp != nil {
		if t := resp.Header.Get("X-Subject-Token"); t != "" && resp.StatusCode == http.StatusCreated {
			w.issued[t] = true
			w.tokens[t] = true
		}
	}
	return resp, err
}

var summaryRE = regexp.MustCompile(`(?m)^Summary: (\d+) requests?, (\d+) authentications?, (\d+) failures?, [0-9.]+(µs|ms|s) total$`)

// summary parses the summary line: requests, authentications, failures.
func summary(t *testing.T, out string) (requests, logins, failures int) {
	t.Helper()
	m := summaryRE.FindStringSubmatch(out)
	require.NotNil(t, m, "no summary line in:\n%s", out)
	n := func(s string) int {
		v, err := strconv.Atoi(s)
		require.NoError(t, err)
		return v
	}
	return n(m[1]), n(m[2]), n(m[3])
}

// assertNoSecrets checks that out holds none of the secrets.
func assertNoSecrets(t *testing.T, out string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		require.NotEmpty(t, s)
		assert.NotContains(t, out, s, "a secret was printed")
	}
}

func TestQuickstartOffline(t *testing.T) {
	w := newWire()
	var out strings.Builder
	err := runWith(context.Background(), &out, []string{}, w)
	text := out.String()
	require.NoError(t, err, text)

	for _, title := range []string{
		"1. Password login",
		"2. Token",
		"3. Service catalog",
		"4. Authenticated request through ksauth.Transport",
		"5. Rejected token (401) renewed by one login",
		"6. Rate limited (429): Retry-After waited out",
		"7. Early refresh of a short-lived token",
		"8. Untrusted host refused",
		"9. Token shared between processes (FileStore)",
	} {
		assert.Contains(t, text, "\n"+title+"\n")
	}
	// What each step shows.
	assert.Regexp(t, `Roles +member, reader`, text)
	assert.Regexp(t, `compute +nova +public +RegionOne +http://127\.0\.0\.1:\d+/compute/v2\.1`, text)
	assert.Regexp(t, `GET +/compute/v2\.1 +401 Unauthorized`, text)
	assert.Regexp(t, `Logins +1 -> 2 +\(1 new login\)`, text)
	assert.Regexp(t, `GET +/compute/v2\.1 +429 Too Many Requests +token sha256:[0-9a-f]{8}, Retry-After: 1`, text)
	assert.Regexp(t, `Requests +\d+ sent, 0 failed`, text)
	assert.Regexp(t, `Renewals +\d+ of [1-9]\d* before the token expired`, text)
	assert.Regexp(t, `errors\.Is +ksauth\.ErrUntrustedHost: true`, text)
	assert.Regexp(t, `Server saw +0 requests, 0 with X-Auth-Token`, text)
	assert.Regexp(t, `Second process +from the store: token sha256:[0-9a-f]{8} \(logins (\d+)\)`, text)
	assert.Regexp(t, `Store entry +1 file, mode 0600, sealed with AES-256-GCM, token not in it: true`, text)
	assert.NotRegexp(t, `(?m)[ \t]+$`, text, "trailing whitespace")

	requests, logins, failures := summary(t, text)
	assert.Zero(t, failures)
	w.mu.Lock()
	defer w.mu.Unlock()
	assert.Equal(t, w.requests, requests, "requests in the summary")
	assert.Equal(t, len(w.issued), logins, "authentications in the summary")
	require.GreaterOrEqual(t, len(w.issued), 4, "the walkthrough logs in at least 4 times")

	secrets := []string{keystonetest.DemoPassword}
	for tok := range w.tokens {
		secrets = append(secrets, tok)
		assert.Contains(t, text, fingerprintOf(tok), "every token sent is shown by its fingerprint")
	}
	assertNoSecrets(t, text, secrets...)
}

// cloudEnv is an OpenRC environment for the demo user of srv, with HOME
// and XDG_CONFIG_HOME in dir so that no clouds.yaml of the machine is read.
func cloudEnv(srv *keystonetest.Server, dir string) []string {
	return []string{
		"HOME=" + dir,
		"XDG_CONFIG_HOME=" + dir,
		"OS_AUTH_URL=" + srv.AuthURL(),
		"OS_USERNAME=" + keystonetest.DemoUserName,
		"OS_PASSWORD=" + keystonetest.DemoPassword,
		"OS_PROJECT_NAME=" + keystonetest.DemoProjectName,
		"OS_USER_DOMAIN_NAME=" + keystonetest.DefaultDomainName,
		"OS_PROJECT_DOMAIN_NAME=" + keystonetest.DefaultDomainName,
	}
}

// assertReadOnly checks that srv saw only logins and version discovery.
func assertReadOnly(t *testing.T, srv *keystonetest.Server) {
	t.Helper()
	for route, n := range srv.RequestCounts() {
		ok := route == "POST /v3/auth/tokens" || strings.HasPrefix(route, "GET /")
		assert.True(t, ok && !strings.Contains(route, "compute") && !strings.Contains(route, "object-store"),
			"the read-only path sent %d %s", n, route)
	}
}

func TestQuickstartRealCloudPath(t *testing.T) {
	srv := keystonetest.NewServer()
	defer srv.Close()

	var out strings.Builder
	err := run(context.Background(), &out, cloudEnv(srv, t.TempDir()))
	text := out.String()
	require.NoError(t, err, text)

	assert.Contains(t, text, "ksauth quickstart: the cloud of the OS_* variables (read-only)\n")
	assert.Contains(t, text, "Keystone   "+srv.AuthURL()+"\n")
	for _, title := range []string{"1. Login", "2. Token", "3. Service catalog"} {
		assert.Contains(t, text, "\n"+title+"\n")
	}
	assert.NotContains(t, text, "\n4. ", "no fault steps against a real cloud")
	assert.Contains(t, text, "(password of user demo)")
	assert.Regexp(t, `Project +demo \(`+keystonetest.DemoProjectID+`\)`, text)
	assert.Regexp(t, `object-store +swift +public +RegionOne +http://`, text)

	requests, logins, failures := summary(t, text)
	assert.Zero(t, failures)
	assert.Equal(t, 1, logins)
	assert.Equal(t, 1, srv.Requests("POST /v3/auth/tokens"))
	assert.Equal(t, srv.Requests(""), requests)
	assertReadOnly(t, srv)
	assertNoSecrets(t, text, keystonetest.DemoPassword)
}

func TestQuickstartCloudsYAML(t *testing.T) {
	srv := keystonetest.NewServer()
	defer srv.Close()
	dir := t.TempDir()
	file := filepath.Join(dir, "clouds.yaml")
	yaml := "clouds:\n  fake:\n    auth_type: v3applicationcredential\n    auth:\n" +
		"      auth_url: " + srv.URL + "\n" + // the root: version discovery
		"      application_credential_id: " + keystonetest.DemoAppCredID + "\n" +
		"      application_credential_secret: " + keystonetest.DemoAppCredSecret + "\n"
	require.NoError(t, os.WriteFile(file, []byte(yaml), 0o600))

	var out strings.Builder
	err := run(context.Background(), &out, []string{"HOME=" + dir, "XDG_CONFIG_HOME=" + dir, "OS_CLIENT_CONFIG_FILE=" + file, "OS_CLOUD=fake"})
	text := out.String()
	require.NoError(t, err, text)

	assert.Contains(t, text, `ksauth quickstart: cloud "fake" of clouds.yaml (read-only)`)
	assert.Contains(t, text, "(application credential)")
	assert.Regexp(t, `App credential +`+keystonetest.DemoAppCredName, text)
	requests, logins, failures := summary(t, text)
	assert.Equal(t, []int{srv.Requests(""), 1, 0}, []int{requests, logins, failures})
	assertReadOnly(t, srv)
	assertNoSecrets(t, text, keystonetest.DemoAppCredSecret)
}

func TestQuickstartRealCloudFailure(t *testing.T) {
	srv := keystonetest.NewServer()
	defer srv.Close()
	const wrong = "not-the-password-0x5eC"
	env := append(cloudEnv(srv, t.TempDir()), "OS_PASSWORD="+wrong) // the last value wins

	var out strings.Builder
	err := run(context.Background(), &out, env)
	require.Error(t, err)
	assert.ErrorIs(t, err, ksauth.ErrUnauthorized)
	assert.Contains(t, err.Error(), "logging in")
	assertNoSecrets(t, err.Error()+out.String(), wrong)
	assert.NotRegexp(t, `(?m)^Summary:`, out.String(), "no summary after a failure")
}

func TestQuickstartBadConfig(t *testing.T) {
	dir := t.TempDir()
	err := run(context.Background(), &strings.Builder{}, []string{"HOME=" + dir, "XDG_CONFIG_HOME=" + dir, "OS_CLOUD=nowhere"})
	var cerr *ksauth.ConfigError
	require.ErrorAs(t, err, &cerr)
	assert.Contains(t, err.Error(), "reading the cloud configuration")
}

func TestGetenvLastWins(t *testing.T) {
	env := []string{"A=1", "OS_CLOUD=x", "B", "OS_CLOUD=y"}
	assert.Equal(t, "y", getenv(env, "OS_CLOUD"))
	assert.Equal(t, "", getenv(env, "B"))
	assert.Equal(t, "", getenv(env, "C"))
}

func TestDur(t *testing.T) {
	for d, want := range map[time.Duration]string{
		850 * time.Microsecond:                      "850µs",
		2340 * time.Microsecond:                     "2.3ms",
		123456 * time.Microsecond:                   "123ms",
		1004 * time.Millisecond:                     "1.00s",
		2500 * time.Millisecond:                     "2.50s",
		59*time.Minute + 59*time.Second:             "59m59s",
		time.Hour - time.Millisecond:                "1h00m",
		23*time.Hour + 59*time.Minute + 1e9:         "23h59m",
		-300 * time.Millisecond:                     "-300ms",
		time.Minute:                                 "1m0s",
		time.Minute - time.Millisecond:              "1m0s",
		59*time.Second + 990*time.Millisecond - 1e6: "59.99s",
	} {
		assert.Equal(t, want, dur(d), "dur(%v)", time.Duration(d))
	}
}

func TestFingerprintMatchesKsauth(t *testing.T) {
	tok := &ksauth.Token{ID: "gAAAAABexample-token-id"}
	fp := fingerprintOf(tok.ID)
	assert.Regexp(t, `^sha256:[0-9a-f]{8}$`, fp)
	assert.Contains(t, tok.String(), fp, "the same fingerprint as ksauth's own output")
	assert.NotContains(t, fp, tok.ID)
	assert.Equal(t, "-", fingerprint(nil))
}

func TestDisplayURLHidesSecrets(t *testing.T) {
	assert.Equal(t, "https://h:5000/v3", displayURL("https://user:pw@h:5000/v3?token=secret#frag"))
	assert.Equal(t, "(unparsable URL)", displayURL("not a url"))
}
