package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ksauth/ksauth"
	"github.com/ksauth/ksauth/keystonetest"
)

// The early-refresh step: tokens that live shortLifetime, renewed
// expireEarly before they expire (the window is min(ExpireEarly,
// lifetime/2)), and a request every requestEvery until the first token has
// been expired for pastExpiry.
//
// Keystone writes issued_at and expires_at to the whole second, and so
// does keystonetest: a token issued at 12:00:00.700 for 1.9 s says it
// lives from 12:00:00 to 12:00:01, one second, and works until
// 12:00:01.900. So the tokens here say they live 1 s, which ksauth counts
// from their arrival, and really work for 0.9 to 1.9 s: always longer than
// the session keeps them (about 0.5 s). With a whole-second lifetime a
// token can stop working up to a second before the time it says, which
// only matters when the refresh window is shorter than a second.
const (
	shortLifetime = 1900 * time.Millisecond
	expireEarly   = 500 * time.Millisecond
	requestEvery  = 50 * time.Millisecond
	pastExpiry    = 150 * time.Millisecond
)

// walkthrough is the offline tour's state: the fake Keystone, the session
// of the demo user and its client.
type walkthrough struct {
	p        *printer
	rec      *recorder
	srv      *keystonetest.Server
	keystone *ksauth.Keystone
	session  *ksauth.Session
	client   *http.Client
	compute  string // the compute endpoint from the catalog
	failures int    // requests that failed unexpectedly
}

// offline runs the walkthrough against a keystonetest server started
// here. It returns the server's login count and the unexpected failures.
func offline(ctx context.Context, p *printer, rec *recorder) (logins, failures int, err error) {
	srv := keystonetest.NewServer()
	defer srv.Close()
	rec.base = orDefault(rec.base, srv.Client().Transport)

	p.printf("ksauth quickstart: offline walkthrough")
	p.printf("%-10s %s  (keystonetest, in this process)", "Keystone", srv.AuthURL())
	p.printf("%-10s %s", "Note", "set OS_CLOUD or OS_AUTH_URL to log in to a real cloud instead (read-only)")

	w := &walkthrough{p: p, rec: rec, srv: srv}
	steps := []func(context.Context) error{
		w.login, w.token, w.catalog, w.request, w.rejected, w.rateLimited, w.earlyRefresh, w.untrustedHost, w.shared,
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return srv.Requests("POST /v3/auth/tokens"), w.failures, err
		}
		if err := p.err(); err != nil {
			return 0, 0, err
		}
	}
	return srv.Requests("POST /v3/auth/tokens"), w.failures, nil
}

// orDefault returns base, or def when base is nil.
func orDefault(base, def http.RoundTripper) http.RoundTripper {
	if base != nil {
		return base
	}
	return def
}

// logins is the server's count of logins.
func (w *walkthrough) logins() int { return w.srv.Requests("POST /v3/auth/tokens") }

// 1. A password login, through a Session that caches the token.
func (w *walkthrough) login(ctx context.Context) error {
	w.p.title("Password login")
	w.keystone = &ksauth.Keystone{
		AuthURL: w.srv.AuthURL(),
		Credentials: ksauth.Password{
			Username:   keystonetest.DemoUserName,
			UserDomain: ksauth.Domain{ID: keystonetest.DefaultDomainID},
			Password:   keystonetest.DemoPassword,
		},
		Scope: ksauth.ProjectScope{
			Name:   keystonetest.DemoProjectName,
			Domain: ksauth.Domain{ID: keystonetest.DefaultDomainID},
		},
		HTTPClient: &http.Client{Transport: w.rec},
	}
	w.session = ksauth.NewSession(w.keystone, nil)
	w.client = &http.Client{Transport: &ksauth.Transport{Session: w.session, Base: w.rec}}

	begin := time.Now()
	tok, err := w.session.Token(ctx)
	if err != nil {
		return errUnexpected("password login", "%v", err)
	}
	w.p.table(nil, [][]string{
		{"Credentials", "ksauth.Password, user " + keystonetest.DemoUserName + " in domain " + keystonetest.DefaultDomainName},
		{"Scope", "ksauth.ProjectScope, project " + keystonetest.DemoProjectName},
		{"Result", "token " + fingerprint(tok) + " in " + dur(time.Since(begin))},
	})
	return nil
}

// 2. What the token says, its ID only as a fingerprint.
func (w *walkthrough) token(ctx context.Context) error {
	w.p.title("Token")
	tok, err := w.session.Token(ctx)
	if err != nil {
		return errUnexpected("token", "%v", err)
	}
	w.p.table(nil, tokenSummary(tok, time.Now()))
	return nil
}

// 3. The catalog, and the compute endpoint the next steps call.
func (w *walkthrough) catalog(ctx context.Context) error {
	w.p.title("Service catalog")
	tok, err := w.session.Token(ctx)
	if err != nil {
		return errUnexpected("catalog", "%v", err)
	}
	w.p.table([]string{"TYPE", "NAME", "INTERFACE", "REGION", "URL"}, catalogRows(tok.Catalog))
	w.compute, err = w.session.Endpoint(ctx, ksauth.EndpointOpts{Type: "compute", Interfaces: []string{"public"}})
	if err != nil {
		return errUnexpected("catalog", "finding the compute endpoint: %v", err)
	}
	w.p.line("")
	w.p.line("Session.Endpoint(compute, public) = %s", w.compute)
	return nil
}

// 4. A request through ksauth.Transport, which adds the token.
func (w *walkthrough) request(ctx context.Context) error {
	w.p.title("Authenticated request through ksauth.Transport")
	mark := w.rec.mark()
	begin := time.Now()
	status, err := get(ctx, w.client, w.compute)
	took := time.Since(begin)
	if err != nil || status != http.StatusOK {
		w.failures++
		return errUnexpected("authenticated request", "GET %s: %s", w.compute, describe(status, err))
	}
	w.p.table([]string{"METHOD", "PATH", "STATUS", "DETAIL"}, traceRows(w.rec.since(mark)))
	w.p.line("")
	w.p.line("GET compute: %s in %s; the Transport put the session's token in X-Auth-Token", statusText(status), dur(took))
	return nil
}

// 5. A 401 for a token the server no longer accepts: the Transport drops
// it, the session logs in once more and the request is resent.
func (w *walkthrough) rejected(ctx context.Context) error {
	w.p.title("Rejected token (401) renewed by one login")
	old, err := w.session.Token(ctx)
	if err != nil {
		return errUnexpected("rejected token", "%v", err)
	}
	before := w.logins()
	mark := w.rec.mark()
	w.srv.RejectNext(1)
	status, err := get(ctx, w.client, w.compute)
	if err != nil || status != http.StatusOK {
		w.failures++
		return errUnexpected("rejected token", "GET %s: %s", w.compute, describe(status, err))
	}
	after := w.logins()
	cur, err := w.session.Token(ctx)
	if err != nil {
		return errUnexpected("rejected token", "%v", err)
	}
	w.p.line("srv.RejectNext(1): the server refuses the next token it sees")
	w.p.line("")
	w.p.table([]string{"METHOD", "PATH", "STATUS", "DETAIL"}, traceRows(w.rec.since(mark)))
	w.p.line("")
	w.p.table(nil, [][]string{
		{"Caller got", statusText(status) + ", no error"},
		{"Logins", itoa(before) + " -> " + itoa(after) + "  (" + plural(after-before, "new login") + ")"},
		{"Token", fingerprint(old) + " -> " + fingerprint(cur)},
	})
	if after-before != 1 || cur.ID == old.ID {
		return errUnexpected("rejected token", "expected exactly one new login, got %d", after-before)
	}
	return nil
}

// 6. A 429 with Retry-After: the Transport waits as asked and retries.
func (w *walkthrough) rateLimited(ctx context.Context) error {
	w.p.title("Rate limited (429): Retry-After waited out")
	mark := w.rec.mark()
	w.srv.RateLimitNext(1, time.Second) // Retry-After is in whole seconds: 1 is the shortest
	begin := time.Now()
	status, err := get(ctx, w.client, w.compute)
	took := time.Since(begin)
	if err != nil || status != http.StatusOK {
		w.failures++
		return errUnexpected("rate limited", "GET %s: %s", w.compute, describe(status, err))
	}
	trace := w.rec.since(mark)
	w.p.line("srv.RateLimitNext(1, 1s): the server answers the next request 429, Retry-After: 1")
	w.p.line("")
	w.p.table([]string{"METHOD", "PATH", "STATUS", "DETAIL"}, traceRows(trace))
	w.p.line("")
	waited := "-"
	if len(trace) == 2 {
		waited = dur(trace[1].at.Sub(trace[0].at))
	}
	w.p.table(nil, [][]string{
		{"Caller got", statusText(status) + " after " + plural(len(trace), "attempt") + ", no error"},
		{"Waited", waited + " (the server's Retry-After; RetryPolicy honours up to " + dur(ksauth.DefaultMaxRetryAfter) + ")"},
		{"Total", dur(took)},
	})
	if len(trace) != 2 {
		return errUnexpected("rate limited", "expected 2 attempts, saw %d", len(trace))
	}
	return nil
}

// login is one authentication of the early-refresh step.
type login struct {
	began, ended time.Duration // since the step's start
	tok          *ksauth.Token
}

// loginLog records the logins of the early-refresh step.
type loginLog struct {
	start  time.Time
	mu     sync.Mutex
	logins []login
}

// authenticator logs in with k, recording each login.
func (l *loginLog) authenticator(k *ksauth.Keystone) ksauth.Authenticator {
	return ksauth.AuthenticatorFunc(func(ctx context.Context) (*ksauth.Token, error) {
		began := time.Since(l.start)
		tok, err := k.Authenticate(ctx)
		if err == nil {
			l.mu.Lock()
			l.logins = append(l.logins, login{began: began, ended: time.Since(l.start), tok: tok})
			l.mu.Unlock()
		}
		return tok, err
	})
}

// all returns the logins so far.
func (l *loginLog) all() []login {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]login(nil), l.logins...)
}

// requestRun counts the requests of the early-refresh step.
type requestRun struct {
	sent, failed int
	slowest      time.Duration
}

// 7. Tokens that live a second: the session renews each one before it
// expires, in the background, while requests keep flowing.
func (w *walkthrough) earlyRefresh(ctx context.Context) error {
	w.p.title("Early refresh of a short-lived token")
	w.srv.SetTokenLifetime(shortLifetime)
	defer w.srv.SetTokenLifetime(0)

	logins := &loginLog{start: time.Now()}
	session := ksauth.NewSession(logins.authenticator(w.keystone), &ksauth.SessionOptions{ExpireEarly: expireEarly})
	client := &http.Client{Transport: &ksauth.Transport{Session: session, Base: w.rec}}
	first, err := session.Token(ctx)
	if err != nil {
		return errUnexpected("early refresh", "%v", err)
	}
	mark := w.rec.mark()
	deadline := first.ExpiresAt.Sub(logins.start) + pastExpiry
	run, err := w.requestUntil(ctx, client, logins.start, deadline)
	if err != nil {
		return err
	}
	w.failures += run.failed

	got := logins.all()
	rows, early := w.renewals(got, logins.start, mark)
	w.p.line("srv.SetTokenLifetime(%s): tokens that say they live %s (Keystone writes times to the second)",
		shortLifetime, first.Lifetime())
	w.p.line("SessionOptions{ExpireEarly: %s}: renewed once min(%s, lifetime/2) is left", expireEarly, expireEarly)
	w.p.line("a request through the Transport every %s for %s, past the first token's expiry", requestEvery, dur(deadline))
	w.p.line("")
	w.p.table([]string{"TOKEN", "OBTAINED", "EXPIRES", "REQUESTS", "RENEWED"}, rows)
	w.p.line("")
	w.p.table(nil, [][]string{
		{"Requests", itoa(run.sent) + " sent, " + itoa(run.failed) + " failed, slowest " + dur(run.slowest)},
		{"Renewals", itoa(early) + " of " + itoa(len(got)-1) + " before the token expired, while requests kept flowing"},
	})
	if run.failed > 0 {
		return errUnexpected("early refresh", "%s of %d failed", plural(run.failed, "request"), run.sent)
	}
	if len(got) < 2 {
		return errUnexpected("early refresh", "the token was not renewed")
	}
	return nil
}

// requestUntil sends a request to the compute endpoint through client
// every requestEvery until deadline (since start) has passed.
func (w *walkthrough) requestUntil(ctx context.Context, client *http.Client, start time.Time, deadline time.Duration) (requestRun, error) {
	var run requestRun
	ticker := time.NewTicker(requestEvery)
	defer ticker.Stop()
	for time.Since(start) < deadline {
		begin := time.Now()
		status, err := get(ctx, client, w.compute)
		run.slowest = max(run.slowest, time.Since(begin))
		run.sent++
		if err != nil || status != http.StatusOK {
			run.failed++
		}
		select {
		case <-ticker.C:
		case <-ctx.Done():
			return run, ctx.Err()
		}
	}
	return run, nil
}

// renewals is a row per login: its token, when it came and expires, the
// requests (since mark) that carried it, and when the next one replaced
// it; early counts the replacements that came before the expiry.
func (w *walkthrough) renewals(got []login, start time.Time, mark int) (rows [][]string, early int) {
	uses := map[string]int{}
	for _, x := range w.rec.since(mark) {
		if x.tokenID != "" {
			uses[x.tokenID]++
		}
	}
	for i, l := range got {
		expires := l.tok.ExpiresAt.Sub(start)
		renewed := "-"
		if i+1 < len(got) {
			next := got[i+1]
			lead := expires - next.ended
			renewed = offset(next.ended) + ", " + dur(lead) + " before expiry"
			if lead > 0 {
				early++
			}
		}
		rows = append(rows, []string{fingerprint(l.tok), offset(l.ended), offset(expires), itoa(uses[l.tok.ID]), renewed})
	}
	return rows, early
}

// 8. A host that is neither the auth host nor in the catalog never gets
// the token: the Transport refuses the request before sending it.
func (w *walkthrough) untrustedHost(ctx context.Context) error {
	w.p.title("Untrusted host refused")
	var seen, withToken atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		if r.Header.Get("X-Auth-Token") != "" {
			withToken.Add(1)
		}
		rw.WriteHeader(http.StatusOK)
	}))
	defer other.Close()

	url := other.URL + "/v1/resources"
	mark := w.rec.mark()
	status, err := get(ctx, w.client, url)
	if !errors.Is(err, ksauth.ErrUntrustedHost) {
		w.failures++
		return errUnexpected("untrusted host", "GET %s: expected ksauth.ErrUntrustedHost, got %s", url, describe(status, err))
	}
	sentOut := len(w.rec.since(mark))
	w.p.line("GET %s  (another server, not in the catalog)", url)
	w.p.line("")
	w.p.table(nil, [][]string{
		{"Error", err.Error()},
		{"errors.Is", "ksauth.ErrUntrustedHost: true"},
		{"Requests sent", itoa(sentOut)},
		{"Server saw", plural(int(seen.Load()), "request") + ", " + itoa(int(withToken.Load())) + " with X-Auth-Token"},
	})
	if seen.Load() != 0 || sentOut != 0 {
		return errUnexpected("untrusted host", "the request reached the untrusted server")
	}
	return nil
}

// describe says what a request got: its status or its error.
func describe(status int, err error) string {
	if err != nil {
		return err.Error()
	}
	return statusText(status)
}

// 9. Two processes share one token through a FileStore: the second one
// (a fresh Session, with nothing in memory) takes the first one's token
// from the store instead of logging in. The entry is sealed: the token is
// not in the file.
func (w *walkthrough) shared(ctx context.Context) error {
	w.p.title("Token shared between processes (FileStore)")
	dir, err := os.MkdirTemp("", "ksauth-quickstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	run := func() (*ksauth.Token, error) { // one "process": its own store handle and session
		store, err := ksauth.NewFileStore(filepath.Join(dir, "cache"))
		if err != nil {
			return nil, err
		}
		return ksauth.NewSession(w.keystone, &ksauth.SessionOptions{Store: store}).Token(ctx)
	}
	before := w.logins()
	first, err := run()
	if err != nil {
		return errUnexpected("shared token", "first process: %v", err)
	}
	afterFirst := w.logins()
	second, err := run()
	if err != nil {
		return errUnexpected("shared token", "second process: %v", err)
	}
	var files []string // the data files: locks and the secret have a dot in their names
	all, _ := filepath.Glob(filepath.Join(dir, "cache", "t1-*"))
	for _, f := range all {
		if !strings.Contains(filepath.Base(f), ".") {
			files = append(files, f)
		}
	}
	var sealed bool
	mode := "?"
	if len(files) == 1 {
		data, err := os.ReadFile(files[0])
		sealed = err == nil && !strings.Contains(string(data), first.ID)
		if info, err := os.Stat(files[0]); err == nil {
			mode = fmt.Sprintf("%04o", info.Mode().Perm())
		}
	}
	w.p.table(nil, [][]string{
		{"First process", "logged in: token " + fingerprint(first) + " (logins " + itoa(before) + " -> " + itoa(afterFirst) + ")"},
		{"Second process", "from the store: token " + fingerprint(second) + " (logins " + itoa(w.logins()) + ")"},
		{"Store entry", plural(len(files), "file") + ", mode " + mode + ", sealed with AES-256-GCM, token not in it: " + strconv.FormatBool(sealed)},
	})
	if first.ID != second.ID || w.logins() != afterFirst || !sealed {
		w.failures++
		return errUnexpected("shared token", "the second process did not reuse the sealed stored token")
	}
	return nil
}
