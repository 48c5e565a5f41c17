//go:build (netbsd || openbsd) && !evloop_portable

package poller

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// pipeWrite and pipeRead are syscall seams for tests, like kevent.
var (
	pipeWrite = unix.Write
	pipeRead  = unix.Read
)

var wakeByte = [1]byte{1}

// wakeChannel is a non-blocking pipe whose read end the kqueue watches,
// level-triggered: these kernels have no EVFILT_USER (NetBSD only gained it
// in 10, and x/sys/unix does not expose it there).
type wakeChannel struct {
	r, w int
	buf  [64]byte
}

func (w *wakeChannel) open(kq int) error {
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		return os.NewSyscallError("pipe2", err)
	}
	reg := [1]unix.Kevent_t{change(fds[0], unix.EVFILT_READ, unix.EV_ADD)}
	if _, err := kevent(kq, reg[:], nil, nil); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return os.NewSyscallError("kevent", err)
	}
	w.r, w.w = fds[0], fds[1]
	return nil
}

func (w *wakeChannel) is(k *unix.Kevent_t) bool {
	return int(k.Filter) == unix.EVFILT_READ && int(k.Ident) == w.r
}

// drain empties the pipe. A pipe never drained keeps a level-triggered
// kqueue returning at once, which is how an idle loop ends up spinning.
func (w *wakeChannel) drain() {
	for {
		n, err := pipeRead(w.r, w.buf[:])
		if err == unix.EINTR {
			continue
		}
		// EAGAIN: empty. Anything else (EBADF after Close) leaves
		// nothing to drain either.
		if err != nil || n == 0 {
			return
		}
	}
}

// signal writes one byte. Only the Wake that set wakePending calls it,
// under the poller's close lock.
func (w *wakeChannel) signal(int) error {
	// EAGAIN: the pipe is full, so it is readable.
	return writeWake(pipeWrite, w.w, wakeByte[:])
}

func (w *wakeChannel) close() error {
	return errors.Join(sysClose(w.r), sysClose(w.w))
}
