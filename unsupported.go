//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd) && !evloop_portable

package evloop

// evloop is built on epoll (Linux) or kqueue (macOS and the BSDs) and
// their socket options, and every other file of the package is built for
// those systems only. On any other system this declaration is the
// package's one compile error, and the compiler quotes its string, so the
// build stops with that message instead of a screen of undefined names. It
// is a type because type declarations are checked first: go vet, which
// also compiles the tests and reports only the first error, shows this
// message too.
type unsupportedSystem ["evloop supports Linux, macOS and the BSDs; see README"]struct{}
