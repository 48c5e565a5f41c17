package evloop

import (
	"errors"
	"testing"
	"time"

	"github.com/evloop/evloop/internal/socket"
)

// TestOptionValidation: each out-of-range option makes Run return an error
// wrapping ErrInvalidOption before it creates a single socket (counted
// through the socket seam) and before OnBoot. The valid rows, at the edges
// of the ranges, show that the count sees a listen when there is one.
func TestOptionValidation(t *testing.T) {
	tests := []struct {
		name  string
		opts  []Option
		valid bool
		// system, when not nil, says whether this system can honour the
		// valid options (see internal/socket's systems.go).
		system func() error
	}{
		{name: "watermarks equal", opts: []Option{WithOutboundWatermarks(1000, 1000)}},
		{name: "low watermark above high", opts: []Option{WithOutboundWatermarks(1000, 2000)}},
		{name: "negative low watermark", opts: []Option{WithOutboundWatermarks(1000, -1)}},
		{name: "limit below high watermark", opts: []Option{WithOutboundLimit(DefaultOutboundHigh - 1)}},
		{name: "zero inbound limit", opts: []Option{WithInboundLimit(0)}},
		{name: "negative inbound limit", opts: []Option{WithInboundLimit(-1)}},
		{name: "zero outbound limit", opts: []Option{WithOutboundLimit(0)}},
		{name: "negative outbound limit", opts: []Option{WithOutboundLimit(-1)}},
		{name: "zero linger", opts: []Option{WithLinger(0)}},
		{name: "negative linger", opts: []Option{WithLinger(-time.Second)}},
		{name: "negative read buffer", opts: []Option{WithReadBufferSize(-1)}},
		{name: "negative loops", opts: []Option{WithLoops(-1)}},
		{name: "keepalive 1ns", opts: []Option{WithTCPKeepAlive(time.Nanosecond)}},
		{name: "keepalive below 1s", opts: []Option{WithTCPKeepAlive(999 * time.Millisecond)}},
		{name: "keepalive above kernel maximum", opts: []Option{WithTCPKeepAlive(32768 * time.Second)}},
		{name: "keepalive just above kernel maximum", opts: []Option{WithTCPKeepAlive(32767*time.Second + 1)}},
		{name: "negative keepalive", opts: []Option{WithTCPKeepAlive(-time.Second)}},

		{name: "valid defaults", valid: true},
		{name: "valid watermarks at the limit", opts: []Option{WithOutboundWatermarks(1000, 0), WithOutboundLimit(1000)}, valid: true},
		{name: "valid keepalive 1s", opts: []Option{WithTCPKeepAlive(time.Second)}, valid: true, system: socket.KeepAliveTuning},
		{name: "valid keepalive maximum", opts: []Option{WithTCPKeepAlive(32767 * time.Second)}, valid: true, system: socket.KeepAliveTuning},
		{name: "valid reuseport with one loop", opts: []Option{WithReusePort(true)}, valid: true},
		{name: "valid backlog", opts: []Option{WithBacklog(64)}, valid: true, system: socket.BacklogSetting},
		{name: "valid reuseport with two loops", opts: []Option{WithReusePort(true), WithLoops(2)}, valid: true, system: socket.ReusePortBalancing},
		{name: "valid keepalive off", opts: []Option{WithTCPKeepAlive(0)}, valid: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sockets := tbCountSockets(t)
			booted, err := tbRunToEnd(t, "tcp://127.0.0.1:0", append([]Option{WithLoops(1)}, tt.opts...)...)
			if tt.system != nil && tt.system() != nil {
				// Valid, but not on this system: refused all the same, and
				// saying why.
				if !errors.Is(err, errors.ErrUnsupported) {
					t.Errorf("Run = %v, want an error wrapping errors.ErrUnsupported", err)
				}
				tt.valid = false
			}
			if tt.valid {
				if err != nil || !booted || sockets.Load() == 0 {
					t.Fatalf("Run = %v (booted %v, %d sockets), want a served and stopped engine", err, booted, sockets.Load())
				}
				return
			}
			if !errors.Is(err, ErrInvalidOption) {
				t.Errorf("Run = %v, want an error wrapping ErrInvalidOption", err)
			}
			if booted {
				t.Error("OnBoot ran although the options are invalid")
			}
			if n := sockets.Load(); n != 0 {
				t.Errorf("Run created %d sockets before rejecting the options", n)
			}
		})
	}
}
