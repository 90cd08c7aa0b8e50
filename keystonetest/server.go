package keystonetest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Defaults of a new Server.
const (
	// DefaultTokenLifetime is how long a token lives, as Keystone's
	// [token] expiration defaults to.
	DefaultTokenLifetime = time.Hour
	// DefaultReceiptLifetime is how long an MFA receipt lives.
	DefaultReceiptLifetime = 5 * time.Minute
	// AllowExpiredWindow is how long after its expiry a token still
	// validates with ?allow_expired=1 (Keystone's allow_expired_window).
	AllowExpiredWindow = 48 * time.Hour
	// InMemoryURL is the URL of a server made by NewInMemoryServer.
	InMemoryURL = "https://keystone.test"
)

// Server is a fake Keystone v3 identity service, with Cleura's REST login
// beside it, running in the test process. Start one with [NewServer],
// [NewTLSServer] or [NewInMemoryServer] and stop it with [Server.Close].
//
// It starts with the default directory (see the package documentation);
// the Add methods add to it at any time. Every method is safe for
// concurrent use, also while requests are being served.
type Server struct {
	// URL is the base URL, without a trailing slash: "http://127.0.0.1:port"
	// for NewServer, "https://127.0.0.1:port" for NewTLSServer, InMemoryURL
	// for NewInMemoryServer. Keystone's v3 endpoint is URL + "/v3"
	// ([Server.AuthURL]); Cleura's REST API is URL itself.
	URL string

	ts        *httptest.Server // nil for an in-memory server
	mux       *http.ServeMux
	closed    chan struct{} // closed by Close: ends latency waits
	closeOnce sync.Once

	mu              sync.Mutex
	now             func() time.Time
	tokenLifetime   time.Duration
	receiptLifetime time.Duration
	dir             directory
	tokens          map[string]*token
	receipts        map[string]*receipt
	ec2             []*ec2Credential
	faults          faults
	counts          map[string]int
	cleura          cleuraState
}

// NewServer starts a server on a loopback port over plain http (which
// clients accept for loopback hosts).
func NewServer() *Server { return newServer(httptest.NewServer) }

// NewTLSServer starts a server on a loopback port over https, with a
// certificate that only the client of [Server.Client] trusts.
func NewTLSServer() *Server { return newServer(httptest.NewTLSServer) }

// NewInMemoryServer returns a server without a listener: it is reached
// only through [Server.Client] and [Server.Transport], which hand each
// request to the server's handler in the calling goroutine. Its URL is
// InMemoryURL. Use it in a testing/synctest bubble (create it inside the
// bubble), where network I/O would keep the fake clock from advancing:
// latency, Retry-After waits and token expiry then take no real time.
func NewInMemoryServer() *Server { return newServer(nil) }

// newServer builds a server and starts it with listen (nil: in memory).
// The default directory is filled last: its catalog needs the URL.
func newServer(listen func(http.Handler) *httptest.Server) *Server {
	s := &Server{
		URL:             InMemoryURL,
		closed:          make(chan struct{}),
		tokenLifetime:   DefaultTokenLifetime,
		receiptLifetime: DefaultReceiptLifetime,
		tokens:          map[string]*token{},
		receipts:        map[string]*receipt{},
		counts:          map[string]int{},
	}
	s.mux = s.routes()
	if listen != nil {
		s.ts = listen(http.HandlerFunc(s.serveHTTP))
		s.URL = s.ts.URL
	}
	s.dir = defaultDirectory(s.URL)
	s.cleura = defaultCleura()
	return s
}

// Close stops the server: waits in progress (SetLatency) end at once, and
// for NewServer and NewTLSServer it closes the listener and waits for the
// requests being served, as httptest.Server.Close does.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closed) })
	if s.ts != nil {
		s.ts.CloseClientConnections()
		s.ts.Close()
	}
}

// AuthURL is Keystone's v3 endpoint, URL + "/v3": what clients take as
// their auth URL (OS_AUTH_URL). URL itself works too, through version
// discovery.
func (s *Server) AuthURL() string { return s.URL + "/v3" }

// Client returns an HTTP client for the server: for NewTLSServer one that
// trusts its certificate, for NewInMemoryServer one that reaches it
// without a network. Its Transport is [Server.Transport].
func (s *Server) Client() *http.Client {
	if s.ts != nil {
		return s.ts.Client()
	}
	return &http.Client{Transport: s.Transport()}
}

// Transport returns the round tripper of [Server.Client], to use as the
// base of another client or transport.
func (s *Server) Transport() http.RoundTripper {
	if s.ts != nil {
		return s.ts.Client().Transport
	}
	return memoryTransport{s}
}

// SetClock makes the server read the time from now: token issue and
// expiry, receipts, TOTP passcodes, app credential expiry. nil restores
// time.Now. Latency (SetLatency) is always waited on a real timer (a fake
// one inside a synctest bubble).
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// Now is the server's current time (see SetClock).
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clock()
}

// clock is Now with s.mu held.
func (s *Server) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

// SetTokenLifetime sets how long new tokens live; d ≤ 0 restores
// DefaultTokenLifetime. Tokens already issued keep their expiry.
func (s *Server) SetTokenLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d <= 0 {
		d = DefaultTokenLifetime
	}
	s.tokenLifetime = d
}

// SetReceiptLifetime sets how long new MFA receipts live; d ≤ 0 restores
// DefaultReceiptLifetime.
func (s *Server) SetReceiptLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d <= 0 {
		d = DefaultReceiptLifetime
	}
	s.receiptLifetime = d
}

// --- counters ------------------------------------------------------------------

// Requests returns how many requests a route has received, faulted ones
// included. A route is a method and a path pattern as listed in the
// package documentation, e.g. "POST /v3/auth/tokens", "HEAD
// /v3/auth/tokens" or "GET /v3/users/{user_id}/application_credentials";
// "" counts every request.
func (s *Server) Requests(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if route == "" {
		n := 0
		for _, c := range s.counts {
			n += c
		}
		return n
	}
	return s.counts[route]
}

// RequestCounts returns the count of every route that received a request.
func (s *Server) RequestCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// ResetRequestCounts sets every route's count back to zero.
func (s *Server) ResetRequestCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.counts)
}

// --- routing -------------------------------------------------------------------

// routeKind says which server a route belongs to: how its responses are
// decorated and how an injected rejection looks.
type routeKind int

const (
	keystoneRoute routeKind = iota // Keystone: Vary and request id headers, 401 rejections
	cleuraRoute                    // Cleura: 403 "Invalid token" rejections
	serviceRoute                   // the catalog's sample services: 401 rejections
)

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	ks := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, s.route(pattern, keystoneRoute, h)) }
	cl := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, s.route(pattern, cleuraRoute, h)) }
	svc := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, s.route(pattern, serviceRoute, h)) }

	ks("GET /{$}", s.handleVersions)
	ks("GET /v3", s.handleVersionV3)
	ks("GET /v3/{$}", s.handleVersionV3)

	ks("POST /v3/auth/tokens", s.handleIssue)
	ks("GET /v3/auth/tokens", s.handleValidate) // and HEAD: check
	ks("DELETE /v3/auth/tokens", s.handleRevoke)
	ks("GET /v3/auth/projects", s.handleAuthProjects)
	ks("GET /v3/auth/domains", s.handleAuthDomains)
	ks("GET /v3/auth/system", s.handleAuthSystem)
	ks("GET /v3/auth/catalog", s.handleAuthCatalog)

	ks("GET /v3/users", s.handleListUsers)
	ks("POST /v3/users/{user_id}/application_credentials", s.handleCreateAppCred)
	ks("GET /v3/users/{user_id}/application_credentials", s.handleListAppCreds)
	ks("GET /v3/users/{user_id}/application_credentials/{id}", s.handleGetAppCred)
	ks("DELETE /v3/users/{user_id}/application_credentials/{id}", s.handleDeleteAppCred)
	ks("GET /v3/users/{user_id}/access_rules", s.handleListAccessRules)
	ks("GET /v3/users/{user_id}/access_rules/{id}", s.handleGetAccessRule)
	ks("DELETE /v3/users/{user_id}/access_rules/{id}", s.handleDeleteAccessRule)
	ks("POST /v3/users/{user_id}/credentials/OS-EC2", s.handleCreateEC2)
	ks("GET /v3/users/{user_id}/credentials/OS-EC2", s.handleListEC2)
	ks("GET /v3/users/{user_id}/credentials/OS-EC2/{access}", s.handleGetEC2)
	ks("DELETE /v3/users/{user_id}/credentials/OS-EC2/{access}", s.handleDeleteEC2)

	for _, v := range []string{"v1", "v2"} {
		p := "/auth/" + v
		cl("POST "+p+"/tokens", s.handleCleuraLogin)
		cl("POST "+p+"/tokens/validate", s.handleCleuraValidate)
		cl("DELETE "+p+"/tokens", s.handleCleuraRevoke)
	}
	cl("POST /auth/v2/request-sms-code", s.handleCleuraRequestSMS)
	cl("POST /auth/v2/tokens-by-sms-code", s.handleCleuraVerify)
	cl("POST /auth/v1/tokens/request2facode", s.handleCleuraRequestSMS)
	cl("POST /auth/v1/tokens/verify2fa", s.handleCleuraVerify)
	cl("GET /accesscontrol/v1/openstack/domains", s.handleCleuraDomains)

	svc("/compute/", s.handleService("compute"))
	svc("/object-store/", s.handleService("object-store"))

	mux.Handle("/", s.route("", keystoneRoute, s.handleNotFound))
	return mux
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// routeKey names the route of r for the counters: its method and the
// path of pattern (its method is dropped, so that HEAD is told from GET);
// for an unknown path, the method and the path itself.
func routeKey(r *http.Request, pattern string) string {
	if pattern == "" {
		return r.Method + " " + r.URL.Path
	}
	if _, path, ok := strings.Cut(pattern, " "); ok {
		pattern = path
	}
	if pattern != "/{$}" {
		pattern = strings.TrimSuffix(pattern, "/{$}") // "/v3/" counts as "/v3"
	}
	return r.Method + " " + strings.TrimSuffix(pattern, "{$}")
}

// route wraps a handler with what every request goes through: the
// counter, the Keystone headers, the latency and the faults.
func (s *Server) route(pattern string, kind routeKind, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.counts[routeKey(r, pattern)]++
		latency := s.faults.latency
		s.mu.Unlock()
		if kind == keystoneRoute {
			w.Header()["Vary"] = []string{"X-Auth-Token"}
			w.Header()["x-openstack-request-id"] = []string{"req-" + newUUID()}
		}
		if latency > 0 && !s.wait(r, latency) {
			return
		}
		if s.injectFault(w, r, kind) {
			return
		}
		if s.takeMalformed() {
			s.serveMalformed(w, r, h)
			return
		}
		h(w, r)
	})
}

// memoryTransport serves requests with the server's handler, in the
// calling goroutine.
type memoryTransport struct{ s *Server }

func (t memoryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	select {
	case <-t.s.closed:
		return nil, fmt.Errorf("keystonetest: %s %s: server closed", req.Method, req.URL.Redacted())
	default:
	}
	in := req.Clone(req.Context())
	in.Body = io.NopCloser(bytes.NewReader(body))
	in.ContentLength = int64(len(body))
	in.RequestURI = req.URL.RequestURI()
	in.RemoteAddr = "192.0.2.1:1234"
	if in.Host == "" {
		in.Host = req.URL.Host
	}
	rec := httptest.NewRecorder()
	t.s.serveHTTP(rec, in)
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	resp := rec.Result()
	resp.Request = req
	if req.Method == http.MethodHead {
		resp.Body = http.NoBody
	}
	return resp, nil
}

// --- responses -------------------------------------------------------------------

// writeJSON writes v as the JSON body, without HTML escaping (as Python's
// json module writes it).
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("keystonetest: encoding a response: %v", err))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// keystoneError writes Keystone's error body {"error":{"code","message","title"}};
// a 401 also gets WWW-Authenticate, as Keystone sends it. extra adds keys
// to the error object (an auth plugin's "identity").
func (s *Server) keystoneError(w http.ResponseWriter, status int, message string, extra map[string]any) {
	e := map[string]any{"code": status, "message": message, "title": http.StatusText(status)}
	for k, v := range extra {
		e[k] = v
	}
	if status == http.StatusUnauthorized {
		w.Header()["WWW-Authenticate"] = []string{`Keystone uri="` + s.AuthURL() + `"`}
	}
	writeJSON(w, status, map[string]any{"error": e})
}

// Keystone's messages for the common failures.
const (
	msgUnauthorized = "The request you have made requires authentication."
	msgForbidden    = "You are not authorized to perform the requested action."
	msgBadJSON      = "Expecting to find valid JSON in request body. The server could not comply with the request " +
		"since it is either malformed or otherwise incorrect. The client is assumed to be in error."
	msgFailedValidate = "Failed to validate token"
	msgBadFernet      = "Could not recognize Fernet token"
)

func (s *Server) unauthorized(w http.ResponseWriter) {
	s.keystoneError(w, http.StatusUnauthorized, msgUnauthorized, nil)
}

// forbiddenAction is Keystone's ForbiddenAction: msgForbidden naming the action.
func (s *Server) forbiddenAction(w http.ResponseWriter, action string) {
	s.keystoneError(w, http.StatusForbidden, forbiddenActionMessage(action), nil)
}

// forbiddenActionMessage is Keystone's 403 message for action. Keystone
// adds its full stop even when action ends with one.
func forbiddenActionMessage(action string) string {
	return "You are not authorized to perform the requested action: " + action + "."
}

// expecting is Keystone's ValidationError: "Expecting to find X in Y. ..."
func (s *Server) expecting(w http.ResponseWriter, attribute, target string) {
	s.keystoneError(w, http.StatusBadRequest, "Expecting to find "+attribute+" in "+target+
		". The server could not comply with the request since it is either malformed or otherwise incorrect. "+
		"The client is assumed to be in error.", nil)
}

// handleNotFound answers an unknown path as Keystone's Flask does: HTML.
func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	_, _ = io.WriteString(w, "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n"+
		"<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n")
}

// --- version discovery -----------------------------------------------------------

func (s *Server) versionV3() map[string]any {
	return map[string]any{
		"id":      "v3.14",
		"status":  "stable",
		"updated": "2020-04-07T00:00:00Z",
		"links":   []map[string]string{{"rel": "self", "href": s.URL + "/v3/"}},
		"media-types": []map[string]string{{
			"base": "application/json",
			"type": "application/vnd.openstack.identity-v3+json",
		}},
	}
}

// handleVersions is GET /: 300 Multiple Choices, the versions in a
// "values" wrapper.
func (s *Server) handleVersions(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Location", s.URL+"/v3/")
	writeJSON(w, http.StatusMultipleChoices, map[string]any{"versions": map[string]any{"values": []any{s.versionV3()}}})
}

// handleVersionV3 is GET /v3.
func (s *Server) handleVersionV3(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"version": s.versionV3()})
}

// --- ids and times ---------------------------------------------------------------

// newID returns a Keystone-style id: 32 hex digits.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newUUID returns a random UUID (version 4) in its dashed form.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// Keystone's timestamp forms.
const (
	layoutToken   = "2006-01-02T15:04:05.000000Z" // tokens, receipts
	layoutNoZone  = "2006-01-02T15:04:05.000000"  // app credential resources
	layoutSeconds = "2006-01-02T15:04:05"         // a token capped by its app credential, when issued
)

// formatTime formats t in UTC, truncated to whole seconds as Keystone does.
func formatTime(t time.Time, layout string) string {
	return t.UTC().Truncate(time.Second).Format(layout)
}

// nullableTime is null for the zero time.
func nullableTime(t time.Time, layout string) any {
	if t.IsZero() {
		return nil
	}
	return formatTime(t, layout)
}
