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
// Each takes the token to send as X-Auth-Token explicitly (auth), so a
// service can validate its users' tokens with its own.

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
func (k *Keystone) ValidateToken(ctx context.Context, auth *Token, subject string, opts *ValidateOptions) (*Token, error) {
	var query []string
	if opts != nil && opts.AllowExpired {
		query = append(query, "allow_expired=1")
	}
	if opts != nil && opts.NoCatalog {
		query = append(query, "nocatalog")
	}
	ex, err := k.subjectCall(ctx, http.MethodGet, auth, subject, strings.Join(query, "&"))
	if err != nil {
		return nil, err
	}
	if ex.status != http.StatusOK {
		return nil, ex.httpError(auth.ID, subject)
	}
	tok, err := ex.token(subject, false)
	if err != nil {
		return nil, err
	}
	tok.authHost = hostKey(ex.url)
	return tok, nil
}

// CheckToken reports whether subject is valid (HEAD /v3/auth/tokens): true on
// 200 or 204, false on 404, an error on anything else.
func (k *Keystone) CheckToken(ctx context.Context, auth *Token, subject string) (bool, error) {
	ex, err := k.subjectCall(ctx, http.MethodHead, auth, subject, "")
	if err != nil {
		return false, err
	}
	switch ex.status {
	case http.StatusOK, http.StatusNoContent:
		return true, nil
	case http.StatusNotFound:
		return false, nil
	}
	return false, ex.httpError(auth.ID, subject)
}

// RevokeToken revokes subject (DELETE /v3/auth/tokens). A token may revoke
// itself: pass auth.ID as subject.
func (k *Keystone) RevokeToken(ctx context.Context, auth *Token, subject string) error {
	ex, err := k.subjectCall(ctx, http.MethodDelete, auth, subject, "")
	if err != nil {
		return err
	}
	if ex.status != http.StatusNoContent && ex.status != http.StatusOK {
		return ex.httpError(auth.ID, subject)
	}
	return nil
}

func (k *Keystone) subjectCall(ctx context.Context, method string, auth *Token, subject, rawQuery string) (*exchange, error) {
	if subject == "" {
		return nil, invalid("subject", "empty token")
	}
	header := http.Header{"X-Subject-Token": {subject}}
	return k.tokenCall(ctx, method, auth, "auth/tokens", rawQuery, header)
}

// tokenCall sends a request to path under the v3 endpoint with auth as
// X-Auth-Token.
func (k *Keystone) tokenCall(ctx context.Context, method string, auth *Token, path, rawQuery string, header http.Header) (*exchange, error) {
	endpoint, err := k.Endpoint(ctx)
	if err != nil {
		return nil, err
	}
	u := endpoint.JoinPath(path)
	u.RawQuery = rawQuery
	return k.sendToken(ctx, method, auth, u, header)
}

func (k *Keystone) sendToken(ctx context.Context, method string, auth *Token, u *url.URL, header http.Header) (*exchange, error) {
	if !auth.Valid(time.Now()) {
		return nil, invalid("auth", "nil, empty or expired token")
	}
	if header == nil {
		header = http.Header{}
	}
	auth.SetHeaders(header)
	return k.caller().call(ctx, method, u, header, nil)
}

// Projects lists the projects tok's user may scope to (GET /v3/auth/projects).
// An unscoped token works: list, then exchange it with TokenExchange.
func (k *Keystone) Projects(ctx context.Context, tok *Token) ([]Project, error) {
	var out []Project
	err := k.list(ctx, tok, "auth/projects", func(raw json.RawMessage) error {
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

// Domains lists the domains tok's user may scope to (GET /v3/auth/domains).
func (k *Keystone) Domains(ctx context.Context, tok *Token) ([]Domain, error) {
	var out []Domain
	err := k.list(ctx, tok, "auth/domains", func(raw json.RawMessage) error {
		var page struct {
			Domains []Domain `json:"domains"`
		}
		err := json.Unmarshal(raw, &page)
		out = append(out, page.Domains...)
		return err
	})
	return out, err
}

// System reports whether tok's user may get a system-scoped token
// (GET /v3/auth/system).
func (k *Keystone) System(ctx context.Context, tok *Token) (bool, error) {
	var all bool
	err := k.list(ctx, tok, "auth/system", func(raw json.RawMessage) error {
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

// Catalog returns tok's service catalog (GET /v3/auth/catalog), e.g. for a
// token obtained with NoCatalog. Keystone refuses it for unscoped tokens
// (403, ErrForbidden).
func (k *Keystone) Catalog(ctx context.Context, tok *Token) (Catalog, error) {
	var out Catalog
	err := k.list(ctx, tok, "auth/catalog", func(raw json.RawMessage) error {
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

// list GETs path and each following page (links.next on the same host),
// handing every body to add.
func (k *Keystone) list(ctx context.Context, tok *Token, path string, add func(json.RawMessage) error) error {
	endpoint, err := k.Endpoint(ctx)
	if err != nil {
		return err
	}
	for u, page := endpoint.JoinPath(path), 1; u != nil; page++ {
		if page > maxPages {
			return &ResponseError{Method: http.MethodGet, URL: safeURL(u), Reason: fmt.Sprintf("more than %d pages", maxPages)}
		}
		ex, err := k.sendToken(ctx, http.MethodGet, tok, u, nil)
		if err != nil {
			return err
		}
		if ex.status != http.StatusOK {
			return ex.httpError(tok.ID)
		}
		if err := add(ex.body); err != nil {
			return ex.responseError("malformed JSON body", err)
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
	if err != nil || hostKey(next) != hostKey(ex.url) || !strings.EqualFold(next.Scheme, ex.url.Scheme) {
		return nil, ex.responseError("links.next points elsewhere", err)
	}
	return next, nil
}
