package ksauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
)

// redacted replaces a secret wherever ksauth prints a value.
const redacted = "REDACTED"

// fernetLike matches Keystone fernet tokens and receipts ("gAAAAA..."), which
// Keystone echoes in some error messages ("Could not find auth receipt: gAAAA...").
var fernetLike = regexp.MustCompile(`gAAAAA[A-Za-z0-9_\-=]*`)

// redact removes token-shaped strings and the given secrets from s.
func redact(s string, secrets ...string) string {
	for _, secret := range secrets {
		if len(secret) >= 4 {
			s = strings.ReplaceAll(s, secret, redacted)
		}
	}
	return fernetLike.ReplaceAllString(s, redacted)
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
