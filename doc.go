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
// A Keystone is a plain value: copy it to change its Scope. [Keystone.Versions]
// checks that the identity API answers, and [Keystone.IdentityURL] says which
// v3 endpoint the AuthURL leads to.
//
// With a [TokenSource] (a [*Token], or a [*Session] so that the caller's own
// token is renewed and a 401 re-authenticates once), [Keystone.ValidateToken],
// [Keystone.CheckToken] and [Keystone.RevokeToken] manage tokens, and
// [Keystone.Projects], [Keystone.Domains], [Keystone.CanScopeToSystem] and
// [Keystone.Catalog] say what a token's user can scope to.
// [Catalog.Endpoint] finds a service URL by type (with the os-service-types
// aliases, as keystoneauth1 matches them), name, region and interface.
//
// The same way, [Keystone.CreateApplicationCredential] and its siblings
// manage a user's application credentials and access rules, and
// [Keystone.CreateEC2Credential] and its siblings the EC2/S3 key pairs
// object storage takes. A created application credential logs in through
// [ApplicationCredentialInfo.Credential], or from a clouds.yaml entry that
// [ApplicationCredentialInfo.CloudsYAML] writes; its secret is masked
// wherever it is printed. Keystone's refusals of these calls carry a Hint
// saying how to log in instead.
//
// [Cleura] logs in to Cleura Cloud's REST API, which is not Keystone: a
// login and password, then an SMS code from [Cleura.TwoFactor] when the
// account has a second factor ([PromptTwoFactor] asks on a terminal). Its
// tokens go in X-AUTH-LOGIN and X-AUTH-TOKEN, are renewed on a 401 or a 403
// "Invalid token", and are taken to live [Cleura.MaxAge], since Cleura
// sends no expiry. The Session and Transport treat both kinds alike.
//
// Errors from the server are [*HTTPError]s that match [ErrUnauthorized],
// [ErrForbidden], [ErrNotFound], [ErrRateLimited], [ErrBadRequest] and
// [ErrServer] with [errors.Is]. A response ksauth cannot use is a
// [*MalformedResponseError]; a request that got no response, a
// [*RequestSendError]. Both say how many attempts were made when retries ran
// out, and their Temporary methods agree with what [RetryPolicy] retries. A
// 401 whose re-authentication failed is a [*ReauthError] carrying both.
//
// # Configuration
//
// [LoadConfig] turns a clouds.yaml entry, an OpenRC environment (the OS_*
// variables) or a provider's explicit [Settings] into a [Config] whose
// Keystone is ready to authenticate, resolved as openstacksdk resolves
// them; [Config.NewSession] returns a Session whose Client uses the
// configured CA, client certificate and verification. An entry whose
// auth_type is [AuthTypeCleura] sets Config.Cleura instead of Keystone.
// Mistakes are [*ConfigError]s naming the file, the cloud and the field.
//
// # Refresh and retries
//
// A [Session] caches the token of any [Authenticator] and renews it before it
// expires: once less than min(ExpireEarly, lifetime/2) is left, widened at
// random by up to a tenth so that many clients do not refresh in step.
// ExpireEarly defaults to 3 minutes ([DefaultExpireEarly]): a 1-hour Keystone
// token is renewed 3 to 3.3 minutes before it expires, a 10-second one after
// 4.5 to 5 seconds. The lifetime is measured on the local clock from the
// moment the token arrived, so a client clock that is hours off changes
// nothing. Inside that window the current token is still served while one
// refresh runs in the background; if that fails it is tried again after 1 s,
// 2 s, 4 s, ... (at most 1 minute apart, each wait taken at random from its
// upper half), and its error reaches callers only once the token has really
// expired. A token is fresh only while both the monotonic and the wall clock
// say so, so a machine that slept past the expiry does not serve it. [SessionOptions].DisableBackgroundRefresh
// makes callers wait for the refresh instead. A token without an expiry is
// renewed only when a server rejects it. A token obtained by [TokenExchange]
// cannot outlive its source: the session does not renew it early, and at its
// expiry returns an [*ExpiredTokenError] saying so. Each authentication is
// bounded by RefreshTimeout (default 1 minute, [DefaultRefreshTimeout]).
//
// A [Transport] puts the token on requests. When a server answers 401 it
// drops that token from the session, waits for the renewed one and resends
// the request once, if its body can be sent again (nil, [http.NoBody] or
// GetBody, which [http.NewRequest] sets for in-memory bodies); a second 401,
// or a 401 to a request whose body cannot be replayed, is returned as it is.
// A service that rejects every token cannot make the session hammer Keystone:
// a token rejected within 30 s of arriving, after it replaced another
// rejected one, is replaced only after a back-off (about 1 s, 2 s, 4 s, ...
// up to 5 minutes), the 401 being returned meanwhile; a token that had been
// working for a while is replaced at once, as a revocation needs.
//
// Requests the server could not serve yet are retried as [RetryPolicy] says
// (nil: the defaults), both by a Transport and by [Keystone]'s own requests.
// At most 4 attempts ([DefaultMaxAttempts]); 429 and 503 for any method, 502
// and 504 for idempotent methods only, and failures to get a response for
// idempotent methods or when the connection was never made. The wait is the
// server's Retry-After (seconds or an HTTP date; X-Retry-After as a
// fallback). A server asking for more than MaxRetryAfter (default 60 s,
// [DefaultMaxRetryAfter]) gets its response returned at once, and so does one
// whose wait would outlast the request context's deadline. Without
// Retry-After the wait is full-jitter exponential backoff: random in
// [0, min(20 s, 0.5 s·2ⁿ⁻¹)) before attempt n+1 ([DefaultBackoffBase],
// [DefaultBackoffMax]). Waits end when the request's context is done; when
// attempts run out, the last response is returned. Bodies are replayed with
// GetBody, never resent empty. &RetryPolicy{MaxAttempts: 1} turns retries off.
//
// # Logging
//
// Keystone, Session and Transport take a *slog.Logger (nil: silent; a
// Transport without one uses its Session's). Records never hold a secret:
// tokens appear as fingerprints. Levels:
//
//   - Warn: "ksauth: token refresh failed", for the first failure of a
//     streak, while the current token may still work; an operator sees it
//     before the token expires.
//   - Info: "ksauth: token refreshed" when it ends a failure streak
//     (failures_before says how long the streak was).
//   - Warn: "ksauth: token store unavailable; logging in without it", once
//     per outage of a [TokenStore]; Info "ksauth: token store reachable
//     again" when it ends.
//   - Debug: every other refresh and failure, invalidations, retries and
//     their waits, version discovery, redirects sent without the token,
//     tokens taken from or put in the store, store entries not used.
//
// # Sharing tokens between processes
//
// With [SessionOptions.Store], sessions in many processes share one token
// per identity: [FileStore] on one machine (a cron job, a CLI, a credential
// helper), the redisstore module (github.com/ksauth/ksauth/redisstore) for
// a fleet. A session reads the store only when it has no token or its
// token is due, so the fast path is unchanged; when the store has none,
// one process logs in (holding the store's lock) while the others wait
// for its token, at most [SessionOptions.StoreWait]. A token a server
// rejects is removed from the store (compare-and-delete: never the newer
// token another process stored), so a 401 retires it everywhere with one
// login. The store never makes a request fail.
//
// What the store holds reveals nothing without two secrets: entry keys are
// HMAC-SHA256 hashes, under the store's secret, of the identity only (auth
// URL, methods, user, scope, trust, application credential; no secret, no
// passcode), and entries are sealed with AES-256-GCM under a key derived
// (HKDF) from the store's secret and the credential's own secret, so a
// rotated password or secret is a miss, not a stale token. A tampered,
// truncated or foreign entry is a miss too.
//
// # Concurrency
//
// Sessions, Transports and Keystone authenticators are safe for concurrent
// use: share one Session per identity across the program. Reading the cached
// token takes no lock and allocates nothing. However many goroutines need a
// new token at once (at start-up, after expiry, or because a thousand
// requests got a 401 for the same token) exactly one authentication runs, and
// all of them share its result; a 401 for a token that has already been
// replaced causes none, because [Session.Invalidate] drops a token only if it
// is still the current one. The shared authentication runs on a context
// detached from the callers' cancellation (it keeps their values) and bounded
// by RefreshTimeout, so one caller giving up does not fail the others, while
// each caller still returns as soon as its own context is done.
//
// # Security
//
// Secrets (passwords, application-credential secrets, passcodes, token IDs,
// receipts) never appear in an error string, a log record, or the fmt output
// of any ksauth value, as a value or a pointer, nested in a struct, with any
// verb, with slog's text or JSON handler, or through encoding/json: tokens
// print as a SHA-256 fingerprint ("sha256:1a2b3c4d"), credentials and
// Keystone print their secret fields as REDACTED and URLs without user info.
// Every string a server sends that reaches an error, a log record or fmt
// output (message, title, request id, multi-factor method names, a
// malformed value, a redirect's or a next page's URL and host, what net/http
// quotes of a malformed status line or header, a token's fields) is
// redacted of the request's secrets, escaped or not, and of anything shaped
// like a Keystone token; a multi-factor login's second answer is redacted of
// the first request's secrets too. Values are quoted only as short
// excerpts. This holds for the typed errors errors.As finds in the chain,
// *url.Error included. Three cases are out of any library's reach: fmt prints
// a value held in an unexported field of your struct without calling its
// methods, so keep credentials in exported fields or out of printed
// structs; %s or %q of a struct with a field pointing to another of
// your structs makes fmt report a bad verb and dump what it points to,
// calling no method inside (print such structs with %v or %+v); and an
// [net/http.Client]'s own error quotes the URL of the request it was sending
// (a redirect's target, as the server wrote it).
//
// Plain http:// is refused ([ErrInsecureTransport]) except to a loopback
// address, unless AllowInsecureHTTP is set. TLS verification is never turned
// off by ksauth. ksauth's own requests refuse redirects to another host or
// scheme, and version discovery never moves to another host, so credentials
// stay on the AuthURL's host. A [Transport] sends the token only to the host
// it came from, the hosts in its catalog and [Transport.AllowedHosts]
// ([ErrUntrustedHost] otherwise); a redirect to any other host goes out
// without it. Every response body is read with a 1 MiB limit.
package ksauth
