package ksauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/ksauth/ksauth"
)

// fakeKeystone answers POST /v3/auth/tokens with a real Keystone response
// (testdata/keystone/auth_password_project_name.json): alice, project demo.
// Any password other than "alice-secret" gets Keystone's 401.
func fakeKeystone() *httptest.Server {
	capture, err := os.ReadFile("testdata/keystone/auth_password_project_name.json")
	if err != nil {
		log.Fatal(err)
	}
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body bytes.Buffer
		_, _ = body.ReadFrom(r.Body)
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/v3/auth/tokens" || !bytes.Contains(body.Bytes(), []byte(`"password":"alice-secret"`)) {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":{"code":401,"message":"The request you have made requires authentication.","title":"Unauthorized"}}`)
			return
		}
		w.Header().Set("X-Subject-Token", "gAAAAAB-example-token")
		w.WriteHeader(http.StatusCreated)
		w.Write(responseBody(capture, srv.URL))
	}))
	return srv
}

// responseBody returns a capture's response body with its URLs pointing at base.
func responseBody(capture []byte, base string) []byte {
	var c struct {
		Response struct{ Body json.RawMessage }
	}
	if err := json.Unmarshal(capture, &c); err != nil {
		log.Fatal(err)
	}
	return bytes.ReplaceAll(c.Response.Body, []byte("http://127.0.0.1:5055"), []byte(base))
}

func ExampleKeystone_Authenticate() {
	srv := fakeKeystone()
	defer srv.Close()

	k := &ksauth.Keystone{
		AuthURL: srv.URL + "/v3",
		Credentials: ksauth.Password{
			Username:   "alice",
			UserDomain: ksauth.Domain{Name: "Default"},
			Password:   "alice-secret",
		},
		Scope: ksauth.ProjectScope{Name: "demo", Domain: ksauth.Domain{Name: "Default"}},
	}
	tok, err := k.Authenticate(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("user:", tok.User.Name)
	fmt.Println("project:", tok.Project.Name)
	fmt.Println("services:", len(tok.Catalog))
	fmt.Println("id printed as:", fmt.Sprint(tok)[:23])
	// Output:
	// user: alice
	// project: demo
	// services: 7
	// id printed as: Token(sha256:585f73b5,
}

func ExampleKeystone_Authenticate_wrongPassword() {
	srv := fakeKeystone()
	defer srv.Close()

	k := &ksauth.Keystone{
		AuthURL:     srv.URL + "/v3",
		Credentials: ksauth.Password{UserID: "a1c340e77cb64d0685e7df614b6fb5e6", Password: "guess"},
	}
	_, err := k.Authenticate(context.Background())
	fmt.Println(errors.Is(err, ksauth.ErrUnauthorized))
	// Output:
	// true
}

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

func ExampleCatalog_Endpoint() {
	srv := fakeKeystone()
	defer srv.Close()
	k := &ksauth.Keystone{
		AuthURL:     srv.URL + "/v3",
		Credentials: ksauth.Password{Username: "alice", UserDomain: ksauth.Domain{Name: "Default"}, Password: "alice-secret"},
	}
	tok, err := k.Authenticate(context.Background())
	if err != nil {
		log.Fatal(err)
	}

	compute, _ := tok.Catalog.Endpoint(ksauth.EndpointOpts{Type: "compute", Region: "RegionTwo"})
	fmt.Println(compute)
	// The official type finds its aliases, and interfaces go in preference order.
	volume, _ := tok.Catalog.Endpoint(ksauth.EndpointOpts{Type: "block-storage", Name: "cinderv3", Interfaces: []string{"internal", "public"}})
	fmt.Println(volume)
	_, err = tok.Catalog.Endpoint(ksauth.EndpointOpts{Type: "compute", Region: "regiontwo"})
	fmt.Println(err)
	// Output:
	// http://public.regiontwo.example.test:8774/v2.1
	// http://internal.regionone.example.test:8776/v3/172d9bc5ed114531a3e52e6787ef3db0
	// ksauth: no endpoint for service type "compute" in region "regiontwo" with interface public; the catalog has regions [RegionOne RegionTwo] and interfaces [public internal admin] (region "regiontwo" differs only in case from "RegionTwo"; regions are case-sensitive)
}
