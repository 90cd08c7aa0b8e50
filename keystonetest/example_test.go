package keystonetest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/ksauth/ksauth/keystonetest"
)

// A password login with plain net/http, a call to a catalog service with
// the token, and a token refused on purpose.
func Example() {
	srv := keystonetest.NewServer()
	defer srv.Close()

	body := `{"auth": {"identity": {"methods": ["password"], "password": {"user": {
		"name": "demo", "domain": {"id": "default"}, "password": "` + keystonetest.DemoPassword + `"}}}}}`
	resp, err := srv.Client().Post(srv.AuthURL()+"/auth/tokens", "application/json", strings.NewReader(body))
	if err != nil {
		panic(err)
	}
	var login struct {
		Token struct {
			Project struct{ Name string }
			Roles   []struct{ Name string }
			Catalog []struct{ Type string }
		}
	}
	_ = json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	token := resp.Header.Get("X-Subject-Token")
	fmt.Println(resp.StatusCode, "project", login.Token.Project.Name, "roles", len(login.Token.Roles), "services", len(login.Token.Catalog))

	get := func() int {
		req, _ := http.NewRequest("GET", srv.URL+"/compute/v2.1/servers", nil)
		req.Header.Set("X-Auth-Token", token)
		resp, err := srv.Client().Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	fmt.Println("compute:", get())
	srv.RejectNext(1)
	fmt.Println("compute, rejected once:", get())
	fmt.Println("compute again:", get())
	fmt.Println("logins:", srv.Requests("POST /v3/auth/tokens"), "compute calls:", srv.Requests("GET /compute/"))
	// Output:
	// 201 project demo roles 2 services 3
	// compute: 200
	// compute, rejected once: 401
	// compute again: 200
	// logins: 1 compute calls: 3
}

// A Cleura login with an SMS second factor: the test reads the code the
// SMS would carry.
func ExampleServer_SMSCode() {
	srv := keystonetest.NewServer()
	defer srv.Close()
	post := func(path string, v any) map[string]any {
		b, _ := json.Marshal(v)
		resp, err := srv.Client().Post(srv.URL+path, "application/json", strings.NewReader(string(b)))
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return out
	}
	ans := post("/auth/v2/tokens", map[string]string{"login": keystonetest.CleuraLogin, "password": keystonetest.CleuraPassword})
	fmt.Println(ans["result"], ans["type"])
	verification := ans["verification"]
	post("/auth/v2/request-sms-code", map[string]any{"login": keystonetest.CleuraLogin, "verification": verification})
	code, _ := srv.SMSCode(keystonetest.CleuraLogin)
	var n int
	fmt.Sscan(code, &n)
	ans = post("/auth/v2/tokens-by-sms-code", map[string]any{"login": keystonetest.CleuraLogin, "verification": verification, "code": n})
	tok, _ := ans["token"].(string)
	fmt.Println("token valid:", srv.CleuraTokenValid(keystonetest.CleuraLogin, tok))
	// Output:
	// twofactor_required sms
	// token valid: true
}
