package keystonetest

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"
)

// Fault injection. Each fault is armed for the next n requests (n ≤ 0
// disarms it) and applies, whatever the route, in this order: 503 first,
// then 429, then the rejection of a token; a malformed body last, on top
// of the real answer. Faulted requests are counted like any other.

// faults are the armed faults; every access holds Server.mu.
type faults struct {
	reject      int
	rateLimit   int
	retryAfter  time.Duration
	unavailable int
	malformed   int
	latency     time.Duration
}

// RejectNext makes the next n requests that carry a token (X-Auth-Token,
// which is also Cleura's X-AUTH-TOKEN) be refused as if the token were no
// longer valid, whatever it is: Keystone's and the sample services'
// routes answer 401 (the generic body, WWW-Authenticate), Cleura's
// routes 403 {"error":{"code":403,"message":"Invalid token"}}. Requests
// without a token (logins, discovery) pass. The token itself stays valid.
func (s *Server) RejectNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.reject = max(n, 0)
}

// RateLimitNext makes the next n requests get 429 Too Many Requests, with
// Retry-After (in whole seconds, rounded up) when retryAfter > 0 and
// without one otherwise.
func (s *Server) RateLimitNext(n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.rateLimit = max(n, 0)
	s.faults.retryAfter = retryAfter
}

// UnavailableNext makes the next n requests get 503 Service Unavailable.
func (s *Server) UnavailableNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.unavailable = max(n, 0)
}

// MalformedNext makes the next n responses that have a body carry only
// its first half: invalid JSON under the real status and headers. The
// request itself is served: a login cut this way still issues its token.
func (s *Server) MalformedNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.malformed = max(n, 0)
}

// SetLatency delays every request by d before it is served (0: none). The
// wait ends early, without an answer, when the request's context ends or
// the server is closed. It runs on a real timer, which inside a synctest
// bubble is the bubble's fake clock.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.latency = max(d, 0)
}

// RevokeAll revokes every token issued so far, Keystone's and Cleura's,
// and every MFA receipt, as a key rotation or a security incident would.
// New logins work as before.
func (s *Server) RevokeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		t.revoked = true
	}
	clear(s.receipts)
	for tok := range s.cleura.tokens {
		s.cleura.tokens[tok].revoked = true
	}
}

// wait sleeps d, and reports false when the request or the server ended
// first.
func (s *Server) wait(r *http.Request, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.closed:
		return false
	}
}

// injectFault answers r with an armed fault, if one applies.
func (s *Server) injectFault(w http.ResponseWriter, r *http.Request, kind routeKind) bool {
	s.mu.Lock()
	f := &s.faults
	var status int
	var retryAfter time.Duration
	switch {
	case f.unavailable > 0:
		f.unavailable--
		status = http.StatusServiceUnavailable
	case f.rateLimit > 0:
		f.rateLimit--
		status, retryAfter = http.StatusTooManyRequests, f.retryAfter
	case f.reject > 0 && r.Header.Get("X-Auth-Token") != "":
		f.reject--
		status = http.StatusUnauthorized
	}
	s.mu.Unlock()
	switch {
	case status == 0:
		return false
	case status == http.StatusUnauthorized && kind == cleuraRoute:
		cleuraError(w, http.StatusForbidden, "Invalid token")
	case status == http.StatusUnauthorized:
		s.unauthorized(w)
	case status == http.StatusTooManyRequests:
		if retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.FormatInt(int64((retryAfter+time.Second-1)/time.Second), 10))
		}
		s.keystoneError(w, status, "Rate limit exceeded: too many requests. Please retry later.", nil)
	default:
		s.keystoneError(w, status, "The service is temporarily unavailable. Please try again later.", nil)
	}
	return true
}

// takeMalformed reports whether a malformed body is armed (it is used up
// only by a response that has a body; see serveMalformed).
func (s *Server) takeMalformed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults.malformed > 0
}

// serveMalformed serves r, then writes the response with half its body.
func (s *Server) serveMalformed(w http.ResponseWriter, r *http.Request, h http.HandlerFunc) {
	rec := httptest.NewRecorder()
	for k, v := range w.Header() {
		rec.Header()[k] = v
	}
	h(rec, r)
	body := rec.Body.Bytes()
	cut := false
	if len(body) > 0 {
		s.mu.Lock()
		if s.faults.malformed > 0 {
			s.faults.malformed--
			cut = true
		}
		s.mu.Unlock()
	}
	if cut {
		body = body[:len(body)/2]
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
}
