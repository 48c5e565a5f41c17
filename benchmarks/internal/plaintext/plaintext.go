// Package plaintext is the HTTP work every benchmark contestant does per
// request, so that the contestants differ only in how bytes reach it and how
// its output reaches the socket: parse each complete request with h1.Parse
// and append the TechEmpower "plaintext" response ("200 OK", "Hello,
// World!") with h1.AppendResponse.
package plaintext

import (
	"time"

	"github.com/evloop/evloop/examples/http/h1"
)

var (
	// Body is the response body every request gets.
	Body      = []byte("Hello, World!")
	textPlain = []byte("text/plain")
)

// Answer appends a response for each complete request at the start of in,
// and returns the extended out, how many bytes of in those requests used,
// and whether the connection stays open. It stops at an incomplete request
// (its bytes stay unused, to be offered again with more), after a request
// that closes the connection, and at bytes that are not a request, which get
// an error response and keepAlive false. It allocates only when out must
// grow; date is the Date field value (Dates.Get). Safe from any goroutine.
func Answer(out, in, date []byte) (resp []byte, used int, keepAlive bool) {
	keepAlive = true
	// Bounded: every pass consumes n > 0 bytes of in, or ends the loop.
	for keepAlive && used < len(in) {
		var req h1.Request
		n, err := h1.Parse(in[used:], &req)
		if err != nil {
			return h1.AppendResponse(out, h1.StatusFor(err), date, nil, nil, false), used, false
		}
		if n == 0 {
			break
		}
		used += n
		keepAlive = req.KeepAlive
		out = h1.AppendResponse(out, 200, date, textPlain, Body, keepAlive)
	}
	return out, used, keepAlive
}

// Dates is the Date field value, refreshed once a second by a goroutine of
// its own, the same way in every contestant.
type Dates struct{ cache h1.DateCache }

// StartDates returns a Dates that is current now and stays current for the
// life of the process.
func StartDates() *Dates {
	d := &Dates{}
	d.cache.Refresh(time.Now())
	go func() {
		t := time.NewTicker(time.Second)
		for now := range t.C {
			d.cache.Refresh(now)
		}
	}()
	return d
}

// Get returns the current value without allocating. Safe from any goroutine.
func (d *Dates) Get() []byte { return d.cache.Get() }
