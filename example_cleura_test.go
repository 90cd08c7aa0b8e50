package ksauth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/ksauth/ksauth"
)

// fakeCleuraAPI answers Cleura's v2 login with an SMS second factor, and
// echoes the token headers of other calls.
func fakeCleuraAPI() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Code json.Number }
		_ = json.NewDecoder(r.Body).Decode(&in)
		switch r.URL.Path {
		case "/auth/v2/tokens":
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"result":"twofactor_required","type":"sms","verification":"v-1"}`)
		case "/auth/v2/request-sms-code":
			w.WriteHeader(http.StatusNoContent)
		case "/auth/v2/tokens-by-sms-code":
			io.WriteString(w, `{"token":"token-for-`+in.Code.String()+`"}`)
		default:
			fmt.Fprintf(w, "%s %s as %s", r.Method, r.URL.Path, r.Header.Get("X-AUTH-LOGIN"))
		}
	}))
}

// A Cleura login with an SMS code, then a call through a Session's client,
// which sends X-AUTH-LOGIN and X-AUTH-TOKEN.
func ExampleCleura() {
	srv := fakeCleuraAPI()
	defer srv.Close()

	c := &ksauth.Cleura{
		BaseURL:  srv.URL, // "": ksauth.CleuraURL
		Login:    "carla",
		Password: "example-password",
		TwoFactor: func(ctx context.Context, ch ksauth.TwoFactorChallenge) (string, error) {
			fmt.Println("second factor:", ch.Method)
			return "482139", nil // ksauth.PromptTwoFactor(os.Stdin, os.Stderr) asks on a terminal
		},
	}
	client := ksauth.NewSession(c, nil).Client()
	resp, err := client.Get(srv.URL + "/accesscontrol/v1/openstack/domains")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(string(body))
	fmt.Println(strings.Contains(fmt.Sprint(c), "example-password"))
	// Output:
	// second factor: sms
	// GET /accesscontrol/v1/openstack/domains as carla
	// false
}
