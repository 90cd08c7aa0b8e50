// Command cleura logs in to Cleura Cloud's REST API, asking for the SMS
// code on the terminal when the account has a second factor, lists the
// OpenStack domains with their regions, and logs out.
//
//	CLEURA_LOGIN=carla CLEURA_PASSWORD=... go run ./examples/cleura
//
// CLEURA_URL selects another API, e.g. https://rest.compliant.cleura.cloud
// for Compliant Cloud (default: https://rest.cleura.cloud).
//
// Without CLEURA_LOGIN it runs against keystonetest, started in-process,
// as its account keystonetest.CleuraLogin (which has an SMS second
// factor): the code is read from the fake instead of a phone.
//
//	go run ./examples/cleura
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"

	"github.com/ksauth/ksauth"
	"github.com/ksauth/ksauth/keystonetest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	c := &ksauth.Cleura{
		BaseURL:   os.Getenv("CLEURA_URL"),
		Login:     os.Getenv("CLEURA_LOGIN"),
		Password:  os.Getenv("CLEURA_PASSWORD"),
		TwoFactor: ksauth.PromptTwoFactor(os.Stdin, os.Stderr),
	}
	if c.Login == "" {
		fmt.Fprintln(os.Stderr, "CLEURA_LOGIN is not set: running against keystonetest (set CLEURA_LOGIN and CLEURA_PASSWORD for Cleura)")
		srv := keystonetest.NewServer()
		defer srv.Close()
		c = fakeCleura(srv, os.Stderr)
	}
	if err := run(ctx, c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "cleura:", err)
		os.Exit(1)
	}
}

// fakeCleura returns the login of keystonetest's CleuraLogin account on
// srv. Its SMS code is typed at the prompt (written on prompt) from what
// srv "sent", where a user would read their phone.
func fakeCleura(srv *keystonetest.Server, prompt io.Writer) *ksauth.Cleura {
	return &ksauth.Cleura{
		BaseURL:  srv.URL, // loopback: plain http is allowed there
		Login:    keystonetest.CleuraLogin,
		Password: keystonetest.CleuraPassword,
		TwoFactor: func(ctx context.Context, ch ksauth.TwoFactorChallenge) (string, error) {
			code, ok := srv.SMSCode(ch.Login)
			if !ok {
				return "", fmt.Errorf("the fake sent no SMS to %s", ch.Login)
			}
			typed, err := ksauth.PromptTwoFactor(strings.NewReader(code+"\n"), prompt)(ctx, ch)
			fmt.Fprintln(prompt, "(typed in from the fake)")
			return typed, err
		},
	}
}

// domain is what GET /accesscontrol/v1/openstack/domains lists.
type domain struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Area struct {
		Name    string `json:"name"`
		Regions []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"regions"`
	} `json:"area"`
}

// run logs in, lists the domains on out and logs out.
func run(ctx context.Context, c *ksauth.Cleura, out io.Writer) error {
	session := ksauth.NewSession(c, nil)
	domains, err := listDomains(ctx, session.Client(), c.BaseURL)
	if err != nil {
		return err
	}
	for _, d := range domains {
		var regions []string
		for _, r := range d.Area.Regions {
			regions = append(regions, r.ID+" ("+r.Status+")")
		}
		fmt.Fprintf(out, "domain %s (%s), area %s: %s\n", d.Name, d.ID, d.Area.Name, strings.Join(regions, ", "))
	}
	tok, err := session.Token(ctx)
	if err != nil {
		return err
	}
	if err := c.Revoke(ctx, tok); err != nil {
		return fmt.Errorf("logging out: %w", err)
	}
	fmt.Fprintln(out, "logged out")
	return nil
}

func listDomains(ctx context.Context, client *http.Client, base string) ([]domain, error) {
	if base == "" {
		base = ksauth.CleuraURL
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/accesscontrol/v1/openstack/domains", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("listing domains: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	var domains []domain
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&domains); err != nil {
		return nil, fmt.Errorf("listing domains: %w", err)
	}
	return domains, nil
}
