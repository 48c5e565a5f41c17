// Package loadgen is what the load generators (echoload, firehose) share:
// the phases of a run, the measured window with its CPU reading, and the
// JSON lines they print.
package loadgen

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"
)

// Phases of a run, read by every worker once per read.
const (
	Warming int32 = iota
	Measuring
	Stopping
)

// Window runs the warm-up and the measured window: after warmup it sets
// phase to Measuring and prints {"event":"start"}, after duration it sets
// Stopping and prints {"event":"end"}. It returns the window's length and
// the CPU seconds this process used in it.
func Window(phase *atomic.Int32, warmup, duration time.Duration) (elapsed time.Duration, cpu float64) {
	time.Sleep(warmup)
	cpu0 := CPUSeconds()
	t0 := time.Now()
	phase.Store(Measuring)
	emit("start")
	time.Sleep(duration)
	phase.Store(Stopping)
	elapsed = time.Since(t0)
	cpu = CPUSeconds() - cpu0
	emit("end")
	return elapsed, cpu
}

func emit(event string) { fmt.Printf("{\"event\":%q}\n", event) }

// Print writes the result line and exits 1 when err is not nil (its text is
// already in res).
func Print(res any, err error) {
	out, _ := json.Marshal(res) // plain numbers and strings: cannot fail
	fmt.Println(string(out))
	if err != nil {
		os.Exit(1)
	}
}

// Prepare gives every connection the one deadline that bounds the whole
// run, even if the server stops answering, at no cost per message.
func Prepare(conns []net.Conn, deadline time.Time) error {
	for _, c := range conns {
		if err := c.SetDeadline(deadline); err != nil {
			return err
		}
	}
	return nil
}

// CloseAll closes every connection.
func CloseAll(conns []net.Conn) {
	for _, c := range conns {
		_ = c.Close()
	}
}

// Failed summarises the connections' errors (nil entries are fine): how
// many failed, and an error naming the first, nil when none did.
func Failed(errs []error, conns int) (int, error) {
	failed := 0
	var first error
	for _, e := range errs {
		if e == nil {
			continue
		}
		if failed == 0 {
			first = e
		}
		failed++
	}
	if failed == 0 {
		return 0, nil
	}
	return failed, fmt.Errorf("%d of %d connections failed, first: %w", failed, conns, first)
}

// CPUSeconds returns the CPU time this process has used.
func CPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}
