package ksauth

// Cleura's second factor: what TwoFactor is given, the errors of a login
// that cannot complete it, and a terminal prompt.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
)

// TwoFactorChallenge is what Cleura.TwoFactor is told: whose login, the
// factor asked for, and what the account offers.
type TwoFactorChallenge struct {
	Login   string
	Method  string   // the factor to answer: "sms"
	Options []string // the factors the account offers, when Cleura listed them
	// Verification is Cleura's handle on this login attempt, sent back with
	// the code. A secret: printing a challenge masks it.
	Verification string
}

// Format prints the challenge with Verification masked, for every verb.
func (c TwoFactorChallenge) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c.masked()) }

// LogValue shows the challenge in slog records as Format does.
func (c TwoFactorChallenge) LogValue() slog.Value { return redactedLogValue(c) }

// MarshalJSON encodes the challenge as Format shows it.
func (c TwoFactorChallenge) MarshalJSON() ([]byte, error) { return json.Marshal(c.masked()) }

func (c TwoFactorChallenge) masked() any {
	type challenge TwoFactorChallenge
	c.Verification = mask(c.Verification)
	return challenge(c)
}

// TwoFactorRequiredError reports a Cleura login that needs an SMS code while
// Cleura.TwoFactor is nil. Nothing was sent after the password.
type TwoFactorRequiredError struct {
	Login   string
	Method  string   // "sms"
	Options []string // the factors the account offers, when Cleura listed them
}

// Error names the login and the factor it needs, and how to supply it.
func (e *TwoFactorRequiredError) Error() string {
	return fmt.Sprintf("ksauth: Cleura login %q needs a second factor (%s): set Cleura.TwoFactor to supply the code "+
		"(PromptTwoFactor asks on a terminal)", e.Login, e.Method)
}

// UnsupportedTwoFactorError reports a Cleura account whose only second
// factors are ones the REST API cannot complete: WebAuthn has no REST
// endpoints. Use an API user without a second factor, or with SMS.
type UnsupportedTwoFactorError struct {
	Login   string
	Offered []string // e.g. ["webauthn"]
}

// Error names the factors Cleura offered that ksauth cannot use.
func (e *UnsupportedTwoFactorError) Error() string {
	return fmt.Sprintf("ksauth: Cleura login %q offers only %s as a second factor, which Cleura's REST API cannot complete: "+
		"log in as an API user without a second factor, or with SMS", e.Login, strings.Join(e.Offered, ", "))
}

// parseSMSCode checks a code from TwoFactor (4 to 10 digits, spaces around
// it ignored) and returns it as the number Cleura expects. The code itself
// is never quoted.
func parseSMSCode(code string) (int64, error) {
	code = strings.TrimSpace(code)
	if len(code) < 4 || len(code) > 10 || strings.Trim(code, "0123456789") != "" {
		return 0, invalid("Cleura.TwoFactor", "the code must be 4 to 10 digits (got %d characters)", len(code))
	}
	return strconv.ParseInt(code, 10, 64)
}

// PromptTwoFactor returns a Cleura.TwoFactor that asks for the SMS code on
// out and reads a line from in (a terminal: os.Stdin, os.Stderr). A call
// whose context ends before a line arrives returns the context's error; the
// read it started takes the next line.
func PromptTwoFactor(in io.Reader, out io.Writer) func(ctx context.Context, c TwoFactorChallenge) (string, error) {
	p := &prompt{lines: bufio.NewReader(in)}
	return func(ctx context.Context, c TwoFactorChallenge) (string, error) {
		fmt.Fprintf(out, "Cleura sent an SMS code for %s. Code: ", c.Login)
		return p.readLine(ctx)
	}
}

// maxPromptLine bounds a line typed at a prompt: an input without newlines
// (/dev/zero) is an error, not an endless read.
const maxPromptLine = 1 << 10

// readPromptLine reads one line, ending included, whose text (the ending
// left out) is at most maxPromptLine bytes; the last line may lack its
// newline.
func readPromptLine(r *bufio.Reader) (string, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		switch {
		case contentLen(line) > maxPromptLine:
			return "", invalid("PromptTwoFactor", "the line read is longer than %d bytes", maxPromptLine)
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(line) > 0:
			err = nil
		}
		return string(line), err
	}
}

// contentLen is the length of line without its ending: a "\n" or "\r\n",
// or a "\r" that may be the first half of one. Only one ending is left
// out, so an endless line of carriage returns still reaches the bound.
func contentLen(line []byte) int {
	return len(bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r")))
}

// prompt reads lines from a terminal, one reader at a time.
type prompt struct {
	mu      sync.Mutex
	lines   *bufio.Reader
	pending chan promptLine // a read whose caller gave up, still waiting
}

type promptLine struct {
	text string
	err  error
}

func (p *prompt) readLine(ctx context.Context) (string, error) {
	p.mu.Lock()
	line := p.pending
	if line == nil {
		line = make(chan promptLine, 1)
		go func() {
			s, err := readPromptLine(p.lines)
			line <- promptLine{strings.TrimSpace(s), err}
		}()
	}
	p.pending = nil
	p.mu.Unlock()
	select {
	case l := <-line:
		return l.text, l.err
	case <-ctx.Done():
		p.mu.Lock()
		p.pending = line
		p.mu.Unlock()
		return "", ctx.Err()
	}
}
