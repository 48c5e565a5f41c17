package evloop

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/evloop/evloop/poller"
)

// tbCountingPoller counts a poller's Waits and how many of them polled
// (timeout 0).
type tbCountingPoller struct {
	readiness
	waits, polls atomic.Int64
}

func (p *tbCountingPoller) Wait(timeout int, h poller.Handler) (bool, error) {
	p.waits.Add(1)
	if timeout == 0 {
		p.polls.Add(1)
	}
	return p.readiness.Wait(timeout, h)
}

// TestPaceIdleLoopBlocksLinux: a loop that was busy polls instead of
// blocking, but once a poll finds nothing it yields and blocks again, so an
// idle loop makes no more waits than its timers ask for. After a burst of
// 2,000 echoes the loop's wait count must settle: at most a handful of
// waits in the following 300 ms (the empty poll, then one blocking wait),
// where a loop that kept polling would make thousands. Wraps the poller
// through the openPoller seam, hence Linux in the name.
func TestPaceIdleLoopBlocksLinux(t *testing.T) {
	var counters []*tbCountingPoller
	open := openPoller
	t.Cleanup(func() { openPoller = open })
	openPoller = func() (readiness, error) {
		p, err := open()
		if err != nil {
			return nil, err
		}
		c := &tbCountingPoller{readiness: p}
		counters = append(counters, c)
		return c, nil
	}
	s := itServe(t, &tbHandler{traffic: echoHandler{}.OnTraffic}, []string{"tcp://127.0.0.1:0"}, WithLoops(1))
	loopWaits := &counters[0].waits // the loop's poller is opened first
	nc := s.dial(t)
	for i := 0; i < 2000; i++ {
		if err := tbEcho(nc, []byte("ping"), 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	polled := counters[0].polls.Load()
	time.Sleep(50 * time.Millisecond) // the loop goes quiet
	before := loopWaits.Load()
	time.Sleep(300 * time.Millisecond)
	idle := loopWaits.Load() - before
	t.Logf("%d waits during the burst polled (timeout 0); %d waits in 300 ms of idleness", polled, idle)
	if polled == 0 {
		t.Error("no wait polled during the burst: a busy loop should poll before blocking")
	}
	if idle > 2 {
		t.Errorf("%d waits in 300 ms on an idle loop: it keeps polling instead of blocking", idle)
	}
}
