package keystonetest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// The default directory of a new Server. Ids are fixed, so that examples
// print the same output on every run.
const (
	DefaultDomainID   = "default"
	DefaultDomainName = "Default"

	DemoProjectID   = "8a1d4e7c2b9f4c0d9e3a5b6c7d8e9f01"
	DemoProjectName = "demo"
	AdminProjectID  = "2c5e8a1f4b7d4e0a8c3f6b9e2d5a8c02"
	// AdminProjectName is the admin user's project.
	AdminProjectName = "admin"

	AdminRoleID  = "4f7a0c3e6b9d4f2a8e1c4b7a0d3f6e03"
	MemberRoleID = "6b9e2d5a8c1f4e7b9a2d5c8e1b4f7a04"
	ReaderRoleID = "9d2f5b8e1a4c4d7f8b0e3a6d9c2f5b05"

	// DemoUserName has the member role (and so reader) on project demo,
	// its default project, and reader on domain Default.
	DemoUserName = "demo"
	DemoUserID   = "c3a6d9f2e5b84a1d9c4f7e0b3a6d9f06"
	DemoPassword = "demo-password"

	// AdminUserName has the admin role (and so member and reader) on the
	// system, on project admin (its default project) and on domain Default.
	AdminUserName = "admin"
	AdminUserID   = "e1b4f7a0d3c64e9f8a2d5b8e1c4f7a07"
	AdminPassword = "admin-password"

	// DemoAppCredName is an application credential of the demo user on
	// project demo, with roles member and reader, no expiry.
	DemoAppCredName   = "demo-ac"
	DemoAppCredID     = "a7d0c3f6b9e24a5d8f1c4e7b0a3d6f08"
	DemoAppCredSecret = "demo-ac-secret"

	// DefaultRegion is the region of the default catalog's endpoints.
	DefaultRegion = "RegionOne"
)

// Domain is a Keystone domain.
type Domain struct {
	// ID is the domain id; "" when adding: a new random one.
	ID          string
	Name        string
	Description string
}

// Project is a Keystone project.
type Project struct {
	// ID is the project id; "" when adding: a new random one.
	ID   string
	Name string
	// DomainID is the project's domain; "" when adding: DefaultDomainID.
	DomainID    string
	Description string
}

// Role is a Keystone role.
type Role struct {
	// ID is the role id; "" when adding: a new random one.
	ID   string
	Name string
	// Implies names the roles this one implies (Keystone's implied roles):
	// a user given this role gets them too. The default roles are admin,
	// which implies member, which implies reader.
	Implies []string
}

// User is a Keystone user and the roles it has.
type User struct {
	// ID is the user id; "" when adding: a new random one.
	ID   string
	Name string
	// DomainID is the user's domain; "" when adding: DefaultDomainID.
	DomainID string
	// Password for the "password" method; "": the method always fails.
	Password string
	// DefaultProjectID is the project a request without a scope gets a
	// token for (when the user has a role on it); "": unscoped.
	DefaultProjectID string
	// ProjectRoles maps a project id to the names of the user's roles on it.
	ProjectRoles map[string][]string
	// DomainRoles maps a domain id to the names of the user's roles on it.
	DomainRoles map[string][]string
	// SystemRoles names the user's roles on the system (system scope).
	SystemRoles []string
	// TOTPSecret is the base32 secret of the user's TOTP credential, for
	// the "totp" method; "": the method always fails.
	TOTPSecret string
	// MFARules are the user's multi-factor rules, e.g. [["password",
	// "totp"]]: a login must prove every method of one rule, else it gets
	// a 401 with a receipt. nil: any single method suffices.
	MFARules [][]string
	// PasswordExpiresAt is shown as the token's user.password_expires_at;
	// zero: null.
	PasswordExpiresAt time.Time
}

// ApplicationCredential is a Keystone application credential.
type ApplicationCredential struct {
	// ID is the credential id; "" when adding: a new random one.
	ID          string
	Name        string
	Description string
	// UserID owns the credential.
	UserID string
	// ProjectID is the project its tokens are scoped to.
	ProjectID string
	// Secret authenticates the credential; "" when adding: a random one.
	Secret string
	// Roles names the roles its tokens carry (those the owner still has
	// on ProjectID; the roles they imply are not added, as Keystone does
	// not add them); nil when adding: the owner's roles on ProjectID,
	// implied ones included.
	Roles []string
	// ExpiresAt is when the credential stops working; its tokens never
	// outlive it. Zero: never.
	ExpiresAt time.Time
	// Unrestricted lets its tokens manage application credentials and
	// trusts. false: they are refused that.
	Unrestricted bool
	// AccessRules limit which service APIs its tokens may call (recorded
	// and shown; Keystone itself does not enforce them). An empty ID when
	// adding: a new random one.
	AccessRules []AccessRule
}

// AccessRule is an application credential's access rule.
type AccessRule struct {
	ID      string
	Service string // a catalog service type, e.g. "compute"
	Method  string // GET, HEAD, POST, PUT, PATCH or DELETE
	Path    string // e.g. "/v2.1/servers/*"
}

// Trust is a Keystone trust (OS-TRUST): the trustor lets the trustee act
// with some of its roles on a project.
type Trust struct {
	// ID is the trust id; "" when adding: a new random one.
	ID            string
	TrustorUserID string
	TrusteeUserID string
	ProjectID     string
	// Roles names the delegated roles (the trustor must have them on the
	// project); implied roles come with them.
	Roles         []string
	Impersonation bool
	// ExpiresAt is when the trust ends; zero: never.
	ExpiresAt time.Time
}

// Service is one entry of the service catalog.
type Service struct {
	// ID is the service id; "" when set: a new random one.
	ID   string
	Type string // e.g. "compute"
	Name string // e.g. "nova"
	// Endpoints of the service. A URL may contain "%(project_id)s" (or
	// "%(tenant_id)s"): a project token's catalog has the project id in
	// its place, a domain or system token's catalog leaves such endpoints
	// out, as Keystone does.
	Endpoints []Endpoint
}

// Endpoint is one URL of a service.
type Endpoint struct {
	// ID is the endpoint id; "" when set: a new random one.
	ID        string
	Interface string // public, internal or admin
	Region    string
	URL       string
}

// directory is the server's identity data. Every access holds Server.mu.
type directory struct {
	domains     []Domain
	projects    []Project
	roles       []Role
	users       []User
	appCreds    []ApplicationCredential
	accessRules map[string][]AccessRule // user id → the user's access rules
	trusts      []Trust
	catalog     []Service
}

// defaultDirectory is the directory a Server starts with; url is its base URL.
func defaultDirectory(url string) directory {
	d := directory{accessRules: map[string][]AccessRule{}}
	d.domains = []Domain{{ID: DefaultDomainID, Name: DefaultDomainName, Description: "The default domain"}}
	d.roles = []Role{
		{ID: AdminRoleID, Name: "admin", Implies: []string{"member"}},
		{ID: MemberRoleID, Name: "member", Implies: []string{"reader"}},
		{ID: ReaderRoleID, Name: "reader"},
	}
	d.projects = []Project{
		{ID: AdminProjectID, Name: AdminProjectName, DomainID: DefaultDomainID, Description: "Bootstrap project for initializing the cloud."},
		{ID: DemoProjectID, Name: DemoProjectName, DomainID: DefaultDomainID},
	}
	d.users = []User{
		{ID: AdminUserID, Name: AdminUserName, DomainID: DefaultDomainID, Password: AdminPassword, DefaultProjectID: AdminProjectID,
			ProjectRoles: map[string][]string{AdminProjectID: {"admin"}},
			DomainRoles:  map[string][]string{DefaultDomainID: {"admin"}},
			SystemRoles:  []string{"admin"}},
		{ID: DemoUserID, Name: DemoUserName, DomainID: DefaultDomainID, Password: DemoPassword, DefaultProjectID: DemoProjectID,
			ProjectRoles: map[string][]string{DemoProjectID: {"member"}},
			DomainRoles:  map[string][]string{DefaultDomainID: {"reader"}}},
	}
	d.appCreds = []ApplicationCredential{{ID: DemoAppCredID, Name: DemoAppCredName, UserID: DemoUserID, ProjectID: DemoProjectID,
		Secret: DemoAppCredSecret, Roles: []string{"member", "reader"}}}
	d.catalog = DefaultCatalog(url)
	return d
}

// DefaultCatalog is the catalog a Server at url starts with, every
// endpoint in DefaultRegion with the interfaces public, internal and
// admin: identity (url/v3), compute (url/compute/v2.1) and object-store
// (url/object-store/v1/AUTH_%(project_id)s). The compute and object-store
// paths are answered by the server itself: any request with a valid
// X-Auth-Token gets a 200 describing the token, others a 401.
func DefaultCatalog(url string) []Service {
	svc := func(id, typ, name, u string, ids [3]string) Service {
		s := Service{ID: id, Type: typ, Name: name}
		for i, iface := range []string{"public", "internal", "admin"} {
			s.Endpoints = append(s.Endpoints, Endpoint{ID: ids[i], Interface: iface, Region: DefaultRegion, URL: u})
		}
		return s
	}
	return []Service{
		svc("0e6f1a2b3c4d4e5f8a9b0c1d2e3f4a10", "identity", "keystone", url+"/v3",
			[3]string{"1a2b3c4d5e6f4a7b8c9d0e1f2a3b4c11", "2b3c4d5e6f7a4b8c9d0e1f2a3b4c5d12", "3c4d5e6f7a8b4c9d0e1f2a3b4c5d6e13"}),
		svc("4d5e6f7a8b9c4d0e1f2a3b4c5d6e7f14", "compute", "nova", url+"/compute/v2.1",
			[3]string{"5e6f7a8b9c0d4e1f2a3b4c5d6e7f8a15", "6f7a8b9c0d1e4f2a3b4c5d6e7f8a9b16", "7a8b9c0d1e2f4a3b4c5d6e7f8a9b0c17"}),
		svc("8b9c0d1e2f3a4b4c5d6e7f8a9b0c1d18", "object-store", "swift", url+"/object-store/v1/AUTH_%(project_id)s",
			[3]string{"9c0d1e2f3a4b4c5d6e7f8a9b0c1d2e19", "0d1e2f3a4b5c4d6e7f8a9b0c1d2e3f20", "1e2f3a4b5c6d4e7f8a9b0c1d2e3f4a21"}),
	}
}

// Clear empties the server: every user, project, role, application
// credential, access rule, trust, catalog entry, token, receipt, EC2
// credential and Cleura account goes; only the domain Default (id
// "default") stays. Use it to build a directory of your own from scratch.
// Faults and request counts are kept.
func (s *Server) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dir = directory{accessRules: map[string][]AccessRule{},
		domains: []Domain{{ID: DefaultDomainID, Name: DefaultDomainName, Description: "The default domain"}}}
	clear(s.tokens)
	clear(s.receipts)
	s.ec2 = nil
	s.cleura = cleuraState{tokens: map[string]*cleuraToken{}, pending: map[string]*cleuraPending{}, smsCodes: map[string]string{}}
}

// --- adding ----------------------------------------------------------------------

// AddDomain adds a domain and returns it with its id. It panics if the
// name or id is taken.
func (s *Server) AddDomain(d Domain) Domain {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d.ID == "" {
		d.ID = newID()
	}
	if d.Name == "" || s.dir.domain(d.ID) != nil || s.dir.domainByName(d.Name) != nil {
		panic(fmt.Sprintf("keystonetest: AddDomain: empty or duplicate name %q or id %q", d.Name, d.ID))
	}
	s.dir.domains = append(s.dir.domains, d)
	return d
}

// AddProject adds a project and returns it with its ids filled in. It
// panics if its domain is unknown, or its name (in that domain) or id is
// taken.
func (s *Server) AddProject(p Project) Project {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.ID == "" {
		p.ID = newID()
	}
	if p.DomainID == "" {
		p.DomainID = DefaultDomainID
	}
	switch {
	case s.dir.domain(p.DomainID) == nil:
		panic(fmt.Sprintf("keystonetest: AddProject %q: unknown domain %q", p.Name, p.DomainID))
	case p.Name == "" || s.dir.project(p.ID) != nil || s.dir.projectByName(p.Name, p.DomainID) != nil:
		panic(fmt.Sprintf("keystonetest: AddProject: empty or duplicate name %q or id %q", p.Name, p.ID))
	}
	s.dir.projects = append(s.dir.projects, p)
	return p
}

// AddRole adds a role and returns it with its id. It panics if the name
// or id is taken or an implied role is unknown.
func (s *Server) AddRole(r Role) Role {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.ID == "" {
		r.ID = newID()
	}
	if r.Name == "" || s.dir.roleByName(r.Name) != nil || s.dir.role(r.ID) != nil {
		panic(fmt.Sprintf("keystonetest: AddRole: empty or duplicate name %q or id %q", r.Name, r.ID))
	}
	s.dir.mustRoles("AddRole "+r.Name, r.Implies)
	r.Implies = slices.Clone(r.Implies)
	s.dir.roles = append(s.dir.roles, r)
	return r
}

// AddUser adds a user and returns it with its ids filled in. It panics
// if its domain, a project, a domain or a role it names is unknown, or
// its name (in its domain) or id is taken.
func (s *Server) AddUser(u User) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.ID == "" {
		u.ID = newID()
	}
	if u.DomainID == "" {
		u.DomainID = DefaultDomainID
	}
	what := "AddUser " + u.Name
	switch {
	case s.dir.domain(u.DomainID) == nil:
		panic(fmt.Sprintf("keystonetest: %s: unknown domain %q", what, u.DomainID))
	case u.Name == "" || s.dir.user(u.ID) != nil || s.dir.userByName(u.Name, u.DomainID) != nil:
		panic(fmt.Sprintf("keystonetest: AddUser: empty or duplicate name %q or id %q", u.Name, u.ID))
	case u.DefaultProjectID != "" && s.dir.project(u.DefaultProjectID) == nil:
		panic(fmt.Sprintf("keystonetest: %s: unknown default project %q", what, u.DefaultProjectID))
	}
	for id, roles := range u.ProjectRoles {
		if s.dir.project(id) == nil {
			panic(fmt.Sprintf("keystonetest: %s: unknown project %q", what, id))
		}
		s.dir.mustRoles(what, roles)
	}
	for id, roles := range u.DomainRoles {
		if s.dir.domain(id) == nil {
			panic(fmt.Sprintf("keystonetest: %s: unknown domain %q", what, id))
		}
		s.dir.mustRoles(what, roles)
	}
	s.dir.mustRoles(what, u.SystemRoles)
	if u.TOTPSecret != "" {
		if _, err := decodeTOTPSecret(u.TOTPSecret); err != nil {
			panic(fmt.Sprintf("keystonetest: %s: %v", what, err))
		}
	}
	u = u.clone()
	s.dir.users = append(s.dir.users, u)
	return u.clone()
}

// AddApplicationCredential adds an application credential and returns it
// with its ids, secret and roles filled in. It panics if its user or
// project is unknown, a role is one the user lacks on the project, or its
// name (for that user) or id is taken.
func (s *Server) AddApplicationCredential(ac ApplicationCredential) ApplicationCredential {
	s.mu.Lock()
	defer s.mu.Unlock()
	what := "AddApplicationCredential " + ac.Name
	u := s.dir.user(ac.UserID)
	switch {
	case u == nil:
		panic(fmt.Sprintf("keystonetest: %s: unknown user %q", what, ac.UserID))
	case s.dir.project(ac.ProjectID) == nil:
		panic(fmt.Sprintf("keystonetest: %s: unknown project %q", what, ac.ProjectID))
	}
	held := s.dir.roleNames(s.dir.effectiveRoles(u.ProjectRoles[ac.ProjectID]))
	if ac.Roles == nil {
		ac.Roles = held
	}
	for _, r := range ac.Roles {
		if !slices.Contains(held, r) {
			panic(fmt.Sprintf("keystonetest: %s: user %s lacks role %q on the project", what, u.Name, r))
		}
	}
	ac, err := s.dir.addAppCred(ac)
	if err != nil {
		panic(fmt.Sprintf("keystonetest: %s: %v", what, err))
	}
	return ac
}

// addAppCred stores ac, filling in its id, secret and access rule ids.
func (d *directory) addAppCred(ac ApplicationCredential) (ApplicationCredential, error) {
	if ac.ID == "" {
		ac.ID = newID()
	}
	if ac.Secret == "" {
		ac.Secret = newSecret()
	}
	if ac.Name == "" || d.appCred(ac.ID) != nil || d.appCredByName(ac.Name, ac.UserID) != nil {
		return ac, fmt.Errorf("empty or duplicate name %q or id %q", ac.Name, ac.ID)
	}
	ac = ac.clone()
	for i, rule := range ac.AccessRules {
		ac.AccessRules[i] = d.addAccessRule(ac.UserID, rule)
	}
	d.appCreds = append(d.appCreds, ac)
	return ac.clone(), nil
}

// addAccessRule returns the user's rule with rule's id, or the identical
// one the user has, or rule added with a new id.
func (d *directory) addAccessRule(userID string, rule AccessRule) AccessRule {
	for _, r := range d.accessRules[userID] {
		if r.ID == rule.ID || rule.ID == "" && r.Service == rule.Service && r.Method == rule.Method && r.Path == rule.Path {
			return r
		}
	}
	if rule.ID == "" {
		rule.ID = newID()
	}
	d.accessRules[userID] = append(d.accessRules[userID], rule)
	return rule
}

// AddTrust adds a trust and returns it with its id. It panics if a user
// or the project is unknown, or the trustor lacks a role on the project.
func (s *Server) AddTrust(t Trust) Trust {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.ID == "" {
		t.ID = newID()
	}
	trustor := s.dir.user(t.TrustorUserID)
	switch {
	case trustor == nil || s.dir.user(t.TrusteeUserID) == nil:
		panic(fmt.Sprintf("keystonetest: AddTrust: unknown trustor %q or trustee %q", t.TrustorUserID, t.TrusteeUserID))
	case s.dir.project(t.ProjectID) == nil:
		panic(fmt.Sprintf("keystonetest: AddTrust: unknown project %q", t.ProjectID))
	case s.dir.trust(t.ID) != nil:
		panic(fmt.Sprintf("keystonetest: AddTrust: duplicate id %q", t.ID))
	}
	held := s.dir.roleNames(s.dir.effectiveRoles(trustor.ProjectRoles[t.ProjectID]))
	for _, r := range t.Roles {
		if !slices.Contains(held, r) {
			panic(fmt.Sprintf("keystonetest: AddTrust: trustor %s lacks role %q on the project", trustor.Name, r))
		}
	}
	t.Roles = slices.Clone(t.Roles)
	s.dir.trusts = append(s.dir.trusts, t)
	return t
}

// SetCatalog replaces the service catalog; empty ids are filled in.
// Tokens issued before keep showing the catalog as it is now, as
// Keystone's do.
func (s *Server) SetCatalog(catalog []Service) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Service, len(catalog))
	for i, svc := range catalog {
		if svc.ID == "" {
			svc.ID = newID()
		}
		svc.Endpoints = slices.Clone(svc.Endpoints)
		for j := range svc.Endpoints {
			if svc.Endpoints[j].ID == "" {
				svc.Endpoints[j].ID = newID()
			}
		}
		out[i] = svc
	}
	s.dir.catalog = out
}

// Catalog returns the service catalog, URLs unsubstituted.
func (s *Server) Catalog() []Service {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.dir.catalog)
	for i := range out {
		out[i].Endpoints = slices.Clone(out[i].Endpoints)
	}
	return out
}

// --- looking up ------------------------------------------------------------------

// User returns the user with id or name (the first with that name, in
// any domain).
func (s *Server) User(idOrName string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.dir.user(idOrName); u != nil {
		return u.clone(), true
	}
	for _, u := range s.dir.users {
		if u.Name == idOrName {
			return u.clone(), true
		}
	}
	return User{}, false
}

// Project returns the project with id or name (the first with that name,
// in any domain).
func (s *Server) Project(idOrName string) (Project, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.dir.projects {
		if p.ID == idOrName {
			return p, true
		}
	}
	for _, p := range s.dir.projects {
		if p.Name == idOrName {
			return p, true
		}
	}
	return Project{}, false
}

// Domain returns the domain with id or name.
func (s *Server) Domain(idOrName string) (Domain, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.dir.domain(idOrName); d != nil {
		return *d, true
	}
	if d := s.dir.domainByName(idOrName); d != nil {
		return *d, true
	}
	return Domain{}, false
}

// ApplicationCredential returns the application credential with id or
// name (the first with that name, of any user), secret included.
func (s *Server) ApplicationCredential(idOrName string) (ApplicationCredential, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ac := s.dir.appCred(idOrName); ac != nil {
		return ac.clone(), true
	}
	for _, ac := range s.dir.appCreds {
		if ac.Name == idOrName {
			return ac.clone(), true
		}
	}
	return ApplicationCredential{}, false
}

func (d *directory) domain(id string) *Domain {
	for i := range d.domains {
		if d.domains[i].ID == id {
			return &d.domains[i]
		}
	}
	return nil
}

func (d *directory) domainByName(name string) *Domain {
	for i := range d.domains {
		if d.domains[i].Name == name {
			return &d.domains[i]
		}
	}
	return nil
}

func (d *directory) project(id string) *Project {
	for i := range d.projects {
		if d.projects[i].ID == id {
			return &d.projects[i]
		}
	}
	return nil
}

func (d *directory) projectByName(name, domainID string) *Project {
	for i := range d.projects {
		if d.projects[i].Name == name && d.projects[i].DomainID == domainID {
			return &d.projects[i]
		}
	}
	return nil
}

func (d *directory) role(id string) *Role {
	for i := range d.roles {
		if d.roles[i].ID == id {
			return &d.roles[i]
		}
	}
	return nil
}

func (d *directory) roleByName(name string) *Role {
	for i := range d.roles {
		if d.roles[i].Name == name {
			return &d.roles[i]
		}
	}
	return nil
}

func (d *directory) mustRoles(what string, names []string) {
	for _, n := range names {
		if d.roleByName(n) == nil {
			panic(fmt.Sprintf("keystonetest: %s: unknown role %q", what, n))
		}
	}
}

func (d *directory) user(id string) *User {
	for i := range d.users {
		if d.users[i].ID == id {
			return &d.users[i]
		}
	}
	return nil
}

func (d *directory) userByName(name, domainID string) *User {
	for i := range d.users {
		if d.users[i].Name == name && d.users[i].DomainID == domainID {
			return &d.users[i]
		}
	}
	return nil
}

func (d *directory) appCred(id string) *ApplicationCredential {
	for i := range d.appCreds {
		if d.appCreds[i].ID == id {
			return &d.appCreds[i]
		}
	}
	return nil
}

func (d *directory) appCredByName(name, userID string) *ApplicationCredential {
	for i := range d.appCreds {
		if d.appCreds[i].Name == name && d.appCreds[i].UserID == userID {
			return &d.appCreds[i]
		}
	}
	return nil
}

func (d *directory) trust(id string) *Trust {
	for i := range d.trusts {
		if d.trusts[i].ID == id {
			return &d.trusts[i]
		}
	}
	return nil
}

// effectiveRoles expands role names with the roles they imply: the
// direct ones first, then the implied ones, each once.
func (d *directory) effectiveRoles(names []string) []Role {
	var out []Role
	seen := map[string]bool{}
	queue := slices.Clone(names)
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		r := d.roleByName(n)
		if r == nil || seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, *r)
		queue = append(queue, r.Implies...)
	}
	return out
}

func (d *directory) roleNames(roles []Role) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = r.Name
	}
	return out
}

// rolesByID resolves role ids, skipping any since removed.
func (d *directory) rolesByID(ids []string) []Role {
	var out []Role
	for _, id := range ids {
		if r := d.role(id); r != nil {
			out = append(out, *r)
		}
	}
	return out
}

func roleIDs(roles []Role) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = r.ID
	}
	return out
}

// --- JSON views --------------------------------------------------------------------

// wireRef is {"id","name"}, as tokens show domains.
type wireRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func (d *directory) domainRef(id string) wireRef {
	if dom := d.domain(id); dom != nil {
		return wireRef{dom.ID, dom.Name}
	}
	return wireRef{ID: id}
}

// wireRole is a role as tokens show it: id and name.
type wireRole struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// fullRole is a role as trust tokens and application credentials show it.
func fullRole(r Role) map[string]any {
	return map[string]any{"id": r.ID, "name": r.Name, "domain_id": nil, "description": nil, "options": map[string]any{"immutable": true}}
}

type wireEndpoint struct {
	ID        string `json:"id"`
	Interface string `json:"interface"`
	RegionID  string `json:"region_id"`
	URL       string `json:"url"`
	Region    string `json:"region"`
}

type wireService struct {
	Endpoints []wireEndpoint `json:"endpoints"`
	ID        string         `json:"id"`
	Type      string         `json:"type"`
	Name      string         `json:"name"`
}

// catalogFor renders the catalog for a token scope: project ids
// substituted, or, without a project, endpoints that need one left out.
func (d *directory) catalogFor(projectID string) []wireService {
	out := make([]wireService, 0, len(d.catalog))
	for _, svc := range d.catalog {
		w := wireService{Endpoints: []wireEndpoint{}, ID: svc.ID, Type: svc.Type, Name: svc.Name}
		for _, ep := range svc.Endpoints {
			u := ep.URL
			for _, v := range []string{"%(project_id)s", "%(tenant_id)s", "$(project_id)s", "$(tenant_id)s"} {
				if strings.Contains(u, v) {
					if projectID == "" {
						u = ""
						break
					}
					u = strings.ReplaceAll(u, v, projectID)
				}
			}
			if u == "" {
				continue
			}
			w.Endpoints = append(w.Endpoints, wireEndpoint{ep.ID, ep.Interface, ep.Region, u, ep.Region})
		}
		out = append(out, w)
	}
	return out
}

// --- copies --------------------------------------------------------------------------

func (u User) clone() User {
	u.ProjectRoles = cloneRoleMap(u.ProjectRoles)
	u.DomainRoles = cloneRoleMap(u.DomainRoles)
	u.SystemRoles = slices.Clone(u.SystemRoles)
	if u.MFARules != nil {
		rules := make([][]string, len(u.MFARules))
		for i, r := range u.MFARules {
			rules[i] = slices.Clone(r)
		}
		u.MFARules = rules
	}
	return u
}

func cloneRoleMap(m map[string][]string) map[string][]string {
	if m == nil {
		return nil
	}
	out := maps.Clone(m)
	for k, v := range out {
		out[k] = slices.Clone(v)
	}
	return out
}

func (ac ApplicationCredential) clone() ApplicationCredential {
	ac.Roles = slices.Clone(ac.Roles)
	ac.AccessRules = slices.Clone(ac.AccessRules)
	return ac
}
