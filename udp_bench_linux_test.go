//go:build linux && !evloop_portable

package evloop

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// BenchmarkUDPEcho: 50 client sockets keep 8 datagrams of 64 bytes in
// flight each, against evloop's udp:// echo (one SO_REUSEPORT socket per
// loop, recvmmsg and sendmmsg batches) and against package net's way (one
// socket, goroutines doing ReadFromUDPAddrPort and WriteToUDPAddrPort),
// both in this process, with one and with two loops or goroutines. One op
// is one datagram's round trip. For evloop it reports the recvmmsg and
// sendmmsg calls per datagram, counted through the socket seams; for both
// the process's CPU time per datagram (clients included: they are the same
// for both servers, so the difference is the servers'). A datagram lost on
// loopback is resent after 200 ms and counted.
//
//	go test -run XXX -bench BenchmarkUDPEcho -count 5 .
func BenchmarkUDPEcho(b *testing.B) {
	for _, loops := range []int{1, 2} {
		b.Run(fmt.Sprintf("evloop/loops=%d", loops), func(b *testing.B) {
			var m mmsgCounter
			m.install(b)
			s := startEngine(b, echoHandler{}, "udp://127.0.0.1:0", WithLoops(loops), WithSocketRecvBuffer(4<<20))
			recv0, send0, in0 := m.recvCalls.Load(), m.sendCalls.Load(), m.recvd.Load()
			tbBenchUDP(b, s.addr.(*net.UDPAddr))
			datagrams := float64(m.recvd.Load() - in0)
			b.ReportMetric(float64(m.recvCalls.Load()-recv0+m.sendCalls.Load()-send0)/datagrams, "syscalls/datagram")
			b.ReportMetric(datagrams/float64(m.recvCalls.Load()-recv0), "datagrams/recvmmsg")
		})
		b.Run(fmt.Sprintf("stdnet/workers=%d", loops), func(b *testing.B) {
			tbBenchUDP(b, tbStartStdUDPEcho(b, loops))
		})
	}
}

// tbStartStdUDPEcho starts package net's UDP echo: one socket, workers
// goroutines reading and answering.
func tbStartStdUDPEcho(tb testing.TB, workers int) *net.UDPAddr {
	tb.Helper()
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	_ = pc.SetReadBuffer(4 << 20)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 64<<10)
			for {
				n, from, err := pc.ReadFromUDPAddrPort(buf)
				if err != nil {
					return // closed by the cleanup
				}
				_, _ = pc.WriteToUDPAddrPort(buf[:n], from)
			}
		}()
	}
	tb.Cleanup(func() {
		pc.Close()
		wg.Wait()
	})
	return pc.LocalAddr().(*net.UDPAddr)
}

// tbBenchUDP drives b.N datagram round trips over 50 sockets with 8 in
// flight each.
func tbBenchUDP(b *testing.B, addr *net.UDPAddr) {
	const clients, inFlight, size = 50, 8, 64
	conns := make([]*net.UDPConn, clients)
	for i := range conns {
		c, err := net.DialUDP("udp", nil, addr)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		conns[i] = c
	}
	var lost atomic.Int64
	errs := make(chan error, clients)
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), tbProcessCPU(b)
	for i, c := range conns {
		n := b.N / clients
		if i < b.N%clients {
			n++
		}
		if n == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg, in := make([]byte, size), make([]byte, 2*size)
			sent := 0
			for ; sent < min(inFlight, n); sent++ {
				if _, err := c.Write(msg); err != nil {
					errs <- err
					return
				}
			}
			for got := 0; got < n; {
				_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
				if _, err := c.Read(in); err != nil {
					var ne net.Error
					if !errors.As(err, &ne) || !ne.Timeout() {
						errs <- fmt.Errorf("client %d: %w", i, err)
						return
					}
					lost.Add(1) // resend one in its place
				} else {
					got++
					if sent >= n {
						continue
					}
					sent++
				}
				if _, err := c.Write(msg); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), tbProcessCPU(b)-cpu0
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Error(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/datagram")
	b.ReportMetric(float64(lost.Load()), "lost")
}

// tbProcessCPU is the CPU time (user and system) the process has used.
func tbProcessCPU(tb testing.TB) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
