// Command redcon is the tidwall/redcon v1.6.4 contestant, for -proto resp
// only: redcon's own server on a net.Listener, as its users run it, with
// a goroutine per connection that reads what arrived, parses every
// complete command in it, calls the handler for each and writes their
// replies with one Write per batch. Go's net package turns TCP_NODELAY on.
// -loops is ignored, as stdnet ignores it for TCP: the goroutines run on
// GOMAXPROCS threads, one when taskset pins the server to one CPU.
//
// SET key value and GET key do the work examples/redis does for them, with
// the same store (examples/redis/store: 256 shards, each a map behind its
// own read-write lock): a SET stores a copy of the value, a GET copies the
// value into redcon's reply buffer under the shard's read lock. PING is
// answered too; anything else, SET's options included, is an error. No
// key is given an expiry time, so the store's clock is never read (it is
// passed 0) and there is nothing to sweep.
package main

import (
	"bytes"

	"github.com/tidwall/redcon"

	"github.com/evloop/evloop/benchmarks/internal/server"
	"github.com/evloop/evloop/examples/redis/store"
)

func main() {
	cfg := server.Setup("redcon", "resp")
	s := store.New()
	err := redcon.ListenAndServe(cfg.Addr, func(c redcon.Conn, cmd redcon.Command) { serve(s, c, cmd) }, nil, nil)
	server.Fatal("redcon", err)
}

// serve runs one command; the reply goes into redcon's buffer for the
// connection, written after the batch.
func serve(s *store.Store, c redcon.Conn, cmd redcon.Command) {
	args := cmd.Args
	name := args[0]
	switch {
	case bytes.EqualFold(name, []byte("get")) && len(args) == 2:
		// The value is copied into the reply while the read lock is held.
		if _, ok := s.Get(nil, args[1], 0, func(dst, val []byte) []byte {
			c.WriteBulk(val)
			return dst
		}); !ok {
			c.WriteNull()
		}
	case bytes.EqualFold(name, []byte("set")) && len(args) == 3:
		s.Set(nil, args[1], args[2], store.SetArgs{}, 0, nil) // stores a copy
		c.WriteString("OK")
	case bytes.EqualFold(name, []byte("ping")) && len(args) == 1:
		c.WriteString("PONG")
	default:
		c.WriteError("ERR this server runs only GET key, SET key value and PING")
	}
}
