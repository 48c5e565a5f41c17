package ringbuffer

import "errors"

var (
	// ErrTooLarge is returned when a write would make the ring hold more than
	// MaxCap bytes. Nothing is written when it is returned.
	ErrTooLarge = errors.New("ringbuffer: buffer would exceed MaxCap")

	// ErrNegativeCount is returned by Discard for a negative count.
	ErrNegativeCount = errors.New("ringbuffer: negative count")

	// ErrInvalidWrite is returned by WriteTo when the destination reports a
	// count outside [0, len(p)]; the ring then keeps every byte it held, since
	// it cannot know how many were taken.
	ErrInvalidWrite = errors.New("ringbuffer: writer returned invalid count")

	// ErrInvalidRead is returned by ReadFrom when the source reports a count
	// outside [0, len(p)]; the bytes of that call are not kept.
	ErrInvalidRead = errors.New("ringbuffer: reader returned invalid count")
)
