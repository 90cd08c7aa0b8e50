package ksauth

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFileStoreEntriesAndPurge(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "ks")
	s, err := NewFileStore(dir)
	require.NoError(t, err)
	secret, err := s.Secret(ctx)
	require.NoError(t, err)

	entries, err := s.Entries(ctx)
	require.NoError(t, err)
	assert.Empty(t, entries)

	before := time.Now()
	require.NoError(t, s.Put(ctx, "bbb", []byte("value-two"), time.Hour))
	require.NoError(t, s.Put(ctx, "aaa", []byte("v1"), time.Minute))
	release, got, err := s.TryLock(ctx, "aaa", time.Minute)
	require.NoError(t, err)
	require.True(t, got)
	require.NoError(t, release(ctx))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ccc"), []byte("not an entry"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".tmp-x"), nil, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Other.txt"), nil, 0o600))

	entries, err = s.Entries(ctx)
	require.NoError(t, err)
	require.Len(t, entries, 3, "data files only: %v", entries)
	assert.Equal(t, []string{"aaa", "bbb", "ccc"}, []string{entries[0].Key, entries[1].Key, entries[2].Key})
	assert.EqualValues(t, fileStoreHeaderLen+2, entries[0].Size)
	assert.WithinDuration(t, before.Add(time.Minute), entries[0].Expires, 5*time.Second)
	assert.WithinDuration(t, before.Add(time.Hour), entries[1].Expires, 5*time.Second)
	assert.True(t, entries[2].Expires.IsZero(), "not an entry: no expiry")
	assert.WithinDuration(t, time.Now(), entries[1].Modified, time.Minute)

	n, err := s.Purge(ctx, false)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	names := dirNames(t, dir)
	assert.ElementsMatch(t, []string{fileStoreSecretName, "Other.txt"}, names, "locks and temporary files gone, the secret and foreign files kept")
	kept, err := s.Secret(ctx)
	require.NoError(t, err)
	assert.Equal(t, secret, kept)

	n, err = s.Purge(ctx, true)
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Equal(t, []string{"Other.txt"}, dirNames(t, dir))
	fresh, err := s.Secret(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, secret, fresh, "a new secret")

	_, err = (&FileStore{}).Entries(ctx)
	assert.Error(t, err)
	_, err = (&FileStore{}).Purge(ctx, false)
	assert.Error(t, err)
}

func dirNames(t *testing.T, dir string) []string {
	des, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}
