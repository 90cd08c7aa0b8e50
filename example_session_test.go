package ksauth_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/ksauth/ksauth"
	"github.com/ksauth/ksauth/keystonetest"
)

// One Session per identity, shared by the whole program: it logs in on
// first use, caches the token and renews it before it expires. Its Client
// puts the token on every request.
func ExampleSession() {
	srv := keystonetest.NewServer()
	defer srv.Close()

	s := ksauth.NewSession(&ksauth.Keystone{
		AuthURL:     srv.AuthURL(),
		HTTPClient:  srv.Client(),
		Credentials: ksauth.ApplicationCredential{ID: keystonetest.DemoAppCredID, Secret: keystonetest.DemoAppCredSecret},
	}, nil)

	ctx := context.Background()
	compute, err := s.Endpoint(ctx, ksauth.EndpointOpts{Type: "compute"})
	if err != nil {
		log.Fatal(err)
	}
	client := s.Client()
	for range 3 {
		resp, err := client.Get(compute + "/servers")
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		fmt.Println(resp.Status)
	}
	fmt.Println("logins:", srv.Requests("POST /v3/auth/tokens"))
	// Output:
	// 200 OK
	// 200 OK
	// 200 OK
	// logins: 1
}

// When a server rejects a token, Invalidate drops it so that the next
// Token call logs in again. It drops a token only while it is the current
// one: a late rejection of a token already replaced costs no login.
func ExampleSession_Invalidate() {
	srv := keystonetest.NewServer()
	defer srv.Close()

	s := ksauth.NewSession(&ksauth.Keystone{
		AuthURL:     srv.AuthURL(),
		HTTPClient:  srv.Client(),
		Credentials: ksauth.ApplicationCredential{ID: keystonetest.DemoAppCredID, Secret: keystonetest.DemoAppCredSecret},
	}, nil)

	ctx := context.Background()
	old, err := s.Token(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("dropped:", s.Invalidate(old))
	tok, err := s.Token(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("new token:", tok.ID != old.ID)
	fmt.Println("dropped again:", s.Invalidate(old))
	fmt.Println("logins:", srv.Requests("POST /v3/auth/tokens"))
	// Output:
	// dropped: true
	// new token: true
	// dropped again: false
	// logins: 2
}

// A Transport over a Session, on a base transport of your choice. A 401
// makes it log in again and resend the request once; a host it does not
// trust never gets the token.
func ExampleTransport() {
	srv := keystonetest.NewServer()
	defer srv.Close()

	s := ksauth.NewSession(&ksauth.Keystone{
		AuthURL:     srv.AuthURL(),
		HTTPClient:  srv.Client(),
		Credentials: ksauth.ApplicationCredential{ID: keystonetest.DemoAppCredID, Secret: keystonetest.DemoAppCredSecret},
	}, nil)
	client := &http.Client{Transport: &ksauth.Transport{Session: s, Base: srv.Transport()}}

	get := func(url string) {
		resp, err := client.Get(url)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		fmt.Println(resp.Status)
	}
	servers := srv.URL + "/compute/v2.1/servers"
	get(servers)
	srv.RejectNext(1) // the token is refused once, as if revoked
	get(servers)
	fmt.Println("logins:", srv.Requests("POST /v3/auth/tokens"), "compute calls:", srv.Requests("GET /compute/"))

	_, err := client.Get("https://elsewhere.example/")
	fmt.Println("untrusted host:", errors.Is(err, ksauth.ErrUntrustedHost))
	// Output:
	// 200 OK
	// 200 OK
	// logins: 2 compute calls: 3
	// untrusted host: true
}

// A 429 with Retry-After is waited out and the request sent again; a server
// asking to wait longer than MaxRetryAfter gets its 429 returned at once.
// A Keystone authenticator takes a RetryPolicy too, for its own requests.
func ExampleRetryPolicy() {
	srv := keystonetest.NewServer()
	defer srv.Close()

	s := ksauth.NewSession(&ksauth.Keystone{
		AuthURL:     srv.AuthURL(),
		HTTPClient:  srv.Client(),
		Credentials: ksauth.ApplicationCredential{ID: keystonetest.DemoAppCredID, Secret: keystonetest.DemoAppCredSecret},
	}, nil)
	client := &http.Client{Transport: &ksauth.Transport{
		Session: s,
		Base:    srv.Transport(),
		Retry:   &ksauth.RetryPolicy{MaxAttempts: 3, MaxRetryAfter: 10 * time.Second},
	}}
	servers := srv.URL + "/compute/v2.1/servers"
	if _, err := s.Token(context.Background()); err != nil { // log in first: the 429s below are the service's
		log.Fatal(err)
	}

	srv.RateLimitNext(1, time.Second) // 429, Retry-After: 1
	resp, err := client.Get(servers)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status, "after", srv.Requests("GET /compute/"), "attempts")

	srv.ResetRequestCounts()
	srv.RateLimitNext(1, time.Minute) // 429, Retry-After: 60
	resp, err = client.Get(servers)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status, "after", srv.Requests("GET /compute/"), "attempt")
	// Output:
	// 200 OK after 2 attempts
	// 429 Too Many Requests after 1 attempt
}
