package ksauth

// Fuzz targets. The seed corpus in testdata/fuzz/<FuzzName>/ holds the
// recorded response bodies and the auth URL table; run e.g.
//
//	go test -run '^$' -fuzz=FuzzTokenResponse -fuzztime=60s
//
// and keep any crasher the fuzzer writes there as a regression seed.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fuzzRT is a RoundTripper made of a function.
type fuzzRT func(*http.Request) (*http.Response, error)

func (f fuzzRT) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func fuzzResponse(req *http.Request, status int, body []byte, header ...string) *http.Response {
	resp := &http.Response{
		StatusCode: status, Header: http.Header{}, Request: req,
		Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)),
	}
	for i := 0; i+1 < len(header); i += 2 {
		resp.Header.Set(header[i], header[i+1])
	}
	return resp
}

const fuzzTokenID = "fuzz-subject-token-3f9a1c"

// FuzzTokenResponse feeds arbitrary bytes as the body of a 201 to
// POST /v3/auth/tokens. It must never panic; a failure is a *MalformedResponseError;
// a success is a token consistent with what the body says.
func FuzzTokenResponse(f *testing.F) {
	f.Add([]byte(`{"token":{}}`))
	f.Add([]byte(`{"token":{"expires_at":null,"issued_at":null}}`))
	f.Add([]byte(`{"token":{"expires_at":"9999-12-31T23:59:59Z","issued_at":"0001-01-01T00:00:00Z"}}`))
	f.Add([]byte(`{"token":{"catalog":[{"type":"compute","endpoints":[{"interface":"public","url":"https://x"}]}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		client := &http.Client{Transport: fuzzRT(func(req *http.Request) (*http.Response, error) {
			return fuzzResponse(req, 201, body, "Content-Type", "application/json", "X-Subject-Token", fuzzTokenID), nil
		})}
		k := &Keystone{AuthURL: mockBase + "/v3", Credentials: fxAliceByID, HTTPClient: client, Retry: &RetryPolicy{MaxAttempts: 1}}
		before := time.Now()
		tok, err := k.Authenticate(context.Background())
		after := time.Now()
		if err != nil {
			var re *MalformedResponseError
			if !errors.As(err, &re) || tok != nil {
				t.Fatalf("want only a *MalformedResponseError, got %T %v (token %v)", err, err, tok)
			}
			if re.StatusCode != 201 || re.Method != "POST" {
				t.Fatalf("MalformedResponseError fields: %+v", re)
			}
			_ = err.Error()
			return
		}
		var w wireTokenResponse
		if json.Unmarshal(body, &w) != nil || w.Token == nil {
			t.Fatalf("accepted a body the wire types reject: %q", body)
		}
		wt := w.Token
		if tok.ID != fuzzTokenID || tok.authHost != "keystone.test:5000" {
			t.Fatalf("ID/authHost: %q %q", tok.ID, tok.authHost)
		}
		// Expiry: the server's lifetime on the local clock.
		switch {
		case wt.ExpiresAt.IsZero():
			if !tok.ExpiresAt.IsZero() || !tok.Valid(after.Add(1000*time.Hour)) {
				t.Fatalf("null expires_at must never expire, got %v", tok.ExpiresAt)
			}
		case wt.IssuedAt.IsZero():
			if !tok.ExpiresAt.Equal(wt.ExpiresAt.Time) {
				t.Fatalf("without issued_at ExpiresAt = expires_at: %v vs %v", tok.ExpiresAt, wt.ExpiresAt.Time)
			}
		default:
			life := wt.ExpiresAt.Sub(wt.IssuedAt.Time)
			if life > 0 && wt.IssuedAt.Nanosecond() == 0 { // a whole-second issued_at may hide up to a second
				life -= min(time.Second, life/2)
			}
			if tok.ExpiresAt.Before(before.Add(life)) || tok.ExpiresAt.After(after.Add(life)) {
				t.Fatalf("ExpiresAt %v not sent+%v (sent in [%v, %v])", tok.ExpiresAt, life, before, after)
			}
		}
		if !tok.IssuedAt.Equal(wt.IssuedAt.Time) {
			t.Fatalf("IssuedAt %v vs %v", tok.IssuedAt, wt.IssuedAt.Time)
		}
		// Scope and content mirror the body.
		if (tok.Project == nil) != (wt.Project == nil) || tok.Project != nil && tok.Project.ID != wt.Project.ID {
			t.Fatalf("project: %+v vs %+v", tok.Project, wt.Project)
		}
		if (tok.Trust == nil) != (wt.Trust == nil) || tok.System != (wt.System != nil && wt.System.All) {
			t.Fatalf("trust/system mismatch")
		}
		if len(tok.Catalog) != len(wt.Catalog) || len(tok.Roles) != len(wt.Roles) || len(tok.Methods) != len(wt.Methods) {
			t.Fatalf("catalog/roles/methods lengths")
		}
		if (tok.ApplicationCredential == nil) != (wt.ApplicationCredential == nil) {
			t.Fatalf("application credential")
		}
		// Lookups and printing never panic, and never show the id.
		for _, o := range []EndpointOpts{{Type: "compute"}, {Type: "volumev3", Region: "RegionOne"}, {Type: "identity", Interfaces: []string{"internalURL", "admin"}}, {Type: "x", Name: "y"}} {
			u, err := tok.Catalog.Endpoint(o)
			if err == nil && u == "" && !catalogHasEmptyURL(tok.Catalog) {
				t.Fatalf("empty URL without error for %+v", o)
			}
			if err != nil {
				_ = err.Error()
			}
		}
		if !bytes.Contains(body, []byte(fuzzTokenID)) {
			for _, s := range []string{tok.String(), fmt.Sprintf("%v", tok), fmt.Sprintf("%+v", tok), fmt.Sprintf("%#v", *tok)} {
				if strings.Contains(s, fuzzTokenID) {
					t.Fatalf("token id printed: %s", s)
				}
			}
			if b, err := json.Marshal(tok); err == nil && bytes.Contains(b, []byte(fuzzTokenID)) {
				t.Fatalf("token id in JSON: %s", b)
			}
		}
	})
}

func catalogHasEmptyURL(c Catalog) bool {
	for _, s := range c {
		for _, e := range s.Endpoints {
			if e.URL == "" {
				return true
			}
		}
	}
	return false
}

// FuzzReceiptResponse feeds arbitrary bytes as the body of a 401 carrying an
// Openstack-Auth-Receipt: the result is an *MFARequiredError (or, for an
// unreadable body, a *MalformedResponseError), and its text never shows the receipt.
func FuzzReceiptResponse(f *testing.F) {
	f.Add([]byte(`{"receipt":{"methods":["password"],"user":{"id":"u"},"expires_at":"2026-11-23T06:48:12.000000Z"},"required_auth_methods":[["totp","password"]]}`))
	f.Add([]byte(`{"required_auth_methods":[[]]}`))
	f.Add([]byte(`{"required_auth_methods":null}`))
	const receipt = "gAAAAAB-fuzz-receipt-77"
	f.Fuzz(func(t *testing.T, body []byte) {
		var posts int
		client := &http.Client{Transport: fuzzRT(func(req *http.Request) (*http.Response, error) {
			posts++
			if req.Header.Get("Openstack-Auth-Receipt") != "" {
				return fuzzResponse(req, 401, []byte(`{"error":{"message":"Could not find auth receipt: `+receipt+`"}}`)), nil
			}
			return fuzzResponse(req, 401, body, "Openstack-Auth-Receipt", receipt), nil
		})}
		k := &Keystone{AuthURL: mockBase + "/v3", Credentials: fxCarolPassword, Scope: fxOpsByName, HTTPClient: client, Retry: &RetryPolicy{MaxAttempts: 1},
			Passcode: func(context.Context) (string, error) { return "123456", nil }}
		tok, err := k.Authenticate(context.Background())
		if tok != nil || err == nil {
			t.Fatalf("a 401 gave a token")
		}
		var mfa *MFARequiredError
		var re *MalformedResponseError
		var he *HTTPError
		switch {
		case errors.As(err, &mfa):
			if mfa.Receipt != receipt {
				t.Fatalf("receipt %q", mfa.Receipt)
			}
		case errors.As(err, &re), errors.As(err, &he) && posts == 2:
		default:
			t.Fatalf("unexpected error %T %v", err, err)
		}
		for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			if strings.Contains(s, receipt) || strings.Contains(s, "123456") {
				t.Fatalf("secret shown: %s", s)
			}
		}
		if posts > 2 {
			t.Fatalf("%d requests", posts)
		}
	})
}

// FuzzAuthURL checks the auth URL normaliser: it never panics; what it
// accepts keeps the host, loses query, fragment and trailing slashes; a v3
// path is used as is (no request); discovery and its fallback never produce
// "/v3/v3" unless the input had it.
func FuzzAuthURL(f *testing.F) {
	for _, s := range []string{
		"https://h:5000", "https://h:5000/", "https://h:5000/v3", "https://h:5000/v3/", "https://h/identity",
		"https://h/identity/", "https://h/identity/v3", "https://h/identity/v3/", "http://127.0.0.1:5055/v3",
		"https://[::1]:5000/v3//", " https://h/v3?x=1#y ", "https://h/v3%2F", "https://u:p@h/v3", "HTTPS://H/V3",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := parseAuthURL(raw)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field != "AuthURL" {
				t.Fatalf("want a ValidationError on AuthURL, got %T %v", err, err)
			}
			return
		}
		in, perr := url.Parse(strings.TrimSpace(raw))
		if perr != nil {
			t.Fatalf("accepted what url.Parse rejects: %v", perr)
		}
		if u.Host != in.Host || u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(u.Path, "/") {
			t.Fatalf("normalised %q to %q", raw, u)
		}
		// The path as a request would use it ("/v3//v3" is "/v3/v3").
		inHasV3V3 := strings.Contains(path.Clean("/"+in.Path), "/v3/v3")

		var requests int
		client := &http.Client{Transport: fuzzRT(func(req *http.Request) (*http.Response, error) {
			requests++
			if req.Method != http.MethodGet {
				t.Fatalf("%s during Endpoint", req.Method)
			}
			if requests == 1 { // advertise the v3 endpoint under the URL itself
				href := strings.TrimSuffix(u.String(), "/") + "/v3/"
				doc := `{"versions":{"values":[{"id":"v3.14","status":"stable","links":[{"rel":"self","href":` + jsonString(href) + `}]}]}}`
				return fuzzResponse(req, 300, []byte(doc)), nil
			}
			return nil, errors.New("unreachable")
		})}
		k := &Keystone{AuthURL: raw, HTTPClient: client, AllowInsecureHTTP: true, Retry: &RetryPolicy{MaxAttempts: 1}}
		got, err := k.IdentityURL(context.Background())
		if err != nil {
			return // e.g. a scheme refused
		}
		if isV3Path(u.Path) {
			if requests != 0 || got.String() != u.String() {
				t.Fatalf("v3 path %q: %d requests, endpoint %q", u, requests, got)
			}
		}
		if got.Host != in.Host {
			t.Fatalf("host changed: %q → %q", in.Host, got.Host)
		}
		for _, p := range []string{got.Path, got.EscapedPath(), got.JoinPath("auth", "tokens").EscapedPath()} {
			if !inHasV3V3 && strings.Contains(p, "/v3/v3") {
				t.Fatalf("%q became %q", raw, got)
			}
		}
	})
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// FuzzStoreEntry: whatever a token store hands back (raw bytes, or a sealed
// entry of any JSON), restoring it is a token or errStoreEntry: never a
// panic, and a restored token always has an ID and an auth host.
func FuzzStoreEntry(f *testing.F) {
	keys, err := deriveStoreKeys(bytes.Repeat([]byte{1}, 32), []byte("identity"), []string{"secret"})
	if err != nil {
		f.Fatal(err)
	}
	tok := &Token{ID: "tok", ExpiresAt: time.Now().Add(time.Hour), Methods: []string{"password"}, authHost: "h:443",
		Project: &Project{ID: "p"}, Roles: []Role{{ID: "r", Name: "member"}}, Catalog: Catalog{{Type: "compute"}}}
	good, err := keys.sealToken(tok, time.Now(), 30*time.Minute)
	if err != nil {
		f.Fatal(err)
	}
	plain, _ := keys.open(good)
	f.Add(good, false)
	f.Add(plain, true)
	f.Add([]byte(`{"version":1,"provider":"cleura","id":"x","auth_host":"h","margin_ms":-99999999999999}`), true)
	f.Add([]byte(`{"version":1,"provider":"keystone","id":"x","auth_host":"h","catalog":[{"endpoints":null}]}`), true)
	f.Add([]byte("KST1"), false)
	f.Fuzz(func(t *testing.T, data []byte, seal bool) {
		value := data
		if seal {
			value = keys.seal(data)
		}
		got, err := keys.openToken(value, time.Now(), time.Minute)
		switch {
		case err != nil && !errors.Is(err, errStoreEntry):
			t.Fatalf("error %v is not errStoreEntry", err)
		case err == nil && (got.ID == "" || got.authHost == ""):
			t.Fatalf("restored a token without ID or auth host: %+v", got)
		case err == nil:
			_, _ = newEntry(got, time.Now(), time.Minute) // must not panic either
		}
	})
}

// FuzzLoadConfig feeds arbitrary clouds.yaml text and OS_* variables (one
// KEY=value per line) to LoadConfig, beside a secure.yaml holding a
// password for cloud "a". It must never panic; a failure is a
// *ConfigError; a success is a Keystone or a Cleura login, never both; the
// secure.yaml password is never in the error text.
func FuzzLoadConfig(f *testing.F) {
	const password = "fuzz-secure-pw-77"
	for _, seed := range []struct{ clouds, env, cloud string }{
		{"clouds:\n  a:\n    auth: {auth_url: 'https://k.test/v3', username: u, user_domain_name: D}\n", "", "a"},
		{"clouds:\n  a:\n    auth_type: cleura\n    auth: {username: carla}\n", "", "a"},
		{"clouds:\n  a:\n    profile: cleura\n    regions: [Sto2, {name: Kna1, values: {interface: internal}}]\n    auth: {user_id: u}\n", "", "a"},
		{"clouds:\n  a:\n    auth_type: v3multifactor\n    auth_methods: [v3password, v3totp]\n    auth: {auth_url: 'https://k.test', user_id: u, passcode: '123456'}\n", "", "a"},
		{"clouds:\n  a:\n    verify: false\n    api_timeout: 2.5\n    auth: {auth_url: 'https://{region_name}.k.test/v3', application_credential_id: x}\n    region_name: r1\n", "", ""},
		{"", "OS_AUTH_URL=https://k.test/v3\nOS_USERNAME=alice\nOS_PASSWORD=pw\nOS_USER_DOMAIN_NAME=Default\nOS_PROJECT_NAME=demo", ""},
		{"", "OS_AUTH_TYPE=v3token\nOS_TOKEN=t\nOS_AUTH_URL=http://127.0.0.1:5000", ""},
		{"clouds: [1, 2]\n", "", ""},
		{"clouds:\n  a: &x\n    b: *x\n", "", "a"},
		{"{\"clouds\": {\"a\": {\"auth\": {\"auth_url\": 5}}}}", "OS_INSECURE=maybe", "a"},
	} {
		f.Add(seed.clouds, seed.env, seed.cloud)
	}
	f.Fuzz(func(t *testing.T, clouds, envText, cloud string) {
		if strings.Contains(clouds+envText+cloud, password) {
			t.Skip()
		}
		dir := t.TempDir()
		secure := "clouds:\n  a:\n    auth:\n      password: " + password + "\n"
		for name, text := range map[string]string{"clouds.yaml": clouds, "secure.yaml": secure} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		env := []string{"HOME=" + filepath.Join(dir, "home")}
		for _, kv := range strings.Split(envText, "\n") {
			if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "OS_") && !strings.Contains(k, "FILE") {
				env = append(env, kv) // files only from dir
			}
		}
		c, err := LoadConfig(&ConfigOptions{Cloud: cloud, Dir: dir, Env: env})
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("not a *ConfigError: %T %v", err, err)
			}
			if strings.Contains(fmt.Sprintf("%v %+v", err, err), password) {
				t.Fatalf("the password in the error: %v", err)
			}
			return
		}
		if (c.Keystone == nil) == (c.Cleura == nil) {
			t.Fatalf("Keystone %v, Cleura %v: want exactly one", c.Keystone != nil, c.Cleura != nil)
		}
		if c.AuthURL() == "" || c.Authenticator() == nil {
			t.Fatalf("no auth URL or authenticator: %+v", c)
		}
		if strings.Contains(fmt.Sprintf("%v %+v %#v %s", c, c, c, c), password) {
			t.Fatal("the password printed")
		}
	})
}
