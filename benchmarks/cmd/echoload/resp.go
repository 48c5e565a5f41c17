package main

import (
	"bytes"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/evloop/evloop/benchmarks/internal/loadgen"
)

// respKeys is how many keys each connection cycles over with -proto resp.
const respKeys = 1000

// respWorker is one connection's closed loop with -proto resp. Its
// commands, numbered m = 0, 1, 2 ..., are SET key:<conn>:<j> <value j>
// for even m and GET key:<conn>:<j> for odd m, with j = m/2 mod respKeys,
// sent in multibulk form. No other connection touches these keys, and a
// connection's commands are answered in order, so every reply is known in
// advance: +OK for a SET, the value the SET before stored for a GET. Each
// reply is compared byte for byte with the one expected, as its bytes
// arrive, so a wrong reply fails at once, even a short one. Commands and
// the replies expected are built into buffers allocated up front.
type respWorker struct {
	outcome
	conn     net.Conn
	size     int
	inflight int
	prefix   []byte // "key:<conn>:"
	// values holds the connection's values, printable bytes from a
	// generator seeded by the connection: key j's is values[j : j+size].
	values []byte
	key    []byte          // the key being written
	out    []byte          // the commands being sent
	want   []byte          // the reply expected next
	sent   []time.Duration // send time of the command in each slot
	buf    []byte
	phase  *atomic.Int32
}

func newRESPWorker(c net.Conn, id, size, inflight int, phase *atomic.Int32) *respWorker {
	w := &respWorker{
		conn:     c,
		size:     size,
		inflight: inflight,
		prefix:   fmt.Appendf(nil, "key:%d:", id),
		values:   make([]byte, respKeys+size),
		sent:     make([]time.Duration, inflight),
		phase:    phase,
	}
	x := uint64(id)*0x9e3779b97f4a7c15 + 1 // xorshift64: never zero
	for i := range w.values {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		w.values[i] = 'a' + byte(x%26)
	}
	// The longest command is a SET of the last key, the longest reply a
	// GET's; the buffers never grow.
	w.key = make([]byte, 0, len(w.prefix)+20)
	w.out = make([]byte, 0, inflight*len(w.appendCommand(nil, 2*(respKeys-1))))
	w.want = make([]byte, 0, len(w.appendReply(nil, 1)))
	w.buf = make([]byte, max((inflight+1)*cap(w.want), 4<<10))
	return w
}

func (w *respWorker) value(j uint64) []byte { return w.values[j : j+uint64(w.size)] }

// appendCommand appends command m.
func (w *respWorker) appendCommand(dst []byte, m uint64) []byte {
	j := m / 2 % respKeys
	w.key = strconv.AppendUint(append(w.key[:0], w.prefix...), j, 10)
	if m%2 == 0 {
		dst = append(dst, "*3\r\n$3\r\nSET\r\n"...)
		dst = appendBulk(dst, w.key)
		return appendBulk(dst, w.value(j))
	}
	dst = append(dst, "*2\r\n$3\r\nGET\r\n"...)
	return appendBulk(dst, w.key)
}

// appendReply appends the reply command m must get.
func (w *respWorker) appendReply(dst []byte, m uint64) []byte {
	if m%2 == 0 {
		return append(dst, "+OK\r\n"...)
	}
	return appendBulk(dst, w.value(m/2%respKeys))
}

// appendBulk appends b as a bulk string, "$<len>\r\n<b>\r\n".
func appendBulk(dst, b []byte) []byte {
	dst = append(dst, '$')
	dst = strconv.AppendInt(dst, int64(len(b)), 10)
	dst = append(dst, '\r', '\n')
	dst = append(dst, b...)
	return append(dst, '\r', '\n')
}

// send writes commands from to from+n-1 in one write.
func (w *respWorker) send(from, n uint64) error {
	w.out = w.out[:0]
	for m := from; m < from+n; m++ {
		w.out = w.appendCommand(w.out, m)
	}
	_, err := w.conn.Write(w.out)
	return err
}

func (w *respWorker) run(base time.Time) {
	k := uint64(w.inflight)
	var sent, recv uint64 // command numbers
	now := time.Since(base)
	for i := range w.sent {
		w.sent[i] = now
	}
	if err := w.send(0, k); err != nil {
		w.err = err
		return
	}
	sent = k
	have := 0
	for {
		n, err := w.conn.Read(w.buf[have:])
		if err != nil {
			w.err = fmt.Errorf("after %d commands: %w", recv, err)
			return
		}
		have += n
		now := time.Since(base)
		ph := w.phase.Load()
		used, done := 0, uint64(0)
		for recv < sent {
			w.want = w.appendReply(w.want[:0], recv)
			got := w.buf[used:have]
			if !bytes.HasPrefix(w.want, got[:min(len(got), len(w.want))]) {
				w.err = w.wrongReply(recv, got)
				return
			}
			if len(got) < len(w.want) {
				break // the rest of this reply is still to come
			}
			if ph == loadgen.Measuring {
				w.hist.Record(now - w.sent[recv%k])
				w.msgs++
			}
			used += len(w.want)
			recv++
			done++
		}
		if recv == sent && used < have {
			w.err = fmt.Errorf("%d bytes came after the replies to all %d commands sent: %q", have-used, sent, clip(w.buf[used:have]))
			return
		}
		have = copy(w.buf, w.buf[used:have])
		if ph == loadgen.Stopping {
			if recv == sent {
				return
			}
			continue
		}
		if done == 0 {
			continue
		}
		at := time.Since(base)
		for m := sent; m < sent+done; m++ {
			w.sent[m%k] = at
		}
		if err := w.send(sent, done); err != nil {
			w.err = fmt.Errorf("after %d commands: %w", recv, err)
			return
		}
		sent += done
	}
}

// wrongReply describes the reply to command m that began with got.
func (w *respWorker) wrongReply(m uint64, got []byte) error {
	cmd := w.appendCommand(nil, m)
	want := w.appendReply(nil, m)
	return fmt.Errorf("command %d %q: reply %q, want %q", m, clip(cmd), clip(got[:min(len(got), len(want)+16)]), clip(want))
}

// clip shortens b for an error message.
func clip(b []byte) []byte {
	const most = 120
	if len(b) > most {
		return append(b[:most:most], "..."...)
	}
	return b
}
