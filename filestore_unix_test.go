//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package ksauth

// FileStore tests that need flock(2) or other unix semantics: a lock holder
// that dies (a child process, killed), a write that fails as root too
// (RLIMIT_FSIZE in a child process), ownership, the XDG default directory,
// a write lock bounded by the context.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Environment of the helper process.
const (
	fileStoreHelperEnv    = "KSAUTH_FILESTORE_HELPER"     // what it does: lock, fsize
	fileStoreHelperDirEnv = "KSAUTH_FILESTORE_HELPER_DIR" // the store's directory
)

// startFileStoreHelper starts this test binary as a helper process doing
// what, on the store in dir, and returns it with its stdout.
func startFileStoreHelper(t *testing.T, what, dir string) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFileStoreHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), fileStoreHelperEnv+"="+what, fileStoreHelperDirEnv+"="+dir)
	cmd.Stderr = os.Stderr
	_, err := cmd.StdinPipe() // kept open: the helper waits on it
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd, bufio.NewReader(out)
}

// readHelperLine reads the helper's output up to a line starting with
// prefix, and returns that line.
func readHelperLine(t *testing.T, out *bufio.Reader, prefix string) string {
	t.Helper()
	for {
		line, err := out.ReadString('\n')
		if strings.HasPrefix(line, prefix) {
			return strings.TrimSpace(line)
		}
		require.NoError(t, err, "helper ended before %q", prefix)
	}
}

// TestFileStoreHelperProcess is not a test: it is the child process of the
// tests below (and skips itself otherwise).
func TestFileStoreHelperProcess(t *testing.T) {
	what := os.Getenv(fileStoreHelperEnv)
	if what == "" {
		t.Skip("the helper process of TestFileStoreLockHolderDies and TestFileStorePutFailsOnFileSizeLimit")
	}
	s, err := NewFileStore(os.Getenv(fileStoreHelperDirEnv))
	require.NoError(t, err)
	ctx := context.Background()
	switch what {
	case "lock":
		_, ok, err := s.TryLock(ctx, "k", time.Hour)
		require.NoError(t, err)
		require.True(t, ok)
		fmt.Println("locked")
		_, _ = io.Copy(io.Discard, os.Stdin) // until killed (or the parent dies)
	case "fsize":
		var lim syscall.Rlimit
		require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_FSIZE, &lim))
		lim.Cur = 4096
		require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim))
		err := s.Put(ctx, "k", make([]byte, 64<<10), time.Hour)
		fmt.Printf("put-error: %v\n", err)
	default:
		t.Fatalf("unknown helper %q", what)
	}
}

func TestFileStoreLockHolderDies(t *testing.T) {
	s := newTestFileStore(t)
	ctx := t.Context()
	cmd, out := startFileStoreHelper(t, "lock", s.Dir())
	readHelperLine(t, out, "locked")

	_, ok, err := s.TryLock(ctx, "k", time.Hour)
	require.NoError(t, err)
	assert.False(t, ok, "held by the child")

	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait() // killed: its files are closed, its flock gone

	release, ok, err := s.TryLock(ctx, "k", time.Hour)
	require.NoError(t, err)
	require.True(t, ok, "free once its holder died")
	require.NoError(t, release(ctx))
}

// A full disk, as root too: the child writes under RLIMIT_FSIZE, so its
// write fails (EFBIG; Go ignores SIGXFSZ) after the temporary file exists.
func TestFileStorePutFailsOnFileSizeLimit(t *testing.T) {
	s := newTestFileStore(t)
	ctx := t.Context()
	require.NoError(t, s.Put(ctx, "k", []byte("old"), time.Hour))

	cmd, out := startFileStoreHelper(t, "fsize", s.Dir())
	line := readHelperLine(t, out, "put-error:")
	require.NoError(t, cmd.Wait())
	path := filepath.Join(s.Dir(), "k")
	assert.Contains(t, line, "ksauth: file store: "+path+": cannot write the temporary file")
	assert.Contains(t, line, syscall.EFBIG.Error())

	assert.Empty(t, tempFiles(t, s.Dir()), "no temporary file left behind")
	v, _, err := s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, []byte("old"), v, "the old value stays")
}

func TestFileStoreWriteLockHonoursContext(t *testing.T) {
	s := newTestFileStore(t)
	other, err := NewFileStore(s.Dir())
	require.NoError(t, err)
	ctx := t.Context()
	require.NoError(t, s.Put(ctx, "k", []byte("old"), time.Hour))

	unlock, err := other.writeLock(ctx, "k") // another process mid-write
	require.NoError(t, err)
	done, cancel := context.WithCancel(ctx)
	errs := make(chan error, 2)
	go func() { errs <- s.Put(done, "k", []byte("new"), time.Hour) }()
	go func() {
		_, err := s.CompareAndDelete(done, "k", []byte("old"))
		errs <- err
	}()
	cancel()
	assert.ErrorIs(t, <-errs, context.Canceled)
	assert.ErrorIs(t, <-errs, context.Canceled)
	unlock()

	assert.Empty(t, tempFiles(t, s.Dir()))
	v, _, err := s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, []byte("old"), v)
	require.NoError(t, s.Put(ctx, "k", []byte("new"), time.Hour), "the write lock is free again")
}

func TestFileStoreRefusesOtherOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a file away")
	}
	ctx := t.Context()

	dir := filepath.Join(t.TempDir(), "ksauth")
	require.NoError(t, os.Mkdir(dir, 0o700))
	require.NoError(t, os.Chown(dir, 4242, 4242))
	_, err := NewFileStore(dir)
	requireFileStoreError(t, err, dir, "owned by uid 4242, not by this user (uid 0)")

	s := newTestFileStore(t)
	path := filepath.Join(s.Dir(), "secret.key")
	require.NoError(t, os.WriteFile(path, make([]byte, 32), 0o600))
	require.NoError(t, os.Chown(path, 4242, 4242))
	_, err = s.Secret(ctx)
	requireFileStoreError(t, err, path, "owned by uid 4242")
}

func TestFileStoreDefaultDirectory(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)

	xdg := filepath.Join(t.TempDir(), "cache")
	t.Setenv("XDG_CACHE_HOME", xdg)
	s, err := NewFileStore("")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(xdg, "ksauth"), s.Dir())
	fi, err := os.Stat(xdg)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm(), "missing parents are created 0700")

	for _, x := range []string{"", "relative/cache"} { // unset, or ignored as XDG says
		t.Setenv("XDG_CACHE_HOME", x)
		s, err = NewFileStore("")
		require.NoError(t, err)
		assert.Equal(t, filepath.Join(home, ".cache", "ksauth"), s.Dir())
	}

	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "")
	_, err = NewFileStore("")
	requireFileStoreError(t, err, "~/.cache/ksauth", "neither $XDG_CACHE_HOME")

	// A relative directory is made absolute.
	t.Chdir(home)
	s, err = NewFileStore("rel")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(home, "rel"), s.Dir())
}

func TestFileStoreSpecialFilesAreMisses(t *testing.T) {
	s := newTestFileStore(t)
	ctx := t.Context()

	// A FIFO would block a plain open for reading until a writer came.
	require.NoError(t, syscall.Mkfifo(filepath.Join(s.Dir(), "fifo"), 0o600))
	v, _, err := s.Get(ctx, "fifo")
	require.NoError(t, err)
	assert.Nil(t, v)
	ok, err := s.CompareAndDelete(ctx, "fifo", nil)
	require.NoError(t, err)
	assert.False(t, ok)

	// A symbolic link, even to a good entry, is not followed.
	good := writeEntryFile(t, s.Dir(), "good", encodeFileEntry([]byte("v"), time.Now().Add(time.Hour).UnixNano()))
	require.NoError(t, os.Symlink(good, filepath.Join(s.Dir(), "link")))
	v, _, err = s.Get(ctx, "link")
	assert.Nil(t, v)
	requireFileStoreError(t, err, filepath.Join(s.Dir(), "link"), "cannot open the file")
	assert.ErrorIs(t, err, syscall.ELOOP)
}
