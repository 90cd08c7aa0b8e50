package ksauth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"strings"

	"github.com/ksauth/ksauth"
	"github.com/ksauth/ksauth/keystonetest"
)

// A Cleura login with an SMS code, then a call through a Session's client,
// which sends X-AUTH-LOGIN and X-AUTH-TOKEN. keystonetest serves Cleura's
// REST API too; its SMSCode reads the code the SMS would carry.
func ExampleCleura() {
	srv := keystonetest.NewServer()
	defer srv.Close()

	c := &ksauth.Cleura{
		BaseURL:    srv.URL, // "": ksauth.CleuraURL
		HTTPClient: srv.Client(),
		Login:      keystonetest.CleuraLogin,
		Password:   keystonetest.CleuraPassword,
		TwoFactor: func(ctx context.Context, ch ksauth.TwoFactorChallenge) (string, error) {
			fmt.Println("second factor:", ch.Method)
			// ksauth.PromptTwoFactor(os.Stdin, os.Stderr) asks on a terminal.
			code, _ := srv.SMSCode(ch.Login)
			return code, nil
		},
	}
	client := ksauth.NewSession(c, nil).Client()
	resp, err := client.Get(srv.URL + "/accesscontrol/v1/openstack/domains")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var domains []struct{ Name string }
	if err := json.NewDecoder(resp.Body).Decode(&domains); err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Status, "domain:", domains[0].Name)
	fmt.Println("password printed:", strings.Contains(fmt.Sprint(c), keystonetest.CleuraPassword))
	// Output:
	// second factor: sms
	// 200 OK domain: carla-domain
	// password printed: false
}
