//go:build !linux && !evloop_portable

package evloop

// evloop is built on epoll and Linux socket options, and every other file
// of the package is built for Linux only. On any other system this
// declaration is the package's one compile error, and the compiler quotes
// its string, so the build stops with that message instead of a screen of
// undefined names. It is a type because type declarations are checked
// first: go vet, which also compiles the Linux-only tests and reports only
// the first error, shows this message too.
type linuxOnly ["evloop supports Linux only; see README"]struct{}
