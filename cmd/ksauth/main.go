// Command ksauth prints OpenStack Keystone tokens from a shared on-disk
// cache, in milliseconds and without a network request while the cached
// token is fresh, and serves as the credential helper of kubectl. It reads
// the configuration as the library's LoadConfig does (clouds.yaml,
// OS_CLOUD and the OS_* variables) and shares its tokens through the
// library's FileStore. Run "ksauth help" for the commands and exit codes.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ksauth/ksauth"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Environ(), os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes: the contract scripts depend on (see "ksauth help").
const (
	exitOK          = 0
	exitError       = 1  // any other error
	exitNoInput     = 2  // no usable credentials, or input needed but not available
	exitRejected    = 3  // rejected by the server (401, 403)
	exitNotFound    = 4  // not found: endpoint, cloud, resource
	exitRateLimited = 5  // rate-limited after retries
	exitUsage       = 64 // usage error
)

// isTerminal reports whether f is a terminal; tests replace it.
var isTerminal = func(f any) bool {
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	fi, err := file.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// globals are the flags every command takes.
type globals struct {
	cloud, region, output   string
	noCache, verbose, stdin bool
}

// cmdFlags holds every command's own flags (each command defines its own).
type cmdFlags struct {
	minValid     time.Duration
	refresh      bool
	online       bool
	iface        string
	shell        string
	cluster      string
	server       string
	project      string
	name         string
	cloudsYAML   string
	description  string
	secretStdin  bool
	expiresAt    string
	unrestricted bool
	roles        string
	secret       bool
}

// app is one invocation.
type app struct {
	ctx    context.Context
	env    []string
	envMap map[string]string
	stdin  *bufio.Reader
	in     io.Reader // the raw stdin, for isTerminal
	stdout io.Writer
	stderr io.Writer
	g      globals
	f      cmdFlags
	log    *slog.Logger
	// interactive: prompts (TOTP passcode, SMS code) may be shown.
	interactive bool
	cmd         *command
	stdinUsed   bool
}

// usageError is a mistake on the command line: exit 64.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// inputError is input that is needed but not available: exit 2.
type inputError struct{ msg string }

func (e *inputError) Error() string { return e.msg }

// notFoundError is a resource, cloud or cached token that does not exist.
type notFoundError struct{ msg string }

func (e *notFoundError) Error() string { return e.msg }

// rejectedError is a refusal by the server that the library reports as
// something else (a revoked token is a 404 to ValidateToken): exit 3.
type rejectedError struct {
	msg string
	err error
}

func (e *rejectedError) Error() string { return e.msg }
func (e *rejectedError) Unwrap() error { return e.err }

// detailedError is an error whose one line is followed on stderr by
// lines of detail (what does exist).
type detailedError struct {
	err   error
	lines []string
}

func (e *detailedError) Error() string { return e.err.Error() }
func (e *detailedError) Unwrap() error { return e.err }

// secretFlags are refused wherever they appear: secrets are never taken on
// the command line, where other users and shell histories see them.
var secretFlags = []string{
	"os-password", "password", "os-token", "os-auth-token", "token-id",
	"os-application-credential-secret", "application-credential-secret",
	"os-passcode", "passcode", "secret", "os-secret", "os-key",
}

func run(ctx context.Context, args, env []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{ctx: ctx, env: env, envMap: envMap(env), stdin: bufio.NewReader(stdin), in: stdin, stdout: stdout, stderr: stderr}
	err := a.main(args)
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	code := exitCode(err)
	msg := strings.Join(strings.Fields(err.Error()), " ")
	var two *ksauth.TwoFactorRequiredError
	if errors.As(err, &two) {
		msg = fmt.Sprintf("ksauth: Cleura login %q needs an SMS code and there is no terminal to ask for it on: "+
			"run ksauth login on a terminal (the token is then cached)", two.Login)
	}
	if !strings.HasPrefix(msg, "ksauth") {
		msg = "ksauth: " + msg
	}
	if code == exitUsage && a.cmd != nil && !strings.Contains(msg, "ksauth help") {
		msg += " (see ksauth help " + a.cmd.path + ")"
	}
	fmt.Fprintln(stderr, msg)
	var de *detailedError
	if errors.As(err, &de) {
		for _, l := range de.lines {
			fmt.Fprintln(stderr, "  "+l)
		}
	}
	return code
}

// exitCode maps an error to the contract's exit codes.
func exitCode(err error) int {
	var (
		ue  *usageError
		ie  *inputError
		nfe *notFoundError
		rj  *rejectedError
		mfa *ksauth.MFARequiredError
		two *ksauth.TwoFactorRequiredError
		ce  *ksauth.ConfigError
		ve  *ksauth.ValidationError
	)
	switch {
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &ie), errors.As(err, &mfa) && mfa.Err == nil, errors.As(err, &two):
		return exitNoInput
	case errors.As(err, &nfe):
		return exitNotFound
	case errors.As(err, &rj):
		return exitRejected
	case errors.As(err, &ce):
		switch {
		case strings.HasPrefix(ce.Reason, "no cloud "), ce.Field == "region_name":
			return exitNotFound
		case strings.HasPrefix(ce.Reason, "missing"), strings.Contains(ce.Reason, "clouds are defined"):
			return exitNoInput
		}
		if errors.As(err, &ve) {
			return exitNoInput
		}
		return exitError
	case errors.Is(err, ksauth.ErrRateLimited):
		return exitRateLimited
	case errors.Is(err, ksauth.ErrUnauthorized), errors.Is(err, ksauth.ErrForbidden):
		return exitRejected
	case errors.Is(err, ksauth.ErrNotFound):
		return exitNotFound
	case errors.As(err, &ve):
		return exitNoInput
	}
	return exitError
}

func (a *app) main(args []string) error {
	if bad := refusedSecretFlag(args); bad != "" {
		return usagef("ksauth: %s is refused: secrets are never taken on the command line; use --password-stdin, --secret-stdin, clouds.yaml, secure.yaml or OS_* variables", bad)
	}
	top := flag.NewFlagSet("ksauth", flag.ContinueOnError)
	top.SetOutput(io.Discard)
	a.globalFlags(top)
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(a.stdout, helpText())
			return err
		}
		return usagef("ksauth: %v", err)
	}
	rest := top.Args()
	if len(rest) == 0 {
		fmt.Fprint(a.stderr, helpText())
		return &usageError{msg: "ksauth: no command given"}
	}
	cmd := lookup(commands(), rest[0])
	if cmd == nil {
		return usagef("ksauth: unknown command %q (see ksauth help)", rest[0])
	}
	return a.dispatch(cmd, rest[1:])
}

// dispatch parses args for cmd (flags before or after the arguments) and
// runs it, or the subcommand its first argument names.
func (a *app) dispatch(cmd *command, args []string) error {
	a.cmd = cmd
	fs := a.flagSet(cmd)
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(a.stdout, commandHelp(cmd))
				return err
			}
			return usagef("ksauth %s: %v", cmd.path, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		if args[0] == "--" {
			positional = append(positional, args[1:]...)
			break
		}
		if len(positional) == 0 && len(cmd.subs) > 0 {
			if sub := lookup(cmd.subs, args[0]); sub != nil {
				return a.dispatch(sub, args[1:])
			}
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
	if cmd.run == nil {
		if len(positional) == 0 {
			return usagef("ksauth %s: a subcommand is needed", cmd.path)
		}
		return usagef("ksauth %s: unknown subcommand %q", cmd.path, positional[0])
	}
	if len(positional) < cmd.minArgs || len(positional) > cmd.maxArgs {
		return usagef("ksauth %s: wrong number of arguments", cmd.path)
	}
	if a.g.output == "" {
		if len(cmd.outputs) > 0 {
			a.g.output = cmd.outputs[0]
		}
	} else if !slices.Contains(cmd.outputs, a.g.output) {
		if len(cmd.outputs) == 0 {
			return usagef("ksauth %s: takes no -o/--output", cmd.path)
		}
		return usagef("ksauth %s: -o %q: one of %s", cmd.path, a.g.output, strings.Join(cmd.outputs, ", "))
	}
	if a.g.verbose {
		a.log = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	a.interactive = isTerminal(a.in) && isTerminal(a.stderr)
	return cmd.run(a, positional)
}

// globalFlags defines the global flags on fs, keeping the values already
// parsed (flags before the command): defining a flag sets its default.
func (a *app) globalFlags(fs *flag.FlagSet) {
	g := a.g
	fs.StringVar(&a.g.cloud, "os-cloud", g.cloud, "the clouds.yaml entry (default $OS_CLOUD)")
	fs.StringVar(&a.g.region, "os-region-name", g.region, "the region (default the cloud's, or $OS_REGION_NAME)")
	fs.StringVar(&a.g.output, "o", g.output, "output format")
	fs.StringVar(&a.g.output, "output", g.output, "output format")
	fs.BoolVar(&a.g.noCache, "no-cache", g.noCache, "neither read nor write the token cache")
	fs.BoolVar(&a.g.verbose, "v", g.verbose, "debug logs on stderr (redacted)")
	fs.BoolVar(&a.g.stdin, "password-stdin", g.stdin, "read the password from the first line of stdin")
}

func (a *app) flagSet(cmd *command) *flag.FlagSet {
	fs := flag.NewFlagSet(cmd.path, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	a.globalFlags(fs)
	if cmd.flags != nil {
		cmd.flags(fs, &a.f)
	}
	return fs
}

// refusedSecretFlag returns the first argument that is a secret-carrying
// flag ("" when none), up to a "--".
func refusedSecretFlag(args []string) string {
	for _, arg := range args {
		if arg == "--" {
			return ""
		}
		if !strings.HasPrefix(arg, "-") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		if slices.Contains(secretFlags, strings.ToLower(name)) {
			return "--" + name
		}
	}
	return ""
}

func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// maxLine bounds a line read from stdin (a password, a secret, a code): a
// stdin of /dev/zero or a stream without newlines is an error, not an
// endless read.
const maxLine = 64 << 10

// readLine reads one line of stdin, of at most maxLine bytes without its
// line ending (which is not returned).
func (a *app) readLine(what string) (string, error) {
	var line []byte
	for {
		chunk, err := a.stdin.ReadSlice('\n')
		line = append(line, chunk...)
		// Leave out one line ending (or the "\r" of one still to come), not
		// every trailing "\r": an endless line of them must reach the bound.
		if len(bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))) > maxLine {
			return "", &inputError{msg: fmt.Sprintf("ksauth: %s: the first line of stdin is longer than %d KiB", what, maxLine>>10)}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err != nil && !(errors.Is(err, io.EOF) && len(line) > 0):
			return "", &inputError{msg: "ksauth: " + what + ": nothing on stdin"}
		}
		return strings.TrimRight(string(line), "\r\n"), nil
	}
}

// config loads the configuration as the library does, with the password
// from stdin when --password-stdin is given, or asked for on a terminal
// when the configuration has none.
func (a *app) config() (*ksauth.Config, error) {
	opts := &ksauth.ConfigOptions{Cloud: a.g.cloud, Region: a.g.region, Env: a.env, Logger: a.log}
	if a.g.stdin && !a.stdinUsed {
		a.stdinUsed = true
		pw, err := a.readLine("--password-stdin")
		if err != nil {
			return nil, err
		}
		if pw == "" {
			return nil, &inputError{msg: "ksauth: --password-stdin: the first line of stdin is empty"}
		}
		opts.Settings.Password = pw
	}
	cfg, err := ksauth.LoadConfig(opts)
	if missingPassword(err) && opts.Settings.Password == "" && a.interactive {
		if opts.Settings.Password, err = a.askPassword(a.ctx, err.(*ksauth.ConfigError).Source); err != nil {
			return nil, err
		}
		cfg, err = ksauth.LoadConfig(opts)
	}
	if err != nil {
		return nil, err
	}
	if cfg.Cleura != nil {
		if a.interactive { // else a login that needs a code stops before Cleura sends one
			cfg.Cleura.TwoFactor = a.smsCode
		}
		cfg.Cleura.Logger = a.log
		return cfg, nil
	}
	cfg.Keystone.Passcode = a.passcode
	if a.log != nil {
		cfg.Keystone.Logger = a.log // retries, discovery: debug records, redacted
	}
	return cfg, nil
}

// missingPassword reports a configuration that only lacks the password.
func missingPassword(err error) bool {
	var ce *ksauth.ConfigError
	return errors.As(err, &ce) && ce.Field == "auth.password"
}

// askPassword asks for the password on the terminal, without echo.
func (a *app) askPassword(ctx context.Context, source string) (string, error) {
	restore, err := noEcho(a.in)
	if err != nil {
		return "", &inputError{msg: "ksauth: the configuration " + source + " has no password, and the terminal's echo cannot be turned off to ask for it (" +
			oneLine(err.Error()) + "): use --password-stdin"}
	}
	pw, err := a.ask(ctx, "Password "+source+": ", "password")
	restore()
	fmt.Fprintln(a.stderr)
	if err == nil && pw == "" {
		err = &inputError{msg: "ksauth: no password given"}
	}
	return pw, err
}

// noEcho turns off the echo of the terminal that in is, and returns what
// turns it back on; tests replace it. stty keeps the command free of
// dependencies; where there is no stty, the password comes from
// --password-stdin.
var noEcho = func(in io.Reader) (restore func(), err error) {
	tty, ok := in.(*os.File)
	if !ok {
		return nil, errors.New("stdin is not a terminal")
	}
	stty := func(arg string) error {
		cmd := exec.Command(sttyPath(), arg)
		cmd.Stdin = tty
		return cmd.Run()
	}
	if err := stty("-echo"); err != nil {
		return nil, fmt.Errorf("stty -echo: %w", err)
	}
	return func() { _ = stty("echo") }, nil
}

// sttyPath is the system's stty, else the one on $PATH.
func sttyPath() string {
	for _, p := range []string{"/bin/stty", "/usr/bin/stty"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p
		}
	}
	return "stty"
}

// passcode asks for a TOTP passcode on a terminal.
func (a *app) passcode(ctx context.Context) (string, error) {
	if !a.interactive {
		return "", &inputError{msg: "ksauth: a TOTP passcode is needed and there is no terminal to ask on"}
	}
	code, err := a.ask(ctx, "TOTP passcode: ", "TOTP passcode")
	return strings.TrimSpace(code), err
}

// smsCode asks for the code Cleura sent by SMS, on the terminal.
func (a *app) smsCode(ctx context.Context, c ksauth.TwoFactorChallenge) (string, error) {
	code, err := a.ask(ctx, "Cleura sent an SMS code for "+c.Login+". Code: ", "SMS code")
	return strings.TrimSpace(code), err
}

// ask prints prompt on stderr and reads a line of stdin, giving up when ctx
// ends (Ctrl-C).
func (a *app) ask(ctx context.Context, prompt, what string) (string, error) {
	fmt.Fprint(a.stderr, prompt)
	type result struct {
		line string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		line, err := a.readLine(what)
		ch <- result{line, err}
	}()
	select {
	case r := <-ch:
		return r.line, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// cacheDir is $XDG_CACHE_HOME/ksauth (an absolute XDG_CACHE_HOME), else
// ~/.cache/ksauth, read from the invocation's environment.
func (a *app) cacheDir() string {
	if x := a.envMap["XDG_CACHE_HOME"]; filepath.IsAbs(x) {
		return filepath.Join(x, "ksauth")
	}
	if h := a.envMap["HOME"]; h != "" {
		return filepath.Join(h, ".cache", "ksauth")
	}
	return "" // the library's default
}

// store opens the token cache: nil with --no-cache, and nil after a
// warning when the directory is refused (others can write to it, say).
func (a *app) store() *ksauth.FileStore {
	if a.g.noCache {
		return nil
	}
	st, err := ksauth.NewFileStore(a.cacheDir())
	if err != nil {
		fmt.Fprintf(a.stderr, "ksauth: warning: %s; working without the token cache\n", oneLine(err.Error()))
		return nil
	}
	return st
}

// session is the configuration and a Session over it with the cache.
func (a *app) session() (*ksauth.Config, *ksauth.Session, error) {
	cfg, err := a.config()
	if err != nil {
		return nil, nil, err
	}
	if cfg.Cleura != nil && !a.cmd.cleura {
		return nil, nil, fmt.Errorf("ksauth %s: the configuration logs in to Cleura's REST API (auth_type cleura), which has no Keystone "+
			"catalog or identity API: only token, token inspect, token revoke, login and logout work with it", a.cmd.path)
	}
	opts := &ksauth.SessionOptions{Logger: a.log, DisableBackgroundRefresh: true}
	if st := a.store(); st != nil {
		opts.Store = st
	}
	return cfg, cfg.NewSession(opts), nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func regionOf(ep ksauth.Endpoint) string {
	if ep.RegionID != "" {
		return ep.RegionID
	}
	if ep.Region != "" {
		return ep.Region
	}
	return "-"
}
