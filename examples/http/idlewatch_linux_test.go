package main

import "syscall"

// idleWatch reports which of many client sockets became readable or were
// hung up on, for TestIdleClientsChild: epoll here, kqueue on macOS and
// the BSDs (idlewatch_bsd_test.go).
type idleWatch struct {
	ep     int
	events []syscall.EpollEvent
	ready  []int
}

func newIdleWatch() (*idleWatch, error) {
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	return &idleWatch{ep: ep, events: make([]syscall.EpollEvent, 256)}, nil
}

func (w *idleWatch) add(fd int) error {
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(fd)}
	return syscall.EpollCtl(w.ep, syscall.EPOLL_CTL_ADD, fd, &ev)
}

func (w *idleWatch) del(fd int) { _ = syscall.EpollCtl(w.ep, syscall.EPOLL_CTL_DEL, fd, nil) }

// wait returns the sockets that are ready, waiting at most msec; the slice
// is reused by the next call.
func (w *idleWatch) wait(msec int) ([]int, error) {
	k, err := syscall.EpollWait(w.ep, w.events, msec)
	if err != nil {
		return nil, err
	}
	w.ready = w.ready[:0]
	for _, ev := range w.events[:k] {
		w.ready = append(w.ready, int(ev.Fd))
	}
	return w.ready, nil
}

func (w *idleWatch) close() { _ = syscall.Close(w.ep) }
