package main

import "github.com/evloop/evloop"

// client is what a connection keeps between callbacks, made in OnOpen: the
// one allocation of a connection that is not a buffer.
//
// In blocking mode, pool jobs run the commands: name is then touched only
// by the jobs of the connection, which Conn.Execute runs one at a time,
// and the other fields only on the loop.
type client struct {
	name []byte // CLIENT SETNAME; nil: none

	// need is how many inbound bytes the command at the front needs before
	// it can be whole (resp.Command.Need): a value arriving in many reads
	// is parsed once, when complete, not once per read. 0: unknown.
	need int
	// closing: the connection's last reply is decided (QUIT, or a protocol
	// error); bytes that arrive before the close takes effect are dropped.
	closing bool
	// backlogged: serving stopped with complete commands still buffered,
	// because the replies pending for the socket passed the high
	// watermark; OnWritable resumes once they drain.
	backlogged bool
}

// clientOf returns c's state. Loop only.
func clientOf(c evloop.Conn) *client {
	cl, _ := c.Context().(*client)
	return cl
}
