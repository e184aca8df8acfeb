// Package memstore is an in-memory goka storage with O(1) writes.
//
// goka's own memory storage keeps a sorted key slice and re-sorts it on every
// new key, which is quadratic when a flood brings tens of thousands of new
// hosts. riptide's tables are rebuilt from their compacted changelog on
// restart (memory storage is what the goka notes recommend for small per-host
// state), iterate in no particular order, and need no range scans.
package memstore

import (
	"sync"

	"github.com/lovoo/goka/storage"
)

// Builder returns a goka storage builder of memory stores.
func Builder() storage.Builder {
	return func(string, int32) (storage.Storage, error) { return New(), nil }
}

// Store is a map-backed storage.Storage, safe for concurrent use.
type Store struct {
	mu     sync.RWMutex
	m      map[string][]byte
	offset int64
	has    bool
}

// New returns an empty store.
func New() *Store { return &Store{m: make(map[string][]byte)} }

// Open implements storage.Storage.
func (s *Store) Open() error { return nil }

// Close implements storage.Storage.
func (s *Store) Close() error { return nil }

// MarkRecovered implements storage.Storage.
func (s *Store) MarkRecovered() error { return nil }

// Has implements storage.Storage.
func (s *Store) Has(key string) (bool, error) {
	s.mu.RLock()
	_, ok := s.m[key]
	s.mu.RUnlock()
	return ok, nil
}

// Get implements storage.Storage. The returned slice must not be modified.
func (s *Store) Get(key string) ([]byte, error) {
	s.mu.RLock()
	v := s.m[key]
	s.mu.RUnlock()
	return v, nil
}

// Set implements storage.Storage.
func (s *Store) Set(key string, value []byte) error {
	s.mu.Lock()
	s.m[key] = value
	s.mu.Unlock()
	return nil
}

// Delete implements storage.Storage.
func (s *Store) Delete(key string) error {
	s.mu.Lock()
	delete(s.m, key)
	s.mu.Unlock()
	return nil
}

// GetOffset implements storage.Storage.
func (s *Store) GetOffset(def int64) (int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !s.has {
		return def, nil
	}
	return s.offset, nil
}

// SetOffset implements storage.Storage.
func (s *Store) SetOffset(offset int64) error {
	s.mu.Lock()
	s.offset, s.has = offset, true
	s.mu.Unlock()
	return nil
}

// Iterator implements storage.Storage. It iterates over a snapshot of the
// keys taken now; values are read when visited, and keys deleted meanwhile
// are skipped.
func (s *Store) Iterator() (storage.Iterator, error) {
	s.mu.RLock()
	keys := make([]string, 0, len(s.m))
	for k := range s.m {
		keys = append(keys, k)
	}
	s.mu.RUnlock()
	return &iter{s: s, keys: keys, i: -1}, nil
}

// IteratorWithRange implements storage.Storage; ranges are not supported and
// the whole store is iterated.
func (s *Store) IteratorWithRange(_, _ []byte) (storage.Iterator, error) { return s.Iterator() }

type iter struct {
	s    *Store
	keys []string
	i    int
	val  []byte
}

func (it *iter) Next() bool {
	for it.i+1 < len(it.keys) {
		it.i++
		v, _ := it.s.Get(it.keys[it.i])
		if v != nil {
			it.val = v
			return true
		}
	}
	it.i = len(it.keys)
	return false
}

func (it *iter) Err() error             { return nil }
func (it *iter) Key() []byte            { return []byte(it.keys[it.i]) }
func (it *iter) Value() ([]byte, error) { return it.val, nil }
func (it *iter) Release()               { it.i = len(it.keys) }
func (it *iter) Seek(key []byte) bool   { return false }
