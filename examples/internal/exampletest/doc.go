// Package exampletest holds test helpers shared by the examples' tests:
// running an example's serve function for one test, and running its
// command as a child process to check that it stops on a signal.
//
// Only _test.go files import it.
package exampletest
