package ksauth_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"slices"
	"strings"

	"github.com/ksauth/ksauth"
	"github.com/ksauth/ksauth/keystonetest"
)

// A password login scoped to a project. The examples run against
// keystonetest, an in-process fake Keystone: against a real cloud, set
// AuthURL to its identity endpoint and leave HTTPClient nil.
func ExampleKeystone_Authenticate() {
	srv := keystonetest.NewServer()
	defer srv.Close()

	k := &ksauth.Keystone{
		AuthURL:    srv.AuthURL(), // e.g. "https://keystone.example.com:5000/v3"
		HTTPClient: srv.Client(),
		Credentials: ksauth.Password{
			Username:   "demo",
			UserDomain: ksauth.Domain{Name: "Default"},
			Password:   keystonetest.DemoPassword,
		},
		Scope: ksauth.ProjectScope{Name: "demo", Domain: ksauth.Domain{Name: "Default"}},
	}
	tok, err := k.Authenticate(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	var roles []string
	for _, r := range tok.Roles {
		roles = append(roles, r.Name)
	}
	slices.Sort(roles)
	fmt.Println("user:", tok.User.Name)
	fmt.Println("project:", tok.Project.Name)
	fmt.Println("roles:", roles)
	fmt.Println("services:", len(tok.Catalog))
	fmt.Println("lifetime:", tok.Lifetime())
	// A token prints as a fingerprint, never as its ID.
	fmt.Println("ID printed:", strings.Contains(fmt.Sprint(tok), tok.ID))
	// Output:
	// user: demo
	// project: demo
	// roles: [member reader]
	// services: 3
	// lifetime: 1h0m0s
	// ID printed: false
}

// A wrong password is Keystone's 401, which matches ErrUnauthorized.
func ExampleKeystone_Authenticate_wrongPassword() {
	srv := keystonetest.NewServer()
	defer srv.Close()

	k := &ksauth.Keystone{
		AuthURL:     srv.AuthURL(),
		HTTPClient:  srv.Client(),
		Credentials: ksauth.Password{UserID: keystonetest.DemoUserID, Password: "guess"},
	}
	_, err := k.Authenticate(context.Background())
	fmt.Println(errors.Is(err, ksauth.ErrUnauthorized))
	// Output:
	// true
}

// A user whose multi-factor rules ask for a password and a TOTP passcode:
// Keystone answers the password alone with a receipt, and the login goes on
// with the passcode from Passcode. Without Passcode, that answer is an
// *ksauth.MFARequiredError.
func ExampleKeystone_Authenticate_totp() {
	srv := keystonetest.NewServer()
	defer srv.Close()
	const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" // the user's TOTP credential
	srv.AddUser(keystonetest.User{
		Name:         "tess",
		Password:     "tess-password",
		TOTPSecret:   secret,
		MFARules:     [][]string{{"password", "totp"}},
		ProjectRoles: map[string][]string{keystonetest.DemoProjectID: {"member"}},
	})

	k := &ksauth.Keystone{
		AuthURL:     srv.AuthURL(),
		HTTPClient:  srv.Client(),
		Credentials: ksauth.Password{Username: "tess", UserDomain: ksauth.Domain{ID: "default"}, Password: "tess-password"},
		Scope:       ksauth.ProjectScope{ID: keystonetest.DemoProjectID},
	}
	_, err := k.Authenticate(context.Background())
	var mfa *ksauth.MFARequiredError
	fmt.Println("receipt:", errors.As(err, &mfa))

	k.Passcode = ksauth.TOTPSource(secret)
	tok, err := k.Authenticate(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	methods := slices.Sorted(slices.Values(tok.Methods))
	fmt.Println("user:", tok.User.Name, "methods:", methods)
	// Output:
	// receipt: true
	// user: tess methods: [password totp]
}

// Credentials and scopes are checked before anything is sent.
func ExampleKeystone_Authenticate_validation() {
	k := &ksauth.Keystone{
		AuthURL:     "https://keystone.example.com:5000",
		Credentials: ksauth.Password{Username: "alice", Password: "alice-secret"},
	}
	_, err := k.Authenticate(context.Background())
	fmt.Println(err)
	// Output:
	// ksauth: invalid Credentials.UserDomain: a user given by name needs its domain (ID or Name)
}

// An application credential carries its own project and roles: the token
// is scoped without a Scope.
func ExampleApplicationCredential() {
	srv := keystonetest.NewServer()
	defer srv.Close()

	k := &ksauth.Keystone{
		AuthURL:    srv.AuthURL(),
		HTTPClient: srv.Client(),
		Credentials: ksauth.ApplicationCredential{
			ID:     keystonetest.DemoAppCredID,
			Secret: keystonetest.DemoAppCredSecret,
		},
	}
	tok, err := k.Authenticate(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("user:", tok.User.Name)
	fmt.Println("project:", tok.Project.Name)
	fmt.Println("credential:", tok.ApplicationCredential.Name)
	fmt.Println("methods:", tok.Methods)

	// Keystone refuses a scope sent with an application credential, and
	// ksauth refuses it before sending.
	k.Scope = ksauth.ProjectScope{ID: keystonetest.AdminProjectID}
	_, err = k.Authenticate(context.Background())
	var verr *ksauth.ValidationError
	fmt.Println("scope refused:", errors.As(err, &verr), verr.Field)
	// Output:
	// user: demo
	// project: demo
	// credential: demo-ac
	// methods: [application_credential]
	// scope refused: true Scope
}

// Finding a service's URL in a token's catalog: by type (the official
// type finds its aliases), name, region and interfaces in order of
// preference.
func ExampleCatalog_Endpoint() {
	srv := keystonetest.NewInMemoryServer() // at https://keystone.test
	defer srv.Close()
	// The default catalog (identity, compute, object-store) and a volume
	// service in a second region, under the older type name "volumev3".
	srv.SetCatalog(append(keystonetest.DefaultCatalog(srv.URL), keystonetest.Service{
		Type: "volumev3",
		Name: "cinderv3",
		Endpoints: []keystonetest.Endpoint{
			{Interface: "internal", Region: "RegionTwo", URL: srv.URL + "/volume/v3/%(project_id)s"},
		},
	}))
	k := &ksauth.Keystone{
		AuthURL:     srv.AuthURL(),
		HTTPClient:  srv.Client(),
		Credentials: ksauth.Password{UserID: keystonetest.DemoUserID, Password: keystonetest.DemoPassword},
	}
	tok, err := k.Authenticate(context.Background())
	if err != nil {
		log.Fatal(err)
	}

	compute, _ := tok.Catalog.Endpoint(ksauth.EndpointOpts{Type: "compute"})
	fmt.Println(compute)
	volume, _ := tok.Catalog.Endpoint(ksauth.EndpointOpts{
		Type:       "block-storage",
		Region:     "RegionTwo",
		Interfaces: []string{"public", "internal"},
	})
	fmt.Println(volume)
	_, err = tok.Catalog.Endpoint(ksauth.EndpointOpts{Type: "compute", Region: "regionone"})
	fmt.Println(err)
	// Output:
	// https://keystone.test/compute/v2.1
	// https://keystone.test/volume/v3/8a1d4e7c2b9f4c0d9e3a5b6c7d8e9f01
	// ksauth: no endpoint for service type "compute" in region "regionone" with interface public; the service has regions [RegionOne] and interfaces [public internal admin] (region "regionone" differs only in case from "RegionOne"; regions are case-sensitive)
}
