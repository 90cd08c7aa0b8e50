package ksauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// redacted replaces a secret wherever ksauth prints a value.
const redacted = "REDACTED"

// fernetLike matches Keystone fernet tokens and receipts ("gAAAAA..."), which
// Keystone echoes in some error messages ("Could not find auth receipt: gAAAA...").
var fernetLike = regexp.MustCompile(`gAAAAA[A-Za-z0-9_\-=]*`)

// redact removes token-shaped strings and the given secrets from s: each
// secret as it is and in the escaped forms a server's echo may reach s in
// (URL path and query escaping, Go and JSON string quoting).
func redact(s string, secrets ...string) string {
	for _, secret := range secrets {
		if len(secret) < 4 {
			continue
		}
		s = strings.ReplaceAll(s, secret, redacted)
		for _, esc := range escapedForms(secret) {
			s = strings.ReplaceAll(s, esc, redacted)
		}
	}
	return fernetLike.ReplaceAllString(s, redacted)
}

// escapedForms are the ways secret may be written in a URL or a quoted
// string, other than as it is.
func escapedForms(secret string) []string {
	var out []string
	add := func(esc string) {
		if esc != secret && !slices.Contains(out, esc) {
			out = append(out, esc)
		}
	}
	add(url.PathEscape(secret))
	add(url.QueryEscape(secret))
	q := strconv.Quote(secret)
	add(q[1 : len(q)-1])
	if j, err := json.Marshal(secret); err == nil {
		add(string(j[1 : len(j)-1]))
	}
	return out
}

// scrubbed is err with its text redacted of secrets and token shapes, for
// an error built from what a server sent. A *url.Error (net/http's, which
// quotes a URL the server may have chosen: a redirect's Location) is
// copied with its URL and its inner error scrubbed, so that errors.As
// finds no secret in it either. Any other error whose text needs no
// redaction is returned as it is; otherwise it is wrapped, so that
// errors.Is and errors.As still see it.
func scrubbed(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	if ue, ok := err.(*url.Error); ok {
		c := *ue
		c.URL = serverURLText(ue.URL, secrets)
		c.Err = scrubbed(ue.Err, secrets...)
		return &c
	}
	text := err.Error()
	if r := redact(text, secrets...); r != text {
		return &redactedError{text: r, err: err}
	}
	return err
}

// serverURL prints a URL a server chose (a redirect's target, a link) for
// an error or a log record: no user info, query or fragment, and the
// secrets redacted from its host and path, escaped or not.
func serverURL(u *url.URL, secrets []string) string {
	if u == nil {
		return ""
	}
	c := url.URL{Scheme: u.Scheme, Opaque: redact(u.Opaque, secrets...), Host: redact(u.Host, secrets...), Path: redact(u.Path, secrets...)}
	return redact(c.String(), secrets...)
}

// serverURLText is serverURL for a URL as text, parsable or not.
func serverURLText(raw string, secrets []string) string {
	if u, err := url.Parse(raw); err == nil {
		return serverURL(u, secrets)
	}
	return redact(redactURL(raw), secrets...)
}

// fingerprint identifies a token in logs without revealing it: the first 8
// hex digits of its SHA-256.
func fingerprint(secret string) string {
	if secret == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(secret))
	return "sha256:" + hex.EncodeToString(sum[:4])
}

// debug logs at debug level only when it is enabled, so callers on hot paths
// pay nothing for a silent logger.
func debug(ctx context.Context, l *slog.Logger, msg string, attrs ...slog.Attr) {
	if l == nil || !l.Enabled(ctx, slog.LevelDebug) {
		return
	}
	l.LogAttrs(ctx, slog.LevelDebug, msg, attrs...)
}

// logAt logs at level when it is enabled; a nil logger is silent.
func logAt(ctx context.Context, l *slog.Logger, level slog.Level, msg string, attrs ...slog.Attr) {
	if l == nil || !l.Enabled(ctx, level) {
		return
	}
	l.LogAttrs(ctx, level, msg, attrs...)
}

// formatRedacted prints v, a copy of a ksauth value with its secrets already
// replaced, honouring the verb and flags the caller used (%v, %+v, %#v, %s).
func formatRedacted(f fmt.State, verb rune, v any) {
	fmt.Fprintf(f, fmt.FormatString(f, verb), v)
}

// mask returns redacted for a non-empty secret, "" otherwise, so a printed
// value still shows whether the field was set.
func mask(secret string) string {
	if secret == "" {
		return ""
	}
	return redacted
}

// redactedLogValue is the slog value of a ksauth value whose fmt output hides
// its secrets (v or its parts have a Format method): its %+v text. Without
// it a JSON handler would encode the value with encoding/json, secrets and all.
func redactedLogValue(v any) slog.Value {
	return slog.StringValue(fmt.Sprintf("%+v", v))
}
