package ksauth

// A hostile server echoes every secret it was sent back at the client in
// every place it can; none of them may surface in an error, in fmt output
// or in a log record (ksauth issue 6).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The secrets the hostile server is sent. None is token-shaped ("gAAAAA"),
// so only redaction against the request's own secrets can hide them; all
// are lower-case host-name characters, so that they fit in a redirect's host.
const (
	echoPassword    = "hostilepw-3f9q2"
	echoACSecret    = "hostileac-8k2m1"
	echoPasscode    = "482913"
	echoReceipt     = "hostilercpt-7w3e" // the receipt the server hands out, and one set by hand
	echoToken       = "hostiletok-5n8v1" // the X-Auth-Token sent, and a TokenExchange's token
	echoCallerToken = "hostilecaller-6p0r"
	echoSubject     = "hostilesubj-4h7j" // an X-Subject-Token being validated
	echoNewToken    = "hostilenew-1a2b"  // the X-Subject-Token the server issues
	echoCleuraPW    = "hostilecpw-2b6x"
	echoCleuraToken = "hostilectok-9d4z"
)

var echoSecrets = []string{echoPassword, echoACSecret, echoPasscode, echoReceipt, echoToken,
	echoCallerToken, echoSubject, echoNewToken, echoCleuraPW, echoCleuraToken}

// echoReply answers one request, putting echo (the secrets the server has
// been sent so far, joined by "-") wherever it likes.
type echoReply func(w http.ResponseWriter, r *http.Request, echo string)

// echoReplies are the places a server can echo a secret.
var echoReplies = map[string]echoReply{
	// Keystone's and Cleura's error body: title, message, field errors; and the request id.
	"error body": func(w http.ResponseWriter, _ *http.Request, e string) {
		w.Header().Set("X-Openstack-Request-Id", e)
		writeEcho(w, http.StatusBadRequest, `{"error":{"code":400,"title":"%[1]s","message":"%[1]s",`+
			`"errors":[{"key":"%[1]s","value":"%[1]s"}]}}`, e)
	},
	// A redirect to another host: the secret in the Location's user info, host, path and query.
	"redirect elsewhere": func(w http.ResponseWriter, _ *http.Request, e string) {
		w.Header().Set("Location", fmt.Sprintf("http://%[1]s:%[1]s@%[1]s.evil.test/%[1]s?%[1]s=%[1]s", e))
		w.WriteHeader(http.StatusTemporaryRedirect)
	},
	// A redirect net/http cannot parse, which it quotes in its error.
	"bad location": func(w http.ResponseWriter, _ *http.Request, e string) {
		w.Header().Set("Location", "http://"+e+".test/%zz"+e)
		w.WriteHeader(http.StatusTemporaryRedirect)
	},
	// A redirect to the same host, followed: the next hop's connection is
	// closed, and net/http's error names the Location's URL.
	"redirect here": func(w http.ResponseWriter, _ *http.Request, e string) {
		w.Header().Set("Location", "/followed/"+e+"?"+e)
		w.WriteHeader(http.StatusTemporaryRedirect)
	},
	// A redirect to the same host, followed: the next hop is answered 503,
	// to be retried at once.
	"redirect, then busy": func(w http.ResponseWriter, _ *http.Request, e string) {
		w.Header().Set("Location", "/busy/"+e+"?"+e)
		w.WriteHeader(http.StatusTemporaryRedirect)
	},
	"status line": func(w http.ResponseWriter, _ *http.Request, e string) {
		writeRaw(w, "HTTP/1.1 "+e+"\r\n\r\n")
	},
	"header line": func(w http.ResponseWriter, _ *http.Request, e string) {
		writeRaw(w, "HTTP/1.1 200 OK\r\nX-Echo "+e+"\r\nContent-Length: 0\r\n\r\n")
	},
	"timestamps": func(w http.ResponseWriter, _ *http.Request, e string) {
		w.Header().Set("X-Subject-Token", echoNewToken)
		writeEcho(w, http.StatusOK, `{"token":{"methods":["password"],"expires_at":"%[1]s","issued_at":"%[1]s"}}`, e)
	},
	"malformed JSON": func(w http.ResponseWriter, _ *http.Request, e string) {
		w.Header().Set("X-Subject-Token", echoNewToken)
		writeEcho(w, http.StatusOK, `{"token":{"methods":"%[1]s","user":{"name":"%[1]s"}},"result":"%[1]s","projects":`, e)
	},
	// A token that works, every printable field of it the secrets.
	"token fields": func(w http.ResponseWriter, _ *http.Request, e string) {
		w.Header().Set("X-Subject-Token", echoNewToken)
		writeEcho(w, http.StatusOK, `{"token":{"methods":["password","%[1]s"],
			"user":{"id":"%[1]s","name":"%[1]s","domain":{"id":"default","name":"%[1]s"}},
			"expires_at":"2099-01-01T01:00:00Z","issued_at":"2099-01-01T00:00:00Z","audit_ids":["%[1]s"],
			"project":{"id":"%[1]s","name":"%[1]s","domain":{"id":"default","name":"%[1]s"}},
			"roles":[{"id":"%[1]s","name":"%[1]s"}],
			"catalog":[{"type":"%[1]s","name":"%[1]s","endpoints":[{"interface":"public","region":"%[1]s","url":"https://%[1]s.test/v2.1"}]}]}}`, e)
	},
	// A multi-factor receipt whose method names are the secrets. They
	// still name a set that a passcode completes.
	"receipt": func(w http.ResponseWriter, _ *http.Request, e string) {
		w.Header().Set("Openstack-Auth-Receipt", echoReceipt)
		writeEcho(w, http.StatusUnauthorized, `{"receipt":{"methods":["password","%[1]s"],"user":{"id":"u-1","name":"%[1]s"},
			"expires_at":"2099-01-01T00:00:00Z"},"required_auth_methods":[["password","%[1]s","totp"]]}`, e)
	},
	"cleura result": func(w http.ResponseWriter, _ *http.Request, e string) {
		writeEcho(w, http.StatusOK, `{"result":"%[1]s","token":"%[1]s"}`, e)
	},
	"cleura options": func(w http.ResponseWriter, _ *http.Request, e string) {
		writeEcho(w, http.StatusOK, `{"result":"twofactor_options","options":["%[1]s"]}`, e)
	},
	// A listing's next page on the same host, its path the secrets; the
	// page answers with an error.
	"next page": func(w http.ResponseWriter, _ *http.Request, e string) {
		writeEcho(w, http.StatusOK, `{"projects":[],"links":{"next":"/page/%[1]s"}}`, e)
	},
	"next link": func(w http.ResponseWriter, _ *http.Request, e string) {
		writeEcho(w, http.StatusOK, `{"projects":[],"links":{"next":"http://%[1]s%%zz/%[1]s"}}`, e)
	},
}

// then answers a login's first request with the receipt, and the ones after
// it as reply: a multi-factor continuation.
func then(reply string) string { return "receipt, then " + reply }

// echoReplyFor looks up a reply by name, "receipt, then X" included.
func echoReplyFor(name string) (first, rest echoReply) {
	if r, ok := strings.CutPrefix(name, "receipt, then "); ok {
		return echoReplies["receipt"], echoReplies[r]
	}
	return echoReplies[name], echoReplies[name]
}

func writeEcho(w http.ResponseWriter, status int, format, e string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, format, e)
}

// writeRaw takes over the connection and writes a response net/http could
// not have written: a malformed status line or header.
func writeRaw(w http.ResponseWriter, raw string) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	_, _ = buf.WriteString(raw)
	_ = buf.Flush()
}

// hostileServer echoes every secret it has been sent in the request and,
// when the request continues a multi-factor login (it carries a receipt),
// in the requests of that login before it.
type hostileServer struct {
	*httptest.Server
	first, rest echoReply
	mu          sync.Mutex
	seen        []string
	requests    int
}

func newHostileServer(t *testing.T, reply string) *hostileServer {
	h := &hostileServer{}
	h.first, h.rest = echoReplyFor(reply)
	require.NotNil(t, h.rest, reply)
	h.Server = httptest.NewServer(h)
	t.Cleanup(h.Close)
	return h
}

func (h *hostileServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	got := fmt.Sprint(r.Host, r.URL, r.Header, string(body))
	h.mu.Lock()
	if r.Header.Get("Openstack-Auth-Receipt") == "" { // not the continuation of a login: forget the others
		h.seen = nil
	}
	for _, s := range echoSecrets {
		if strings.Contains(got, s) && !strings.Contains(strings.Join(h.seen, " "), s) {
			h.seen = append(h.seen, s)
		}
	}
	echo, n := strings.Join(h.seen, "-"), h.requests
	h.requests++
	h.mu.Unlock()
	switch {
	case r.Host != h.Listener.Addr().String(): // a redirect to another host, reached through echoBase
		w.WriteHeader(http.StatusOK)
	case strings.HasPrefix(r.URL.Path, "/followed/"):
		writeRaw(w, "") // the hop after "redirect here": connection closed
	case strings.HasPrefix(r.URL.Path, "/page/"):
		echoReplies["error body"](w, r, echo)
	case strings.HasPrefix(r.URL.Path, "/busy/"):
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusServiceUnavailable)
	case n == 0:
		h.first(w, r, echo)
	default:
		h.rest(w, r, echo)
	}
}

// echoBase sends every request, whatever its host, to the hostile server.
func echoBase(t *testing.T, h *hostileServer) http.RoundTripper {
	base := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, h.Listener.Addr().String())
	}}
	t.Cleanup(base.CloseIdleConnections)
	return base
}

// teeHandler writes each record through every handler: here a JSON and a
// text handler, both at Debug.
type teeHandler []slog.Handler

func (t teeHandler) Enabled(ctx context.Context, l slog.Level) bool { return t[0].Enabled(ctx, l) }

func (t teeHandler) Handle(ctx context.Context, r slog.Record) error {
	for _, h := range t {
		if err := h.Handle(ctx, r.Clone()); err != nil {
			return err
		}
	}
	return nil
}

func (t teeHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return t.each(func(h slog.Handler) slog.Handler { return h.WithAttrs(attrs) })
}

func (t teeHandler) WithGroup(name string) slog.Handler {
	return t.each(func(h slog.Handler) slog.Handler { return h.WithGroup(name) })
}

func (t teeHandler) each(f func(slog.Handler) slog.Handler) teeHandler {
	out := make(teeHandler, len(t))
	for i, h := range t {
		out[i] = f(h)
	}
	return out
}

func echoLogger(w io.Writer) *slog.Logger {
	w = io.MultiWriter(w, suiteLog)
	opts := &slog.HandlerOptions{Level: slog.LevelDebug}
	return slog.New(teeHandler{slog.NewJSONHandler(w, opts), slog.NewTextHandler(w, opts)})
}

// echoRun drives ksauth against the hostile server at base and returns what
// came back: errors, tokens, anything printable.
type echoRun func(t *testing.T, h *hostileServer, log *slog.Logger) []any

var noRetry = &RetryPolicy{MaxAttempts: 1}

func echoKeystone(h *hostileServer, log *slog.Logger, cred Credential) *Keystone {
	return &Keystone{AuthURL: h.URL + "/v3", Credentials: cred, HTTPClient: h.Client(), Retry: noRetry, Logger: log}
}

// echoAuthenticate logs in with cred; passcode, when set, answers a receipt.
func echoAuthenticate(cred Credential, receipt, passcode string) echoRun {
	return func(t *testing.T, h *hostileServer, log *slog.Logger) []any {
		k := echoKeystone(h, log, cred)
		k.Receipt = receipt
		if passcode != "" {
			k.Passcode = func(context.Context) (string, error) { return passcode, nil }
		}
		tok, err := k.Authenticate(context.Background())
		return []any{tok, err, k}
	}
}

// echoDiscoveryFallback logs in at the server's root: discovery meets the
// hostile reply first, then the login at root + /v3 that ksauth falls back to.
func echoDiscoveryFallback(t *testing.T, h *hostileServer, log *slog.Logger) []any {
	k := echoKeystone(h, log, Password{UserID: "u-1", Password: echoPassword})
	k.AuthURL = h.URL
	tok, err := k.Authenticate(context.Background())
	return []any{tok, err, k}
}

// sessionTokens asks a Session over Keystone for a token n times: its
// refresh-failed records come at Warn, then at Debug; a success after
// failures at Info.
func sessionTokens(n int) echoRun {
	return func(t *testing.T, h *hostileServer, log *slog.Logger) []any {
		s := NewSession(echoKeystone(h, log, Password{UserID: "u-1", Password: echoPassword}), &SessionOptions{Logger: log})
		var out []any
		for range n {
			tok, err := s.Token(context.Background())
			out = append(out, tok, err)
		}
		return out
	}
}

// echoTransport is a Transport whose session's token is echoToken, trusted
// with the hostile server.
func echoTransport(t *testing.T, h *hostileServer, log *slog.Logger) *Transport {
	u, _ := url.Parse(h.URL)
	s := NewSession(AuthenticatorFunc(func(context.Context) (*Token, error) {
		return &Token{ID: echoToken, ExpiresAt: time.Now().Add(time.Hour), authHost: hostKey(u)}, nil
	}), &SessionOptions{Logger: log})
	return &Transport{Session: s, Base: echoBase(t, h), Retry: &RetryPolicy{MaxAttempts: 2, BackoffBase: 1, BackoffMax: 1}, Logger: log}
}

// transportGet sends a GET to the hostile server through an http.Client
// over echoTransport, with callerToken as the request's own X-Auth-Token
// if set.
func transportGet(callerToken string) echoRun {
	return func(t *testing.T, h *hostileServer, log *slog.Logger) []any {
		client := &http.Client{Transport: echoTransport(t, h, log)}
		req, err := http.NewRequest(http.MethodGet, h.URL+"/v2.1/servers", nil)
		require.NoError(t, err)
		if callerToken != "" {
			req.Header.Set("X-Auth-Token", callerToken)
		}
		resp, err := client.Do(req)
		if resp != nil {
			drain(resp.Body)
		}
		return []any{err}
	}
}

// transportLink sends a GET to a link a hostile service wrote, its host
// the token, straight to the Transport (an http.Client's own error would
// quote the URL whole, as its caller gave it).
func transportLink(t *testing.T, h *hostileServer, log *slog.Logger) []any {
	req, err := http.NewRequest(http.MethodGet, "https://"+echoToken+".evil.test/v2.1/servers", nil)
	require.NoError(t, err)
	resp, err := echoTransport(t, h, log).RoundTrip(req)
	if resp != nil {
		drain(resp.Body)
	}
	return []any{err}
}

// identityCalls makes every identity call with echoToken, about echoSubject.
func identityCalls(t *testing.T, h *hostileServer, log *slog.Logger) []any {
	k, ctx := echoKeystone(h, log, nil), context.Background()
	src := &Token{ID: echoToken, ExpiresAt: time.Now().Add(time.Hour)}
	tok, validateErr := k.ValidateToken(ctx, src, echoSubject, nil)
	_, checkErr := k.CheckToken(ctx, src, echoSubject)
	revokeErr := k.RevokeToken(ctx, src, echoSubject)
	_, projectsErr := k.Projects(ctx, src)
	return []any{tok, validateErr, checkErr, revokeErr, projectsErr}
}

func echoCleura(h *hostileServer, log *slog.Logger) *Cleura {
	return &Cleura{BaseURL: h.URL, Login: "alice", Password: echoCleuraPW, HTTPClient: h.Client(), Retry: noRetry, Logger: log}
}

func cleuraAuthenticate(t *testing.T, h *hostileServer, log *slog.Logger) []any {
	c := echoCleura(h, log)
	tok, err := c.Authenticate(context.Background())
	return []any{tok, err, c}
}

func cleuraValidate(t *testing.T, h *hostileServer, log *slog.Logger) []any {
	c := echoCleura(h, log)
	_, err := c.Validate(context.Background(), &Token{ID: echoCleuraToken, User: User{Name: "alice"}, kind: cleuraTokens})
	return []any{err}
}

// Each reply ksauth's own requests meet, and what the error must still say
// ("": no error).
var (
	ownRequestReplies = map[string]string{
		"error body":         "400 Bad Request",
		"redirect elsewhere": "redirect to",
		"bad location":       "Location",
		"redirect here":      "EOF",
		"status line":        "malformed HTTP status code",
		"header line":        "malformed MIME header",
	}
	authReplies = mergeReplies(ownRequestReplies, map[string]string{
		"timestamps":     "not in a Keystone format",
		"malformed JSON": "malformed JSON body",
		"token fields":   "",
		"receipt":        "multi-factor authentication required",
	})
	cleuraReplies = mergeReplies(ownRequestReplies, map[string]string{
		"malformed JSON": "malformed JSON body",
		"cleura result":  "unexpected login result",
		"cleura options": "offers only",
	})
)

// mergeReplies is a and b in one map, b winning.
func mergeReplies(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range []map[string]string{a, b} {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func TestServerEchoedSecretsNeverSurface(t *testing.T) {
	for _, s := range echoSecrets {
		registerSecret(s)
	}
	password := Password{UserID: "u-1", Password: echoPassword}
	cases := []struct {
		name    string
		run     echoRun
		replies map[string]string // reply name -> what an error must contain ("": no error)
	}{
		{"password", echoAuthenticate(password, "", ""), authReplies},
		{"application credential", echoAuthenticate(ApplicationCredential{ID: "ac-1", Secret: echoACSecret}, "", ""), authReplies},
		{"totp with a receipt set by hand", echoAuthenticate(TOTP{UserID: "u-1", Passcode: echoPasscode}, echoReceipt, ""), authReplies},
		{"token exchange", echoAuthenticate(TokenExchange{Token: echoToken}, "", ""), authReplies},
		{"multi-factor continuation", echoAuthenticate(password, "", echoPasscode), map[string]string{
			then("error body"):         "the login with the passcode failed",
			then("redirect elsewhere"): "redirect to",
			then("redirect here"):      "EOF",
			then("status line"):        "malformed HTTP status code",
			then("timestamps"):         "not in a Keystone format",
			then("receipt"):            "multi-factor authentication required",
		}},
		{"discovery, then the fallback login", echoDiscoveryFallback, map[string]string{
			"error body": "400 Bad Request", "status line": "version discovery at", "malformed JSON": "version discovery at",
		}},
		{"session refresh", sessionTokens(3), map[string]string{
			"error body": "400 Bad Request", "status line": "malformed HTTP", "redirect elsewhere": "redirect to",
			"token fields": "",
		}},
		{"transport", transportGet(""), map[string]string{
			"status line": "malformed HTTP status code", "header line": "malformed MIME header", "redirect elsewhere": "",
			"redirect, then busy": "",
		}},
		{"transport, caller's token", transportGet(echoCallerToken), map[string]string{
			"status line": "malformed HTTP status code", "header line": "malformed MIME header",
		}},
		// A link the caller follows, from a hostile service's listing: refused before any reply.
		{"transport, a link to another host", transportLink, map[string]string{
			"error body": "not the auth host",
		}},
		{"identity calls", identityCalls, mergeReplies(ownRequestReplies, map[string]string{
			"timestamps": "not in a Keystone format", "next link": "links.next", "token fields": "",
			"next page": "400 Bad Request",
		})},
		{"cleura login", cleuraAuthenticate, cleuraReplies},
		{"cleura validate", cleuraValidate, ownRequestReplies},
	}
	for _, c := range cases {
		for reply, want := range c.replies {
			t.Run(c.name+"/"+reply, func(t *testing.T) {
				h := newHostileServer(t, reply)
				var logs lockedBuffer
				got := c.run(t, h, echoLogger(&logs))
				errText := checkEchoes(t, logs.String(), got)
				if want == "" {
					assert.Empty(t, errText, "no error expected")
				} else {
					assert.Contains(t, errText, want, "the error must still say what went wrong")
				}
			})
		}
	}
	// Redaction is only in what is printed: the token's data is the server's.
	h0 := newHostileServer(t, "token fields")
	got := echoAuthenticate(password, "", "")(t, h0, echoLogger(io.Discard))
	tok := got[0].(*Token)
	require.NotNil(t, tok)
	assert.Equal(t, echoPassword, tok.User.Name)
	assert.Equal(t, "https://"+echoPassword+".test/v2.1", tok.Catalog[0].Endpoints[0].URL)
	assert.Contains(t, fmt.Sprintf("%+v", tok), "Name:"+redacted)
	assert.Contains(t, tok.String(), fingerprint(echoNewToken), "the fingerprint is the real token's")

	// The session's records at each level were produced.
	h := newHostileServer(t, "error body")
	var logs lockedBuffer
	sessionTokens(2)(t, h, echoLogger(&logs))
	assert.Contains(t, logs.String(), `"level":"WARN","msg":"ksauth: token refresh failed"`)
	assert.Contains(t, logs.String(), `level=DEBUG msg="ksauth: token refresh failed"`)
}

// checkEchoes prints every value and error in every way (and every typed
// error errors.As finds in an error's chain, as a pointer and as a value)
// and looks for the secrets there and in logs. It returns the errors' texts.
func checkEchoes(t *testing.T, logs string, vals []any) string {
	t.Helper()
	var printed, errTexts []string
	for _, v := range vals {
		if err, ok := v.(error); ok {
			recordErr(err)
			errTexts = append(errTexts, err.Error())
			for _, x := range typedErrors(err) {
				printed = append(printed, printAll(x)...)
			}
		}
		printed = append(printed, printAll(v)...)
	}
	suiteLog.WriteString(strings.Join(printed, "\n"))
	require.NotEmpty(t, printed)
	leaks := scanForSecrets(logs+"\n"+strings.Join(printed, "\n"), echoSecrets)
	assert.Empty(t, leaks, "secrets surfaced")
	return strings.Join(errTexts, "\n")
}

func printAll(v any) []string {
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		out = append(out, fmt.Sprintf(verb, v))
	}
	return out
}

// typedErrors are the error types a caller may extract from ksauth's errors.
func typedErrors(err error) []any {
	var out []any
	out = append(out, asBoth[HTTPError](err)...)
	out = append(out, asBoth[MalformedResponseError](err)...)
	out = append(out, asBoth[RequestSendError](err)...)
	out = append(out, asBoth[MFARequiredError](err)...)
	out = append(out, asBoth[DiscoveryError](err)...)
	out = append(out, asBoth[ReauthError](err)...)
	out = append(out, asBoth[UnsupportedTwoFactorError](err)...)
	out = append(out, asBoth[TwoFactorRequiredError](err)...)
	out = append(out, asBoth[url.Error](err)...)
	return out
}

// asBoth is the *T in err's chain, as the pointer and as the value.
func asBoth[T any, P interface {
	*T
	error
}](err error) []any {
	var p P
	if !errors.As(err, &p) {
		return nil
	}
	return []any{p, *p}
}

// TestRedirectRefusalRedactsTheHost: the refusal of a redirect to another
// host names that host as the server wrote it, redacted of the request's
// secrets. (The url.Error net/http wraps it in quotes the Location whole;
// ksauth scrubs that one before returning it, see exchange.sendError.)
func TestRedirectRefusalRedactsTheHost(t *testing.T) {
	h := newHostileServer(t, "redirect elsewhere")
	resp, err := sameHostClient(h.Client(), echoPassword).Post(h.URL, "application/json",
		strings.NewReader(`{"password":"`+echoPassword+`"}`))
	if resp != nil {
		drain(resp.Body)
	}
	require.ErrorIs(t, err, ErrUntrustedHost)
	refusal := errors.Unwrap(err).Error()
	assert.Equal(t, "ksauth: host not trusted with the token: redirect to "+redacted+".evil.test:80", refusal)
}

// TestConfigErrorsQuoteNoFileContents: a YAML error quotes the start of a
// value it could not use, a secure.yaml holding a bare password say; the
// ConfigError keeps where and what was wrong, not the value.
func TestConfigErrorsQuoteNoFileContents(t *testing.T) {
	_, err := loadIn(t, map[string]string{"secure.yaml": echoPassword + "\n"}, ConfigOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "secure.yaml: not valid YAML: yaml: unmarshal errors:")
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	printed := append(printAll(err), printAll(ce)...)
	printed = append(printed, printAll(*ce)...)
	assert.Empty(t, scanForSecrets(strings.Join(printed, "\n"), []string{echoPassword[:7]}))
}

// TestRefreshFailedRecordRedactsTheOldToken: an Authenticator whose server
// echoes the token being replaced (the session's own, expired) does not get
// it into the refresh-failed record, at Warn or at Debug.
func TestRefreshFailedRecordRedactsTheOldToken(t *testing.T) {
	now := time.Now()
	calls := 0
	var logs lockedBuffer
	s := NewSession(AuthenticatorFunc(func(context.Context) (*Token, error) {
		if calls++; calls == 1 {
			return &Token{ID: echoToken, ExpiresAt: now.Add(time.Hour)}, nil
		}
		return nil, errors.New("the server says: unknown token " + echoToken)
	}), &SessionOptions{Logger: echoLogger(&logs)})
	s.now = func() time.Time { return now }
	mustToken(t, s)
	now = now.Add(time.Hour + time.Second) // expired: the next calls must renew it
	for range 2 {
		_, err := s.Token(context.Background())
		require.Error(t, err)
	}
	assert.Contains(t, logs.String(), "unknown token "+redacted)
	assert.Contains(t, logs.String(), `level=DEBUG msg="ksauth: token refresh failed"`)
	assert.Empty(t, scanForSecrets(logs.String(), []string{echoToken}))
}
