package ksauth

// Tests of FileStore that hold on every system. The flock-specific ones
// (a lock holder that dies, a write refused by RLIMIT_FSIZE, ownership, the
// XDG default) are in filestore_unix_test.go.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newTestFileStore opens a store in a new directory under t.TempDir.
func newTestFileStore(t *testing.T) *FileStore {
	t.Helper()
	s, err := NewFileStore(filepath.Join(t.TempDir(), "ksauth"))
	require.NoError(t, err)
	return s
}

// requireFileStoreError asserts err is a *FileStoreError about path whose
// reason contains reason.
func requireFileStoreError(t *testing.T, err error, path, reason string) *FileStoreError {
	t.Helper()
	var fe *FileStoreError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, path, fe.Path)
	assert.Contains(t, fe.Reason, reason)
	assert.Contains(t, err.Error(), path)
	return fe
}

// tempFiles lists the temporary files left in dir.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), fileStoreTempPrefix) {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestFileStoreGetPutTTL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newTestFileStore(t)
		ctx := t.Context()

		v, ttl, err := s.Get(ctx, "k1")
		require.NoError(t, err)
		assert.Nil(t, v)
		assert.Zero(t, ttl)

		require.NoError(t, s.Put(ctx, "k1", []byte("one"), 10*time.Second))
		v, ttl, err = s.Get(ctx, "k1")
		require.NoError(t, err)
		assert.Equal(t, []byte("one"), v)
		assert.Equal(t, 10*time.Second, ttl) // time stands still in the bubble

		time.Sleep(4 * time.Second)
		_, ttl, err = s.Get(ctx, "k1")
		require.NoError(t, err)
		assert.Equal(t, 6*time.Second, ttl)

		// Overwrite: the new value and the new ttl.
		require.NoError(t, s.Put(ctx, "k1", []byte("two, longer"), 20*time.Second))
		v, ttl, err = s.Get(ctx, "k1")
		require.NoError(t, err)
		assert.Equal(t, []byte("two, longer"), v)
		assert.Equal(t, 20*time.Second, ttl)

		// Another key is another file.
		require.NoError(t, s.Put(ctx, "k2", []byte("other"), time.Minute))

		time.Sleep(20 * time.Second) // k1 expires exactly now
		v, ttl, err = s.Get(ctx, "k1")
		require.NoError(t, err)
		assert.Nil(t, v, "an expired entry is a miss")
		assert.Zero(t, ttl)
		v, ttl, err = s.Get(ctx, "k2")
		require.NoError(t, err)
		assert.Equal(t, []byte("other"), v)
		assert.Equal(t, 40*time.Second, ttl)

		// A ttl too long for unix nanoseconds saturates instead of wrapping.
		require.NoError(t, s.Put(ctx, "k3", []byte("forever"), time.Duration(1<<63-1)))
		v, ttl, err = s.Get(ctx, "k3")
		require.NoError(t, err)
		assert.Equal(t, []byte("forever"), v)
		assert.Greater(t, ttl, 100*365*24*time.Hour)
	})
}

func TestFileStoreLargestValue(t *testing.T) {
	s := newTestFileStore(t)
	ctx := t.Context()
	big := bytes.Repeat([]byte("0123456789abcdef"), fileStoreMaxValue/16)
	require.NoError(t, s.Put(ctx, "big", big, time.Hour))
	v, _, err := s.Get(ctx, "big")
	require.NoError(t, err)
	assert.Equal(t, big, v)

	err = s.Put(ctx, "big", append(big, 'x'), time.Hour)
	requireFileStoreError(t, err, filepath.Join(s.Dir(), "big"), "at most")
	v, _, err = s.Get(ctx, "big")
	require.NoError(t, err)
	assert.Equal(t, big, v, "a refused Put leaves the old value")
}

func TestFileStoreCompareAndDelete(t *testing.T) {
	s := newTestFileStore(t)
	other, err := NewFileStore(s.Dir()) // another process, in effect
	require.NoError(t, err)
	ctx := t.Context()

	ok, err := s.CompareAndDelete(ctx, "k", []byte("a"))
	require.NoError(t, err)
	assert.False(t, ok, "nothing to delete")

	require.NoError(t, s.Put(ctx, "k", []byte("a"), time.Hour))
	require.NoError(t, other.Put(ctx, "k", []byte("b"), time.Hour)) // replaced meanwhile

	ok, err = s.CompareAndDelete(ctx, "k", []byte("a"))
	require.NoError(t, err)
	assert.False(t, ok, "the value changed: not deleted")
	v, _, err := s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, []byte("b"), v)

	ok, err = s.CompareAndDelete(ctx, "k", []byte("b\x00"))
	require.NoError(t, err)
	assert.False(t, ok, "byte for byte")

	ok, err = s.CompareAndDelete(ctx, "k", []byte("b"))
	require.NoError(t, err)
	assert.True(t, ok)
	v, _, err = other.Get(ctx, "k")
	require.NoError(t, err)
	assert.Nil(t, v)
	_, err = os.Lstat(filepath.Join(s.Dir(), "k"))
	assert.ErrorIs(t, err, fs.ErrNotExist)

	ok, err = other.CompareAndDelete(ctx, "k", []byte("b"))
	require.NoError(t, err)
	assert.False(t, ok, "already deleted")
}

func TestFileStoreCompareAndDeleteExpired(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newTestFileStore(t)
		ctx := t.Context()
		require.NoError(t, s.Put(ctx, "k", []byte("a"), time.Second))
		time.Sleep(2 * time.Second)
		ok, err := s.CompareAndDelete(ctx, "k", []byte("a"))
		require.NoError(t, err)
		assert.True(t, ok, "an expired entry that is still old is deleted too")
		_, err = os.Lstat(filepath.Join(s.Dir(), "k"))
		assert.ErrorIs(t, err, fs.ErrNotExist)
	})
}

func TestFileStoreRefusesKeys(t *testing.T) {
	s := newTestFileStore(t)
	ctx := t.Context()
	parent := filepath.Dir(s.Dir())
	for _, key := range []string{
		"", "../x", "..", ".", "a/b", `a\b`, "A", "Key", "a.lock", "secret.key",
		".tmp-x", "a b", "é", "a\x00", strings.Repeat("a", 129),
	} {
		t.Run(fmt.Sprintf("%q", key), func(t *testing.T) {
			_, _, err := s.Get(ctx, key)
			requireFileStoreError(t, err, s.Dir(), "invalid key")
			err = s.Put(ctx, key, []byte("v"), time.Hour)
			requireFileStoreError(t, err, s.Dir(), "invalid key")
			_, err = s.CompareAndDelete(ctx, key, []byte("v"))
			requireFileStoreError(t, err, s.Dir(), "invalid key")
			_, _, err = s.TryLock(ctx, key, time.Hour)
			requireFileStoreError(t, err, s.Dir(), "invalid key")
		})
	}
	entries, err := os.ReadDir(s.Dir())
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing written in the store")
	entries, err = os.ReadDir(parent)
	require.NoError(t, err)
	require.Len(t, entries, 1, "nothing written beside it")

	// The longest key, and every allowed character, are fine.
	for _, key := range []string{strings.Repeat("z", 128), "abcdefghijklmnopqrstuvwxyz-0123456789", "-"} {
		require.NoError(t, s.Put(ctx, key, []byte("v"), time.Hour), key)
		v, _, err := s.Get(ctx, key)
		require.NoError(t, err)
		assert.Equal(t, []byte("v"), v)
	}
}

func TestFileStoreRefusesBadArguments(t *testing.T) {
	s := newTestFileStore(t)
	ctx := t.Context()
	path := filepath.Join(s.Dir(), "k")
	for _, ttl := range []time.Duration{0, -time.Second} {
		requireFileStoreError(t, s.Put(ctx, "k", []byte("v"), ttl), path, "ttl")
		_, _, err := s.TryLock(ctx, "k", ttl)
		requireFileStoreError(t, err, path+".lock", "ttl")
	}

	done, cancel := context.WithCancel(ctx)
	cancel()
	_, _, err := s.Get(done, "k")
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, s.Put(done, "k", []byte("v"), time.Hour), context.Canceled)
	_, err = s.CompareAndDelete(done, "k", []byte("v"))
	assert.ErrorIs(t, err, context.Canceled)
	_, _, err = s.TryLock(done, "k", time.Hour)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = s.Secret(done)
	assert.ErrorIs(t, err, context.Canceled)
	entries, err := os.ReadDir(s.Dir())
	require.NoError(t, err)
	assert.Empty(t, entries)
}

func TestFileStoreZeroValueRefuses(t *testing.T) {
	var s FileStore
	ctx := t.Context()
	_, _, err := s.Get(ctx, "k")
	requireFileStoreError(t, err, "(none)", "NewFileStore")
	requireFileStoreError(t, s.Put(ctx, "k", []byte("v"), time.Hour), "(none)", "NewFileStore")
	_, err = s.CompareAndDelete(ctx, "k", nil)
	requireFileStoreError(t, err, "(none)", "NewFileStore")
	_, _, err = s.TryLock(ctx, "k", time.Hour)
	requireFileStoreError(t, err, "(none)", "NewFileStore")
	_, err = s.Secret(ctx)
	requireFileStoreError(t, err, "(none)", "NewFileStore")
}

func TestFileStorePermissions(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "a", "b", "ksauth")
	s, err := NewFileStore(dir)
	require.NoError(t, err)
	assert.Equal(t, dir, s.Dir())
	ctx := t.Context()

	require.NoError(t, s.Put(ctx, "k", []byte("v"), time.Hour))
	release, ok, err := s.TryLock(ctx, "k", time.Hour)
	require.NoError(t, err)
	require.True(t, ok)
	defer func() { require.NoError(t, release(ctx)) }()
	sec, err := s.Secret(ctx)
	require.NoError(t, err)
	assert.Len(t, sec, 32)
	assert.NotEqual(t, make([]byte, 32), sec)

	if runtime.GOOS == "windows" {
		return // no mode bits
	}
	for _, d := range []string{filepath.Join(base, "a"), filepath.Join(base, "a", "b"), dir} {
		fi, err := os.Stat(d)
		require.NoError(t, err)
		assert.Equal(t, fs.FileMode(0o700), fi.Mode().Perm(), d)
	}
	for _, name := range []string{"k", "k.lock", "k.wlock", "secret.key"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if name == "k.wlock" && errors.Is(err, fs.ErrNotExist) {
			continue // in-process write locks on systems without flock
		}
		require.NoError(t, err)
		assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm(), name)
	}
	onDisk, err := os.ReadFile(filepath.Join(dir, "secret.key"))
	require.NoError(t, err)
	assert.Equal(t, sec, onDisk)
}

func TestFileStoreSecretIsStable(t *testing.T) {
	s := newTestFileStore(t)
	ctx := t.Context()
	sec, err := s.Secret(ctx)
	require.NoError(t, err)
	sec[0] ^= 0xff // the caller's copy
	again, err := s.Secret(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, sec, again, "Secret returns a copy")

	reopened, err := NewFileStore(s.Dir())
	require.NoError(t, err)
	third, err := reopened.Secret(ctx)
	require.NoError(t, err)
	assert.Equal(t, again, third, "the same secret for every FileStore on the directory")

	// Kept in memory: a FileStore that read it does not read it again.
	require.NoError(t, os.Remove(filepath.Join(s.Dir(), "secret.key")))
	fourth, err := s.Secret(ctx)
	require.NoError(t, err)
	assert.Equal(t, again, fourth)
}

func TestFileStoreNeverPrintsItsSecret(t *testing.T) {
	s := newTestFileStore(t)
	sec, err := s.Secret(t.Context())
	require.NoError(t, err)
	shapes := []string{string(sec), fmt.Sprintf("%x", sec), fmt.Sprintf("%X", sec),
		strings.Trim(fmt.Sprint(sec), "[]"), strings.Trim(fmt.Sprintf("%#v", sec), "[]uint8{}")}
	for form, held := range heldForms(s) {
		for how, out := range printings(held) {
			for _, shape := range shapes {
				assert.NotContains(t, out, shape, "%s, %s", form, how)
			}
		}
	}
	assert.Contains(t, fmt.Sprintf("%+v", s), s.Dir(), "the directory is shown")
}

func TestFileStoreSecretRace(t *testing.T) {
	dir := newTestFileStore(t).Dir()
	const n = 16
	secrets := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s, err := NewFileStore(dir) // one per "process"
			if err != nil {
				errs[i] = err
				return
			}
			secrets[i], errs[i] = s.Secret(context.Background())
		})
	}
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i])
		assert.Equal(t, secrets[0], secrets[i])
	}
	assert.Len(t, secrets[0], 32)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "only secret.key, no temporary file left")
	assert.Equal(t, "secret.key", entries[0].Name())
}

func TestFileStoreRefusesBadSecret(t *testing.T) {
	ctx := t.Context()
	good := bytes.Repeat([]byte{7}, 32)
	cases := []struct {
		name   string
		setup  func(path string) error
		reason string
	}{
		{"short", func(p string) error { return os.WriteFile(p, good[:31], 0o600) }, "31 bytes long"},
		{"long", func(p string) error { return os.WriteFile(p, append(good, 1), 0o600) }, "33 bytes long"},
		{"empty", func(p string) error { return os.WriteFile(p, nil, 0o600) }, "0 bytes long"},
		{"directory", func(p string) error { return os.Mkdir(p, 0o700) }, "not a regular file"},
	}
	if runtime.GOOS != "windows" {
		chmodded := func(mode fs.FileMode) func(string) error {
			return func(p string) error {
				if err := os.WriteFile(p, good, 0o600); err != nil {
					return err
				}
				return os.Chmod(p, mode)
			}
		}
		cases = append(cases,
			struct {
				name   string
				setup  func(path string) error
				reason string
			}{"0644", chmodded(0o644), "mode 0644"},
			struct {
				name   string
				setup  func(path string) error
				reason string
			}{"0640", chmodded(0o640), "mode 0640"},
			struct {
				name   string
				setup  func(path string) error
				reason string
			}{"0604", chmodded(0o604), "mode 0604"},
			struct {
				name   string
				setup  func(path string) error
				reason string
			}{"symlink", func(p string) error {
				target := p + "-target"
				if err := os.WriteFile(target, good, 0o600); err != nil {
					return err
				}
				return os.Symlink(target, p)
			}, "symbolic link"},
		)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newTestFileStore(t)
			path := filepath.Join(s.Dir(), "secret.key")
			require.NoError(t, c.setup(path))
			sec, err := s.Secret(ctx)
			assert.Nil(t, sec)
			requireFileStoreError(t, err, path, c.reason)
			assert.NotContains(t, err.Error(), string(good))
			assert.NotContains(t, err.Error(), fmt.Sprintf("%x", good[:4]))
		})
	}

	t.Run("0400 is fine", func(t *testing.T) {
		if runtime.GOOS == "windows" {
			t.Skip("no mode bits")
		}
		s := newTestFileStore(t)
		path := filepath.Join(s.Dir(), "secret.key")
		require.NoError(t, os.WriteFile(path, good, 0o400))
		sec, err := s.Secret(ctx)
		require.NoError(t, err)
		assert.Equal(t, good, sec)
	})
}

func TestFileStoreRefusesUnsafeDirectory(t *testing.T) {
	base := t.TempDir()

	file := filepath.Join(base, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, err := NewFileStore(file)
	requireFileStoreError(t, err, file, "not a directory")

	if runtime.GOOS == "windows" {
		return // no mode bits, and symbolic links need privileges
	}
	real := filepath.Join(base, "real")
	require.NoError(t, os.Mkdir(real, 0o700))
	link := filepath.Join(base, "link")
	require.NoError(t, os.Symlink(real, link))
	_, err = NewFileStore(link)
	requireFileStoreError(t, err, link, "symbolic link")
	dangling := filepath.Join(base, "dangling")
	require.NoError(t, os.Symlink(filepath.Join(base, "nowhere"), dangling))
	_, err = NewFileStore(dangling)
	requireFileStoreError(t, err, dangling, "symbolic link")

	for _, mode := range []fs.FileMode{0o777, 0o770, 0o707, 0o720, 0o702, 0o730} {
		dir := filepath.Join(base, fmt.Sprintf("m%o", mode))
		require.NoError(t, os.Mkdir(dir, 0o700))
		require.NoError(t, os.Chmod(dir, mode))
		s, err := NewFileStore(dir)
		assert.Nil(t, s)
		requireFileStoreError(t, err, dir, fmt.Sprintf("mode %04o: the directory is writable by its group or by others", mode))
	}
	for _, mode := range []fs.FileMode{0o700, 0o750, 0o755, 0o705} {
		dir := filepath.Join(base, fmt.Sprintf("ok%o", mode))
		require.NoError(t, os.Mkdir(dir, 0o700))
		require.NoError(t, os.Chmod(dir, mode))
		_, err := NewFileStore(dir)
		assert.NoError(t, err, "mode %04o", mode)
	}
}

func TestFileStoreConcurrentPutGet(t *testing.T) {
	s1 := newTestFileStore(t)
	s2, err := NewFileStore(s1.Dir()) // two "processes" on one directory
	require.NoError(t, err)
	stores := []*FileStore{s1, s2}
	ctx := t.Context()

	// Values of distinct lengths and contents: a torn read matches none.
	values := make(map[int][]byte)
	var list [][]byte
	for i := range 8 {
		v := bytes.Repeat([]byte{byte('a' + i)}, 1000*(i+1)+i)
		values[len(v)] = v
		list = append(list, v)
	}

	// Stored before the readers start: from then on every read must find
	// one of the values whole (a torn file would be a miss, or a mix).
	require.NoError(t, s1.Put(ctx, "shared", list[0], time.Hour))

	const writers, puts, readers = 4, 40, 4
	var wg sync.WaitGroup
	var stop sync.WaitGroup
	stop.Add(writers)
	errs := make(chan error, writers*puts+readers)
	for w := range writers {
		wg.Go(func() {
			defer stop.Done()
			for i := range puts {
				v := list[(w*puts+i)%len(list)]
				if err := stores[(w+i)%2].Put(ctx, "shared", v, time.Hour); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	writing := make(chan struct{})
	go func() { stop.Wait(); close(writing) }()
	var reads sync.Map
	for r := range readers {
		wg.Go(func() {
			n := 0
			for {
				select {
				case <-writing:
					reads.Store(r, n)
					return
				default:
				}
				v, _, err := stores[r%2].Get(ctx, "shared")
				if err != nil {
					errs <- err
					return
				}
				if v == nil {
					errs <- errors.New("a miss while writers replace the value")
					return
				}
				n++
				if want, ok := values[len(v)]; !ok || !bytes.Equal(want, v) {
					errs <- fmt.Errorf("torn read: %d bytes starting %q", len(v), v[:min(len(v), 8)])
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	v1, _, err := s1.Get(ctx, "shared")
	require.NoError(t, err)
	v2, _, err := s2.Get(ctx, "shared")
	require.NoError(t, err)
	assert.Equal(t, v1, v2, "both stores agree")
	assert.Contains(t, list, v1)
	assert.Empty(t, tempFiles(t, s1.Dir()))
}

func TestFileStoreTryLock(t *testing.T) {
	s1 := newTestFileStore(t)
	s2, err := NewFileStore(s1.Dir())
	require.NoError(t, err)
	ctx := t.Context()

	r1, ok, err := s1.TryLock(ctx, "k", time.Hour)
	require.NoError(t, err)
	require.True(t, ok)
	require.NotNil(t, r1)

	r, ok, err := s2.TryLock(ctx, "k", time.Hour)
	require.NoError(t, err)
	assert.False(t, ok, "held: another FileStore on the directory")
	assert.Nil(t, r)
	_, ok, err = s1.TryLock(ctx, "k", time.Hour)
	require.NoError(t, err)
	assert.False(t, ok, "held: the same FileStore, another goroutine")

	rOther, ok, err := s2.TryLock(ctx, "other", time.Hour)
	require.NoError(t, err)
	assert.True(t, ok, "locks are per key")
	require.NoError(t, rOther(ctx))

	// The lock is not the data file: reads, writes and deletes go on.
	require.NoError(t, s2.Put(ctx, "k", []byte("v"), time.Hour))
	v, _, err := s2.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, []byte("v"), v)
	deleted, err := s2.CompareAndDelete(ctx, "k", []byte("v"))
	require.NoError(t, err)
	assert.True(t, deleted)

	require.NoError(t, r1(ctx))
	r2, ok, err := s2.TryLock(ctx, "k", time.Hour)
	require.NoError(t, err)
	require.True(t, ok, "free after release")
	_, err = os.Stat(filepath.Join(s1.Dir(), "k.lock"))
	assert.NoError(t, err, "the lock file stays")

	require.NoError(t, r1(ctx), "a second release does nothing")
	_, ok, err = s1.TryLock(ctx, "k", time.Hour)
	require.NoError(t, err)
	assert.False(t, ok, "and does not free the new holder's lock")

	require.NoError(t, r2(ctx))
	r3, ok, err := s1.TryLock(ctx, "k", time.Hour)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, r3(ctx))
}

func TestFileStoreTryLockExpires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s1 := newTestFileStore(t)
		s2, err := NewFileStore(s1.Dir())
		require.NoError(t, err)
		ctx := t.Context()

		r1, ok, err := s1.TryLock(ctx, "k", 5*time.Second)
		require.NoError(t, err)
		require.True(t, ok)

		time.Sleep(4 * time.Second)
		synctest.Wait()
		_, ok, err = s2.TryLock(ctx, "k", 5*time.Second)
		require.NoError(t, err)
		assert.False(t, ok, "still held before its ttl")

		time.Sleep(time.Second)
		synctest.Wait()
		r2, ok, err := s2.TryLock(ctx, "k", 5*time.Second)
		require.NoError(t, err)
		require.True(t, ok, "free once its ttl has passed")

		require.NoError(t, r1(ctx), "releasing an expired lock does nothing")
		_, ok, err = s1.TryLock(ctx, "k", 5*time.Second)
		require.NoError(t, err)
		assert.False(t, ok, "in particular it does not free the new holder's")
		require.NoError(t, r2(ctx))
	})
}

// writeEntryFile writes a data file for key by hand.
func writeEntryFile(t *testing.T, dir, key string, content []byte) string {
	t.Helper()
	path := filepath.Join(dir, key)
	require.NoError(t, os.WriteFile(path, content, 0o600))
	return path
}

func TestFileStoreCorruptFilesAreMisses(t *testing.T) {
	s := newTestFileStore(t)
	ctx := t.Context()
	future := time.Now().Add(time.Hour).UnixNano()
	good := encodeFileEntry([]byte("the value"), future)
	with := func(i int, b byte) []byte {
		c := bytes.Clone(good)
		c[i] = b
		return c
	}

	// The hand-made entry is read, so that the misses below mean something.
	writeEntryFile(t, s.Dir(), "good", good)
	v, ttl, err := s.Get(ctx, "good")
	require.NoError(t, err)
	assert.Equal(t, []byte("the value"), v)
	assert.Greater(t, ttl, 59*time.Minute)

	garbage := make([]byte, 100)
	for i := range garbage {
		garbage[i] = byte(i*7 + 3)
	}
	cases := map[string][]byte{
		"empty":            {},
		"truncated header": good[:10],
		"header only":      good[:fileStoreHeaderLen],
		"truncated value":  good[:len(good)-1],
		"trailing bytes":   append(bytes.Clone(good), 0),
		"garbage":          garbage,
		"text":             []byte("KSFS is not enough of a header, really not\n"),
		"other magic":      with(0, 'X'),
		"wrong version":    with(4, 2),
		"version zero":     with(4, 0),
		"reserved byte":    with(6, 1),
		"bad checksum":     with(fileStoreHeaderLen, 'T'),
		"length too large": with(16, 0xff),
		"expired":          encodeFileEntry([]byte("old"), time.Now().Add(-time.Second).UnixNano()),
		"negative expiry":  encodeFileEntry([]byte("old"), -1),
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			writeEntryFile(t, s.Dir(), "k", content)
			v, ttl, err := s.Get(ctx, "k")
			require.NoError(t, err)
			assert.Nil(t, v)
			assert.Zero(t, ttl)
			ok, err := s.CompareAndDelete(ctx, "k", []byte("the value"))
			require.NoError(t, err)
			assert.False(t, ok)
		})
	}

	t.Run("huge", func(t *testing.T) {
		// A well-formed header announcing 64 MiB, in a sparse file.
		path := filepath.Join(s.Dir(), "huge")
		huge := encodeFileEntry(nil, future)
		huge[16] = 0x04 // 64 MiB
		require.NoError(t, os.WriteFile(path, huge, 0o600))
		require.NoError(t, os.Truncate(path, fileStoreHeaderLen+64<<20))
		v, ttl, err := s.Get(ctx, "huge")
		require.NoError(t, err)
		assert.Nil(t, v)
		assert.Zero(t, ttl)
	})

	t.Run("a directory", func(t *testing.T) {
		require.NoError(t, os.Mkdir(filepath.Join(s.Dir(), "adir"), 0o700))
		v, _, err := s.Get(ctx, "adir")
		require.NoError(t, err)
		assert.Nil(t, v)
	})
}

func TestFileStorePutFailureLeavesNothing(t *testing.T) {
	ctx := t.Context()

	// Root ignores permissions, so the failure is made otherwise: the rename
	// over the key's file fails because a (non-empty) directory has its name.
	t.Run("rename fails", func(t *testing.T) {
		s := newTestFileStore(t)
		path := filepath.Join(s.Dir(), "k")
		require.NoError(t, os.Mkdir(path, 0o700))
		require.NoError(t, os.WriteFile(filepath.Join(path, "x"), nil, 0o600))
		err := s.Put(ctx, "k", []byte("v"), time.Hour)
		requireFileStoreError(t, err, path, "cannot replace the file")
		assert.Empty(t, tempFiles(t, s.Dir()))
	})

	t.Run("directory replaced by a file", func(t *testing.T) {
		s := newTestFileStore(t)
		require.NoError(t, os.Remove(s.Dir()))
		require.NoError(t, os.WriteFile(s.Dir(), nil, 0o600))
		err := s.Put(ctx, "k", []byte("v"), time.Hour)
		requireFileStoreError(t, err, filepath.Join(s.Dir(), "k"), "cannot create a temporary file")
	})

	t.Run("read-only directory", func(t *testing.T) {
		if runtime.GOOS == "windows" || os.Geteuid() == 0 {
			t.Skip("needs permissions that bind (not root, not Windows)")
		}
		s := newTestFileStore(t)
		require.NoError(t, s.Put(ctx, "k", []byte("old"), time.Hour))
		require.NoError(t, os.Chmod(s.Dir(), 0o500))
		t.Cleanup(func() { _ = os.Chmod(s.Dir(), 0o700) })
		err := s.Put(ctx, "k", []byte("new"), time.Hour)
		requireFileStoreError(t, err, filepath.Join(s.Dir(), "k"), "cannot create a temporary file")
		assert.Empty(t, tempFiles(t, s.Dir()))
		v, _, err := s.Get(ctx, "k")
		require.NoError(t, err)
		assert.Equal(t, []byte("old"), v)
	})
}

// setMtime sets a file's modification time age ago.
func setMtime(t *testing.T, path string, age time.Duration) {
	t.Helper()
	when := time.Now().Add(-age)
	require.NoError(t, os.Chtimes(path, when, when))
}

func TestFileStoreRemovesStaleFiles(t *testing.T) {
	s := newTestFileStore(t)
	dir := s.Dir()
	ctx := t.Context()
	const old, recent = 8 * 24 * time.Hour, 6 * 24 * time.Hour
	expired := encodeFileEntry([]byte("x"), time.Now().Add(-time.Hour).UnixNano())
	live := encodeFileEntry([]byte("x"), time.Now().Add(30*24*time.Hour).UnixNano())

	files := map[string]struct {
		content []byte
		age     time.Duration
		kept    bool
	}{
		"expired-old":    {expired, old, false},
		"garbage-old":    {[]byte("garbage"), old, false},
		"expired-recent": {expired, recent, true},
		"live-old":       {live, old, true}, // a long ttl outlives seven days
		"k1.lock":        {nil, old, false},
		"k3.lock":        {nil, recent, true},
		"k4.wlock":       {nil, old, false},
		".tmp-k-1":       {[]byte("half"), old, false},
		".tmp-k-2":       {[]byte("half"), recent, true},
		"secret.key":     {bytes.Repeat([]byte{1}, 32), old, true},
		"notes.txt":      {[]byte("not ours"), old, true},
		"Upper":          {expired, old, true},
		"x.lock.bak":     {nil, old, true},
	}
	for name, f := range files {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, f.content, 0o600))
		setMtime(t, path, f.age)
	}
	sub := filepath.Join(dir, "sub")
	require.NoError(t, os.Mkdir(sub, 0o700))
	setMtime(t, sub, old)

	// A held lock stays however old its file.
	release, ok, err := s.TryLock(ctx, "k2", time.Hour)
	require.NoError(t, err)
	require.True(t, ok)
	setMtime(t, filepath.Join(dir, "k2.lock"), old)

	s.cleanStale(time.Now())

	for name, f := range files {
		_, err := os.Lstat(filepath.Join(dir, name))
		if f.kept {
			assert.NoError(t, err, "%s kept", name)
		} else {
			assert.ErrorIs(t, err, fs.ErrNotExist, "%s removed", name)
		}
	}
	_, err = os.Lstat(sub)
	assert.NoError(t, err, "directories are not the store's")
	_, err = os.Lstat(filepath.Join(dir, "k2.lock"))
	assert.NoError(t, err, "a held lock's file stays")

	// The lock is still held, and still works after release.
	_, ok, err = s.TryLock(ctx, "k2", time.Hour)
	require.NoError(t, err)
	assert.False(t, ok)
	require.NoError(t, release(ctx))
	r, ok, err := s.TryLock(ctx, "k2", time.Hour)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, r(ctx))

	// A removed lock file is created again.
	r, ok, err = s.TryLock(ctx, "k1", time.Hour)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, r(ctx))
}

func TestFileStoreCleansOnOpenAtMostHourly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ksauth")
	require.NoError(t, os.Mkdir(dir, 0o700))
	stale := func(name string) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, nil, 0o600))
		setMtime(t, path, 8*24*time.Hour)
		return path
	}
	first := stale(".tmp-a")

	s, err := NewFileStore(dir)
	require.NoError(t, err)
	_, err = os.Lstat(first)
	assert.ErrorIs(t, err, fs.ErrNotExist, "cleaned on the first open")

	second := stale(".tmp-b")
	_, err = NewFileStore(dir)
	require.NoError(t, err)
	_, err = os.Lstat(second)
	assert.NoError(t, err, "not again within the hour")

	s.maybeCleanStale(time.Now().Add(30 * time.Minute))
	_, err = os.Lstat(second)
	assert.NoError(t, err, "not within the hour")
	s.maybeCleanStale(time.Now().Add(61 * time.Minute))
	_, err = os.Lstat(second)
	assert.ErrorIs(t, err, fs.ErrNotExist, "again after an hour")
}

func TestFileStoreStaleScanIsBounded(t *testing.T) {
	s := newTestFileStore(t)
	for i := range 5 {
		path := filepath.Join(s.Dir(), fmt.Sprintf(".tmp-%d", i))
		require.NoError(t, os.WriteFile(path, nil, 0o600))
		setMtime(t, path, 8*24*time.Hour)
	}
	saved := fileStoreScanLimit
	fileStoreScanLimit = 2
	t.Cleanup(func() { fileStoreScanLimit = saved })
	s.cleanStale(time.Now())
	assert.Len(t, tempFiles(t, s.Dir()), 3, "two entries examined, two removed")
}
