// Command redis is a key-value server that speaks the Redis protocol
// (RESP2), small but real: point redis-cli and redis-benchmark at it.
//
//	go run ./examples/redis -addr tcp://127.0.0.1:9000 -loops 2
//	redis-cli -p 9000 set greeting hello
//	redis-cli -p 9000 get greeting
//	redis-benchmark -p 9000 -t set,get,incr,mget -n 100000 -P 16 -q
//
// It runs PING, ECHO, SET (with NX, XX, GET, EX, PX, EXAT, PXAT and
// KEEPTTL), GET, DEL, EXISTS, INCR, INCRBY, DECR, DECRBY, MGET, MSET,
// EXPIRE (with NX, XX, GT and LT), TTL, PTTL, DBSIZE, FLUSHALL, SELECT 0,
// QUIT, INFO, CLIENT SETNAME, GETNAME and HELP, COMMAND with COUNT, INFO,
// DOCS and HELP, and CONFIG GET (for the few parameters that describe this
// server: redis-benchmark asks for two), with Redis 7.0's replies and its
// errors word for word; a test compares them with a real redis-server's. Commands come in
// multibulk form, as clients send them, or inline, as typed in telnet
// ("PING"); pipelined commands are all answered, their replies in one
// write. Every key holds a string, so Redis's WRONGTYPE error cannot
// arise: INCR on a value that does not read as an integer gets Redis's
// "-ERR value is not an integer or out of range", and commands on other
// types (LPUSH, HSET...) are unknown commands here.
//
// # Where it differs from Redis, on purpose
//
//   - One database: SELECT 0 is accepted, any other index is out of
//     range. Nothing is saved to disk.
//   - Malformed multibulk commands are refused where Redis is lenient: a
//     count below -1 (Redis runs "*-5" as nothing), a bulk whose length
//     does not match its data (Redis skips two bytes unchecked), a CR not
//     followed by LF in a length line. Each gets "-ERR Protocol error: ..."
//     and the connection is closed, as Redis does with its protocol errors.
//   - A command larger than -max-value plus 1 MiB is refused with
//     "Protocol error: too big multibulk request" as soon as its headers
//     say so; Redis closes a client whose query buffer passes 1 GiB
//     without a reply.
//   - Key specifications are left out of COMMAND's replies, and INFO has
//     only a few fields of each section.
//
// # The store
//
// All loops share one store (package store): 256 shards, each a map behind
// its own read-write lock. A GET copies the value into the reply under the
// read lock and allocates nothing; a SET allocates only what it stores.
// The package doc says why this beats giving each loop its own keys. Keys
// expire lazily, when a command touches them after their time, and every
// 100 ms each loop sweeps its share of the shards for expired keys, the way
// Redis's active expiry does.
//
// # Memory and large values
//
// A bulk string (a value, a key) may hold up to -max-value bytes (default
// 512mb, Redis's proto-max-bulk-len, which is also the largest allowed). A
// longer one is refused as soon as its length line is read, before any of
// it is buffered. To let a value at the limit in, the server raises
// evloop's inbound limit to -max-value + 1 MiB + 128 KiB, and its
// outbound limit to -max-value + 2 MiB, so that one reply can carry such a
// value. A connection's buffers grow in powers of two, so one connection
// sending a value at the limit while receiving one can pin two buffers of
// the next power of two above those: 2 GiB at the default, 64 MiB with
// -max-value 16mb. On top of that come, while such a value passes, the
// reply being built (a copy of the value, dropped after the write), the
// value stored, and, when a command straddles the end of a connection's
// ring buffer, the contiguous copy evloop's Peek makes, in memory its loop
// keeps for later copies. Set -max-value to the largest value the application
// stores. Replies are written every 256 KiB, and a connection whose
// unsent replies pass 1 MiB is not served further until they drain; a
// single reply larger than the outbound limit (an MGET of several values
// near the limit) closes the connection instead.
//
// With -blocking, each batch of pipelined commands runs on the engine's
// goroutine pool instead of the event loop, as commands that block would
// (Conn.Execute keeps one connection's batches in order), and the replies
// go back through Conn.AsyncWrite.
//
// SIGINT or SIGTERM stops it gracefully; a second signal kills it.
package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"

	"github.com/evloop/evloop/examples/internal/cli"
)

func main() { cli.Main("redis", parseFlags, serve) }

// parseFlags reads the command line into a config; usage and errors go to
// output.
func parseFlags(args []string, output io.Writer) (config, error) {
	fs := flag.NewFlagSet("redis", flag.ContinueOnError)
	fs.SetOutput(output)
	var cfg config
	maxValue := size(defaultMaxValue)
	fs.StringVar(&cfg.addr, "addr", "tcp://127.0.0.1:9000", "address to listen on: tcp://host:port, host:port or unix:///path")
	fs.IntVar(&cfg.loops, "loops", runtime.GOMAXPROCS(0), "number of event loops")
	fs.BoolVar(&cfg.reusePort, "reuseport", false, "give every loop its own SO_REUSEPORT listener instead of one acceptor")
	fs.BoolVar(&cfg.blocking, "blocking", false, "run commands on the goroutine pool, in order, instead of the event loop")
	fs.Var(&maxValue, "max-value", "largest value or key a command may carry, like Redis's proto-max-bulk-len (at most 512mb)")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	cfg.maxValue = int(maxValue)
	var err error
	switch {
	case fs.NArg() > 0:
		err = fmt.Errorf("unexpected arguments: %q", fs.Args())
	case cfg.maxValue < 1 || cfg.maxValue > defaultMaxValue:
		err = fmt.Errorf("-max-value %v: must be between 1 and 512mb", &maxValue)
	}
	if err != nil {
		fmt.Fprintln(output, err)
		fs.Usage()
		return config{}, err
	}
	return cfg, nil
}
