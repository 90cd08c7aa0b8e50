package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/ksauth/ksauth"
)

func (a *app) cmdEndpoint(args []string) error {
	cfg, _, tok, err := a.loggedIn()
	if err != nil {
		return err
	}
	iface := a.f.iface
	if iface == "" {
		iface = cfg.Interface
	}
	url, err := tok.Catalog.Endpoint(ksauth.EndpointOpts{Type: args[0], Region: cfg.Region, Interfaces: []string{iface}})
	if err != nil {
		var nf *ksauth.EndpointNotFoundError
		if errors.As(err, &nf) {
			return &detailedError{err: err, lines: whatExists(tok.Catalog, nf)}
		}
		return err
	}
	_, err = fmt.Fprintln(a.stdout, url)
	return err
}

// whatExists lists, for a failed lookup, the endpoints of the service type
// or, when the catalog has none of it, the service types it has.
func whatExists(c ksauth.Catalog, nf *ksauth.EndpointNotFoundError) []string {
	var lines []string
	for _, ep := range nf.Available {
		lines = append(lines, fmt.Sprintf("available: %s %s %s", ep.Interface, regionOf(ep), ep.URL))
	}
	if len(lines) > 0 {
		return lines
	}
	var types []string
	for _, svc := range c {
		types = append(types, svc.Type)
	}
	slices.Sort(types)
	if len(types) == 0 {
		return []string{"the token has no catalog"}
	}
	return []string{"service types in the catalog: " + strings.Join(slices.Compact(types), " ")}
}

func (a *app) cmdCatalog(_ []string) error {
	_, _, tok, err := a.loggedIn()
	if err != nil {
		return err
	}
	if a.g.output == "json" {
		cat := orEmpty(tok.Catalog)
		for i := range cat {
			cat[i].Endpoints = orEmpty(cat[i].Endpoints)
		}
		return a.printJSON(cat)
	}
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "TYPE\tNAME\tINTERFACE\tREGION\tURL")
	for _, svc := range tok.Catalog {
		if len(svc.Endpoints) == 0 {
			fmt.Fprintf(w, "%s\t%s\t-\t-\t-\n", svc.Type, dash(svc.Name))
		}
		for _, ep := range svc.Endpoints {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", svc.Type, dash(svc.Name), ep.Interface, regionOf(ep), ep.URL)
		}
	}
	return w.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
