//go:build unix

package evloop

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// fcFill writes the pattern stream from offset off to nc, on the calling
// goroutine and without blocking, until total or until the socket stays
// full: a write fails with EAGAIN and the socket does not become writable
// within idle. It returns the new offset and whether it stopped on a full
// socket. Backpressure is proved from the socket this way: the client
// cannot write more than the buffers along the way hold, however long it
// tries; idle only bounds how long it tries.
func fcFill(nc net.Conn, off, total int, idle time.Duration) (int, bool, error) {
	rc, err := nc.(syscall.Conn).SyscallConn()
	if err != nil {
		return off, false, err
	}
	buf := make([]byte, fcChunk)
	for off < total {
		n := min(len(buf), total-off)
		for i := range buf[:n] {
			buf[i] = itPatternByte(off + i)
		}
		var k int
		var werr error
		if err := rc.Write(func(fd uintptr) bool {
			k, werr = unix.Write(int(fd), buf[:n])
			return true // one attempt: never park in the runtime's poller
		}); err != nil {
			return off, false, err
		}
		switch {
		case werr == nil:
			off += k
		case werr == unix.EINTR:
		case werr == unix.EAGAIN:
			writable, err := fcPollWritable(rc, idle)
			if err != nil {
				return off, false, err
			}
			if !writable {
				return off, true, nil
			}
		default:
			return off, false, fmt.Errorf("client write after %d bytes: %w", off, werr)
		}
	}
	return off, false, nil
}

// fcPollWritable waits up to idle for the socket to have room, with
// poll(2), retrying the signals the runtime sends its threads.
func fcPollWritable(rc syscall.RawConn, idle time.Duration) (bool, error) {
	var writable bool
	var perr error
	err := rc.Control(func(fd uintptr) {
		deadline := time.Now().Add(idle)
		for {
			fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
			ms := int((time.Until(deadline) + time.Millisecond - 1) / time.Millisecond)
			n, err := unix.Poll(fds, max(ms, 0))
			switch {
			case err == unix.EINTR:
				continue
			case err != nil:
				perr = os.NewSyscallError("poll", err)
			default:
				writable = n > 0 && fds[0].Revents&unix.POLLOUT != 0
				if n > 0 && !writable {
					perr = fmt.Errorf("poll: revents %#x", fds[0].Revents)
				}
			}
			return
		}
	})
	return writable, errors.Join(err, perr)
}
