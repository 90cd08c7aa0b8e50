// Package ksauth authenticates Go programs to OpenStack Keystone v3 and keeps
// them authenticated: an [Authenticator] obtains a [Token] (its ID, expiry,
// scope, roles and service catalog), a [Session] caches and refreshes it, and
// a [Transport] puts it on every request.
//
// # Authentication
//
// [Keystone] posts to /v3/auth/tokens. Give it the identity endpoint and a
// [Credential]: [Password], [ApplicationCredential], [TokenExchange] (rescope
// an existing token), [TOTP], or several of them in a [MultiFactor]; and
// optionally a [Scope]: [ProjectScope], [DomainScope], [SystemScope],
// [TrustScope] or [Unscoped]. A nil Scope lets Keystone pick (the user's
// default project, if any).
//
//	k := &ksauth.Keystone{
//		AuthURL:     "https://keystone.example.com:5000",
//		Credentials: ksauth.ApplicationCredential{ID: id, Secret: secret},
//	}
//	tok, err := k.Authenticate(ctx)
//
// Credentials and scopes are checked before anything is sent; a mistake is a
// [*ValidationError] naming the field. The AuthURL may be the server root,
// the /v3 endpoint, or either under a path prefix such as /identity: a URL
// that does not end in /v3 goes through version discovery once.
//
// When a user's multi-factor rules need more than was sent, Keystone answers
// with a receipt, returned as [*MFARequiredError]. Set [Keystone.Passcode] and
// the login continues by itself with a TOTP passcode.
//
// With a token in hand, [Keystone.ValidateToken], [Keystone.CheckToken] and
// [Keystone.RevokeToken] manage tokens, and [Keystone.Projects],
// [Keystone.Domains], [Keystone.System] and [Keystone.Catalog] say what a
// token's user can scope to. [Catalog.Endpoint] finds a service URL by type
// (with the os-service-types aliases), name, region and interface.
//
// Errors from the server are [*HTTPError]s that match [ErrUnauthorized],
// [ErrForbidden], [ErrNotFound], [ErrRateLimited], [ErrBadRequest] and
// [ErrServer] with [errors.Is]. A response ksauth cannot use is a
// [*ResponseError]; a request that got no response, a [*RequestError].
//
// # Security
//
// Secrets (passwords, application-credential secrets, passcodes, token IDs,
// receipts) never appear in an error string, a log record, or the fmt output
// of any ksauth value: tokens print as a SHA-256 fingerprint
// ("sha256:1a2b3c4d"), credentials print their secret fields as REDACTED, and
// server messages are redacted of anything shaped like a Keystone token.
//
// Plain http:// is refused ([ErrInsecureTransport]) except to a loopback
// address, unless AllowInsecureHTTP is set. TLS verification is never turned
// off by ksauth. ksauth's own requests refuse redirects to another host, so
// credentials and tokens stay on the host they were meant for. Every response
// body is read with a 1 MiB limit.
package ksauth
