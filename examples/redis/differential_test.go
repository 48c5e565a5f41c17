package main

import (
	"strings"
	"testing"
	"time"
)

// TestDifferential plays the script against a real redis-server and this
// server side by side: every reply must be byte for byte the same on both,
// and the script's expectation, except the few the script checks by
// shape, which must pass on both.
func TestDifferential(t *testing.T) {
	real := startRealRedis(t)
	s := startServer(t)
	ours, theirs := s.dial(t), real.dial(t)
	for i, st := range script() {
		if st.sleep > 0 {
			time.Sleep(st.sleep)
		}
		ours.send(t, st.send)
		theirs.send(t, st.send)
		for range max(st.replies, 1) {
			ov, oraw, oerr := readReply(ours.r)
			tv, traw, terr := readReply(theirs.r)
			if oerr != nil || terr != nil {
				t.Fatalf("step %d, %q: reading the replies: evloop %v, redis-server %v", i, st.send, oerr, terr)
			}
			switch {
			case st.shape != nil:
				if !st.shape(ov) || !st.shape(tv) {
					t.Errorf("step %d, %q: want %s from both:\nevloop       %q\nredis-server %q", i, st.send, st.about, oraw, traw)
				}
			case string(oraw) != string(traw):
				t.Errorf("step %d, %q: replies differ:\nevloop       %q\nredis-server %q", i, st.send, oraw, traw)
			case !strings.Contains(st.want, string(traw)):
				t.Errorf("step %d, %q: the script expects %q, redis-server said %q", i, st.send, st.want, traw)
			}
		}
	}
	ours.expectClosed(t)
	theirs.expectClosed(t)
}

// protocolErrors are malformed inputs on which this server and Redis
// agree: the commands before them are answered, then the error, then the
// connection is closed.
var protocolErrors = []struct {
	name string
	in   string
	want string
}{
	{name: "bulk length above the limit", in: "*1\r\n$999999999999\r\n", want: "Protocol error: invalid bulk length"},
	{name: "negative bulk length", in: "*1\r\n$-1\r\n", want: "Protocol error: invalid bulk length"},
	{name: "count not a number", in: "*abc\r\n", want: "Protocol error: invalid multibulk length"},
	{name: "count with a plus", in: "*+1\r\n", want: "Protocol error: invalid multibulk length"},
	{name: "argument not a bulk", in: "*2\r\n$3\r\nGET\r\n:1\r\n", want: "Protocol error: expected '$', got ':'"},
	{name: "unbalanced quotes", in: "SET k \"v\r\n", want: "Protocol error: unbalanced quotes in request"},
	{name: "text after a closing quote", in: "SET k 'v'x\r\n", want: "Protocol error: unbalanced quotes in request"},
	{name: "inline line too long", in: strings.Repeat("a", 70000), want: "Protocol error: too big inline request"},
	{name: "count line too long", in: "*" + strings.Repeat("1", 70000), want: "Protocol error: too big mbulk count string"},
}

// strictErrors are malformed inputs that Redis lets through, on purpose
// refused here: Redis runs "*-5" as an empty command, skips the two bytes
// after a bulk or a length line's CR without looking at them (so a length
// that does not match its data desynchronises the stream silently, or
// fails later on whatever follows).
var strictErrors = []struct {
	name string
	in   string
	want string
}{
	{name: "count below -1", in: "*-5\r\n", want: "Protocol error: invalid multibulk length"},
	{name: "bulk longer than its length", in: "*2\r\n$4\r\nECHO\r\n$1\r\nab\r\n", want: "Protocol error: invalid bulk length"},
	{name: "bulk shorter than its length", in: "*2\r\n$4\r\nECHO\r\n$5\r\nabc\r\nPING\r\n", want: "Protocol error: invalid bulk length"},
	{name: "CR without LF in the count", in: "*1\rX$4\r\nPING\r\n", want: "Protocol error: invalid multibulk length"},
	{name: "CR without LF in a length", in: "*1\r\n$4\rXPING\r\n", want: "Protocol error: invalid bulk length"},
}

// TestProtocolErrors sends a PING and a malformed command on one
// connection: the PING is answered, then the error, then the connection
// closes, as Redis does after a protocol error.
func TestProtocolErrors(t *testing.T) {
	s := startServer(t)
	cases := append(protocolErrors[:len(protocolErrors):len(protocolErrors)], strictErrors...)
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			c := s.dial(t)
			c.send(t, "PING\r\n"+tt.in)
			c.expect(t, "+PONG\r\n")
			c.expect(t, "-ERR "+tt.want+"\r\n")
			c.expectClosed(t)
		})
	}
}

// TestProtocolErrorsLikeRedis sends the inputs on which the two servers
// agree to both: the same bytes come back and both close. The inputs on
// which this server is stricter are sent to redis-server too, to show
// that it does not close there.
func TestProtocolErrorsLikeRedis(t *testing.T) {
	real := startRealRedis(t)
	s := startServer(t)
	for _, tt := range protocolErrors {
		t.Run(tt.name, func(t *testing.T) {
			ours, theirs := s.dial(t), real.dial(t)
			ours.send(t, "PING\r\n"+tt.in)
			theirs.send(t, "PING\r\n"+tt.in)
			for range 2 {
				if o, r := ours.reply(t), theirs.reply(t); o != r {
					t.Fatalf("replies differ:\nevloop       %q\nredis-server %q", o, r)
				}
			}
			ours.expectClosed(t)
			theirs.expectClosed(t)
		})
	}
	for _, tt := range strictErrors {
		t.Run("redis-server lets through: "+tt.name, func(t *testing.T) {
			theirs := real.dial(t)
			theirs.send(t, tt.in)
			if err := theirs.SetReadDeadline(time.Now().Add(200 * time.Millisecond)); err != nil {
				t.Fatal(err)
			}
			v, raw, err := readReply(theirs.r)
			if err == nil && v.kind == '-' && strings.Contains(v.str, tt.want) {
				t.Fatalf("redis-server refuses it as this server does (%q): move the case to protocolErrors", raw)
			}
		})
	}
}

// differences are commands this server answers differently from Redis on
// purpose: it has one database, strings only, and of the CLIENT, COMMAND
// and CONFIG subcommands only those it lists in their HELP.
func differences() []step {
	return []step{
		do("SELECT", "1").is(errReply("ERR DB index is out of range")),
		do("LPUSH", "list", "a").is(errReply("ERR unknown command 'LPUSH', with args beginning with: 'list' 'a' ")),
		do("CLIENT", "LIST").is(errReply("ERR unknown subcommand 'LIST'. Try CLIENT HELP.")),
		do("COMMAND", "LIST").is(errReply("ERR unknown subcommand 'LIST'. Try COMMAND HELP.")),
		do("CONFIG", "SET", "save", "").is(errReply("ERR unknown subcommand 'SET'. Try CONFIG HELP.")),
		do("CONFIG", "GET", "databases").is("*2\r\n" + bulk("databases") + bulk("1")),
	}
}

// TestDifferences checks this server's replies to the commands it answers
// differently from Redis, and that redis-server does answer them
// differently, so that the list stays true.
func TestDifferences(t *testing.T) {
	t.Run("this server", func(t *testing.T) {
		s := startServer(t)
		s.dial(t).run(t, differences(), nil)
	})
	t.Run("redis-server", func(t *testing.T) {
		real := startRealRedis(t)
		c := real.dial(t)
		for _, st := range differences() {
			c.send(t, st.send)
			if got := c.reply(t); got == st.want {
				t.Errorf("%q: redis-server gives %q too: not a difference", st.send, got)
			}
		}
	})
}
