package ksauth

// Version discovery: from an AuthURL that does not end in /v3 to the v3
// endpoint, shared by every caller (one lookup at a time per AuthURL and
// HTTPClient, which each caller can abandon on its own context), and the
// availability check Versions.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"weak"
)

const (
	// discoveryTimeout bounds one shared discovery.
	discoveryTimeout = time.Minute
	// unreachableRetry is how long a discovery that failed for a passing
	// reason (unreachable, 429, 5xx) is remembered before the next caller
	// tries again.
	unreachableRetry = 5 * time.Second
	// maxDiscoveries bounds the cache.
	maxDiscoveries = 256
)

// discoveryKey identifies a discovery: the same AuthURL through another
// client may reach another server (a proxy, a mock). A weak pointer never
// matches a later client that reuses a collected one's address.
type discoveryKey struct {
	authURL string
	client  weak.Pointer[http.Client]
}

// discoveryFlight is one discovery; done is closed once endpoint and err
// are set.
type discoveryFlight struct {
	done     chan struct{}
	finished atomic.Bool // set before done is closed; read by the cache without touching done
	endpoint *url.URL    // the v3 endpoint found, or the AuthURL + "/v3" fallback
	err      error       // why discovery failed, when endpoint is the fallback
	retryAt  time.Time   // zero: the result stands; else discover again from then
}

var discoveries = struct {
	sync.Mutex
	m map[discoveryKey]*discoveryFlight
}{m: make(map[discoveryKey]*discoveryFlight)}

// endpoint returns the v3 endpoint k.AuthURL leads to and, when that is only
// the AuthURL + "/v3" fallback, why discovery failed.
func (k *Keystone) endpoint(ctx context.Context) (u *url.URL, discoveryErr, err error) {
	if u, err = parseAuthURL(k.AuthURL); err != nil {
		return nil, nil, err
	}
	if err = checkScheme(u, k.AllowInsecureHTTP); err != nil || isV3Path(u.Path) {
		return u, nil, err
	}
	f := k.discoveryFlight(ctx, u)
	select {
	case <-f.done:
		copied := *f.endpoint
		return &copied, f.err, nil
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
}

// discoveryFlight returns the discovery for k, starting one if there is
// none or the last one failed to reach the server a while ago.
func (k *Keystone) discoveryFlight(ctx context.Context, base *url.URL) *discoveryFlight {
	key := discoveryKey{k.AuthURL, weak.Make(k.HTTPClient)}
	discoveries.Lock()
	defer discoveries.Unlock()
	if f := discoveries.m[key]; f != nil && !f.stale(time.Now()) {
		return f
	}
	evictDiscoveries()
	f := &discoveryFlight{done: make(chan struct{})}
	discoveries.m[key] = f
	go f.run(context.WithoutCancel(ctx), k.caller(), base)
	return f
}

// stale reports a finished discovery that should be tried again.
func (f *discoveryFlight) stale(now time.Time) bool {
	return f.finished.Load() && !f.retryAt.IsZero() && !now.Before(f.retryAt)
}

// evictDiscoveries makes room in a full cache: stale entries go first, then
// any finished one. The lock is held.
func evictDiscoveries() {
	if len(discoveries.m) < maxDiscoveries {
		return
	}
	now := time.Now()
	for key, f := range discoveries.m {
		if f.stale(now) {
			delete(discoveries.m, key)
		}
	}
	for key, f := range discoveries.m {
		if len(discoveries.m) < maxDiscoveries {
			return
		}
		if f.finished.Load() {
			delete(discoveries.m, key)
		}
	}
}

// run discovers, detached from the caller that started it and bounded by
// discoveryTimeout. A server that could not be reached, or answered 429 or
// 5xx, is asked again after unreachableRetry; any other failure means the
// fallback for good.
func (f *discoveryFlight) run(ctx context.Context, c caller, base *url.URL) {
	defer close(f.done)
	defer f.finished.Store(true)
	ctx, cancel := context.WithTimeout(ctx, discoveryTimeout)
	defer cancel()
	f.endpoint, f.err = discoverV3(ctx, c, base)
	if f.err == nil {
		debug(ctx, c.log, "ksauth: discovered identity v3", slog.String("url", safeURL(f.endpoint)))
		return
	}
	f.endpoint = base.JoinPath("v3")
	if passing(f.err) {
		f.retryAt = time.Now().Add(unreachableRetry)
	}
	debug(ctx, c.log, "ksauth: version discovery failed; trying /v3", slog.String("error", f.err.Error()))
}

// passing reports a discovery failure that may go away: nothing answered,
// or the server said it could not serve the request yet (429, 5xx).
func passing(err error) bool {
	var unreachable *RequestSendError
	var he *HTTPError
	if errors.As(err, &he) {
		return he.StatusCode == http.StatusTooManyRequests || he.StatusCode >= 500
	}
	return errors.As(err, &unreachable) || isContextErr(err)
}

// IdentityURL returns the v3 identity endpoint AuthURL leads to, e.g.
// https://h:5000/v3. An AuthURL ending in /v3 is returned as it is, without
// a request; any other goes through version discovery (once, then cached),
// and a failed discovery is a [*DiscoveryError]. ([Keystone.Authenticate]
// still tries AuthURL + "/v3" then.) To check that the server answers, use
// [Keystone.Versions].
func (k *Keystone) IdentityURL(ctx context.Context) (*url.URL, error) {
	u, discoveryErr, err := k.endpoint(ctx)
	switch {
	case err != nil:
		return nil, err
	case discoveryErr != nil:
		return nil, &DiscoveryError{AuthURL: safeURL(u.JoinPath("..")), Discovery: discoveryErr}
	}
	return u, nil
}

// APIVersion is one identity API version a Keystone advertises.
type APIVersion struct {
	ID      string    // e.g. "v3.14"
	Status  string    // "stable", "current", "supported", "deprecated", ...
	Updated time.Time // zero when not given
	URL     string    // the version's self link
}

// Versions checks that the identity service answers: it GETs the version
// document at the root of AuthURL (AuthURL without a trailing /v3) and
// returns the versions listed. Nothing listening is a [*RequestSendError];
// an error status (a path that is not Keystone's, say) an [*HTTPError]; a
// body that is not a version document a [*MalformedResponseError].
func (k *Keystone) Versions(ctx context.Context) ([]APIVersion, error) {
	u, err := parseAuthURL(k.AuthURL)
	if err != nil {
		return nil, err
	}
	if err := checkScheme(u, k.AllowInsecureHTTP); err != nil {
		return nil, err
	}
	if isV3Path(u.Path) {
		u.Path = strings.TrimSuffix(u.Path, "/v3")
	}
	ex, versions, err := fetchVersions(ctx, k.caller(), u)
	if err != nil {
		return nil, err
	}
	out := make([]APIVersion, 0, len(versions))
	for _, v := range versions {
		out = append(out, APIVersion{ID: v.ID, Status: v.Status, Updated: v.Updated.Time, URL: serverText(v.selfLink(), 400, ex.secrets)})
	}
	return out, nil
}

// parseAuthURL checks an AuthURL and strips trailing slashes from its path.
func parseAuthURL(raw string) (*url.URL, error) {
	u, err := parseServiceURL("AuthURL", raw, "https://keystone.example.com:5000")
	if err != nil {
		return nil, err
	}
	u.Path = trimAPIPath(u.Path)
	return u, nil
}

// trimAPIPath undoes two common AuthURL mistakes: a v2.0 URL from an old
// OpenRC file ("/v2.0": Keystone v2 is gone, so discover from the root) and
// the token URL itself ("/v3/auth/tokens": the v3 endpoint is meant).
func trimAPIPath(p string) string {
	switch {
	case strings.HasSuffix(p, "/v3/auth/tokens"):
		return strings.TrimSuffix(p, "/auth/tokens")
	case strings.HasSuffix(p, "/v2.0"):
		return strings.TrimSuffix(p, "/v2.0")
	}
	return p
}

func isV3Path(p string) bool {
	return p == "/v3" || strings.HasSuffix(p, "/v3")
}

// wireVersions is a version discovery document: a 300 with a list (in a
// "values" wrapper or not) or a 200 with one version.
type wireVersions struct {
	Versions json.RawMessage `json:"versions"`
	Version  *wireVersion    `json:"version"`
}

type wireVersion struct {
	ID      string       `json:"id"`
	Status  string       `json:"status"`
	Updated keystoneTime `json:"updated"`
	Links   []struct {
		Rel  string `json:"rel"`
		Href string `json:"href"`
	} `json:"links"`
}

// fetchVersions GETs the version document at u.
func fetchVersions(ctx context.Context, c caller, u *url.URL) (*exchange, []wireVersion, error) {
	ex, err := c.call(ctx, http.MethodGet, u, nil, nil)
	if err != nil {
		return nil, nil, err
	}
	if ex.status != http.StatusOK && ex.status != http.StatusMultipleChoices {
		return nil, nil, ex.httpError()
	}
	var doc wireVersions
	if err := ex.decode(&doc); err != nil {
		return nil, nil, err
	}
	versions, err := doc.list()
	if err != nil {
		return nil, nil, ex.malformed("not a version document", err)
	}
	return ex, versions, nil
}

// discoverV3 reads the version document at base and returns the v3 self
// link, which must be on base's scheme, host and port.
func discoverV3(ctx context.Context, c caller, base *url.URL) (*url.URL, error) {
	ex, versions, err := fetchVersions(ctx, c, base)
	if err != nil {
		return nil, err
	}
	for _, v := range versions {
		if href := v.selfLink(); strings.HasPrefix(v.ID, "v3") && href != "" && v.Status != "deprecated" {
			u, err := parseAuthURL(href)
			if err != nil {
				return nil, ex.malformed("bad v3 self link", err)
			}
			// Credentials go only where AuthURL points: a link to another
			// host or scheme (often an internal name leaking through a
			// proxy) is not followed; the /v3 fallback is used instead.
			if !sameHost(u, base) {
				return nil, ex.malformed("v3 self link "+safeURL(u)+" is not on the AuthURL's host", nil)
			}
			return u, nil
		}
	}
	return nil, ex.malformed("no v3 version advertised", nil)
}

func (d *wireVersions) list() ([]wireVersion, error) {
	if d.Version != nil {
		return []wireVersion{*d.Version}, nil
	}
	if len(d.Versions) == 0 {
		return nil, errors.New(`no "versions" or "version"`)
	}
	var wrapped struct{ Values []wireVersion }
	if err := json.Unmarshal(d.Versions, &wrapped); err == nil && wrapped.Values != nil {
		return wrapped.Values, nil
	}
	var plain []wireVersion
	err := json.Unmarshal(d.Versions, &plain)
	return plain, err
}

func (v wireVersion) selfLink() string {
	for _, l := range v.Links {
		if l.Rel == "self" {
			return l.Href
		}
	}
	return ""
}

// DiscoveryError reports that version discovery at AuthURL failed
// (Discovery) and, from Authenticate, that the fallback, AuthURL + "/v3",
// did not work either (Err; nil from IdentityURL).
type DiscoveryError struct {
	AuthURL   string
	Discovery error // why discovery failed
	Err       error // why the request to the fallback failed, if it was tried
}

// Error names the auth URL and why discovery failed there (and the
// request to the fallback, when it was tried).
func (e *DiscoveryError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("ksauth: version discovery at %s failed: %v", e.AuthURL, e.Discovery)
	}
	return fmt.Sprintf("%v (version discovery at %s failed too: %v)", e.Err, e.AuthURL, e.Discovery)
}

// Unwrap returns both failures.
func (e *DiscoveryError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Discovery}
	}
	return []error{e.Err, e.Discovery}
}
