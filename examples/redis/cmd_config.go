package main

import (
	"bytes"
	"net"
	"path"
	"strconv"
	"strings"
)

// CONFIG GET reports the few Redis parameters that describe this server
// truthfully; redis-benchmark asks for "save" and "appendonly" when it
// starts, and warns when it cannot get them. There is no CONFIG SET: the
// server's configuration is its command line.

// configParams are the parameters CONFIG GET knows, in the order it
// lists them.
var configParams = []struct {
	name  string
	value func(h *handler) string
}{
	{name: "appendonly", value: func(*handler) string { return "no" }},
	{name: "databases", value: func(*handler) string { return "1" }},
	{name: "maxmemory", value: func(*handler) string { return "0" }},
	{name: "port", value: func(h *handler) string {
		if a, ok := h.addr.(*net.TCPAddr); ok {
			return strconv.Itoa(a.Port)
		}
		return "0"
	}},
	{name: "proto-max-bulk-len", value: func(h *handler) string { return strconv.Itoa(h.maxValue) }},
	{name: "save", value: func(*handler) string { return "" }},
}

// CONFIG GET parameter [parameter ...]: each argument is a name, matched
// ignoring case and answered with the name as given, or a glob pattern
// ('*', '?', '[') matched ignoring case and answered with the parameters'
// own names, as in Redis 7.0. A parameter matched twice is listed once.
func cmdConfigGet(r *request) {
	type match struct{ name, value string }
	var found []match
	seen := make(map[string]bool)
	add := func(name string, i int) {
		if !seen[name] {
			seen[name] = true
			found = append(found, match{name, configParams[i].value(r.h)})
		}
	}
	for _, arg := range r.args[2:] {
		if !bytes.ContainsAny(arg, "[*?") {
			for i, p := range configParams {
				if equalFold(arg, p.name) {
					add(string(arg), i)
				}
			}
			continue
		}
		pattern := strings.ToLower(string(arg))
		for i, p := range configParams {
			if ok, err := path.Match(pattern, p.name); ok && err == nil {
				add(p.name, i)
			}
		}
	}
	r.array(2 * len(found))
	for _, m := range found {
		r.bulkString(m.name)
		r.bulkString(m.value)
	}
}

// CONFIG HELP
func cmdConfigHelp(r *request) {
	help(r, "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"GET <pattern>",
		"    Return parameters matching the glob-like <pattern> and their values.",
		"HELP",
		"    Prints this help.")
}
