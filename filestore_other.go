//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package ksauth

// FileStore on the systems without flock(2) in the syscall package
// (Windows, Solaris and illumos, AIX, Plan 9, WASI, js): a best effort.
//
// TryLock's lock file is created with O_CREATE|O_EXCL and holds the lock's
// expiry and a random owner token; an expired one is removed by the next
// TryLock, and release removes the file only if it still holds its own
// token. Between reading and removing, another process can do the same, so
// two processes may occasionally both hold a lock, and a dead holder's lock
// lasts until its ttl. The write lock ordering Put and CompareAndDelete is
// only a mutex within the process. Nothing is lost by that but an extra
// login now and then: entries are still written atomically (rename). On
// Windows a Put may fail (and say so) while another process is reading the
// file it replaces.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// fileStoreModeBits reports whether mode bits are meaningful: not on
// Windows, where access is governed by ACLs.
func fileStoreModeBits() bool { return runtime.GOOS != "windows" }

// fileOwner is unknown here.
func fileOwner(fs.FileInfo) (int, bool) { return 0, false }

// openNoFollow opens path (these systems have no portable O_NOFOLLOW; the
// callers check with Lstat where it matters).
func openNoFollow(path string, flag int, perm fs.FileMode) (*os.File, error) {
	return os.OpenFile(path, flag, perm)
}

// openForRead opens path for reading.
func openForRead(path string) (*os.File, error) { return os.Open(path) }

// syncDirectory does nothing: directories cannot be synced portably here.
func syncDirectory(string) error { return nil }

// abandonedLock is how long a lock file that does not hold a readable
// expiry (its creator may still be writing it) is left alone.
const abandonedLock = time.Minute

// tryFileLock creates path exclusively, holding the expiry and a token.
func tryFileLock(path string, ttl time.Duration) (unlock func() error, ok bool, err error) {
	var tok [16]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return nil, false, &FileStoreError{Path: path, Reason: "cannot draw a lock token", Err: err}
	}
	token := hex.EncodeToString(tok[:])
	for attempt := 0; attempt < 2; attempt++ {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			_, werr := io.WriteString(f, strconv.FormatInt(fileExpiry(time.Now(), ttl), 10)+" "+token+"\n")
			cerr := f.Close()
			if werr != nil || cerr != nil {
				_ = os.Remove(path)
				return nil, false, &FileStoreError{Path: path, Reason: "cannot write the lock file", Err: errors.Join(werr, cerr)}
			}
			var once sync.Once
			return func() error {
				once.Do(func() {
					if _, t, _ := readLockFile(path); t == token {
						_ = os.Remove(path)
					}
				})
				return nil
			}, true, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, false, &FileStoreError{Path: path, Reason: "cannot create the lock file", Err: err}
		}
		if !lockExpired(path, time.Now()) {
			return nil, false, nil
		}
		_ = os.Remove(path)
	}
	return nil, false, nil
}

// readLockFile reads a lock file's expiry and token.
func readLockFile(path string) (expiry int64, token string, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil || len(b) > 128 {
		return 0, "", false
	}
	exp, tok, found := strings.Cut(strings.TrimSpace(string(b)), " ")
	n, err := strconv.ParseInt(exp, 10, 64)
	if !found || err != nil {
		return 0, "", false
	}
	return n, tok, true
}

// lockExpired reports whether the lock file at path has expired, or is
// unreadable and older than abandonedLock.
func lockExpired(path string, now time.Time) bool {
	if exp, _, ok := readLockFile(path); ok {
		return exp <= now.UnixNano()
	}
	fi, err := os.Stat(path)
	return err == nil && now.Sub(fi.ModTime()) > abandonedLock
}

// fileWriteLocks are the write locks of this process, by path.
var fileWriteLocks sync.Map // string → *sync.Mutex

// writeLock takes key's write lock: a mutex of this process.
func (s *FileStore) writeLock(ctx context.Context, key string) (unlock func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m, _ := fileWriteLocks.LoadOrStore(s.path(key), new(sync.Mutex))
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock, nil
}

// removeStaleLock removes an old lock file that has expired (TryLock's) or
// is a write lock file (never created here, but harmless).
func removeStaleLock(path string, _, now time.Time) {
	if strings.HasSuffix(path, fileStoreWriteLockSuffix) || lockExpired(path, now) {
		_ = os.Remove(path)
	}
}
