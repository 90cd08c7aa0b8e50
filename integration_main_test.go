//go:build integration

package ksauth

// Integration test plumbing: starts real Keystones with scripts/keystone/up.sh
// (or uses one given by KSAUTH_KEYSTONE_FIXTURES) and exposes their fixtures.
// See scripts/keystone/README.md.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Fixtures of the Keystones under test; set by setupIntegration before any test
// runs. ksShort (token expiration 10 s) is nil when the tests use a Keystone given
// by KSAUTH_KEYSTONE_FIXTURES without KSAUTH_KEYSTONE_SHORT_FIXTURES: use
// shortKeystone(t), which skips the test then.
var (
	ksMain  *keystoneFixtures
	ksShort *keystoneFixtures
)

// keystoneFixtures mirrors the fixtures.json written by scripts/keystone/up.sh.
type keystoneFixtures struct {
	AuthURL                string   `json:"auth_url"` // http://127.0.0.1:PORT/v3
	Endpoint               string   `json:"endpoint"` // http://127.0.0.1:PORT
	Region                 string   `json:"region"`   // RegionOne
	Regions                []string `json:"regions"`  // RegionOne, RegionTwo
	TokenExpirationSeconds int      `json:"token_expiration_seconds"`
	StateDir               string   `json:"state_dir"`
	PID                    int      `json:"pid"`

	Domains struct {
		Default ksDomain `json:"default"`
		Acme    ksDomain `json:"acme"`
	} `json:"domains"`
	Projects struct {
		Admin ksProject `json:"admin"` // domain Default
		Demo  ksProject `json:"demo"`  // domain Default
		Ops   ksProject `json:"ops"`   // domain acme
	} `json:"projects"`
	Roles struct { // role ids; admin implies member implies reader
		Admin  string `json:"admin"`
		Member string `json:"member"`
		Reader string `json:"reader"`
	} `json:"roles"`
	Users struct {
		Admin ksUser `json:"admin"` // admin on project admin, domain Default, system all
		Alice ksUser `json:"alice"` // member on demo, reader on domain Default
		Bob   ksUser `json:"bob"`   // acme; member on ops (default project); TOTP
		Carol ksUser `json:"carol"` // acme; member on ops; TOTP; MFA rule password+totp
	} `json:"users"`
	ApplicationCredentials struct {
		Alice           ksAppCred `json:"alice"`            // alice-ac: member+reader on demo, no expiry
		AliceRestricted ksAppCred `json:"alice_restricted"` // alice-ac-restricted: reader, 1 day, access rule
	} `json:"application_credentials"`
	Trusts struct {
		AliceToBob ksTrust `json:"alice_to_bob"`
	} `json:"trusts"`
}

type ksDomain struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type ksProject struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	DomainID string `json:"domain_id"`
}

type ksUser struct {
	ID               string     `json:"id"`
	Name             string     `json:"name"`
	Password         string     `json:"password"`
	DomainID         string     `json:"domain_id"`
	DomainName       string     `json:"domain_name"`
	DefaultProjectID string     `json:"default_project_id,omitempty"` // bob only
	TOTPSecret       string     `json:"totp_secret,omitempty"`        // bob, carol: base32
	TOTPCredentialID string     `json:"totp_credential_id,omitempty"` // bob, carol
	MFARules         [][]string `json:"mfa_rules,omitempty"`          // carol: [["password","totp"]]
	Roles            []string   `json:"roles"`                        // human-readable, e.g. "member on project demo"
}

type ksAppCred struct {
	ID           string         `json:"id"`
	Name         string         `json:"name"`
	Secret       string         `json:"secret"`
	UserID       string         `json:"user_id"`
	ProjectID    string         `json:"project_id"`
	Unrestricted *bool          `json:"unrestricted"` // Keystone returns null
	ExpiresAt    string         `json:"expires_at"`   // "" = never; else "2006-01-02T15:04:05.000000" (UTC, no Z)
	Roles        []string       `json:"roles"`        // role names
	AccessRules  []ksAccessRule `json:"access_rules"`
}

type ksAccessRule struct {
	Service string `json:"service"`
	Method  string `json:"method"`
	Path    string `json:"path"`
}

type ksTrust struct {
	ID            string   `json:"id"`
	TrustorUserID string   `json:"trustor_user_id"`
	TrusteeUserID string   `json:"trustee_user_id"`
	ProjectID     string   `json:"project_id"`
	Impersonation bool     `json:"impersonation"`
	Roles         []string `json:"roles"` // role names
}

// shortKeystone returns the Keystone with 10 s tokens, or skips the test when
// there is none (KSAUTH_KEYSTONE_FIXTURES without KSAUTH_KEYSTONE_SHORT_FIXTURES).
func shortKeystone(t testing.TB) *keystoneFixtures {
	t.Helper()
	if ksShort == nil {
		t.Skip("no short-expiration Keystone: set KSAUTH_KEYSTONE_SHORT_FIXTURES along with KSAUTH_KEYSTONE_FIXTURES")
	}
	return ksShort
}

func loadFixtures(path string) (*keystoneFixtures, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keystone fixtures: %w", err)
	}
	f := new(keystoneFixtures)
	if err := json.Unmarshal(data, f); err != nil {
		return nil, fmt.Errorf("keystone fixtures %s: %w", path, err)
	}
	for name, v := range map[string]string{
		"auth_url":                                    f.AuthURL,
		"domains.acme.id":                             f.Domains.Acme.ID,
		"projects.demo.id":                            f.Projects.Demo.ID,
		"projects.ops.id":                             f.Projects.Ops.ID,
		"roles.member":                                f.Roles.Member,
		"users.alice.id":                              f.Users.Alice.ID,
		"users.admin.password":                        f.Users.Admin.Password,
		"users.bob.totp_secret":                       f.Users.Bob.TOTPSecret,
		"users.carol.totp_secret":                     f.Users.Carol.TOTPSecret,
		"application_credentials.alice.id":            f.ApplicationCredentials.Alice.ID,
		"application_credentials.alice_restricted.id": f.ApplicationCredentials.AliceRestricted.ID,
		"trusts.alice_to_bob.id":                      f.Trusts.AliceToBob.ID,
	} {
		if v == "" {
			return nil, fmt.Errorf("keystone fixtures %s: %s is empty (not written by scripts/keystone/up.sh?)", path, name)
		}
	}
	// Whatever the fixtures call a secret must not show up in the suite's logs,
	// even if someone started Keystone with another admin password.
	for _, u := range []ksUser{f.Users.Admin, f.Users.Alice, f.Users.Bob, f.Users.Carol} {
		registerSecret(u.Password)
		registerSecret(u.TOTPSecret)
	}
	registerSecret(f.ApplicationCredentials.Alice.Secret)
	registerSecret(f.ApplicationCredentials.AliceRestricted.Secret)
	return f, nil
}

// keystoneInstance is one Keystone started by setupIntegration.
type keystoneInstance struct {
	name       string // "main" or "short"
	tmp        string // os.MkdirTemp dir, removed on teardown
	dir        string // KEYSTONE_DIR = tmp/keystone
	port       int
	expiration int
	started    bool // up.sh ran (even if it failed): down.sh must run
}

// upExitPortInUse is up.sh's exit status when the port is taken.
const upExitPortInUse = 98

// stderrMu keeps the prefixed lines of concurrent scripts whole.
var stderrMu sync.Mutex

// prefixWriter writes each complete line to os.Stderr with a prefix.
type prefixWriter struct {
	prefix string
	buf    []byte
}

func (w *prefixWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.emit(w.buf[:i+1])
		w.buf = w.buf[i+1:]
	}
}

func (w *prefixWriter) flush() {
	if len(w.buf) > 0 {
		w.emit(append(w.buf, '\n'))
		w.buf = nil
	}
}

func (w *prefixWriter) emit(line []byte) {
	stderrMu.Lock()
	defer stderrMu.Unlock()
	fmt.Fprintf(os.Stderr, "%s%s", w.prefix, line)
}

// runScript runs "bash scripts/keystone/NAME" with extra env, streaming its stderr
// (and stdout unless captured) to os.Stderr with a prefix. It returns the exit code.
func runScript(ctx context.Context, name, prefix string, env []string, stdout io.Writer) (int, error) {
	path, err := filepath.Abs(filepath.Join("scripts", "keystone", name))
	if err != nil {
		return -1, err
	}
	cmd := exec.CommandContext(ctx, "bash", path)
	// The script and its children (keystone-manage, curl) get their own process
	// group: a Ctrl-C does not hit them half-way, and a cancelled ctx stops all
	// of them. uwsgi is not in it: up.sh starts it with setsid; down.sh stops it,
	// or up.sh's watchdog (setsid too) once this process is gone.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = nil // /dev/null
	errw := &prefixWriter{prefix: prefix}
	defer errw.flush()
	cmd.Stderr = errw
	cmd.Stdout = stdout
	if stdout == nil {
		cmd.Stdout = errw
	}
	// up.sh leaves uwsgi running with its own stdio, but never wait forever for a
	// stray process holding our pipes.
	cmd.WaitDelay = 10 * time.Second
	err = cmd.Run()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.ExitCode(), fmt.Errorf("%s: %w", name, err)
	}
	if err != nil {
		return -1, fmt.Errorf("%s: %w", name, err)
	}
	return 0, nil
}

// freeLoopbackPorts returns n distinct ports that were free on 127.0.0.1 a moment ago.
func freeLoopbackPorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		defer l.Close() // keep all open until all are chosen, so they differ
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// up starts the instance with up.sh, retrying on another free port if the port
// got taken in the meantime, and returns its fixtures.
func (ks *keystoneInstance) up(ctx context.Context) (*keystoneFixtures, error) {
	prefix := fmt.Sprintf("[keystone %s] ", ks.name)
	for attempt := 1; ; attempt++ {
		ks.started = true
		var out bytes.Buffer
		code, err := runScript(ctx, "up.sh", prefix, []string{
			"KEYSTONE_DIR=" + ks.dir,
			fmt.Sprintf("KEYSTONE_PORT=%d", ks.port),
			fmt.Sprintf("KEYSTONE_TOKEN_EXPIRATION=%d", ks.expiration),
			// up.sh's watchdog stops this Keystone when this process is gone,
			// even if it was killed (go test -timeout, SIGKILL) before teardown.
			fmt.Sprintf("KEYSTONE_PARENT_PID=%d", os.Getpid()),
		}, &out)
		if code == upExitPortInUse && attempt < 3 {
			ports, perr := freeLoopbackPorts(1)
			if perr != nil {
				return nil, perr
			}
			fmt.Fprintf(os.Stderr, "%sport %d was taken; retrying on port %d\n", prefix, ks.port, ports[0])
			ks.port = ports[0]
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("keystone %s: %w%s", ks.name, err, ks.logTails())
		}
		f, err := loadFixtures(filepath.Join(ks.dir, "fixtures.json"))
		if err != nil {
			return nil, fmt.Errorf("keystone %s: %w", ks.name, err)
		}
		if got := strings.TrimSpace(out.String()); got != f.AuthURL {
			return nil, fmt.Errorf("keystone %s: up.sh printed %q but fixtures.json says %q", ks.name, got, f.AuthURL)
		}
		return f, nil
	}
}

// logTails returns the last lines of the instance's logs, for a failed start
// (the state dir is deleted on teardown).
func (ks *keystoneInstance) logTails() string {
	var b strings.Builder
	for _, name := range []string{"keystone-manage.log", "uwsgi.log", "keystone.log"} {
		data, err := os.ReadFile(filepath.Join(ks.dir, name))
		if err != nil || len(data) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > 15 {
			lines = lines[len(lines)-15:]
		}
		fmt.Fprintf(&b, "\n--- last lines of %s ---\n%s", name, strings.Join(lines, "\n"))
	}
	return b.String()
}

func (ks *keystoneInstance) down() {
	if ks.started {
		// Not tied to the setup context: stopping must work after a timeout too.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := runScript(ctx, "down.sh", fmt.Sprintf("[keystone %s] ", ks.name),
			[]string{"KEYSTONE_DIR=" + ks.dir}, nil); err != nil {
			fmt.Fprintf(os.Stderr, "[keystone %s] teardown: %v\n", ks.name, err)
		}
	}
	if os.Getenv("KSAUTH_KEEP_KEYSTONE") == "1" {
		fmt.Fprintf(os.Stderr, "[keystone %s] KSAUTH_KEEP_KEYSTONE=1: state kept in %s\n", ks.name, ks.dir)
		return
	}
	if err := os.RemoveAll(ks.tmp); err != nil {
		fmt.Fprintf(os.Stderr, "[keystone %s] teardown: %v\n", ks.name, err)
	}
}

// keystoneTools are what up.sh needs; install.sh installs all of them.
var keystoneTools = []string{"keystone-manage", "uwsgi-core", "curl", "jq", "sqlite3"}

func ensureKeystoneInstalled(ctx context.Context) error {
	var missing []string
	for _, c := range keystoneTools {
		if _, err := exec.LookPath(c); err != nil {
			missing = append(missing, c)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("integration tests need a local Keystone but %s not found in PATH: "+
			"run `sudo scripts/keystone/install.sh` once (or set KSAUTH_KEYSTONE_FIXTURES to the fixtures.json of a running one)",
			strings.Join(missing, ", "))
	}
	fmt.Fprintf(os.Stderr, "[keystone] %s missing; running scripts/keystone/install.sh\n", strings.Join(missing, ", "))
	start := time.Now()
	if _, err := runScript(ctx, "install.sh", "[keystone install] ", nil, nil); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "[keystone] install.sh took %s\n", time.Since(start).Round(100*time.Millisecond))
	return nil
}

// setupIntegration makes ksMain and ksShort usable. With KSAUTH_KEYSTONE_FIXTURES
// (and optionally KSAUTH_KEYSTONE_SHORT_FIXTURES) it only loads those files;
// otherwise it starts two Keystones concurrently, "main" (3600 s tokens) and
// "short" (10 s tokens), each in its own temp dir on a free loopback port.
// teardown stops what was started and deletes the temp dirs; it is safe to
// call more than once.
func setupIntegration() (teardown func(), err error) {
	if path := os.Getenv("KSAUTH_KEYSTONE_FIXTURES"); path != "" {
		if ksMain, err = loadFixtures(path); err != nil {
			return nil, fmt.Errorf("KSAUTH_KEYSTONE_FIXTURES: %w", err)
		}
		if short := os.Getenv("KSAUTH_KEYSTONE_SHORT_FIXTURES"); short != "" {
			if ksShort, err = loadFixtures(short); err != nil {
				return nil, fmt.Errorf("KSAUTH_KEYSTONE_SHORT_FIXTURES: %w", err)
			}
		}
		fmt.Fprintf(os.Stderr, "[keystone] using %s from KSAUTH_KEYSTONE_FIXTURES (short-expiration Keystone: %v)\n",
			ksMain.AuthURL, ksShort != nil)
		return func() {}, nil
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := ensureKeystoneInstalled(ctx); err != nil {
		return nil, err
	}

	ports, err := freeLoopbackPorts(2)
	if err != nil {
		return nil, err
	}
	instances := []*keystoneInstance{
		{name: "main", port: ports[0], expiration: 3600},
		{name: "short", port: ports[1], expiration: 10},
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			var wg sync.WaitGroup
			for _, ks := range instances {
				if ks.tmp != "" {
					wg.Go(ks.down)
				}
			}
			wg.Wait()
		})
	}
	sigs := make(chan os.Signal, 1)
	defer func() {
		if err != nil { // the named result; teardown is nil then
			signal.Stop(sigs)
			close(sigs)
			stop()
			ksMain, ksShort = nil, nil
		}
	}()
	for _, ks := range instances {
		if ks.tmp, err = os.MkdirTemp("", "ksauth-keystone-"+ks.name+"-"); err != nil {
			return nil, err
		}
		ks.dir = filepath.Join(ks.tmp, "keystone")
	}

	// Ctrl-C or SIGTERM during setup or tests must not leave Keystones behind
	// (uwsgi runs in its own session, so it does not get the terminal's signal).
	upDone := make(chan struct{})
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig, ok := <-sigs
		if !ok {
			return
		}
		fmt.Fprintf(os.Stderr, "[keystone] %v: stopping the test Keystones\n", sig)
		cancel() // kills running up.sh scripts
		<-upDone // so that none starts a uwsgi after down.sh
		stop()
		os.Exit(130)
	}()

	start := time.Now()
	fixtures := make([]*keystoneFixtures, len(instances))
	errs := make([]error, len(instances))
	var wg sync.WaitGroup
	for i, ks := range instances {
		wg.Go(func() { fixtures[i], errs[i] = ks.up(ctx) })
	}
	wg.Wait()
	close(upDone)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	ksMain, ksShort = fixtures[0], fixtures[1]
	fmt.Fprintf(os.Stderr, "[keystone] main %s and short %s up in %s\n",
		ksMain.AuthURL, ksShort.AuthURL, time.Since(start).Round(100*time.Millisecond))
	return stop, nil
}

// TestIntegrationKeystoneIsUp proves the plumbing: the Keystones answer.
func TestIntegrationKeystoneIsUp(t *testing.T) {
	for name, f := range map[string]*keystoneFixtures{"main": ksMain, "short": ksShort} {
		t.Run(name, func(t *testing.T) {
			if f == nil {
				if name == "main" {
					t.Fatal("ksMain is nil: setupIntegration did not run")
				}
				t.Skip("no short-expiration Keystone")
			}
			resp, err := http.Get(f.AuthURL)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %s: %s", f.AuthURL, resp.Status, body)
			}
			var v struct {
				Version struct {
					ID string `json:"id"`
				} `json:"version"`
			}
			if err := json.Unmarshal(body, &v); err != nil || !strings.HasPrefix(v.Version.ID, "v3") {
				t.Fatalf("GET %s: not a Keystone v3 version document (%v): %s", f.AuthURL, err, body)
			}
			if name == "short" && f.TokenExpirationSeconds > 15 {
				t.Errorf("short Keystone has token_expiration_seconds=%d", f.TokenExpirationSeconds)
			}
		})
	}
}
