// Command quickstart shows ksauth at work in a few seconds.
//
//	go run ./examples/quickstart
//
// With no OS_CLOUD and no OS_AUTH_URL in the environment it starts a fake
// Keystone in the process (package keystonetest; no network, no cloud) and
// walks through a password login, the token and its catalog, requests
// through ksauth.Transport, a rejected token renewed by one login, a 429
// waited out, the early refresh of a short-lived token, a request to an
// untrusted host refused, and a token shared between two processes through
// a ksauth.FileStore (in a temporary directory, removed at the end).
//
// With OS_CLOUD or OS_AUTH_URL set it reads the configuration as the
// OpenStack tools do (clouds.yaml or the OS_* variables, see
// ksauth.LoadConfig), logs in to that cloud and shows the token and the
// catalog. It only reads: no fault steps, nothing that changes the cloud.
//
//	OS_CLOUD=mycloud go run ./examples/quickstart
//
// Secrets are never printed: tokens appear as their SHA-256 fingerprint.
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Environ()); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart: error:", err)
		os.Exit(1)
	}
}

// run runs the walkthrough against the cloud environ (KEY=value pairs)
// names, or offline against keystonetest when it names none, writing to
// out.
func run(ctx context.Context, out io.Writer, environ []string) error {
	return runWith(ctx, out, environ, nil)
}

// runWith is run with base under every HTTP request the walkthrough sends
// (nil: http.DefaultTransport), for tests to watch the wire.
func runWith(ctx context.Context, out io.Writer, environ []string, base http.RoundTripper) error {
	environ = append([]string{}, environ...) // non-nil: LoadConfig reads nil as os.Environ()
	start := time.Now()
	p := &printer{out: out}
	rec := &recorder{base: base}
	var (
		logins, failures int
		err              error
	)
	if getenv(environ, "OS_CLOUD") != "" || getenv(environ, "OS_AUTH_URL") != "" {
		logins, err = cloud(ctx, p, rec, environ)
	} else {
		logins, failures, err = offline(ctx, p, rec)
	}
	if err != nil {
		return err
	}
	requests, _ := rec.count()
	p.printf("")
	p.printf("Summary: %s, %s, %s, %s total", plural(requests, "request"), plural(logins, "authentication"),
		plural(failures, "failure"), dur(time.Since(start)))
	if err := p.err(); err != nil {
		return err
	}
	if failures > 0 {
		return fmt.Errorf("%s failed", plural(failures, "request"))
	}
	return nil
}

// getenv looks key up in environ, the last value winning as in os/exec.
func getenv(environ []string, key string) string {
	v := ""
	for _, kv := range environ {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

// errUnexpected describes a step that did not go as the walkthrough
// expects.
func errUnexpected(step, format string, args ...any) error {
	return fmt.Errorf("%s: %s", step, fmt.Sprintf(format, args...))
}

// get sends a GET through client and drains the answer.
func get(ctx context.Context, client *http.Client, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, nil
}

// statusText is "200 OK".
func statusText(code int) string { return fmt.Sprintf("%d %s", code, http.StatusText(code)) }
