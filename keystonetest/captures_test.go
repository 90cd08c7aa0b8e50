package keystonetest

// The fake against the real Keystone captures in ../testdata/keystone: a
// server loaded with the capture's fixtures (same ids, names, secrets,
// catalog, on the capture's clock) replays every captured request in the
// capture's order, and each answer must equal the captured one: status,
// the captured headers, and the body, compared whole after volatile values
// (tokens, audit ids, request ids, the base URL) are mapped and
// timestamps reduced to their format.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// captureOrder is the order capture.py made the exchanges in (see the
// README there): later ones use tokens issued, and revoked, by earlier ones.
var captureOrder = []string{
	"discovery_root", "discovery_v3",
	"auth_password_project_name", "auth_password_project_id", "auth_password_domain_scoped",
	"auth_password_system_scoped", "auth_password_unscoped", "auth_password_no_scope_default_project",
	"auth_password_explicit_unscoped", "auth_password_nocatalog", "auth_appcred_id", "auth_appcred_name_user_id",
	"auth_appcred_with_scope_401", "auth_appcred_restricted", "get_appcred_restricted",
	"auth_token_rescope_unscoped_to_project", "auth_totp_bob", "auth_mfa_carol_password_only_401_receipt",
	"auth_mfa_carol_receipt_plus_totp", "auth_mfa_carol_password_and_totp", "auth_trust_scoped_bob",
	"auth_wrong_password_401", "auth_unknown_project_401", "auth_malformed_json_400", "auth_missing_password_block_400",
	"validate_token", "validate_token_nocatalog", "check_token_head", "revoke_token_delete",
	"validate_revoked_token_404", "validate_garbage_token_404", "validate_revoked_token_allow_expired",
	"auth_projects_unscoped_token", "auth_projects_project_token", "auth_domains_unscoped_token",
	"auth_domains_project_token", "auth_system_unscoped_token", "auth_system_project_token", "auth_system_system_token",
	"auth_catalog_unscoped_token", "auth_catalog_project_token",
	"list_users_forbidden_403", "unknown_path_404_html",
	"create_appcred_short_expiry", "auth_appcred_capped_expiry", "validate_appcred_capped_token",
}

type capture struct {
	Name    string `json:"name"`
	Request struct {
		Method  string            `json:"method"`
		Path    string            `json:"path"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"request"`
	Response struct {
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"response"`
}

const captureBase = "http://127.0.0.1:5055"

// Ids of the capture (testdata/keystone/README.md).
const (
	capAcme       = "bfcd3c0aca0d469bbaa3926597640766"
	capAdminProj  = "2f0a8167ba474264afb6c6e5febafba3"
	capDemo       = "172d9bc5ed114531a3e52e6787ef3db0"
	capOps        = "a8827d410de74e40b752bb4e6906b652"
	capRoleAdmin  = "e6d2d5b9139c4bcb8749093646586959"
	capRoleMember = "be29a5a5d53e4981af0d75179e2f1a67"
	capRoleReader = "0c1be04d9c4c49248fcd7edd2420ac00"
	capAdmin      = "cd8d1150d5494055921b2c2b2a4378d4"
	capAlice      = "a1c340e77cb64d0685e7df614b6fb5e6"
	capBob        = "34984004acc345d58810d7879709e9c7"
	capCarol      = "37995497d525433ab4bb276caf651d84"
	capAliceAC    = "e59ca31b79ce4236ad373153d8740087"
	capAliceACR   = "e8b68fb526d44e8e8fc8064654a9d796"
	capTrust      = "f1e851d6e01e4872b18a2e08c86edaac"
)

func readCapture(t *testing.T, name string) capture {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "keystone", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var c capture
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c
}

// loadCaptureFixtures gives s up.sh's fixtures with the capture's ids, its
// catalog, and its clock.
func loadCaptureFixtures(t *testing.T, s *Server) {
	t.Helper()
	s.Clear()
	s.SetClock(func() time.Time { return time.Date(2026, 11, 23, 6, 43, 12, 0, time.UTC) })
	s.AddRole(Role{ID: capRoleReader, Name: "reader"})
	s.AddRole(Role{ID: capRoleMember, Name: "member", Implies: []string{"reader"}})
	s.AddRole(Role{ID: capRoleAdmin, Name: "admin", Implies: []string{"member"}})
	s.AddDomain(Domain{ID: capAcme, Name: "acme"})
	s.AddProject(Project{ID: capAdminProj, Name: "admin"})
	s.AddProject(Project{ID: capDemo, Name: "demo"})
	s.AddProject(Project{ID: capOps, Name: "ops", DomainID: capAcme})
	s.AddUser(User{ID: capAdmin, Name: "admin", Password: "admin-secret", ProjectRoles: map[string][]string{capAdminProj: {"admin"}},
		DomainRoles: map[string][]string{DefaultDomainID: {"admin"}}, SystemRoles: []string{"admin"}})
	s.AddUser(User{ID: capAlice, Name: "alice", Password: "alice-secret", ProjectRoles: map[string][]string{capDemo: {"member"}},
		DomainRoles: map[string][]string{DefaultDomainID: {"reader"}}})
	s.AddUser(User{ID: capBob, Name: "bob", DomainID: capAcme, Password: "bob-secret", DefaultProjectID: capOps,
		ProjectRoles: map[string][]string{capOps: {"member"}}, TOTPSecret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"})
	s.AddUser(User{ID: capCarol, Name: "carol", DomainID: capAcme, Password: "carol-secret",
		ProjectRoles: map[string][]string{capOps: {"member"}}, TOTPSecret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
		MFARules: [][]string{{"password", "totp"}}})
	s.AddApplicationCredential(ApplicationCredential{ID: capAliceAC, Name: "alice-ac", UserID: capAlice, ProjectID: capDemo,
		Secret: "alice-ac-secret", Roles: []string{"member", "reader"}})
	s.AddApplicationCredential(ApplicationCredential{ID: capAliceACR, Name: "alice-ac-restricted", UserID: capAlice,
		ProjectID: capDemo, Secret: "alice-ac-restricted-secret", Roles: []string{"reader"},
		ExpiresAt:   time.Date(2026, 11, 24, 6, 43, 6, 0, time.UTC),
		AccessRules: []AccessRule{{ID: "9a0962cc884045a994960243ef131547", Service: "identity", Method: "GET", Path: "/v3/auth/projects"}}})
	s.AddTrust(Trust{ID: capTrust, TrustorUserID: capAlice, TrusteeUserID: capBob, ProjectID: capDemo, Roles: []string{"member"}})

	s.SetCatalog(captureCatalog(t, s, "auth_password_project_name", capDemo))
}

// captureCatalog is the catalog of the project token the capture name
// issued: its project id turned back into the template, its base URL into
// this server's.
func captureCatalog(t *testing.T, s *Server, name, projectID string) []Service {
	t.Helper()
	var body struct {
		Token struct {
			Catalog []struct {
				ID, Type, Name string
				Endpoints      []struct{ ID, Interface, Region, URL string }
			}
		}
	}
	c := readCapture(t, name)
	if err := json.Unmarshal(c.Response.Body, &body); err != nil {
		t.Fatal(err)
	}
	var catalog []Service
	for _, svc := range body.Token.Catalog {
		out := Service{ID: svc.ID, Type: svc.Type, Name: svc.Name}
		for _, ep := range svc.Endpoints {
			u := strings.ReplaceAll(strings.ReplaceAll(ep.URL, projectID, "%(project_id)s"), captureBase, s.URL)
			out.Endpoints = append(out.Endpoints, Endpoint{ID: ep.ID, Interface: ep.Interface, Region: ep.Region, URL: u})
		}
		catalog = append(catalog, out)
	}
	return catalog
}

// replay maps the capture's volatile values to this run's and back.
type replay struct {
	t       *testing.T
	s       *Server
	forward map[string]string // capture value → this run's (tokens, receipts, new ids)
	back    map[string]string // this run's → capture value
}

func (rp *replay) learn(captured, actual string) {
	if captured == "" || actual == "" {
		return
	}
	rp.forward[captured] = actual
	rp.back[actual] = captured
}

// toRun rewrites a captured string for this run.
func (rp *replay) toRun(s string) string {
	for _, k := range sortedKeys(rp.forward) {
		s = strings.ReplaceAll(s, k, rp.forward[k])
	}
	return strings.ReplaceAll(s, captureBase, rp.s.URL)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return len(keys[i]) > len(keys[j]) }) // longest first
	return keys
}

var (
	reTimestamp = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z)?$`)
	reRequestID = regexp.MustCompile(`^req-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
)

// normalize reduces a value of this run to the capture's terms: the base
// URL and mapped values put back, a timestamp replaced by its format (the
// instant is the clock's, not the capture's), audit ids by a marker, and
// lists whose order Keystone does not fix sorted.
func (rp *replay) normalize(v any, key string, fromRun bool) any {
	switch x := v.(type) {
	case string:
		if fromRun {
			for _, k := range sortedKeys(rp.back) {
				x = strings.ReplaceAll(x, k, rp.back[k])
			}
			x = strings.ReplaceAll(x, rp.s.URL, captureBase)
		}
		if m := reTimestamp.FindStringSubmatch(x); m != nil && key != "updated" {
			return fmt.Sprintf("<time frac=%q zone=%q>", m[1], m[2])
		}
		if key == "audit_ids" {
			return "<audit id>"
		}
		return x
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = rp.normalize(e, key, fromRun)
		}
		switch key {
		case "methods", "required_auth_methods", "roles", "catalog", "endpoints", "projects":
			sort.Slice(out, func(i, j int) bool { return sortKey(out[i]) < sortKey(out[j]) })
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = rp.normalize(e, k, fromRun)
		}
		return out
	}
	return v
}

func sortKey(v any) string {
	switch x := v.(type) {
	case map[string]any:
		if id, ok := x["id"].(string); ok {
			return id
		}
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmt.Sprint(e)
		}
		slices.Sort(parts)
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(v)
}

func TestReplayCaptures(t *testing.T) {
	s := NewServer()
	defer s.Close()
	loadCaptureFixtures(t, s)
	rp := &replay{t: t, s: s, forward: map[string]string{}, back: map[string]string{}}
	for _, name := range captureOrder {
		c := readCapture(t, name)
		t.Run(name, func(t *testing.T) {
			got := rp.exchange(t, c)
			if name == "create_appcred_short_expiry" { // a new credential: map its id
				var created struct {
					ApplicationCredential struct{ ID string } `json:"application_credential"`
				}
				var captured struct {
					ApplicationCredential struct{ ID string } `json:"application_credential"`
				}
				_ = json.Unmarshal(got, &created)
				_ = json.Unmarshal(c.Response.Body, &captured)
				rp.learn(captured.ApplicationCredential.ID, created.ApplicationCredential.ID)
			}
			compareBodies(t, rp, c, got)
		})
	}
}

// exchange sends the captured request of c, mapped to this run, and
// checks the answer's status and captured headers, learning the tokens and
// receipts c issued; it returns the answer's body.
func (rp *replay) exchange(t *testing.T, c capture) []byte {
	t.Helper()
	s, name := rp.s, c.Name
	var body io.Reader
	if len(c.Request.Body) > 0 && string(c.Request.Body) != "null" {
		raw := []byte(c.Request.Body)
		var str string
		if json.Unmarshal(raw, &str) == nil { // sent verbatim (the malformed one)
			raw = []byte(str)
		}
		body = strings.NewReader(rp.toRun(string(raw)))
	}
	req, err := http.NewRequest(c.Request.Method, s.URL+rp.toRun(c.Request.Path), body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range c.Request.Headers {
		req.Header.Set(k, rp.toRun(v))
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()

	if resp.StatusCode != c.Response.Status {
		t.Fatalf("status %d, captured %d; body %s", resp.StatusCode, c.Response.Status, got)
	}
	for k, want := range c.Response.Headers {
		v := resp.Header.Get(k)
		switch {
		case v == "":
			t.Errorf("header %s missing (captured %q)", k, want)
		case k == "x-openstack-request-id":
			if !reRequestID.MatchString(v) {
				t.Errorf("header %s: %q is not req-<uuid4>", k, v)
			}
		case k == "X-Subject-Token" && strings.HasPrefix(want, "gAAAAAB-placeholder-"+name),
			k == "Openstack-Auth-Receipt" && strings.HasPrefix(want, "gAAAAAB-placeholder-receipt-"+name):
			rp.learn(want, v) // issued here: later requests send it
		default:
			if n := strings.ReplaceAll(v, s.URL, captureBase); rp.back[v] != want && n != want {
				t.Errorf("header %s: %q, captured %q", k, v, want)
			}
		}
	}
	for _, k := range []string{"Content-Type", "X-Subject-Token", "Openstack-Auth-Receipt", "WWW-Authenticate",
		"x-openstack-request-id", "Vary"} { // the headers the captures keep
		captured := false
		for h := range c.Response.Headers {
			captured = captured || strings.EqualFold(h, k)
		}
		if !captured && resp.Header.Get(k) != "" {
			t.Errorf("header %s: %q, not in the capture", k, resp.Header.Get(k))
		}
	}
	return got
}

func compareBodies(t *testing.T, rp *replay, c capture, got []byte) {
	t.Helper()
	if string(c.Response.Body) == "null" || len(c.Response.Body) == 0 {
		if len(got) != 0 {
			t.Errorf("body %q, captured none", got)
		}
		return
	}
	var want any
	if err := json.Unmarshal(c.Response.Body, &want); err != nil {
		t.Fatal(err)
	}
	if str, ok := want.(string); ok { // the HTML 404
		if string(got) != str {
			t.Errorf("body %q, captured %q", got, str)
		}
		return
	}
	var have any
	d := json.NewDecoder(bytes.NewReader(got))
	if err := d.Decode(&have); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, got)
	}
	have, want = rp.normalize(have, "", true), rp.normalize(want, "", false)
	if !reflect.DeepEqual(have, want) {
		h, _ := json.MarshalIndent(have, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("body differs from the capture:\n%s", lineDiff(string(h), string(w)))
	}
}

// lineDiff shows the lines of got and want that differ, in order.
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	var b strings.Builder
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			fmt.Fprintf(&b, "line %d:\n  fake:    %s\n  capture: %s\n", i+1, gl, wl)
			if b.Len() > 3000 {
				break
			}
		}
	}
	return b.String()
}
