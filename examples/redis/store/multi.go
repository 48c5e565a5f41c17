package store

import "math/bits"

// Commands with several keys (MGET, MSET, DEL, EXISTS) take the locks of
// all the shards involved at once, in ascending shard order, so that no
// other command sees half of one done, as in Redis where every command is
// atomic; the fixed order keeps two of them from deadlocking. The set of
// shards is a bitmap on the stack: no allocation.

// shardSet is a set of shard indexes.
type shardSet [Shards / 64]uint64

func (set *shardSet) add(i int) { set[i/64] |= 1 << (i % 64) }

// each calls f for every shard in the set, in ascending order.
func (set *shardSet) each(f func(i int)) {
	for w, bitsLeft := range set {
		for ; bitsLeft != 0; bitsLeft &= bitsLeft - 1 {
			f(w*64 + bits.TrailingZeros64(bitsLeft))
		}
	}
}

// shardsOf returns the shards of keys[0], keys[step], keys[2*step]...
func (s *Store) shardsOf(keys [][]byte, step int) shardSet {
	var set shardSet
	for i := 0; i < len(keys); i += step {
		set.add(s.index(keys[i]))
	}
	return set
}

func (s *Store) lockAll(set *shardSet)   { set.each(func(i int) { s.shards[i].mu.Lock() }) }
func (s *Store) unlockAll(set *shardSet) { set.each(func(i int) { s.shards[i].mu.Unlock() }) }
func (s *Store) rlockAll(set *shardSet)  { set.each(func(i int) { s.shards[i].mu.RLock() }) }
func (s *Store) runlockAll(set *shardSet) {
	set.each(func(i int) { s.shards[i].mu.RUnlock() })
}

// reapAll deletes those of keys whose time has passed.
func (s *Store) reapAll(keys [][]byte, now int64) {
	for _, k := range keys {
		s.shardOf(k).reap(k, now)
	}
}

// GetMany appends, for each key in order, its value with hit or, when it
// does not exist, miss(dst) (MGET).
func (s *Store) GetMany(dst []byte, keys [][]byte, now int64, hit AppendFunc, miss func(dst []byte) []byte) []byte {
	set := s.shardsOf(keys, 1)
	s.rlockAll(&set)
	anyExpired := false
	for _, k := range keys {
		e, expired := s.shardOf(k).lookup(k, now)
		anyExpired = anyExpired || expired
		if e != nil {
			dst = hit(dst, e.val)
		} else {
			dst = miss(dst)
		}
	}
	s.runlockAll(&set)
	if anyExpired {
		s.reapAll(keys, now)
	}
	return dst
}

// SetMany stores pairs[1] under pairs[0], pairs[3] under pairs[2], and so
// on, removing their expiry times (MSET); a key given twice ends with its
// last value. len(pairs) must be even.
func (s *Store) SetMany(pairs [][]byte, now int64) {
	set := s.shardsOf(pairs, 2)
	s.lockAll(&set)
	for i := 0; i+1 < len(pairs); i += 2 {
		sh := s.shardOf(pairs[i])
		e := sh.put(pairs[i], pairs[i+1], sh.live(pairs[i], now))
		sh.setExpiry(e, 0)
	}
	s.unlockAll(&set)
}

// Delete deletes keys and returns how many existed; a key given twice
// counts once.
func (s *Store) Delete(keys [][]byte, now int64) int {
	set := s.shardsOf(keys, 1)
	s.lockAll(&set)
	n := 0
	for _, k := range keys {
		sh := s.shardOf(k)
		if e := sh.live(k, now); e != nil {
			sh.remove(e)
			n++
		}
	}
	s.unlockAll(&set)
	return n
}

// Exists returns how many of keys exist; a key given twice counts twice.
func (s *Store) Exists(keys [][]byte, now int64) int {
	set := s.shardsOf(keys, 1)
	s.rlockAll(&set)
	n, anyExpired := 0, false
	for _, k := range keys {
		e, expired := s.shardOf(k).lookup(k, now)
		anyExpired = anyExpired || expired
		if e != nil {
			n++
		}
	}
	s.runlockAll(&set)
	if anyExpired {
		s.reapAll(keys, now)
	}
	return n
}

// Len returns the number of keys, counting keys whose time has passed but
// that neither an access nor the sweep has deleted yet (as Redis's DBSIZE
// does).
func (s *Store) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		n += len(sh.keys)
		sh.mu.RUnlock()
	}
	return n
}

// Flush deletes every key (FLUSHALL), giving the maps' memory back.
func (s *Store) Flush() {
	for i := range s.shards {
		s.shards[i].mu.Lock()
	}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.keys = make(map[string]*entry)
		sh.expires = make(map[string]*entry)
		sh.peak = 0
	}
	for i := range s.shards {
		s.shards[i].mu.Unlock()
	}
}
