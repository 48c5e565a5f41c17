package main

import "strings"

// command is one command of the table: how to run it, and what COMMAND
// and COMMAND DOCS say about it (Redis's own metadata for the same
// command, less the key specifications).
type command struct {
	name  string // lower case; "container|sub" for a subcommand
	arity int    // as in Redis: n means exactly n arguments with the name, -n at least n
	run   func(r *request)

	flags                   []string // "readonly", "fast", ...
	firstKey, lastKey, step int      // where the keys are among the arguments
	categories              []string // ACL categories: "@read", "@string", ...
	tips                    []string // "nondeterministic_output", ...
	summary, since, group   string
	complexity              string
	subcommands             []*command // a container's (CLIENT, COMMAND), in COMMAND's order
	subByName               map[string]*command
	upper                   string // a container's name in upper case, for its errors
}

// maxNameLen is the longest command name looked up; longer ones are
// unknown without a look.
const maxNameLen = 32

// commandTable finds commands by name, ignoring case, without allocating.
type commandTable struct {
	list   []*command // in COMMAND's order
	byName map[string]*command
}

func newCommandTable(list []*command) *commandTable {
	t := &commandTable{list: list, byName: make(map[string]*command, len(list))}
	for _, c := range list {
		t.byName[c.name] = c
		if c.subcommands != nil {
			c.upper = strings.ToUpper(c.name)
			c.subByName = make(map[string]*command, len(c.subcommands))
			for _, sub := range c.subcommands {
				_, short, _ := strings.Cut(sub.name, "|")
				c.subByName[short] = sub
			}
		}
	}
	return t
}

// lookupIn finds name in m, ignoring ASCII case; nil when it is not there.
func lookupIn(m map[string]*command, name []byte) *command {
	if len(name) > maxNameLen {
		return nil
	}
	var lower [maxNameLen]byte
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	return m[string(lower[:len(name)])] // no conversion is allocated for a lookup
}

// lookupFull finds a command by its full name, "get" or "client|setname",
// as COMMAND INFO and COMMAND DOCS name them.
func (t *commandTable) lookupFull(name []byte) *command {
	for i, c := range name {
		if c == '|' {
			container := lookupIn(t.byName, name[:i])
			if container == nil || container.subByName == nil {
				return nil
			}
			return lookupIn(container.subByName, name[i+1:])
		}
	}
	return lookupIn(t.byName, name)
}

// dispatch runs r's command, or appends the error Redis gives when the
// name, the subcommand or the number of arguments is wrong. The checks
// come in Redis's order.
func (t *commandTable) dispatch(r *request) {
	c := lookupIn(t.byName, r.args[0])
	if c == nil {
		r.failUnknownCommand()
		return
	}
	if c.subByName != nil && len(r.args) >= 2 {
		sub := lookupIn(c.subByName, r.args[1])
		if sub == nil {
			r.failUnknownSubcommand(c.upper)
			return
		}
		c = sub
	}
	if n := len(r.args); c.arity > 0 && n != c.arity || c.arity < 0 && n < -c.arity {
		r.failArity(c.name)
		return
	}
	r.commands++
	c.run(r)
}
