package ksauth_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/ksauth/ksauth"
	"github.com/ksauth/ksauth/keystonetest"
)

// An OpenRC environment, as sourcing a cloud's openrc.sh sets it. Env
// stands in for the process's environment here; leave it nil to read
// os.Environ().
func ExampleLoadConfig() {
	srv := keystonetest.NewServer()
	defer srv.Close()

	cfg, err := ksauth.LoadConfig(&ksauth.ConfigOptions{Env: []string{
		"OS_AUTH_URL=" + srv.AuthURL(),
		"OS_USERNAME=demo",
		"OS_PASSWORD=" + keystonetest.DemoPassword,
		"OS_USER_DOMAIN_NAME=Default",
		"OS_PROJECT_NAME=demo",
		"OS_PROJECT_DOMAIN_NAME=Default",
		"OS_REGION_NAME=RegionOne",
	}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("region:", cfg.Region, "interface:", cfg.Interface)
	fmt.Println("password printed:", strings.Contains(fmt.Sprint(cfg), keystonetest.DemoPassword))

	ctx := context.Background()
	s := cfg.NewSession(nil)
	tok, err := s.Token(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("user:", tok.User.Name, "project:", tok.Project.Name)
	compute, err := s.Endpoint(ctx, ksauth.EndpointOpts{
		Type:       "compute",
		Region:     cfg.Region,
		Interfaces: []string{cfg.Interface},
	})
	if err != nil {
		log.Fatal(err)
	}
	resp, err := s.Client().Get(compute + "/servers")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println("compute:", resp.Status)
	// Output:
	// region: RegionOne interface: public
	// password printed: false
	// user: demo project: demo
	// compute: 200 OK
}

// A clouds.yaml entry, its secret kept apart in secure.yaml. The files are
// searched in OS_CLIENT_CONFIG_FILE, Dir (the working directory),
// ~/.config/openstack and /etc/openstack.
func ExampleLoadConfig_cloudsYAML() {
	srv := keystonetest.NewServer()
	defer srv.Close()
	dir, err := os.MkdirTemp("", "ksauth-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	clouds := `clouds:
  demo:
    auth_type: v3applicationcredential
    auth:
      auth_url: ` + srv.AuthURL() + `
      application_credential_id: ` + keystonetest.DemoAppCredID + `
    region_name: RegionOne
`
	secure := `clouds:
  demo:
    auth:
      application_credential_secret: ` + keystonetest.DemoAppCredSecret + `
`
	for name, text := range map[string]string{"clouds.yaml": clouds, "secure.yaml": secure} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			log.Fatal(err)
		}
	}

	cfg, err := ksauth.LoadConfig(&ksauth.ConfigOptions{
		Cloud: "demo",
		Dir:   dir,
		Env:   []string{}, // no OS_* variables, no HOME
	})
	if err != nil {
		log.Fatal(err)
	}
	tok, err := cfg.Keystone.Authenticate(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("cloud:", cfg.Cloud, "region:", cfg.Region)
	fmt.Println("user:", tok.User.Name, "project:", tok.Project.Name, "credential:", tok.ApplicationCredential.Name)
	// Output:
	// cloud: demo region: RegionOne
	// user: demo project: demo credential: demo-ac
}

// A clouds.yaml entry for Cleura Cloud's REST API (auth_type cleura, a
// ksauth extension): LoadConfig sets Config.Cleura instead of
// Config.Keystone, and the program says how to ask for the SMS code.
func ExampleLoadConfig_cleura() {
	srv := keystonetest.NewServer()
	defer srv.Close()
	dir, err := os.MkdirTemp("", "ksauth-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	clouds := `clouds:
  cleura:
    auth_type: cleura
    auth:
      auth_url: ` + srv.URL + ` # "": https://rest.cleura.cloud
      username: ` + keystonetest.CleuraLogin + `
      password: ` + keystonetest.CleuraPassword + `
`
	if err := os.WriteFile(filepath.Join(dir, "clouds.yaml"), []byte(clouds), 0o600); err != nil {
		log.Fatal(err)
	}

	cfg, err := ksauth.LoadConfig(&ksauth.ConfigOptions{Cloud: "cleura", Dir: dir, Env: []string{}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("Keystone:", cfg.Keystone != nil, "Cleura login:", cfg.Cleura.Login)
	cfg.Cleura.TwoFactor = func(ctx context.Context, ch ksauth.TwoFactorChallenge) (string, error) {
		code, _ := srv.SMSCode(ch.Login) // ksauth.PromptTwoFactor(os.Stdin, os.Stderr) on a terminal
		return code, nil
	}
	tok, err := cfg.NewSession(nil).Token(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("user:", tok.User.Name, "methods:", tok.Methods)
	// Output:
	// Keystone: false Cleura login: carla
	// user: carla methods: [password sms]
}
