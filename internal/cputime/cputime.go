// Package cputime measures the CPU time the test process has used, for the
// tests of the root package and the examples that compare it with the wall
// time a scenario took. It is a test helper: only test files import it.
package cputime
