//go:build unix

package evloop

import "syscall"

// tbSetRecvBuffer sets SO_RCVBUF on a client's socket before it connects.
func tbSetRecvBuffer(fd uintptr, n int) error {
	return syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, n)
}
