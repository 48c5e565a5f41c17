package evloop

import (
	"errors"
	"fmt"
	"net"
	"os"
	"time"
)

// fcFill writes the pattern stream from offset off to nc until total or
// until the socket stays full: a write makes no progress within idle (a
// write deadline; Windows has no non-blocking write on a net.Conn's socket
// that the runtime would not park). It returns the new offset and whether
// it stopped on a full socket.
func fcFill(nc net.Conn, off, total int, idle time.Duration) (int, bool, error) {
	defer nc.SetWriteDeadline(time.Time{})
	buf := make([]byte, fcChunk)
	for off < total {
		n := min(len(buf), total-off)
		for i := range buf[:n] {
			buf[i] = itPatternByte(off + i)
		}
		if err := nc.SetWriteDeadline(time.Now().Add(idle)); err != nil {
			return off, false, err
		}
		k, err := nc.Write(buf[:n])
		off += k
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			return off, true, nil
		case err != nil:
			return off, false, fmt.Errorf("client write after %d bytes: %w", off, err)
		}
	}
	return off, false, nil
}
