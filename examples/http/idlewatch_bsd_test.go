//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package main

import (
	"syscall"
	"time"
)

// idleWatch reports which of many client sockets became readable or were
// hung up on, for TestIdleClientsChild: kqueue here, epoll on Linux
// (idlewatch_linux_test.go). A hang-up shows as EVFILT_READ with EV_EOF.
type idleWatch struct {
	kq     int
	events []syscall.Kevent_t
	ready  []int
}

func newIdleWatch() (*idleWatch, error) {
	kq, err := syscall.Kqueue()
	if err != nil {
		return nil, err
	}
	syscall.CloseOnExec(kq)
	return &idleWatch{kq: kq, events: make([]syscall.Kevent_t, 256)}, nil
}

func (w *idleWatch) change(fd, flags int) error {
	var ev [1]syscall.Kevent_t
	syscall.SetKevent(&ev[0], fd, syscall.EVFILT_READ, flags)
	_, err := syscall.Kevent(w.kq, ev[:], nil, nil)
	return err
}

func (w *idleWatch) add(fd int) error { return w.change(fd, syscall.EV_ADD) }

func (w *idleWatch) del(fd int) { _ = w.change(fd, syscall.EV_DELETE) }

// wait returns the sockets that are ready, waiting at most msec; the slice
// is reused by the next call.
func (w *idleWatch) wait(msec int) ([]int, error) {
	ts := syscall.NsecToTimespec((time.Duration(msec) * time.Millisecond).Nanoseconds())
	k, err := syscall.Kevent(w.kq, nil, w.events, &ts)
	if err != nil {
		return nil, err
	}
	w.ready = w.ready[:0]
	for _, ev := range w.events[:k] {
		w.ready = append(w.ready, int(ev.Ident))
	}
	return w.ready, nil
}

func (w *idleWatch) close() { _ = syscall.Close(w.kq) }
