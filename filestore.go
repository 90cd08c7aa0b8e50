package ksauth

// FileStore: the one-machine TokenStore (issue 11).
//
// The directory (by default $XDG_CACHE_HOME/ksauth, else ~/.cache/ksauth)
// holds, and the store touches, only these files:
//
//	<key>         one data file per key: a 24-byte header, then the value
//	<key>.lock    TryLock's lock file (flock on unix); kept after release
//	<key>.wlock   the short-held lock ordering Put and CompareAndDelete (unix)
//	secret.key    the store's secret: 32 random bytes, owner-only (0600)
//	.tmp-*        a file being written, renamed over <key> or linked to
//	              secret.key once complete
//
// A key is [a-z0-9-]{1,128}: it never contains a dot or a slash, so it can
// name neither a file of the store's own nor one outside the directory.
//
// A data file's header (big-endian):
//
//	0   4  magic "KSFS"
//	4   1  format version (1)
//	5   3  zero
//	8   8  expiry: unix nanoseconds, wall clock
//	16  4  length of the value
//	20  4  CRC-32 (IEEE) of the value
//	24  …  the value
//
// Anything else (shorter, longer, another magic, version or checksum) is a
// miss, as is an expired entry. Data files are written whole to a temporary
// file, synced and renamed over the old one, so a reader, which takes no
// lock, sees the old value or the new one, never a mix.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// FileStore is the [TokenStore] (and [TokenStoreLocker]) for the processes
// of one machine: one file per key in a private directory. It is safe for
// concurrent use by goroutines and by processes sharing the directory.
//
// Layout: each key's value is the file named by the key (keys are
// [a-z0-9-]{1,128}, never a path), beside it are <key>.lock (TryLock) and
// <key>.wlock (the write lock ordering Put and CompareAndDelete), the
// secret is secret.key, and files being written are .tmp-*. Every name that
// is not a key has a dot, so no key can collide with the store's own files.
//
// Security model: the directory must belong to the user running the process
// and be writable by nobody else (see [NewFileStore]); every file is
// created owner-only (0600). That keeps other local users from reading,
// replacing or planting entries, locks or the secret. It does not protect
// against the same user or root: against those, and against a copy of the
// directory, the entries are protected by the Session, which stores them
// encrypted and authenticated with keys derived from the store's secret
// (the secret.key file) and the credential's own secret, so that a dump of
// the directory is useless without the credential.
//
// Writes are atomic (temporary file, fsync, rename, fsync of the directory)
// and reads take no lock. An entry that is expired, truncated, corrupt, of
// another format version or larger than 4 MiB is a miss. Files untouched
// for seven days (expired entries, lock files, abandoned temporary files)
// are removed opportunistically when a FileStore is opened (at most once an
// hour per directory and process, examining at most a few thousand files).
//
// Locks ([FileStore.TryLock]) are separate <key>.lock files, never the data
// files. On Linux, macOS and the BSDs they are flock(2) locks: the kernel
// frees one when its holder dies, and the holder's own process frees it
// when its ttl runs out. Elsewhere (Windows, Solaris, Plan 9, WASI...) they
// are a best effort: see [FileStore.TryLock].
type FileStore struct {
	dir string

	mu sync.Mutex // serialises the first Secret
	// secret is cached after the first Secret. An atomic.Pointer holds it
	// as an unsafe.Pointer, which fmt prints as an address whatever the verb
	// (a plain pointer is dumped by a bad verb, %s say), and slog and
	// encoding/json do not see: printing a FileStore never shows it.
	secret atomic.Pointer[[]byte]
}

var _ TokenStoreLocker = (*FileStore)(nil)

// FileStoreError is a directory or file a [FileStore] refuses (wrong
// permissions, owner or type, a malformed secret) or could not use (a
// failed write, say). It names the path and what is wrong with it, and
// wraps the underlying error, if any, for [errors.Is] and [errors.As]. It
// never holds a value or the secret.
type FileStoreError struct {
	Path   string // the directory or file concerned
	Reason string // what is wrong with it, or what failed
	Err    error  // the underlying error, or nil
}

// Error describes the refusal or failure in one line.
func (e *FileStoreError) Error() string {
	msg := "ksauth: file store: " + e.Path + ": " + e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying error (nil when there is none).
func (e *FileStoreError) Unwrap() error { return e.Err }

const (
	fileStoreMaxValue   = 4 << 20 // largest value Put accepts and Get reads
	fileStoreHeaderLen  = 24
	fileStoreVersion    = 1
	fileStoreMagic      = "KSFS"
	fileStoreMaxKey     = 128
	fileStoreSecretName = "secret.key"
	fileStoreSecretLen  = 32
	fileStoreTempPrefix = ".tmp-"
	fileStoreLockSuffix = ".lock"
	// fileStoreWriteLockSuffix names the lock that orders Put's rename and
	// CompareAndDelete's read-compare-remove (unix; in-process elsewhere).
	fileStoreWriteLockSuffix = ".wlock"
	fileStoreStaleAge        = 7 * 24 * time.Hour
	fileStoreCleanEvery      = time.Hour
)

// fileStoreScanLimit bounds the directory entries one stale-file scan
// examines (a variable for the tests).
var fileStoreScanLimit = 4096

// NewFileStore opens (creating it if needed) the store in dir.
//
// An empty dir means $XDG_CACHE_HOME/ksauth, or ~/.cache/ksauth when
// XDG_CACHE_HOME is unset or not an absolute path (the XDG base directory
// rules, on macOS too); on Windows and Plan 9 it is ksauth in
// [os.UserCacheDir]. A relative dir is made absolute.
//
// Missing parent directories are created with mode 0700, and so is dir
// itself. NewFileStore then refuses, with a [*FileStoreError] naming the
// path, a dir that is a symbolic link (even to a good directory), that is
// not a directory, that is writable by its group or by others (0770, 0707,
// 0777...; 0755 is accepted: the files themselves are owner-only) or, on
// unix, that is not owned by the effective user. Only dir itself is
// checked, not its parents. On Windows the mode bits mean nothing and are
// not checked: the directory relies on the ACLs of the user's profile.
func NewFileStore(dir string) (*FileStore, error) {
	if dir == "" {
		d, err := defaultFileStoreDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, &FileStoreError{Path: dir, Reason: "cannot make the path absolute", Err: err}
	}
	dir = abs
	if parent := filepath.Dir(dir); parent != dir {
		if err := os.MkdirAll(parent, 0o700); err != nil {
			return nil, &FileStoreError{Path: parent, Reason: "cannot create the parent directory", Err: err}
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, &FileStoreError{Path: dir, Reason: "cannot create the directory", Err: err}
	}
	if err := checkFileStoreDir(dir); err != nil {
		return nil, err
	}
	s := &FileStore{dir: dir}
	s.maybeCleanStale(time.Now())
	return s, nil
}

// Dir returns the store's directory (an absolute path).
func (s *FileStore) Dir() string { return s.dir }

// Get returns the value stored under key and the time it has left, or a
// nil value and no error when there is none: no file, an expired entry, or
// a file that is not a well-formed entry (truncated, foreign, of another
// version, larger than 4 MiB, not a regular file). It takes no lock. An
// error is a refused key, a done ctx, or a file that exists but cannot be
// read (unreadable, or a symbolic link, which is never followed on unix).
func (s *FileStore) Get(ctx context.Context, key string) ([]byte, time.Duration, error) {
	if err := s.checkCall(ctx, key); err != nil {
		return nil, 0, err
	}
	value, expiry, ok, err := readFileEntry(s.path(key), fileStoreMaxValue)
	if err != nil || !ok {
		return nil, 0, err
	}
	ttl := time.Duration(expiry - time.Now().UnixNano())
	if ttl <= 0 {
		return nil, 0, nil
	}
	return value, ttl, nil
}

// Put stores value (at most 4 MiB) under key for ttl (> 0), replacing any
// value: it writes a temporary file (0600) in the directory, syncs it,
// renames it over the key's file and syncs the directory. A failed write (a
// full disk, a read-only directory) returns a [*FileStoreError] naming the
// key's file and leaves no temporary file behind; the old value, if any,
// stays.
func (s *FileStore) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := s.checkCall(ctx, key); err != nil {
		return err
	}
	path := s.path(key)
	if ttl <= 0 {
		return &FileStoreError{Path: path, Reason: fmt.Sprintf("ttl %v: must be positive", ttl)}
	}
	if len(value) > fileStoreMaxValue {
		return &FileStoreError{Path: path, Reason: fmt.Sprintf("value of %d bytes: at most %d", len(value), fileStoreMaxValue)}
	}
	tmp, err := s.writeTemp(key, path, encodeFileEntry(value, fileExpiry(time.Now(), ttl)))
	if err != nil {
		return err
	}
	unlock, err := s.writeLock(ctx, key)
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	err = os.Rename(tmp, path)
	unlock()
	if err != nil {
		_ = os.Remove(tmp)
		return &FileStoreError{Path: path, Reason: "cannot replace the file", Err: err}
	}
	return s.syncDir(path)
}

// CompareAndDelete removes key's file if its value is still old, byte for
// byte (an expired entry included), and reports whether it did. It holds
// the key's write lock (not the TryLock lock) meanwhile, so a Put from this
// or another process lands either before the comparison, and is kept, or
// after the removal.
func (s *FileStore) CompareAndDelete(ctx context.Context, key string, old []byte) (bool, error) {
	if err := s.checkCall(ctx, key); err != nil {
		return false, err
	}
	path := s.path(key)
	unlock, err := s.writeLock(ctx, key)
	if err != nil {
		return false, err
	}
	defer unlock()
	value, _, ok, err := readFileEntry(path, fileStoreMaxValue)
	if err != nil || !ok || !bytes.Equal(value, old) {
		return false, err
	}
	if err := os.Remove(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, &FileStoreError{Path: path, Reason: "cannot remove the file", Err: err}
	}
	return true, s.syncDir(path)
}

// TryLock takes key's lock without waiting, for at most ttl (> 0), and
// returns ok false (and no error) when another holder has it: another
// process, another FileStore on the same directory, or another TryLock of
// this one. release gives it back; calling it again, or after the lock
// expired, does nothing (and never frees a lock someone else took since).
//
// The lock is the file <key>.lock, which release does not delete. On Linux,
// macOS and the BSDs it is an flock(2) lock on that file, freed by release,
// by the kernel when the holding process dies (however it dies), and by the
// holding process itself once ttl has passed: the ttl is kept by a timer of
// the holder, so a lock outlives its ttl only while its holder's process is
// stopped (SIGSTOP, a suspended laptop), never after its death.
//
// Elsewhere the lock is a best effort: the file is created exclusively and
// holds its expiry; a later TryLock removes an expired one and takes it,
// and two processes doing so at the same instant may both succeed. A holder
// that dies leaves the lock taken until its ttl runs out.
func (s *FileStore) TryLock(ctx context.Context, key string, ttl time.Duration) (release func(context.Context) error, ok bool, err error) {
	if err := s.checkCall(ctx, key); err != nil {
		return nil, false, err
	}
	path := s.path(key) + fileStoreLockSuffix
	if ttl <= 0 {
		return nil, false, &FileStoreError{Path: path, Reason: fmt.Sprintf("ttl %v: must be positive", ttl)}
	}
	unlock, ok, err := tryFileLock(path, ttl)
	if err != nil || !ok {
		return nil, false, err
	}
	return func(context.Context) error { return unlock() }, true, nil
}

// Secret returns the store's secret: the 32 bytes of the file secret.key in
// the directory, created on first use from crypto/rand (written to a
// temporary file, synced, then hard-linked into place, so that no process
// ever reads half a secret and, when several create it at once, all end up
// with the first one). It is read once per FileStore and kept in memory.
// A secret.key that is a symbolic link or not a regular file, that group or
// others may access (anything but 0600 or 0400), that is not owned by the
// effective user (unix) or that is not 32 bytes long is refused with a
// [*FileStoreError]. The directory's file system must support hard links.
func (s *FileStore) Secret(ctx context.Context) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.dir == "" {
		return nil, errFileStoreZero
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := s.secret.Load()
	if sec == nil {
		b, err := s.loadSecret()
		if err != nil {
			return nil, err
		}
		sec = &b
		s.secret.Store(sec)
	}
	return bytes.Clone(*sec), nil
}

// errFileStoreZero is the error of a FileStore not made by NewFileStore.
var errFileStoreZero = &FileStoreError{Path: "(none)", Reason: "a FileStore must be made by NewFileStore"}

// checkCall checks a call's context and key.
func (s *FileStore) checkCall(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.dir == "" {
		return errFileStoreZero
	}
	if !validFileStoreKey(key) {
		shown := key
		if len(shown) > 40 {
			shown = shown[:40] + "..."
		}
		return &FileStoreError{Path: s.dir, Reason: fmt.Sprintf("invalid key %q (%d bytes): want 1 to %d of a-z, 0-9 and '-'", shown, len(key), fileStoreMaxKey)}
	}
	return nil
}

// validFileStoreKey reports whether key matches ^[a-z0-9-]{1,128}$.
func validFileStoreKey(key string) bool {
	if len(key) == 0 || len(key) > fileStoreMaxKey {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// path is key's data file.
func (s *FileStore) path(key string) string { return filepath.Join(s.dir, key) }

// defaultFileStoreDir is the directory NewFileStore("") uses.
func defaultFileStoreDir() (string, error) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		d, err := os.UserCacheDir()
		if err != nil {
			return "", &FileStoreError{Path: "ksauth", Reason: "no user cache directory", Err: err}
		}
		return filepath.Join(d, "ksauth"), nil
	}
	if x := os.Getenv("XDG_CACHE_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "ksauth"), nil
	}
	home := os.Getenv("HOME")
	if home == "" {
		return "", &FileStoreError{Path: "~/.cache/ksauth", Reason: "no cache directory: neither $XDG_CACHE_HOME (absolute) nor $HOME is set"}
	}
	return filepath.Join(home, ".cache", "ksauth"), nil
}

// checkFileStoreDir refuses a store directory that is a symbolic link, not
// a directory, writable by group or others, or (unix) owned by another user.
func checkFileStoreDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return &FileStoreError{Path: dir, Reason: "cannot examine the directory", Err: err}
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return &FileStoreError{Path: dir, Reason: "is a symbolic link: give the directory it points to"}
	}
	if !fi.IsDir() {
		return &FileStoreError{Path: dir, Reason: "is not a directory"}
	}
	return checkPrivate(dir, fi, 0o022, "the directory is writable by its group or by others")
}

// checkPrivate refuses a file whose mode has any of the forbidden bits
// (where mode bits mean something) or whose owner is not the effective user
// (unix).
func checkPrivate(path string, fi fs.FileInfo, forbidden fs.FileMode, what string) error {
	if fileStoreModeBits() && fi.Mode().Perm()&forbidden != 0 {
		return &FileStoreError{Path: path, Reason: fmt.Sprintf("mode %04o: %s", fi.Mode().Perm(), what)}
	}
	if uid, ok := fileOwner(fi); ok && uid != os.Geteuid() {
		return &FileStoreError{Path: path, Reason: fmt.Sprintf("owned by uid %d, not by this user (uid %d)", uid, os.Geteuid())}
	}
	return nil
}

// fileExpiry is now+ttl in unix nanoseconds, saturated.
func fileExpiry(now time.Time, ttl time.Duration) int64 {
	n := now.UnixNano()
	if int64(ttl) > math.MaxInt64-n {
		return math.MaxInt64
	}
	return n + int64(ttl)
}

// encodeFileEntry is a data file's content.
func encodeFileEntry(value []byte, expiry int64) []byte {
	buf := make([]byte, fileStoreHeaderLen+len(value))
	copy(buf, fileStoreMagic)
	buf[4] = fileStoreVersion
	binary.BigEndian.PutUint64(buf[8:], uint64(expiry))
	binary.BigEndian.PutUint32(buf[16:], uint32(len(value)))
	binary.BigEndian.PutUint32(buf[20:], crc32.ChecksumIEEE(value))
	copy(buf[fileStoreHeaderLen:], value)
	return buf
}

// parseFileHeader reads a data file's header: the expiry, the value's
// length and checksum, or ok false when it is not one of ours.
func parseFileHeader(h []byte) (expiry int64, length, sum uint32, ok bool) {
	if len(h) < fileStoreHeaderLen || string(h[:4]) != fileStoreMagic ||
		h[4] != fileStoreVersion || h[5] != 0 || h[6] != 0 || h[7] != 0 {
		return 0, 0, 0, false
	}
	return int64(binary.BigEndian.Uint64(h[8:])), binary.BigEndian.Uint32(h[16:]),
		binary.BigEndian.Uint32(h[20:]), true
}

// readFileEntry reads a data file: ok false (and no error) when there is
// none or it is not a well-formed entry with a value of at most maxValue
// bytes; an error when it exists but cannot be read.
func readFileEntry(path string, maxValue int) (value []byte, expiry int64, ok bool, err error) {
	f, err := openForRead(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, 0, false, nil
		}
		return nil, 0, false, &FileStoreError{Path: path, Reason: "cannot open the file", Err: err}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, false, &FileStoreError{Path: path, Reason: "cannot examine the file", Err: err}
	}
	size := fi.Size()
	if !fi.Mode().IsRegular() || size < fileStoreHeaderLen || size > int64(fileStoreHeaderLen+maxValue) {
		return nil, 0, false, nil
	}
	buf := make([]byte, size)
	if _, err := io.ReadFull(f, buf); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, 0, false, nil
		}
		return nil, 0, false, &FileStoreError{Path: path, Reason: "cannot read the file", Err: err}
	}
	expiry, length, sum, ok := parseFileHeader(buf)
	value = buf[fileStoreHeaderLen:]
	if !ok || int64(length) != int64(len(value)) || crc32.ChecksumIEEE(value) != sum {
		return nil, 0, false, nil
	}
	return value, expiry, true, nil
}

// writeTemp writes data to a new temporary file (0600) in the directory,
// syncs and closes it, and returns its path. On failure it removes the file
// and returns a *FileStoreError naming target, the file it was meant for.
func (s *FileStore) writeTemp(name, target string, data []byte) (string, error) {
	f, err := os.CreateTemp(s.dir, fileStoreTempPrefix+name+"-*")
	if err != nil {
		return "", &FileStoreError{Path: target, Reason: "cannot create a temporary file", Err: err}
	}
	tmp := f.Name()
	fail := func(reason string, err error) (string, error) {
		_ = f.Close()
		_ = os.Remove(tmp)
		return "", &FileStoreError{Path: target, Reason: reason, Err: err}
	}
	if _, err := f.Write(data); err != nil {
		return fail("cannot write the temporary file", err)
	}
	if err := f.Sync(); err != nil {
		return fail("cannot sync the temporary file", err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(tmp)
		return "", &FileStoreError{Path: target, Reason: "cannot close the temporary file", Err: err}
	}
	return tmp, nil
}

// syncDir makes a rename or removal in the directory durable; target is the
// file concerned, for the error.
func (s *FileStore) syncDir(target string) error {
	if err := syncDirectory(s.dir); err != nil {
		return &FileStoreError{Path: target, Reason: "cannot sync the directory " + s.dir, Err: err}
	}
	return nil
}

// loadSecret reads secret.key, creating it first if there is none.
func (s *FileStore) loadSecret() ([]byte, error) {
	path := filepath.Join(s.dir, fileStoreSecretName)
	for attempt := 0; ; attempt++ {
		sec, err := readSecretFile(path)
		if err == nil || !errors.Is(err, fs.ErrNotExist) || attempt == 3 {
			return sec, err
		}
		if err := s.createSecret(path); err != nil {
			return nil, err
		}
		// Created, or another process was first: read whichever is there.
	}
}

// createSecret puts a new random secret at path unless there is one: it is
// written whole to a temporary file, then hard-linked to path, which fails
// (and is no error here) when another process linked its own first.
func (s *FileStore) createSecret(path string) error {
	sec := make([]byte, fileStoreSecretLen)
	defer clear(sec)
	if _, err := rand.Read(sec); err != nil {
		return &FileStoreError{Path: path, Reason: "cannot draw a random secret", Err: err}
	}
	tmp, err := s.writeTemp("secret", path, sec)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil
		}
		return &FileStoreError{Path: path, Reason: "cannot create the secret (the file system must support hard links)", Err: err}
	}
	return s.syncDir(path)
}

// readSecretFile reads and checks secret.key. A missing one is an error
// matching fs.ErrNotExist.
func readSecretFile(path string) ([]byte, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, &FileStoreError{Path: path, Reason: "cannot examine the secret", Err: err}
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return nil, &FileStoreError{Path: path, Reason: "the secret is a symbolic link"}
	}
	if !fi.Mode().IsRegular() {
		return nil, &FileStoreError{Path: path, Reason: "the secret is not a regular file"}
	}
	if err := checkPrivate(path, fi, 0o077, "the secret must be accessible by its owner only (0600)"); err != nil {
		return nil, err
	}
	sizeErr := func(n int64) error {
		return &FileStoreError{Path: path, Reason: fmt.Sprintf("the secret is %d bytes long, not %d", n, fileStoreSecretLen)}
	}
	if fi.Size() != fileStoreSecretLen {
		return nil, sizeErr(fi.Size())
	}
	f, err := openForRead(path)
	if err != nil {
		return nil, &FileStoreError{Path: path, Reason: "cannot open the secret", Err: err}
	}
	defer f.Close()
	sec, err := io.ReadAll(io.LimitReader(f, fileStoreSecretLen+1))
	if err != nil {
		return nil, &FileStoreError{Path: path, Reason: "cannot read the secret", Err: err}
	}
	if len(sec) != fileStoreSecretLen {
		clear(sec)
		return nil, sizeErr(int64(len(sec)))
	}
	return sec, nil
}

// fileStoreCleaned records when each directory was last scanned for stale
// files by this process.
var fileStoreCleaned struct {
	sync.Mutex
	last map[string]time.Time
}

// maybeCleanStale runs cleanStale unless this process did so for the
// directory less than an hour ago.
func (s *FileStore) maybeCleanStale(now time.Time) {
	fileStoreCleaned.Lock()
	last, seen := fileStoreCleaned.last[s.dir]
	if seen && now.Sub(last) < fileStoreCleanEvery && now.Sub(last) > -fileStoreCleanEvery {
		fileStoreCleaned.Unlock()
		return
	}
	if fileStoreCleaned.last == nil {
		fileStoreCleaned.last = make(map[string]time.Time)
	}
	fileStoreCleaned.last[s.dir] = now
	fileStoreCleaned.Unlock()
	s.cleanStale(now)
}

// cleanStale removes, among the first fileStoreScanLimit entries of the
// directory, the store's files not modified for fileStoreStaleAge: temporary
// files; data files whose entry has expired or is not well formed (a live
// entry with a long ttl stays); lock files nobody holds. The secret and
// files that are not the store's are left alone. Errors are ignored: this
// is housekeeping.
func (s *FileStore) cleanStale(now time.Time) {
	d, err := os.Open(s.dir)
	if err != nil {
		return
	}
	entries, _ := d.ReadDir(fileStoreScanLimit)
	_ = d.Close()
	cutoff := now.Add(-fileStoreStaleAge)
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil || !info.ModTime().Before(cutoff) {
			continue
		}
		name := e.Name()
		path := filepath.Join(s.dir, name)
		switch {
		case strings.HasPrefix(name, fileStoreTempPrefix):
			_ = os.Remove(path)
		case validFileStoreKey(name):
			s.removeStaleEntry(name, cutoff, now)
		case isFileStoreLock(name, fileStoreLockSuffix), isFileStoreLock(name, fileStoreWriteLockSuffix):
			removeStaleLock(path, cutoff, now)
		}
	}
}

// isFileStoreLock reports whether name is <key><suffix>.
func isFileStoreLock(name, suffix string) bool {
	key, ok := strings.CutSuffix(name, suffix)
	return ok && validFileStoreKey(key)
}

// removeStaleEntry removes key's data file if it is still old and its entry
// has expired or is not well formed; under the key's write lock, so that a
// Put landing meanwhile is not removed.
func (s *FileStore) removeStaleEntry(key string, cutoff, now time.Time) {
	unlock, err := s.writeLock(context.Background(), key)
	if err != nil {
		return
	}
	defer unlock()
	path := s.path(key)
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || !fi.ModTime().Before(cutoff) {
		return
	}
	if _, expiry, ok, err := readFileEntry(path, fileStoreMaxValue); err != nil || (ok && expiry > now.UnixNano()) {
		return
	}
	_ = os.Remove(path)
}
