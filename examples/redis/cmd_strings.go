package main

import (
	"errors"
	"math"

	"github.com/evloop/evloop/examples/redis/resp"
	"github.com/evloop/evloop/examples/redis/store"
)

// The string commands. Every key holds a string (the store has no other
// type), so Redis's WRONGTYPE error cannot arise: the one type check left
// is INCR's, whose value must read as an integer ("value is not an integer
// or out of range"). Commands on other types (LPUSH, HSET...) are unknown
// commands here.

// GET key
func cmdGet(r *request) {
	var ok bool
	if r.out, ok = r.h.store.Get(r.out, r.args[1], r.now, resp.AppendBulk); !ok {
		r.null()
	}
}

// SET key value [NX | XX] [GET] [EX seconds | PX milliseconds |
// EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]
//
// The options are read the way Redis 7.0 reads them: in any order, the
// same one twice allowed (the last time wins), conflicting ones (NX with
// XX; the expiry options and KEEPTTL with each other) a syntax error, and
// an expiry option as the last argument, with no value, a syntax error
// too.
func cmdSet(r *request) {
	var (
		get, keepTTL, nx, xx bool
		expiry               expiryKind
		expireArg            []byte
	)
	last := len(r.args) - 1
	for i := 3; i < len(r.args); i++ {
		opt := r.args[i]
		switch {
		case equalFold(opt, "nx") && !xx:
			nx = true
		case equalFold(opt, "xx") && !nx:
			xx = true
		case equalFold(opt, "get"):
			get = true
		case equalFold(opt, "keepttl") && expiry == noExpiry:
			keepTTL = true
		default:
			kind := expiryOption(opt)
			if kind == noExpiry || keepTTL || expiry != noExpiry && expiry != kind || i == last {
				r.fail(errSyntax)
				return
			}
			expiry = kind
			i++
			expireArg = r.args[i]
		}
	}
	a := store.SetArgs{KeepTTL: keepTTL}
	if expiry != noExpiry {
		at, ok := expiryTime(r, expireArg, expiry)
		if !ok {
			return
		}
		a.At = at
	}
	switch {
	case nx:
		a.Cond = store.IfAbsent
	case xx:
		a.Cond = store.IfPresent
	}
	var old store.AppendFunc
	if get {
		old = resp.AppendBulk
	}
	out, existed, stored := r.h.store.Set(r.out, r.args[1], r.args[2], a, r.now, old)
	r.out = out
	switch {
	case get && !existed:
		r.null()
	case get:
		// The old value is in the reply already.
	case stored:
		r.ok()
	default:
		r.null()
	}
}

// expiryKind is SET's expiry option.
type expiryKind uint8

const (
	noExpiry   expiryKind = iota
	expiryEX              // seconds from now
	expiryPX              // milliseconds from now
	expiryEXAT            // Unix time in seconds
	expiryPXAT            // Unix time in milliseconds
)

func expiryOption(opt []byte) expiryKind {
	switch {
	case equalFold(opt, "ex"):
		return expiryEX
	case equalFold(opt, "px"):
		return expiryPX
	case equalFold(opt, "exat"):
		return expiryEXAT
	case equalFold(opt, "pxat"):
		return expiryPXAT
	}
	return noExpiry
}

// expiryTime reads SET's expiry argument and returns the absolute time it
// names, or appends Redis's error and returns false: a value that is not
// an integer, not positive, or so large that the time overflows.
func expiryTime(r *request, arg []byte, kind expiryKind) (int64, bool) {
	n, ok := resp.ParseInt(arg)
	if !ok {
		r.fail(errNotInteger)
		return 0, false
	}
	seconds := kind == expiryEX || kind == expiryEXAT
	if n <= 0 || seconds && n > math.MaxInt64/1000 {
		r.failExpireTime("set")
		return 0, false
	}
	if seconds {
		n *= 1000
	}
	if kind == expiryEXAT || kind == expiryPXAT {
		return n, true
	}
	if n > math.MaxInt64-r.now {
		r.failExpireTime("set")
		return 0, false
	}
	return r.now + n, true
}

// MGET key [key ...]
func cmdMGet(r *request) {
	keys := r.args[1:]
	r.array(len(keys))
	r.out = r.h.store.GetMany(r.out, keys, r.now, resp.AppendBulk, resp.AppendNull)
}

// MSET key value [key value ...]
func cmdMSet(r *request) {
	if len(r.args)%2 == 0 {
		r.failArity("mset")
		return
	}
	r.h.store.SetMany(r.args[1:], r.now)
	r.ok()
}

// INCR key
func cmdIncr(r *request) { incrBy(r, 1) }

// DECR key
func cmdDecr(r *request) { incrBy(r, -1) }

// INCRBY key increment
func cmdIncrBy(r *request) {
	delta, ok := resp.ParseInt(r.args[2])
	if !ok {
		r.fail(errNotInteger)
		return
	}
	incrBy(r, delta)
}

// DECRBY key decrement
func cmdDecrBy(r *request) {
	delta, ok := resp.ParseInt(r.args[2])
	switch {
	case !ok:
		r.fail(errNotInteger)
	case delta == math.MinInt64:
		r.fail(errDecrOverflow)
	default:
		incrBy(r, -delta)
	}
}

func incrBy(r *request, delta int64) {
	n, err := r.h.store.IncrBy(r.args[1], delta, r.now)
	switch {
	case errors.Is(err, store.ErrNotInteger):
		r.fail(errNotInteger)
	case errors.Is(err, store.ErrOverflow):
		r.fail(errOverflow)
	default:
		r.integer(n)
	}
}
