package keystonetest

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Cleura Cloud's REST API (https://rest.cleura.cloud): its own login, v1
// and v2, with an SMS second factor, and token-authenticated calls with
// X-AUTH-LOGIN and X-AUTH-TOKEN. Served at the server's URL, beside
// Keystone.

// The default Cleura accounts of a new Server.
const (
	// CleuraLogin has an SMS second factor.
	CleuraLogin    = "carla"
	CleuraPassword = "carla-password"
	// CleuraAPILogin has no second factor (an API user).
	CleuraAPILogin    = "carla-api"
	CleuraAPIPassword = "carla-api-password"
	// CleuraTokenLifetime is how long a Cleura token is accepted (by the
	// server's clock); Cleura's answers do not say.
	CleuraTokenLifetime = 24 * time.Hour
)

// CleuraUser is a Cleura account.
type CleuraUser struct {
	Login    string
	Password string
	// TwoFactor is the second factor a login must complete: "" (none),
	// "sms", or "webauthn" (which the REST API cannot complete).
	TwoFactor string
	// Options, when it lists more than one factor (e.g. ["sms",
	// "webauthn"]), makes a v2 login without a two_factor_method answer
	// "twofactor_options" first. nil: [TwoFactor].
	Options []string
}

// cleuraState is the Cleura side; every access holds Server.mu.
type cleuraState struct {
	users    []CleuraUser
	tokens   map[string]*cleuraToken
	pending  map[string]*cleuraPending // verification → login attempt
	smsCodes map[string]string         // login → last SMS code sent
}

type cleuraToken struct {
	login    string
	issuedAt time.Time
	revoked  bool
}

type cleuraPending struct {
	login  string
	factor string
	code   string // "" until the SMS was requested
}

func defaultCleura() cleuraState {
	return cleuraState{
		users: []CleuraUser{
			{Login: CleuraLogin, Password: CleuraPassword, TwoFactor: "sms"},
			{Login: CleuraAPILogin, Password: CleuraAPIPassword},
		},
		tokens:   map[string]*cleuraToken{},
		pending:  map[string]*cleuraPending{},
		smsCodes: map[string]string{},
	}
}

// AddCleuraUser adds a Cleura account. It panics if the login is taken or
// the factor is not "", "sms" or "webauthn".
func (s *Server) AddCleuraUser(u CleuraUser) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.Login == "" || slices.ContainsFunc(s.cleura.users, func(c CleuraUser) bool { return c.Login == u.Login }) {
		panic(fmt.Sprintf("keystonetest: AddCleuraUser: empty or duplicate login %q", u.Login))
	}
	if u.TwoFactor != "" && u.TwoFactor != "sms" && u.TwoFactor != "webauthn" {
		panic(fmt.Sprintf("keystonetest: AddCleuraUser %s: unknown second factor %q", u.Login, u.TwoFactor))
	}
	u.Options = slices.Clone(u.Options)
	s.cleura.users = append(s.cleura.users, u)
}

// SMSCode returns the code of the last SMS the server "sent" to login
// (POST /auth/v2/request-sms-code or /auth/v1/tokens/request2facode): what
// a test types where a user would read their phone. false: none sent.
func (s *Server) SMSCode(login string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	code, ok := s.cleura.smsCodes[login]
	return code, ok
}

// CleuraTokenValid reports whether the server accepts tok for login.
func (s *Server) CleuraTokenValid(login, tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cleuraValid(login, tok)
}

func (s *Server) cleuraValid(login, tok string) bool {
	t := s.cleura.tokens[tok]
	return t != nil && login != "" && t.login == login && !t.revoked && s.clock().Before(t.issuedAt.Add(CleuraTokenLifetime))
}

func (s *Server) cleuraUser(login string) *CleuraUser {
	for i := range s.cleura.users {
		if s.cleura.users[i].Login == login {
			return &s.cleura.users[i]
		}
	}
	return nil
}

// cleuraError writes Cleura's error body {"error":{"code","message"}}.
func cleuraError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": status, "message": message}})
}

// cleuraBadRequest is Cleura's 400 with the field that was wrong.
func cleuraBadRequest(w http.ResponseWriter, key, value string) {
	writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"code": http.StatusBadRequest,
		"message": "Bad request", "errors": []map[string]string{{"key": key, "value": value}}}})
}

// cleuraVersion is "v1" or "v2", from the request path.
func cleuraVersion(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, "/auth/v1/") {
		return "v1"
	}
	return "v2"
}

// decodeCleura decodes a Cleura request body: v1 wraps it in an object
// named wrapper, v2 does not.
func decodeCleura(r *http.Request, wrapper string, v any) error {
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r.Body); err != nil {
		return err
	}
	if cleuraVersion(r) == "v1" {
		var outer map[string]json.RawMessage
		if err := json.Unmarshal(buf.Bytes(), &outer); err != nil {
			return err
		}
		inner, ok := outer[wrapper]
		if !ok {
			return fmt.Errorf("missing %q", wrapper)
		}
		return json.Unmarshal(inner, v)
	}
	return json.Unmarshal(buf.Bytes(), v)
}

// issueCleuraToken issues a token for login. s.mu is held.
func (s *Server) issueCleuraToken(login string) string {
	tok := newID() + newID()
	s.cleura.tokens[tok] = &cleuraToken{login: login, issuedAt: s.clock()}
	return tok
}

// handleCleuraLogin is POST /auth/v2/tokens {"login","password",
// "two_factor_method"?} and POST /auth/v1/tokens {"auth":{"login",
// "password","twofa_method"?}}.
func (s *Server) handleCleuraLogin(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Login    string `json:"login"`
		Password string `json:"password"`
		Method   string `json:"two_factor_method"`
		MethodV1 string `json:"twofa_method"`
	}
	if err := decodeCleura(r, "auth", &in); err != nil {
		cleuraBadRequest(w, "body", "invalid JSON")
		return
	}
	v1 := cleuraVersion(r) == "v1"
	method := in.Method
	if v1 {
		method = in.MethodV1
	}
	created := http.StatusCreated
	if v1 {
		created = http.StatusOK
	}
	s.mu.Lock()
	u := s.cleuraUser(in.Login)
	var answer map[string]any
	status := created
	switch {
	case u == nil || in.Password == "" || u.Password != in.Password:
		status = http.StatusUnauthorized
	case u.TwoFactor == "":
		answer = map[string]any{"result": "login_ok", "token": s.issueCleuraToken(u.Login)}
	default:
		options := u.Options
		if options == nil {
			options = []string{u.TwoFactor}
		}
		switch {
		case method == "" && len(options) > 1 && !v1:
			answer = map[string]any{"result": "twofactor_options", "options": options}
		case method != "" && !slices.Contains(options, method):
			status = http.StatusBadRequest
		default:
			factor := method
			if factor == "" {
				factor = u.TwoFactor
			}
			verification := newID()
			s.cleura.pending[verification] = &cleuraPending{login: u.Login, factor: factor}
			answer = map[string]any{"result": "twofactor_required", "type": factor, "verification": verification}
		}
	}
	s.mu.Unlock()
	switch status {
	case http.StatusUnauthorized:
		cleuraError(w, status, "Invalid login or password")
	case http.StatusBadRequest:
		cleuraBadRequest(w, "two_factor_method", "not offered for this account")
	default:
		writeJSON(w, status, answer)
	}
}

// handleCleuraRequestSMS is POST /auth/v2/request-sms-code
// {"login","verification","language_code"?} and POST
// /auth/v1/tokens/request2facode {"request2fa":{"login","verification"}}:
// 204, and the code is "sent" (SMSCode).
func (s *Server) handleCleuraRequestSMS(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Login        string `json:"login"`
		Verification string `json:"verification"`
		Language     string `json:"language_code"`
	}
	if err := decodeCleura(r, "request2fa", &in); err != nil {
		cleuraBadRequest(w, "body", "invalid JSON")
		return
	}
	s.mu.Lock()
	p := s.cleura.pending[in.Verification]
	ok := p != nil && p.login == in.Login && p.factor == "sms"
	if ok {
		p.code = smsCode()
		s.cleura.smsCodes[p.login] = p.code
	}
	s.mu.Unlock()
	if !ok {
		cleuraBadRequest(w, "verification", "unknown verification for this login")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// smsCode returns a random 6-digit code.
func smsCode() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(900000))
	return fmt.Sprint(100000 + n.Int64())
}

// handleCleuraVerify is POST /auth/v2/tokens-by-sms-code
// {"login","verification","code":<integer>} and POST
// /auth/v1/tokens/verify2fa {"verify2fa":{…}}: the token. A code sent as a
// string is a 400, as Cleura wants a number.
func (s *Server) handleCleuraVerify(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Login        string          `json:"login"`
		Verification string          `json:"verification"`
		Code         json.RawMessage `json:"code"`
	}
	if err := decodeCleura(r, "verify2fa", &in); err != nil {
		cleuraBadRequest(w, "body", "invalid JSON")
		return
	}
	var code json.Number
	d := json.NewDecoder(bytes.NewReader(in.Code))
	d.UseNumber()
	if len(in.Code) == 0 || in.Code[0] == '"' || d.Decode(&code) != nil {
		cleuraBadRequest(w, "code", "must be an integer")
		return
	}
	s.mu.Lock()
	p := s.cleura.pending[in.Verification]
	var tok string
	switch {
	case p == nil || p.login != in.Login || p.code == "":
	case code.String() == p.code:
		delete(s.cleura.pending, in.Verification)
		tok = s.issueCleuraToken(p.login)
	}
	s.mu.Unlock()
	switch {
	case tok != "" && cleuraVersion(r) == "v1":
		writeJSON(w, http.StatusOK, map[string]any{"result": "login_ok", "token": tok})
	case tok != "":
		writeJSON(w, http.StatusOK, map[string]any{"token": tok})
	default:
		cleuraError(w, http.StatusUnauthorized, "Invalid verification code")
	}
}

// cleuraCaller reports whether the request's X-AUTH-LOGIN and
// X-AUTH-TOKEN are valid, writing the 403 "Invalid token" when not.
func (s *Server) cleuraCaller(w http.ResponseWriter, r *http.Request) (login, tok string, ok bool) {
	login, tok = r.Header.Get("X-Auth-Login"), r.Header.Get("X-Auth-Token")
	s.mu.Lock()
	ok = s.cleuraValid(login, tok)
	s.mu.Unlock()
	if !ok {
		cleuraError(w, http.StatusForbidden, "Invalid token")
	}
	return login, tok, ok
}

// handleCleuraValidate is POST /auth/{v1,v2}/tokens/validate: 204 for a
// valid token, else 403 "Invalid token".
func (s *Server) handleCleuraValidate(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := s.cleuraCaller(w, r); ok {
		w.WriteHeader(http.StatusNoContent)
	}
}

// handleCleuraRevoke is DELETE /auth/{v1,v2}/tokens: logs the token out.
func (s *Server) handleCleuraRevoke(w http.ResponseWriter, r *http.Request) {
	_, tok, ok := s.cleuraCaller(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	s.cleura.tokens[tok].revoked = true
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// handleCleuraDomains is GET /accesscontrol/v1/openstack/domains: a sample
// list with the login's domain and its regions.
func (s *Server) handleCleuraDomains(w http.ResponseWriter, r *http.Request) {
	login, _, ok := s.cleuraCaller(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, []map[string]any{{
		"id":   "b3c1d2e4f5a64789a0b1c2d3e4f5a6b7",
		"name": login + "-domain",
		"area": map[string]any{"name": "Europe", "regions": []map[string]string{
			{"id": "Sto2", "status": "active"}, {"id": "Fra1", "status": "active"},
		}},
	}})
}
