package poller

import "errors"

// ErrClosed is returned by Wake after Close.
var ErrClosed = errors.New("poller: closed")
