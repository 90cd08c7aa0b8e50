package main

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// recorder is an http.RoundTripper under ksauth's Transport and Keystone's
// client: it sees every request on the wire, with the token ksauth put on
// it, and the answer. It keeps the token only to tell tokens apart; only
// its fingerprint is ever shown.
type recorder struct {
	base http.RoundTripper // nil: http.DefaultTransport

	mu        sync.Mutex
	exchanges []exchange
}

// exchange is one request on the wire and its answer.
type exchange struct {
	at         time.Time
	method     string
	path       string
	status     int    // 0 when no response came
	retryAfter string // the answer's Retry-After
	tokenID    string // the request's X-Auth-Token; a secret, never printed
}

var _ http.RoundTripper = (*recorder)(nil)

// RoundTrip records req and its answer.
func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	x := exchange{at: time.Now(), method: req.Method, path: req.URL.Path, tokenID: req.Header.Get("X-Auth-Token")}
	base := r.base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if resp != nil {
		x.status = resp.StatusCode
		x.retryAfter = resp.Header.Get("Retry-After")
	}
	r.mu.Lock()
	r.exchanges = append(r.exchanges, x)
	r.mu.Unlock()
	return resp, err
}

// mark returns the number of exchanges so far, for since.
func (r *recorder) mark() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.exchanges)
}

// since returns the exchanges after mark.
func (r *recorder) since(mark int) []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]exchange(nil), r.exchanges[mark:]...)
}

// count returns how many requests went out, and how many of them were
// logins (POST .../auth/tokens).
func (r *recorder) count() (requests, logins int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, x := range r.exchanges {
		if x.method == http.MethodPost && strings.HasSuffix(x.path, "/auth/tokens") {
			logins++
		}
	}
	return len(r.exchanges), logins
}

// traceRows shows exchanges as table rows: method, path, status, and the
// token sent (as its fingerprint) or the Retry-After received.
func traceRows(xs []exchange) [][]string {
	rows := make([][]string, 0, len(xs))
	for _, x := range xs {
		status := "no response"
		if x.status != 0 {
			status = strconv.Itoa(x.status) + " " + http.StatusText(x.status)
		}
		var note []string
		if x.tokenID != "" {
			note = append(note, "token "+fingerprintOf(x.tokenID))
		}
		if x.retryAfter != "" {
			note = append(note, "Retry-After: "+x.retryAfter)
		}
		rows = append(rows, []string{x.method, x.path, status, strings.Join(note, ", ")})
	}
	return rows
}
