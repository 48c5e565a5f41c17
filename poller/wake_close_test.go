package poller

import (
	"errors"
	"testing"
)

// TestWakeAfterCloseWithWakePending: a Wake that nobody consumed leaves the
// wake flag set when the owner closes the poller; a Wake after that Close
// must still report ErrClosed rather than nil, or the caller believes its
// task will be run by a loop that has gone.
func TestWakeAfterCloseWithWakePending(t *testing.T) {
	p, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Wake(); err != nil {
		t.Fatalf("Wake before Close: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := p.Wake(); !errors.Is(err, ErrClosed) {
			t.Fatalf("Wake %d after Close with a wake pending: %v, want ErrClosed", i, err)
		}
	}
}
