package ksauth

// What a Session puts in a TokenStore: under which key, in which format,
// and how it is sealed.
//
// Key: "t1-" and the hex HMAC-SHA256, under the store's secret, of the
// identity alone (provider, auth URL, methods, user, scope, trust,
// application credential id or name; never a secret). A passcode is not
// part of it: a token obtained with a second factor is reused until it
// expires.
//
// Value: "KST1", a 12-byte nonce, then the entry sealed with AES-256-GCM
// (additional data: "KST1" and the key). Its key comes from HKDF-SHA256
// over the credential's own secrets (password, application credential
// secret), salted with the store's secret: without both, a dump of the
// store is useless, and a rotated password or secret opens no old entry
// (the GCM tag is the verifier). The sealed entry is JSON, storedEntry
// below, version 1; a reader refuses other versions.

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// storeMagic starts every value: the envelope's format and version.
const storeMagic = "KST1"

// storeEntryVersion is the version of storedEntry's JSON.
const storeEntryVersion = 1

// storable is an Authenticator whose tokens may be shared through a
// TokenStore: [*Keystone] and [*Cleura].
type storable interface {
	// storeIdentity names the tokens the authenticator obtains: identity
	// (no secret in it) and the secrets that prove it. ok false: its tokens
	// are not to be shared (a token exchange, a passcode alone, a receipt).
	storeIdentity() (identity []byte, secrets []string, ok bool)
}

// storeKeys are the store key and the sealing key of one identity.
type storeKeys struct {
	key     string
	aead    cipher.AEAD
	secrets []string // the credential's secrets, redacted from what a restored token prints
}

// deriveStoreKeys derives the keys of identity under the store's secret
// and the credential's secrets.
func deriveStoreKeys(storeSecret, identity []byte, secrets []string) (*storeKeys, error) {
	if len(storeSecret) < minStoreSecret {
		return nil, fmt.Errorf("ksauth: the token store's secret has %d bytes, fewer than %d", len(storeSecret), minStoreSecret)
	}
	mac := hmac.New(sha256.New, storeSecret)
	mac.Write([]byte("ksauth token store key v1\x00"))
	mac.Write(identity)
	key := "t1-" + hex.EncodeToString(mac.Sum(nil))

	var ikm []byte // each secret with its length, so ("ab","c") ≠ ("a","bc")
	for _, s := range secrets {
		ikm = binary.BigEndian.AppendUint32(ikm, uint32(len(s)))
		ikm = append(ikm, s...)
	}
	sealing, err := hkdf.Key(sha256.New, ikm, storeSecret, "ksauth token store entry v1\x00"+key, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(sealing)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &storeKeys{key: key, aead: aead, secrets: secrets}, nil
}

// seal encrypts plain into a store value.
func (k *storeKeys) seal(plain []byte) []byte {
	nonce := make([]byte, k.aead.NonceSize())
	_, _ = rand.Read(nonce)
	out := append([]byte(storeMagic), nonce...)
	return k.aead.Seal(out, nonce, plain, k.additionalData())
}

// errStoreEntry marks a value that cannot be used: tampered, truncated, of
// another version, or sealed for another secret. It is a miss.
var errStoreEntry = errors.New("unusable token store entry")

// open decrypts a store value.
func (k *storeKeys) open(value []byte) ([]byte, error) {
	n := len(storeMagic) + k.aead.NonceSize()
	if len(value) < n+k.aead.Overhead() || !bytes.HasPrefix(value, []byte(storeMagic)) {
		return nil, fmt.Errorf("%w: not a %s envelope", errStoreEntry, storeMagic)
	}
	plain, err := k.aead.Open(nil, value[len(storeMagic):n], value[n:], k.additionalData())
	if err != nil {
		return nil, fmt.Errorf("%w: it does not open with this credential and store secret", errStoreEntry)
	}
	return plain, nil
}

func (k *storeKeys) additionalData() []byte { return []byte(storeMagic + k.key) }

// storedEntry is a token as a TokenStore keeps it (sealed): what restoring
// it needs. Times are RFC 3339; durations are milliseconds.
type storedEntry struct {
	Version  int    `json:"version"`  // storeEntryVersion
	Provider string `json:"provider"` // "keystone" or "cleura"
	ID       string `json:"id"`       // the token
	// MarginMS is the token's local expiry minus the store TTL it was
	// written with: a reader's expiry is its now + the TTL left + this, so
	// that it is counted on the store's clock, not on the writer's.
	MarginMS   int64          `json:"margin_ms"`
	IssuedAt   time.Time      `json:"issued_at,omitzero"` // server clock
	LifetimeMS int64          `json:"lifetime_ms"`        // expires_at − issued_at, as the server said
	Methods    []string       `json:"methods"`
	User       storedUser     `json:"user"`
	Project    *storedScope   `json:"project,omitempty"`
	Domain     *storedDomain  `json:"domain,omitempty"`
	System     bool           `json:"system,omitempty"`
	IsDomain   bool           `json:"is_domain,omitempty"`
	Trust      *Trust         `json:"trust,omitempty"`
	Roles      []Role         `json:"roles,omitempty"`
	Catalog    Catalog        `json:"catalog,omitempty"`
	AuditIDs   []string       `json:"audit_ids,omitempty"`
	AppCred    *storedAppCred `json:"application_credential,omitempty"`
	AuthHost   string         `json:"auth_host"` // the host the token was obtained from: the session trusts it
}

type storedDomain struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

type storedUser struct {
	ID                string       `json:"id,omitempty"`
	Name              string       `json:"name,omitempty"`
	Domain            storedDomain `json:"domain"`
	PasswordExpiresAt time.Time    `json:"password_expires_at,omitzero"`
}

type storedScope struct {
	ID     string       `json:"id"`
	Name   string       `json:"name,omitempty"`
	Domain storedDomain `json:"domain"`
}

type storedAppCred struct {
	ID          string       `json:"id"`
	Name        string       `json:"name,omitempty"`
	Restricted  bool         `json:"restricted,omitempty"`
	AccessRules []AccessRule `json:"access_rules,omitempty"`
}

// storeEntryOf is tok as stored at now with a TTL of ttl.
func storeEntryOf(tok *Token, now time.Time, ttl time.Duration) *storedEntry {
	s := &storedEntry{Version: storeEntryVersion, Provider: "keystone", ID: tok.ID,
		IssuedAt: tok.IssuedAt, LifetimeMS: tok.lifetime.Milliseconds(), Methods: tok.Methods,
		User:   storedUser{tok.User.ID, tok.User.Name, storedDomain(tok.User.Domain), tok.User.PasswordExpiresAt},
		System: tok.System, IsDomain: tok.IsDomain, Trust: tok.Trust, Roles: tok.Roles, Catalog: tok.Catalog,
		AuditIDs: tok.AuditIDs, AuthHost: tok.authHost}
	if tok.kind == cleuraTokens {
		s.Provider = "cleura"
	}
	if !tok.ExpiresAt.IsZero() {
		s.MarginMS = (tok.ExpiresAt.Sub(now) - ttl).Milliseconds()
	}
	if p := tok.Project; p != nil {
		s.Project = &storedScope{p.ID, p.Name, storedDomain(p.Domain)}
	}
	if d := tok.Domain; d != nil {
		s.Domain = &storedDomain{d.ID, d.Name}
	}
	if ac := tok.ApplicationCredential; ac != nil {
		s.AppCred = &storedAppCred{ac.ID, ac.Name, ac.Restricted, ac.AccessRules}
	}
	return s
}

// token restores the stored token, now, with ttl left in the store.
func (s *storedEntry) token(now time.Time, ttl time.Duration, echoes []string) (*Token, error) {
	switch {
	case s.Version != storeEntryVersion:
		return nil, fmt.Errorf("%w: version %d", errStoreEntry, s.Version)
	case s.ID == "" || s.AuthHost == "":
		return nil, fmt.Errorf("%w: no token or auth host", errStoreEntry)
	case s.Provider != "keystone" && s.Provider != "cleura":
		return nil, fmt.Errorf("%w: provider %q", errStoreEntry, s.Provider)
	}
	tok := &Token{ID: s.ID, IssuedAt: s.IssuedAt, Methods: s.Methods,
		User:   User{s.User.ID, s.User.Name, Domain(s.User.Domain), s.User.PasswordExpiresAt},
		System: s.System, IsDomain: s.IsDomain, Trust: s.Trust, Roles: s.Roles, Catalog: s.Catalog, AuditIDs: s.AuditIDs,
		ExpiresAt: now.Add(ttl + time.Duration(s.MarginMS)*time.Millisecond),
		authHost:  s.AuthHost, lifetime: time.Duration(s.LifetimeMS) * time.Millisecond}
	if s.Provider == "cleura" {
		tok.kind = cleuraTokens
	}
	if p := s.Project; p != nil {
		tok.Project = &Project{p.ID, p.Name, Domain(p.Domain)}
	}
	if d := s.Domain; d != nil {
		tok.Domain = &Domain{d.ID, d.Name}
	}
	if ac := s.AppCred; ac != nil {
		tok.ApplicationCredential = &ApplicationCredentialRef{ac.ID, ac.Name, ac.Restricted, ac.AccessRules}
	}
	tok.echoes = echoedSecrets(tok, echoes)
	return tok, nil
}

// sealToken is tok's store value, at now, for a TTL of ttl.
func (k *storeKeys) sealToken(tok *Token, now time.Time, ttl time.Duration) ([]byte, error) {
	plain, err := json.Marshal(storeEntryOf(tok, now, ttl))
	if err != nil {
		return nil, err
	}
	return k.seal(plain), nil
}

// openToken restores the token of a store value with ttl left.
func (k *storeKeys) openToken(value []byte, now time.Time, ttl time.Duration) (*Token, error) {
	plain, err := k.open(value)
	if err != nil {
		return nil, err
	}
	var s storedEntry
	if err := json.Unmarshal(plain, &s); err != nil {
		return nil, fmt.Errorf("%w: %v", errStoreEntry, err)
	}
	return s.token(now, ttl, k.secrets)
}

// storeIdentity names k's tokens: the auth request without its secrets,
// the auth URL and NoCatalog. Not storable: a token exchange (its tokens
// cannot be renewed), a receipt (one login's), credentials whose only
// secret is a passcode, or credentials that do not validate.
func (k *Keystone) storeIdentity() ([]byte, []string, bool) {
	if k.validate() != nil || k.Receipt != "" {
		return nil, nil, false
	}
	u, err := parseAuthURL(k.AuthURL)
	if err != nil {
		return nil, nil, false
	}
	r := k.request()
	id := &r.Auth.Identity
	if id.Token != nil {
		return nil, nil, false
	}
	var secrets []string
	for _, m := range []*wireUserMethod{id.Password, id.TOTP} {
		if m != nil && m.User != nil {
			if m.User.Password != "" {
				secrets = append(secrets, m.User.Password)
			}
			m.User.Password, m.User.Passcode = "", ""
		}
	}
	if ac := id.ApplicationCredential; ac != nil {
		secrets = append(secrets, ac.Secret)
		ac.Secret = ""
	}
	if len(secrets) == 0 {
		return nil, nil, false
	}
	identity, err := json.Marshal(struct {
		Provider  string   `json:"provider"`
		AuthURL   string   `json:"auth_url"`
		NoCatalog bool     `json:"nocatalog"`
		Auth      wireAuth `json:"auth"`
	}{"keystone", u.String(), k.NoCatalog, r.Auth})
	return identity, secrets, err == nil
}

// storeIdentity names c's tokens: the REST API, its version and the login.
// The SMS code is not part of it.
func (c *Cleura) storeIdentity() ([]byte, []string, bool) {
	base, err := c.check()
	if err != nil {
		return nil, nil, false
	}
	identity, err := json.Marshal(struct {
		Provider string           `json:"provider"`
		BaseURL  string           `json:"base_url"`
		API      CleuraAPIVersion `json:"api"`
		Login    string           `json:"login"`
	}{"cleura", base.String(), c.api(), c.Login})
	return identity, []string{c.Password}, err == nil
}
