package resp

import "math"

// maxIntLen is the longest byte string ParseInt reads: "-9223372036854775808"
// has 20 bytes. Redis refuses anything longer without looking at it.
const maxIntLen = 20

// ParseInt parses b as Redis parses an integer (string2ll): optional '-',
// then decimal digits with no leading zero, nothing else (no '+', no
// spaces, no "-0"), within int64, at most 20 bytes. Lengths in the
// protocol and integer arguments (INCRBY, EXPIRE, SET EX) follow this rule,
// and so do values INCR accepts: ok is false for anything else. It does not
// allocate.
func ParseInt(b []byte) (n int64, ok bool) {
	if len(b) == 0 || len(b) > maxIntLen {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
		if len(b) == 0 {
			return 0, false
		}
	}
	if b[0] < '1' || b[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return int64(-v), true // -(1<<63) wraps to math.MinInt64, as wanted
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}
