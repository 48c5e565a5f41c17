package main

import (
	"errors"
	"strconv"
	"strings"
)

// size is a flag holding a number of bytes, written as Redis writes memory
// sizes in its configuration: a whole number with an optional unit, "b",
// "k" (1000), "kb" (1024), "m", "mb", "g" or "gb", in any case.
type size int

var sizeUnits = []struct {
	suffix string
	mul    int
}{
	// Two-letter suffixes first: "kb" must not be read as "k" and "b".
	{"kb", 1 << 10}, {"mb", 1 << 20}, {"gb", 1 << 30},
	{"k", 1000}, {"m", 1000 * 1000}, {"g", 1000 * 1000 * 1000}, {"b", 1},
}

func (s *size) String() string {
	n := int(*s)
	for _, u := range []struct {
		suffix string
		mul    int
	}{{"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}} {
		if n != 0 && n%u.mul == 0 {
			return strconv.Itoa(n/u.mul) + u.suffix
		}
	}
	return strconv.Itoa(n)
}

func (s *size) Set(v string) error {
	digits, mul := strings.ToLower(v), 1
	for _, u := range sizeUnits {
		if d, ok := strings.CutSuffix(digits, u.suffix); ok {
			digits, mul = d, u.mul
			break
		}
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < 0 || digits[0] == '+' {
		return errors.New("want a whole number of bytes, optionally with a unit: b, k, kb, m, mb, g or gb")
	}
	if n > maxSize/mul {
		return errors.New("too large")
	}
	*s = size(n * mul)
	return nil
}

// maxSize keeps n*mul within an int on every platform.
const maxSize = 1<<31 - 1
