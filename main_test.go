package ksauth

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMain starts the integration Keystones (only with -tags integration; see
// integration_main_test.go and nointegration_test.go), runs the tests, stops
// them, and fails the run if any known secret shows up in what the suite logged.
func TestMain(m *testing.M) {
	teardown, err := setupIntegration()
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration setup failed:", err)
		os.Exit(1)
	}
	code := m.Run()
	teardown()
	if leaks := checkNoSecretsLeaked(); len(leaks) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d secret(s) leaked into logs or error texts recorded by the suite\n", len(leaks))
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) WriteString(s string) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.WriteString(s)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// suiteLog collects everything the suite logs (testLogger) and every error
// text it records (recordErr), for checkNoSecretsLeaked.
var suiteLog = &lockedBuffer{}

// testLogger returns a debug-level JSON logger writing to suiteLog. Give it to
// every client a test creates so that all its log output is checked for secrets.
// Records carry no time and durations are rounded to milliseconds, so the
// digits of a registered passcode cannot turn up in them by chance.
func testLogger() *slog.Logger { return teeLogger(io.Discard) }

// teeLogger is testLogger also writing to w, for tests that read their logs.
func teeLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(io.MultiWriter(w, suiteLog), &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			switch {
			case a.Key == slog.TimeKey && len(groups) == 0:
				return slog.Attr{}
			case a.Value.Kind() == slog.KindTime:
				return slog.Time(a.Key, a.Value.Time().Round(time.Second))
			case a.Value.Kind() == slog.KindDuration:
				return slog.Duration(a.Key, a.Value.Duration().Round(time.Millisecond))
			}
			return a
		},
	}))
}

// recordErr adds err's texts (%v, %+v, %#v) to suiteLog so that they are
// checked for secrets too. A nil err is ignored.
func recordErr(err error) {
	if err == nil {
		return
	}
	suiteLog.WriteString(err.Error() + "\n" + fmt.Sprintf("%+v", err) + "\n" + fmt.Sprintf("%#v", err) + "\n")
}

// knownSecrets are the fixture secrets of scripts/keystone/up.sh, plus token
// prefixes: no Keystone token (fernet, "gAAAAA...") or test placeholder token
// may ever be logged or be part of an error text.
var knownSecrets = []string{
	"alice-secret", "bob-secret", "carol-secret", "admin-secret",
	"alice-ac-secret", "alice-ac-restricted-secret", "alice-ac-short-secret",
	"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
	"gAAAAAB-placeholder", "gAAAAA",
}

var (
	extraSecretsMu sync.Mutex
	extraSecrets   []string
)

// registerSecret adds s (a token id, a TOTP passcode, a receipt...) to the
// strings checkNoSecretsLeaked looks for. Empty strings are ignored.
func registerSecret(s string) {
	if s == "" {
		return
	}
	extraSecretsMu.Lock()
	defer extraSecretsMu.Unlock()
	extraSecrets = append(extraSecrets, s)
}

// checkNoSecretsLeaked scans suiteLog for knownSecrets and registered secrets,
// prints a masked report per leaked secret to stderr and returns the reports
// (empty when nothing leaked).
func checkNoSecretsLeaked() []string {
	extraSecretsMu.Lock()
	secrets := append(append([]string(nil), knownSecrets...), extraSecrets...)
	extraSecretsMu.Unlock()
	leaks := scanForSecrets(suiteLog.String(), secrets)
	for _, l := range leaks {
		fmt.Fprintln(os.Stderr, "secret leaked:", l)
	}
	return leaks
}

// scanForSecrets returns one report per secret (of secrets) that occurs in text,
// in the order of secrets. A report never holds a secret in full: it names the
// secret by maskSecret and shows the context of its first occurrence with every
// secret in it masked, e.g.
//
//	alic… (2 occurrences), first at byte 120: …"password":"«alic…»","user"…
func scanForSecrets(text string, secrets []string) []string {
	type span struct{ start, end int }
	seen := make(map[string]bool)
	var found []string
	first := make(map[string]int)
	count := make(map[string]int)
	var spans []span
	for _, s := range secrets {
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		for off := 0; ; {
			i := strings.Index(text[off:], s)
			if i < 0 {
				break
			}
			i += off
			off = i + 1 // overlapping occurrences count too
			if isDigits(s) && (i > 0 && isDigit(text[i-1]) || i+len(s) < len(text) && isDigit(text[i+len(s)])) {
				continue // a passcode inside a longer number is that number
			}
			if count[s] == 0 {
				first[s] = i
				found = append(found, s)
			}
			count[s]++
			spans = append(spans, span{i, i + len(s)})
		}
	}
	if len(found) == 0 {
		return nil
	}

	// Mask every occurrence of every secret: merge overlapping spans, then
	// replace each merged span by the mask of the secret it starts with.
	sort.Slice(spans, func(i, j int) bool {
		if spans[i].start != spans[j].start {
			return spans[i].start < spans[j].start
		}
		return spans[i].end > spans[j].end
	})
	var merged []span
	for _, sp := range spans {
		if n := len(merged); n > 0 && sp.start < merged[n-1].end {
			merged[n-1].end = max(merged[n-1].end, sp.end)
			continue
		}
		merged = append(merged, sp)
	}
	var masked strings.Builder
	maskFrom := make([]int, len(merged)) // where each merged span's mask starts and ends in the masked text
	maskTo := make([]int, len(merged))
	prev := 0
	for k, sp := range merged {
		masked.WriteString(text[prev:sp.start])
		maskFrom[k] = masked.Len()
		masked.WriteString("«" + maskSecret(text[sp.start:sp.end]) + "»")
		maskTo[k] = masked.Len()
		prev = sp.end
	}
	masked.WriteString(text[prev:])
	m := masked.String()

	const around = 30 // ~60 characters of context
	reports := make([]string, 0, len(found))
	for _, s := range found {
		k := sort.Search(len(merged), func(k int) bool { return merged[k].end > first[s] }) // span of the first occurrence
		ctx := m[max(0, maskFrom[k]-around):min(len(m), maskTo[k]+around)]
		ctx = strings.ReplaceAll(strings.ToValidUTF8(ctx, ""), "\n", "⏎")
		reports = append(reports, fmt.Sprintf("%s (%d occurrence(s)), first at byte %d: …%s…",
			maskSecret(s), count[s], first[s], ctx))
	}
	return reports
}

// maskSecret shows the first 4 characters of s (fewer for short s, at most
// half of it) followed by "…".
func maskSecret(s string) string {
	r := []rune(s)
	n := min(4, len(r)/2)
	return string(r[:n]) + "…"
}

// TestSecretScannerCatchesLeaks checks the scanner on a scratch text, without
// touching suiteLog.
func TestSecretScannerCatchesLeaks(t *testing.T) {
	var scratch lockedBuffer
	logger := slog.New(slog.NewJSONHandler(&scratch, &slog.HandlerOptions{Level: slog.LevelDebug}))
	logger.Debug("auth request", "user", "alice", "password", "planted-pass-1234", "token", "gAAAAABplantedtoken")
	logger.Info("all fine", "user", "bob")
	text := scratch.String()

	secrets := []string{"planted-pass-1234", "not-in-the-log", "gAAAAA", "gAAAAABplantedtoken", ""}
	leaks := scanForSecrets(text, secrets)
	if len(leaks) != 3 {
		t.Fatalf("want 3 leaks (password, fernet prefix, token), got %d: %q", len(leaks), leaks)
	}
	for i, wantPrefix := range []string{"plan…", "gAA…", "gAAA…"} {
		if !strings.HasPrefix(leaks[i], wantPrefix+" (1 occurrence(s))") {
			t.Errorf("leak %d = %q, want prefix %q", i, leaks[i], wantPrefix)
		}
	}
	for _, l := range leaks {
		for _, s := range []string{"planted-pass-1234", "gAAAAABplantedtoken", "gAAAAA"} {
			if strings.Contains(l, s) {
				t.Errorf("report shows secret %q in full: %q", s, l)
			}
		}
	}
	if !strings.Contains(leaks[0], `"password":"«plan…»"`) {
		t.Errorf("report lacks masked context: %q", leaks[0])
	}

	if got := scanForSecrets(`{"msg":"all fine"}`, secrets); len(got) != 0 {
		t.Errorf("clean text: got %q", got)
	}
	// A passcode is found as a whole number, not inside a longer one.
	if got := scanForSecrets(`{"took":1968121042,"id":"x968121y"}`, []string{"968121"}); len(got) != 1 {
		t.Errorf("passcode between letters: want 1 leak, got %q", got)
	}
	if got := scanForSecrets(`{"took":1968121042}`, []string{"968121"}); len(got) != 0 {
		t.Errorf("passcode digits inside a longer number: got %q", got)
	}
	for _, s := range []string{"alice-secret", "admin-secret", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "gAAAAA"} {
		if got := scanForSecrets("x "+s+" y", knownSecrets); len(got) == 0 {
			t.Errorf("knownSecrets does not catch %q", s)
		}
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}
