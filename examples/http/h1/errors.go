package h1

import (
	"errors"
	"fmt"
)

// The four error classes Parse reports. Every error Parse returns wraps exactly one of them; test with
// errors.Is and map to a status with StatusFor. After any of them the connection's framing is lost: answer
// with StatusFor's status and "Connection: close", then close.
var (
	// ErrBadRequest: the request violates the HTTP/1.1 grammar or a framing rule (400).
	ErrBadRequest = errors.New("h1: bad request")
	// ErrHeaderTooLarge: the request line and header section exceed MaxHeaderBytes (431).
	ErrHeaderTooLarge = errors.New("h1: request header fields too large")
	// ErrBodyTooLarge: Content-Length exceeds MaxBodyBytes (413).
	ErrBodyTooLarge = errors.New("h1: request content too large")
	// ErrNotImplemented: the request needs a feature this parser does not have, such as a transfer coding (501).
	ErrNotImplemented = errors.New("h1: not implemented")
)

// Errors are boxed once here, not per request, so that rejecting a request does not allocate either.
var (
	errLineEnding      = fmt.Errorf("%w: line not terminated by CRLF", ErrBadRequest)
	errRequestLine     = fmt.Errorf("%w: malformed request line", ErrBadRequest)
	errMethod          = fmt.Errorf("%w: method is not a token", ErrBadRequest)
	errTarget          = fmt.Errorf("%w: invalid request target", ErrBadRequest)
	errVersion         = fmt.Errorf("%w: version is not HTTP/1.0 or HTTP/1.1", ErrBadRequest)
	errObsFold         = fmt.Errorf("%w: obsolete line folding", ErrBadRequest)
	errHeaderLine      = fmt.Errorf("%w: header line without field name and colon", ErrBadRequest)
	errHeaderName      = fmt.Errorf("%w: field name is not a token", ErrBadRequest)
	errHeaderValue     = fmt.Errorf("%w: control character in field value", ErrBadRequest)
	errHostMissing     = fmt.Errorf("%w: HTTP/1.1 request without Host", ErrBadRequest)
	errHostRepeated    = fmt.Errorf("%w: more than one Host field", ErrBadRequest)
	errHostValue       = fmt.Errorf("%w: invalid Host value", ErrBadRequest)
	errContentLength   = fmt.Errorf("%w: Content-Length is not a decimal number", ErrBadRequest)
	errLengthConflict  = fmt.Errorf("%w: differing Content-Length values", ErrBadRequest)
	errLengthAndCoding = fmt.Errorf("%w: both Transfer-Encoding and Content-Length", ErrBadRequest)
	errTransferCoding  = fmt.Errorf("%w: Transfer-Encoding", ErrNotImplemented)
)

// StatusFor returns the response status for an error returned by Parse: 400 for ErrBadRequest, 431 for
// ErrHeaderTooLarge, 413 for ErrBodyTooLarge, 501 for ErrNotImplemented, and 400 for any other error. A nil
// error maps to 200 so that a caller can pass Parse's result straight through. Safe from any goroutine.
func StatusFor(err error) int {
	switch {
	case err == nil:
		return 200
	case errors.Is(err, ErrHeaderTooLarge):
		return 431
	case errors.Is(err, ErrBodyTooLarge):
		return 413
	case errors.Is(err, ErrNotImplemented):
		return 501
	}
	return 400
}
