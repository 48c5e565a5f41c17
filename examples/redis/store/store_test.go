package store

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"testing"
)

// copyValue is the AppendFunc of the tests: the value as is.
func copyValue(dst, val []byte) []byte { return append(dst, val...) }

// missing is GetMany's miss function of the tests.
func missing(dst []byte) []byte { return append(dst, '-') }

const t0 = 1_000_000 // a fixed "now", in ms

func get(s *Store, key string, now int64) (string, bool) {
	v, ok := s.Get(nil, []byte(key), now, copyValue)
	return string(v), ok
}

func set(s *Store, key, val string, a SetArgs, now int64) (existed, stored bool) {
	_, existed, stored = s.Set(nil, []byte(key), []byte(val), a, now, nil)
	return existed, stored
}

func TestSetGet(t *testing.T) {
	s := New()
	if _, ok := get(s, "k", t0); ok {
		t.Fatal("empty store has k")
	}
	if existed, stored := set(s, "k", "v1", SetArgs{}, t0); existed || !stored {
		t.Fatalf("first set: existed %v stored %v", existed, stored)
	}
	if existed, stored := set(s, "k", "v2", SetArgs{}, t0); !existed || !stored {
		t.Fatalf("second set: existed %v stored %v", existed, stored)
	}
	if v, ok := get(s, "k", t0); !ok || v != "v2" {
		t.Fatalf("get = %q, %v", v, ok)
	}
	if n := s.Len(); n != 1 {
		t.Fatalf("Len = %d", n)
	}
}

func TestSetConditions(t *testing.T) {
	tests := []struct {
		name       string
		exists     bool
		cond       Cond
		wantStored bool
		wantValue  string
	}{
		{name: "NX on absent", cond: IfAbsent, wantStored: true, wantValue: "new"},
		{name: "NX on present", exists: true, cond: IfAbsent, wantValue: "old"},
		{name: "XX on absent", cond: IfPresent},
		{name: "XX on present", exists: true, cond: IfPresent, wantStored: true, wantValue: "new"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New()
			if tt.exists {
				set(s, "k", "old", SetArgs{}, t0)
			}
			if _, stored := set(s, "k", "new", SetArgs{Cond: tt.cond}, t0); stored != tt.wantStored {
				t.Fatalf("stored %v, want %v", stored, tt.wantStored)
			}
			v, ok := get(s, "k", t0)
			if v != tt.wantValue || ok != (tt.wantValue != "") {
				t.Fatalf("value %q, %v; want %q", v, ok, tt.wantValue)
			}
		})
	}
}

func TestSetGetOld(t *testing.T) {
	s := New()
	out, existed, stored := s.Set([]byte("reply:"), []byte("k"), []byte("v1"), SetArgs{}, t0, copyValue)
	if string(out) != "reply:" || existed || !stored {
		t.Fatalf("first: %q %v %v", out, existed, stored)
	}
	out, existed, stored = s.Set(nil, []byte("k"), []byte("v2"), SetArgs{Cond: IfAbsent}, t0, copyValue)
	if string(out) != "v1" || !existed || stored {
		t.Fatalf("NX GET on a present key: %q %v %v; want the old value, not stored", out, existed, stored)
	}
}

func TestExpiry(t *testing.T) {
	s := New()
	set(s, "k", "v", SetArgs{At: t0 + 100}, t0)
	if ttl := s.TTL([]byte("k"), t0); ttl != 100 {
		t.Fatalf("TTL = %d, want 100", ttl)
	}
	if _, ok := get(s, "k", t0+100); !ok {
		t.Fatal("gone in its last millisecond")
	}
	if ttl := s.TTL([]byte("k"), t0+100); ttl != 0 {
		t.Fatalf("TTL in the last millisecond = %d, want 0", ttl)
	}
	if s.Len() != 1 {
		t.Fatal("Len should count the key until it is touched after its time")
	}
	if _, ok := get(s, "k", t0+101); ok {
		t.Fatal("alive after its time")
	}
	if s.Len() != 0 {
		t.Fatal("a Get after the time should have deleted the key")
	}
	if st := s.Stats(); st.Expired != 1 || st.Expires != 0 {
		t.Fatalf("stats %+v, want 1 expired and no key with a time", st)
	}
	if ttl := s.TTL([]byte("k"), t0); ttl != -2 {
		t.Fatalf("TTL of a missing key = %d, want -2", ttl)
	}
}

func TestSetClearsOrKeepsTTL(t *testing.T) {
	s := New()
	set(s, "k", "v", SetArgs{At: t0 + 100}, t0)
	set(s, "k", "v2", SetArgs{KeepTTL: true}, t0)
	if ttl := s.TTL([]byte("k"), t0); ttl != 100 {
		t.Fatalf("KEEPTTL: TTL = %d, want 100", ttl)
	}
	set(s, "k", "v3", SetArgs{}, t0)
	if ttl := s.TTL([]byte("k"), t0); ttl != -1 {
		t.Fatalf("plain SET: TTL = %d, want -1", ttl)
	}
	if st := s.Stats(); st.Expires != 0 {
		t.Fatalf("%d keys with a time, want 0", st.Expires)
	}
}

func TestExpireConditions(t *testing.T) {
	tests := []struct {
		name   string
		oldAt  int64 // 0: no time
		cond   ExpireCond
		at     int64
		want   bool
		wantAt int64 // TTL afterwards, from t0; -1 none, -2 deleted
	}{
		{name: "set", at: t0 + 10, want: true, wantAt: 10},
		{name: "NX without", cond: ExpireNX, at: t0 + 10, want: true, wantAt: 10},
		{name: "NX with", oldAt: t0 + 50, cond: ExpireNX, at: t0 + 10, wantAt: 50},
		{name: "XX without", cond: ExpireXX, at: t0 + 10, wantAt: -1},
		{name: "XX with", oldAt: t0 + 50, cond: ExpireXX, at: t0 + 10, want: true, wantAt: 10},
		{name: "GT without: never", cond: ExpireGT, at: t0 + 10, wantAt: -1},
		{name: "GT later", oldAt: t0 + 50, cond: ExpireGT, at: t0 + 60, want: true, wantAt: 60},
		{name: "GT equal", oldAt: t0 + 50, cond: ExpireGT, at: t0 + 50, wantAt: 50},
		{name: "LT without: always", cond: ExpireLT, at: t0 + 10, want: true, wantAt: 10},
		{name: "LT earlier", oldAt: t0 + 50, cond: ExpireLT, at: t0 + 40, want: true, wantAt: 40},
		{name: "LT later", oldAt: t0 + 50, cond: ExpireLT, at: t0 + 60, wantAt: 50},
		{name: "now deletes", at: t0, want: true, wantAt: -2},
		{name: "past deletes", oldAt: t0 + 50, at: t0 - 1000, want: true, wantAt: -2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New()
			set(s, "k", "v", SetArgs{At: tt.oldAt}, t0)
			if got := s.Expire([]byte("k"), tt.at, tt.cond, t0); got != tt.want {
				t.Fatalf("Expire = %v, want %v", got, tt.want)
			}
			if ttl := s.TTL([]byte("k"), t0); ttl != tt.wantAt {
				t.Fatalf("TTL = %d, want %d", ttl, tt.wantAt)
			}
		})
	}
	if New().Expire([]byte("nokey"), t0+10, ExpireAlways, t0) {
		t.Fatal("Expire on a missing key reported true")
	}
}

func TestIncrBy(t *testing.T) {
	s := New()
	for i, want := range []int64{5, 3, math.MaxInt64} {
		delta := []int64{5, -2, math.MaxInt64 - 3}[i]
		if got, err := s.IncrBy([]byte("n"), delta, t0); got != want || err != nil {
			t.Fatalf("IncrBy(%d) = %d, %v; want %d", delta, got, err, want)
		}
	}
	if _, err := s.IncrBy([]byte("n"), 1, t0); !errors.Is(err, ErrOverflow) {
		t.Fatalf("overflow: %v", err)
	}
	if v, _ := get(s, "n", t0); v != strconv.FormatInt(math.MaxInt64, 10) {
		t.Fatalf("value after a failed increment: %q", v)
	}
	set(s, "m", "-9223372036854775807", SetArgs{}, t0)
	if _, err := s.IncrBy([]byte("m"), -2, t0); !errors.Is(err, ErrOverflow) {
		t.Fatalf("negative overflow: %v", err)
	}
	for _, bad := range []string{"abc", "", " 1", "01", "1.5", "99999999999999999999"} {
		set(s, "x", bad, SetArgs{}, t0)
		if _, err := s.IncrBy([]byte("x"), 1, t0); !errors.Is(err, ErrNotInteger) {
			t.Fatalf("IncrBy on %q: %v, want ErrNotInteger", bad, err)
		}
	}
	set(s, "t", "1", SetArgs{At: t0 + 100}, t0)
	if _, err := s.IncrBy([]byte("t"), 1, t0); err != nil {
		t.Fatal(err)
	}
	if ttl := s.TTL([]byte("t"), t0); ttl != 100 {
		t.Fatalf("INCR dropped the TTL: %d", ttl)
	}
}

func TestMultiKey(t *testing.T) {
	s := New()
	var pairs [][]byte
	for i := range 100 {
		pairs = append(pairs, []byte(fmt.Sprint("k", i)), []byte(fmt.Sprint("v", i)))
	}
	set(s, "k7", "old", SetArgs{At: t0 + 10}, t0)
	s.SetMany(pairs, t0)
	if ttl := s.TTL([]byte("k7"), t0); ttl != -1 {
		t.Fatalf("MSET kept a TTL: %d", ttl)
	}
	keys := [][]byte{[]byte("k1"), []byte("nope"), []byte("k99")}
	if got := string(s.GetMany(nil, keys, t0, copyValue, missing)); got != "v1-v99" {
		t.Fatalf("GetMany = %q", got)
	}
	if n := s.Exists([][]byte{[]byte("k1"), []byte("k1"), []byte("nope")}, t0); n != 2 {
		t.Fatalf("Exists = %d, want 2 (a key given twice counts twice)", n)
	}
	if n := s.Delete([][]byte{[]byte("k1"), []byte("k1"), []byte("nope")}, t0); n != 1 {
		t.Fatalf("Delete = %d, want 1", n)
	}
	if n := s.Len(); n != 99 {
		t.Fatalf("Len = %d", n)
	}
	s.Flush()
	if n := s.Len(); n != 0 {
		t.Fatalf("Len after Flush = %d", n)
	}
}

// TestSetManyIsAtomic: a reader of two keys written together by SetMany
// never sees one new and the other old.
func TestSetManyIsAtomic(t *testing.T) {
	s := New()
	keys := [][]byte{[]byte("a"), []byte("b")}
	s.SetMany([][]byte{keys[0], []byte("0"), keys[1], []byte("0")}, t0)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			v := []byte(strconv.Itoa(i % 10))
			s.SetMany([][]byte{keys[0], v, keys[1], v}, t0)
		}
	}()
	for range 20000 {
		got := s.GetMany(nil, keys, t0, copyValue, missing)
		if len(got) != 2 || got[0] != got[1] {
			close(stop)
			wg.Wait()
			t.Fatalf("GetMany saw %q: half of a SetMany", got)
		}
	}
	close(stop)
	wg.Wait()
}

func TestAssignReusesOrReleases(t *testing.T) {
	old := make([]byte, 10, 50)
	if got := assign(old, []byte("hello")); &got[0] != &old[0] || string(got) != "hello" {
		t.Fatal("a value that fits was not written in place")
	}
	big := make([]byte, 1<<20)
	if got := assign(big, []byte("x")); cap(got) >= 1<<20 {
		t.Fatal("a one-byte value kept a megabyte")
	}
}
