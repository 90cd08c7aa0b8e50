// Command gozunga walks through a long-running client of Gozunga's cloud:
// an application credential login, a loop of API calls that outlives
// several tokens (the Session renews each one before it expires, so no
// call fails), EC2/S3 credentials created, listed and deleted with the
// typed EC2 calls, and the token revoked at the end.
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
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
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

// ec2Section creates an EC2/S3 credential, lists the user's, and deletes
// the one it created, with ksauth's typed calls. The secret key is in
// created.Secret; printing the credential masks it.
//
// Keystone refuses these calls to a token from an application credential
// (403 "Delegated tokens cannot access credentials directly"; the error's
// Hint says what to do), so they use a password login of the same user.
func ec2Section(ctx context.Context, out io.Writer, t target) error {
	section(out, "EC2/S3 credentials")
	if t.password == nil {
		row(out, "skipped", "set OS_USERNAME and OS_PASSWORD: application credential tokens may not manage EC2 credentials")
		return nil
	}
	k := t.password
	session := ksauth.NewSession(k, nil)
	created, err := k.CreateEC2Credential(ctx, session, "", "") // the token's user and project
	if err != nil {
		return err
	}
	row(out, "created", "%+v", *created) // Secret:REDACTED
	list, err := k.EC2Credentials(ctx, session, "")
	if err != nil {
		return err
	}
	row(out, "listed", "%d credential(s)", len(list))
	for _, c := range list {
		row(out, "", "access %s, project %s", c.Access, c.ProjectID)
	}
	if err := k.DeleteEC2Credential(ctx, session, "", created.Access); err != nil {
		return err
	}
	row(out, "deleted", "access %s", created.Access)
	_, err = k.GetEC2Credential(ctx, session, "", created.Access)
	if !errors.Is(err, ksauth.ErrNotFound) {
		return fmt.Errorf("get after delete: %v, want ErrNotFound", err)
	}
	row(out, "get after", "ErrNotFound")
	return nil
}
