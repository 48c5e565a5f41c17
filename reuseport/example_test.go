//go:build aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd

package reuseport_test

import (
	"context"
	"fmt"
	"net"

	"github.com/evloop/evloop/reuseport"
)

// Two listeners share one port, as two event loops would; the kernel decides
// which of them accepts each connection.
func ExampleListen() {
	first, err := reuseport.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer first.Close()
	second, err := reuseport.Listen("tcp", first.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer second.Close()
	fmt.Println("same address:", first.Addr().String() == second.Addr().String())
	// Output: same address: true
}

// Control fits any net.ListenConfig, here for UDP.
func ExampleControl() {
	lc := net.ListenConfig{Control: reuseport.Control}
	first, err := lc.ListenPacket(context.Background(), "udp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer first.Close()
	second, err := lc.ListenPacket(context.Background(), "udp", first.LocalAddr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer second.Close()
	fmt.Println("same address:", first.LocalAddr().String() == second.LocalAddr().String())
	// Output: same address: true
}
