package ksauth

// EC2 credentials: the key pairs S3- and EC2-compatible APIs (Swift's s3api,
// Ceph's radosgw) take, under /v3/users/{user_id}/credentials/OS-EC2.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// EC2Credential is an EC2/S3 key pair of a user on a project. Keystone
// shows the Secret in every answer, listings included.
type EC2Credential struct {
	Access    string // the access key, also the credential's ID in the OS-EC2 calls
	Secret    string // the secret key, a secret: fmt, slog and encoding/json mask it
	UserID    string
	ProjectID string // Keystone's tenant_id
	TrustID   string // "" unless it was created with a trust-scoped token
}

// masked is a copy without methods, the secret replaced.
func (c EC2Credential) masked() any {
	type ec2Credential EC2Credential
	c.Secret = mask(c.Secret)
	return ec2Credential(c)
}

// Format prints the credential with the secret replaced.
func (c EC2Credential) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c.masked()) }

// LogValue shows the credential in slog records as Format does.
func (c EC2Credential) LogValue() slog.Value { return redactedLogValue(c) }

// MarshalJSON encodes the credential with the secret masked.
func (c EC2Credential) MarshalJSON() ([]byte, error) { return json.Marshal(c.masked()) }

type wireEC2 struct {
	Access   string  `json:"access"`
	Secret   string  `json:"secret"`
	UserID   string  `json:"user_id"`
	TenantID string  `json:"tenant_id"`
	TrustID  *string `json:"trust_id"`
}

func (w *wireEC2) credential() EC2Credential {
	return EC2Credential{Access: w.Access, Secret: w.Secret, UserID: w.UserID, ProjectID: w.TenantID, TrustID: deref(w.TrustID)}
}

// CreateEC2Credential creates an EC2 key pair for userID ("": the token's
// user) on projectID ("": the token's project) (POST
// /v3/users/{user_id}/credentials/OS-EC2). Keystone wants a token from a
// password (or other direct) login: one from an application credential or
// a trust gets a 403 whose Hint says so; so does a user without the member
// role on the project.
func (k *Keystone) CreateEC2Credential(ctx context.Context, src TokenSource, userID, projectID string) (*EC2Credential, error) {
	if projectID == "" {
		tok, err := validToken(ctx, src)
		if err != nil {
			return nil, err
		}
		if tok.Project == nil || tok.Project.ID == "" {
			return nil, invalid("projectID", "empty, and the token is not scoped to a project")
		}
		projectID = tok.Project.ID
	}
	u, err := k.userURL(ctx, src, userID, "credentials", "OS-EC2")
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(map[string]string{"tenant_id": projectID})
	if err != nil {
		return nil, fmt.Errorf("ksauth: encoding the EC2 credential: %w", err)
	}
	return k.ec2Member(ctx, http.MethodPost, src, u, body, http.StatusCreated)
}

// EC2Credentials lists the EC2 credentials of userID ("": the token's
// user), secrets included (GET /v3/users/{user_id}/credentials/OS-EC2).
func (k *Keystone) EC2Credentials(ctx context.Context, src TokenSource, userID string) ([]EC2Credential, error) {
	u, err := k.userURL(ctx, src, userID, "credentials", "OS-EC2")
	if err != nil {
		return nil, err
	}
	var out []EC2Credential
	err = k.listFrom(ctx, src, u, ec2Hint, func(raw json.RawMessage) error {
		var page struct {
			Credentials []wireEC2 `json:"credentials"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return err
		}
		for _, w := range page.Credentials {
			out = append(out, w.credential())
		}
		return nil
	})
	return out, err
}

// GetEC2Credential returns the EC2 credential of userID ("": the token's
// user) with access key access (GET
// /v3/users/{user_id}/credentials/OS-EC2/{access}). An unknown key is an
// *HTTPError matching ErrNotFound, whether Keystone answers 404 or, as
// some releases do, 401 "EC2 access key not found" (which leaves the
// token alone: it was not the token that failed).
func (k *Keystone) GetEC2Credential(ctx context.Context, src TokenSource, userID, access string) (*EC2Credential, error) {
	u, err := k.memberURL(ctx, src, userID, "access", access, "credentials", "OS-EC2")
	if err != nil {
		return nil, err
	}
	return k.ec2Member(ctx, http.MethodGet, src, u, nil, http.StatusOK)
}

// DeleteEC2Credential deletes the EC2 credential of userID ("": the
// token's user) with access key access (DELETE
// /v3/users/{user_id}/credentials/OS-EC2/{access}). An unknown key matches
// ErrNotFound, as for GetEC2Credential.
func (k *Keystone) DeleteEC2Credential(ctx context.Context, src TokenSource, userID, access string) error {
	return k.deleteUserResource(ctx, src, userID, ec2Hint, "access", access, "credentials", "OS-EC2")
}

// ec2Member sends one OS-EC2 request whose answer is {"credential": …}.
func (k *Keystone) ec2Member(ctx context.Context, method string, src TokenSource, u *url.URL, body []byte, want int) (*EC2Credential, error) {
	var out struct {
		Credential *wireEC2 `json:"credential"`
	}
	if err := k.sendJSON(ctx, method, src, u, body, want, ec2Hint, &out); err != nil {
		return nil, err
	}
	if out.Credential == nil || out.Credential.Access == "" || out.Credential.Secret == "" {
		return nil, &MalformedResponseError{Method: method, URL: safeURL(u), StatusCode: want, Reason: "an EC2 credential without an access key or a secret"}
	}
	c := out.Credential.credential()
	return &c, nil
}

// ec2Hint explains Keystone's refusals of OS-EC2 calls.
func ec2Hint(e *HTTPError, tok *Token) string {
	if e.StatusCode != http.StatusForbidden {
		return ""
	}
	switch msg := e.Message; {
	case strings.Contains(msg, "Delegated tokens") || tok.delegated():
		return "EC2 credentials need a token from a password login, not one from an application credential or a trust: authenticate with a password"
	case strings.Contains(msg, "identity:ec2_"):
		return "Keystone's policy lets a user manage only its own EC2 credentials (newer releases: with the member role on the project), and an admin anyone's"
	}
	return ""
}

// delegated reports whether t acts for someone by delegation (an
// application credential, a trust, OAuth 1), which Keystone does not let
// manage EC2 credentials.
func (t *Token) delegated() bool {
	if t == nil {
		return false
	}
	return t.ApplicationCredential != nil || t.Trust != nil ||
		slices.Contains(t.Methods, "application_credential") || slices.Contains(t.Methods, "oauth1")
}

// unknownEC2Key reports Keystone's 401 to an EC2 access key it does not
// know: status and error.message of its answer.
func unknownEC2Key(status int, message string) bool {
	return status == http.StatusUnauthorized && strings.Contains(message, "EC2 access key not found")
}
