//go:build linux && !evloop_portable

package socket

import (
	"math"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// The setters below may be called from any goroutine; the engine calls them
// on a new fd before the fd is shared. Errors are *os.SyscallError values
// that still match the errno with errors.Is.

// SetNoDelay turns Nagle's algorithm off (on == true) or back on for a TCP
// socket.
func SetNoDelay(fd int, on bool) error {
	return setInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, boolInt(on))
}

// SetKeepAlive enables TCP keepalive probes after idle time without traffic,
// then every interval, dropping the connection after count unanswered probes.
// idle <= 0 turns keepalive off. Durations are rounded up to whole seconds,
// at least 1; interval <= 0 uses idle, count <= 0 keeps the kernel default.
// Values beyond the kernel's limits (32767 s, 127 probes) fail with EINVAL.
func SetKeepAlive(fd int, idle, interval time.Duration, count int) error {
	if idle <= 0 {
		return setInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 0)
	}
	if interval <= 0 {
		interval = idle
	}
	if err := setInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, seconds(idle)); err != nil {
		return err
	}
	if err := setInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, seconds(interval)); err != nil {
		return err
	}
	if count > 0 {
		if err := setInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPCNT, min(count, math.MaxInt32)); err != nil {
			return err
		}
	}
	return setInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1)
}

// SetRecvBuffer sets SO_RCVBUF. Linux doubles the value for bookkeeping and
// caps it at net.core.rmem_max. A negative size fails with EINVAL.
func SetRecvBuffer(fd, bytes int) error {
	return setSize(fd, unix.SO_RCVBUF, bytes)
}

// SetSendBuffer sets SO_SNDBUF. Linux doubles the value for bookkeeping and
// caps it at net.core.wmem_max. A negative size fails with EINVAL.
func SetSendBuffer(fd, bytes int) error {
	return setSize(fd, unix.SO_SNDBUF, bytes)
}

// SetReuseAddr sets SO_REUSEADDR, which lets a restarted server bind while
// old connections sit in TIME_WAIT.
func SetReuseAddr(fd int, on bool) error {
	return setInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, boolInt(on))
}

// SetReusePort sets SO_REUSEPORT, which lets several sockets of one user bind
// the same address and has the kernel balance connections between them.
func SetReusePort(fd int, on bool) error {
	return setInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, boolInt(on))
}

// SetLinger sets SO_LINGER. sec < 0 turns lingering off, so close returns at
// once and the kernel still delivers queued data (graceful close); sec == 0
// makes close discard queued data and send RST; sec > 0 makes close block up
// to sec seconds while data drains.
func SetLinger(fd int, sec int) error {
	l := unix.Linger{}
	if sec >= 0 {
		l.Onoff = 1
		l.Linger = int32(min(sec, math.MaxInt32))
	}
	if err := unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &l); err != nil {
		return os.NewSyscallError("setsockopt", err)
	}
	return nil
}

func setInt(fd, level, opt, value int) error {
	if err := unix.SetsockoptInt(fd, level, opt, value); err != nil {
		return os.NewSyscallError("setsockopt", err)
	}
	return nil
}

// setSize rejects negative sizes itself because the kernel would read them
// as huge unsigned values and silently use its maximum.
func setSize(fd, opt, bytes int) error {
	if bytes < 0 {
		return os.NewSyscallError("setsockopt", unix.EINVAL)
	}
	return setInt(fd, unix.SOL_SOCKET, opt, bytes)
}

// seconds rounds d up to whole seconds, at least 1, without overflowing the
// kernel's int argument.
func seconds(d time.Duration) int {
	s := d / time.Second
	if d%time.Second != 0 {
		s++
	}
	return int(max(1, min(s, math.MaxInt32)))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Unread returns how many received bytes wait in fd's receive queue
// (SIOCINQ); 0 when the kernel cannot tell. Safe from any goroutine.
func Unread(fd int) int {
	n, err := unix.IoctlGetInt(fd, unix.SIOCINQ)
	if err != nil {
		return 0
	}
	return n
}

// PendingError returns and clears fd's pending error (SO_ERROR), as an
// *os.SyscallError naming read, or nil when there is none. Safe from any
// goroutine.
func PendingError(fd int) error { return pendingError(fd, "read") }

// pendingError reads and clears SO_ERROR, naming op as the syscall that
// failed.
func pendingError(fd int, op string) error {
	errno, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return os.NewSyscallError("getsockopt", err)
	}
	if errno != 0 {
		return os.NewSyscallError(op, unix.Errno(errno))
	}
	return nil
}

// CloseOnExec marks fd close-on-exec. Safe from any goroutine.
func CloseOnExec(fd int) { unix.CloseOnExec(fd) }

// FamilyOf returns the address family of the socket fd. Safe from any
// goroutine.
func FamilyOf(fd int) (Family, error) {
	domain, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DOMAIN)
	if err != nil {
		return 0, os.NewSyscallError("getsockopt", err)
	}
	return familyOfDomain(domain), nil
}

func familyOfDomain(domain int) Family {
	switch domain {
	case unix.AF_INET:
		return FamilyIPv4
	case unix.AF_INET6:
		return FamilyIPv6
	case unix.AF_UNIX:
		return FamilyUnix
	}
	return 0
}
