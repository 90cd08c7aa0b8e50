// Command gozunga walks through a long-running client of Gozunga's cloud:
// an application credential login, a loop of API calls that outlives
// several tokens (the Session renews each one before it expires, so no
// call fails), EC2/S3 credentials created, listed and deleted with plain
// JSON requests, and the token revoked at the end.
//
//	go run ./examples/gozunga          # against keystonetest, in-process
//	OS_APPLICATION_CREDENTIAL_ID=... OS_APPLICATION_CREDENTIAL_SECRET=... \
//	  go run ./examples/gozunga -real  # against Gozunga
//
// Against the fake, tokens live -lifetime (3 s) instead of Gozunga's 24 h,
// so that the loop of -duration (8 s) outlives several of them. With -real (or
// OS_AUTH_URL set) it logs in to OS_AUTH_URL, by default Gozunga's
// https://cloud.fsd1.gozunga.com:5000; the EC2 part needs OS_USERNAME and
// OS_PASSWORD too (see ec2Section), and deletes only what it created.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/ksauth/ksauth"
	"github.com/ksauth/ksauth/keystonetest"
)

// gozungaURL is Gozunga's identity endpoint (region fsd1).
const gozungaURL = "https://cloud.fsd1.gozunga.com:5000"

// newFake starts the in-process Keystone; tests replace it to keep a hold
// of the server (and to use an in-memory one inside a synctest bubble).
var newFake = keystonetest.NewServer

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Args[1:], os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "gozunga:", err)
		os.Exit(1)
	}
}

// target is the cloud the walkthrough runs against.
type target struct {
	name     string
	k        *ksauth.Keystone // application credential
	password *ksauth.Keystone // for the EC2 credentials; nil: skipped
	base     http.RoundTripper
	fake     *keystonetest.Server // nil against a real cloud
	duration time.Duration
	interval time.Duration
}

// run parses args, picks the fake or the real cloud, and writes the
// walkthrough on out.
func run(ctx context.Context, out io.Writer, args []string, env func(string) string) error {
	fs := flag.NewFlagSet("gozunga", flag.ContinueOnError)
	fs.SetOutput(out)
	real := fs.Bool("real", false, "log in to OS_AUTH_URL (default Gozunga) with OS_APPLICATION_CREDENTIAL_ID/_SECRET instead of the in-process fake")
	duration := fs.Duration("duration", 8*time.Second, "how long the loop of API calls runs")
	interval := fs.Duration("interval", 100*time.Millisecond, "pause between two API calls of the loop")
	// Not below 3 s: Keystone writes issued_at to the whole second, so a
	// token's local expiry can be up to 1 s late, and a token renewed at
	// half its lifetime must still have more than that left.
	lifetime := fs.Duration("lifetime", 3*time.Second, "token lifetime of the fake (Gozunga's is 24h)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	t := target{duration: *duration, interval: *interval}
	if *real || env("OS_AUTH_URL") != "" {
		authURL := orDefault(env("OS_AUTH_URL"), gozungaURL)
		id, secret := env("OS_APPLICATION_CREDENTIAL_ID"), env("OS_APPLICATION_CREDENTIAL_SECRET")
		if id == "" || secret == "" {
			return errors.New("a real cloud needs OS_APPLICATION_CREDENTIAL_ID and OS_APPLICATION_CREDENTIAL_SECRET")
		}
		t.name = authURL
		t.k = &ksauth.Keystone{AuthURL: authURL, Credentials: ksauth.ApplicationCredential{ID: id, Secret: secret}}
		if user, pw := env("OS_USERNAME"), env("OS_PASSWORD"); user != "" && pw != "" {
			t.password = &ksauth.Keystone{AuthURL: authURL, Credentials: ksauth.Password{
				Username: user, UserDomain: ksauth.Domain{Name: orDefault(env("OS_USER_DOMAIN_NAME"), "Default")}, Password: pw,
			}}
			if p := env("OS_PROJECT_NAME"); p != "" {
				t.password.Scope = ksauth.ProjectScope{Name: p, Domain: ksauth.Domain{Name: orDefault(env("OS_PROJECT_DOMAIN_NAME"), "Default")}}
			}
		}
	} else {
		srv := newFake()
		defer srv.Close()
		srv.SetTokenLifetime(*lifetime)
		t.name, t.fake, t.base = "keystonetest at "+srv.URL, srv, srv.Transport()
		t.k = &ksauth.Keystone{
			AuthURL:     srv.AuthURL(),
			Credentials: ksauth.ApplicationCredential{ID: keystonetest.DemoAppCredID, Secret: keystonetest.DemoAppCredSecret},
			HTTPClient:  srv.Client(),
		}
		t.password = &ksauth.Keystone{
			AuthURL: srv.AuthURL(),
			Credentials: ksauth.Password{Username: keystonetest.DemoUserName,
				UserDomain: ksauth.Domain{Name: keystonetest.DefaultDomainName}, Password: keystonetest.DemoPassword},
			HTTPClient: srv.Client(),
		}
	}
	return walkthrough(ctx, out, t)
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func row(out io.Writer, key, format string, a ...any) {
	fmt.Fprintf(out, "  %-14s %s\n", key, fmt.Sprintf(format, a...))
}

func section(out io.Writer, title string) { fmt.Fprintf(out, "\n== %s\n", title) }

func walkthrough(ctx context.Context, out io.Writer, t target) error {
	fmt.Fprintf(out, "gozunga: %s\n", t.name)

	section(out, "login (application credential)")
	session := ksauth.NewSession(t.k, nil)
	tok, err := session.Token(ctx)
	if err != nil {
		return err
	}
	row(out, "token", "%v", tok)
	row(out, "lifetime", "%s", tok.Lifetime())
	client := &http.Client{Transport: &ksauth.Transport{Session: session, Base: t.base}}

	section(out, "long-running loop")
	if err := loop(ctx, out, session, client, t); err != nil {
		return err
	}

	if err := ec2Section(ctx, out, t); err != nil {
		return err
	}

	section(out, "revoke")
	last, err := session.Token(ctx)
	if err != nil {
		return err
	}
	if err := t.k.RevokeToken(ctx, last, last.ID); err != nil { // a token may revoke itself
		return err
	}
	row(out, "revoked", "%v", last)
	if t.fake != nil {
		valid, err := t.password.CheckToken(ctx, ksauth.NewSession(t.password, nil), last.ID)
		if err != nil {
			return err
		}
		row(out, "still valid", "%t", valid)
	}
	return nil
}

// loop calls the compute API every t.interval for t.duration through the
// session's Transport, and counts calls, failures and the tokens used.
func loop(ctx context.Context, out io.Writer, session *ksauth.Session, client *http.Client, t target) error {
	compute, err := session.Endpoint(ctx, ksauth.EndpointOpts{Type: "compute"})
	if err != nil {
		return err
	}
	logins := 0
	if t.fake != nil {
		logins = t.fake.Requests("POST /v3/auth/tokens")
	}
	seen := map[string]bool{} // token IDs, kept in memory only
	calls, failures := 0, 0
	start := time.Now()
	for time.Since(start) < t.duration {
		tok, err := session.Token(ctx)
		if err != nil {
			return err
		}
		seen[tok.ID] = true
		calls++
		if err := get(ctx, client, compute); err != nil {
			failures++
			row(out, "failure", "%v", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(t.interval):
		}
	}
	row(out, "ran", "%s, a call every %s", t.duration, t.interval)
	row(out, "calls", "%d", calls)
	row(out, "failures", "%d", failures)
	row(out, "tokens used", "%d", len(seen))
	if t.fake != nil {
		row(out, "logins", "%d (POST /v3/auth/tokens)", t.fake.Requests("POST /v3/auth/tokens")-logins)
	}
	if failures > 0 {
		return fmt.Errorf("%d of %d calls failed", failures, calls)
	}
	return nil
}

// get sends a GET through client and fails on anything but a 200.
func get(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// ec2Credential is one entry of /v3/users/{user_id}/credentials/OS-EC2.
// Its Secret is the S3 secret key: never printed.
type ec2Credential struct {
	Access   string `json:"access"`
	Secret   string `json:"secret"`
	TenantID string `json:"tenant_id"`
	UserID   string `json:"user_id"`
}

// ec2Section creates an EC2/S3 credential, lists the user's, and deletes
// the one it created.
//
// ksauth has no typed API for EC2 credentials yet (a later issue adds
// one): these are plain JSON requests to Keystone's
// /v3/users/{user_id}/credentials/OS-EC2, sent through a ksauth Transport,
// which adds the token, retries 429/503 and re-authenticates on a 401.
//
// Keystone refuses them to a token from an application credential (403
// "Delegated tokens cannot access credentials directly"), so they use a
// password login of the same user.
func ec2Section(ctx context.Context, out io.Writer, t target) error {
	section(out, "EC2/S3 credentials (plain JSON through the Transport)")
	if t.password == nil {
		row(out, "skipped", "set OS_USERNAME and OS_PASSWORD: application credential tokens may not manage EC2 credentials")
		return nil
	}
	session := ksauth.NewSession(t.password, nil)
	tok, err := session.Token(ctx)
	if err != nil {
		return err
	}
	if tok.Project == nil {
		return errors.New("the password login is not scoped to a project: set OS_PROJECT_NAME")
	}
	identity, err := session.Endpoint(ctx, ksauth.EndpointOpts{Type: "identity"})
	if err != nil {
		return err
	}
	client := &http.Client{Transport: &ksauth.Transport{Session: session, Base: t.base}}
	base := strings.TrimRight(identity, "/") + "/users/" + tok.User.ID + "/credentials/OS-EC2"

	var created struct{ Credential ec2Credential }
	body, _ := json.Marshal(map[string]string{"tenant_id": tok.Project.ID})
	if err := call(ctx, client, http.MethodPost, base, body, http.StatusCreated, &created); err != nil {
		return err
	}
	access := created.Credential.Access
	row(out, "created", "access %s for project %s (secret not shown)", access, created.Credential.TenantID)

	var list struct{ Credentials []ec2Credential }
	if err := call(ctx, client, http.MethodGet, base, nil, http.StatusOK, &list); err != nil {
		return err
	}
	row(out, "listed", "%d credential(s)", len(list.Credentials))
	for _, c := range list.Credentials {
		row(out, "", "access %s, project %s", c.Access, c.TenantID)
	}

	if err := call(ctx, client, http.MethodDelete, base+"/"+access, nil, http.StatusNoContent, nil); err != nil {
		return err
	}
	row(out, "deleted", "access %s", access)
	if err := call(ctx, client, http.MethodGet, base+"/"+access, nil, http.StatusNotFound, nil); err != nil {
		return err
	}
	row(out, "get after", "404 Not Found")
	return nil
}

// call sends a JSON request, checks the status and decodes the answer
// into v (nil: discarded).
func call(ctx context.Context, client *http.Client, method, url string, body []byte, want int, v any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body) // http.NewRequest sets GetBody: replayable after a 401
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		// The body of an EC2 answer holds the secret: quote only the status.
		return fmt.Errorf("%s %s: %s, want %d", method, url, resp.Status, want)
	}
	if v == nil {
		return nil
	}
	return json.Unmarshal(data, v)
}
