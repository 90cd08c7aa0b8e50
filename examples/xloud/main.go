// Command xloud walks through Xloud's password flows: a login scoped to a
// project; an unscoped login, the list of the user's projects and a rescope
// to one of them (the "token" method); validating and revoking a token;
// and loading the same settings from an OpenRC file's OS_* variables with
// ksauth.LoadConfig.
//
//	go run ./examples/xloud          # against keystonetest, in-process
//	source xloud-openrc.sh && go run ./examples/xloud -real
//
// With -real (or OS_AUTH_URL set) it logs in with OS_AUTH_URL (Xloud's is
// https://api.<domain>/identity/v3), OS_USERNAME, OS_PASSWORD,
// OS_USER_DOMAIN_NAME, OS_PROJECT_NAME and OS_PROJECT_DOMAIN_NAME. The only
// change it makes there is revoking the token it rescoped itself.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ksauth/ksauth"
	"github.com/ksauth/ksauth/keystonetest"
)

// newFake starts the in-process Keystone; tests replace it to keep a hold
// of the server.
var newFake = keystonetest.NewServer

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Args[1:], os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "xloud:", err)
		os.Exit(1)
	}
}

// openRC lists the variables an Xloud OpenRC file sets, in its order.
var openRC = []string{
	"OS_AUTH_URL", "OS_IDENTITY_API_VERSION", "OS_USERNAME", "OS_PASSWORD", "OS_USER_DOMAIN_NAME",
	"OS_PROJECT_NAME", "OS_PROJECT_DOMAIN_NAME", "OS_REGION_NAME", "OS_INTERFACE", "OS_CACERT",
}

// run parses args, picks the fake or the real cloud, and writes the
// walkthrough on out.
func run(ctx context.Context, out io.Writer, args []string, env func(string) string) error {
	fs := flag.NewFlagSet("xloud", flag.ContinueOnError)
	fs.SetOutput(out)
	real := fs.Bool("real", false, "log in with the OS_* variables (an Xloud OpenRC) instead of the in-process fake")
	if err := fs.Parse(args); err != nil {
		return err
	}
	vars := map[string]string{}
	var srv *keystonetest.Server
	if *real || env("OS_AUTH_URL") != "" {
		for _, k := range openRC {
			if v := env(k); v != "" {
				vars[k] = v
			}
		}
		if vars["OS_AUTH_URL"] == "" || vars["OS_USERNAME"] == "" || vars["OS_PASSWORD"] == "" || vars["OS_PROJECT_NAME"] == "" {
			return errors.New("a real cloud needs OS_AUTH_URL, OS_USERNAME, OS_PASSWORD and OS_PROJECT_NAME (source your OpenRC file)")
		}
	} else {
		srv = newFake()
		defer srv.Close()
		vars = map[string]string{
			"OS_AUTH_URL":             srv.AuthURL(),
			"OS_IDENTITY_API_VERSION": "3",
			"OS_USERNAME":             keystonetest.DemoUserName,
			"OS_PASSWORD":             keystonetest.DemoPassword,
			"OS_USER_DOMAIN_NAME":     keystonetest.DefaultDomainName,
			"OS_PROJECT_NAME":         keystonetest.DemoProjectName,
			"OS_PROJECT_DOMAIN_NAME":  keystonetest.DefaultDomainName,
		}
		fmt.Fprintf(out, "xloud: keystonetest at %s\n", srv.URL)
	}
	if srv == nil {
		fmt.Fprintf(out, "xloud: %s\n", vars["OS_AUTH_URL"])
	}
	return walkthrough(ctx, out, vars, srv)
}

func row(out io.Writer, key, format string, a ...any) {
	fmt.Fprintf(out, "  %-13s %s\n", key, fmt.Sprintf(format, a...))
}

func section(out io.Writer, title string) { fmt.Fprintf(out, "\n== %s\n", title) }

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// tour is what every section of the walkthrough shares.
type tour struct {
	out          io.Writer
	vars         map[string]string
	srv          *keystonetest.Server // nil on a real cloud
	base         ksauth.Keystone      // the password login, without a scope
	projectScope ksauth.ProjectScope
}

// walkthrough logs in every way Xloud's guide shows, in its order.
func walkthrough(ctx context.Context, out io.Writer, vars map[string]string, srv *keystonetest.Server) error {
	t := &tour{out: out, vars: vars, srv: srv}
	t.base = ksauth.Keystone{
		AuthURL: vars["OS_AUTH_URL"],
		Credentials: ksauth.Password{
			Username:   vars["OS_USERNAME"],
			UserDomain: ksauth.Domain{Name: orDefault(vars["OS_USER_DOMAIN_NAME"], "Default")},
			Password:   vars["OS_PASSWORD"],
		},
	}
	if srv != nil {
		t.base.HTTPClient = srv.Client()
	}
	t.projectScope = ksauth.ProjectScope{
		Name:   vars["OS_PROJECT_NAME"],
		Domain: ksauth.Domain{Name: orDefault(vars["OS_PROJECT_DOMAIN_NAME"], "Default")},
	}

	section(out, "password login, scoped to a project")
	scoped := t.base // a Keystone is a plain value: copy it to change the scope
	scoped.Scope = t.projectScope
	tok, err := scoped.Authenticate(ctx)
	if err != nil {
		return err
	}
	printToken(out, tok)

	section(out, "unscoped login, projects, rescope")
	rescoped, err := t.rescope(ctx)
	if err != nil {
		return err
	}
	section(out, "validate and revoke the rescoped token")
	if err := t.validateAndRevoke(ctx, tok, rescoped); err != nil {
		return err
	}
	section(out, "OpenRC: the same settings from OS_* variables")
	if err := t.fromOpenRC(ctx, tok); err != nil {
		return err
	}
	if srv != nil {
		section(out, "summary")
		row(out, "logins", "%d (POST /v3/auth/tokens)", srv.Requests("POST /v3/auth/tokens"))
		row(out, "validations", "%d GET, %d HEAD, %d DELETE", srv.Requests("GET /v3/auth/tokens"), srv.Requests("HEAD /v3/auth/tokens"), srv.Requests("DELETE /v3/auth/tokens"))
	}
	return nil
}

// rescope logs in unscoped, lists the user's projects and exchanges the
// unscoped token for one scoped to the configured project.
func (t *tour) rescope(ctx context.Context) (*ksauth.Token, error) {
	unscopedK := t.base
	unscopedK.Scope = ksauth.Unscoped{}
	unscoped, err := unscopedK.Authenticate(ctx)
	if err != nil {
		return nil, err
	}
	printToken(t.out, unscoped)
	projects, err := t.base.Projects(ctx, unscoped)
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(t.out, "  projects:")
	tw := tabwriter.NewWriter(t.out, 0, 0, 2, ' ', 0)
	for _, p := range projects {
		fmt.Fprintf(tw, "    %s\t%s\tdomain %s\n", p.Name, p.ID, p.Domain.ID)
	}
	tw.Flush()
	i := slices.IndexFunc(projects, func(p ksauth.Project) bool { return p.Name == t.projectScope.Name })
	if i < 0 {
		return nil, fmt.Errorf("project %q is not among the user's projects", t.projectScope.Name)
	}
	rescope := t.base
	rescope.Credentials = ksauth.TokenExchange{Token: unscoped.ID}
	rescope.Scope = ksauth.ProjectScope{ID: projects[i].ID}
	rescoped, err := rescope.Authenticate(ctx)
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(t.out, "  rescoped:")
	printToken(t.out, rescoped)
	// ExpiresAt is on the local clock (see ksauth.Token): equal to the
	// second, not to the nanosecond.
	d := rescoped.ExpiresAt.Sub(unscoped.ExpiresAt).Abs()
	row(t.out, "same expiry", "%t (rescoping never extends a token)", d < time.Second)
	return rescoped, nil
}

// validateAndRevoke validates and checks rescoped with tok, revokes it and
// shows that it is gone.
func (t *tour) validateAndRevoke(ctx context.Context, tok, rescoped *ksauth.Token) error {
	details, err := t.base.ValidateToken(ctx, tok, rescoped.ID, &ksauth.ValidateOptions{NoCatalog: true})
	if err != nil {
		return err
	}
	row(t.out, "validate", "user %s, project %s, methods %s", details.User.Name, details.Project.Name, strings.Join(details.Methods, ","))
	valid, err := t.base.CheckToken(ctx, tok, rescoped.ID)
	if err != nil {
		return err
	}
	row(t.out, "check", "valid %t", valid)
	if err := t.base.RevokeToken(ctx, tok, rescoped.ID); err != nil {
		return err
	}
	row(t.out, "revoke", "done")
	valid, err = t.base.CheckToken(ctx, tok, rescoped.ID)
	if err != nil {
		return err
	}
	row(t.out, "check", "valid %t (revoked)", valid)
	if _, err := t.base.ValidateToken(ctx, tok, rescoped.ID, nil); !errors.Is(err, ksauth.ErrNotFound) {
		return fmt.Errorf("validating the revoked token: %v, want a 404", err)
	}
	row(t.out, "validate", "404 Not Found (revoked)")
	return nil
}

// fromOpenRC loads the same settings from OS_* variables with
// ksauth.LoadConfig and logs in with them: the project must be tok's.
func (t *tour) fromOpenRC(ctx context.Context, tok *ksauth.Token) error {
	var env []string
	for _, k := range openRC {
		if v, ok := t.vars[k]; ok {
			env = append(env, k+"="+v)
			shown := v
			if k == "OS_PASSWORD" {
				shown = "REDACTED"
			}
			fmt.Fprintf(t.out, "  export %s=%s\n", k, shown)
		}
	}
	cfg, err := ksauth.LoadConfig(&ksauth.ConfigOptions{Env: env})
	if err != nil {
		return err
	}
	row(t.out, "settings", "%s", setFields(fmt.Sprintf("%+v", cfg.Settings))) // secrets print masked
	if t.srv != nil {
		cfg.Keystone.HTTPClient = t.srv.Client()
	}
	fromEnv, err := cfg.Keystone.Authenticate(ctx)
	if err != nil {
		return err
	}
	printToken(t.out, fromEnv)
	if fromEnv.Project == nil || tok.Project == nil || fromEnv.Project.ID != tok.Project.ID {
		return errors.New("the OpenRC login reached another project than the explicit one")
	}
	row(t.out, "same project", "%t", true)
	return nil
}

// printToken shows a token's owner, scope and roles; its ID only as the
// fingerprint of %v.
func printToken(out io.Writer, tok *ksauth.Token) {
	row(out, "token", "%v", tok)
	scope := "unscoped"
	if tok.Project != nil {
		scope = "project " + tok.Project.Name + " (" + tok.Project.ID + ")"
	}
	var roles []string
	for _, r := range tok.Roles {
		roles = append(roles, r.Name)
	}
	slices.Sort(roles)
	row(out, "scope", "%s, roles [%s], %d services", scope, strings.Join(roles, " "), len(tok.Catalog))
}

// setFields keeps the fields of a %+v rendering of a flat struct that are
// set, for a shorter line: "{A:x B: C:<nil>}" becomes "A:x".
func setFields(s string) string {
	var kept []string
	for _, f := range strings.Fields(strings.Trim(s, "{}")) {
		if !strings.HasSuffix(f, ":") && !strings.HasSuffix(f, ":<nil>") && !strings.HasSuffix(f, ":[]") && !strings.HasSuffix(f, ":0s") {
			kept = append(kept, f)
		}
	}
	return strings.Join(kept, " ")
}
