package main

// COMMAND and its subcommands describe the table to clients: redis-cli 7
// asks COMMAND DOCS when it starts, for its hints, and cluster-aware
// clients read the key positions from COMMAND.

// COMMAND: every command's details.
func cmdCommand(r *request) {
	r.array(len(r.h.commands.list))
	for _, c := range r.h.commands.list {
		appendCommandInfo(r, c)
	}
}

// COMMAND COUNT
func cmdCommandCount(r *request) { r.integer(int64(len(r.h.commands.list))) }

// COMMAND INFO [name ...]: the named commands' details (null for a name it
// does not know), or every command's without a name.
func cmdCommandInfo(r *request) {
	names := r.args[2:]
	if len(names) == 0 {
		cmdCommand(r)
		return
	}
	r.array(len(names))
	for _, name := range names {
		if c := r.h.commands.lookupFull(name); c != nil {
			appendCommandInfo(r, c)
		} else {
			r.null()
		}
	}
}

// appendCommandInfo appends c's ten details, in Redis 7's order: name,
// arity, flags, first key, last key, key step, ACL categories, tips, key
// specifications (none given here) and subcommands.
func appendCommandInfo(r *request, c *command) {
	r.array(10)
	r.bulkString(c.name)
	r.integer(int64(c.arity))
	appendSimples(r, c.flags)
	r.integer(int64(c.firstKey))
	r.integer(int64(c.lastKey))
	r.integer(int64(c.step))
	appendSimples(r, c.categories)
	r.array(len(c.tips))
	for _, tip := range c.tips {
		r.bulkString(tip)
	}
	r.array(0)
	r.array(len(c.subcommands))
	for _, sub := range c.subcommands {
		appendCommandInfo(r, sub)
	}
}

func appendSimples(r *request, list []string) {
	r.array(len(list))
	for _, s := range list {
		r.simple(s)
	}
}

// COMMAND DOCS [name ...]: the named commands' documentation (names it
// does not know are left out), or every command's without a name. A map
// in RESP3, it is a flat array of names and documents in RESP2.
func cmdCommandDocs(r *request) {
	names := r.args[2:]
	if len(names) == 0 {
		r.array(2 * len(r.h.commands.list))
		for _, c := range r.h.commands.list {
			appendCommandDocs(r, c)
		}
		return
	}
	found := 0
	for _, name := range names {
		if r.h.commands.lookupFull(name) != nil {
			found++
		}
	}
	r.array(2 * found)
	for _, name := range names {
		if c := r.h.commands.lookupFull(name); c != nil {
			appendCommandDocs(r, c)
		}
	}
}

// appendCommandDocs appends c's name and its document: summary, since,
// group, complexity and, for a container, its subcommands' documents.
func appendCommandDocs(r *request, c *command) {
	r.bulkString(c.name)
	fields := 8
	if c.subcommands != nil {
		fields += 2
	}
	r.array(fields)
	r.bulkString("summary")
	r.bulkString(c.summary)
	r.bulkString("since")
	r.bulkString(c.since)
	r.bulkString("group")
	r.bulkString(c.group)
	r.bulkString("complexity")
	r.bulkString(c.complexity)
	if c.subcommands != nil {
		r.bulkString("subcommands")
		r.array(2 * len(c.subcommands))
		for _, sub := range c.subcommands {
			appendCommandDocs(r, sub)
		}
	}
}

// COMMAND HELP
func cmdCommandHelp(r *request) {
	help(r, "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"(no subcommand)",
		"    Return details about all commands of this server.",
		"COUNT",
		"    Return the total number of commands in this server.",
		"INFO [<command-name> ...]",
		"    Return details about multiple commands.",
		"    If no command names are given, details for all",
		"    commands are returned.",
		"DOCS [<command-name> ...]",
		"    Return documentation details about multiple commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"HELP",
		"    Prints this help.")
}
