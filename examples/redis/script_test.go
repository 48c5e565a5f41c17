package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// The script is a session of commands with the exact replies Redis 7.0
// gives, errors included. TestScript runs it against this server;
// TestDifferential runs it against a real redis-server too and requires
// the same bytes from both, so the expectations below are Redis's own.
// Replies that depend on time or on the server (TTL values, COMMAND, INFO)
// are checked by shape instead.

// step is one exchange of the script.
type step struct {
	send    string           // bytes to send
	replies int              // replies to read; 0 means 1
	want    string           // the replies' exact bytes
	shape   func(value) bool // instead of want, for one reply that varies
	about   string           // what shape checks, for failure messages
	sleep   time.Duration    // wait before sending
}

// do is a step sending one multibulk command.
func do(args ...string) step { return step{send: multibulk(args...)} }

// raw is a step sending bytes as they are (inline commands, pipelines)
// and reading n replies.
func raw(send string, n int) step { return step{send: send, replies: n} }

func (s step) is(want string) step { s.want = want; return s }

func (s step) after(d time.Duration) step { s.sleep = d; return s }

func (s step) like(about string, shape func(value) bool) step {
	s.about, s.shape = about, shape
	return s
}

// Reply shorthands.
const (
	ok   = "+OK\r\n"
	null = "$-1\r\n"
)

func bulk(s string) string   { return fmt.Sprintf("$%d\r\n%s\r\n", len(s), s) }
func integer(n int64) string { return fmt.Sprintf(":%d\r\n", n) }
func errReply(s string) string {
	return "-" + s + "\r\n"
}
func arity(name string) string {
	return errReply("ERR wrong number of arguments for '" + name + "' command")
}

const (
	syntaxErr   = "-ERR syntax error\r\n"
	notInteger  = "-ERR value is not an integer or out of range\r\n"
	overflowErr = "-ERR increment or decrement would overflow\r\n"
)

// intBetween is a shape: an integer reply from lo to hi.
func intBetween(lo, hi int64) (string, func(value) bool) {
	return fmt.Sprintf("an integer from %d to %d", lo, hi), func(v value) bool {
		return v.kind == ':' && lo <= v.n && v.n <= hi
	}
}

// commandInfo is a shape: COMMAND INFO's ten details of one command named
// name, with its arity, flags and key positions.
func commandInfo(name string, arity int64) (string, func(value) bool) {
	return "COMMAND INFO details of " + name, func(v value) bool {
		if v.kind != '*' || len(v.elems) != 1 || len(v.elems[0].elems) != 10 {
			return false
		}
		e := v.elems[0].elems
		return e[0].str == name && e[1].n == arity && e[2].kind == '*' && e[3].kind == ':' &&
			e[6].kind == '*' && e[7].kind == '*' && e[8].kind == '*' && e[9].kind == '*'
	}
}

// docs is a shape: COMMAND DOCS for one command, with its summary.
func docs(name, summary string) (string, func(value) bool) {
	return "COMMAND DOCS of " + name, func(v value) bool {
		if v.kind != '*' || len(v.elems) != 2 || v.elems[0].str != name {
			return false
		}
		fields := v.elems[1].elems
		for i := 0; i+1 < len(fields); i += 2 {
			if fields[i].str == "summary" {
				return fields[i+1].str == summary
			}
		}
		return false
	}
}

// helpReply is a shape: a HELP reply, simple strings starting with first.
func helpReply(first string) (string, func(value) bool) {
	return "help starting " + first, func(v value) bool {
		if v.kind != '*' || len(v.elems) < 3 || v.elems[0].str != first {
			return false
		}
		for _, e := range v.elems {
			if e.kind != '+' {
				return false
			}
		}
		return true
	}
}

// bulkPrefix is a shape: a bulk string starting with prefix.
func bulkPrefix(prefix string) (string, func(value) bool) {
	return "a bulk string starting " + prefix, func(v value) bool {
		return v.kind == '$' && strings.HasPrefix(v.str, prefix)
	}
}

// script returns the session; the server must start empty.
func script() []step {
	far := fmt.Sprint(time.Now().Add(time.Hour).Unix())
	long := strings.Repeat("x", 130)
	return []step{
		do("FLUSHALL").is(ok),
		do("PING").is("+PONG\r\n"),
		do("ping", "hello").is(bulk("hello")),
		do("PING", "a", "b").is(arity("ping")),
		do("ECHO").is(arity("echo")),
		do("ECHO", "hi there").is(bulk("hi there")),
		do("ECHO", "a", "b").is(arity("echo")),

		// GET and SET, with every option and every error.
		do("GET", "missing").is(null),
		do("SET", "k", "v").is(ok),
		do("GeT", "k").is(bulk("v")),
		do("SET", "k", "v2", "XX").is(ok),
		do("SET", "nk", "v", "XX").is(null),
		do("SET", "k", "v3", "NX").is(null),
		do("SET", "k", "v4", "GET").is(bulk("v2")),
		do("SET", "k", "v5", "nx", "get").is(bulk("v4")),
		do("SET", "k2", "v", "xx", "get").is(null),
		do("SET", "k3", "v", "NX", "GET").is(null),
		do("GET", "k3").is(bulk("v")),
		do("SET", "k", "v", "GET", "GET").is(bulk("v4")),
		do("SET", "k", "v", "NX", "NX").is(null),
		do("SET", "k", "v", "EX", "100", "PX", "100").is(syntaxErr),
		do("SET", "k", "v", "KEEPTTL", "EX", "10").is(syntaxErr),
		do("SET", "k", "v", "EX", "10", "KEEPTTL").is(syntaxErr),
		do("SET", "k", "v", "EXAT", far, "PXAT", far+"000").is(syntaxErr),
		do("SET", "k", "v", "EX").is(syntaxErr),
		do("SET", "k", "v", "NX", "XX").is(syntaxErr),
		do("SET", "k", "v", "FOO").is(syntaxErr),
		do("SET", "k", "v", "EX", "abc").is(notInteger),
		do("SET", "k", "v", "EX", "1.5").is(notInteger),
		do("SET", "k", "v", "EX", "0").is(errReply("ERR invalid expire time in 'set' command")),
		do("SET", "k", "v", "PX", "-5").is(errReply("ERR invalid expire time in 'set' command")),
		do("SET", "k", "v", "EX", "9223372036854775").is(errReply("ERR invalid expire time in 'set' command")),
		do("SET", "k", "v", "EX", "9223372036854776").is(errReply("ERR invalid expire time in 'set' command")),
		do("SET", "k", "v", "PX", "9223372036854775807").is(errReply("ERR invalid expire time in 'set' command")),
		do("SET", "k", "v", "EXAT", "0").is(errReply("ERR invalid expire time in 'set' command")),
		do("SET", "k", "v", "ex", "100", "ex", "200").is(ok),
		do("TTL", "k").like(intBetween(199, 200)),
		do("SET", "k", "v2", "KEEPTTL").is(ok),
		do("PTTL", "k").like(intBetween(198_000, 200_000)),
		do("SET", "k", "v3").is(ok),
		do("TTL", "k").is(integer(-1)),
		do("SET", "k", "v", "EXAT", far).is(ok),
		do("TTL", "k").like(intBetween(3598, 3600)),
		do("SET", "k", "v", "PXAT", "1").is(ok),
		do("GET", "k").is(null),
		do("EXISTS", "k").is(integer(0)),
		do("SET").is(arity("set")),
		do("SET", "k").is(arity("set")),
		do("GET").is(arity("get")),
		do("GET", "a", "b").is(arity("get")),

		// Several keys.
		do("MSET", "a", "1", "b", "2", "c", "3").is(ok),
		do("MGET", "a", "b", "nope", "c").is("*4\r\n" + bulk("1") + bulk("2") + null + bulk("3")),
		do("MSET", "a").is(arity("mset")),
		do("MSET", "a", "1", "b").is(arity("mset")),
		do("MGET").is(arity("mget")),
		do("EXISTS", "a", "b", "nope", "a").is(integer(3)),
		do("EXISTS").is(arity("exists")),
		do("DEL", "a", "nope", "a").is(integer(1)),
		do("DEL").is(arity("del")),
		do("EXISTS", "a").is(integer(0)),
		do("MSET", "x", "1", "x", "2").is(ok),
		do("GET", "x").is(bulk("2")),

		// Counters.
		do("INCR", "n").is(integer(1)),
		do("incr", "n").is(integer(2)),
		do("INCRBY", "n", "10").is(integer(12)),
		do("DECR", "n").is(integer(11)),
		do("DECRBY", "n", "5").is(integer(6)),
		do("INCRBY", "n", "-10").is(integer(-4)),
		do("GET", "n").is(bulk("-4")),
		do("INCRBY", "n", "abc").is(notInteger),
		do("INCRBY", "n", "1.5").is(notInteger),
		do("INCRBY", "n", "01").is(notInteger),
		do("INCRBY", "n", "+1").is(notInteger),
		do("INCRBY", "n", " 1").is(notInteger),
		do("INCRBY", "n").is(arity("incrby")),
		do("INCR").is(arity("incr")),
		do("DECRBY", "n", "-9223372036854775808").is(errReply("ERR decrement would overflow")),
		do("INCRBY", "n", "-9223372036854775808").is(overflowErr),
		do("SET", "s", "hello").is(ok),
		do("INCR", "s").is(notInteger),
		do("DECR", "s").is(notInteger),
		do("SET", "s", " 1").is(ok),
		do("INCR", "s").is(notInteger),
		do("SET", "s", "1.5").is(ok),
		do("INCR", "s").is(notInteger),
		do("SET", "big", "9223372036854775807").is(ok),
		do("INCR", "big").is(overflowErr),
		do("DECRBY", "big", "-1").is(overflowErr),
		do("SET", "small", "-9223372036854775808").is(ok),
		do("DECR", "small").is(overflowErr),
		do("INCR", "small").is(integer(-9223372036854775807)),
		do("SET", "t", "5", "EX", "100").is(ok),
		do("INCR", "t").is(integer(6)),
		do("TTL", "t").like(intBetween(99, 100)),

		// Expiry.
		do("SET", "e", "v").is(ok),
		do("EXPIRE", "e", "100").is(integer(1)),
		do("TTL", "e").like(intBetween(99, 100)),
		do("PTTL", "e").like(intBetween(98_000, 100_000)),
		do("EXPIRE", "e", "100", "NX").is(integer(0)),
		do("EXPIRE", "e", "200", "GT").is(integer(1)),
		do("EXPIRE", "e", "50", "GT").is(integer(0)),
		do("EXPIRE", "e", "50", "LT").is(integer(1)),
		do("EXPIRE", "e", "60", "lt").is(integer(0)),
		do("EXPIRE", "e", "10", "XX").is(integer(1)),
		do("TTL", "e").like(intBetween(9, 10)),
		do("EXPIRE", "e", "10", "NX", "XX").is(errReply("ERR NX and XX, GT or LT options at the same time are not compatible")),
		do("EXPIRE", "e", "10", "GT", "LT").is(errReply("ERR GT and LT options at the same time are not compatible")),
		do("EXPIRE", "e", "10", "FOO").is(errReply("ERR Unsupported option FOO")),
		do("EXPIRE", "e", "10", "NX\n\r").is(errReply("ERR Unsupported option NX")),
		do("EXPIRE", "e", "10", "\nNX").is(errReply("ERR Unsupported option  NX")),
		do("EXPIRE", "e", "abc").is(notInteger),
		do("EXPIRE", "e", "abc", "FOO").is(errReply("ERR Unsupported option FOO")),
		do("EXPIRE", "e", "9223372036854775807").is(errReply("ERR invalid expire time in 'expire' command")),
		do("EXPIRE", "e", "9223372036854775").is(errReply("ERR invalid expire time in 'expire' command")),
		do("EXPIRE", "e", "-9223372036854775808").is(errReply("ERR invalid expire time in 'expire' command")),
		do("EXPIRE", "e").is(arity("expire")),
		do("EXPIRE", "nokey", "10").is(integer(0)),
		do("EXPIRE", "nokey", "10", "LT").is(integer(0)),
		do("SET", "g", "v").is(ok),
		do("EXPIRE", "g", "10", "GT").is(integer(0)),
		do("EXPIRE", "g", "10", "LT").is(integer(1)),
		do("EXPIRE", "e", "-1").is(integer(1)),
		do("EXISTS", "e").is(integer(0)),
		do("TTL", "e").is(integer(-2)),
		do("PTTL", "e").is(integer(-2)),
		do("TTL").is(arity("ttl")),
		do("PTTL", "a", "b").is(arity("pttl")),
		do("SET", "p", "q", "PX", "100").is(ok),
		do("SET", "p2", "q", "PX", "100").is(ok),
		do("MSET", "p3", "q").is(ok),
		do("EXPIRE", "p3", "0").is(integer(1)),
		do("GET", "p").after(250 * time.Millisecond).is(null),
		do("TTL", "p").is(integer(-2)),
		do("MGET", "p2", "g").is("*2\r\n" + null + bulk("v")),
		do("DBSIZE").is(integer(10)),
		do("DBSIZE", "x").is(arity("dbsize")),

		// Connection commands.
		do("SELECT", "0").is(ok),
		do("SELECT", "abc").is(notInteger),
		do("SELECT", "99999999999").is(errReply("ERR value is out of range, value must between -2147483648 and 2147483647")),
		do("SELECT", "-1").is(errReply("ERR DB index is out of range")),
		do("SELECT", "16").is(errReply("ERR DB index is out of range")),
		do("SELECT").is(arity("select")),
		do("CLIENT").is(arity("client")),
		do("CLIENT", "FOO").is(errReply("ERR unknown subcommand 'FOO'. Try CLIENT HELP.")),
		do("client", "foo", "bar").is(errReply("ERR unknown subcommand 'foo'. Try CLIENT HELP.")),
		do("CLIENT", "a\nb").is(errReply("ERR unknown subcommand 'a b'. Try CLIENT HELP.")),
		do("CLIENT", "GETNAME").is(null),
		do("CLIENT", "SETNAME").is(arity("client|setname")),
		do("CLIENT", "SETNAME", "a", "b").is(arity("client|setname")),
		do("CLIENT", "GETNAME", "x").is(arity("client|getname")),
		do("CLIENT", "SETNAME", "a b").is(errReply("ERR Client names cannot contain spaces, newlines or special characters.")),
		do("CLIENT", "SETNAME", "caf\xc3\xa9").is(errReply("ERR Client names cannot contain spaces, newlines or special characters.")),
		do("CLIENT", "SETNAME", "myname").is(ok),
		do("client", "getname").is(bulk("myname")),
		do("CLIENT", "SETNAME", "").is(ok),
		do("CLIENT", "GETNAME").is(null),
		do("CLIENT", "HELP").like(helpReply("CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")),

		// Server commands.
		do("COMMAND", "FOO").is(errReply("ERR unknown subcommand 'FOO'. Try COMMAND HELP.")),
		do("COMMAND", "COUNT", "x").is(arity("command|count")),
		do("COMMAND", "INFO", "get").like(commandInfo("get", 2)),
		do("COMMAND", "INFO", "mset").like(commandInfo("mset", -3)),
		do("COMMAND", "INFO", "client|setname").like(commandInfo("client|setname", 3)),
		do("COMMAND", "INFO", "nosuch").is("*1\r\n" + null),
		do("COMMAND", "DOCS", "nosuch").is("*0\r\n"),
		do("COMMAND", "DOCS", "get").like(docs("get", "Get the value of a key")),
		do("COMMAND", "DOCS", "expire").like(docs("expire", "Set a key's time to live in seconds")),
		do("COMMAND", "HELP").like(helpReply("COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")),
		do("CONFIG").is(arity("config")),
		do("CONFIG", "GET").is(arity("config|get")),
		do("CONFIG", "GET", "save").is("*2\r\n" + bulk("save") + bulk("")),
		do("CONFIG", "GET", "SAVE").is("*2\r\n" + bulk("SAVE") + bulk("")),
		do("CONFIG", "GET", "appendonly").is("*2\r\n" + bulk("appendonly") + bulk("no")),
		do("CONFIG", "GET", "appendonl?").is("*2\r\n" + bulk("appendonly") + bulk("no")),
		do("CONFIG", "GET", "nosuch").is("*0\r\n"),
		do("CONFIG", "GET", "save", "save").is("*2\r\n" + bulk("save") + bulk("")),
		do("CONFIG", "HELP").like(helpReply("CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")),
		do("INFO").like(bulkPrefix("# Server\r\nredis_version:")),
		do("INFO", "keyspace").like(bulkPrefix("# Keyspace\r\ndb0:keys=10,expires=2,avg_ttl=")),
		do("INFO", "nosuch").is("$0\r\n\r\n"),

		// Unknown commands, with Redis's quoting and cutting of arguments.
		do("FOO").is(errReply("ERR unknown command 'FOO', with args beginning with: ")),
		do("foo", "a", "b").is(errReply("ERR unknown command 'foo', with args beginning with: 'a' 'b' ")),
		do("f\x00o", "a\x00b", "b\nc").is(errReply("ERR unknown command 'f', with args beginning with: 'a' 'b c' ")),
		do(long, strings.Repeat("a", 100), strings.Repeat("b", 40), "c").is(errReply("ERR unknown command '" +
			long[:128] + "', with args beginning with: '" + strings.Repeat("a", 100) + "' '" + strings.Repeat("b", 25) + "' ")),

		// Inline commands, as typed in telnet, and pipelines.
		raw("PING\r\n", 1).is("+PONG\r\n"),
		raw("SET il \"a b\\x41\"\r\nGET il\n", 2).is(ok + bulk("a bA")),
		raw("ECHO 'it\\'s'\r\n", 1).is(bulk("it's")),
		raw("\r\n  \r\nPING\r\n", 1).is("+PONG\r\n"),
		raw("*0\r\n*-1\r\nPING\r\n", 1).is("+PONG\r\n"),
		raw("X  a\vb \"a\\nb\" ab\"c d\"\r\n", 1).is(errReply("ERR unknown command 'X', with args beginning with: 'a\vb' 'a b' 'abc d' ")),
		raw(strings.Repeat(multibulk("INCR", "pc"), 16)+"GET pc\r\n"+multibulk("DEL", "pc"), 18).
			is(":1\r\n:2\r\n:3\r\n:4\r\n:5\r\n:6\r\n:7\r\n:8\r\n:9\r\n:10\r\n:11\r\n:12\r\n:13\r\n:14\r\n:15\r\n:16\r\n" +
				bulk("16") + integer(1)),

		do("FLUSHALL", "x").is(syntaxErr),
		do("FLUSHALL", "ASYNC", "x").is(syntaxErr),
		do("FLUSHALL", "async").is(ok),
		do("FLUSHALL", "SYNC").is(ok),
		do("DBSIZE").is(integer(0)),
		do("INFO", "keyspace").is(bulk("# Keyspace\r\n")),
		do("QUIT", "now").is(ok),
	}
}

// run plays the script on c, reporting each difference from the
// expectations; replies, when not nil, collects each step's replies.
func (c *testConn) run(tb testing.TB, steps []step, replies *[][]value) {
	tb.Helper()
	for i, s := range steps {
		if s.sleep > 0 {
			time.Sleep(s.sleep)
		}
		c.send(tb, s.send)
		var got strings.Builder
		var values []value
		for range max(s.replies, 1) {
			v, raw, err := readReply(c.r)
			if err != nil {
				tb.Fatalf("step %d, %q: reading the reply: %v", i, s.send, err)
			}
			got.Write(raw)
			values = append(values, v)
		}
		switch {
		case s.shape != nil:
			if !s.shape(values[0]) {
				tb.Errorf("step %d, %q: reply %q, want %s", i, s.send, got.String(), s.about)
			}
		case got.String() != s.want:
			tb.Errorf("step %d, %q:\nreply %q\nwant  %q", i, s.send, got.String(), s.want)
		}
		if replies != nil {
			*replies = append(*replies, values)
		}
	}
}

// TestScript plays the script against this server: every reply is Redis's.
func TestScript(t *testing.T) {
	s := startServer(t)
	c := s.dial(t)
	c.run(t, script(), nil)
	c.expectClosed(t)
}
