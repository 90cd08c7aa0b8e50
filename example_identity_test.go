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

// A service checks the token a request brought (its X-Auth-Token) with a
// token of its own, here from a Session so that it is renewed as needed.
// A revoked token no longer validates.
func ExampleKeystone_ValidateToken() {
	srv := keystonetest.NewServer()
	defer srv.Close()
	ctx := context.Background()

	// The token a user sends.
	user := &ksauth.Keystone{
		AuthURL:     srv.AuthURL(),
		HTTPClient:  srv.Client(),
		Credentials: ksauth.Password{UserID: keystonetest.DemoUserID, Password: keystonetest.DemoPassword},
	}
	userTok, err := user.Authenticate(ctx)
	if err != nil {
		log.Fatal(err)
	}
	subject := userTok.ID

	// The service's own identity.
	svc := &ksauth.Keystone{
		AuthURL:     srv.AuthURL(),
		HTTPClient:  srv.Client(),
		Credentials: ksauth.Password{UserID: keystonetest.AdminUserID, Password: keystonetest.AdminPassword},
	}
	svcSession := ksauth.NewSession(svc, nil)

	tok, err := svc.ValidateToken(ctx, svcSession, subject, &ksauth.ValidateOptions{NoCatalog: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("user:", tok.User.Name, "project:", tok.Project.Name, "services:", len(tok.Catalog))

	if err := svc.RevokeToken(ctx, svcSession, subject); err != nil {
		log.Fatal(err)
	}
	_, err = svc.ValidateToken(ctx, svcSession, subject, nil)
	fmt.Println("revoked:", errors.Is(err, ksauth.ErrNotFound))
	// Output:
	// user: demo project: demo services: 0
	// revoked: true
}

// Rescoping: log in unscoped, list the projects the user may scope to,
// and exchange the token for one scoped to the project chosen.
func ExampleTokenExchange() {
	srv := keystonetest.NewServer()
	defer srv.Close()
	// A user with roles on two projects.
	staging := srv.AddProject(keystonetest.Project{Name: "staging"})
	srv.AddUser(keystonetest.User{
		Name:     "dana",
		Password: "dana-password",
		ProjectRoles: map[string][]string{
			keystonetest.DemoProjectID: {"reader"},
			staging.ID:                 {"member"},
		},
	})
	ctx := context.Background()

	k := &ksauth.Keystone{
		AuthURL:     srv.AuthURL(),
		HTTPClient:  srv.Client(),
		Credentials: ksauth.Password{Username: "dana", UserDomain: ksauth.Domain{ID: "default"}, Password: "dana-password"},
		Scope:       ksauth.Unscoped{},
	}
	unscoped, err := k.Authenticate(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("unscoped:", unscoped.Project == nil, "services:", len(unscoped.Catalog))

	projects, err := k.Projects(ctx, unscoped)
	if err != nil {
		log.Fatal(err)
	}
	slices.SortFunc(projects, func(a, b ksauth.Project) int { return strings.Compare(a.Name, b.Name) })
	for _, p := range projects {
		fmt.Println("may scope to:", p.Name)
	}

	rescope := *k // a Keystone is a plain value: same endpoint and client
	rescope.Credentials = ksauth.TokenExchange{Token: unscoped.ID}
	rescope.Scope = ksauth.ProjectScope{ID: projects[1].ID}
	tok, err := rescope.Authenticate(ctx)
	if err != nil {
		log.Fatal(err)
	}
	var roles []string
	for _, r := range tok.Roles {
		roles = append(roles, r.Name)
	}
	slices.Sort(roles)
	fmt.Println("scoped to:", tok.Project.Name, "roles:", roles, "services:", len(tok.Catalog))
	// Output:
	// unscoped: true services: 0
	// may scope to: demo
	// may scope to: staging
	// scoped to: staging roles: [member reader] services: 3
}
