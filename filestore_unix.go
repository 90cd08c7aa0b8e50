//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package ksauth

// FileStore on the systems with flock(2): locks, permissions, the directory
// sync.
//
// A lock file is never removed while someone may hold it: cleanStale
// removes one only while holding its flock itself. A locker, once it has
// the flock, checks that the path still names the file it locked (it may
// have opened the file just before a removal) and starts over if not, so
// two holders never hold two different files of the same name.

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"sync"
	"syscall"
	"time"
)

// fileStoreModeBits reports whether mode bits are meaningful (they are).
func fileStoreModeBits() bool { return true }

// fileOwner is the file's owner.
func fileOwner(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}

// openNoFollow opens path, refusing a symbolic link.
func openNoFollow(path string, flag int, perm fs.FileMode) (*os.File, error) {
	return os.OpenFile(path, flag|syscall.O_NOFOLLOW, perm)
}

// openForRead opens path for reading, refusing a symbolic link, and
// without blocking on a FIFO (the caller then finds it is not a regular
// file).
func openForRead(path string) (*os.File, error) {
	return openNoFollow(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}

// syncDirectory fsyncs a directory. File systems that cannot (EINVAL,
// ENOTSUP) are not an error.
func syncDirectory(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		return nil
	}
	return err
}

// flockFile applies flock(how) to f, retrying on EINTR.
func flockFile(f *os.File, how int) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		for {
			ferr = syscall.Flock(int(fd), how)
			if ferr != syscall.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	return ferr
}

// stillNamed reports whether path still names the file f has open.
func stillNamed(f *os.File, path string) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	pi, err := os.Lstat(path)
	return err == nil && os.SameFile(fi, pi)
}

// lockAttempts bounds how often a locker starts over because the lock file
// was replaced under it.
const lockAttempts = 8

// openLockFile opens (creating it) a lock file.
func openLockFile(path string) (*os.File, error) {
	f, err := openNoFollow(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, &FileStoreError{Path: path, Reason: "cannot open the lock file", Err: err}
	}
	return f, nil
}

// tryFileLock takes the flock on path without waiting; the lock is given
// back by unlock or by a timer after ttl, whichever comes first.
func tryFileLock(path string, ttl time.Duration) (unlock func() error, ok bool, err error) {
	for range lockAttempts {
		f, err := openLockFile(path)
		if err != nil {
			return nil, false, err
		}
		if err := flockFile(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			_ = f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, false, nil
			}
			return nil, false, &FileStoreError{Path: path, Reason: "cannot lock the lock file", Err: err}
		}
		if !stillNamed(f, path) {
			_ = f.Close()
			continue
		}
		h := &heldFlock{f: f}
		h.mu.Lock()
		h.timer = time.AfterFunc(ttl, func() { _ = h.release() })
		h.mu.Unlock()
		return h.release, true, nil
	}
	return nil, false, &FileStoreError{Path: path, Reason: "the lock file keeps being replaced"}
}

// heldFlock is a lock TryLock took: closing the file frees it.
type heldFlock struct {
	mu    sync.Mutex
	f     *os.File // nil once released
	timer *time.Timer
}

// release frees the lock, once; later calls do nothing.
func (h *heldFlock) release() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.f == nil {
		return nil
	}
	h.timer.Stop()
	err := h.f.Close()
	h.f = nil
	return err
}

// writeLock takes key's write lock, waiting for it as long as ctx allows
// (its holders hold it for a rename or a read and a removal).
func (s *FileStore) writeLock(ctx context.Context, key string) (unlock func(), err error) {
	path := s.path(key) + fileStoreWriteLockSuffix
	for range lockAttempts {
		f, err := openLockFile(path)
		if err != nil {
			return nil, err
		}
		if err := flockWait(ctx, f); err != nil { // f is closed
			if errors.Is(err, ctx.Err()) {
				return nil, err
			}
			return nil, &FileStoreError{Path: path, Reason: "cannot lock the lock file", Err: err}
		}
		if stillNamed(f, path) {
			return func() { _ = f.Close() }, nil
		}
		_ = f.Close()
	}
	return nil, &FileStoreError{Path: path, Reason: "the lock file keeps being replaced"}
}

// flockWait takes the exclusive flock on f, waiting while ctx allows. On
// any error f is closed: when ctx ends first, it returns ctx's error and f
// is closed once the waiting flock returns (freeing the lock it may get).
func flockWait(ctx context.Context, f *os.File) error {
	err := flockFile(f, syscall.LOCK_EX|syscall.LOCK_NB)
	if err == nil {
		return nil
	}
	if !errors.Is(err, syscall.EWOULDBLOCK) {
		_ = f.Close()
		return err
	}
	done := make(chan error, 1)
	go func() { done <- flockFile(f, syscall.LOCK_EX) }()
	select {
	case err := <-done:
		if err != nil {
			_ = f.Close()
		}
		return err
	case <-ctx.Done():
		go func() {
			<-done
			_ = f.Close()
		}()
		return ctx.Err()
	}
}

// removeStaleLock removes the lock file at path if nobody holds it and it
// is still older than cutoff; it holds the lock while doing so.
func removeStaleLock(path string, cutoff, _ time.Time) {
	f, err := openNoFollow(path, os.O_RDWR, 0)
	if err != nil {
		return
	}
	defer f.Close()
	if flockFile(f, syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return // held, or cannot tell
	}
	fi, err := os.Lstat(path)
	if err != nil || !fi.ModTime().Before(cutoff) {
		return
	}
	if ff, err := f.Stat(); err == nil && os.SameFile(ff, fi) {
		_ = os.Remove(path)
	}
}
