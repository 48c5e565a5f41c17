package h1

import (
	"strconv"
	"sync/atomic"
	"time"
)

const (
	dateLen      = len("Mon, 02 Jan 2006 15:04:05 GMT")
	weekdayNames = "SunMonTueWedThuFriSat"
	monthNames   = "JanFebMarAprMayJunJulAugSepOctNovDec"
)

// AppendDate appends t in IMF-fixdate form, the layout of net/http.TimeFormat ("Mon, 02 Jan 2006 15:04:05 GMT"),
// converted to UTC, and returns the extended slice. Years outside 0000-9999 are written the way time.Format
// writes them. It allocates only when dst must grow. Safe from any goroutine.
func AppendDate(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	hour, minute, second := t.Clock()
	wd := int(t.Weekday())
	dst = append(dst, weekdayNames[3*wd:3*wd+3]...)
	dst = append(dst, ", "...)
	dst = appendTwoDigits(dst, day)
	dst = append(dst, ' ')
	m := int(month) - 1
	dst = append(dst, monthNames[3*m:3*m+3]...)
	dst = append(dst, ' ')
	dst = appendYear(dst, year)
	dst = append(dst, ' ')
	dst = appendTwoDigits(dst, hour)
	dst = append(dst, ':')
	dst = appendTwoDigits(dst, minute)
	dst = append(dst, ':')
	dst = appendTwoDigits(dst, second)
	return append(dst, " GMT"...)
}

func appendTwoDigits(dst []byte, v int) []byte {
	return append(dst, byte('0'+v/10), byte('0'+v%10))
}

// appendYear pads to four digits and keeps the sign, as time.Format's "2006" does.
func appendYear(dst []byte, year int) []byte {
	u := uint64(year)
	if year < 0 {
		dst = append(dst, '-')
		u = uint64(-year)
	}
	if u >= 10000 {
		return strconv.AppendUint(dst, u, 10)
	}
	return append(dst, byte('0'+u/1000), byte('0'+u/100%10), byte('0'+u/10%10), byte('0'+u%10))
}

// DateCache holds the current Date field value so that responses do not format the time each. The zero
// value is ready to use; Get returns nil until the first Refresh. One goroutine (the loop, on a one-second
// tick) calls Refresh while any number of goroutines call Get.
type DateCache struct {
	current atomic.Pointer[cachedDate]
}

// cachedDate is immutable once published, which is what lets readers use it without a lock.
type cachedDate struct {
	unix  int64
	value []byte
}

// Refresh formats now and publishes it. Calls within the same second as the published value do nothing and
// do not allocate; otherwise Refresh allocates one small value. Call it from one goroutine at a time.
func (d *DateCache) Refresh(now time.Time) {
	sec := now.Unix()
	if cur := d.current.Load(); cur != nil && cur.unix == sec {
		return
	}
	next := &cachedDate{unix: sec}
	value := AppendDate(make([]byte, 0, dateLen), now)
	next.value = value[:len(value):len(value)]
	d.current.Store(next)
}

// Get returns the published Date value, or nil before the first Refresh. It does not allocate and is safe
// from any goroutine, concurrently with Refresh. The slice must not be modified; it stays valid until the
// second Refresh after this call (a response built before then may hold it without copying).
func (d *DateCache) Get() []byte {
	if cur := d.current.Load(); cur != nil {
		return cur.value
	}
	return nil
}
