// Package store is the key-value store of evloop's Redis example: keys
// holding string values, each with an optional expiry time, shared by
// every event loop of the server.
//
// # Shared shards, not loops that own keys
//
// Two designs fit an event-loop server. In one, each loop owns the keys
// that hash to it and no lock is needed, but a command for another loop's
// key must be handed to that loop and its reply handed back: two trips
// through task queues, each with a wake-up, and replies to pipelined
// commands reassembled in order across loops. With N loops that is
// (N-1)/N of all commands. In the other, chosen here, any loop runs any
// command on the spot, under the lock of the key's shard.
//
// Measured on the 2-core machine this was written on (go test -bench .):
// a GET under its shard's read lock costs about 32 ns on one goroutine
// and 20 to 40 ns each with two in parallel (BenchmarkGet,
// BenchmarkGetParallel); a SET or an INCR about 40 to 65 ns. One round
// trip between two loops through their task queues, what the other design
// adds to most commands, costs 8 to 35 µs with the loops idle between
// trips (BenchmarkHandoffRoundTrip; less when busy loops batch their
// wake-ups, but still microseconds), hundreds of times the lock. The
// shards are for machines with more cores: with two, one lock for all keys
// costs about as much (BenchmarkOneLockParallel), but with many cores its
// one cache line would bounce between all of them on every command.
//
// # Shards and locks
//
// A key's shard is chosen by hash/maphash; each of the 256 shards is a Go
// map behind a sync.RWMutex, padded so that two shards' locks never share
// a cache line. Reads (GET, MGET, EXISTS, TTL) take the read lock and copy
// the value into the caller's reply while holding it (AppendFunc), so a
// GET hit allocates nothing and a concurrent write can reuse the value's
// memory in place. Writes take the write lock. Commands on several keys
// (MGET, MSET, DEL, EXISTS) lock all their shards at once, in ascending
// order, so that they are atomic, as every Redis command is, and cannot
// deadlock each other.
//
// # Memory
//
// A SET of a new key allocates what it stores: the key's bytes, a 48-byte
// entry and the value's bytes. A SET over an existing key writes the new
// value into the old one's memory when it fits and the old is not much
// larger; INCR always writes in place. Nothing else is allocated per
// command.
//
// # Expiry
//
// A key whose time has passed is deleted by the first command that
// touches it (readers find it under the read lock and delete it under the
// write lock right after), and otherwise by Sweep, which the server runs
// on a timer of every loop, each loop on its own part of the shards:
// Redis's sampling of keys with an expiry time, within a time budget per
// call. Until then a dead key still counts in Len, as in Redis's DBSIZE.
package store
