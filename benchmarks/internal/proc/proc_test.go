package proc

import (
	"os"
	"testing"
	"time"
)

func TestSelf(t *testing.T) {
	pid := os.Getpid()
	before, err := CPUTicks(pid)
	if err != nil {
		t.Fatal(err)
	}
	hz := ClockTicks()
	for start := time.Now(); time.Since(start) < 100*time.Millisecond; {
	}
	after, err := CPUTicks(pid)
	if err != nil {
		t.Fatal(err)
	}
	if spent := float64(after-before) / float64(hz); spent < 0.05 || spent > 2 {
		t.Errorf("a 100 ms spin measured as %.2f CPU seconds", spent)
	}
	if busy, err := BusyTicks(); err != nil || busy < after {
		t.Fatalf("BusyTicks = %d, %v; this process alone used %d", busy, err, after)
	}
	rss, err := RSSKiB(pid)
	if err != nil || rss <= 0 {
		t.Fatalf("RSSKiB = %d, %v", rss, err)
	}
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, err := OpenFiles(pid)
	if err != nil || n < 4 {
		t.Fatalf("OpenFiles = %d, %v", n, err)
	}
}
