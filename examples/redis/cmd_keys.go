package main

import (
	"math"

	"github.com/evloop/evloop/examples/redis/resp"
	"github.com/evloop/evloop/examples/redis/store"
)

// The keyspace commands.

// DEL key [key ...]
func cmdDel(r *request) { r.integer(int64(r.h.store.Delete(r.args[1:], r.now))) }

// EXISTS key [key ...]
func cmdExists(r *request) { r.integer(int64(r.h.store.Exists(r.args[1:], r.now))) }

// EXPIRE key seconds [NX | XX | GT | LT]
//
// As in Redis 7.0, the options are checked before the number, a time not
// in the future deletes the key, and a time that overflows is an error.
func cmdExpire(r *request) {
	var nx, xx, gt, lt bool
	for _, opt := range r.args[3:] {
		switch {
		case equalFold(opt, "nx"):
			nx = true
		case equalFold(opt, "xx"):
			xx = true
		case equalFold(opt, "gt"):
			gt = true
		case equalFold(opt, "lt"):
			lt = true
		default:
			r.failUnsupportedOption(opt)
			return
		}
	}
	switch {
	case nx && (xx || gt || lt):
		r.fail(errExpireNX)
		return
	case gt && lt:
		r.fail(errExpireGTLT)
		return
	}
	seconds, ok := resp.ParseInt(r.args[2])
	if !ok {
		r.fail(errNotInteger)
		return
	}
	if seconds > math.MaxInt64/1000 || seconds < math.MinInt64/1000 {
		r.failExpireTime("expire")
		return
	}
	ms := seconds * 1000
	if ms > math.MaxInt64-r.now {
		r.failExpireTime("expire")
		return
	}
	cond := store.ExpireAlways
	switch {
	case nx:
		cond = store.ExpireNX
	case xx:
		cond = store.ExpireXX
	case gt:
		cond = store.ExpireGT
	case lt:
		cond = store.ExpireLT
	}
	if r.h.store.Expire(r.args[1], r.now+ms, cond, r.now) {
		r.integer(1)
	} else {
		r.integer(0)
	}
}

// TTL key: seconds left, rounded to the nearest; -1 without an expiry
// time, -2 without the key.
func cmdTTL(r *request) {
	ttl := r.h.store.TTL(r.args[1], r.now)
	if ttl >= 0 {
		ttl = (ttl + 500) / 1000
	}
	r.integer(ttl)
}

// PTTL key: TTL in milliseconds.
func cmdPTTL(r *request) { r.integer(r.h.store.TTL(r.args[1], r.now)) }

// DBSIZE
func cmdDBSize(r *request) { r.integer(int64(r.h.store.Len())) }

// FLUSHALL [ASYNC | SYNC]: both delete at once.
func cmdFlushAll(r *request) {
	if len(r.args) > 2 || len(r.args) == 2 && !equalFold(r.args[1], "async") && !equalFold(r.args[1], "sync") {
		r.fail(errSyntax)
		return
	}
	r.h.store.Flush()
	r.ok()
}
