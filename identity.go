package ksauth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Calls made with a token, against the same Keystone as the authenticator.
// Each takes the source of the token to send as X-Auth-Token (src): a
// *Session, so that a long-running service validating its users' tokens
// survives the expiry and revocation of its own, or a fixed *Token.

// TokenSource provides the token an identity call sends: a [*Session]
// (renewed as needed) or a [*Token] (fixed). When Keystone rejects the token
// with a 401 and the source also has an Invalidate(*Token) bool method, as
// a Session does, the token is invalidated and the call is sent once more
// with the renewed one.
type TokenSource interface {
	Token(ctx context.Context) (*Token, error)
}

// invalidator is a TokenSource that can drop a rejected token.
type invalidator interface {
	Invalidate(failed *Token) bool
}

// ValidateOptions tunes [Keystone.ValidateToken]. nil means the zero value.
type ValidateOptions struct {
	// AllowExpired also validates a token that expired recently
	// (?allow_expired=1; needs the service role). Revoked tokens stay invalid.
	AllowExpired bool
	// NoCatalog leaves the catalog out of the answer (?nocatalog).
	NoCatalog bool
}

// ValidateToken asks Keystone about subject (GET /v3/auth/tokens) and returns
// it as a Token. An expired, revoked or garbage subject is an *HTTPError
// matching ErrNotFound.
func (k *Keystone) ValidateToken(ctx context.Context, src TokenSource, subject string, opts *ValidateOptions) (*Token, error) {
	var query []string
	if opts != nil && opts.AllowExpired {
		query = append(query, "allow_expired=1")
	}
	if opts != nil && opts.NoCatalog {
		query = append(query, "nocatalog")
	}
	ex, err := k.subjectCall(ctx, http.MethodGet, src, subject, strings.Join(query, "&"))
	if err != nil {
		return nil, err
	}
	if ex.status != http.StatusOK {
		return nil, ex.httpError()
	}
	tok, err := ex.validatedToken(subject)
	if err != nil {
		return nil, err
	}
	tok.authHost = hostKey(ex.url)
	return tok, nil
}

// CheckToken reports whether subject is valid (HEAD /v3/auth/tokens): true on
// 200 or 204, false on 404, an error on anything else.
func (k *Keystone) CheckToken(ctx context.Context, src TokenSource, subject string) (bool, error) {
	ex, err := k.subjectCall(ctx, http.MethodHead, src, subject, "")
	if err != nil {
		return false, err
	}
	switch ex.status {
	case http.StatusOK, http.StatusNoContent:
		return true, nil
	case http.StatusNotFound:
		return false, nil
	}
	return false, ex.httpError()
}

// RevokeToken revokes subject (DELETE /v3/auth/tokens). A token may revoke
// itself: pass its ID as subject.
func (k *Keystone) RevokeToken(ctx context.Context, src TokenSource, subject string) error {
	ex, err := k.subjectCall(ctx, http.MethodDelete, src, subject, "")
	if err != nil {
		return err
	}
	if ex.status != http.StatusNoContent && ex.status != http.StatusOK {
		return ex.httpError()
	}
	return nil
}

func (k *Keystone) subjectCall(ctx context.Context, method string, src TokenSource, subject, rawQuery string) (*exchange, error) {
	if subject == "" {
		return nil, invalid("subject", "empty token")
	}
	endpoint, _, err := k.endpoint(ctx)
	if err != nil {
		return nil, err
	}
	u := endpoint.JoinPath("auth", "tokens")
	u.RawQuery = rawQuery
	header := http.Header{"X-Subject-Token": {subject}, accessRulesHeader: {accessRulesVersion}}
	return k.sendToken(ctx, method, src, u, header, nil, subject)
}

// accessRulesHeader tells Keystone that the caller understands access rules,
// as keystonemiddleware does: without it a token from an application
// credential with access rules does not validate (404).
const (
	accessRulesHeader  = "Openstack-Identity-Access-Rules"
	accessRulesVersion = "1.0"
)

// sendToken sends a request to u with src's token as X-Auth-Token, and body
// (JSON) when not nil. A 401 that rejects the token invalidates it (if src
// can) and the request is sent once more with the renewed one; a failure to
// renew it is a *ReauthError. secrets are redacted from whatever the server
// echoes. The exchange records the token it was sent with.
func (k *Keystone) sendToken(ctx context.Context, method string, src TokenSource, u *url.URL, header http.Header, body []byte, secrets ...string) (*exchange, error) {
	if src == nil || isNilPointer(src) {
		return nil, invalid("src", "nil TokenSource")
	}
	var ex *exchange
	var sent *Token
	for attempt := 1; attempt <= 2; attempt++ {
		tok, err := src.Token(ctx)
		switch {
		case err != nil && sent != nil: // the renewal after a 401 failed
			return nil, &ReauthError{Method: method, URL: safeURL(u), StatusCode: ex.status, Err: err}
		case err != nil:
			return nil, err
		case !tok.Valid(time.Now()):
			return nil, invalid("src", "nil, empty or expired token")
		case tok == sent: // not renewed: the 401 stands
			return ex, nil
		}
		h := header.Clone()
		if h == nil {
			h = http.Header{}
		}
		tok.SetHeaders(h)
		if ex, err = k.caller().call(ctx, method, u, h, body, append(secrets, tok.ID)...); err != nil {
			return nil, err
		}
		ex.token = tok
		inv, ok := src.(invalidator)
		if !ex.rejectsToken() || !ok || !inv.Invalidate(tok) {
			return ex, nil
		}
		sent = tok
	}
	return ex, nil
}

// rejectsToken reports whether the response is a 401 about the token. One
// 401 is not: Keystone's answer to an unknown EC2 access key.
func (ex *exchange) rejectsToken() bool {
	return ex.status == http.StatusUnauthorized && !unknownEC2Key(ex.status, ex.keystoneMessage())
}

// Projects lists the projects the token's user may scope to (GET /v3/auth/projects).
// An unscoped token works: list, then exchange it with TokenExchange.
func (k *Keystone) Projects(ctx context.Context, src TokenSource) ([]Project, error) {
	var out []Project
	err := k.list(ctx, src, "auth/projects", func(raw json.RawMessage) error {
		var page struct {
			Projects []struct {
				ID       string `json:"id"`
				Name     string `json:"name"`
				DomainID string `json:"domain_id"`
			} `json:"projects"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return err
		}
		for _, p := range page.Projects {
			out = append(out, Project{ID: p.ID, Name: p.Name, Domain: Domain{ID: p.DomainID}})
		}
		return nil
	})
	return out, err
}

// Domains lists the domains the token's user may scope to (GET /v3/auth/domains).
func (k *Keystone) Domains(ctx context.Context, src TokenSource) ([]Domain, error) {
	var out []Domain
	err := k.list(ctx, src, "auth/domains", func(raw json.RawMessage) error {
		var page struct {
			Domains []Domain `json:"domains"`
		}
		err := json.Unmarshal(raw, &page)
		out = append(out, page.Domains...)
		return err
	})
	return out, err
}

// CanScopeToSystem reports whether the token's user may get a system-scoped
// token (GET /v3/auth/system).
func (k *Keystone) CanScopeToSystem(ctx context.Context, src TokenSource) (bool, error) {
	var all bool
	err := k.list(ctx, src, "auth/system", func(raw json.RawMessage) error {
		var page struct {
			System []struct{ All bool } `json:"system"`
		}
		err := json.Unmarshal(raw, &page)
		for _, s := range page.System {
			all = all || s.All
		}
		return err
	})
	return all, err
}

// Catalog returns the token's service catalog (GET /v3/auth/catalog), e.g.
// for a token obtained with NoCatalog. Keystone refuses it for unscoped
// tokens (403, ErrForbidden).
func (k *Keystone) Catalog(ctx context.Context, src TokenSource) (Catalog, error) {
	var out Catalog
	err := k.list(ctx, src, "auth/catalog", func(raw json.RawMessage) error {
		var page struct {
			Catalog Catalog `json:"catalog"`
		}
		err := json.Unmarshal(raw, &page)
		out = append(out, page.Catalog...)
		return err
	})
	return out, err
}

// maxPages bounds how many "next" links a listing follows.
const maxPages = 100

// list GETs path (under the v3 endpoint) and each following page.
func (k *Keystone) list(ctx context.Context, src TokenSource, path string, add func(json.RawMessage) error) error {
	endpoint, _, err := k.endpoint(ctx)
	if err != nil {
		return err
	}
	return k.listFrom(ctx, src, endpoint.JoinPath(path), nil, add)
}

// listFrom GETs u and each following page (links.next on the same host),
// handing every body to add. hint explains a refusal (nil: none).
func (k *Keystone) listFrom(ctx context.Context, src TokenSource, u *url.URL, hint hinter, add func(json.RawMessage) error) error {
	for page := 1; u != nil; page++ {
		if page > maxPages {
			return &MalformedResponseError{Method: http.MethodGet, URL: safeURL(u), Reason: fmt.Sprintf("more than %d pages", maxPages)}
		}
		ex, err := k.sendToken(ctx, http.MethodGet, src, u, nil, nil)
		if err != nil {
			return err
		}
		if ex.status != http.StatusOK {
			return ex.httpErrorWith(hint)
		}
		if err := add(ex.body); err != nil {
			return ex.malformed("malformed JSON body", err)
		}
		if u, err = ex.nextLink(); err != nil {
			return err
		}
	}
	return nil
}

// nextLink returns the links.next URL of a listing, nil when there is none.
// A next link to another host is refused: the token would go with it.
func (ex *exchange) nextLink() (*url.URL, error) {
	var page struct {
		Links struct {
			Next *string `json:"next"`
		} `json:"links"`
	}
	if json.Unmarshal(ex.body, &page) != nil || page.Links.Next == nil || *page.Links.Next == "" {
		return nil, nil
	}
	next, err := ex.url.Parse(*page.Links.Next)
	if err != nil || !sameHost(next, ex.url) {
		return nil, ex.malformed("links.next points elsewhere", err)
	}
	return next, nil
}
