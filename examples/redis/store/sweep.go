package store

import "time"

// Keys whose time has passed are deleted when a command touches them, and
// otherwise by Sweep, which a server runs periodically, the way Redis's
// active expire cycle does: look at a few random keys that have an expiry
// time, delete the expired ones, and look again at once while more than a
// quarter of those seen had expired, so that the share of dead keys taking
// memory stays small without ever scanning every key.

const (
	// sweepSample is how many keys with an expiry time one look checks
	// (Redis: ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP).
	sweepSample = 20
	// minRebuild: an expires map that has shrunk to a quarter of its peak
	// is rebuilt, once the peak was at least this large. Go maps never
	// shrink, and sampling by iteration walks the empty slots a mass
	// expiry leaves behind.
	minRebuild = 4096
)

// Sweep deletes expired keys from the shards of one part: with parts
// parts, part p is the shards p, p+parts, p+2*parts... so that each of
// parts event loops sweeps its own part without meeting the others. Each
// call starts at a different shard of the part and stops once budget is
// spent, so one call stays short and, across calls, every shard gets its
// turn. It returns how many keys it deleted.
func (s *Store) Sweep(part, parts int, now int64, budget time.Duration) int {
	if parts < 1 || part < 0 || part >= parts || part >= Shards {
		return 0
	}
	start := time.Now()
	count := (Shards - part + parts - 1) / parts
	first := int(s.turn.Add(1) % uint64(count))
	deleted := 0
	var ttlSum, ttlCount int64
	for j := range count {
		sh := &s.shards[part+(first+j)%count*parts]
		// Bounded by the budget: each look checks up to sweepSample keys.
		for {
			checked, found, sum := sh.sweepOnce(now)
			deleted += found
			ttlSum += sum
			ttlCount += int64(checked - found)
			if found*4 <= checked || time.Since(start) > budget {
				break
			}
		}
		if time.Since(start) > budget {
			break
		}
	}
	if ttlCount > 0 {
		s.noteTTL(ttlSum / ttlCount)
	}
	return deleted
}

// sweepOnce checks up to sweepSample of the shard's keys that have an
// expiry time and deletes the expired ones. It returns how many it checked
// and deleted, and the sum of the remaining times of the others.
func (sh *shard) sweepOnce(now int64) (checked, deleted int, ttlSum int64) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	// A map's iteration starts at a random place: a random sample.
	for _, e := range sh.expires {
		if checked == sweepSample {
			break
		}
		checked++
		if e.expired(now) {
			sh.remove(e)
			deleted++
		} else {
			ttlSum += e.at - now
		}
	}
	sh.expired += uint64(deleted)
	if sh.peak >= minRebuild && len(sh.expires)*4 < sh.peak {
		m := make(map[string]*entry, len(sh.expires))
		for k, e := range sh.expires {
			m[k] = e
		}
		sh.expires, sh.peak = m, len(m)
	}
	return checked, deleted, ttlSum
}

// noteTTL folds the average remaining time of one sweep's sample into the
// running estimate, as Redis does for INFO's avg_ttl.
func (s *Store) noteTTL(sample int64) {
	if old := s.avgTTL.Load(); old != 0 {
		sample = old/50*49 + sample/50
	}
	s.avgTTL.Store(sample)
}

// Stats is a summary of the store, for INFO.
type Stats struct {
	Keys    int    // keys stored, as Len counts them
	Expires int    // of which with an expiry time
	Expired uint64 // keys deleted so far because their time had passed
	// AvgTTL estimates, from the sweep's samples, the average time keys
	// with an expiry time have left, in milliseconds; 0 with none.
	AvgTTL int64
}

// Stats returns the store's figures, each shard read under its lock.
func (s *Store) Stats() Stats {
	var st Stats
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		st.Keys += len(sh.keys)
		st.Expires += len(sh.expires)
		st.Expired += sh.expired
		sh.mu.RUnlock()
	}
	if st.Expires > 0 {
		st.AvgTTL = s.avgTTL.Load()
	}
	return st
}
