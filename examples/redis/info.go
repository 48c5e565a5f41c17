package main

import (
	"net"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"time"
)

// infoSections are INFO's sections, in the order INFO prints them.
var infoSections = []struct {
	name  string
	title string
	write func(r *request, b []byte) []byte
}{
	{name: "server", title: "# Server", write: infoServer},
	{name: "clients", title: "# Clients", write: infoClients},
	{name: "memory", title: "# Memory", write: infoMemory},
	{name: "stats", title: "# Stats", write: infoStats},
	{name: "keyspace", title: "# Keyspace", write: infoKeyspace},
}

// INFO [section ...]: Redis's format, "# Section" then "field:value" lines,
// with a few of Redis's fields per section. No section, or "all",
// "default" or "everything", prints every section; a name INFO does not
// know prints nothing, as in Redis.
func cmdInfo(r *request) {
	want := make([]bool, len(infoSections))
	if len(r.args) == 1 {
		for i := range want {
			want[i] = true
		}
	}
	for _, arg := range r.args[1:] {
		for i, s := range infoSections {
			if equalFold(arg, s.name) || equalFold(arg, "all") || equalFold(arg, "default") || equalFold(arg, "everything") {
				want[i] = true
			}
		}
	}
	var b []byte
	for i, s := range infoSections {
		if !want[i] {
			continue
		}
		if len(b) > 0 {
			b = append(b, "\r\n"...)
		}
		b = append(b, s.title...)
		b = append(b, "\r\n"...)
		b = s.write(r, b)
	}
	r.bulk(b)
}

// field appends "name:value\r\n".
func field(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, ':')
	b = append(b, value...)
	return append(b, "\r\n"...)
}

func intField(b []byte, name string, n int64) []byte {
	return field(b, name, strconv.FormatInt(n, 10))
}

func infoServer(r *request, b []byte) []byte {
	// The Redis release whose commands, replies and errors this server
	// reproduces, for clients that choose commands by version.
	b = field(b, "redis_version", "7.0.0")
	b = field(b, "redis_mode", "standalone")
	b = field(b, "os", runtime.GOOS+" "+runtime.GOARCH)
	b = intField(b, "arch_bits", strconv.IntSize)
	b = field(b, "multiplexing_api", "epoll")
	b = field(b, "go_version", runtime.Version())
	b = intField(b, "process_id", int64(os.Getpid()))
	port := 0
	if a, ok := r.h.addr.(*net.TCPAddr); ok {
		port = a.Port
	}
	b = intField(b, "tcp_port", int64(port))
	up := time.Since(r.h.started)
	b = intField(b, "uptime_in_seconds", int64(up/time.Second))
	b = intField(b, "uptime_in_days", int64(up/(24*time.Hour)))
	return b
}

func infoClients(r *request, b []byte) []byte {
	return intField(b, "connected_clients", int64(r.h.eng.CountConnections()))
}

func infoMemory(r *request, b []byte) []byte {
	// Bytes of live heap objects: what Redis's used_memory counts, the
	// memory its allocator has handed out.
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	var used uint64
	if sample[0].Value.Kind() == metrics.KindUint64 {
		used = sample[0].Value.Uint64()
	}
	return field(b, "used_memory", strconv.FormatUint(used, 10))
}

func infoStats(r *request, b []byte) []byte {
	st := r.h.store.Stats()
	// This batch's counts are added when it ends: count them here, so that
	// INFO counts itself as Redis's does.
	b = field(b, "total_connections_received", strconv.FormatUint(r.h.connections.Load(), 10))
	b = field(b, "total_commands_processed", strconv.FormatUint(r.h.commandsRun.Load()+r.commands, 10))
	b = field(b, "expired_keys", strconv.FormatUint(st.Expired, 10))
	b = field(b, "total_error_replies", strconv.FormatUint(r.h.errorReplies.Load()+r.errors, 10))
	return b
}

func infoKeyspace(r *request, b []byte) []byte {
	st := r.h.store.Stats()
	if st.Keys == 0 {
		return b
	}
	b = append(b, "db0:keys="...)
	b = strconv.AppendInt(b, int64(st.Keys), 10)
	b = append(b, ",expires="...)
	b = strconv.AppendInt(b, int64(st.Expires), 10)
	b = append(b, ",avg_ttl="...)
	b = strconv.AppendInt(b, st.AvgTTL, 10)
	return append(b, "\r\n"...)
}
