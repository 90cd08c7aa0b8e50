// Command cleura logs in to Cleura Cloud's REST API, asking for the SMS
// code on the terminal when the account has a second factor, lists the
// OpenStack domains with their regions, and logs out.
//
//	CLEURA_LOGIN=carla CLEURA_PASSWORD=... go run ./examples/cleura
//
// CLEURA_URL selects another API, e.g. https://rest.compliant.cleura.cloud
// for Compliant Cloud (default: https://rest.cleura.cloud).
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
)

func main() {
	login := os.Getenv("CLEURA_LOGIN")
	if login == "" {
		fmt.Fprintln(os.Stderr, "set CLEURA_LOGIN and CLEURA_PASSWORD (and CLEURA_URL for another Cleura API)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	c := &ksauth.Cleura{
		BaseURL:   os.Getenv("CLEURA_URL"),
		Login:     login,
		Password:  os.Getenv("CLEURA_PASSWORD"),
		TwoFactor: ksauth.PromptTwoFactor(os.Stdin, os.Stderr),
	}
	if err := run(ctx, c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "cleura:", err)
		os.Exit(1)
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
