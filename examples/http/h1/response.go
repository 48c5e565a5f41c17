package h1

import "strconv"

// AppendResponse appends a complete HTTP/1.1 response to dst and returns the extended slice: the status line,
// "Server: evloop", Date (omitted when date is nil), Content-Type (omitted when contentType is nil),
// Content-Length, "Connection: close" when keepAlive is false, the empty line, then body.
//
// A status outside 100-999 is written as 500, since a status line needs exactly three digits. Statuses that
// cannot carry content (1xx, 204, 304) get neither Content-Length nor body (RFC 9110 sections 8.6 and 6.4.1).
// Bytes of date or contentType that are not allowed in a field value (CR, LF and other controls) are dropped,
// so a bad caller value cannot split the response. It allocates only when dst must grow: reuse dst across
// responses. Safe from any goroutine; it reads its arguments and writes only dst.
func AppendResponse(dst []byte, status int, date, contentType, body []byte, keepAlive bool) []byte {
	if status < 100 || status > 999 {
		status = 500
	}
	dst = append(dst, "HTTP/1.1 "...)
	dst = append(dst, byte('0'+status/100), byte('0'+status/10%10), byte('0'+status%10), ' ')
	dst = append(dst, reasonPhrase(status)...)
	dst = append(dst, "\r\nServer: evloop\r\n"...)
	if date != nil {
		dst = append(dst, "Date: "...)
		dst = appendFieldValue(dst, date)
		dst = append(dst, "\r\n"...)
	}
	if contentType != nil {
		dst = append(dst, "Content-Type: "...)
		dst = appendFieldValue(dst, contentType)
		dst = append(dst, "\r\n"...)
	}
	withContent := status >= 200 && status != 204 && status != 304
	if withContent {
		dst = append(dst, "Content-Length: "...)
		dst = strconv.AppendInt(dst, int64(len(body)), 10)
		dst = append(dst, "\r\n"...)
	}
	if !keepAlive {
		dst = append(dst, "Connection: close\r\n"...)
	}
	dst = append(dst, "\r\n"...)
	if withContent {
		dst = append(dst, body...)
	}
	return dst
}

// appendFieldValue appends v without the bytes a field value may not hold. The common all-valid case is one copy.
func appendFieldValue(dst, v []byte) []byte {
	if isClass(v, classValue) {
		return append(dst, v...)
	}
	for _, c := range v {
		if byteClass[c]&classValue != 0 {
			dst = append(dst, c)
		}
	}
	return dst
}

// reasonPhrase returns the RFC 9110 reason phrase for the statuses a server built on this package sends, and
// an empty phrase otherwise, which RFC 9112 section 4 allows.
func reasonPhrase(status int) string {
	switch status {
	case 100:
		return "Continue"
	case 101:
		return "Switching Protocols"
	case 200:
		return "OK"
	case 201:
		return "Created"
	case 204:
		return "No Content"
	case 301:
		return "Moved Permanently"
	case 302:
		return "Found"
	case 304:
		return "Not Modified"
	case 400:
		return "Bad Request"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 408:
		return "Request Timeout"
	case 413:
		return "Content Too Large"
	case 414:
		return "URI Too Long"
	case 431:
		return "Request Header Fields Too Large"
	case 500:
		return "Internal Server Error"
	case 501:
		return "Not Implemented"
	case 503:
		return "Service Unavailable"
	case 505:
		return "HTTP Version Not Supported"
	}
	return ""
}
