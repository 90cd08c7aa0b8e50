package ksauth

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// ErrNoCatalog is returned by [Catalog.Endpoint] for an empty catalog, as
// an unscoped token or one issued with NoCatalog has. It is not a status
// sentinel: no HTTP response is involved.
var ErrNoCatalog = errors.New("ksauth: token has no catalog")

// Catalog is a token's service catalog: where each service of the cloud is.
type Catalog []Service

// Service is one catalog entry.
type Service struct {
	ID        string     `json:"id"`
	Type      string     `json:"type"`
	Name      string     `json:"name"`
	Endpoints []Endpoint `json:"endpoints"`
}

// Endpoint is one URL of a service, for one region and interface.
type Endpoint struct {
	ID        string `json:"id"`
	Interface string `json:"interface"` // public, internal or admin
	Region    string `json:"region"`
	RegionID  string `json:"region_id"`
	URL       string `json:"url"`
}

// EndpointOpts selects an endpoint from a [Catalog].
type EndpointOpts struct {
	// Type is the service type, e.g. "compute" or "block-storage".
	// Underscores read as hyphens ("block_storage" is "block-storage", as
	// os-service-types normalises it); letter case is significant. Aliases
	// from os-service-types match as in keystoneauth1: the official type
	// matches itself and all its aliases, tried in that order (official
	// first, then the aliases in the table's order: "block-storage" tries
	// "volumev3" before "volumev2", "volume" and "block-store"); an alias
	// matches itself and then its official type only, never another alias,
	// since aliases such as "volume" (v1) and "volumev3" name different API
	// versions. The first of those types with a matching endpoint wins, even
	// if a later one has a more preferred interface.
	Type string
	// Name, when set, must equal the service name (e.g. "nova"); a service
	// without a name matches any Name, as in keystoneauth1.
	Name string
	// Region, when set, must equal the endpoint's region_id, or its
	// (deprecated) region when it has no region_id, as keystoneauth1
	// compares them: case-sensitive.
	Region string
	// Interfaces in order of preference; nil (or empty) means public only.
	// The "publicURL" style spellings are accepted, and letter case is
	// ignored (keystoneauth1 compares interfaces exactly).
	Interfaces []string
}

// interfaces returns the normalised interface preference list, appended
// to buf (which lets the caller keep it off the heap).
func (o EndpointOpts) interfaces(buf []string) []string {
	if len(o.Interfaces) == 0 {
		return append(buf, "public")
	}
	for _, s := range o.Interfaces {
		buf = append(buf, strings.TrimSuffix(strings.ToLower(s), "url"))
	}
	return buf
}

// serviceTypeAliases maps each official service type to its historical
// aliases, best first: the "forward" table of os-service-types'
// service-types.json (version 2019-05-01T19:53:21.498745).
var serviceTypeAliases = map[string][]string{
	"admin-logic":                         {"registration"},
	"alarm":                               {"alarming"},
	"application-container":               {"container"},
	"application-deployment":              {"application_deployment"},
	"baremetal":                           {"bare-metal"},
	"block-storage":                       {"volumev3", "volumev2", "volume", "block-store"},
	"clustering":                          {"resource-cluster", "cluster"},
	"container-infrastructure-management": {"container-infrastructure", "container-infra"},
	"event":                               {"events"},
	"instance-ha":                         {"ha"},
	"message":                             {"messaging"},
	"meter":                               {"metering", "telemetry"},
	"monitoring-logging":                  {"monitoring-log-api"},
	"multi-region-network-automation":     {"tricircle"},
	"operator-policy":                     {"policy"},
	"resource-optimization":               {"infra-optim"},
	"root-cause-analysis":                 {"rca"},
	"shared-file-system":                  {"sharev2", "share"},
	"workflow":                            {"workflowv2"},
}

// serviceTypeCandidates maps each type of serviceTypeAliases, official or
// alias, to the catalog types a request for it matches, best first, as
// keystoneauth1 (os-service-types' is_match) does: an official type matches
// itself and all its aliases, in the table's order; an alias matches itself
// and its official type only, never a sibling alias, since aliases such as
// "volume" and "volumev3" name different API versions. Built once.
var serviceTypeCandidates = buildCandidates(serviceTypeAliases)

func buildCandidates(forward map[string][]string) map[string][]string {
	out := make(map[string][]string)
	for _, official := range slices.Sorted(maps.Keys(forward)) {
		out[official] = slices.Clip(append([]string{official}, forward[official]...))
		for _, alias := range forward[official] {
			if _, dup := out[alias]; !dup {
				out[alias] = []string{alias, official}
			}
		}
	}
	return out
}

// candidateTypes lists the catalog service types that satisfy a request
// for typ, best first (see serviceTypeCandidates). Underscores in typ are
// read as hyphens, as os-service-types normalises types ("block_storage",
// the SDK attribute spelling, is "block-storage"); letter case is kept.
// The first candidate is always the normalised typ. A type the table does
// not know is appended to buf, which lets the caller keep it off the heap.
func candidateTypes(typ string, buf []string) []string {
	typ = strings.ReplaceAll(typ, "_", "-")
	if c, ok := serviceTypeCandidates[typ]; ok {
		return c
	}
	return append(buf, typ)
}

// Endpoint returns the URL of the endpoint opts selects. Service types are
// tried in candidate order (exact type first); within a type, the
// interfaces in preference order across all its services, and for one
// interface the first matching endpoint in catalog order, as keystoneauth1
// does. It returns [ErrNoCatalog] for an empty catalog, and an
// [*EndpointNotFoundError] listing what does exist otherwise.
func (c Catalog) Endpoint(opts EndpointOpts) (string, error) {
	if len(c) == 0 {
		return "", ErrNoCatalog
	}
	if opts.Type == "" {
		return "", invalid("EndpointOpts.Type", "empty")
	}
	var typeBuf [1]string
	var ifaceBuf [4]string
	types, ifaces := candidateTypes(opts.Type, typeBuf[:0]), opts.interfaces(ifaceBuf[:0])
	for _, typ := range types {
		if url, ok := c.pick(typ, opts, ifaces); ok {
			return url, nil
		}
	}
	return "", c.notFound(opts, types)
}

// pick returns the URL of the first endpoint, in catalog order, of a
// service of exactly type typ matching opts' name and region, with the
// most preferred interface any of those services has. Endpoints without
// a URL are skipped.
func (c Catalog) pick(typ string, opts EndpointOpts, ifaces []string) (string, bool) {
	for _, iface := range ifaces {
		for _, svc := range c {
			if !svc.matches(typ, opts.Name) {
				continue
			}
			for _, ep := range svc.Endpoints {
				if ep.Interface == iface && ep.URL != "" && ep.inRegion(opts.Region) {
					return ep.URL, true
				}
			}
		}
	}
	return "", false
}

// matches reports whether s is of type typ and, when name is set, named
// so. A service without a name matches any name, as in keystoneauth1
// (Keystone before v3.3 did not send names).
func (s Service) matches(typ, name string) bool {
	return s.Type == typ && (name == "" || s.Name == "" || s.Name == name)
}

// notFound builds the error for a lookup of opts that found nothing among
// the services of the candidate types.
func (c Catalog) notFound(opts EndpointOpts, types []string) error {
	var available []Endpoint
	services := 0
	for _, typ := range types {
		for _, svc := range c {
			if svc.matches(typ, opts.Name) {
				services++
				available = append(available, svc.Endpoints...)
			}
		}
	}
	return &EndpointNotFoundError{Opts: opts, Available: available, Hint: c.caseHint(opts, types, available), services: services}
}

func (e Endpoint) inRegion(region string) bool {
	return region == "" || e.regionName() == region
}

// caseHint explains a miss caused only by letter case, the usual typo: in
// the region, the service type or the service name. types are the
// candidate types of the lookup, the requested one (normalised) first.
func (c Catalog) caseHint(opts EndpointOpts, types []string, available []Endpoint) string {
	for _, ep := range available {
		if r := ep.regionName(); opts.Region != "" && r != opts.Region && strings.EqualFold(r, opts.Region) {
			return "region " + quote(opts.Region) + " differs only in case from " + quote(r) + "; regions are case-sensitive"
		}
	}
	for _, svc := range c {
		switch {
		case !slices.Contains(types, svc.Type) && strings.EqualFold(svc.Type, types[0]):
			return "service type " + quote(opts.Type) + " differs only in case from " + quote(svc.Type) + "; types are case-sensitive"
		case slices.Contains(types, svc.Type) && opts.Name != "" && svc.Name != opts.Name && strings.EqualFold(svc.Name, opts.Name):
			return "service name " + quote(opts.Name) + " differs only in case from " + quote(svc.Name) + "; names are case-sensitive"
		}
	}
	return ""
}

func quote(s string) string { return `"` + s + `"` }

// EndpointNotFoundError reports a catalog lookup with no match. Available
// lists what the catalog does hold for the service type, so the caller can
// see a misspelt region or interface at once.
type EndpointNotFoundError struct {
	Opts      EndpointOpts
	Available []Endpoint // endpoints of the matching service type(s), any region/interface
	Hint      string     // e.g. `region "regionone" differs only in case from "RegionOne"`

	services int // how many services of the type (and name) the catalog has
}

// Error describes the lookup and what the catalog holds for the type.
func (e *EndpointNotFoundError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ksauth: no endpoint for service type %q", e.Opts.Type)
	if e.Opts.Name != "" {
		fmt.Fprintf(&b, " name %q", e.Opts.Name)
	}
	if e.Opts.Region != "" {
		fmt.Fprintf(&b, " in region %q", e.Opts.Region)
	}
	fmt.Fprintf(&b, " with interface %s", strings.Join(e.Opts.interfaces(nil), "|"))
	switch {
	case len(e.Available) == 0 && e.services > 0:
		b.WriteString(": the catalog lists the service with no endpoints (as in domain- and system-scoped tokens)")
	case len(e.Available) == 0:
		b.WriteString(": the catalog has no such service")
	default:
		fmt.Fprintf(&b, "; the service has regions %s and interfaces %s",
			listOrNone(uniq(e.Available, Endpoint.regionName)),
			listOrNone(uniq(e.Available, func(ep Endpoint) string { return ep.Interface })))
	}
	if e.Hint != "" {
		b.WriteString(" (" + e.Hint + ")")
	}
	return b.String()
}

// Unwrap makes the error match ErrNotFound.
func (e *EndpointNotFoundError) Unwrap() error { return ErrNotFound }

// regionName is the endpoint's region as keystoneauth1 matches it: its
// region_id, or else the deprecated region.
func (e Endpoint) regionName() string {
	if e.RegionID != "" {
		return e.RegionID
	}
	return e.Region
}

func uniq(eps []Endpoint, key func(Endpoint) string) []string {
	var out []string
	seen := map[string]bool{}
	for _, ep := range eps {
		if k := key(ep); !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "[]"
	}
	return "[" + strings.Join(s, " ") + "]"
}
