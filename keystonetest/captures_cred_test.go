package keystonetest

// The fake against the credential management captures (cred_*.json in
// ../testdata/keystone, recorded by capture_credentials.py against a
// Keystone of its own, with its own ids): the same replay as
// TestReplayCaptures, on that run's fixtures, in the script's order, with
// the ids Keystone generated during the run (application credentials,
// their secrets and access rules, EC2 access keys and secrets) mapped to
// the fake's where the capture's answer first shows them.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// credCaptureOrder is the order capture_credentials.py made the exchanges
// in (read main() there): later ones use the tokens and credentials
// earlier ones made, and see what they deleted.
var credCaptureOrder = []string{
	// Tokens A, AC, T and S.
	"cred_auth_alice_project", "cred_auth_appcred_alice_ac", "cred_auth_trust_bob", "cred_auth_admin_system",
	// Application credentials: creation, reading, refusals.
	"cred_appcred_create_full", "cred_appcred_create_minimal", "cred_appcred_create_secret", "cred_appcred_create_rule_by_id",
	"cred_appcred_list", "cred_appcred_list_by_name", "cred_appcred_list_by_name_none", "cred_appcred_get",
	"cred_appcred_get_unknown_404",
	"cred_appcred_create_duplicate_409", "cred_appcred_create_unassigned_role_400", "cred_appcred_create_past_expiry_400",
	"cred_appcred_create_other_user_403", "cred_appcred_create_restricted_403", "cred_appcred_delete_restricted_403",
	"cred_appcred_list_restricted", "cred_appcred_list_other_user_restricted_403", "cred_appcred_list_trust_403",
	"cred_appcred_create_trust_403", "cred_appcred_create_trust_trustor_403",
	// A token of the credential with an access rule, validated with and
	// without Openstack-Identity-Access-Rules.
	"cred_auth_appcred_access_rules", "cred_validate_access_rules_token", "cred_validate_access_rules_token_no_header_404",
	// Access rules, and deletions.
	"cred_access_rules_list", "cred_access_rule_get", "cred_access_rule_get_unknown_404", "cred_access_rule_delete_in_use_403",
	"cred_appcred_delete", "cred_appcred_delete_again_404", "cred_access_rule_delete_still_in_use_403",
	"cred_appcred_delete_rule_by_id", "cred_access_rule_delete", "cred_access_rule_delete_again_404",
	// EC2 credentials.
	"cred_ec2_create", "cred_ec2_list", "cred_ec2_get", "cred_ec2_get_unknown_404", "cred_ec2_create_appcred_403",
	"cred_ec2_list_appcred_403", "cred_ec2_create_trust_403", "cred_ec2_create_other_user_403", "cred_ec2_delete",
	"cred_ec2_delete_again_404", "cred_ec2_create_project_without_role",
}

// Ids of the credential capture run (testdata/keystone/README.md, "Ids of
// this run"). Carol is not in that table (no cred_* exchange involves her):
// the fake gives her an id of its own.
const (
	credAcme       = "23b63391e1b24614824768af5b810363"
	credAdminProj  = "1dc923eab05843a1989f0dde8821b03d"
	credDemo       = "577a2564527b4bd285e26838ce101fc6"
	credOps        = "bbeb6bcbc0bf4b70a8b9f2d0b8449593"
	credRoleAdmin  = "ce0a7ecfaa97490d92eee11403bdfad3"
	credRoleMember = "c02d98e89e1b4fcaa0f493c519e9d800"
	credRoleReader = "7529855a3d794da7af3ac8bd3969e5ce"
	credAdmin      = "0800a7b15e1f4757826372bf36695a50"
	credAlice      = "eeb04fd3706c4610bee36c02fe330480"
	credBob        = "26b3681bd8e84e7ebb1907f770532f0d"
	credAliceAC    = "b4920d619e9547208453de326817b0a0"
	credAliceACR   = "373ea0ba744943df95ebc6a734f5a1da"
	credAliceACRRl = "c36d68a166644275b4143512420db349" // alice-ac-restricted's access rule
	credTrust      = "f5fa0535afe0454e949055af9ab45ca4"
)

// loadCredCaptureFixtures gives s up.sh's fixtures with the credential
// run's ids, its catalog, and its clock (the instant of its first tokens).
func loadCredCaptureFixtures(t *testing.T, s *Server) {
	t.Helper()
	s.Clear()
	s.SetClock(func() time.Time { return time.Date(2026, 12, 7, 9, 12, 53, 0, time.UTC) })
	s.AddRole(Role{ID: credRoleReader, Name: "reader"})
	s.AddRole(Role{ID: credRoleMember, Name: "member", Implies: []string{"reader"}})
	s.AddRole(Role{ID: credRoleAdmin, Name: "admin", Implies: []string{"member"}})
	s.AddDomain(Domain{ID: credAcme, Name: "acme", Description: "second test domain"})
	s.AddProject(Project{ID: credAdminProj, Name: "admin"})
	s.AddProject(Project{ID: credDemo, Name: "demo"})
	s.AddProject(Project{ID: credOps, Name: "ops", DomainID: credAcme})
	s.AddUser(User{ID: credAdmin, Name: "admin", Password: "admin-secret", ProjectRoles: map[string][]string{credAdminProj: {"admin"}},
		DomainRoles: map[string][]string{DefaultDomainID: {"admin"}}, SystemRoles: []string{"admin"}})
	s.AddUser(User{ID: credAlice, Name: "alice", Password: "alice-secret", ProjectRoles: map[string][]string{credDemo: {"member"}},
		DomainRoles: map[string][]string{DefaultDomainID: {"reader"}}})
	s.AddUser(User{ID: credBob, Name: "bob", DomainID: credAcme, Password: "bob-secret", DefaultProjectID: credOps,
		ProjectRoles: map[string][]string{credOps: {"member"}}, TOTPSecret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"})
	s.AddUser(User{Name: "carol", DomainID: credAcme, Password: "carol-secret",
		ProjectRoles: map[string][]string{credOps: {"member"}}, TOTPSecret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
		MFARules: [][]string{{"password", "totp"}}})
	s.AddApplicationCredential(ApplicationCredential{ID: credAliceAC, Name: "alice-ac", UserID: credAlice, ProjectID: credDemo,
		Description: "all roles alice has on demo, no expiry", Secret: "alice-ac-secret", Roles: []string{"reader", "member"}})
	s.AddApplicationCredential(ApplicationCredential{ID: credAliceACR, Name: "alice-ac-restricted", UserID: credAlice,
		ProjectID: credDemo, Secret: "alice-ac-restricted-secret", Roles: []string{"reader"},
		ExpiresAt:   time.Date(2026, 12, 8, 9, 12, 50, 0, time.UTC),
		AccessRules: []AccessRule{{ID: credAliceACRRl, Service: "identity", Method: "GET", Path: "/v3/auth/projects"}}})
	s.AddTrust(Trust{ID: credTrust, TrustorUserID: credAlice, TrusteeUserID: credBob, ProjectID: credDemo, Roles: []string{"member"}})
	s.SetCatalog(captureCatalog(t, s, "cred_auth_alice_project", credDemo))
}

// credLearned are the values Keystone generated during the run, by where
// an answer shows them; the first answer that shows one maps it to the
// fake's.
var credLearned = []string{
	"application_credential.id", "application_credential.secret", "application_credential.access_rules.*.id",
	"credential.access", "credential.secret",
}

// TestCredCaptureOrder: credCaptureOrder is the order of the script's
// record and token calls, and names every cred_*.json.
func TestCredCaptureOrder(t *testing.T) {
	script, err := os.ReadFile(filepath.Join("..", "testdata", "keystone", "capture_credentials.py"))
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, m := range regexp.MustCompile(`(?:record|token)\("(cred_\w+)"`).FindAllStringSubmatch(string(script), -1) {
		order = append(order, m[1])
	}
	if !slices.Equal(order, credCaptureOrder) {
		t.Errorf("capture_credentials.py records\n%v\ncredCaptureOrder is\n%v", order, credCaptureOrder)
	}
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "keystone", "cred_*.json"))
	for _, f := range files {
		if name := strings.TrimSuffix(filepath.Base(f), ".json"); !slices.Contains(credCaptureOrder, name) {
			t.Errorf("%s is not replayed", name)
		}
	}
	if len(files) != len(credCaptureOrder) {
		t.Errorf("%d cred_*.json files, %d replayed", len(files), len(credCaptureOrder))
	}
}

func TestReplayCredentialCaptures(t *testing.T) {
	s := NewServer()
	defer s.Close()
	loadCredCaptureFixtures(t, s)
	rp := &replay{t: t, s: s, forward: map[string]string{}, back: map[string]string{}}
	for _, name := range credCaptureOrder {
		c := readCapture(t, name)
		t.Run(name, func(t *testing.T) {
			got := rp.exchange(t, c)
			if c.Response.Status < 300 {
				var captured, actual any
				_ = json.Unmarshal(c.Response.Body, &captured)
				_ = json.Unmarshal(got, &actual)
				for _, path := range credLearned {
					rp.learnAt(captured, actual, strings.Split(path, "."))
				}
				// An unknown EC2 key's 404 names the credential id Keystone
				// derives from the key: its SHA-256, in hex.
				var cc, ac struct{ Credential struct{ Access string } }
				_ = json.Unmarshal(c.Response.Body, &cc)
				_ = json.Unmarshal(got, &ac)
				if cc.Credential.Access != "" && ac.Credential.Access != "" {
					rp.learn(sha256Hex(cc.Credential.Access), sha256Hex(ac.Credential.Access))
				}
			}
			compareBodies(t, rp, c, got)
		})
	}
}

// learnAt learns the strings at path (keys, "*" for every element of a
// list) in a captured body and this run's that the replay does not know
// yet.
func (rp *replay) learnAt(captured, actual any, path []string) {
	if len(path) == 0 {
		c, ok1 := captured.(string)
		a, ok2 := actual.(string)
		if _, known := rp.forward[c]; ok1 && ok2 && !known {
			rp.learn(c, a)
		}
		return
	}
	if path[0] == "*" {
		cl, ok1 := captured.([]any)
		al, ok2 := actual.([]any)
		for i := 0; ok1 && ok2 && i < min(len(cl), len(al)); i++ {
			rp.learnAt(cl[i], al[i], path[1:])
		}
		return
	}
	cm, ok1 := captured.(map[string]any)
	am, ok2 := actual.(map[string]any)
	if ok1 && ok2 {
		rp.learnAt(cm[path[0]], am[path[0]], path[1:])
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
