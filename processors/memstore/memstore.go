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
// keys taken now, in no particular order; values are read when visited, and
// keys deleted meanwhile are skipped, so the store may be written (as goka's
// visitors do) while an iterator is in use.
func (s *Store) Iterator() (storage.Iterator, error) {
	return s.iterator(nil, nil), nil
}

// IteratorWithRange implements storage.Storage: it iterates, in no
// particular order, over the keys k with start <= k < limit; a nil or empty
// start or limit leaves that side unbounded.
func (s *Store) IteratorWithRange(start, limit []byte) (storage.Iterator, error) {
	return s.iterator(start, limit), nil
}

func (s *Store) iterator(start, limit []byte) *iter {
	s.mu.RLock()
	keys := make([]string, 0, len(s.m))
	for k := range s.m {
		if len(start) > 0 && k < string(start) {
			continue
		}
		if len(limit) > 0 && k >= string(limit) {
			continue
		}
		keys = append(keys, k)
	}
	s.mu.RUnlock()
	return &iter{s: s, keys: keys, i: -1}
}

type iter struct {
	s    *Store
	keys []string
	i    int
	val  []byte
}

func (it *iter) Next() bool {
	for it.i+1 < len(it.keys) {
		it.i++
		it.s.mu.RLock()
		v, ok := it.s.m[it.keys[it.i]]
		it.s.mu.RUnlock()
		if ok {
			it.val = v
			return true
		}
	}
	it.i, it.val = len(it.keys), nil
	return false
}

func (it *iter) valid() bool { return it.i >= 0 && it.i < len(it.keys) }

func (it *iter) Err() error { return nil }

// Key returns the current key, or nil before Next or after the end.
func (it *iter) Key() []byte {
	if !it.valid() {
		return nil
	}
	return []byte(it.keys[it.i])
}

// Value returns the current value, or nil before Next or after the end.
func (it *iter) Value() ([]byte, error) {
	if !it.valid() {
		return nil, nil
	}
	return it.val, nil
}

func (it *iter) Release() { it.i, it.val = len(it.keys), nil }

// Seek is not supported (keys are not ordered): it reports false.
func (it *iter) Seek([]byte) bool { return false }
