// Command cloudpe walks through CloudPe's login flow with an application
// credential: an availability check of the identity API, the login (the
// token comes back in X-Subject-Token), the token's details as GET
// /v3/auth/tokens shows them, and, against the in-process fake, a token
// rejected with 401 (one re-authentication) and a 429 waited out.
//
//	go run ./examples/cloudpe          # against keystonetest, in-process
//	OS_APPLICATION_CREDENTIAL_ID=... OS_APPLICATION_CREDENTIAL_SECRET=... \
//	  go run ./examples/cloudpe -real  # against CloudPe
//
// With -real (or OS_AUTH_URL set) it logs in to OS_AUTH_URL, by default
// CloudPe's https://in-west2.controlcloud.app:5000, and only reads: the
// fault demonstrations need the fake. CloudPe's tokens live 1 h; the
// Session renews them before they expire.
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
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ksauth/ksauth"
	"github.com/ksauth/ksauth/keystonetest"
)

// cloudPeURL is CloudPe's identity endpoint (region in-west2).
const cloudPeURL = "https://in-west2.controlcloud.app:5000"

// newFake starts the in-process Keystone; tests replace it to keep a hold
// of the server (and to use an in-memory one inside a synctest bubble).
var newFake = keystonetest.NewServer

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Args[1:], os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "cloudpe:", err)
		os.Exit(1)
	}
}

// target is the cloud the walkthrough runs against.
type target struct {
	name string
	k    *ksauth.Keystone
	base http.RoundTripper    // the services' transport; nil: http.DefaultTransport
	fake *keystonetest.Server // nil against a real cloud
}

// run parses args, picks the fake or the real cloud, and writes the
// walkthrough on out.
func run(ctx context.Context, out io.Writer, args []string, env func(string) string) error {
	fs := flag.NewFlagSet("cloudpe", flag.ContinueOnError)
	fs.SetOutput(out)
	real := fs.Bool("real", false, "log in to OS_AUTH_URL (default CloudPe) with OS_APPLICATION_CREDENTIAL_ID/_SECRET instead of the in-process fake")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var t target
	if *real || env("OS_AUTH_URL") != "" {
		authURL := env("OS_AUTH_URL")
		if authURL == "" {
			authURL = cloudPeURL
		}
		id, secret := env("OS_APPLICATION_CREDENTIAL_ID"), env("OS_APPLICATION_CREDENTIAL_SECRET")
		if id == "" || secret == "" {
			return errors.New("a real cloud needs OS_APPLICATION_CREDENTIAL_ID and OS_APPLICATION_CREDENTIAL_SECRET")
		}
		t = target{name: authURL, k: &ksauth.Keystone{
			AuthURL:     authURL,
			Credentials: ksauth.ApplicationCredential{ID: id, Secret: secret},
		}}
	} else {
		srv := newFake()
		defer srv.Close()
		t = target{name: "keystonetest at " + srv.URL, fake: srv, base: srv.Transport(), k: &ksauth.Keystone{
			AuthURL:     srv.URL, // the root: the login goes through version discovery, as with CloudPe's :5000
			Credentials: ksauth.ApplicationCredential{ID: keystonetest.DemoAppCredID, Secret: keystonetest.DemoAppCredSecret},
			HTTPClient:  srv.Client(),
		}}
	}
	return walkthrough(ctx, out, t)
}

// row prints one aligned "key  value" line.
func row(out io.Writer, key, format string, a ...any) {
	fmt.Fprintf(out, "  %-12s %s\n", key, fmt.Sprintf(format, a...))
}

func section(out io.Writer, title string) { fmt.Fprintf(out, "\n== %s\n", title) }

func walkthrough(ctx context.Context, out io.Writer, t target) error {
	fmt.Fprintf(out, "cloudpe: %s\n", t.name)

	section(out, "availability (GET /)")
	versions, err := t.k.Versions(ctx)
	if err != nil {
		return fmt.Errorf("identity API not available: %w", err)
	}
	for _, v := range versions {
		row(out, "version", "%s (%s)", v.ID, v.Status)
	}

	section(out, "login (application credential)")
	session := ksauth.NewSession(t.k, nil)
	tok, err := session.Token(ctx)
	if err != nil {
		return err
	}
	row(out, "token", "%v", tok) // a fingerprint, never the token itself
	row(out, "lifetime", "%s", tok.Lifetime())

	section(out, "token details (GET /v3/auth/tokens)")
	details, err := t.k.ValidateToken(ctx, session, tok.ID, nil)
	if err != nil {
		return err
	}
	printDetails(out, details)

	client := &http.Client{Transport: &ksauth.Transport{Session: session, Base: t.base}}
	compute, err := session.Endpoint(ctx, ksauth.EndpointOpts{Type: "compute"})
	if err != nil {
		return err
	}
	if t.fake == nil {
		fmt.Fprintln(out, "\n(the 401 and 429 demonstrations run against the fake only)")
		return nil
	}
	return faults(ctx, out, t.fake, client, compute)
}

// faults shows the Transport recovering from a rejected token (one
// re-authentication) and waiting out a 429, against the fake.
func faults(ctx context.Context, out io.Writer, srv *keystonetest.Server, client *http.Client, compute string) error {
	section(out, "re-authentication on 401")
	logins := srv.Requests("POST /v3/auth/tokens")
	srv.RejectNext(1)
	status, err := get(ctx, client, compute)
	if err != nil {
		return err
	}
	row(out, "GET compute", "%s after the token was rejected once", status)
	row(out, "logins", "%d (one re-authentication)", srv.Requests("POST /v3/auth/tokens")-logins)

	section(out, "back-off on 429")
	srv.RateLimitNext(1, time.Second)
	start := time.Now()
	status, err = get(ctx, client, compute)
	if err != nil {
		return err
	}
	row(out, "GET compute", "%s after a 429 with Retry-After: 1", status)
	row(out, "waited", "%s", time.Since(start).Round(100*time.Millisecond))

	section(out, "summary")
	row(out, "requests", "%d to the fake, %d logins, 0 failures", srv.Requests(""), srv.Requests("POST /v3/auth/tokens"))
	return nil
}

// printDetails shows what Keystone says of a token: its owner, scope,
// roles, expiry and public endpoints.
func printDetails(out io.Writer, tok *ksauth.Token) {
	row(out, "user", "%s (%s), domain %s", tok.User.Name, tok.User.ID, tok.User.Domain.Name)
	if tok.Project != nil {
		row(out, "project", "%s (%s), domain %s", tok.Project.Name, tok.Project.ID, tok.Project.Domain.Name)
	}
	var roles []string
	for _, r := range tok.Roles {
		roles = append(roles, r.Name)
	}
	slices.Sort(roles)
	row(out, "roles", "%s", strings.Join(roles, ", "))
	row(out, "methods", "%s", strings.Join(tok.Methods, ", "))
	if ac := tok.ApplicationCredential; ac != nil {
		row(out, "app cred", "%s (%s), restricted %t", ac.Name, ac.ID, ac.Restricted)
	}
	row(out, "expires", "%s", tok.ExpiresAt.UTC().Format(time.RFC3339))
	fmt.Fprintln(out, "  endpoints (public):")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, svc := range tok.Catalog {
		for _, ep := range svc.Endpoints {
			if ep.Interface == "public" {
				fmt.Fprintf(tw, "    %s\t%s\t%s\n", svc.Type, ep.Region, ep.URL)
			}
		}
	}
	tw.Flush()
}

// get sends a GET through client and returns the response's status.
func get(ctx context.Context, client *http.Client, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return resp.Status, nil
}
