package store

import (
	"errors"
	"hash/maphash"
	"math"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/evloop/evloop/examples/redis/resp"
)

// Shards is the number of shards: enough that loops rarely meet on a lock,
// few enough that DBSIZE and FLUSHALL, which visit all of them, stay cheap.
const Shards = 256

// ErrNotInteger: IncrBy found a value that is not an integer, as
// resp.ParseInt reads integers.
var ErrNotInteger = errors.New("store: value is not an integer")

// ErrOverflow: IncrBy would take a value out of int64.
var ErrOverflow = errors.New("store: increment or decrement would overflow")

// AppendFunc appends a value found in the store to dst, encoded as a reply
// wants it (resp.AppendBulk), and returns the extended slice. It runs under
// the key's shard lock: it must copy val, not keep it, and return quickly.
type AppendFunc func(dst, val []byte) []byte

// Store maps keys to values, each with an optional expiry time. It is safe
// for use by any number of goroutines. Times are Unix milliseconds, passed
// in by the caller (one clock reading per batch of commands, not one per
// command).
type Store struct {
	seed   maphash.Seed
	shards [Shards]shard

	turn   atomic.Uint64 // rotates where each sweep starts (sweep.go)
	avgTTL atomic.Int64  // estimated average TTL of keys with one, in ms
}

// shard is one lock and the keys that hash to it.
type shard struct {
	mu      sync.RWMutex
	keys    map[string]*entry
	expires map[string]*entry // the keys that have an expiry time, for the sweep
	peak    int               // len(expires) high-water mark since it was last rebuilt
	expired uint64            // keys deleted because their time had passed
	// A shard's lock is its hottest word: keep two shards' locks off one
	// cache line (and its prefetched neighbour).
	_ [128 - 64]byte
}

// entry is one key's value. The value's memory is reused by a later SET of
// a value not much shorter, and by INCR, under the shard's write lock; a
// reader copies it out under the read lock (AppendFunc), so no reader ever
// sees it change.
type entry struct {
	key string // the map's key, so that deleting needs no conversion
	val []byte
	at  int64 // expiry time; 0: none
}

// New returns an empty store.
func New() *Store {
	s := &Store{seed: maphash.MakeSeed()}
	for i := range s.shards {
		s.shards[i].keys = make(map[string]*entry)
		s.shards[i].expires = make(map[string]*entry)
	}
	return s
}

func (s *Store) index(key []byte) int {
	return int(maphash.Bytes(s.seed, key) % Shards)
}

func (s *Store) shardOf(key []byte) *shard { return &s.shards[s.index(key)] }

// expired reports whether e's time has passed: a key lives through its
// expiry millisecond and is gone after it, as in Redis.
func (e *entry) expired(now int64) bool { return e.at != 0 && now > e.at }

// lookup returns key's entry, or nil when it is absent or expired; expired
// reports the latter, for the caller to reap once it holds the write lock.
// Read lock at least.
func (sh *shard) lookup(key []byte, now int64) (e *entry, expired bool) {
	e = sh.keys[string(key)] // no conversion is allocated for a lookup
	if e != nil && e.expired(now) {
		return nil, true
	}
	return e, false
}

// live returns key's entry, or nil when it is absent; an expired one is
// deleted on the way. Write lock.
func (sh *shard) live(key []byte, now int64) *entry {
	e := sh.keys[string(key)]
	if e != nil && e.expired(now) {
		sh.remove(e)
		sh.expired++
		return nil
	}
	return e
}

// remove deletes e. Write lock.
func (sh *shard) remove(e *entry) {
	delete(sh.keys, e.key)
	if e.at != 0 {
		delete(sh.expires, e.key)
	}
}

// put stores val under key, in e when the key exists (e != nil), and
// returns the entry. Only a new key, or a value that does not fit the old
// one's memory, allocates: the key's bytes and entry once, the value's
// bytes. Write lock.
func (sh *shard) put(key, val []byte, e *entry) *entry {
	if e == nil {
		k := string(key)
		e = &entry{key: k}
		sh.keys[k] = e
	}
	e.val = assign(e.val, val)
	return e
}

// minValueCap is the slack below which a value's memory is always reused.
const minValueCap = 64

// assign copies val into old's memory when it fits and old is not much
// larger (a key that held a megabyte and now holds a byte should not keep
// the megabyte), and into new memory otherwise.
func assign(old, val []byte) []byte {
	if cap(old) >= len(val) && cap(old) <= 2*len(val)+minValueCap {
		old = old[:len(val)]
		copy(old, val)
		return old
	}
	return append(make([]byte, 0, len(val)), val...)
}

// setExpiry sets e's expiry time (0: none). Write lock.
func (sh *shard) setExpiry(e *entry, at int64) {
	switch {
	case at == 0 && e.at != 0:
		delete(sh.expires, e.key)
	case at != 0 && e.at == 0:
		sh.expires[e.key] = e
		sh.peak = max(sh.peak, len(sh.expires))
	}
	e.at = at
}

// reap deletes key if it is still expired. Write lock not held.
func (sh *shard) reap(key []byte, now int64) {
	sh.mu.Lock()
	sh.live(key, now)
	sh.mu.Unlock()
}

// Get appends key's value to dst with f and reports whether the key
// exists. Reading does not block other readers of the shard.
func (s *Store) Get(dst, key []byte, now int64, f AppendFunc) ([]byte, bool) {
	sh := s.shardOf(key)
	sh.mu.RLock()
	e, expired := sh.lookup(key, now)
	if e != nil {
		dst = f(dst, e.val)
	}
	sh.mu.RUnlock()
	if expired {
		sh.reap(key, now)
	}
	return dst, e != nil
}

// Cond says when Set stores.
type Cond uint8

const (
	// Always stores.
	Always Cond = iota
	// IfAbsent stores only when the key does not exist (SET NX).
	IfAbsent
	// IfPresent stores only when the key exists (SET XX).
	IfPresent
)

// SetArgs are Set's options.
type SetArgs struct {
	Cond Cond
	// At is the new expiry time; 0 removes the key's, unless KeepTTL.
	At int64
	// KeepTTL keeps the key's expiry time (SET KEEPTTL).
	KeepTTL bool
}

// Set stores val under key when a.Cond allows, and reports whether the key
// existed and whether val was stored. With old != nil, the previous value,
// when there is one, is appended to dst with old (SET GET), in the same
// critical section as the write.
func (s *Store) Set(dst, key, val []byte, a SetArgs, now int64, old AppendFunc) (out []byte, existed, stored bool) {
	sh := s.shardOf(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.live(key, now)
	if e != nil && old != nil {
		dst = old(dst, e.val)
	}
	if a.Cond == IfAbsent && e != nil || a.Cond == IfPresent && e == nil {
		return dst, e != nil, false
	}
	existed = e != nil
	e = sh.put(key, val, e)
	if !a.KeepTTL {
		sh.setExpiry(e, a.At)
	}
	return dst, existed, true
}

// IncrBy adds delta to the integer held by key (0 when it does not exist)
// and returns the result, keeping the key's expiry time. It fails with
// ErrNotInteger or ErrOverflow and changes nothing. The new value is
// written over the old one: only a new key allocates.
func (s *Store) IncrBy(key []byte, delta, now int64) (int64, error) {
	sh := s.shardOf(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.live(key, now)
	var v int64
	if e != nil {
		var ok bool
		if v, ok = resp.ParseInt(e.val); !ok {
			return 0, ErrNotInteger
		}
	}
	if delta < 0 && v < 0 && delta < math.MinInt64-v || delta > 0 && v > 0 && delta > math.MaxInt64-v {
		return 0, ErrOverflow
	}
	v += delta
	if e == nil {
		k := string(key)
		// Room for any int64, so later increments never allocate.
		e = &entry{key: k, val: make([]byte, 0, len("-9223372036854775808"))}
		sh.keys[k] = e
	}
	e.val = strconv.AppendInt(e.val[:0], v, 10)
	return v, nil
}

// ExpireCond says when Expire sets the time (EXPIRE's options).
type ExpireCond uint8

const (
	// ExpireAlways sets it.
	ExpireAlways ExpireCond = iota
	// ExpireNX sets it only when the key has none.
	ExpireNX
	// ExpireXX sets it only when the key has one.
	ExpireXX
	// ExpireGT sets it only when it is later than the key's; a key with
	// none counts as never expiring, so it never passes.
	ExpireGT
	// ExpireLT sets it only when it is earlier than the key's; a key with
	// none counts as never expiring, so it always passes.
	ExpireLT
)

// Expire gives key the expiry time at if cond allows, and reports whether
// it did: false when the key does not exist or cond fails. A time not
// after now deletes the key at once (and reports true), as Redis does.
func (s *Store) Expire(key []byte, at int64, cond ExpireCond, now int64) bool {
	sh := s.shardOf(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.live(key, now)
	if e == nil {
		return false
	}
	switch cond {
	case ExpireNX:
		if e.at != 0 {
			return false
		}
	case ExpireXX:
		if e.at == 0 {
			return false
		}
	case ExpireGT:
		if e.at == 0 || at <= e.at {
			return false
		}
	case ExpireLT:
		if e.at != 0 && at >= e.at {
			return false
		}
	}
	if at <= now {
		sh.remove(e)
		return true
	}
	sh.setExpiry(e, at)
	return true
}

// TTL returns the milliseconds key has left (0 in its last millisecond),
// -1 when it has no expiry time, -2 when it does not exist.
func (s *Store) TTL(key []byte, now int64) int64 {
	sh := s.shardOf(key)
	sh.mu.RLock()
	e, expired := sh.lookup(key, now)
	ttl := int64(-2)
	switch {
	case e == nil:
	case e.at == 0:
		ttl = -1
	default:
		ttl = e.at - now
	}
	sh.mu.RUnlock()
	if expired {
		sh.reap(key, now)
	}
	return ttl
}
