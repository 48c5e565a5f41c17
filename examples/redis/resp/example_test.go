package resp_test

import (
	"fmt"

	"github.com/evloop/evloop/examples/redis/resp"
)

// A traffic callback's loop over whatever bytes arrived: a multibulk SET, an
// inline PING as typed in telnet, and a GET whose key is still arriving.
func ExampleParser_Parse() {
	inbound := []byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n" + "PING\r\n" + "*2\r\n$3\r\nGET\r\n$5\r\nmy")
	var p resp.Parser
	var cmd resp.Command
	var out []byte
	used := 0
	for used < len(inbound) {
		n, err := p.Parse(inbound[used:], &cmd)
		if err != nil {
			out = resp.AppendError(out, "ERR "+err.Error())
			break
		}
		if n == 0 {
			fmt.Printf("partial command: %d bytes buffered, %d needed at least\n", len(inbound)-used, cmd.Need)
			break
		}
		used += n
		fmt.Printf("%q\n", cmd.Args)
		out = resp.AppendSimple(out, "OK")
	}
	fmt.Printf("reply %q\n", out)
	// Output:
	// ["SET" "k" "hello"]
	// ["PING"]
	// partial command: 19 bytes buffered, 24 needed at least
	// reply "+OK\r\n+OK\r\n"
}
