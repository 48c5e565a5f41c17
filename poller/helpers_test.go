package poller

import "testing"

// collector records the events of one Wait.
type collector struct{ events []Event }

func (c *collector) OnEvent(ev Event) { c.events = append(c.events, ev) }

func (c *collector) find(fd int) (Event, bool) {
	for _, ev := range c.events {
		if ev.FD == fd {
			return ev, true
		}
	}
	return Event{}, false
}

func openPoller(tb testing.TB) *Poller {
	tb.Helper()
	p, err := Open()
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := p.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return p
}

func waitOnce(tb testing.TB, p *Poller, timeout int) (*collector, bool) {
	tb.Helper()
	c := &collector{}
	woken, err := p.Wait(timeout, c)
	if err != nil {
		tb.Fatalf("Wait: %v", err)
	}
	return c, woken
}

func mustAdd(tb testing.TB, p *Poller, fd int, gen uint32, in Interest) {
	tb.Helper()
	if err := p.Add(fd, gen, in); err != nil {
		tb.Fatalf("Add: %v", err)
	}
}

func mustMod(tb testing.TB, p *Poller, fd int, gen uint32, in Interest) {
	tb.Helper()
	if err := p.Mod(fd, gen, in); err != nil {
		tb.Fatalf("Mod: %v", err)
	}
}
