package ringbuffer_test

import (
	"bytes"
	"fmt"

	"github.com/evloop/evloop/ringbuffer"
)

// Example fills a ring so its content wraps around the end of its memory,
// then reads it back without copying.
func Example() {
	var r ringbuffer.Ring // empty, holds no memory

	r.Write(bytes.Repeat([]byte{'.'}, ringbuffer.MinCap-4))
	r.WriteString("PING") // the ring is now full
	r.Discard(ringbuffer.MinCap - 4)
	r.WriteString("PONG") // no room at the end: wraps to the start

	head, tail := r.Peek(-1)
	fmt.Printf("head=%q tail=%q cap=%d\n", head, tail, r.Cap())

	r.Discard(6)
	head, tail = r.Peek(-1)
	fmt.Printf("head=%q tail=%q buffered=%d\n", head, tail, r.Buffered())

	r.Release() // idle: hand the memory back to the pool
	fmt.Println("cap after Release:", r.Cap())
	// Output:
	// head="PING" tail="PONG" cap=1024
	// head="NG" tail="" buffered=2
	// cap after Release: 0
}
