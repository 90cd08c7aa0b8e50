package ksauth

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// FileStoreEntry describes one entry of a [FileStore], for a listing: never
// its value.
type FileStoreEntry struct {
	Key      string    // the key: for a Session's entries, an opaque fingerprint of the identity
	Size     int64     // the data file's size in bytes
	Modified time.Time // when it was last written
	// Expires is the entry's expiry from its header; zero when the file
	// is not a well-formed entry (Get treats it as a miss).
	Expires time.Time
}

// Entries lists the store's data files, sorted by key, with their size,
// modification time and expiry (read from each file's header; expired
// entries are listed too, with their past expiry). Lock, temporary and
// secret files are not entries.
func (s *FileStore) Entries(ctx context.Context) ([]FileStoreEntry, error) {
	if err := s.checkDir(ctx); err != nil {
		return nil, err
	}
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, &FileStoreError{Path: s.dir, Reason: "cannot list the directory", Err: err}
	}
	var out []FileStoreEntry
	for _, de := range des {
		if !validFileStoreKey(de.Name()) || !de.Type().IsRegular() {
			continue
		}
		fi, err := de.Info()
		if err != nil {
			continue // removed meanwhile
		}
		e := FileStoreEntry{Key: de.Name(), Size: fi.Size(), Modified: fi.ModTime()}
		if f, err := openForRead(s.path(e.Key)); err == nil {
			h := make([]byte, fileStoreHeaderLen)
			if _, err := f.ReadAt(h, 0); err == nil {
				if expiry, length, _, ok := parseFileHeader(h); ok && int64(length)+fileStoreHeaderLen == e.Size {
					e.Expires = time.Unix(0, expiry)
				}
			}
			f.Close()
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b FileStoreEntry) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// Purge removes every entry of the store with its lock files and any
// abandoned temporary file, and, when secret is true, the store's secret
// too (every entry sealed with it is then useless anyway, and a new
// secret is made on next use). It returns how many entries it removed.
// A process holding a lock meanwhile keeps it; the next TryLock makes a
// new lock file.
func (s *FileStore) Purge(ctx context.Context, secret bool) (int, error) {
	if err := s.checkDir(ctx); err != nil {
		return 0, err
	}
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return 0, &FileStoreError{Path: s.dir, Reason: "cannot list the directory", Err: err}
	}
	n := 0
	var errs []error
	for _, de := range des {
		name := de.Name()
		switch {
		case validFileStoreKey(name), isFileStoreLock(name, fileStoreLockSuffix), isFileStoreLock(name, fileStoreWriteLockSuffix),
			strings.HasPrefix(name, fileStoreTempPrefix), secret && name == fileStoreSecretName:
		default:
			continue
		}
		path := filepath.Join(s.dir, name)
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, &FileStoreError{Path: path, Reason: "cannot remove the file", Err: err})
			continue
		}
		if validFileStoreKey(name) {
			n++
		}
	}
	if secret {
		s.secret.Store(nil)
	}
	return n, errors.Join(errs...)
}

// checkDir refuses a zero FileStore and a done ctx.
func (s *FileStore) checkDir(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.dir == "" {
		return errFileStoreZero
	}
	return nil
}
