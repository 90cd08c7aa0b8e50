//go:build integration

package redisstore

// Integration tests against a real redis-server that TestMain starts itself
// on a free loopback port (no persistence, a temp dir), and stops at the
// end; a test binary that is killed takes its redis-servers with it (they
// get SIGKILL when it dies: Pdeathsig). redis-server is taken from
// $KSAUTH_REDIS_SERVER or $PATH; when missing, TestMain installs Debian's
// package (apt-get install -y redis-server) if it runs as root, and the
// tests skip, saying why, if not. Run:
//
//	go test -race -count=1 -tags integration ./...

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	redisBin  string     // the redis-server binary
	mainRedis *redisProc // the shared instance, emptied by each test
	skipWhy   string     // why there is no redis-server, when there is none
)

// helperEnv makes the test binary a stand-in for a test binary that is
// killed (TestRedisDiesWithTheTestBinary): it starts a redis-server, prints
// its pid and address, and waits to be killed.
const helperEnv = "KSAUTH_REDISSTORE_HELPER"

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	bin, skip, err := findRedisServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, "redisstore integration:", err)
		return 1
	}
	if os.Getenv(helperEnv) != "" {
		return runHelper(bin)
	}
	if skip != "" {
		skipWhy = skip
		fmt.Fprintln(os.Stderr, "redisstore integration: skipping the real-Redis tests:", skip)
		return m.Run()
	}
	redisBin = bin
	dir, err := os.MkdirTemp("", "redisstore-it-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "redisstore integration:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	mainRedis, err = startRedis(bin, filepath.Join(dir, "main"), 0, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "redisstore integration:", err)
		return 1
	}
	defer mainRedis.stop()
	fmt.Fprintf(os.Stderr, "redisstore integration: %s on %s\n", mainRedis.version, mainRedis.addr)
	return m.Run()
}

// findRedisServer returns the redis-server to use, installing Debian's
// package when there is none and this runs as root; or why the tests must
// skip; or an error when the install failed (as root, as in CI, a failed
// install fails the run rather than skip it).
func findRedisServer() (bin, skip string, err error) {
	if bin := os.Getenv("KSAUTH_REDIS_SERVER"); bin != "" {
		return bin, "", nil
	}
	if bin, err := exec.LookPath("redis-server"); err == nil {
		return bin, "", nil
	}
	if os.Geteuid() != 0 {
		return "", "no redis-server in $PATH and not root to install it: apt-get install redis-server, or set KSAUTH_REDIS_SERVER", nil
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return "", "no redis-server in $PATH and no apt-get to install it: install redis-server, or set KSAUTH_REDIS_SERVER", nil
	}
	if os.Getenv(helperEnv) != "" {
		return "", "", errors.New("helper: no redis-server")
	}
	apt := func(args ...string) error {
		fmt.Fprintln(os.Stderr, "redisstore integration: apt-get", strings.Join(args, " "))
		cmd := exec.Command("apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		return cmd.Run()
	}
	// Debian's package also starts a system redis on 6379 where it can; the
	// tests do not use it.
	if err := apt("install", "-y", "redis-server"); err != nil {
		if err := apt("update"); err != nil {
			return "", "", fmt.Errorf("apt-get update: %w", err)
		}
		if err := apt("install", "-y", "redis-server"); err != nil {
			return "", "", fmt.Errorf("apt-get install redis-server: %w", err)
		}
	}
	bin, err = exec.LookPath("redis-server")
	if err != nil {
		return "", "", fmt.Errorf("redis-server installed but not found: %w", err)
	}
	return bin, "", nil
}

// needRedis skips t when there is no redis-server.
func needRedis(t *testing.T) {
	t.Helper()
	if mainRedis == nil {
		t.Skip(skipWhy)
	}
}

// redisProc is a redis-server started by startRedis.
type redisProc struct {
	addr    string
	port    int
	pid     int
	version string
	log     string // its log file
	stopc   chan struct{}
	exited  chan struct{} // closed once it has exited and been reaped
	once    sync.Once
}

// startRedis starts redis-server in dir (created) on port, or a free one
// when port is 0, and waits until it accepts connections. extra are files
// it inherits (as fd 3 on). It runs in its own process group and gets
// SIGKILL when the test binary dies: it is started from a goroutine locked
// to its thread for its whole life, as Pdeathsig fires when the starting
// thread ends.
func startRedis(bin, dir string, port int, extra []*os.File) (*redisProc, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		p := port
		if p == 0 {
			var err error
			if p, err = freePort(); err != nil {
				return nil, err
			}
		}
		r, err := startRedisOnce(bin, dir, p, extra)
		if err == nil {
			return r, nil
		}
		lastErr = err
		if port != 0 || !strings.Contains(err.Error(), "Address already in use") {
			break
		}
	}
	return nil, lastErr
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startRedisOnce(bin, dir string, port int, extra []*os.File) (*redisProc, error) {
	logPath := filepath.Join(dir, "redis.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	r := &redisProc{
		addr:   net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		port:   port,
		log:    logPath,
		stopc:  make(chan struct{}),
		exited: make(chan struct{}),
	}
	started := make(chan error, 1)
	ready := make(chan string, 1) // its version, once it accepts connections
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		defer logFile.Close()
		cmd := exec.Command(bin,
			"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", dir,
			"--daemonize", "no", "--logfile", "", "--protected-mode", "yes")
		cmd.Dir = dir
		cmd.ExtraFiles = extra
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		out, err := cmd.StdoutPipe()
		if err != nil {
			started <- err
			return
		}
		cmd.Stderr = logFile
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		r.pid = cmd.Process.Pid
		started <- nil
		go func() {
			// Its log, to the file; "Ready to accept connections" says it
			// listens, and EOF before that that it failed.
			sc := bufio.NewScanner(out)
			version, said := "", false
			for sc.Scan() {
				line := sc.Text()
				fmt.Fprintln(logFile, line)
				if i := strings.Index(line, "version="); i >= 0 && version == "" {
					version, _, _ = strings.Cut(line[i+len("version="):], ",")
				}
				if strings.Contains(line, "Ready to accept connections") && !said {
					ready <- "redis " + version
					said = true
				}
			}
			io.Copy(logFile, out)
		}()
		waited := make(chan struct{})
		go func() { cmd.Wait(); close(waited) }()
		select {
		case <-r.stopc:
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-waited:
			case <-time.After(10 * time.Second):
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-waited
			}
		case <-waited:
		}
		close(r.exited)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	select {
	case r.version = <-ready:
	case <-r.exited:
		data, _ := os.ReadFile(logPath)
		return nil, fmt.Errorf("redis-server on port %d exited at start: %s", port, lastLines(string(data), 5))
	case <-time.After(30 * time.Second):
		r.stop()
		return nil, fmt.Errorf("redis-server on port %d not ready after 30 s (log %s)", port, logPath)
	}
	c := redis.NewClient(&redis.Options{Addr: r.addr})
	defer c.Close()
	if err := c.Ping(context.Background()).Err(); err != nil {
		r.stop()
		return nil, fmt.Errorf("redis-server on %s: PING: %w", r.addr, err)
	}
	return r, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// stop stops it (SIGTERM, then SIGKILL) and waits for it to be gone.
func (r *redisProc) stop() {
	r.once.Do(func() { close(r.stopc) })
	<-r.exited
}

// kill kills it at once (SIGKILL), as a crash would, and waits.
func (r *redisProc) kill() {
	syscall.Kill(r.pid, syscall.SIGKILL)
	<-r.exited
}

// startReal empties the shared redis-server for a test. Its forward
// shortens every key's ttl by d (deleting those that would have expired):
// the behaviours run without waiting, and TestRealExpiry checks that Redis
// itself expires keys.
func startReal(t *testing.T) server {
	needRedis(t)
	admin := newClient(t, mainRedis.addr)
	require.NoError(t, admin.FlushAll(context.Background()).Err())
	return server{
		addr: mainRedis.addr,
		forward: func(t *testing.T, d time.Duration) {
			ctx := context.Background()
			keys, err := admin.Keys(ctx, "*").Result()
			require.NoError(t, err)
			for _, k := range keys {
				ttl, err := admin.PTTL(ctx, k).Result()
				require.NoError(t, err)
				switch {
				case ttl <= 0: // none, or gone
				case ttl <= d:
					require.NoError(t, admin.Del(ctx, k).Err())
				default:
					require.NoError(t, admin.PExpire(ctx, k, ttl-d).Err())
				}
			}
		},
	}
}

func TestBehavioursRedis(t *testing.T) {
	needRedis(t)
	runBehaviours(t, startReal)
}

// eventually polls cond until it holds, for at most 10 s: Redis's own
// expiry runs on its clock.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 10*time.Second, 10*time.Millisecond, what)
}

func TestRealExpiry(t *testing.T) {
	srv := startReal(t)
	ctx := context.Background()
	s := newStore(t, srv.addr, Options{})
	require.NoError(t, s.Put(ctx, "k", []byte("entry-1"), 300*time.Millisecond))
	v, ttl, err := s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, []byte("entry-1"), v)
	assert.True(t, ttl > 0 && ttl <= 300*time.Millisecond, "ttl %s", ttl)
	eventually(t, "the entry expires", func() bool {
		v, _, err := s.Get(ctx, "k")
		require.NoError(t, err)
		return v == nil
	})

	_, ok, err := s.TryLock(ctx, "k", 300*time.Millisecond)
	require.NoError(t, err)
	require.True(t, ok)
	eventually(t, "the lock expires", func() bool {
		_, ok, err := s.TryLock(ctx, "k", time.Minute)
		require.NoError(t, err)
		return ok
	})
}

// A lock outlives its holder's connection (the holder died, or lost its
// network) and expires after its ttl.
func TestLockHolderKilled(t *testing.T) {
	srv := startReal(t)
	ctx := context.Background()
	admin := newClient(t, srv.addr)
	holderClient := redis.NewClient(&redis.Options{Addr: srv.addr, ClientName: "lock-holder", ContextTimeoutEnabled: true})
	t.Cleanup(func() { holderClient.Close() })
	holder, err := New(holderClient, Options{Secret: testSecret})
	require.NoError(t, err)
	other := newStore(t, srv.addr, Options{})

	_, ok, err := holder.TryLock(ctx, "k", 500*time.Millisecond)
	require.NoError(t, err)
	require.True(t, ok)

	list, err := admin.ClientList(ctx).Result()
	require.NoError(t, err)
	killed := 0
	for _, line := range strings.Split(list, "\n") {
		if !strings.Contains(line, " name=lock-holder ") {
			continue
		}
		id, _, _ := strings.Cut(strings.TrimPrefix(line, "id="), " ")
		n, err := admin.ClientKillByFilter(ctx, "ID", id).Result()
		require.NoError(t, err)
		killed += int(n)
	}
	require.Positive(t, killed, "the holder's connection")
	holderClient.Close()

	_, ok, err = other.TryLock(ctx, "k", time.Minute)
	require.NoError(t, err)
	assert.False(t, ok, "the lock outlives its holder's connection")
	eventually(t, "the dead holder's lock expires", func() bool {
		_, ok, err := other.TryLock(ctx, "k", time.Minute)
		require.NoError(t, err)
		return ok
	})
}

// A Redis killed mid-run: every call fails (promptly, with a client that
// does not retry), and once it is back (empty: no persistence) the same
// Store works again.
func TestRedisKilledAndRestarted(t *testing.T) {
	needRedis(t)
	ctx := context.Background()
	dir := t.TempDir()
	r, err := startRedis(redisBin, dir, 0, nil)
	require.NoError(t, err)
	t.Cleanup(r.stop)

	s := newStore(t, r.addr, Options{})
	quick := newStore(t, r.addr, Options{Timeout: 100 * time.Millisecond})
	lean, err := New(redis.NewClient(&redis.Options{Addr: r.addr, DialerRetries: 1, MaxRetries: -1, ContextTimeoutEnabled: true}), Options{Secret: testSecret, Timeout: 10 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { lean.client.Close() })
	require.NoError(t, s.Put(ctx, "k", []byte("entry-1"), time.Minute))
	require.NoError(t, lean.client.Ping(ctx).Err())

	require.NoError(t, quick.client.Ping(ctx).Err())

	r.kill()
	for _, err := range allOps(t, quick) {
		t.Log(err)
	}
	allOps(t, lean) // a pooled connection fails with EOF or a reset, then dials are refused
	for _, err := range allOps(t, lean) {
		assert.ErrorIs(t, err, syscall.ECONNREFUSED)
	}

	r, err = startRedis(redisBin, dir, r.port, nil)
	require.NoError(t, err)
	t.Cleanup(r.stop)
	v, _, err := s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Nil(t, v, "restarted empty")
	require.NoError(t, s.Put(ctx, "k", []byte("entry-2"), time.Minute))
	v, _, err = lean.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, []byte("entry-2"), v)
	rel, ok, err := lean.TryLock(ctx, "k", time.Minute)
	require.NoError(t, err)
	assert.True(t, ok)
	require.NoError(t, rel(ctx))
}

// A Redis that does not answer (CLIENT PAUSE) costs Options.Timeout.
func TestRedisPaused(t *testing.T) {
	srv := startReal(t)
	ctx := context.Background()
	admin := newClient(t, srv.addr)
	s := newStore(t, srv.addr, Options{Timeout: 50 * time.Millisecond})
	require.NoError(t, s.client.Ping(ctx).Err())
	require.NoError(t, admin.Do(ctx, "CLIENT", "PAUSE", "1000", "ALL").Err())
	for _, err := range allOps(t, s) {
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	}
	// The pause ends by itself; wait for it (a client with a long timeout).
	patient := redis.NewClient(&redis.Options{Addr: srv.addr, ReadTimeout: time.Minute})
	t.Cleanup(func() { patient.Close() })
	require.NoError(t, patient.Ping(ctx).Err())
	v, _, err := newStore(t, srv.addr, Options{}).Get(ctx, "k")
	require.NoError(t, err)
	assert.Nil(t, v)
}

// A test binary killed (go test -timeout, SIGKILL, a crashed CI step)
// leaves no redis-server behind. The stand-in binary's redis-server holds
// the write end of a pipe: reading its other end returns EOF once that
// redis-server is gone.
func TestRedisDiesWithTheTestBinary(t *testing.T) {
	needRedis(t)
	rd, wr, err := os.Pipe()
	require.NoError(t, err)
	defer rd.Close()
	helper := exec.Command(os.Args[0], "-test.run=^$")
	helper.Env = append(os.Environ(), helperEnv+"="+t.TempDir(), "KSAUTH_REDIS_SERVER="+redisBin)
	helper.ExtraFiles = []*os.File{wr}
	helper.Stderr = os.Stderr
	out, err := helper.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, helper.Start())
	wr.Close()
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err, "the helper's redis")
	var pid int
	var addr string
	_, err = fmt.Sscanf(line, "redis %d %s", &pid, &addr)
	require.NoError(t, err, "%q", line)
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) }) // if it survives
	c := newClient(t, addr)
	require.NoError(t, c.Ping(context.Background()).Err(), "it runs")

	require.NoError(t, helper.Process.Signal(syscall.SIGKILL))
	helper.Wait()
	require.NoError(t, rd.SetReadDeadline(time.Now().Add(30*time.Second)))
	_, err = rd.Read(make([]byte, 1))
	require.ErrorIs(t, err, io.EOF, "redis-server pid %d outlived the killed test binary", pid)
}

// runHelper is the stand-in test binary: it starts a redis-server that
// inherits fd 3 and prints "redis PID ADDR", then waits to be killed.
func runHelper(bin string) int {
	alive := os.NewFile(3, "alive")
	r, err := startRedis(bin, filepath.Join(os.Getenv(helperEnv), "helper"), 0, []*os.File{alive})
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 1
	}
	alive.Close()
	fmt.Printf("redis %d %s\n", r.pid, r.addr)
	time.Sleep(time.Hour) // until killed
	return 1
}

// The ACL the package doc gives is enough, and keeps the user to its
// prefix.
func TestACLUser(t *testing.T) {
	srv := startReal(t)
	ctx := context.Background()
	admin := newClient(t, srv.addr)
	var args []any
	for _, f := range strings.Fields("ACL SETUSER ksauth-it reset on >it-password resetkeys ~ksauth:* resetchannels -@all " + aclCommands) {
		args = append(args, f)
	}
	require.NoError(t, admin.Do(ctx, args...).Err())
	t.Cleanup(func() { admin.Do(ctx, "ACL", "DELUSER", "ksauth-it") })

	client := redis.NewClient(&redis.Options{Addr: srv.addr, Username: "ksauth-it", Password: "it-password", ContextTimeoutEnabled: true})
	t.Cleanup(func() { client.Close() })
	s, err := New(client, Options{Secret: testSecret, Timeout: 10 * time.Second})
	require.NoError(t, err)

	require.NoError(t, s.Put(ctx, "k", []byte("entry-1"), time.Minute))
	v, ttl, err := s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, []byte("entry-1"), v)
	assert.Positive(t, ttl)
	ok, err := s.CompareAndDelete(ctx, "k", []byte("entry-1"))
	require.NoError(t, err)
	assert.True(t, ok)
	release, ok, err := s.TryLock(ctx, "k", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, release(ctx))
	assert.Zero(t, admin.Exists(ctx, "ksauth:k:lock").Val(), "released")

	err = client.Set(ctx, "other:k", "v", time.Minute).Err()
	assert.ErrorContains(t, err, "NOPERM", "a key outside the prefix")
	other, err := New(client, Options{Secret: testSecret, Prefix: "other:", Timeout: 10 * time.Second})
	require.NoError(t, err)
	_, _, err = other.Get(ctx, "k")
	assert.ErrorContains(t, err, "NOPERM")
}

// aclCommands are the commands a Store sends (package doc).
const aclCommands = "+get +set +pttl +del +multi +exec +eval +evalsha"

func TestACLInPackageDoc(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	assert.Contains(t, string(doc), aclCommands)
}
