package memstore

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"testing"

	"github.com/lovoo/goka/storage"
)

var _ storage.Storage = (*Store)(nil)

func mustGet(t *testing.T, s *Store, key string) []byte {
	t.Helper()
	v, err := s.Get(key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return v
}

func mustHas(t *testing.T, s *Store, key string) bool {
	t.Helper()
	ok, err := s.Has(key)
	if err != nil {
		t.Fatalf("Has(%q): %v", key, err)
	}
	return ok
}

func TestSetGetHasDelete(t *testing.T) {
	type op struct {
		kind, key, val string // kind: set, del
	}
	for _, tc := range []struct {
		name string
		ops  []op
		want map[string]string // key -> value; keys absent must not be Has
		gone []string
	}{
		{name: "empty", gone: []string{"a", ""}},
		{name: "set", ops: []op{{"set", "a", "1"}}, want: map[string]string{"a": "1"}, gone: []string{"b"}},
		{name: "overwrite", ops: []op{{"set", "a", "1"}, {"set", "a", "2"}}, want: map[string]string{"a": "2"}},
		{name: "delete", ops: []op{{"set", "a", "1"}, {"set", "b", "2"}, {"del", "a", ""}}, want: map[string]string{"b": "2"}, gone: []string{"a"}},
		{name: "delete missing", ops: []op{{"del", "a", ""}}, gone: []string{"a"}},
		{name: "set after delete", ops: []op{{"set", "a", "1"}, {"del", "a", ""}, {"set", "a", "3"}}, want: map[string]string{"a": "3"}},
		{name: "empty value", ops: []op{{"set", "a", ""}}, want: map[string]string{"a": ""}},
		{name: "empty key", ops: []op{{"set", "", "x"}}, want: map[string]string{"": "x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New()
			if err := s.Open(); err != nil {
				t.Fatal(err)
			}
			for _, o := range tc.ops {
				var err error
				if o.kind == "set" {
					err = s.Set(o.key, []byte(o.val))
				} else {
					err = s.Delete(o.key)
				}
				if err != nil {
					t.Fatalf("%s %q: %v", o.kind, o.key, err)
				}
			}
			for k, v := range tc.want {
				if !mustHas(t, s, k) {
					t.Errorf("Has(%q) = false", k)
				}
				if got := mustGet(t, s, k); string(got) != v || got == nil {
					t.Errorf("Get(%q) = %q (nil %v), want %q", k, got, got == nil, v)
				}
			}
			for _, k := range tc.gone {
				if mustHas(t, s, k) {
					t.Errorf("Has(%q) = true", k)
				}
				if got := mustGet(t, s, k); got != nil {
					t.Errorf("Get(%q) = %q, want nil", k, got)
				}
			}
			if got := keys(t, s); len(got) != len(tc.want) {
				t.Errorf("iterated keys %q, want %d", got, len(tc.want))
			}
			if err := s.MarkRecovered(); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestOffsets(t *testing.T) {
	s := New()
	for _, def := range []int64{-2, -1, 0, 42} {
		if got, err := s.GetOffset(def); err != nil || got != def {
			t.Errorf("GetOffset(%d) on a new store = %d, %v; want the default", def, got, err)
		}
	}
	for _, off := range []int64{0, 17, 5, -1} {
		if err := s.SetOffset(off); err != nil {
			t.Fatal(err)
		}
		if got, err := s.GetOffset(99); err != nil || got != off {
			t.Errorf("after SetOffset(%d): GetOffset = %d, %v", off, got, err)
		}
	}
	// Offsets are not keys.
	if ks := keys(t, s); len(ks) != 0 {
		t.Errorf("offset shows up as keys %q", ks)
	}
}

// keys iterates s and returns the keys seen, sorted, checking that each
// value matches Get.
func keys(t *testing.T, s *Store) []string {
	t.Helper()
	it, err := s.Iterator()
	if err != nil {
		t.Fatal(err)
	}
	defer it.Release()
	var out []string
	for it.Next() {
		k := string(it.Key())
		v, err := it.Value()
		if err != nil {
			t.Fatal(err)
		}
		if want := mustGet(t, s, k); string(v) != string(want) {
			t.Errorf("iterator value of %q = %q, Get = %q", k, v, want)
		}
		out = append(out, k)
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func TestIteratorSnapshotToleratesWrites(t *testing.T) {
	s := New()
	for i := range 100 {
		if err := s.Set(strconv.Itoa(i), []byte("v"+strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	it, err := s.Iterator()
	if err != nil {
		t.Fatal(err)
	}
	defer it.Release()
	seen := map[string]string{}
	deleted := map[string]bool{}
	n := 0
	for it.Next() {
		k := string(it.Key())
		v, _ := it.Value()
		if deleted[k] {
			t.Errorf("visited %q after it was deleted", k)
		}
		if _, dup := seen[k]; dup {
			t.Errorf("visited %q twice", k)
		}
		seen[k] = string(v)
		i, _ := strconv.Atoi(k)
		// As a goka visitor does: rewrite the visited key, add keys, and
		// delete keys that may or may not have been visited yet.
		if err := s.Set(k, []byte("new")); err != nil {
			t.Fatal(err)
		}
		if err := s.Set("added-"+k, []byte("x")); err != nil {
			t.Fatal(err)
		}
		for _, d := range []int{(i + 37) % 100, (i + 61) % 100} {
			dk := strconv.Itoa(d)
			if _, visited := seen[dk]; !visited {
				deleted[dk] = true
			}
			if err := s.Delete(dk); err != nil {
				t.Fatal(err)
			}
		}
		n++
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if it.Next() {
		t.Error("Next after the end = true")
	}
	if k := it.Key(); k != nil {
		t.Errorf("Key after the end = %q, want nil", k)
	}
	if v, _ := it.Value(); v != nil {
		t.Errorf("Value after the end = %q, want nil", v)
	}
	for k, v := range seen {
		if want := "v" + k; v != want {
			t.Errorf("value of %q = %q, want the value before the visit %q", k, v, want)
		}
		if len(k) > 6 && k[:6] == "added-" {
			t.Errorf("visited %q, added after the snapshot", k)
		}
	}
	if n == 0 || n == 100 {
		t.Errorf("visited %d keys; the deletions should have removed some but not all", n)
	}
	if len(seen)+len(deleted) != 100 {
		t.Errorf("visited %d and skipped %d deleted keys, want 100 in all", len(seen), len(deleted))
	}
}

func TestIteratorBeforeNextAndRelease(t *testing.T) {
	s := New()
	_ = s.Set("a", []byte("1"))
	it, _ := s.Iterator()
	if k := it.Key(); k != nil {
		t.Errorf("Key before Next = %q", k)
	}
	if it.Seek([]byte("a")) {
		t.Error("Seek reported support")
	}
	it.Release()
	if it.Next() {
		t.Error("Next after Release = true")
	}
}

func TestIteratorWithRange(t *testing.T) {
	s := New()
	for _, k := range []string{"a", "b", "c", "d"} {
		_ = s.Set(k, []byte(k))
	}
	for _, tc := range []struct {
		start, limit string
		want         []string
	}{
		{"", "", []string{"a", "b", "c", "d"}},
		{"b", "", []string{"b", "c", "d"}},
		{"", "c", []string{"a", "b"}},
		{"b", "d", []string{"b", "c"}},
		{"x", "", nil},
	} {
		var start, limit []byte
		if tc.start != "" {
			start = []byte(tc.start)
		}
		if tc.limit != "" {
			limit = []byte(tc.limit)
		}
		it, err := s.IteratorWithRange(start, limit)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for it.Next() {
			got = append(got, string(it.Key()))
		}
		it.Release()
		sort.Strings(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("range [%q, %q) = %q, want %q", tc.start, tc.limit, got, tc.want)
		}
	}
}

// TestConcurrentReadersOneWriter runs under -race: goka reads tables from
// views and visitors while the partition goroutine writes.
func TestConcurrentReadersOneWriter(t *testing.T) {
	s := New()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for r := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, _ = s.Get(strconv.Itoa(r))
				_, _ = s.Has("x")
				it, _ := s.Iterator()
				for it.Next() {
					_, _ = it.Value()
				}
				it.Release()
			}
		}()
	}
	for i := range 5000 {
		k := strconv.Itoa(i % 50)
		_ = s.Set(k, []byte(k))
		if i%7 == 0 {
			_ = s.Delete(k)
		}
		_ = s.SetOffset(int64(i))
	}
	close(stop)
	wg.Wait()
	if off, _ := s.GetOffset(-1); off != 4999 {
		t.Errorf("offset %d, want 4999", off)
	}
}

// BenchmarkSetNewKeys adds n new keys to an empty store per iteration; ns/op
// divided by n is the cost of one new key, which must not grow with n (goka's
// own memory storage re-sorts its key slice on every new key).
func BenchmarkSetNewKeys(b *testing.B) {
	for _, n := range []int{5_000, 50_000} {
		keys := hostKeys(n)
		val := []byte("value")
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s := New()
				for _, k := range keys {
					_ = s.Set(k, val)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/key")
		})
	}
}

// BenchmarkGokaMemoryNewKeys is the baseline: goka's own memory storage with
// 5,000 new keys (quadratic: 50,000 take seconds per iteration).
func BenchmarkGokaMemoryNewKeys(b *testing.B) {
	const n = 5_000
	keys := hostKeys(n)
	val := []byte("value")
	b.Run(strconv.Itoa(n), func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s := storage.NewMemory()
			for _, k := range keys {
				_ = s.Set(k, val)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/key")
	})
}

// hostKeys returns n distinct host addresses as table keys.
func hostKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
	}
	return keys
}
