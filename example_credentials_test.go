package ksauth_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ksauth/ksauth"
	"github.com/ksauth/ksauth/keystonetest"
)

// Log in with a password once, create an application credential, and use
// it from then on: in this process (Credential) and in the next ones (a
// clouds.yaml entry, written readable by its owner only).
func ExampleKeystone_CreateApplicationCredential() {
	srv := keystonetest.NewServer()
	defer srv.Close()
	ctx := context.Background()

	k := &ksauth.Keystone{
		AuthURL:     srv.AuthURL(),
		HTTPClient:  srv.Client(),
		Credentials: ksauth.Password{UserID: keystonetest.DemoUserID, Password: keystonetest.DemoPassword},
		Scope:       ksauth.ProjectScope{ID: keystonetest.DemoProjectID}, // the credential's project
	}
	pwTok, err := k.Authenticate(ctx)
	if err != nil {
		log.Fatal(err)
	}
	ac, err := k.CreateApplicationCredential(ctx, pwTok, "", ksauth.NewApplicationCredential{
		Name:      "ci-deploy",
		ExpiresAt: time.Now().Add(90 * 24 * time.Hour),
		Roles:     []ksauth.Role{{Name: "member"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("created:", ac.Name, "roles:", ac.Roles[0].Name)
	fmt.Println("printing masks the secret:", !strings.Contains(fmt.Sprintf("%+v", ac), ac.Secret))

	// From now on, in this process:
	k.Credentials, k.Scope = ac.Credential(), nil
	tok, err := k.Authenticate(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("logged in with:", tok.Methods, "project:", tok.Project.Name)

	// ... and in others, through clouds.yaml.
	doc, err := ac.CloudsYAML("ci", srv.AuthURL(), "")
	if err != nil {
		log.Fatal(err)
	}
	dir, _ := os.MkdirTemp("", "clouds")
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "clouds.yaml"), doc, 0o600); err != nil {
		log.Fatal(err)
	}
	cfg, err := ksauth.LoadConfig(&ksauth.ConfigOptions{Cloud: "ci", Dir: dir, Env: []string{}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("clouds.yaml logs in with: %T\n", cfg.Keystone.Credentials)

	// Listing never shows the secret. Deleting ends the credential (a
	// password login's token may; a restricted credential's own may not).
	list, _ := k.ApplicationCredentials(ctx, tok, "", "ci-deploy")
	fmt.Println("listed:", len(list), "secret empty:", list[0].Secret == "")
	if err := k.DeleteApplicationCredential(ctx, pwTok, "", ac.ID); err != nil {
		log.Fatal(err)
	}
	// Output:
	// created: ci-deploy roles: member
	// printing masks the secret: true
	// logged in with: [application_credential] project: demo
	// clouds.yaml logs in with: ksauth.ApplicationCredential
	// listed: 1 secret empty: true
}

// EC2/S3 credentials for object storage. Keystone wants a password login
// for these (not an application credential's token); the error's Hint
// says so when it refuses one.
func ExampleKeystone_CreateEC2Credential() {
	srv := keystonetest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	k := &ksauth.Keystone{
		AuthURL:     srv.AuthURL(),
		HTTPClient:  srv.Client(),
		Credentials: ksauth.Password{UserID: keystonetest.DemoUserID, Password: keystonetest.DemoPassword},
	}
	session := ksauth.NewSession(k, nil)
	c, err := k.CreateEC2Credential(ctx, session, "", "") // the token's user and project
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("project:", c.ProjectID == keystonetest.DemoProjectID, "secret set:", c.Secret != "")
	if err := k.DeleteEC2Credential(ctx, session, "", c.Access); err != nil {
		log.Fatal(err)
	}
	_, err = k.GetEC2Credential(ctx, session, "", c.Access)
	fmt.Println("deleted:", errors.Is(err, ksauth.ErrNotFound))

	appCred := &ksauth.Keystone{AuthURL: srv.AuthURL(), HTTPClient: srv.Client(),
		Credentials: ksauth.ApplicationCredential{ID: keystonetest.DemoAppCredID, Secret: keystonetest.DemoAppCredSecret}}
	_, err = appCred.CreateEC2Credential(ctx, ksauth.NewSession(appCred, nil), "", "")
	var he *ksauth.HTTPError
	if errors.As(err, &he) {
		fmt.Println(he.StatusCode, he.Hint)
	}
	// Output:
	// project: true secret set: true
	// deleted: true
	// 403 EC2 credentials need a token from a password login, not one from an application credential or a trust: authenticate with a password
}
