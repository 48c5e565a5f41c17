package main

// commandList returns the commands this server runs, each with Redis 7.0's
// arity, flags, key positions, ACL categories, tips and documentation for
// the same command, so that COMMAND tells clients the truth about both.
func commandList() []*command {
	connection := []string{"@fast", "@connection"}
	return []*command{
		{name: "ping", arity: -1, run: cmdPing, flags: []string{"fast"},
			categories: connection, tips: []string{"request_policy:all_shards", "response_policy:all_succeeded"},
			summary: "Ping the server", since: "1.0.0", group: "connection", complexity: "O(1)"},
		{name: "echo", arity: 2, run: cmdEcho, flags: []string{"loading", "stale", "fast"},
			categories: connection,
			summary:    "Echo the given string", since: "1.0.0", group: "connection", complexity: "O(1)"},
		{name: "set", arity: -3, run: cmdSet, flags: []string{"write", "denyoom"},
			firstKey: 1, lastKey: 1, step: 1, categories: []string{"@write", "@string", "@slow"},
			summary: "Set the string value of a key", since: "1.0.0", group: "string", complexity: "O(1)"},
		{name: "get", arity: 2, run: cmdGet, flags: []string{"readonly", "fast"},
			firstKey: 1, lastKey: 1, step: 1, categories: []string{"@read", "@string", "@fast"},
			summary: "Get the value of a key", since: "1.0.0", group: "string", complexity: "O(1)"},
		{name: "del", arity: -2, run: cmdDel, flags: []string{"write"},
			firstKey: 1, lastKey: -1, step: 1, categories: []string{"@keyspace", "@write", "@slow"},
			tips:    []string{"request_policy:multi_shard", "response_policy:agg_sum"},
			summary: "Delete a key", since: "1.0.0", group: "generic",
			complexity: "O(N) where N is the number of keys that will be removed."},
		{name: "exists", arity: -2, run: cmdExists, flags: []string{"readonly", "fast"},
			firstKey: 1, lastKey: -1, step: 1, categories: []string{"@keyspace", "@read", "@fast"},
			tips:    []string{"request_policy:multi_shard", "response_policy:agg_sum"},
			summary: "Determine if a key exists", since: "1.0.0", group: "generic",
			complexity: "O(N) where N is the number of keys to check."},
		{name: "incr", arity: 2, run: cmdIncr, flags: []string{"write", "denyoom", "fast"},
			firstKey: 1, lastKey: 1, step: 1, categories: []string{"@write", "@string", "@fast"},
			summary: "Increment the integer value of a key by one", since: "1.0.0", group: "string", complexity: "O(1)"},
		{name: "incrby", arity: 3, run: cmdIncrBy, flags: []string{"write", "denyoom", "fast"},
			firstKey: 1, lastKey: 1, step: 1, categories: []string{"@write", "@string", "@fast"},
			summary: "Increment the integer value of a key by the given amount", since: "1.0.0", group: "string",
			complexity: "O(1)"},
		{name: "decr", arity: 2, run: cmdDecr, flags: []string{"write", "denyoom", "fast"},
			firstKey: 1, lastKey: 1, step: 1, categories: []string{"@write", "@string", "@fast"},
			summary: "Decrement the integer value of a key by one", since: "1.0.0", group: "string", complexity: "O(1)"},
		{name: "decrby", arity: 3, run: cmdDecrBy, flags: []string{"write", "denyoom", "fast"},
			firstKey: 1, lastKey: 1, step: 1, categories: []string{"@write", "@string", "@fast"},
			summary: "Decrement the integer value of a key by the given number", since: "1.0.0", group: "string",
			complexity: "O(1)"},
		{name: "mget", arity: -2, run: cmdMGet, flags: []string{"readonly", "fast"},
			firstKey: 1, lastKey: -1, step: 1, categories: []string{"@read", "@string", "@fast"},
			tips:    []string{"request_policy:multi_shard"},
			summary: "Get the values of all the given keys", since: "1.0.0", group: "string",
			complexity: "O(N) where N is the number of keys to retrieve."},
		{name: "mset", arity: -3, run: cmdMSet, flags: []string{"write", "denyoom"},
			firstKey: 1, lastKey: -1, step: 2, categories: []string{"@write", "@string", "@slow"},
			tips:    []string{"request_policy:multi_shard", "response_policy:all_succeeded"},
			summary: "Set multiple keys to multiple values", since: "1.0.1", group: "string",
			complexity: "O(N) where N is the number of keys to set."},
		{name: "expire", arity: -3, run: cmdExpire, flags: []string{"write", "fast"},
			firstKey: 1, lastKey: 1, step: 1, categories: []string{"@keyspace", "@write", "@fast"},
			summary: "Set a key's time to live in seconds", since: "1.0.0", group: "generic", complexity: "O(1)"},
		{name: "ttl", arity: 2, run: cmdTTL, flags: []string{"readonly", "fast"},
			firstKey: 1, lastKey: 1, step: 1, categories: []string{"@keyspace", "@read", "@fast"},
			tips:    []string{"nondeterministic_output"},
			summary: "Get the time to live for a key in seconds", since: "1.0.0", group: "generic", complexity: "O(1)"},
		{name: "pttl", arity: 2, run: cmdPTTL, flags: []string{"readonly", "fast"},
			firstKey: 1, lastKey: 1, step: 1, categories: []string{"@keyspace", "@read", "@fast"},
			tips:    []string{"nondeterministic_output"},
			summary: "Get the time to live for a key in milliseconds", since: "2.6.0", group: "generic",
			complexity: "O(1)"},
		{name: "dbsize", arity: 1, run: cmdDBSize, flags: []string{"readonly", "fast"},
			categories: []string{"@keyspace", "@read", "@fast"},
			tips:       []string{"request_policy:all_shards", "response_policy:agg_sum"},
			summary:    "Return the number of keys in the selected database", since: "1.0.0", group: "server",
			complexity: "O(1)"},
		{name: "flushall", arity: -1, run: cmdFlushAll, flags: []string{"write"},
			categories: []string{"@keyspace", "@write", "@slow", "@dangerous"},
			tips:       []string{"request_policy:all_shards", "response_policy:all_succeeded"},
			summary:    "Remove all keys from all databases", since: "1.0.0", group: "server",
			complexity: "O(N) where N is the total number of keys in all databases"},
		{name: "select", arity: 2, run: cmdSelect, flags: []string{"loading", "stale", "fast"},
			categories: connection,
			summary:    "Change the selected database for the current connection", since: "1.0.0", group: "connection",
			complexity: "O(1)"},
		{name: "quit", arity: -1, run: cmdQuit,
			flags:      []string{"noscript", "loading", "stale", "fast", "no_auth", "allow_busy"},
			categories: connection,
			summary:    "Close the connection", since: "1.0.0", group: "connection", complexity: "O(1)"},
		{name: "info", arity: -1, run: cmdInfo, flags: []string{"loading", "stale"},
			categories: []string{"@slow", "@dangerous"},
			tips:       []string{"nondeterministic_output", "request_policy:all_shards", "response_policy:special"},
			summary:    "Get information and statistics about the server", since: "1.0.0", group: "server",
			complexity: "O(1)"},
		clientCommand(),
		commandCommand(),
		configCommand(),
	}
}

// clientCommand is the CLIENT container. A container has no run of its
// own: called with no subcommand it fails its arity check, as in Redis.
func clientCommand() *command {
	sub := func(name string, arity int, run func(*request), flags []string, summary, since string) *command {
		return &command{name: "client|" + name, arity: arity, run: run, flags: flags,
			categories: []string{"@slow", "@connection"},
			summary:    summary, since: since, group: "connection", complexity: "O(1)"}
	}
	return &command{name: "client", arity: -2, categories: []string{"@slow"},
		summary: "A container for client connection commands", since: "2.4.0", group: "connection",
		complexity: "Depends on subcommand.",
		subcommands: []*command{
			sub("setname", 3, cmdClientSetName, []string{"noscript", "loading", "stale"},
				"Set the current connection name", "2.6.9"),
			sub("getname", 2, cmdClientGetName, []string{"noscript", "loading", "stale"},
				"Get the current connection name", "2.6.9"),
			sub("help", 2, cmdClientHelp, []string{"loading", "stale"},
				"Show helpful text about the different subcommands", "5.0.0"),
		}}
}

// commandCommand is the COMMAND container; unlike CLIENT it runs on its
// own too.
func commandCommand() *command {
	sub := func(name string, arity int, run func(*request), tips []string, summary, since, complexity string) *command {
		return &command{name: "command|" + name, arity: arity, run: run, flags: []string{"loading", "stale"},
			categories: []string{"@slow", "@connection"}, tips: tips,
			summary: summary, since: since, group: "server", complexity: complexity}
	}
	order := []string{"nondeterministic_output_order"}
	return &command{name: "command", arity: -1, run: cmdCommand, flags: []string{"loading", "stale"},
		categories: []string{"@slow", "@connection"}, tips: order,
		summary: "Get array of Redis command details", since: "2.8.13", group: "server",
		complexity: "O(N) where N is the total number of Redis commands",
		subcommands: []*command{
			sub("count", 2, cmdCommandCount, nil, "Get total number of Redis commands", "2.8.13", "O(1)"),
			sub("info", -2, cmdCommandInfo, order,
				"Get array of specific Redis command details, or all when no argument is given.", "2.8.13",
				"O(N) where N is the number of commands to look up"),
			sub("docs", -2, cmdCommandDocs, order, "Get array of specific Redis command documentation", "7.0.0",
				"O(N) where N is the number of commands to look up"),
			sub("help", 2, cmdCommandHelp, nil, "Show helpful text about the different subcommands", "5.0.0", "O(1)"),
		}}
}

// configCommand is the CONFIG container, with GET and HELP.
func configCommand() *command {
	return &command{name: "config", arity: -2, categories: []string{"@slow"},
		summary: "A container for server configuration commands", since: "2.0.0", group: "server",
		complexity: "Depends on subcommand.",
		subcommands: []*command{
			{name: "config|get", arity: -3, run: cmdConfigGet, flags: []string{"admin", "noscript", "loading", "stale"},
				categories: []string{"@admin", "@slow", "@dangerous"},
				summary:    "Get the values of configuration parameters", since: "2.0.0", group: "server",
				complexity: "O(N) when N is the number of configuration parameters provided"},
			{name: "config|help", arity: 2, run: cmdConfigHelp, flags: []string{"loading", "stale"},
				categories: []string{"@slow"},
				summary:    "Show helpful text about the different subcommands", since: "5.0.0", group: "server",
				complexity: "O(1)"},
		}}
}
