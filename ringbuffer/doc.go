// Package ringbuffer provides Ring, the growable byte ring that buffers a
// connection's inbound and outbound bytes in evloop.
//
// # Ownership
//
// Each Ring has one owner: the event-loop goroutine of its connection. No
// method is safe for concurrent use, and none needs to be, because the loop
// is the only goroutine that touches a connection's buffers.
//
// # Memory
//
// An idle connection must hold no buffer memory. The zero Ring holds none; the
// first write takes a chunk from a pool, and Release gives it back. Emptying a
// ring with Read, Discard or WriteTo keeps the chunk (a busy connection would
// otherwise hand it back and fetch it again on every message); the owner calls
// Release when it decides the connection has gone idle.
//
// Capacities are 0 or powers of two from MinCap (1 KiB) to MaxCap (1 GiB).
// Growth picks the next power of two that holds the content, so chunks come
// from size-classed sync.Pools, one per power of two from 1 KiB to 64 MiB;
// bigger chunks are left to the garbage collector. A pool per power of two
// matches the growth rule exactly, so every pooled chunk fits a later request
// of its class with no waste. A calibrating pool such as bytebufferpool picks
// sizes from observed use, which a power-of-two ring cannot adopt, and it
// hands out buffers whose capacity the ring would have to round down. The
// pools are package-level so that all loops share idle memory; they hold
// nothing else and need no setup.
//
// Each pooled item is a small wrapper that the ring keeps while it owns the
// memory, so returning memory to a pool does not allocate: steady-state use,
// including Release and re-grow within the same size class, allocates
// nothing.
//
// # Walk-through
//
// A loop appends the bytes a handler left unread, then later looks at them
// without copying:
//
//	var in ringbuffer.Ring           // zero value: empty, no memory
//	in.Write(unread)                 // takes a 1 KiB chunk (or larger) from the pool
//	head, tail := in.Peek(4)         // first 4 bytes, split if they wrap
//	if len(head)+len(tail) == 4 {
//		in.Discard(4)                // consume them
//	}
//	if in.IsEmpty() {
//		in.Release()                 // idle again: give the memory back
//	}
//
// Outbound bytes the socket did not take wait in a ring until it is writable;
// Peek(-1) yields at most two slices, ready for writev, and Discard drops what
// the kernel accepted. WriteTo does the same through an io.Writer.
//
// Slices returned by Peek alias the ring and stay valid only until the next
// call that mutates it.
package ringbuffer
